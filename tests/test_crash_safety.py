"""SIGKILL at several moments: the previous file stays byte-identical, or the new one is whole.

A scan and each command that adds layers to a scan (zones, fairshare, demand,
compare-zones) are killed at fractions of their own measured run time, and once the moment
the target first changes (a write in place would be caught halfway). After each kill the
target is checked (sha256, SQLite integrity, every layer readable); the next run
cleans the stranded temporaries.
"""

import hashlib
import shutil
import signal
import sqlite3
import subprocess
import sys
import time

import geopandas as gpd
import pyogrio
import pytest
from shapely import box

from ._synthetic import at, lonlat, scan_with_zones
from .test_demand import write_cbs

pytestmark = pytest.mark.slow

FRACTIONS = (0.6, 0.75, 0.85, 0.9, 0.95, 0.98, 1.02)


@pytest.fixture(scope="module")
def template(tmp_path_factory):
    d = tmp_path_factory.mktemp("crash")
    scan_with_zones(d)
    ref = gpd.GeoDataFrame({"naam": ["Centrum"]}, geometry=[box(*at(0, -100), *at(600, 300))])
    ref.set_crs(28992).to_file(d / "ref.gpkg")
    _fairshare_inputs(d)
    _demand_inputs(d)
    return d


def _fairshare_inputs(d):
    """A municipality over both areas, their SES-WOA scores; the study's Leefbaarometer file."""
    gm = gpd.GeoDataFrame(
        {"gemeente": ["Proefstad"]}, geometry=[box(*at(-500, -500), *at(1500, 900))]
    )
    gm.set_crs(28992).to_file(d / "gemeenten.gpkg")
    (d / "ses-woa.csv").write_text(
        "pc4,ses_woa_total,ses_woa_welvaart,ses_woa_arbeid,n_households\n"
        "6211,-0.391,-0.273,-0.207,7500\n6212,0.338,0.154,0.01,2100\n"
    )
    (d / "fs.yaml").write_text(
        "name: Proefstad\ncrs: EPSG:28992\nfairshare:\n"
        "  municipalities: {file: gemeenten.gpkg, id_field: gemeente, ids: [Proefstad]}\n"
        "  areas: {file: pc4.gpkg, id_field: postcode}\n"
        "  ses_woa: {file: ses-woa.csv, id_column: pc4}\n"
        "  leefbaarometer: {file: leefbaarometer.csv}\n"
    )


def _demand_inputs(d):
    """CBS's PC6 table (as published) and a point per PC6 in both areas."""
    with open(d / "pc6.csv", "w") as f:
        f.write("Zip,Lat,Lon\n")
        for pc6, (x, y) in {"6211AA": (100, 10), "6212AA": (900, 5)}.items():
            lon, lat = lonlat(x, y)
            f.write(f"{pc6},{lat},{lon}\n")
    write_cbs(d / "cbs.csv", [("6211AA", "100", "30", "40"), ("6212AA", "80", "25", "30")])


def _sha(p):
    return hashlib.sha256(p.read_bytes()).hexdigest()


def _whole(p, expect):
    """The file is an intact GeoPackage holding ``expect`` and every layer reads."""
    con = sqlite3.connect(p)
    try:
        assert con.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    finally:
        con.close()
    names = {str(n) for n in pyogrio.list_layers(p)[:, 0]}
    assert expect <= names, names
    for n in names:
        pyogrio.read_dataframe(p, layer=n)


def _command(name, d):
    out = d / "scan.gpkg"
    study = ["--study", str(d / "study.yaml"), "--data-dir", str(d)]
    return {
        "scan": (["scan", *study, "--out", str(out), "--overwrite", "--no-cache"], {"dwellings"}),
        "zones": (["zones", str(out)], {"zones", "dwellings"}),
        "fairshare": (
            ["fairshare", "--study", str(d / "fs.yaml"), "--data-dir", str(d), "--out", str(out)],
            {"fairshare", "fairshare_summary", "zones", "dwellings"},
        ),
        "demand": (
            [
                "demand",
                str(out),
                "--population",
                str(d / "cbs.csv"),
                "--points",
                str(d / "pc6.csv"),
            ],
            {"demand_by_class", "demand_by_area", "demand_by_zone", "zones", "dwellings"},
        ),
        "compare-zones": (
            [
                "compare-zones",
                str(out),
                "--reference",
                str(d / "ref.gpkg"),
                "--reference-name-field",
                "naam",
            ],  # fmt: skip
            {"zone_comparison", "zones", "dwellings"},
        ),
    }[name]


def _until_changed(target, proc):
    """Return the moment the target changes at all: a write in place is caught halfway."""
    first = target.stat()
    while proc.poll() is None:
        now = target.stat()
        if (now.st_ino, now.st_size, now.st_mtime_ns) != (
            first.st_ino,
            first.st_size,
            first.st_mtime_ns,
        ):
            return
        time.sleep(0.0005)


def _start(argv):
    return subprocess.Popen(
        [sys.executable, "-m", "thuisdichtbij.apps.cli", *argv, "-q"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


@pytest.mark.parametrize("name", ["scan", "zones", "fairshare", "demand", "compare-zones"])
def test_sigkill_keeps_the_old_file_or_writes_a_whole_new_one(template, tmp_path, name):
    d = tmp_path / "w"
    shutil.copytree(template, d)
    argv, expect = _command(name, d)
    assert _start(argv).wait(timeout=300) == 0  # warm: the timed run below is typical
    t0 = time.perf_counter()
    assert _start(argv).wait(timeout=300) == 0
    full_s = time.perf_counter() - t0
    outcomes = {"old": 0, "new": 0}
    target = d / "scan.gpkg"
    waits = [lambda proc, f=frac: time.sleep(full_s * f) for frac in FRACTIONS]
    waits.append(lambda proc: _until_changed(target, proc))
    for wait in waits:
        shutil.copy2(template / "scan.gpkg", target)
        before = _sha(target)
        proc = _start(argv)
        wait(proc)
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=60)
        if _sha(target) == before:
            outcomes["old"] += 1
        else:
            _whole(target, expect)
            outcomes["new"] += 1
    # the next run cleans what the killed ones stranded, and succeeds
    assert _start(argv).wait(timeout=300) == 0
    _whole(d / "scan.gpkg", expect)
    left = [p.name for p in d.iterdir() if ".tmp-" in p.name]
    assert not left, left
    print(f"{name}: {len(waits)} SIGKILLs in {full_s:.1f} s runs: {outcomes}")
    assert sum(outcomes.values()) == len(waits)
