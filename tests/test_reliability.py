"""Refuse what is wrong, keep what the user has: configuration, output paths, concurrent writers."""

import gc
import multiprocessing
import os
import time

import geopandas as gpd
import pandas as pd
import pyogrio
import pytest
from shapely import Point

from thuisdichtbij import ConfigError, OutputError, load_config, scan
from thuisdichtbij.outputs.export import add_layers, write_layers
from thuisdichtbij.outputs.paths import check_output, clean_stale

from ._synthetic import scan_with_zones, write_study


def write(tmp_path, text, name="weights.yaml"):
    p = tmp_path / name
    p.write_text(text)
    return p


@pytest.mark.parametrize(
    ("text", "key"),
    [
        ("weights: {gp: .nan}", "weights.gp"),
        ("weights: {safety: .inf}", "weights.safety"),
        ("snapping: {max_snap_m: .nan}", "snapping.max_snap_m"),
        ("bands: [{max_m: .inf, points: 2}]", r"bands\[0\].max_m"),
        ("aggregation: {grid_cell_m: -.inf}", "aggregation.grid_cell_m"),
    ],
)
def test_non_finite_numbers_are_refused_naming_the_key(tmp_path, text, key):
    with pytest.raises(ConfigError, match=rf"'{key}' must be a finite number"):
        load_config(write(tmp_path, text))


def test_numbers_python_reads_are_numbers(tmp_path):
    # PyYAML reads 1e300 (no dot) as text; float() reads it as a number
    cfg = load_config(write(tmp_path, "snapping: {max_snap_m: 1e300}\nweights: {gp: 2e0}"))
    assert cfg.max_snap_m == 1e300 and cfg.weights["gp"] == 2.0
    with pytest.raises(ConfigError, match="'weights.gp' must be a number, got 'two'"):
        load_config(write(tmp_path, "weights: {gp: two}"))


def test_zero_snap_limit_is_refused_with_a_reason():
    with pytest.raises(ConfigError, match="'snapping.max_snap_m' must be more than 0"):
        load_config(overrides={"snapping": {"max_snap_m": 0}})


def test_all_weights_zero_is_refused(tmp_path):
    zeros = ", ".join(f"{k}: 0" for k in load_config().weights)
    with pytest.raises(ConfigError, match="every weight is 0"):
        load_config(write(tmp_path, f"weights: {{{zeros}}}"))
    # one weight left is a score
    one = zeros.replace("gp: 0", "gp: 1")
    assert load_config(write(tmp_path, f"weights: {{{one}}}")).max_score == 2


def test_unknown_indicator_on_a_gtfs_source_is_an_error(tmp_path):
    study = write_study(tmp_path)
    text = study.read_text().replace("- file: stops.txt", "- file: stops.txt\n  indicator: tram")
    study.write_text(text)
    with pytest.raises(ConfigError, match="unknown indicator 'tram'"):
        scan(study, data_dir=tmp_path)


def test_indicator_on_a_gtfs_source_is_honoured(tmp_path):
    study = write_study(tmp_path)
    text = study.read_text().replace("- file: stops.txt", "- file: stops.txt\n  indicator: gp")
    study.write_text(text)
    amen = scan(study, data_dir=tmp_path).amenities
    from_gtfs = amen[amen["source"] == "stops.txt"]
    assert set(from_gtfs["indicator"]) == {"gp"}
    assert "bus_stop" not in set(amen["indicator"])


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda d: "/proc/x.gpkg", "cannot write in the folder /proc"),
        (lambda d: (d / "f.txt").write_text("x") and d / "f.txt" / "out.gpkg", "is a file, not a"),
        (lambda d: (d / "dir.gpkg").mkdir() or d / "dir.gpkg", "is a folder"),
        (lambda d: d / "missing" / "out.gpkg", "does not exist; create it first"),
        (lambda d: d / "out.txt", r"must end in \.gpkg"),
    ],
)
def test_output_paths_are_checked(tmp_path, make, message):
    with pytest.raises(OutputError, match=message):
        check_output(make(tmp_path), what="output", suffixes=(".gpkg",))


def test_a_rescan_does_not_drop_added_layers(tmp_path):
    out = scan_with_zones(tmp_path)
    before = out.read_bytes()
    result = scan(tmp_path / "study.yaml", data_dir=tmp_path)
    with pytest.raises(OutputError, match=r"holds layer\(s\) a scan does not write \(zones\)"):
        result.to_gpkg(out)
    assert out.read_bytes() == before
    result.to_gpkg(out, overwrite=True)
    assert "zones" not in {str(n) for n in pyogrio.list_layers(out)[:, 0]}


def test_adding_to_a_file_that_is_not_a_geopackage(tmp_path):
    p = tmp_path / "t.gpkg"
    p.write_text("my notes")
    table = pd.DataFrame({"a": [1]})
    with pytest.raises(OutputError, match="exists but is not a GeoPackage"):
        add_layers(p, {"t": table})
    assert p.read_text() == "my notes"


def _points(n: int) -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(
        {"i": range(n)}, geometry=[Point(176000 + i, 318000) for i in range(n)], crs=28992
    )


def test_stale_temporaries_are_cleaned(tmp_path):
    out = write_layers(tmp_path / "r.gpkg", {"p": _points(2)}, metadata={})
    stranded = [tmp_path / ".r.gpkg.tmp-abc123.gpkg", tmp_path / ".r.gpkg.tmp-abc123.gpkg-journal"]
    old = [tmp_path / ".r-k3j4h5g6.gpkg"]  # an older release's name: cleaned once old
    young = tmp_path / ".r-a1b2c3d4.gpkg"
    mine = tmp_path / ".notes.gpkg"  # someone else's hidden file
    for p in [*stranded, *old, young, mine]:
        p.write_bytes(b"x" * 10)
    os.utime(old[0], (time.time() - 7200, time.time() - 7200))
    add_layers(out, {"t": pd.DataFrame({"a": [1]})})
    left = {p.name for p in tmp_path.iterdir()}
    assert not {p.name for p in [*stranded, *old]} & left
    assert {young.name, mine.name, "r.gpkg"} <= left
    assert clean_stale(out) == []


def _add_one(args):
    path, name = args
    add_layers(path, {name: _points(50)}, metadata={f"by.{name}": name})
    return name


@pytest.mark.slow
def test_parallel_writers_lose_no_layer(tmp_path):
    ctx = multiprocessing.get_context("spawn")
    lost = 0
    with ctx.Pool(4) as pool:
        for rnd in range(3):
            out = write_layers(tmp_path / f"r{rnd}.gpkg", {"base": _points(5)}, metadata={})
            names = [f"layer{i}" for i in range(6)]
            pool.map(_add_one, [(out, n) for n in names])
            have = {str(n) for n in pyogrio.list_layers(out)[:, 0]}
            meta = pyogrio.read_dataframe(out, layer="run_metadata")
            lost += len(set(names) - have) + len({f"by.{n}" for n in names} - set(meta["key"]))
    assert lost == 0


def test_sqlite_sync_is_off_only_while_writing(tmp_path):
    # layers are written without SQLite's sync per commit and the file synced once; GDAL's
    # setting is process-wide, so it is restored only when the last of overlapping writers
    # (threads of the web server) is done, and restored on an error too
    from thuisdichtbij.outputs.export import _one_sync

    key = "OGR_SQLITE_SYNCHRONOUS"
    before = pyogrio.get_gdal_config_option(key)

    def off():  # pyogrio reads "OFF" back as False
        return pyogrio.get_gdal_config_option(key) in (False, "OFF")

    a, b = tmp_path / "a.gpkg", tmp_path / "b.gpkg"
    a.write_bytes(b"a")
    b.write_bytes(b"b")
    first, second = _one_sync(a), _one_sync(b)
    first.__enter__()
    assert off() and not gc.isenabled()  # the garbage collector rests while writing too
    second.__enter__()  # a second thread starts writing before the first is done
    first.__exit__(None, None, None)
    assert off() and not gc.isenabled()  # b is still being written
    second.__exit__(None, None, None)
    assert pyogrio.get_gdal_config_option(key) == before and gc.isenabled()
    with pytest.raises(RuntimeError), _one_sync(a):
        raise RuntimeError("the write failed")
    assert pyogrio.get_gdal_config_option(key) == before and gc.isenabled()
    assert a.read_bytes() == b"a" and b.read_bytes() == b"b"


def test_the_garbage_collector_rests_during_a_scan_and_comes_back(tmp_path, monkeypatch):
    # a scan makes objects by the hundred thousand: Python's collector would walk every
    # object of the process again and again (0.3 s of Aachen's 1.8 s); it is back after
    # the scan, after a failed one too, and stays off for a caller who had it off
    from thuisdichtbij import CRSError, scan
    from thuisdichtbij.pipeline import compute

    from ._synthetic import write_study

    seen = []
    snap = compute.snap

    def watched(*args, **kwargs):
        seen.append(gc.isenabled())
        return snap(*args, **kwargs)

    monkeypatch.setattr(compute, "snap", watched)
    study = write_study(tmp_path)
    scan(study, data_dir=tmp_path, cache=False)
    assert seen == [False] and gc.isenabled()
    with pytest.raises(CRSError):
        scan(study, data_dir=tmp_path, cache=False, crs="EPSG:3857")
    assert gc.isenabled()
    gc.disable()
    try:
        scan(study, data_dir=tmp_path, cache=False)
        assert not gc.isenabled()
    finally:
        gc.enable()


@pytest.mark.skipif(not hasattr(os, "fork"), reason="no fork on this system")
def test_a_process_forked_during_a_pause_has_its_collector_back():
    # its holders stay in the parent: without the reset the child would keep the
    # collector off for good (and the SQLite sync setting changed)
    from thuisdichtbij._process_wide import GC_PAUSED

    with GC_PAUSED.held():
        pid = os.fork()
        if pid == 0:  # the child
            ok = gc.isenabled()
            with GC_PAUSED.held():
                ok = ok and not gc.isenabled()
            os._exit(0 if ok and gc.isenabled() else 1)
        _, status = os.waitpid(pid, 0)
        assert not gc.isenabled()  # the parent's pause goes on
    assert os.waitstatus_to_exitcode(status) == 0 and gc.isenabled()


def test_a_written_geopackage_and_its_folder_are_synced(tmp_path, monkeypatch):
    # the temporary file is synced before the move, the folder after it: a power cut
    # cannot leave half a file, nor bring the old one back after "wrote"
    import stat

    import geopandas as gpd
    from shapely import Point

    synced = []
    real = os.fsync

    def record(fd):
        mode = os.fstat(fd).st_mode
        synced.append("folder" if stat.S_ISDIR(mode) else "file")
        real(fd)

    monkeypatch.setattr(os, "fsync", record)
    frame = gpd.GeoDataFrame({"a": [1]}, geometry=[Point(0, 0)], crs=28992)
    out = write_layers(tmp_path / "x.gpkg", {"points": frame}, metadata={"k": "v"})
    assert synced == ["file", "folder"]
    synced.clear()
    add_layers(out, {"more": frame})
    assert synced == ["file", "folder"]
