"""The OSM reader on small PBF files written by the tests."""

import geopandas as gpd
import pytest
import shapely

from thuisdichtbij import load_config, scan
from thuisdichtbij.crs import RD_NEW
from thuisdichtbij.engine.network import walkable
from thuisdichtbij.sources.amenities import read_amenities
from thuisdichtbij.sources.osm import read_osm_dwellings, read_osm_ways

from ._pbf import PBF

WAYS = {
    "residential": {"highway": "residential"},
    "footway": {"highway": "footway"},
    "steps": {"highway": "steps"},
    "pedestrian": {"highway": "pedestrian"},
    "motorway": {"highway": "motorway"},
    "trunk": {"highway": "trunk"},
    "foot_no": {"highway": "residential", "foot": "no"},
    "private": {"highway": "service", "access": "private"},
    "private_foot_yes": {"highway": "service", "access": "private", "foot": "yes"},
    "sidepath": {"highway": "cycleway", "foot": "use_sidepath"},
}


@pytest.fixture()
def town(tmp_path):
    pbf = PBF()
    ways = {}
    # a main street joining them all at shared nodes, so nothing is a fragment
    joints = [pbf.node(0, 20 * i) for i in range(len(WAYS))]
    pbf.way_through(joints, highway="residential", name="Dwarsstraat")
    for i, (name, tags) in enumerate(WAYS.items()):
        ways[name] = pbf.way_through([joints[i], pbf.node(200, 20 * i)], name=name, **tags)
    pbf.node(50, 5, amenity="pharmacy", name="Apotheek")
    pbf.node(60, 5, amenity="social_facility", social_facility="day_care", name="Dagbesteding")
    pbf.node(70, 5, amenity="social_facility", social_facility="nursing_home", name="Verpleeghuis")
    pbf.node(80, 5, public_transport="platform", bus="yes", name="Halte bus")
    pbf.node(90, 5, public_transport="platform", tram="yes", name="Halte tram")
    pbf.way(
        [(100, 5), (120, 5), (120, 15), (100, 15), (100, 5)],
        building="retail",
        shop="supermarket",
        name="Super",
    )
    pbf.node(30, 8, **{"addr:housenumber": "1", "addr:postcode": "2628CD"})
    pbf.way(
        [(140, 5), (150, 5), (150, 15), (140, 15), (140, 5)],
        building="house",
        **{"addr:housenumber": "3"},
    )
    return pbf.write(tmp_path / "town.osm.pbf"), ways


def test_walkable_ways(town):
    path, ways = town
    edges = read_osm_ways(path)
    ok = walkable(edges)
    walk_ids = set(edges.loc[ok, "id"].astype(int))
    expect_in = {"residential", "footway", "steps", "pedestrian", "private_foot_yes"}
    expect_out = {"motorway", "trunk", "foot_no", "private", "sidepath"}
    assert {ways[n] for n in expect_in} <= walk_ids
    assert not {ways[n] for n in expect_out} & walk_ids


def test_amenities_from_nodes_and_building_outlines(town):
    path, _ = town
    amen = read_amenities([{"file": path}], load_config(), crs=RD_NEW).set_index("name")
    assert amen.loc["Apotheek", "indicator"] == "pharmacy"
    assert amen.loc["Dagbesteding", "indicator"] == "community"
    assert "Verpleeghuis" not in amen.index
    assert amen.loc["Halte bus", "indicator"] == "bus_stop"
    assert amen.loc["Halte bus", "kind"] == "public_transport=platform;bus=yes"
    assert "Halte tram" not in amen.index
    # the supermarket is a building outline: it becomes a point inside the building
    sup = amen.loc["Super"]
    assert sup["indicator"] == "supermarket"
    assert sup["source_id"].startswith("way/")
    x, y = shapely.get_coordinates(sup.geometry)[0]
    assert 85100 < x < 85120 and 445005 < y < 445015


def test_dwellings_are_address_points_and_addressed_buildings(town):
    path, _ = town
    dw, how = read_osm_dwellings(path)
    assert "address" in how
    assert len(dw) == 2
    assert set(dw["postcode"].dropna()) == {"2628CD"}
    assert (dw.geometry.geom_type == "Point").all()


def test_residential_buildings_when_there_are_no_addresses(tmp_path):
    pbf = PBF()
    pbf.way([(0, 0), (200, 0)], highway="residential")
    pbf.way([(10, 10), (20, 10), (20, 20), (10, 20), (10, 10)], building="house")
    pbf.way([(30, 10), (40, 10), (40, 20), (30, 20), (30, 10)], building="apartments")
    pbf.way([(50, 10), (60, 10), (60, 20), (50, 20), (50, 10)], building="industrial")
    dw, how = read_osm_dwellings(pbf.write(tmp_path / "noaddr.osm.pbf"))
    assert how == "OSM residential buildings"
    assert len(dw) == 2


def test_scan_from_osm_alone(town, tmp_path):
    path, _ = town
    result = scan(osm=path)
    assert result.metadata["crs"] == "EPSG:28992"
    assert "squares of 500 m" in result.metadata["areas_source"]
    dw = result.dwellings
    assert dw["snapped"].all()
    # the address point at (30, 8) is 8 m from the first street and 20 m from the pharmacy
    first = dw.set_index("dwelling_id").sort_values("snap_m").iloc[0]
    assert first["dist_pharmacy"] == pytest.approx(8 + 20 + 5, abs=0.01)
    assert isinstance(result.areas, gpd.GeoDataFrame)
