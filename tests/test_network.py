"""The walking network on hand-built streets: nodes, edges, lengths and the routing graph."""

import dataclasses
import logging

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from shapely import LineString, MultiLineString, Point

from thuisdichtbij.engine.distance import nearest_distance
from thuisdichtbij.engine.network import (
    EDGE_FOOTPATH,
    EDGE_STREET,
    EDGE_UNKNOWN,
    Network,
    build_network,
    edge_kinds,
    profile_audit,
    walkable,
)
from thuisdichtbij.engine.snap import snap_points
from thuisdichtbij.errors import CRSError, InputError

RD = "EPSG:28992"


def frame(*lines, **columns):
    return gpd.GeoDataFrame(columns, geometry=[LineString(c) for c in lines], crs=RD)


def network(*lines, min_component_m=0.0):
    return build_network(frame(*lines), min_component_m=min_component_m, filter_walkable=False)


def walk(net, frm, to):
    d = snap_points(np.array([Point(frm)]), net, max_snap_m=50)
    a = snap_points(np.array([Point(to)]), net, max_snap_m=50)
    return nearest_distance(net, d, a, max_distance_m=2000)[0]


# A detour between (100, 0) and (200, 0) over (150, 120): 2 x 130 = 260 m.
DETOUR = [(100, 0), (150, 120), (200, 0)]


@pytest.mark.parametrize("detour_first", [False, True])
def test_parallel_edges_in_the_middle_of_a_street(detour_first):
    # Four edges: 0-100, 100-200 twice (straight 100 m and the 260 m detour), 200-300.
    pair = [DETOUR, [(100, 0), (200, 0)]] if detour_first else [[(100, 0), (200, 0)], DETOUR]
    net = network([(0, 0), (100, 0)], *pair, [(200, 0), (300, 0)])
    assert net.n_edges == 4 and net.n_nodes == 4
    # Between the nodes at x=100 and x=200 the graph holds the straight 100 m, once.
    i, j = (int(np.flatnonzero(net.node_xy[:, 0] == x)[0]) for x in (100, 200))
    assert net.graph[i, j] == 100.0 and net.graph[j, i] == 100.0
    assert net.graph.nnz == 6  # three node pairs, both directions
    assert walk(net, (300, 0), (0, 0)) == 300.0


def test_two_parallel_pairs_and_a_loop():
    # Parallel pairs at both ends of a street and a closed loop way at its middle node.
    ring = [(100, 0), (100, 50), (150, 50), (100, 0)]
    net = network(
        [(0, 0), (0, 40), (100, 0)],  # 0-100 bent: 40 + sqrt(100^2 + 40^2)
        [(0, 0), (100, 0)],
        ring,
        [(100, 0), (200, 0)],
        [(100, 0), (150, -70), (200, 0)],
    )
    assert net.n_edges == 5 and net.n_nodes == 3
    # A loop (start = end) is an edge to snap to but never a step in the graph.
    assert net.edge_u[2] == net.edge_v[2]
    assert net.graph.nnz == 4
    assert walk(net, (0, 0), (200, 0)) == 200.0


def test_zero_length_ways_are_dropped():
    net = network([(0, 0), (100, 0)], [(50, 0), (50, 0)], [(100, 0), (100, 0), (100, 0)])
    assert net.n_edges == 1 and net.n_nodes == 2
    assert net.edge_length_m.tolist() == [100.0]


def test_short_ways_are_kept_and_nothing_dropped_by_default():
    # A 30 cm step between two streets is a way like any other; without min_component_m
    # even a network shorter than a metre is kept.
    net = build_network(frame([(0, 0), (100, 0)], [(100, 0), (100.3, 0)], [(100.3, 0), (200, 0)]))
    assert net.n_edges == 3 and walk(net, (0, 0), (200, 0)) == 200.0
    tiny = build_network(frame([(0, 0), (0.4, 0)]), filter_walkable=False)
    assert tiny.n_edges == 1 and tiny.edge_length_m[0] == pytest.approx(0.4)


def test_nodes_are_end_points_equal_to_the_centimetre():
    # 4 mm apart is one node; 6 mm apart (rounded to different centimetres) is not.
    net = network([(0, 0), (100, 0)], [(100.004, 0), (200, 0)])
    assert net.n_nodes == 3
    net = network([(0, 0), (100, 0)], [(100.006, 0), (200, 0)])
    assert net.n_nodes == 4
    # Node coordinates are the centimetre grid points.
    assert sorted(net.node_xy[:, 0].tolist()) == pytest.approx([0, 100, 100.01, 200])


@pytest.mark.parametrize(("min_m", "n_edges", "km"), [(100.0, 4, 0.4), (100.01, 2, 0.3)])
def test_fragment_exactly_at_the_minimum_is_kept(min_m, n_edges, km):
    # A main street of 300 m (2 edges) and a fragment of exactly 100 m (60 + 40) off it.
    net = network(
        [(0, 0), (200, 0)],
        [(200, 0), (300, 0)],
        [(0, 500), (60, 500)],
        [(60, 500), (100, 500)],
        min_component_m=min_m,
    )
    assert net.n_edges == n_edges
    assert net.length_km == pytest.approx(km)


def test_fragments_dropped_with_their_counts_logged(caplog):
    caplog.set_level(logging.INFO, logger="thuisdichtbij.engine.network")
    lines = [
        [(0, 0), (1000, 0)],
        [(1000, 0), (1500, 0)],
        [(0, 500), (30, 500)],  # fragment 1: 30 + 40 m
        [(30, 500), (70, 500)],
        [(0, 900), (20, 900)],  # fragment 2: 20 m
        [(500, 600), (600, 600)],  # kept: exactly 100 m
    ]
    net = network(*lines, min_component_m=100)
    assert net.n_edges == 3 and net.n_nodes == 5
    assert net.length_km == pytest.approx(1.6)
    # The kept edges keep their order and geometry; nodes are renumbered 0..n-1.
    assert net.edge_length_m.tolist() == [1000.0, 500.0, 100.0]
    assert sorted({*net.edge_u.tolist(), *net.edge_v.tolist()}) == [0, 1, 2, 3, 4]
    xy = net.node_xy
    for e, line in zip(range(3), [lines[0], lines[1], lines[5]]):
        assert xy[net.edge_u[e]].tolist() == pytest.approx(list(line[0]))
        assert xy[net.edge_v[e]].tolist() == pytest.approx(list(line[1]))
    assert "dropped 2 fragment(s) under 100 m (3 edges, 0.09 km)" in caplog.text
    assert "network: 5 nodes, 3 edges, 1.6 km walkable (0 ways not walkable)" in caplog.text


def test_every_piece_too_short():
    with pytest.raises(InputError, match="shorter than 500 m"):
        network([(0, 0), (100, 0)], [(0, 50), (200, 50)], min_component_m=500)


def test_length_km_and_counts():
    net = network([(0, 0), (1500, 0)], [(1500, 0), (1500, 250)], [(1500, 250), (0, 0)])
    assert net.n_nodes == 3 and net.n_edges == 3
    assert net.length_km == pytest.approx((1500 + 250 + np.hypot(1500, 250)) / 1000)
    assert isinstance(net.length_km, float)


def test_multilinestrings_are_split_and_names_kept():
    gdf = gpd.GeoDataFrame(
        {"name": ["Hoofdstraat", "", None]},
        geometry=[
            MultiLineString([[(0, 0), (100, 0)], [(100, 0), (100, 80)]]),
            LineString([(100, 80), (200, 80)]),
            LineString([(200, 80), (200, 0)]),
        ],
        crs=RD,
    )
    net = build_network(gdf, filter_walkable=False)
    assert net.n_edges == 4
    assert net.edge_length_m.tolist() == [100.0, 80.0, 100.0, 80.0]
    assert net.edge_name.tolist() == ["Hoofdstraat", "Hoofdstraat", None, None]
    edges = net.edges_frame()
    assert edges["length_m"].tolist() == [100.0, 80.0, 100.0, 80.0]
    assert edges["name"].iloc[:2].tolist() == ["Hoofdstraat", "Hoofdstraat"]
    assert edges["name"].iloc[2:].isna().all()
    assert edges.crs == RD
    assert (edges["u"].to_numpy() == net.edge_u).all()


def test_walkable_by_tags():
    tags = pd.DataFrame(
        {
            "highway": [
                "residential",
                "motorway",
                " Trunk_Link ",
                "footway",
                "service",
                "service",
                "path",
                "construction",
                None,
                "cycleway",
            ],
            "foot": [None, "yes", None, "no", None, "permissive", "use_sidepath", None, None, ""],
            "access": [None, None, None, None, "private", "private", None, None, "no", None],
        }
    )
    # A motorway stays out even with foot=yes; access=private only without foot permission.
    expected = [True, False, False, False, False, True, False, False, False, True]
    assert walkable(tags).tolist() == expected
    # Missing tag columns count as not tagged.
    assert walkable(tags[["highway"]]).tolist() == [
        True,
        False,
        False,
        True,
        True,
        True,
        True,
        False,
        True,
        True,
    ]
    assert walkable(pd.DataFrame(index=range(2))).tolist() == [True, True]


def test_walking_profile_and_area_outlines():
    tags = pd.DataFrame(
        {
            "highway": ["footway", "steps", "residential", "path", "footway", "pedestrian"],
            "area": [None, "no", None, None, "yes", " Yes "],
            "surface": ["gravel", None, " Gravel ", "asphalt", None, None],
        }
    )
    # area=yes (any case) is the outline of a square: out; area=no or untagged: in.
    assert walkable(tags).tolist() == [True, True, True, True, False, False]
    rules = {"highway": ("steps",), "surface": ("gravel", "sett"), "kerb": ("raised",)}
    # Gravel (any case) and steps out; untagged surface stays in; no kerb column: no effect.
    assert walkable(tags, exclude=rules).tolist() == [False, False, False, True, False, False]
    assert walkable(tags, exclude={}).tolist() == walkable(tags).tolist()
    # The audit counts over the 4 ways walkable without the profile.
    assert profile_audit(tags, rules) == {
        "ways": 4,
        "dropped": 3,
        "highway": {"dropped": 1, "untagged": 0},
        "surface": {"dropped": 2, "untagged": 1},
        "kerb": "no column",
    }
    gdf = frame(
        [(0, 0), (100, 0)],
        [(100, 0), (160, 0)],
        [(160, 0), (200, 0)],
        highway=["path"] * 3,
        surface=["asphalt", "gravel", None],
    )
    net = build_network(gdf, exclude={"surface": ("gravel",)})
    assert net.edge_length_m.tolist() == [100.0, 40.0]


def test_unwalkable_ways_are_left_out(caplog):
    caplog.set_level(logging.INFO, logger="thuisdichtbij.engine.network")
    gdf = frame(
        [(0, 0), (100, 0)],
        [(100, 0), (200, 0)],
        [(0, 10), (200, 10)],
        highway=["footway", "motorway", "residential"],
    )
    net = build_network(gdf)
    assert net.edge_length_m.tolist() == [100.0, 200.0]
    assert "(1 ways not walkable)" in caplog.text
    assert build_network(gdf, filter_walkable=False).n_edges == 3


def test_bad_networks_raise_the_packages_errors():
    with pytest.raises(CRSError, match="no CRS"):
        build_network(frame([(0, 0), (1, 0)]).set_crs(None, allow_override=True))
    with pytest.raises(CRSError, match="geographic"):
        build_network(frame([(5.6, 50.8), (5.7, 50.8)]).set_crs(4326, allow_override=True))
    points = gpd.GeoDataFrame(geometry=[Point(0, 0)], crs=RD)
    with pytest.raises(InputError, match="expected LineString edges, got Point"):
        build_network(points)
    with pytest.raises(InputError, match="no walkable edges"):
        build_network(frame([(0, 0), (1, 0)], highway=["motorway"]))


def test_arrays_round_trip_with_a_mask():
    gdf = frame(
        [(0, 0), (100, 0)],
        [(100, 0), (100, 70)],
        [(100, 70), (300, 70)],
        name=["Markt", None, "Hoofdstraat"],
    )
    net = build_network(gdf, filter_walkable=False)
    keep = np.array([False, True, True])
    back = Network.from_array_dict(net.to_arrays(keep))
    assert back.n_edges == 2 and back.n_nodes == 3
    assert back.edge_length_m.tolist() == [70.0, 200.0]
    # Nodes renumbered: (100, 0), (100, 70), (300, 70).
    assert back.node_xy.tolist() == [[100, 0], [100, 70], [300, 70]]
    assert back.edge_u.tolist() == [0, 1] and back.edge_v.tolist() == [1, 2]
    assert [g.wkt for g in back.edge_geometry] == [
        "LINESTRING (100 0, 100 70)",
        "LINESTRING (100 70, 300 70)",
    ]
    assert back.graph[0, 1] == 70.0 and back.graph[2, 1] == 200.0
    assert back.crs == net.crs
    assert back.edge_name.tolist() == [None, "Hoofdstraat"]
    whole = Network.from_array_dict(net.to_arrays())
    assert whole.n_edges == 3 and whole.length_km == pytest.approx(0.37)
    with pytest.raises(dataclasses.FrozenInstanceError):
        whole.edge_length_m = back.edge_length_m  # cached and shared: never reassigned


def test_edge_kinds_by_highway_tag():
    tags = pd.DataFrame(
        {"highway": ["footway", " Residential ", None, "", "STEPS", "pedestrian", "track"]}
    )
    # 2 footpath (on foot or bike only), 1 street (pedestrian streets too), 0 untagged
    assert edge_kinds(tags).tolist() == [2, 1, 0, 0, 2, 1, 2]
    assert edge_kinds(tags).dtype == np.int8
    assert (EDGE_UNKNOWN, EDGE_STREET, EDGE_FOOTPATH) == (0, 1, 2)  # stored in caches
    assert edge_kinds(pd.DataFrame({"name": ["a", "b"]})).tolist() == [0, 0]


def test_edge_kinds_follow_their_edges_through_build_subset_and_arrays():
    gdf = frame(
        [(0, 0), (100, 0)],
        [(100, 0), (200, 0)],
        [(200, 0), (300, 0)],
        [(300, 0), (300, 0)],  # zero length: dropped with its kind
        [(300, 0), (400, 0)],
        highway=["motorway", "footway", None, "path", "residential"],
    )
    net = build_network(gdf)
    assert net.edge_length_m.tolist() == [100.0, 100.0, 100.0]
    assert net.edge_kind.tolist() == [2, 0, 1]
    sub = net.subset(np.array([True, False, True]))
    assert sub.edge_kind.tolist() == [2, 1] and sub.n_nodes == 4
    assert sub.node_xy.tolist() == [[100, 0], [200, 0], [300, 0], [400, 0]]
    assert sub.edge_u.tolist() == [0, 2] and sub.edge_v.tolist() == [1, 3]
    assert sub.edge_length_m.tolist() == [100.0, 100.0] and sub.crs == net.crs
    back = Network.from_array_dict(net.to_arrays(np.array([False, True, True])))
    assert back.edge_kind.tolist() == [0, 1] and back.edge_kind.dtype == np.int8
    # Without kinds (an old cache): every edge unknown.
    arrays = net.to_arrays()
    del arrays["edge_kind"]
    assert Network.from_array_dict(arrays).edge_kind.tolist() == [0, 0, 0]


def test_extent_is_the_hull_of_the_nodes_the_edges_use():
    # an L of streets and a diagonal inside it: the hull is the triangle of the L's ends,
    # (0, 0), (400, 0), (0, 300), whatever lies inside; area 400 x 300 / 2 by hand
    net = network([(0, 0), (400, 0)], [(0, 0), (0, 300)], [(100, 50), (50, 100)])
    hull = net.extent()
    assert hull.geom_type == "Polygon"
    assert hull.area == pytest.approx(60_000)
    assert sorted(set(hull.exterior.coords)) == [(0, 0), (0, 300), (400, 0)]
    # one street: its two ends make a line, not a polygon
    line = network([(0, 0), (30, 40)]).extent()
    assert line.geom_type == "LineString" and line.length == pytest.approx(50)
