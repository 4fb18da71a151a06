"""Water and large green for the maps: read from an OSM extract, kept, written, drawn."""

import gc
import os
import re
import shutil

import geopandas as gpd
import pyogrio
import pytest
import shapely

from thuisdichtbij import load_config, scan
from thuisdichtbij.errors import ConfigError
from thuisdichtbij.pipeline.inputs import large_context
from thuisdichtbij.sources.osm import read_osm

from ._pbf import ORIGIN, PBF
from ._pictures import assert_png_fills

ARTIFACTS = os.path.join(os.path.dirname(__file__), "artifacts")
X0, Y0 = ORIGIN
LAKE = (500, 200, 1100, 800)  # 600 m x 600 m = 36 ha of water
POND = (1300, 100, 1350, 150)  # 50 m x 50 m = 0.25 ha: below 0.5 ha, left out
PARK_OUT, PARK_IN = (100, 600, 400, 900), (200, 700, 300, 800)  # 9 ha less 1 ha = 8 ha
WATER, GREEN_UNDER = "#A6CEE3", "#C7E9C0"
CLASS_COLOURS = {1: "#D7191C", 2: "#FDAE61", 3: "#FFFFBF", 4: "#A6D96A", 5: "#1A9641"}
GREYS = {"insufficient": "#969696", "suppressed": "#D9D9D9"}


def ring(x0, y0, x1, y1):
    return [(x0, y0), (x1, y0), (x1, y1), (x0, y1), (x0, y0)]


def rd_box(x0, y0, x1, y1):
    return shapely.box(X0 + x0, Y0 + y0, X0 + x1, Y0 + y1)


def _in_lake(x, y):
    return LAKE[0] <= x <= LAKE[2] and LAKE[1] <= y <= LAKE[3]


@pytest.fixture(scope="module")
def lake_town(tmp_path_factory):
    """A street grid of 1.5 x 1 km (100 m blocks, none across the lake), a dwelling in each
    block, a few amenities; a lake, a pond and a park with a hole in it (a relation).

    Streets lie 25 m off the hundreds, so that the PNG check's points (on the hundreds)
    fall between them.
    """
    pbf = PBF()
    grid = {(i, j): pbf.node(100 * i + 25, 100 * j + 25) for i in range(16) for j in range(11)}
    for (i, j), n in grid.items():
        for di, dj in ((1, 0), (0, 1)):
            m = grid.get((i + di, j + dj))
            mid = (100 * i + 25 + 50 * di, 100 * j + 25 + 50 * dj)
            if m is not None and not _in_lake(*mid):
                pbf.way_through([n, m], highway="residential")
    for i in range(15):
        for j in range(10):
            if not _in_lake(100 * i + 75, 100 * j + 75):
                pbf.node(100 * i + 75, 100 * j + 65, **{"addr:housenumber": f"{i}-{j}"})
    pbf.node(150, 110, amenity="pharmacy", name="Apotheek")
    pbf.node(250, 110, shop="supermarket", name="Super")
    pbf.node(1250, 910, highway="bus_stop", name="Halte")
    pbf.way(ring(*LAKE), natural="water", name="Meer")
    pbf.way(ring(*POND), natural="water", name="Vijver")
    pbf.multipolygon([ring(*PARK_OUT)], [ring(*PARK_IN)], leisure="park", name="Park")
    pbf.way(ring(1200, 600, 1400, 800), landuse="residential")  # neither water nor green
    return pbf.write(tmp_path_factory.mktemp("lake") / "lake.osm.pbf")


def test_the_reader_finds_water_and_green_in_the_same_pass(lake_town):
    ext = read_osm(lake_town, ways=True, dwellings=True, context=True)
    assert len(ext.ways) and len(ext.dwellings)  # the other layers of the one pass
    ctx = ext.context.to_crs(28992).set_index("name")
    assert sorted(ctx.index) == ["Meer", "Park", "Vijver"]
    assert list(ctx.loc[["Meer", "Vijver", "Park"], "kind"]) == ["water", "water", "green"]
    assert ctx.loc["Park", "source_id"].startswith("relation/")
    assert ctx.loc["Meer", "source_id"].startswith("way/")
    # areas on paper: 600 x 600 m, 50 x 50 m, 300 x 300 m less the 100 x 100 m hole
    assert ctx.loc["Meer"].geometry.area == pytest.approx(360_000, rel=1e-4)
    assert ctx.loc["Vijver"].geometry.area == pytest.approx(2_500, rel=1e-3)
    assert ctx.loc["Park"].geometry.area == pytest.approx(80_000, rel=1e-4)
    assert not ctx.loc["Park"].geometry.contains(shapely.Point(X0 + 250, Y0 + 750))
    assert read_osm(lake_town, dwellings=False).context is None  # only when asked


def test_water_and_green_bring_no_object_to_python(lake_town, monkeypatch):
    # their areas come from libosmium's assembly; the ways and nodes that carry only their
    # keys (the lake, the pond, trees) are not handed to the reader's Python loop
    from thuisdichtbij.sources import osm
    from thuisdichtbij.sources.pbf_blocks import pbf_runs

    seen = []
    for kind in ("node", "way"):
        real = getattr(osm._Collector, kind)

        def spy(self, obj, real=real, kind=kind):
            seen.append((kind, dict(obj.tags), gc.isenabled()))
            return real(self, obj)

        monkeypatch.setattr(osm._Collector, kind, spy)
    ext = read_osm(lake_town, ways=True, dwellings=True, context=True)
    assert sorted(ext.context["name"]) == ["Meer", "Park", "Vijver"]
    assert seen and not [t for _, t, _ in seen if {"natural", "leisure", "landuse"} & set(t)]
    keys = {k for _, t, _ in seen for k in t}
    assert keys <= {"highway", "addr:housenumber", "amenity", "shop", "name"}
    # the garbage collector rests while the objects come (a tuple of tags each), and only then
    assert not any(on for *_, on in seen) and gc.isenabled()
    # so it does in the national conversion's reader of a run of blocks
    seen.clear()
    header, runs = pbf_runs(lake_town, 1)
    osm.read_run(
        lake_town,
        header,
        runs[0],
        osm.node_locations(lake_town),
        feature_keys=("amenity", "shop", "highway"),
        feature_prefilter=None,
        on_ways=lambda ways: None,
    )
    assert seen and not any(on for *_, on in seen) and gc.isenabled()


def test_small_areas_are_left_out_and_the_rest_cut_to_the_extent(lake_town):
    ctx = read_osm(lake_town, ways=False, dwellings=False, context=True).context.to_crs(28992)
    limits = {"water": 5_000.0, "green": 10_000.0}
    kept = large_context(ctx, clip=rd_box(-500, -500, 2000, 1500), min_m2=limits, simplify_m=2)
    assert list(kept["name"]) == ["Park", "Meer"]  # green first: water is drawn over it
    assert list(kept.area.round(-2)) == [80_000, 360_000]
    # measured after the cut: half the lake is 18 ha (kept), a 0.3 ha strip of it is not
    half = large_context(ctx, clip=rd_box(-500, -500, 800, 1500), min_m2=limits, simplify_m=2)
    assert half.set_index("name").loc["Meer"].geometry.area == pytest.approx(180_000, rel=1e-4)
    strip = large_context(ctx, clip=rd_box(1095, -500, 2000, 1500), min_m2=limits, simplify_m=2)
    assert strip.empty


def test_the_limits_are_configured_and_checked(tmp_path):
    cfg = load_config()
    assert (cfg.context.water_min_ha, cfg.context.green_min_ha) == (0.5, 1.0)
    bad = tmp_path / "w.yaml"
    bad.write_text("context: {water_min_ha: -1}\n")
    with pytest.raises(ConfigError, match="'context.water_min_ha' must be at least 0"):
        load_config(bad)
    bad.write_text("context: {lake_min_ha: 1}\n")
    with pytest.raises(ConfigError, match="unknown key 'context.lake_min_ha'"):
        load_config(bad)
    ok = tmp_path / "ok.yaml"
    ok.write_text("context: {green_min_ha: 10}\n")
    assert load_config(ok).context.green_min_ha == 10


@pytest.fixture(scope="module")
def lake_scan(lake_town, tmp_path_factory):
    folder = tmp_path_factory.mktemp("lake_scan")
    return scan(osm=lake_town, cache=False).to_gpkg(folder / "lake.gpkg"), folder


def test_a_scan_writes_the_context_as_a_styled_layer(lake_scan):
    out, _ = lake_scan
    ctx = pyogrio.read_dataframe(out, layer="context")
    assert list(ctx.columns) == ["kind", "name", "source_id", "geometry"]
    assert list(ctx["name"]) == ["Park", "Meer"]  # the pond is below 0.5 ha
    assert list(ctx.area.round(-2)) == [80_000, 360_000]
    info = pyogrio.read_info(out, layer="context")
    assert info["ogr_types"] == ["OFTString"] * 3 and info["geometry_type"] == "MultiPolygon"
    styles = pyogrio.read_dataframe(out, layer="layer_styles")
    qml = styles.set_index("f_table_name").loc["context", "styleQML"]
    assert 'attr="kind"' in qml and "166,206,227,255" in qml and "199,233,192,255" in qml
    meta = pyogrio.read_dataframe(out, layer="run_metadata").set_index("key")["value"]
    assert meta["context"].startswith("1 water and 1 green areas from lake.osm.pbf")


@pytest.mark.slow
def test_the_maps_draw_the_water(lake_scan):
    from thuisdichtbij.outputs.static_map import scan_static
    from thuisdichtbij.outputs.web_map import scan_html

    out, folder = lake_scan
    png = scan_static(out, folder / "lake.png")
    areas = pyogrio.read_dataframe(out, layer="areas")
    lake, park = rd_box(*LAKE), rd_box(*PARK_OUT)
    fills = [
        CLASS_COLOURS[int(c)] if c == c else GREYS["insufficient"] for c in areas["score_class"]
    ]
    shapes = gpd.GeoDataFrame(
        geometry=[*areas.geometry.difference(lake).difference(park), lake], crs=areas.crs
    )
    palette = [*CLASS_COLOURS.values(), *GREYS.values(), WATER]
    assert assert_png_fills(png, shapes, [*fills, WATER], palette) >= 1
    # the lake is judged (9 points 100 m apart inside it), and it is water, not a class
    with pytest.raises(AssertionError, match="#A6CEE3"):
        assert_png_fills(png, shapes, [*fills, CLASS_COLOURS[3]], palette)
    os.makedirs(ARTIFACTS, exist_ok=True)
    shutil.copy(png, os.path.join(ARTIFACTS, "context-static.png"))
    # the web map: a switchable layer of its own, in a pane under the classes (400)
    html = scan_html(out, folder / "lake.html").read_text()
    pane = re.search(r'createPane\(\s*"context"\);\s*\w+\.style\.zIndex = (\d+)', html)
    assert pane and int(pane.group(1)) < 350  # under the network (350) and the classes (400)
    assert '"name": "Meer"' not in html  # only the kind goes to the page
    assert html.count('"kind": "water"') == 1 and html.count('"kind": "green"') == 1
    assert "Water / groen" in html


def test_inputs_without_an_extract_have_no_context():
    from thuisdichtbij.pipeline.inputs import study_context

    meta = {}
    assert study_context(None, load_config(), None, None, meta) is None and meta == {}
    ctx = gpd.GeoDataFrame({"kind": [], "name": [], "source_id": []}, geometry=[], crs=28992)
    kept = large_context(ctx, clip=rd_box(0, 0, 1, 1), min_m2={"water": 1.0}, simplify_m=1)
    assert kept.empty


def test_the_schie_and_the_mekelpark_in_the_delft_extract(data_dir):
    """Real data: the Schie (a canal some 40 m wide running NNW past the TU campus) and the
    Mekelpark (the campus park, about 5 ha) are kept; the small ponds are not."""
    pbf = data_dir / "osm" / "delft-tudelft.osm.pbf"
    raw = read_osm(pbf, ways=False, dwellings=False, context=True).context.to_crs(28992)
    cfg = load_config().context
    limits = {"water": cfg.water_min_ha * 1e4, "green": cfg.green_min_ha * 1e4}
    kept = large_context(raw, clip=shapely.box(*raw.total_bounds), min_m2=limits, simplify_m=2)
    assert len(raw) > 3 * len(kept) > 0  # most mapped water and green is small
    assert (kept.area >= kept["kind"].map(limits)).all()
    water = kept[kept["kind"] == "water"].to_crs(4326)
    schie = water[water.contains(shapely.Point(4.3649, 52.0000))]
    assert len(schie) == 1
    x0, y0, x1, y1 = schie.total_bounds
    assert y1 - y0 > 0.008 and x1 - x0 < 0.01  # about 1 km north-south, through the extract
    park = kept.set_index("name").loc["Mekelpark"]
    assert park["kind"] == "green" and 40_000 < park.geometry.area < 70_000


@pytest.mark.slow
def test_the_context_opens_styled_in_qgis(lake_scan):
    import json
    import subprocess

    from .test_qgis import SCRIPT, SYSTEM_PYTHON, _has_qgis

    if not _has_qgis():
        pytest.skip("QGIS (python3-qgis) is not installed")
    out, _ = lake_scan
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen"}
    env.pop("PYTHONPATH", None)
    run = subprocess.run(
        [SYSTEM_PYTHON, "-c", SCRIPT, str(out), "context"],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )
    assert run.returncode == 0, run.stderr
    layer = json.loads(run.stdout.strip().splitlines()[-1])["context"]
    assert layer["valid"] and layer["count"] == 2
    assert layer["renderer"] == "categorizedSymbol" and layer["categories"] == ["Water", "Groen"]
    assert layer["fields"] == {
        "fid": "Integer64",
        "kind": "String",
        "name": "String",
        "source_id": "String",
    }
