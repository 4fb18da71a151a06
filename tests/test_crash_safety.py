"""SIGKILL at several moments: the previous file stays byte-identical, or the new one is whole.

A scan and the commands that add layers to a scan (zones, compare-zones: the same
``add_layers`` that fairshare and demand use) are killed at fractions of their own measured
run time. After each kill the target is checked (sha256, SQLite integrity, every layer
readable); the next run cleans the stranded temporaries.
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

from ._synthetic import at, scan_with_zones

pytestmark = pytest.mark.slow

FRACTIONS = (0.6, 0.75, 0.85, 0.9, 0.95, 0.98, 1.02)


@pytest.fixture(scope="module")
def template(tmp_path_factory):
    d = tmp_path_factory.mktemp("crash")
    scan_with_zones(d)
    ref = gpd.GeoDataFrame({"naam": ["Centrum"]}, geometry=[box(*at(0, -100), *at(600, 300))])
    ref.set_crs(28992).to_file(d / "ref.gpkg")
    return d


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


def _start(argv):
    return subprocess.Popen(
        [sys.executable, "-m", "thuisdichtbij.apps.cli", *argv, "-q"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


@pytest.mark.parametrize("name", ["scan", "zones", "compare-zones"])
def test_sigkill_keeps_the_old_file_or_writes_a_whole_new_one(template, tmp_path, name):
    d = tmp_path / "w"
    shutil.copytree(template, d)
    argv, expect = _command(name, d)
    assert _start(argv).wait(timeout=300) == 0  # warm: the timed run below is typical
    t0 = time.perf_counter()
    assert _start(argv).wait(timeout=300) == 0
    full_s = time.perf_counter() - t0
    outcomes = {"old": 0, "new": 0}
    for frac in FRACTIONS:
        shutil.copy2(template / "scan.gpkg", d / "scan.gpkg")
        before = _sha(d / "scan.gpkg")
        proc = _start(argv)
        time.sleep(full_s * frac)
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=60)
        if _sha(d / "scan.gpkg") == before:
            outcomes["old"] += 1
        else:
            _whole(d / "scan.gpkg", expect)
            outcomes["new"] += 1
    # the next run cleans what the killed ones stranded, and succeeds
    assert _start(argv).wait(timeout=300) == 0
    _whole(d / "scan.gpkg", expect)
    left = [p.name for p in d.iterdir() if ".tmp-" in p.name]
    assert not left, left
    print(f"{name}: {len(FRACTIONS)} SIGKILLs in {full_s:.1f} s runs: {outcomes}")
    assert sum(outcomes.values()) == len(FRACTIONS)
