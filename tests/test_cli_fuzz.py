"""A CLI fuzz: every subcommand, bad arguments and files; exit 0 or 2, no traceback, nothing lost.

Two searches. A table of hand-made bad invocations (damaged files, non-finite numbers, bad
paths, swapped coordinates) and a generated one: every value-taking option of every
subcommand the parser declares (so a new subcommand is fuzzed too) gets nasty values in
place of a working invocation. After every run: exit code 0 or 2, no exception, no
"Traceback" on stderr; after exit 2 every file that was there is byte-identical and no new
file was written.
"""

import hashlib
import json
import shutil
import subprocess
import sys

import geopandas as gpd
import pytest
from shapely import box

from thuisdichtbij.apps.cli import _parser, main

from ._synthetic import at, lonlat, scan_with_zones

pytestmark = pytest.mark.slow

LON, LAT = lonlat(100, 10)
SWAPPED = f"{LON},{LAT}"
NO_FUZZ_COMMANDS = {"serve", "fetch"}  # one serves forever, the other downloads
# options that reach the network or start a Dask cluster when given a valid-looking value
NO_FUZZ_OPTIONS = {"--place", "--osm-place", "--osm-bbox", "--mirror", "--scheduler", "--tiles"}


@pytest.fixture(scope="module")
def template(tmp_path_factory, data_dir_or_none):
    d = tmp_path_factory.mktemp("fuzz-template")
    scan_with_zones(d)
    (d / "notes.txt").write_text("my notes")
    (d / "dir.gpkg").mkdir()
    (d / "t.gpkg").write_text("not a geopackage")
    pbf = data_dir_or_none / "osm" / "delft-tudelft.osm.pbf" if data_dir_or_none else None
    data = pbf.read_bytes()[:187197] if pbf and pbf.is_file() else b"\x00\x00\x00\x0e\x0a\x09OSM"
    (d / "trunc.osm.pbf").write_bytes(data)
    if pbf and pbf.is_file():  # a tile store and municipalities for the national commands
        _national_template(d, pbf)
    (d / "empty.osm.pbf").write_bytes(b"")
    for name, text in {
        "w-nan.yaml": "weights: {gp: .nan}",
        "w-inf.yaml": "weights: {safety: .inf}",
        "w-big.yaml": "snapping: {max_snap_m: 1e300}",
        "w-bad.yaml": "weights: [1, 2",
        "w-zero.yaml": "weights: {"
        + ", ".join(
            f"{k}: 0"
            for k in (
                "pharmacy gp physio community supermarket drugstore hairdresser culture "
                "bus_stop safety"
            ).split()
        )
        + "}",
    }.items():
        (d / name).write_text(text)
    ref = gpd.GeoDataFrame({"naam": ["Centrum"]}, geometry=[box(*at(0, -100), *at(600, 300))])
    ref.set_crs(28992).to_file(d / "ref.gpkg")
    study = (d / "study.yaml").read_text()
    (d / "study-tram.yaml").write_text(
        study.replace("- file: stops.txt", "- file: stops.txt\n  indicator: tram")
    )
    (d / "study-nan.yaml").write_text(study + "weights: w-nan.yaml\n")
    return d


def _national_template(d, pbf):
    from thuisdichtbij import load_config
    from thuisdichtbij.sources.tags import needed_keys, rule_starts
    from thuisdichtbij.sources.tilestore import convert_pbf

    shutil.copy(pbf, d / "delft.osm.pbf")
    cfg = load_config()
    store = convert_pbf(
        pbf, d / "store", feature_keys=needed_keys(cfg.indicators),
        feature_prefilter=rule_starts(cfg.indicators), tile_m=5000, halo_m=1500,
    )  # fmt: skip
    x0, y0, x1, y1 = store.box(store.tiles[0])
    for ix, iy in store.tiles:
        b = store.box((ix, iy))
        x0, y0, x1, y1 = min(x0, b[0]), min(y0, b[1]), max(x1, b[2]), max(y1, b[3])
    gem = gpd.GeoDataFrame({"gemeente": ["Delft"]}, geometry=[box(x0, y0, x1, y1)], crs=28992)
    gem.to_file(d / "gem.gpkg")


@pytest.fixture(scope="module")
def data_dir_or_none():
    from .conftest import DATA

    return DATA if (DATA / "README.md").is_file() else None


def _hashes(folder):
    return {
        p.relative_to(folder): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in folder.rglob("*")
        if p.is_file() and not p.name.endswith(".lock")
    }


def _run(template, tmp_path, monkeypatch, capsys, argv):
    """Run one invocation in a fresh copy of the template; returns (code, problem or None)."""
    d = tmp_path / "w"
    if d.exists():
        shutil.rmtree(d)
    shutil.copytree(template, d)
    monkeypatch.chdir(d)
    args = [a.replace("{d}", str(d)) for a in argv]
    before = _hashes(d)
    capsys.readouterr()
    try:
        code = main(args)
    except BaseException as exc:  # noqa: BLE001 - any escape is what the fuzz looks for
        return None, f"{type(exc).__name__}: {str(exc)[:200]}"
    err = capsys.readouterr().err
    if code not in (0, 2):
        return code, f"exit {code}: {err[-300:]}"
    if "Traceback" in err:
        return code, "Traceback on stderr: " + err[-300:]
    if code == 2:
        after = _hashes(d)
        changed = [str(p) for p, h in before.items() if after.get(p) != h]
        if changed:
            return code, f"exit 2 changed {changed}"
        added = [str(p) for p in after if p not in before]
        if added:  # e.g. fairshare's GeoPackage when its --html cannot be written
            return code, f"exit 2 wrote {added}"
        said = [line for line in err.splitlines() if "error:" in line]
        if len(said) != 1:
            return code, "not one error line: " + err[-300:]
    return code, None


S = ["--study", "{d}/study.yaml", "--data-dir", "{d}", "--no-cache", "--no-progress"]
TABLE = [
    # scan: bad outputs, checked before any input is read
    ["scan", *S, "--out", "/proc/x.gpkg"],
    ["scan", *S, "--out", "{d}/notes.txt/out.gpkg"],
    ["scan", *S, "--out", "{d}/dir.gpkg"],
    ["scan", *S, "--out", "{d}/missing/out.gpkg"],
    ["scan", *S, "--out", "{d}/out.shp"],
    ["scan", *S, "--out", "{d}/scan.gpkg"],  # holds zones: refused without --overwrite
    ["scan", *S, "--out", ""],
    # scan: damaged and wrong inputs
    ["scan", "--osm", "{d}/trunc.osm.pbf", "--out", "{d}/o.gpkg", "--no-cache"],
    ["scan", "--osm", "{d}/empty.osm.pbf", "--out", "{d}/o.gpkg", "--no-cache"],
    ["scan", "--osm", "{d}/notes.txt", "--out", "{d}/o.gpkg"],
    ["scan", "--osm", "{d}/missing.osm.pbf", "--out", "{d}/o.gpkg"],
    ["scan", "--study", "{d}/notes.txt", "--out", "{d}/o.gpkg"],
    ["scan", "--study", "{d}/w-bad.yaml", "--out", "{d}/o.gpkg"],
    ["scan", "--study", "{d}/study-tram.yaml", "--data-dir", "{d}", "--out", "{d}/o.gpkg"],
    ["scan", "--study", "{d}/study-nan.yaml", "--data-dir", "{d}", "--out", "{d}/o.gpkg"],
    ["scan", "--study", "nowhere", "--out", "{d}/o.gpkg"],
    # scan: numbers
    ["scan", *S, "--out", "{d}/o.gpkg", "--weights", "{d}/w-nan.yaml"],
    ["scan", *S, "--out", "{d}/o.gpkg", "--weights", "{d}/w-inf.yaml"],
    ["scan", *S, "--out", "{d}/o.gpkg", "--weights", "{d}/w-zero.yaml"],
    ["scan", *S, "--out", "{d}/o.gpkg", "--weights", "{d}/w-bad.yaml"],
    ["scan", *S, "--out", "{d}/o.gpkg", "--weights", "{d}/missing.yaml"],
    ["scan", *S, "--out", "{d}/o.gpkg", "--max-snap-m", "nan"],
    ["scan", *S, "--out", "{d}/o.gpkg", "--max-snap-m", "inf"],
    ["scan", *S, "--out", "{d}/o.gpkg", "--max-snap-m", "0"],
    ["scan", *S, "--out", "{d}/o.gpkg", "--max-snap-m", "-5"],
    ["scan", *S, "--out", "{d}/o.gpkg", "--max-snap-m", "ten"],
    ["scan", *S, "--out", "{d}/o.gpkg", "--tiles", "nan"],
    ["scan", *S, "--out", "{d}/o.gpkg", "--tiles", "0"],
    ["scan", *S, "--out", "{d}/o.gpkg", "--crs", "EPSG:4326"],
    ["scan", *S, "--out", "{d}/o.gpkg", "--crs", "EPSG:999999"],
    ["scan", *S, "--out", "{d}/o.gpkg", "--crs", "nonsense"],
    ["scan", *S, "--out", "{d}/o.gpkg", "--cache-dir", "{d}/notes.txt"],
    ["scan", "--out", "{d}/o.gpkg"],
    ["scan", *S],
    # check
    ["check", "--scan", "{d}/scan.gpkg", "--at", SWAPPED],
    ["check", "--scan", "{d}/scan.gpkg", "--at", "1e308,1e308", "--crs", "EPSG:28992"],
    ["check", "--scan", "{d}/scan.gpkg", "--at", "nan,nan"],
    ["check", "--scan", "{d}/scan.gpkg", "--at", "inf,5"],
    ["check", "--scan", "{d}/scan.gpkg", "--at", "95,5"],
    ["check", "--scan", "{d}/scan.gpkg", "--at", "50.8"],
    ["check", "--scan", "{d}/scan.gpkg", "--at", "a,b"],
    ["check", "--scan", "{d}/scan.gpkg", "--at", "1,2,3"],
    ["check", "--scan", "{d}/scan.gpkg", "--at", f"{LAT},{LON}", "--crs", "nonsense"],
    ["check", "--scan", "{d}/scan.gpkg", "--postcode", "62"],
    ["check", "--scan", "{d}/t.gpkg", "--at", f"{LAT},{LON}"],
    ["check", "--scan", "{d}/missing.gpkg", "--at", f"{LAT},{LON}"],
    ["check", "--scan", "{d}/ref.gpkg", "--at", f"{LAT},{LON}"],
    # map
    ["map", "{d}/scan.gpkg", "--png", "/proc/x.png"],
    ["map", "{d}/scan.gpkg", "--png", "{d}/notes.txt/x.png"],
    ["map", "{d}/scan.gpkg", "--out", "{d}/dir.gpkg"],
    ["map", "{d}/scan.gpkg", "--tif", "{d}/x.png"],
    ["map", "{d}/t.gpkg", "--out", "{d}/m.html"],
    ["map", "{d}/missing.gpkg", "--out", "{d}/m.html"],
    ["map", "{d}/scan.gpkg"],
    # fairshare
    ["fairshare", "--study", "{d}/study.yaml", "--data-dir", "{d}", "--out", "{d}/t.gpkg"],
    ["fairshare", "--study", "{d}/study.yaml", "--out", "{d}/f.gpkg", "--html", "{d}/no/x.html"],
    ["fairshare", "--study", "{d}/study.yaml", "--out", "/proc/f.gpkg"],
    ["fairshare", "--study", "{d}/study.yaml", "--data-dir", "{d}", "--out", "{d}/f.gpkg"],
    [
        "fairshare",
        "--study",
        "{d}/study.yaml",
        "--out",
        "{d}/f.gpkg",
        "--weights",
        "{d}/w-nan.yaml",
    ],
    # zones, demand, compare-zones
    ["zones", "{d}/t.gpkg"],
    ["zones", "{d}/missing.gpkg"],
    ["zones", "{d}/dir.gpkg"],
    ["zones", "{d}/scan.gpkg", "--names", "{d}/notes.txt"],
    ["zones", "{d}/scan.gpkg", "--names", "{d}/ref.gpkg", "--name-field", "nope"],
    ["demand", "{d}/scan.gpkg", "--population", "{d}/notes.txt"],
    ["demand", "{d}/t.gpkg", "--population", "{d}/notes.txt"],
    ["demand", "{d}/scan.gpkg", "--population", "{d}/missing.csv"],
    [
        "compare-zones",
        "{d}/scan.gpkg",
        "--reference",
        "{d}/notes.txt",
        "--reference-name-field",
        "n",
    ],
    [
        "compare-zones",
        "{d}/scan.gpkg",
        "--reference",
        "{d}/ref.gpkg",
        "--reference-name-field",
        "x",
    ],
    [
        "compare-zones",
        "{d}/scan.gpkg",
        "--reference",
        "{d}/ref.gpkg",
        "--reference-name-field",
        "naam",
        "--min-share",
        "nan",
    ],  # fmt: skip
    [
        "compare-zones",
        "{d}/scan.gpkg",
        "--reference",
        "{d}/ref.gpkg",
        "--reference-name-field",
        "naam",
        "--min-share",
        "2",
    ],  # fmt: skip
    # whatif, site, validate
    ["whatif", "{d}/scan.gpkg", "--add", f"huisarts@{SWAPPED}"],
    ["whatif", "{d}/scan.gpkg", "--add", "huisarts@nan,nan"],
    ["whatif", "{d}/scan.gpkg", "--add", f"huisarts@{LAT},{LON}", "--out", "/proc/w.gpkg"],
    ["site", "{d}/scan.gpkg", "--indicator", "gp", "--spacing-m", "nan"],
    ["site", "{d}/scan.gpkg", "--indicator", "gp", "--spacing-m", "0"],
    ["site", "{d}/scan.gpkg", "--indicator", "gp", "--n", "-1"],
    ["site", "{d}/scan.gpkg", "--indicator", "nope"],
    ["validate", "{d}/scan.gpkg", "--cbs", "{d}/notes.txt", "--buurten", "{d}/ref.gpkg"],
    ["validate", "{d}/scan.gpkg", "--cbs", "{d}/x", "--buurten", "{d}/x", "--max-m", "inf"],
    # serve and fetch: what fails before serving or downloading
    ["serve", "--scan", "{d}/t.gpkg"],
    ["serve", "--scan", "{d}/missing.gpkg"],
    ["serve", "--scan", "{d}/scan.gpkg", "--port", "nan"],
    ["fetch", "--municipality", "Nergenshuizen", "--out", "{d}/f", "--offline"],
    ["fetch", "--municipality", "Maastricht", "--out", "{d}/f", "--timeout", "nan"],
    ["nonsense"],
    [],
]


def test_cli_fuzz_table(template, tmp_path, monkeypatch, capsys):
    problems, codes = [], []
    for argv in TABLE:
        code, problem = _run(template, tmp_path, monkeypatch, capsys, argv)
        codes.append(code)
        if problem:
            problems.append((argv, problem))
    ok = [a for a, c in zip(TABLE, codes) if c == 0]
    print(f"CLI fuzz table: {len(TABLE)} cases, exit 2: {codes.count(2)}, exit 0: {ok}")
    assert len(TABLE) >= 60
    assert not problems, "\n".join(f"{a}: {p}" for a, p in problems)


POOL = [
    "nan",
    "inf",
    "-1",
    "0",
    "1e308",
    "",
    "abc",
    "/proc/x.gpkg",
    "{d}/notes.txt/x.gpkg",
    "{d}/dir.gpkg",
    "{d}/missing/x.gpkg",
    "{d}/trunc.osm.pbf",
    "{d}/t.gpkg",
    "{d}/w-nan.yaml",
    SWAPPED,
    "1e308,1e308",
]
BASE = {
    "scan": ["--study", "{d}/study.yaml", "--data-dir", "{d}", "--out", "{d}/o.gpkg"],
    "fairshare": ["--study", "{d}/study.yaml", "--data-dir", "{d}", "--out", "{d}/f.gpkg"],
    "demand": ["{d}/scan.gpkg", "--population", "{d}/notes.txt"],
    "check": ["--scan", "{d}/scan.gpkg", "--at", f"{LAT},{LON}"],
    "zones": ["{d}/scan.gpkg"],
    "compare-zones": [
        "{d}/scan.gpkg",
        "--reference",
        "{d}/ref.gpkg",
        "--reference-name-field",
        "naam",
    ],  # fmt: skip
    "map": ["{d}/scan.gpkg", "--tif", "{d}/m.tif"],
    "validate": ["{d}/scan.gpkg", "--cbs", "{d}/notes.txt", "--buurten", "{d}/ref.gpkg"],
    "whatif": ["{d}/scan.gpkg", "--add", f"huisarts@{LAT},{LON}"],
    "site": ["{d}/scan.gpkg", "--indicator", "gp"],
    "diff": ["{d}/scan.gpkg", "{d}/scan.gpkg", "--out", "{d}/d.gpkg"],
    "tiles": ["{d}/delft.osm.pbf", "--out", "{d}/new-store", "--tile-m", "5000"],
    "scan-national": [
        "--store",
        "{d}/store",
        "--municipalities",
        "{d}/gem.gpkg",
        "--out",
        "{d}/res",
        "--workers",
        "1",
    ],  # fmt: skip
}
PER_OPTION = 4  # nasty values tried per option (rotating through POOL): bounded in time


def _generated():
    sub = next(a for a in _parser()._actions if a.dest == "command")
    cases = []
    for name, parser in sub.choices.items():
        if name in NO_FUZZ_COMMANDS:
            continue
        base = BASE.get(name)
        assert base is not None, f"add a working invocation of '{name}' to BASE"
        for k, action in enumerate(parser._actions):
            if action.nargs == 0 or action.dest == "help":
                continue
            flag = action.option_strings[0] if action.option_strings else None
            if flag in NO_FUZZ_OPTIONS:
                continue
            for i in range(PER_OPTION):
                value = POOL[(7 * k + 5 * i) % len(POOL)]
                cases.append([name, *_with(base, parser, action, flag, value)])
    return cases


def _with(base, parser, action, flag, value):
    """``base`` with the option (or the first positional) set to ``value``."""
    if flag is None:
        return [value, *base[1:]]
    args = list(base)
    if flag in args:
        args[args.index(flag) + 1] = value
        return args
    return [*args, flag, value]


def test_cli_fuzz_generated(template, tmp_path, monkeypatch, capsys):
    cases = _generated()
    problems, codes = [], []
    for argv in cases:
        code, problem = _run(template, tmp_path, monkeypatch, capsys, argv)
        codes.append(code)
        if problem:
            problems.append((argv, problem))
    print(
        f"CLI fuzz generated: {len(cases)} cases, exit 2: {codes.count(2)}, "
        f"exit 0: {codes.count(0)}, problems: {len(problems)}"
    )
    assert not problems, "\n".join(f"{a}: {p}" for a, p in problems[:20])


def test_a_reader_that_stops_early_is_no_error(template, tmp_path):
    d = tmp_path / "pipe"
    shutil.copytree(template, d)
    for argv in (["zones", str(d / "scan.gpkg")], ["check", "--scan", str(d / "scan.gpkg"),
                 "--at", f"{LAT},{LON}", "--json"]):  # fmt: skip
        with subprocess.Popen(
            [sys.executable, "-m", "thuisdichtbij.apps.cli", *argv],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        ) as proc:
            proc.stdout.close()  # like `| head -0`: the reader is gone before anything prints
            err = proc.stderr.read().decode()
            assert proc.wait(timeout=120) == 0, err
        assert "Traceback" not in err and "BrokenPipe" not in err


def test_missing_extra_is_named(template, tmp_path, monkeypatch, capsys):
    import builtins

    real = builtins.__import__

    def no_folium(name, *args, **kwargs):
        if name.split(".")[0] == "folium":
            raise ModuleNotFoundError(f"No module named '{name}'", name=name)
        return real(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_folium)
    code = main(["map", str(template / "scan.gpkg"), "--out", str(tmp_path / "m.html")])
    err = capsys.readouterr().err
    assert code == 2
    assert "pip install 'thuisdichtbij[maps]'" in err and len(err.splitlines()) == 1
    assert json.dumps(err).count("Traceback") == 0
