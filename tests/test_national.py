"""The national path: the tile store, the tiled scan per municipality, and its equality
with a single scan of the same municipality."""

import contextlib
import json
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pyarrow.parquet as pq
import pyogrio
import pytest
import shapely
import yaml

from thuisdichtbij import scan
from thuisdichtbij.apps.cli import main
from thuisdichtbij.config import load_config
from thuisdichtbij.engine.partition import Tiling
from thuisdichtbij.errors import InputError, ThuisdichtbijError
from thuisdichtbij.pipeline.national import required_halo_m, scan_national
from thuisdichtbij.sources.osm import read_osm
from thuisdichtbij.sources.tags import needed_keys, rule_starts
from thuisdichtbij.sources.tilestore import convert_pbf, open_store, write_store

CFG = load_config()
KEYS, STARTS = needed_keys(CFG.indicators), rule_starts(CFG.indicators)
TILE_M = 1000.0
HALO_M = 1300.0  # what a walk needs: 500 + 25 + 250 + 500 (a whole fragment), and a little


def _pbf(data_dir):
    return data_dir / "osm" / "delft-tudelft.osm.pbf"


@pytest.fixture(scope="module")
def delft(data_dir, tmp_path_factory):
    """A Delft store of 1 km tiles, the tiled scan of it, and the single scan of Delft."""
    tmp = tmp_path_factory.mktemp("national")
    gemeenten = data_dir / "nl" / "cbs-gemeenten-2025.gpkg"
    store = convert_pbf(
        _pbf(data_dir),
        tmp / "store",
        feature_keys=KEYS,
        feature_prefilter=STARTS,
        tile_m=TILE_M,
        halo_m=HALO_M,
    )
    lbm, pc4 = (
        data_dir / "nl" / "leefbaarometer3-pc4-2002-2022.csv",
        data_dir / "nl" / "cbs-pc4-2024.gpkg",
    )
    national = scan_national(
        store.path, out=tmp / "out", municipalities=gemeenten, leefbaarometer=lbm,
        safety_areas=pc4,
    )  # fmt: skip
    study = tmp / "delft.yaml"
    study.write_text(
        yaml.safe_dump(
            {
                "name": "Delft",
                "crs": "EPSG:28992",
                "osm": str(_pbf(data_dir)),
                "study_area": {"file": str(gemeenten), "id_field": "gemeente", "ids": ["Delft"]},
                "leefbaarometer": {
                    "file": str(lbm),
                    "areas": {"file": str(pc4), "id_field": "postcode"},
                },
            }
        )
    )
    single = scan(str(study), cache=tmp / "cache")
    single.to_gpkg(tmp / "single.gpkg")
    return {
        "store": store, "national": national, "single": single, "tmp": tmp, "gem": gemeenten,
        "safety": {"leefbaarometer": lbm, "safety_areas": pc4},
    }  # fmt: skip


def _same(a: pd.DataFrame, b: pd.DataFrame, key: str) -> None:
    """Equal row for row by ``key``: numbers to 0.01 (NULL where NULL), text exactly."""
    a, b = a.set_index(key).sort_index(), b.set_index(key).sort_index()
    assert a.index.tolist() == b.index.tolist()
    for col in a.columns:
        if col == "geometry":
            assert np.allclose(
                shapely.get_coordinates(a[col].to_numpy()),
                shapely.get_coordinates(b[col].to_numpy()),
                atol=0.01,
            )
        elif pd.api.types.is_numeric_dtype(a[col]) and not pd.api.types.is_bool_dtype(a[col]):
            x, y = a[col].to_numpy(float), b[col].to_numpy(float)
            assert (np.isnan(x) == np.isnan(y)).all(), col
            assert np.allclose(x[~np.isnan(x)], y[~np.isnan(y)], atol=0.01), col
        else:
            assert a[col].astype(str).tolist() == b[col].astype(str).tolist(), col


@pytest.mark.slow  # a real scan, and each 1 km tile builds the whole extract
def test_tiled_scan_equals_the_single_scan(delft):
    out = delft["national"]
    assert [m["id"] for m in out.municipalities] == ["Delft"]
    gpkg = out.out / "gpkg" / "Delft.gpkg"
    single = delft["tmp"] / "single.gpkg"
    # the TU campus extract covers part of Delft: the share of the municipality within the
    # hull of the walking network (computed here from the single scan's network) is said
    gem = gpd.read_file(delft["gem"], engine="pyogrio").to_crs(28992)
    delft_poly = gem.loc[gem["gemeente"] == "Delft"].union_all()
    hull = shapely.convex_hull(shapely.multipoints(delft["single"].network.node_xy))
    share = delft_poly.intersection(hull).area / delft_poly.area
    assert 0.05 < share < 0.9
    assert out.municipalities[0]["data_coverage"] == pytest.approx(share, abs=0.01)
    assert float(_metadata(gpkg)["data_coverage"]) == pytest.approx(share, abs=0.01)
    ours = pyogrio.read_dataframe(gpkg, layer="dwellings")
    theirs = pyogrio.read_dataframe(single, layer="dwellings")
    # the test must cross tile borders: many tiles, dwellings within 50 m of a border
    xy = shapely.get_coordinates(ours.geometry.to_numpy())
    assert len(np.unique(np.floor(xy / TILE_M), axis=0)) >= 6
    to_border = np.minimum(xy % TILE_M, TILE_M - xy % TILE_M).min(axis=1)
    assert (to_border < 50).sum() > 100
    assert ours.columns.tolist() == theirs.columns.tolist()
    _same(ours, theirs, "dwelling_id")
    assert theirs["score_class"].nunique() >= 3  # classes relative to the municipality
    assert theirs["safety_pts"].nunique() >= 2  # safety from the Leefbaarometer, per PC4
    # the amenities layer: same fields, same amenities, snapped alike
    a = pyogrio.read_dataframe(gpkg, layer="amenities")
    b = pyogrio.read_dataframe(single, layer="amenities")
    assert a.columns.tolist() == b.columns.tolist()
    key = a["indicator"] + " " + a["source_id"]
    _same(a.assign(key=key), b.assign(key=b["indicator"] + " " + b["source_id"]), "key")
    # the means per area (squares of 500 m, as the scan has no area polygons) and the grid
    _same_layers(gpkg, single, {"areas": "area_id", "grid": "cell_id"})
    # every layer the national GeoPackage has, a scan's GeoPackage has with the same fields
    for name in pyogrio.list_layers(gpkg)[:, 0]:
        assert name in pyogrio.list_layers(single)[:, 0]
        if name != "run_metadata":
            ours_f = pyogrio.read_info(gpkg, layer=name)["fields"].tolist()
            assert ours_f == pyogrio.read_info(single, layer=name)["fields"].tolist(), name
    # the audit's sub-indicator rows say what the single scan's say (same amenities, same
    # dwellings); its network counts the streets inside Delft only (each edge by the tile its
    # midpoint lies in), the scan's those up to 750 m around it too: the same streets here,
    # as the TU campus extract lies wholly inside Delft
    au = pyogrio.read_dataframe(gpkg, layer="audit").set_index("item")
    su = pyogrio.read_dataframe(single, layer="audit").set_index("item")
    rows = list(CFG.indicator_ids)
    cols = ["n_amenities", "per_10k_dwellings", "share_within_500m", "verdict"]
    pd.testing.assert_frame_equal(au.loc[rows, cols], su.loc[rows, cols])
    # the coverage rows count the areas and cells without a class, as the scan's do
    for item in ("areas_insufficient", "grid_insufficient"):
        assert au.loc[item, ["value", "unit"]].tolist() == su.loc[item, ["value", "unit"]].tolist()
    for item in ("walkable_km", "footpath_share", "m_per_dwelling"):
        assert au.loc[item, "value"] == pytest.approx(su.loc[item, "value"], rel=1e-9), item
    assert au.loc["unscored_share", "value"] == pytest.approx(su.loc["unscored_share", "value"])
    # the partitioned GeoParquet holds the same dwellings as the GeoPackage
    part = gpd.read_parquet(out.out / "dwellings" / "municipality=Delft" / "part-0.parquet")
    assert (part.pop("municipality_id") == "Delft").all()
    assert part.columns.tolist() == ours.columns.tolist()
    _same(part.replace([np.inf], np.nan), ours, "dwelling_id")


def _same_layers(ours, theirs, keys: dict[str, str]) -> None:
    """Layers of two GeoPackages equal, field for field and row for row (by each key)."""
    for layer, key in keys.items():
        a = pyogrio.read_dataframe(ours, layer=layer)
        b = pyogrio.read_dataframe(theirs, layer=layer)
        assert a.columns.tolist() == b.columns.tolist(), layer
        assert len(a) == len(b) > 10, layer
        _same(a, b, key)
    meta = [_metadata(p) for p in (ours, theirs)]
    for item in ("class_edges_areas", "class_edges_grid", "grid_cell_m", "areas_source"):
        assert meta[0][item] == meta[1][item], item


def _metadata(gpkg) -> dict[str, str]:
    table = pyogrio.read_dataframe(gpkg, layer="run_metadata")
    return dict(zip(table["key"], table["value"]))


@pytest.mark.slow
def test_pc4_areas_equal_those_of_a_single_scan(delft):
    # --areas: the CBS PC4 areas with half their surface or more in Delft, as a scan of Delft
    # with `areas` reports them; a dwelling in a PC4 mostly outside Delft has no area_id
    tmp, pc4 = delft["tmp"], delft["safety"]["safety_areas"]
    out = scan_national(
        delft["store"].path, out=tmp / "out-pc4", municipalities=delft["gem"],
        areas=pc4, area_field="postcode", **delft["safety"],
    )  # fmt: skip
    study = yaml.safe_load((tmp / "delft.yaml").read_text())
    study["areas"] = {"file": str(pc4), "id_field": "postcode"}
    (tmp / "delft-pc4.yaml").write_text(yaml.safe_dump(study))
    scan(str(tmp / "delft-pc4.yaml"), cache=tmp / "cache").to_gpkg(tmp / "single-pc4.gpkg")
    gpkg = out.out / "gpkg" / "Delft.gpkg"
    _same_layers(gpkg, tmp / "single-pc4.gpkg", {"areas": "area_id", "grid": "cell_id"})
    ours = pyogrio.read_dataframe(gpkg, layer="dwellings")
    theirs = pyogrio.read_dataframe(tmp / "single-pc4.gpkg", layer="dwellings")
    _same(ours, theirs, "dwelling_id")
    assert _metadata(gpkg)["areas_source"] == "cbs-pc4-2024.gpkg (postcode)"


@pytest.mark.slow
def test_bag_dwellings_come_through_a_bbox_filter(delft, tmp_path):
    # A BAG GeoPackage in the official form, made from some Delft address points: two of
    # them are no dwellings in use (an office, one being built) and must be left out.
    dw = delft["single"].dwellings.iloc[::7].reset_index(drop=True)
    n = len(dw)
    bag = gpd.GeoDataFrame(
        {
            "identificatie": [f"0503010000{i:06d}" for i in range(n)],
            "gebruiksdoel": ["woonfunctie"] * (n - 1) + ["kantoorfunctie"],
            "status": ["Verblijfsobject in gebruik"] * (n - 2)
            + ["Verblijfsobject in aanbouw", "Verblijfsobject in gebruik"],
            "postcode": ["2628 AB"] * n,
        },
        geometry=dw.geometry.to_numpy(),
        crs=dw.crs,
    )
    bag.to_file(tmp_path / "bag.gpkg", layer="verblijfsobject", engine="pyogrio")
    out = scan_national(
        delft["store"].path,
        out=tmp_path / "out",
        municipalities=delft["gem"],
        bag=tmp_path / "bag.gpkg",
    )
    got = pyogrio.read_dataframe(out.out / "gpkg" / "Delft.gpkg", layer="dwellings")
    assert len(got) == n - 2
    assert set(got["dwelling_id"]) == set(bag["identificatie"][: n - 2])
    assert (got["postcode"] == "2628AB").all()
    # distances are the same as those of the same points as OSM dwellings
    ids = dict(zip(bag["identificatie"], dw["dwelling_id"]))
    same = dw.set_index("dwelling_id").loc[got["dwelling_id"].map(ids)]
    for ind in CFG.indicator_ids:
        x = same[f"dist_{ind}"].replace(np.inf, np.nan).to_numpy(float)
        y = got[f"dist_{ind}"].to_numpy(float)
        assert np.allclose(np.nan_to_num(x, nan=-1), np.nan_to_num(y, nan=-1), atol=0.01), ind


def test_store_tiles_hold_what_lies_in_them(data_dir, tmp_path):
    # Computed independently: reproject the reader's layers with geopandas, and take what
    # meets each grown square (ways, features) or lies in the square (dwellings).
    ext = read_osm(_pbf(data_dir), feature_keys=KEYS, feature_prefilter=STARTS)
    tile_m, halo_m = 700.0, 300.0
    store = write_store(
        tmp_path / "s",
        ways=ext.ways,
        features=ext.features,
        dwellings=ext.dwellings,
        source="delft",
        dwellings_how="x",
        feature_keys=KEYS,
        feature_prefilter=STARTS,
        tile_m=tile_m,
        halo_m=halo_m,
    )
    ways, feats, dws = (g.to_crs(28992) for g in (ext.ways, ext.features, ext.dwellings))
    seen = 0
    for ix, iy in store.tiles:
        grown = shapely.box(
            ix * tile_m - halo_m,
            iy * tile_m - halo_m,
            (ix + 1) * tile_m + halo_m,
            (iy + 1) * tile_m + halo_m,
        )
        got = store.read_tile((ix, iy))
        want = ways[ways.intersects(grown)]
        assert len(got.ways) == len(want)
        assert np.allclose(
            shapely.get_coordinates(got.ways.geometry.to_numpy()),
            shapely.get_coordinates(want.geometry.to_numpy()),
        )
        assert got.ways["id"].tolist() == want["id"].tolist()
        assert got.features["osm_id"].tolist() == feats[feats.intersects(grown)]["osm_id"].tolist()
        x, y = dws.geometry.x, dws.geometry.y
        inside = (np.floor(x / tile_m) == ix) & (np.floor(y / tile_m) == iy)
        assert got.dwellings["dwelling_id"].tolist() == dws[inside]["dwelling_id"].tolist()
        seen += len(got.dwellings)
    assert seen == len(dws)  # each dwelling in exactly one tile
    assert open_store(tmp_path / "s").tiles == store.tiles
    # the streaming conversion (ways written while the file is read, 300 at a time) gives
    # the same store, row for row
    chunked = convert_pbf(
        _pbf(data_dir),
        tmp_path / "c",
        feature_keys=KEYS,
        feature_prefilter=STARTS,
        tile_m=tile_m,
        halo_m=halo_m,
        chunk_ways=300,
    )
    assert chunked.tiles == store.tiles
    for tile in store.tiles:
        a, b = store.read_tile(tile), chunked.read_tile(tile)
        for name in ("ways", "features", "dwellings"):
            x, y = getattr(a, name), getattr(b, name)
            assert x.columns.tolist() == y.columns.tolist()
            assert (
                x.drop(columns="geometry")
                .astype(str)
                .equals(y.drop(columns="geometry").astype(str))
            )
            assert shapely.equals_exact(x.geometry.to_numpy(), y.geometry.to_numpy(), 0).all()
            assert x.dtypes.tolist() == y.dtypes.tolist()
            assert y.index.equals(pd.RangeIndex(len(y)))
        # a tile's chunks are joined as Arrow tables: its GeoParquet box is all of theirs
        joined = chunked.path / "tiles" / f"{tile[0]}_{tile[1]}" / "ways.parquet"
        geo = json.loads(pq.read_schema(joined).metadata[b"geo"])["columns"]["geometry"]
        assert geo["bbox"] == pytest.approx(list(b.ways.total_bounds))


def _as_libosmium_writes(src: Path, dst: Path) -> Path:
    """The extract rewritten by libosmium's PBF writer: blocks of 8,000 objects.

    That is the shape of Geofabrik's extracts (cut with osmium-tool, libosmium's writer);
    the mirror's Aachen file holds its 300,000 nodes in a few big blocks.
    """
    import osmium

    with osmium.SimpleWriter(str(dst)) as out:
        for obj in osmium.FileProcessor(str(src)):
            (out.add_node if obj.is_node() else out.add_way if obj.is_way() else out.add_relation)(
                obj
            )
    return dst


def _same_store(a, b) -> None:
    """Two stores equal: the same tiles, and every layer of each tile row for row."""
    assert a.tiles == b.tiles
    for tile in a.tiles:
        x_ext, y_ext = a.read_tile(tile), b.read_tile(tile)
        for name in ("ways", "features", "dwellings"):
            x, y = getattr(x_ext, name), getattr(y_ext, name)
            assert x.drop(columns="geometry").equals(y.drop(columns="geometry")), (tile, name)
            assert shapely.equals_exact(x.geometry.to_numpy(), y.geometry.to_numpy(), 0).all()


def test_parallel_conversion_equals_the_serial_one(data_dir, tmp_path):
    # Aachen in libosmium's 8,000-object blocks (47 of them): two processes read 8 runs of
    # blocks, the first ones nodes only, one more the multipolygons (5 are amenities here)
    pbf = _as_libosmium_writes(data_dir / "osm" / "aachen.osm.pbf", tmp_path / "aachen.osm.pbf")
    opts = {"feature_keys": KEYS, "feature_prefilter": STARTS, "tile_m": 3000, "halo_m": 500}
    one = convert_pbf(pbf, tmp_path / "one", **opts)
    two = convert_pbf(pbf, tmp_path / "two", processes=2, chunk_ways=2000, progress=True, **opts)
    _same_store(one, two)
    manifests = [json.loads((s.path / "store.json").read_text()) for s in (one, two)]
    assert manifests[0]["counts"] == manifests[1]["counts"]
    assert manifests[1]["counts"]["dwellings"] == len(read_osm(pbf, ways=False).dwellings)
    assert [m["conversion"]["processes"] for m in manifests] == [1, 2]
    relations = {f for t in two.tiles for f in two.read_tile(t).features["osm_id"]}
    assert sum(f.startswith("relation/") for f in relations) == 5


def test_without_fork_the_conversion_runs_in_one_process(data_dir, tmp_path, monkeypatch, caplog):
    from thuisdichtbij.sources import tilestore

    monkeypatch.setattr(tilestore, "_can_fork", lambda: False)  # as on Windows
    store = convert_pbf(
        _pbf(data_dir), tmp_path / "s", feature_keys=KEYS, feature_prefilter=STARTS, processes=4
    )
    manifest = json.loads((store.path / "store.json").read_text())
    assert manifest["conversion"]["processes"] == 1
    assert "cannot fork processes; converting in one" in caplog.text


def test_parallel_conversion_of_a_damaged_file_is_one_line(data_dir, tmp_path, monkeypatch):
    # a run of bytes overwritten inside a data block (the blocks' headers intact): the pass
    # gathering the node locations decodes every block, and says so in one line
    pbf = _as_libosmium_writes(data_dir / "osm" / "aachen.osm.pbf", tmp_path / "aachen.osm.pbf")
    from thuisdichtbij.sources import tilestore
    from thuisdichtbij.sources.pbf_blocks import pbf_blocks

    opts = {"feature_keys": KEYS, "feature_prefilter": STARTS, "processes": 2}
    good = pbf.read_bytes()
    offset, size = pbf_blocks(pbf)[-3]
    data = bytearray(good)
    data[offset + size - 400 : offset + size - 100] = b"\xff" * 300
    pbf.write_bytes(bytes(data))
    with pytest.raises(InputError, match="OSM extract: could not read .*uncompress"):
        convert_pbf(pbf, tmp_path / "s", **opts)
    assert not (tmp_path / "s").exists() and not list(tmp_path.glob(".s*"))
    # an error in a forked worker (here: one run of blocks fails) reaches the user as the
    # same one line, and leaves no half store behind
    pbf.write_bytes(good)
    real = tilestore.read_run

    def fail_on_the_tenth_block(path, header, blocks, *args, **kwargs):
        if pbf_blocks(pbf)[10] in blocks:
            raise InputError(f"OSM extract: could not read {path} (test)")
        return real(path, header, blocks, *args, **kwargs)

    monkeypatch.setattr(tilestore, "read_run", fail_on_the_tenth_block)
    with pytest.raises(InputError, match=r"could not read .* \(test\)"):
        convert_pbf(pbf, tmp_path / "s", **opts)
    assert not (tmp_path / "s").exists() and not list(tmp_path.glob(".s*"))

    # a worker killed from outside (as the out-of-memory killer does): one line, no wait
    # without end, no half store
    def killed_on_the_tenth_block(path, header, blocks, *args, **kwargs):
        if pbf_blocks(pbf)[10] in blocks:
            os.kill(os.getpid(), signal.SIGKILL)
        return real(path, header, blocks, *args, **kwargs)

    monkeypatch.setattr(tilestore, "read_run", killed_on_the_tenth_block)
    with pytest.raises(ThuisdichtbijError, match="a conversion process died .*fewer --processes"):
        convert_pbf(pbf, tmp_path / "s", **opts)
    assert not (tmp_path / "s").exists() and not list(tmp_path.glob(".s*"))


_STALLED_TILES = """
import sys, time
from thuisdichtbij.sources import tilestore
tilestore.read_run = lambda *args, **kwargs: time.sleep(120)  # workers that stall
from thuisdichtbij.apps.cli import main
sys.exit(main(["tiles", sys.argv[1], "--out", sys.argv[2], "--processes", "2", "-q"]))
"""


def _children(pid: int) -> set[int]:
    """The processes ``pid`` started that are still there (Linux's /proc)."""
    kids = set()
    for task in Path(f"/proc/{pid}/task").glob("*"):
        with contextlib.suppress(OSError):
            kids |= {int(k) for k in (task / "children").read_text().split()}
    return kids


@pytest.mark.skipif(not Path("/proc/self/task").is_dir(), reason="needs Linux's /proc")
@pytest.mark.parametrize(
    "signals", [[signal.SIGTERM], [signal.SIGINT, signal.SIGINT], [signal.SIGKILL]]
)
def test_a_stopped_conversion_leaves_no_workers_and_no_part(data_dir, tmp_path, signals):
    # `kill` of the command, or Ctrl-C twice in a row, while its workers read: it ends (no
    # wait without end), says so, and leaves neither worker processes nor a half store;
    # `kill -9` leaves no worker either (they die with the parent; its folder stays)
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[1])}
    out = tmp_path / "s"
    proc = subprocess.Popen(
        [sys.executable, "-c", _STALLED_TILES, str(_pbf(data_dir)), str(out)],
        env=env,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        for _ in range(600):  # the workers are up once the parent has two children
            if len(workers := _children(proc.pid)) >= 2:
                break
            time.sleep(0.05)
        assert len(workers) >= 2
        for sig in signals:
            proc.send_signal(sig)
            time.sleep(0.3)
        _, err = proc.communicate(timeout=60)
    finally:
        proc.kill()
    for _ in range(100):  # gone once the system has reaped them
        if not any(_state(w) != "Z" for w in workers):
            break
        time.sleep(0.05)
    assert not any(_state(w) != "Z" for w in workers)
    if signals != [signal.SIGKILL]:
        # 130, or (a second Ctrl-C landing while Python exits, after the message) ended by
        # SIGINT itself, which a shell reports as 130 too
        assert proc.returncode in (130, -signal.SIGINT), (proc.returncode, err)
        assert "interrupted; nothing was written" in err, err
        assert not out.exists() and not list(tmp_path.glob(".s*"))


def _state(pid: int) -> str:
    """A process's state letter (Z: a zombie, already dead); Z when it is gone."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return "Z"


def test_parallel_conversion_of_nodes_out_of_id_order(data_dir, tmp_path):
    # the nodes in two runs, each in id order (as `osmium cat` of two extracts leaves
    # them): libosmium sorts its location index only when a pass meets its first way
    import osmium

    src, pbf = data_dir / "osm" / "aachen.osm.pbf", tmp_path / "two-runs.osm.pbf"
    with osmium.SimpleWriter(str(pbf)) as out:
        for half in (0, 1):
            for node in osmium.FileProcessor(str(src), osmium.osm.NODE):
                if node.id % 2 == half:
                    out.add_node(node)
        for obj in osmium.FileProcessor(str(src), osmium.osm.WAY | osmium.osm.RELATION):
            (out.add_way if obj.is_way() else out.add_relation)(obj)
    opts = {"feature_keys": KEYS, "feature_prefilter": STARTS, "tile_m": 5000, "halo_m": 500}
    one = convert_pbf(pbf, tmp_path / "one", **opts)
    two = convert_pbf(pbf, tmp_path / "two", processes=2, **opts)
    _same_store(one, two)
    counts = json.loads((two.path / "store.json").read_text())["counts"]
    assert counts["dwellings"] == len(read_osm(src, ways=False).dwellings)


@pytest.mark.parametrize("processes", [1, 2])
def test_an_extract_without_streets_is_one_line_in_parts_too(tmp_path, processes):
    from ._pbf import PBF

    pbf = PBF()
    pbf.node(0, 0, amenity="pharmacy")
    pbf.way([(0, 0), (10, 0), (10, 10), (0, 0)], building="house", **{"addr:housenumber": "1"})
    path = pbf.write(tmp_path / "no-streets.osm.pbf")
    with pytest.raises(InputError, match="holds no highway ways; is it the right area"):
        convert_pbf(path, tmp_path / "s", feature_keys=KEYS, feature_prefilter=STARTS,
                    processes=processes)  # fmt: skip
    assert not (tmp_path / "s").exists() and not list(tmp_path.glob(".s*"))


def test_store_borders_on_paper(tmp_path):
    # Tiles of 100 m with a 10 m halo. A segment from x=95 to x=125 (y=50) meets tiles 0
    # and 1 and, through the halo, nothing else; a point at x=-10 lies on the grown edge of
    # tile 0 (in); a dwelling at x=100 belongs to tile 1, one at x=99.99 to tile 0.
    crs = "EPSG:28992"
    way = gpd.GeoDataFrame(
        {"id": [1], "highway": ["footway"]},
        geometry=[shapely.LineString([(95, 50), (125, 50)])],
        crs=crs,
    )
    feat = gpd.GeoDataFrame({"osm_id": ["node/1"]}, geometry=[shapely.Point(-10, 50)], crs=crs)
    dw = gpd.GeoDataFrame(
        {"dwelling_id": ["a", "b"]},
        geometry=[shapely.Point(100, 50), shapely.Point(99.99, 50)],
        crs=crs,
    )
    store = write_store(
        tmp_path / "s",
        ways=way,
        features=feat,
        dwellings=dw,
        source="x",
        dwellings_how="x",
        feature_keys=(),
        feature_prefilter=None,
        tile_m=100,
        halo_m=10,
    )
    # tile -1 grown reaches x=10 only; tiles 0 (x -10..110) and 1 (x 90..210) meet the way;
    # tile -1 is listed for the point at x=-10 (and holds no way)
    assert store.tiles == ((-1, 0), (0, 0), (1, 0))
    assert store.read_tile((-1, 0)).ways.empty
    assert store.read_tile((0, 0)).ways["id"].tolist() == [1]
    assert store.read_tile((1, 0)).ways["id"].tolist() == [1]
    assert store.read_tile((0, 0)).features["osm_id"].tolist() == ["node/1"]  # on the edge
    assert store.read_tile((1, 0)).features.empty
    assert store.read_tile((0, 0)).dwellings["dwelling_id"].tolist() == ["b"]
    assert store.read_tile((1, 0)).dwellings["dwelling_id"].tolist() == ["a"]


def test_cli_tiles_and_one_line_errors(data_dir, tmp_path, capsys):
    gem = data_dir / "nl" / "cbs-gemeenten-2025.gpkg"
    args = ["scan-national", "--store", str(tmp_path / "none"), "--municipalities", str(gem)]
    assert main([*args, "--out", str(tmp_path / "out")]) == 2
    assert "has no readable store.json" in capsys.readouterr().err
    # a halo too small for the configuration is refused before the extract is read
    need = required_halo_m(CFG)
    small = ["--tile-m", "5000", "--halo-m", "750", "-q"]
    assert main(["tiles", str(_pbf(data_dir)), "--out", str(tmp_path / "s"), *small]) == 2
    err = capsys.readouterr().err
    assert f"tiles: a halo of 750 m is less than the {need:g} m a walk needs" in err
    assert len(err.strip().splitlines()) == 1 and not (tmp_path / "s").exists()
    # ... and enough for one without the fragment rule (500 + 25 + 250 + 0 = 775 m)
    light = tmp_path / "light.yaml"
    light.write_text("network:\n  min_component_m: 0\n")
    small = ["--tile-m", "5000", "--halo-m", "800", "--weights", str(light), "-q"]
    assert main(["tiles", str(_pbf(data_dir)), "--out", str(tmp_path / "s"), *small]) == 0
    assert "tegels van 5000 m (rand 800 m) geschreven naar" in capsys.readouterr().out
    en = ["--out", str(tmp_path / "s-en"), "--lang", "en"]
    assert main(["tiles", str(_pbf(data_dir)), *en, *small]) == 0
    assert "tiles of 5000 m (halo 800 m) to" in capsys.readouterr().out
    for processes, why in (
        ("0", "must be 1 or more"),
        ("-2", "must be 1"),
        ("1.5", "is not a whole"),
    ):
        bad = ["--processes", processes, "--out", str(tmp_path / "s0")]
        assert main(["tiles", str(_pbf(data_dir)), *bad, *small]) == 2
        assert f"argument --processes: '{processes}' {why}" in capsys.readouterr().err
    # scanned with the default configuration, that store's halo is too small
    args[2] = str(tmp_path / "s")
    assert main([*args, "--out", str(tmp_path / "out")]) == 2
    err = capsys.readouterr().err
    assert f"halo of 800 m is less than the {need:g} m" in err
    assert len(err.strip().splitlines()) == 1


@pytest.mark.slow
def test_dask_workers_give_the_same_result(delft, tmp_path):
    out = scan_national(
        delft["store"].path,
        out=tmp_path / "out",
        municipalities=delft["gem"],
        tiling=Tiling(workers=2),
        **delft["safety"],
    )
    a = pyogrio.read_dataframe(out.out / "gpkg" / "Delft.gpkg", layer="dwellings")
    b = pyogrio.read_dataframe(delft["national"].out / "gpkg" / "Delft.gpkg", layer="dwellings")
    _same(a, b, "dwelling_id")


def _paper_store(tmp_path):
    """One 600 m footway at y=1000 from x=100 to x=700, a supermarket 50 m below it at
    x=400, three dwellings beside it and one 4.4 km away in a tile without any street; one
    municipality over all of it (gem.gpkg)."""
    crs = "EPSG:28992"
    from thuisdichtbij.sources.osm import WAY_TAGS

    tags = {k: [None] for k in WAY_TAGS}
    way = gpd.GeoDataFrame(
        {"id": [1], **tags, "highway": ["footway"]},
        geometry=[shapely.LineString([(100, 1000), (700, 1000)])],
        crs=crs,
    )
    feat_cols = {k: [None] for k in KEYS}
    feat = gpd.GeoDataFrame(
        {"osm_id": ["node/9"], **feat_cols, "name": ["Super"], "shop": ["supermarket"]},
        geometry=[shapely.Point(400, 950)],
        crs=crs,
    )
    xy = [(200, 1100), (450, 1020), (150, 1200), (5100, 1100)]
    dw = gpd.GeoDataFrame(
        {"dwelling_id": ["a", "b", "c", "far"], "postcode": ["1234AB"] * 4},
        geometry=shapely.points(xy),
        crs=crs,
    )
    store = write_store(
        tmp_path / "s",
        ways=way,
        features=feat,
        dwellings=dw,
        source="paper.osm.pbf",
        dwellings_how="paper",
        feature_keys=KEYS,
        feature_prefilter=STARTS,
        tile_m=2000,
        halo_m=1300,
    )
    assert (2, 0) in store.tiles and store.read_tile((2, 0)).ways.empty
    gem = gpd.GeoDataFrame(
        {"gemeente": ["Papier"]}, geometry=[shapely.box(-1000, -1000, 8000, 4000)], crs=crs
    )
    gem.to_file(tmp_path / "gem.gpkg", engine="pyogrio")
    return store, gem


#: The walks on paper: (200,1100): 100 + 200 + 50 = 350 m; (450,1020): 20 + 50 + 50 = 120 m;
#: (150,1200): 200 + 250 + 50 = 500 m (the band edge, inclusive). The far one: unsnapped.
PAPER_WALKS = {"a": 350.0, "b": 120.0, "c": 500.0, "far": np.nan}


def test_tiles_on_paper_with_a_tile_without_streets(tmp_path):
    store, _ = _paper_store(tmp_path)
    out = scan_national(store.path, out=tmp_path / "out", municipalities=tmp_path / "gem.gpkg")
    got = pyogrio.read_dataframe(out.out / "gpkg" / "Papier.gpkg", layer="dwellings")
    got = got.set_index("dwelling_id")
    assert got["dist_supermarket"].round(3).to_dict() == pytest.approx(PAPER_WALKS, nan_ok=True)
    assert got["pts_supermarket"].to_dict() == {"a": 1.0, "b": 2.0, "c": 1.0, "far": 0.0}
    assert got["snapped"].to_dict() == {"a": True, "b": True, "c": True, "far": False}
    assert np.isnan(got.loc["far", "score"])
    amen = pyogrio.read_dataframe(out.out / "gpkg" / "Papier.gpkg", layer="amenities")
    assert amen["indicator"].tolist() == ["supermarket"] and amen["snap_m"][0] == 50.0
    # the data audit, on paper: one supermarket for 4 dwellings is 2,500 per 10,000; no
    # pharmacy at all; the 600 m footway is the whole network (all footpath); 1 of 4
    # dwellings unscored (25 %, over the 20 % limit: dun)
    audit = pyogrio.read_dataframe(out.out / "gpkg" / "Papier.gpkg", layer="audit")
    audit = audit.set_index("item")
    assert audit.loc["supermarket", "per_10k_dwellings"] == pytest.approx(2500.0)
    assert audit.loc["supermarket", "verdict"] == "ok"
    assert audit.loc["pharmacy", "verdict"] == "ontbreekt"
    assert audit.loc["walkable_km", "value"] == pytest.approx(0.6)
    assert audit.loc["footpath_share", "value"] == pytest.approx(1.0)
    assert audit.loc["unscored_share", "value"] == pytest.approx(0.25)
    assert audit.loc["unscored_share", "verdict"] == "dun"
    meta = _metadata(out.out / "gpkg" / "Papier.gpkg")
    assert "pharmacy" in meta["audit_missing"].split(", ")
    # without --areas, the means per square of 500 m: a, b and c in the one at (0, 1000), far
    # in the one at (5000, 1000), unscored (1 of 1: no class); 5 dwellings or fewer: suppressed
    areas = pyogrio.read_dataframe(out.out / "gpkg" / "Papier.gpkg", layer="areas")
    assert areas[["area_id", "n_dwellings", "suppressed", "data_status"]].values.tolist() == [
        ["E0000N0010", 3, True, "ok"],
        ["E0050N0010", 0, True, "onvoldoende gegevens"],
    ]
    assert areas.geometry[1].equals(shapely.box(5000, 1000, 5500, 1500))
    assert got["area_id"].to_dict() == {
        "a": "E0000N0010", "b": "E0000N0010", "c": "E0000N0010", "far": "E0050N0010"
    }  # fmt: skip
    # the grid of 100 m: a cell for each dwelling; far's, unscored, without data (as its
    # square of 500 m above), not left out as if no one lived there
    grid = pyogrio.read_dataframe(out.out / "gpkg" / "Papier.gpkg", layer="grid")
    grid = grid.sort_values("cell_id")
    assert grid["cell_id"].tolist() == ["E0001N0012", "E0002N0011", "E0004N0010", "E0051N0011"]
    assert grid["n_dwellings"].tolist() == [1, 1, 1, 0] and grid["suppressed"].all()
    assert grid["data_status"].tolist() == ["ok"] * 3 + ["onvoldoende gegevens"]
    assert audit.loc["areas_insufficient", ["value", "unit"]].tolist() == [1.0, "van 2"]
    assert audit.loc["grid_insufficient", ["value", "unit"]].tolist() == [1.0, "van 4"]
    assert meta["areas_source"] == "squares of 500 m (no area polygons given)"
    assert meta["grid_cell_m"] == "100"
    assert "pharmacy" in out.municipalities[0]["audit_missing"]
    # no Leefbaarometer table was given: safety is missing, said per municipality too
    assert out.municipalities[0]["audit_safety"] == "ontbreekt"
    assert audit.loc["safety_share", "verdict"] == "ontbreekt"
    # QGIS opens the layers as a scan's: the styles of a scan's GeoPackage, layer for layer
    _same_styles(out.out / "gpkg" / "Papier.gpkg", {"dwellings", "areas", "grid"}, tmp_path)
    # a BAG GeoPackage in another CRS than the store's is refused before anything is written
    bag = gpd.GeoDataFrame(
        {"identificatie": ["1"], "gebruiksdoel": ["woonfunctie"], "status": ["x"]},
        geometry=[shapely.Point(4.36, 52.0)],
        crs=4326,
    )
    bag.to_file(tmp_path / "bag.gpkg", layer="verblijfsobject", engine="pyogrio")
    with pytest.raises(InputError, match="is in EPSG:4326, the store in EPSG:28992"):
        scan_national(
            store.path, out=tmp_path / "out2", municipalities=tmp_path / "gem.gpkg",
            bag=tmp_path / "bag.gpkg",
        )  # fmt: skip
    assert not (tmp_path / "out2").exists()


def test_the_qgis_styles_follow_the_language(tmp_path):
    from thuisdichtbij.engine.score import CLASS_LABELS_EN

    from .test_console_lang import _style_labels

    store, _ = _paper_store(tmp_path)  # and gem.gpkg
    out = scan_national(
        store.path, out=tmp_path / "out", municipalities=tmp_path / "gem.gpkg", lang="en"
    )
    gpkg = out.out / "gpkg" / "Papier.gpkg"
    assert f"1: {CLASS_LABELS_EN[1]}" in _style_labels(gpkg, "areas")


def _same_styles(gpkg, names: set[str], tmp_path) -> None:
    """The QGIS styles (``layer_styles``) of ``gpkg`` are those of a scan's, for ``names``."""
    from ._synthetic import write_study

    folder = tmp_path / "scan"
    folder.mkdir()
    single = scan(write_study(folder), data_dir=folder).to_gpkg(folder / "s.gpkg")
    cols = ["f_table_name", "f_geometry_column", "styleName", "styleQML", "useAsDefault"]
    ours, theirs = (
        pyogrio.read_dataframe(p, layer="layer_styles").set_index("f_table_name", drop=False)
        for p in (gpkg, single)
    )
    assert set(ours.index) == names and names <= set(theirs.index)
    for name in names:
        assert ours.loc[name, cols].tolist() == theirs.loc[name, cols].tolist(), name


def test_municipalities_in_another_crs_find_the_same_dwellings(tmp_path):
    # GDAL filters by bbox in the layer's own CRS: the tile's box must be taken there
    store, gem = _paper_store(tmp_path)
    gem.to_crs(4326).to_file(tmp_path / "gem4326.gpkg", engine="pyogrio")
    out = scan_national(store.path, out=tmp_path / "out", municipalities=tmp_path / "gem4326.gpkg")
    assert out.outside == 0 and [m["id"] for m in out.municipalities] == ["Papier"]
    got = pyogrio.read_dataframe(out.out / "gpkg" / "Papier.gpkg", layer="dwellings")
    assert got.set_index("dwelling_id")["dist_supermarket"].round(3).to_dict() == pytest.approx(
        PAPER_WALKS, nan_ok=True
    )
    # polygons without a CRS cannot be placed: refused before anything is written
    with pytest.warns(UserWarning, match="'crs' was not provided"):
        pyogrio.write_dataframe(gem.set_crs(None, allow_override=True), tmp_path / "nocrs.gpkg")
    with pytest.raises(InputError, match="nocrs.gpkg has no coordinate reference system"):
        scan_national(store.path, out=tmp_path / "out2", municipalities=tmp_path / "nocrs.gpkg")
    assert not (tmp_path / "out2").exists()


def _cli(store, out) -> list[str]:
    """scan-national on the paper store and town, one quiet worker, into ``out``."""
    gem = store.path.parent / "gem.gpkg"
    return ["scan-national", "--store", str(store.path), "--municipalities", str(gem)] + [
        "--workers", "1", "-q", "--out", str(out)
    ]  # fmt: skip


def _one_line_errors(capsys, args, cases) -> None:
    """Each bad input (extra arguments, words the error must hold): exit 2, one line, and
    nothing written at ``--out``."""
    for bad, says in cases:
        assert main([*args, *bad]) == 2
        err = capsys.readouterr().err
        assert says in err and len(err.strip().splitlines()) == 1, err
    assert not Path(args[args.index("--out") + 1]).exists()


def test_areas_file_in_another_crs_on_paper(tmp_path, capsys):
    # The municipality ends at x=5200, so far's square of 500 m lies 40 % inside it: a
    # scan of it alone still reports that square (its squares are drawn around its own
    # dwellings), and so does the national run
    store, gem = _paper_store(tmp_path)
    gem.set_geometry([shapely.box(-1000, -1000, 5200, 4000)]).to_file(tmp_path / "gem.gpkg")
    out = scan_national(store.path, out=tmp_path / "sq", municipalities=tmp_path / "gem.gpkg")
    areas = pyogrio.read_dataframe(out.out / "gpkg" / "Papier.gpkg", layer="areas")
    assert areas["area_id"].tolist() == ["E0000N0010", "E0050N0010"]
    # Postcode areas in WGS84: 1111 wholly inside the municipality holds a, b and c; 2222
    # holds far but lies 37 % inside it (y 1050..9000 against the border at 4000): not an
    # area of the municipality, so far gets no area_id (as in a scan of it alone); 3333
    # lies elsewhere, beyond the bbox filter
    pc = gpd.GeoDataFrame(
        {"postcode": [1111.0, 2222.0, 3333.0]},
        geometry=[
            shapely.box(0, 900, 1000, 1300),
            shapely.box(5000, 1050, 5200, 9000),
            shapely.box(50_000, 50_000, 51_000, 51_000),
        ],
        crs="EPSG:28992",
    )
    pc.to_crs(4326).to_file(tmp_path / "pc.gpkg", engine="pyogrio")
    out = scan_national(
        store.path, out=tmp_path / "out", municipalities=tmp_path / "gem.gpkg",
        areas=tmp_path / "pc.gpkg",
    )  # fmt: skip
    gpkg = out.out / "gpkg" / "Papier.gpkg"
    areas = pyogrio.read_dataframe(gpkg, layer="areas")
    assert areas[["area_id", "n_dwellings", "data_coverage"]].values.tolist() == [["1111", 3, 1.0]]
    assert np.allclose(areas.total_bounds, [0, 900, 1000, 1300], atol=0.01)
    dw = pyogrio.read_dataframe(gpkg, layer="dwellings").set_index("dwelling_id")
    ids = dw["area_id"].fillna("NULL").to_dict()
    assert ids == {"a": "1111", "b": "1111", "c": "1111", "far": "NULL"}
    audit = pyogrio.read_dataframe(gpkg, layer="audit").set_index("item")
    assert audit.loc["areas_insufficient", ["value", "unit"]].tolist() == [0.0, "van 1"]
    assert _metadata(gpkg)["areas_source"] == "pc.gpkg (postcode)"
    # bad input is one line, before anything is written
    _one_line_errors(
        capsys,
        _cli(store, tmp_path / "o2"),
        [
            (["--areas", str(tmp_path / "none.gpkg")], "areas: file "),
            (["--areas", str(tmp_path / "pc.gpkg"), "--area-field", "pc4"], "has no column 'pc4'"),
        ],
    )


def test_a_failed_rerun_keeps_the_earlier_results(tmp_path, monkeypatch):
    from thuisdichtbij.pipeline import national

    store, _ = _paper_store(tmp_path)
    out = tmp_path / "out"
    scan_national(store.path, out=out, municipalities=tmp_path / "gem.gpkg")
    (out / "notes.txt").write_text("the user's own file")
    before = {p: p.read_bytes() for p in out.rglob("*") if p.is_file()}

    def broken(inputs, tile):
        raise OSError("disk full")

    monkeypatch.setattr(national, "scan_tile", broken)
    with pytest.raises(OSError, match="disk full"):
        scan_national(store.path, out=out, municipalities=tmp_path / "gem.gpkg", overwrite=True)
    assert {p: p.read_bytes() for p in out.rglob("*") if p.is_file()} == before
    assert [p.name for p in tmp_path.iterdir() if ".part" in p.name] == []
    # a rerun that works replaces the results and keeps the user's file
    monkeypatch.undo()
    res = scan_national(store.path, out=out, municipalities=tmp_path / "gem.gpkg", overwrite=True)
    assert (out / "notes.txt").read_text() == "the user's own file"
    assert res.municipalities[0]["gpkg"] == str(out / "gpkg" / "Papier.gpkg")
    # the GeoParquet dataset names each dwelling's municipality by its id, not a folder name
    ds = pd.read_parquet(out / "dwellings")
    assert set(ds["municipality_id"]) == {"Papier"} and len(ds) == 4


def test_an_unreachable_scheduler_is_one_line(tmp_path):
    import dask

    from thuisdichtbij.errors import ConfigError

    store, _ = _paper_store(tmp_path)
    # distributed's defaults loaded first: a config.set of a section not yet loaded removes
    # the whole section on exit (dask 2026.8), and a later run of this file finds none
    import distributed  # noqa: F401

    with (
        dask.config.set({"distributed.comm.timeouts.connect": "1s"}),
        pytest.raises(ConfigError, match="cannot reach the Dask scheduler at tcp://127.0.0.1:1"),
    ):
        scan_national(
            store.path, out=tmp_path / "out", municipalities=tmp_path / "gem.gpkg",
            tiling=Tiling(scheduler="tcp://127.0.0.1:1"),
        )  # fmt: skip
    assert not (tmp_path / "out").exists()


def test_cli_names_the_municipalities_with_thin_input(tmp_path, capsys):
    # the paper town has a supermarket and nothing else: its input is missing most kinds
    store, _ = _paper_store(tmp_path)
    args = ["scan-national", "--store", str(store.path), "--municipalities"]
    args += [str(tmp_path / "gem.gpkg"), "--workers", "1", "-q"]
    assert main([*args, "--out", str(tmp_path / "nl")]) == 0
    out = capsys.readouterr().out
    assert "4 woningen in " in out
    assert re.search(r"gemeente\(n\), in \d+,\d s", out)  # a decimal comma in Dutch
    assert "WAARSCHUWING: dunne of ontbrekende invoer in 1 gemeente(n): Papier;" in out
    # the paper town's one straight footway spans no area: the data covers none of it
    assert "WAARSCHUWING: de gegevens (het wegennet van de extract) bedekken 1 gemeente(n) " in out
    assert "maar ten dele: Papier;" in out
    assert main([*args, "--out", str(tmp_path / "en"), "--lang", "en"]) == 0
    out = capsys.readouterr().out
    assert re.search(r"municipalities, in \d+\.\d s", out)
    assert "covers 1 municipalities only in part: Papier;" in out
    assert "WARNING: thin or missing input in 1 municipalities: Papier;" in out


def test_areas_files_are_checked_before_the_tiles(tmp_path, capsys):
    # points instead of polygons, and a file of several layers without --areas-layer: one
    # line each before any tile is scanned (a worker's traceback, hours in, before)
    store, gem = _paper_store(tmp_path)
    pc = gpd.GeoDataFrame(
        {"postcode": ["1111", "3333"]},
        geometry=[shapely.box(0, 900, 1000, 1300), shapely.box(50_000, 50_000, 51_000, 51_000)],
        crs="EPSG:28992",
    )
    pc.set_geometry(pc.centroid).to_file(tmp_path / "points.gpkg", engine="pyogrio")
    gem.to_file(tmp_path / "two.gpkg", layer="gemeenten", engine="pyogrio")
    pc.to_file(tmp_path / "two.gpkg", layer="pc4", engine="pyogrio")
    args = _cli(store, tmp_path / "o")
    _one_line_errors(
        capsys,
        args,
        [
            (["--areas", str(tmp_path / "points.gpkg")], "geometries; give the area polygons"),
            (["--areas", str(tmp_path / "two.gpkg")], "say which one with --areas-layer"),
            (["--areas", str(tmp_path / "two.gpkg"), "--areas-layer", "pc6"], "no layer 'pc6'"),
        ],
    )
    # the layer named: the areas of that layer
    assert main([*args, "--areas", str(tmp_path / "two.gpkg"), "--areas-layer", "pc4"]) == 0
    gpkg = tmp_path / "o" / "gpkg" / "Papier.gpkg"
    assert pyogrio.read_dataframe(gpkg, layer="areas")["area_id"].tolist() == ["1111"]
    # no area polygon in the municipality: an empty areas layer, still a polygon layer for
    # QGIS (GDAL would call an empty layer's geometry "Unknown")
    pc[pc["postcode"] == "3333"].to_file(tmp_path / "far.gpkg", engine="pyogrio")
    out = scan_national(
        store.path, out=tmp_path / "far", municipalities=tmp_path / "gem.gpkg",
        areas=tmp_path / "far.gpkg",
    )  # fmt: skip
    gpkg = out.out / "gpkg" / "Papier.gpkg"
    assert pyogrio.read_info(gpkg, layer="areas")["features"] == 0
    assert pyogrio.read_info(gpkg, layer="areas")["geometry_type"] == "MultiPolygon"


def test_the_console_names_municipalities_without_safety_figures():
    from thuisdichtbij.apps.commands.national import input_gaps

    town = {"audit_missing": "", "audit_thin": "", "audit_safety": "ok"}
    towns = [
        {**town, "id": "Heel"},
        {**town, "id": "Zonder", "audit_safety": "ontbreekt"},
        {**town, "id": "Deels", "audit_safety": "dun"},
        {**town, "id": "Dun", "audit_thin": "gp"},
    ]
    assert input_gaps(towns) == ["Zonder", "Deels", "Dun"]


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="forked workers: Linux only")
def test_an_interrupt_while_the_pool_starts_stays_an_interrupt():
    """A Ctrl-C landing while the pool starts its manager thread (seen under load: the
    thread made, not yet started) ends the run as an interrupt, not as a RuntimeError."""
    import threading

    from thuisdichtbij.sources.tilestore import _forked_workers

    with pytest.raises(KeyboardInterrupt):
        with _forked_workers(1) as pool:
            pool._executor_manager_thread = threading.Thread(target=lambda: None)  # unstarted
            raise KeyboardInterrupt


def _half_a_result():
    """In a forked worker: half a message into the pool's result pipe, then a wait without end
    (as a worker killed while it sends its result leaves the pipe)."""
    import struct

    from thuisdichtbij.sources.tilestore import _FORKED

    os.write(_FORKED["result_pipe"], struct.pack("!i", 100_000) + b"x" * 10)
    time.sleep(600)


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="forked workers: Linux only")
@pytest.mark.timeout(120)
def test_an_error_while_a_worker_sends_its_result_ends_the_pool():
    """The pool's manager thread, reading half a message from a killed worker, waited for the
    rest for ever (the parent held the pipe's writing end): the error must end the run."""
    from thuisdichtbij.sources import tilestore

    started = time.monotonic()
    with pytest.raises(RuntimeError, match="elsewhere"):
        with tilestore._forked_workers(1) as pool:
            tilestore._FORKED["result_pipe"] = pool._result_queue._writer.fileno()
            pool.submit(_half_a_result)
            manager = pool._executor_manager_thread
            time.sleep(2)  # the half message is in the pipe, the manager reading it
            raise RuntimeError("an error elsewhere in the parent")
    # the manager thread has ended (a stuck one would also hold the interpreter's exit)
    assert not manager.is_alive() and time.monotonic() - started < 60
