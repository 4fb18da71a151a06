"""Distances on hand-built networks, checked on paper."""

import geopandas as gpd
import numpy as np
import pytest
from shapely import LineString, Point

from thuisdichtbij.config import load_config
from thuisdichtbij.engine.distance import indicator_distances, nearest_distance
from thuisdichtbij.engine.network import build_network
from thuisdichtbij.engine.score import band_points
from thuisdichtbij.engine.snap import snap_points

RD = "EPSG:28992"


def network(*lines, min_component_m=0.0):
    gdf = gpd.GeoDataFrame(geometry=[LineString(c) for c in lines], crs=RD)
    return build_network(gdf, min_component_m=min_component_m, filter_walkable=False)


def dist(net, dwellings, amenities, *, max_snap_m=250.0, max_distance_m=500.0):
    d = snap_points(np.array([Point(p) for p in dwellings]), net, max_snap_m=max_snap_m)
    a = snap_points(np.array([Point(p) for p in amenities]), net, max_snap_m=max_snap_m)
    return nearest_distance(net, d, a, max_distance_m=max_distance_m)


# A street of 2 km in 20 edges of 100 m each, along the x axis.
STREET = [[(x, 0), (x + 100, 0)] for x in range(0, 2000, 100)]


@pytest.mark.parametrize(
    ("amenity_x", "expected_m", "points"),
    [
        (350.0, 250.0, 2),
        (350.01, 250.01, 1),
        (600.0, 500.0, 1),
        (600.01, np.inf, 0),
    ],
)
def test_band_edges_along_the_network(amenity_x, expected_m, points):
    net = network(*STREET)
    # The dwelling sits on a node, the amenity in the middle of an edge (through nodes).
    d = dist(net, [(100, 0)], [(amenity_x, 0)])
    assert d[0] == expected_m
    assert band_points(d, load_config())[0] == points


@pytest.mark.parametrize(
    ("amenity_x", "points"), [(350.0, 2), (350.01, 1), (600.0, 1), (600.01, 0)]
)
def test_band_edges_on_one_long_edge(amenity_x, points):
    # One straight edge of 2 km: dwelling and amenity on the same edge, walking along it.
    net = network([(0, 0), (2000, 0)])
    d = dist(net, [(100, 0)], [(amenity_x, 0)])
    expected = round(amenity_x - 100, 3)
    assert d[0] == (expected if expected <= 500 else np.inf)
    assert band_points(d, load_config())[0] == points


def test_snap_step_counts():
    net = network(*STREET)
    # 50 m from the street, then 200 m along it.
    d = dist(net, [(100, 50)], [(300, 0)])
    assert d[0] == 250.0


def test_dwelling_in_the_middle_of_a_long_edge():
    # A 1 km edge with a side street of 200 m going down from its west end.
    net = network([(0, 0), (1000, 0)], [(0, 0), (0, -200)])
    # Snapped to (200, 0): 30 m step, 200 m west along the edge, 100 m down the side street.
    d = dist(net, [(200, 30)], [(0, -100)])
    assert d[0] == pytest.approx(330.0)
    # From the middle (500, 0) the same amenity is 30 + 500 + 100 = 630 m away: beyond reach.
    assert np.isinf(dist(net, [(500, 30)], [(0, -100)])[0])


def test_amenity_on_the_same_edge_is_reached_along_it():
    # A 1 km edge: both points near its middle, far from both ends.
    net = network([(0, 0), (1000, 0)])
    d = dist(net, [(450, 10)], [(560, -20)])
    assert d[0] == pytest.approx(10 + 110 + 20)


def test_nearest_of_several_amenities_and_both_directions():
    net = network(*STREET)
    d = dist(net, [(1000, 0)], [(1700, 0), (1200, 0), (400, 0)])
    assert d[0] == 200.0


def test_unreachable_component():
    # The amenity lies on a street that does not connect to the dwelling's.
    net = network(*STREET, [(0, 100), (300, 100)])
    d = dist(net, [(100, 0)], [(150, 100)])
    assert np.isinf(d[0])
    assert band_points(d, load_config())[0] == 0


def test_dwelling_beyond_the_snap_limit_is_not_scored():
    net = network(*STREET)
    dw = np.array([Point(500, 300), Point(500, 249.9)])
    snapped = snap_points(dw, net, max_snap_m=250)
    assert snapped.ok.tolist() == [False, True]
    a = snap_points(np.array([Point(500, 0)]), net, max_snap_m=250)
    d = nearest_distance(net, snapped, a, max_distance_m=500)
    assert np.isnan(d[0])
    assert d[1] == pytest.approx(249.9)
    assert np.isnan(band_points(d, load_config())[0])


def test_no_amenities_at_all():
    net = network(*STREET)
    d = dist(net, [(100, 0)], [])
    assert np.isinf(d[0])


def test_parallel_edges_take_the_shorter():
    # Two ways between the same nodes: a straight one (100 m) and a detour (about 241 m).
    net = network([(0, 0), (100, 0)], [(0, 0), (50, 120), (100, 0)], [(100, 0), (300, 0)])
    d = dist(net, [(300, 0)], [(0, 0)])
    assert d[0] == 300.0


def test_small_fragments_are_dropped_before_snapping():
    # A 50 m fragment next to the dwelling is dropped; the dwelling snaps to the main street.
    net = network(*STREET, [(500, 40), (550, 40)], min_component_m=100)
    d = dist(net, [(520, 30)], [(520, 0)])
    assert d[0] == 30.0


def test_several_amenities_on_the_dwellings_own_edge():
    # One 1 km edge between two 100 m stubs; three amenities on it, listed far to near.
    net = network([(-100, 0), (0, 0)], [(0, 0), (1000, 0)], [(1000, 0), (1100, 0)])
    d = dist(net, [(500, 5), (980, 0), (-100, 0)], [(100, 0), (850, 3), (700, -4)])
    # (500, 5): 5 + 200 + 4 to the amenity at 700 (the nearest of three on its edge).
    # (980, 0): 130 + 3 to the one at 850. (-100, 0): 100 along the stub, 100 on the edge.
    assert d.tolist() == [209.0, 133.0, 200.0]


def test_two_dwellings_two_edges_each_with_amenities():
    # Amenities on two edges, dwellings on both; order of listing mixed on purpose.
    net = network([(0, 0), (1000, 0)], [(1000, 0), (2000, 0)])
    d = dist(
        net,
        [(1900, 0), (100, 0), (1500, 0)],
        [(1200, 0), (900, 0), (300, 0), (1950, 0)],
        max_distance_m=1000,
    )
    assert d.tolist() == [50.0, 200.0, 300.0]


def test_unsnapped_amenity_next_to_snapped_ones():
    # The first and last amenities are beyond the snap limit and must count for nothing,
    # also for a dwelling on the network's last edge.
    net = network(*STREET)
    d = dist(net, [(1950, 0), (1000, 10)], [(1990, 600), (1500, 0), (1050, 900)])
    # (1000, 10): 10 + 500 m to the amenity at x=1500, just beyond the 500 m limit.
    assert d.tolist() == [450.0, np.inf]
    d = dist(net, [(1950, 0)], [(1990, 600), (1800, 0)], max_distance_m=500)
    assert d.tolist() == [150.0]


def test_two_amenities_enter_a_node_by_the_shorter_way():
    # Amenities at x=10 and x=90 on the edge 0-100: node 100 is 10 m from the nearer one.
    net = network(*STREET)
    d = dist(net, [(500, 0)], [(10, 0), (90, 0)])
    assert d[0] == 410.0


def test_amenity_exactly_on_a_node():
    net = network(*STREET)
    # On the node at x=300 (the end of edge 2, the start of edge 3): 0 m to enter it.
    assert dist(net, [(50, 0), (800, 0)], [(300, 0)]).tolist() == [250.0, 500.0]
    # Dwelling and amenity on the same node.
    assert dist(net, [(300, 0)], [(300, 0)]).tolist() == [0.0]


def test_indicator_distances_one_search_per_kind():
    net = network(*STREET)
    dw = snap_points(np.array([Point(1000, 0), Point(100, 20)]), net, max_snap_m=250)
    am = snap_points(
        np.array([Point(1100, 0), Point(0, 0), Point(700, 0), Point(5000, 0)]),
        net,
        max_snap_m=250,
    )
    kinds = np.array(["gp", "gp", "pharmacy", "pharmacy"])
    got = indicator_distances(net, dw, am, kinds, ("gp", "pharmacy", "physio"), max_distance_m=500)
    assert list(got) == ["gp", "pharmacy", "physio"]
    assert got["gp"].tolist() == [100.0, 120.0]
    assert got["pharmacy"].tolist() == [300.0, np.inf]
    assert got["physio"].tolist() == [np.inf, np.inf]


def test_distances_are_rounded_to_the_millimetre_before_the_band_edge():
    # 250.0004 m is 250.000 m: inside the 250 m band; 250.0006 m is 250.001 m: outside.
    net = network(*STREET)
    d = dist(net, [(100, 0), (100, 0)], [(350.0004, 0)])
    assert d.tolist() == [250.0, 250.0]
    assert band_points(d, load_config()).tolist() == [2, 2]
    d = dist(net, [(100, 0)], [(350.0006, 0)])
    assert d.tolist() == [250.001]
    assert band_points(d, load_config()).tolist() == [1]


def test_same_edge_walk_with_an_unsnapped_amenity_in_the_set():
    # One 1 km edge: the amenity 200 m along it is reached directly; via either end it
    # would be 1 km. The second amenity is beyond the snap limit.
    net = network([(0, 0), (1000, 0)])
    d = dist(net, [(400, 0)], [(600, 0), (500, 900)])
    assert d.tolist() == [200.0]


def test_one_kind_never_walks_through_another():
    # GPs at both ends of a 2 km street, a pharmacy at its west end. From x=1950 the
    # pharmacy is 1.9 km away, even though a GP sits near each of them.
    net = network(*STREET)
    dw = snap_points(np.array([Point(1950, 0)]), net, max_snap_m=250)
    am = snap_points(np.array([Point(100, 0), Point(1900, 0), Point(50, 0)]), net, max_snap_m=250)
    got = indicator_distances(
        net, dw, am, np.array(["gp", "gp", "pharmacy"]), ("gp", "pharmacy"), max_distance_m=500
    )
    assert got["gp"].tolist() == [50.0]
    assert got["pharmacy"].tolist() == [np.inf]


def test_edges_holding_different_numbers_of_amenities():
    # Two separate 1 km streets: one amenity on the first (x=950), two on the second
    # (x=100 and x=900). Each dwelling walks along its own edge to its own amenities only.
    net = network([(0, 0), (1000, 0)], [(0, 100), (1000, 100)])
    d = dist(net, [(500, 0), (850, 100)], [(950, 0), (100, 100), (900, 100)], max_distance_m=1000)
    assert d.tolist() == [450.0, 50.0]
