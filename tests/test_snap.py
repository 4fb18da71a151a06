"""Snapping: the nearest edge, the tie rule, and agreement with a brute-force reference."""

import dataclasses
import logging

import geopandas as gpd
import numpy as np
import pytest
import shapely
from shapely import LineString, Point

from thuisdichtbij.crs import RD_NEW
from thuisdichtbij.engine import snap as snap_module
from thuisdichtbij.engine.distance import nearest_distance
from thuisdichtbij.engine.network import build_network
from thuisdichtbij.engine.rows import unique_rows
from thuisdichtbij.engine.snap import Snapped, snap_points


def _net(lines):
    edges = gpd.GeoDataFrame(geometry=[LineString(c) for c in lines], crs=RD_NEW)
    return build_network(edges, filter_walkable=False)


def _brute_force(points, net, max_snap_m):
    """Distance to every edge, the lowest index among the nearest; no index, no KD-tree."""
    d = shapely.distance(points[:, None], net.edge_geometry[None, :])
    best = d.min(axis=1)
    edge = np.array([np.flatnonzero(row == b)[0] for row, b in zip(d, best)])
    edge = np.where(best <= max_snap_m, edge, -1)
    return edge, np.where(edge >= 0, best, np.nan)


def test_tie_between_two_parallel_edges_goes_to_the_edge_listed_first():
    # two streets 10 m either side of the point, listed in both orders
    for lines, first in [
        ([[(0, 10), (100, 10)], [(0, -10), (100, -10)]], 0),
        ([[(0, -10), (100, -10)], [(0, 10), (100, 10)]], 0),
    ]:
        net = _net(lines)
        s = snap_points(np.array([Point(50, 0)]), net, max_snap_m=250)
        assert s.edge[0] == first
        assert s.snap_m[0] == pytest.approx(10.0)
        assert s.along_m[0] == pytest.approx(50.0)


def test_tie_at_a_shared_node_goes_to_the_edge_listed_first():
    # three edges meet at (0, 0); the point lies 5 m beyond the node, equally near to all
    # three: edge 0 runs west, edges 1 and 2 north and south
    net = _net([[(-100, 0), (0, 0)], [(0, 0), (0, 100)], [(0, -100), (0, 0)]])
    s = snap_points(np.array([Point(5, 0)]), net, max_snap_m=250)
    assert s.edge[0] == 0
    assert s.snap_m[0] == pytest.approx(5.0)
    assert s.along_m[0] == pytest.approx(100.0)  # at the end of edge 0


def test_identical_points_snap_alike_and_far_points_are_flagged():
    net = _net([[(0, 0), (100, 0)]])
    pts = np.array([Point(30, 4), Point(30, 4), Point(30, 400), Point(30, 4)])
    s = snap_points(pts, net, max_snap_m=250)
    assert list(s.edge) == [0, 0, -1, 0]
    assert s.snap_m[[0, 1, 3]] == pytest.approx([4.0, 4.0, 4.0])
    assert s.along_m[[0, 1, 3]] == pytest.approx([30.0, 30.0, 30.0])
    assert np.isnan(s.snap_m[2]) and np.isnan(s.along_m[2])


def test_points_sharing_one_coordinate_are_not_merged():
    # same y, different x (and the reverse): distinct points, each its own position
    net = _net([[(0, 0), (100, 0)]])
    pts = np.array([Point(60, 4), Point(10, 4), Point(10, 7), Point(60, 4)])
    s = snap_points(pts, net, max_snap_m=250)
    assert s.along_m == pytest.approx([60.0, 10.0, 10.0, 60.0])
    assert s.snap_m == pytest.approx([4.0, 4.0, 7.0, 4.0])


def test_unique_rows_as_numpy_finds_them():
    # few distinct values, so rows repeat and share x or y; numpy's row-wise unique is the
    # independent reference
    xy = np.random.default_rng(3).integers(0, 4, size=(200, 2)).astype(float)
    rows, inverse = unique_rows(xy)
    ref_rows, ref_inverse = np.unique(xy, axis=0, return_inverse=True)
    np.testing.assert_array_equal(rows, ref_rows)
    np.testing.assert_array_equal(inverse, ref_inverse.ravel())


def test_along_a_bent_edge_counts_the_earlier_segments():
    net = _net([[(0, 0), (100, 0), (100, 100)]])
    s = snap_points(np.array([Point(103, 40)]), net, max_snap_m=250)
    assert s.snap_m[0] == pytest.approx(3.0)
    assert s.along_m[0] == pytest.approx(140.0)


@pytest.mark.parametrize("threads", ["1", "2"])
@pytest.mark.parametrize("candidates", [(8, 32), (1,), (2, 3)])
def test_agrees_with_brute_force_on_a_dense_grid(monkeypatch, candidates, threads):
    # few candidates force the exact STRtree path for many points: same answers, on one
    # thread as on two (the nearest-piece query splits the points over the threads)
    monkeypatch.setattr(snap_module, "CANDIDATES", candidates)
    monkeypatch.setenv("THUISDICHTBIJ_THREADS", threads)
    rng = np.random.default_rng(7)
    lines = [[(x, 0), (x, 300)] for x in range(0, 301, 30)]
    lines += [[(0, y), (300, y)] for y in range(0, 301, 30)]
    lines += [[(15, 15), (285, 280)], [(40, 7), (41, 9)], [(200, 3), (200.5, 3.5), (260, 40)]]
    net = _net(lines)
    xy = np.vstack(
        [
            rng.uniform(-300, 600, (400, 2)),
            np.round(rng.uniform(0, 300, (200, 2)) / 15) * 15,  # on nodes, mid-blocks: ties
        ]
    )
    pts = shapely.points(xy)
    edge, dist = _brute_force(pts, net, 120.0)
    s = snap_points(pts, net, max_snap_m=120.0)
    assert np.array_equal(s.edge, edge)
    ok = edge >= 0
    assert np.allclose(s.snap_m[ok], dist[ok], atol=1e-9)
    along = shapely.line_locate_point(net.edge_geometry[edge[ok]], pts[ok])
    assert np.allclose(s.along_m[ok], along, atol=1e-9)


RD = "EPSG:28992"


def network(*lines):
    gdf = gpd.GeoDataFrame(geometry=[LineString(c) for c in lines], crs=RD)
    return build_network(gdf, filter_walkable=False)


def points(*xy):
    return np.array([Point(p) for p in xy], dtype=object)


# Two parallel streets 100 m apart, joined only 1 km away at their east ends:
# edge 0 along y=0, edge 1 along y=100, edge 2 the connector x=1000.
SOUTH, NORTH, EAST = [(0, 0), (1000, 0)], [(0, 100), (1000, 100)], [(1000, 0), (1000, 100)]


@pytest.mark.parametrize(
    ("lines", "tie_edge"),
    [([SOUTH, NORTH, EAST], 0), ([NORTH, SOUTH, EAST], 0), ([EAST, NORTH, SOUTH], 1)],
)
def test_ties_go_to_the_edge_listed_first(lines, tie_edge):
    net = network(*lines)
    north = [i for i, line in enumerate(lines) if line is NORTH][0]
    south = [i for i, line in enumerate(lines) if line is SOUTH][0]
    # Three points exactly between the streets, one nearer each street, one near the end.
    pts = points((50, 50), (400, 50), (700, 50), (300, 20), (300, 70), (990, 50))
    s = snap_points(pts, net, max_snap_m=250)
    first = tie_edge  # the street (north or south) listed first
    east = [i for i, line in enumerate(lines) if line is EAST][0]
    assert s.edge.tolist() == [first, first, first, south, north, east]
    assert s.snap_m.tolist() == pytest.approx([50, 50, 50, 20, 30, 10])
    # along_m runs from each edge's first coordinate.
    assert s.along_m.tolist() == pytest.approx([50, 400, 700, 300, 300, 50])


def test_a_tie_decides_the_walk():
    # The dwelling sits exactly between both streets; the amenity 10 m off the south one.
    # South street listed first: 50 m to it, 10 m to the amenity.
    net = network(SOUTH, NORTH, EAST)
    d = snap_points(points((100, 50)), net, max_snap_m=250)
    a = snap_points(points((100, -10)), net, max_snap_m=250)
    assert nearest_distance(net, d, a, max_distance_m=3000)[0] == 60.0
    net = network(NORTH, SOUTH, EAST)
    d = snap_points(points((100, 50)), net, max_snap_m=250)
    a = snap_points(points((100, -10)), net, max_snap_m=250)
    # Now the north street is first: 50 + 900 east + 100 down + 900 back west + 10.
    assert nearest_distance(net, d, a, max_distance_m=3000)[0] == 1960.0


def test_nearest_edge_not_nearest_node_and_reversed_geometry():
    # Edge 0 drawn east to west: along_m counts from its start at x=500.
    net = network([(500, 0), (0, 0)], [(0, 0), (0, 300)])
    s = snap_points(points((120, 30), (-20, 250)), net, max_snap_m=100)
    assert s.edge.tolist() == [0, 1]
    assert s.snap_m.tolist() == pytest.approx([30, 20])
    assert s.along_m.tolist() == pytest.approx([380, 250])
    # Walks to either end, the perpendicular step included.
    assert s.to_u_m().tolist() == pytest.approx([410, 270])
    assert s.to_v_m(net).tolist() == pytest.approx([150, 70])


def test_the_limit_and_unsnapped_points(caplog):
    caplog.set_level(logging.INFO, logger="thuisdichtbij.engine.snap")
    net = network([(0, 0), (1000, 0)])
    s = snap_points(points((10, 100), (20, 100.5), (30, -99.5), (40, 300)), net, max_snap_m=100)
    assert s.edge.tolist() == [0, -1, 0, -1]
    assert s.ok.tolist() == [True, False, True, False]
    assert s.snap_m[[0, 2]].tolist() == pytest.approx([100, 99.5])
    assert np.isnan(s.snap_m[[1, 3]]).all() and np.isnan(s.along_m[[1, 3]]).all()
    assert np.isnan(s.to_v_m(net)[[1, 3]]).all()
    assert "snapping: 2 of 4 point(s) farther than 100 m from any street" in caplog.text


def test_everything_snapped_logs_nothing(caplog):
    caplog.set_level(logging.INFO, logger="thuisdichtbij.engine.snap")
    net = network([(0, 0), (1000, 0)])
    snap_points(points((10, 5)), net, max_snap_m=100)
    assert "snapping" not in caplog.text


def test_no_points_at_all():
    net = network([(0, 0), (1000, 0)])
    s = snap_points(np.array([], dtype=object), net, max_snap_m=100)
    assert len(s.edge) == 0 and s.edge.dtype == np.int64
    s = snap_points(points((0, 500)), net, max_snap_m=100)
    assert s.edge.tolist() == [-1]


def test_subset_keeps_the_selected_points():
    s = Snapped(np.array([3, -1, 0]), np.array([1.0, np.nan, 2.0]), np.array([5.0, np.nan, 6.0]))
    sub = s.subset(np.array([True, False, True]))
    assert sub.edge.tolist() == [3, 0]
    assert sub.snap_m.tolist() == [1.0, 2.0] and sub.along_m.tolist() == [5.0, 6.0]
    with pytest.raises(dataclasses.FrozenInstanceError):
        s.edge = sub.edge  # shared between stages: never reassigned


def test_ties_among_many_streets_listed_in_reverse():
    # 30 parallel streets y = 0, 100, ..., 2900, listed from north to south: street k is
    # edge 29 - k. The spatial index then visits tied edges in no fixed order; a point
    # midway between streets k and k + 1 must still go to the one listed first (k + 1).
    net = network(*[[(0, 100 * k), (1000, 100 * k)] for k in range(29, -1, -1)])
    xy = [(x, 100 * k + 50) for k in range(29) for x in (10, 500, 990)]
    s = snap_points(points(*xy), net, max_snap_m=250)
    assert s.edge.tolist() == [28 - k for k in range(29) for _ in range(3)]
    assert s.snap_m.tolist() == pytest.approx([50.0] * len(xy))


@pytest.mark.parametrize("forward", [True, False])
def test_tie_at_a_segment_end_is_exact(forward):
    # P = (-3, 3) lies on the perpendicular through the node (0, 0) of edge 0, which runs to
    # (30, 30) (or from there, reversed): the nearest point is its end at (0, 0), r = 0 (or 1)
    # exactly, distance sqrt(18). Edge 1 runs from (0, 0) south, P behind its start: sqrt(18)
    # too, computed the same way. An exact tie, so edge 0, the first listed. The
    # perpendicular formula would give 0.1 * sqrt(1800), one unit in the last place more.
    first = [(0, 0), (30, 30)] if forward else [(30, 30), (0, 0)]
    net = network(first, [(0, 0), (0, -30)])
    s = snap_points(points((-3, 3)), net, max_snap_m=100)
    assert s.edge.tolist() == [0]
    assert s.snap_m[0] == np.sqrt(18.0)
    assert s.along_m[0] == pytest.approx(0.0 if forward else np.sqrt(1800.0))


def test_short_segments_and_a_repeated_vertex():
    # Edge 0 has a repeated vertex (a zero-length segment) at (50, 0); edge 1 is one straight
    # metre, edge 2 half a metre, both far from the others.
    net = network(
        [(0, 0), (50, 0), (50, 0), (100, 0)],
        [(500, 0), (501, 0)],
        [(800, 100), (800, 100.5)],
    )
    pts = points((50, 30), (75, -20), (500.5, 2), (801, 100.25), (799, 100.1))
    s = snap_points(pts, net, max_snap_m=100)
    assert s.edge.tolist() == [0, 0, 1, 2, 2]
    assert s.snap_m.tolist() == pytest.approx([30, 20, 2, 1, 1])
    assert s.along_m.tolist() == pytest.approx([50, 75, 0.5, 0.25, 0.1])


def test_edges_away_from_the_origin():
    # A vertical and a slanted edge that start far from (0, 0), where the projection's
    # terms (p - a) matter in both x and y.
    net = network([(1000, 2000), (1000, 2100)], [(1100, 2000), (1130, 2040)])
    pts = points((1005, 2050), (990, 2010), (1103, 2046), (1130, 2060))
    s = snap_points(pts, net, max_snap_m=100)
    assert s.edge.tolist() == [0, 0, 1, 1]
    # (1103, 2046) against edge 1, which runs along (0.6, 0.8) from (1100, 2000):
    d = np.array([1103 - 1100, 2046 - 2000])
    along = d @ [0.6, 0.8]  # 1.8 + 36.8 = 38.6
    off = abs(d @ [-0.8, 0.6])  # |-2.4 + 27.6| = 25.2
    assert s.snap_m.tolist() == pytest.approx([5, 10, off, 20])
    assert s.along_m.tolist() == pytest.approx([50, 10, along, 50])


def test_pieces_are_built_once_per_network(monkeypatch):
    a = network([(0, 0), (100, 0)])
    b = network([(0, 50), (100, 50)])
    assert snap_module._pieces(a) is snap_module._pieces(a)
    # A network that reuses the id of one no longer alive must not get its pieces.
    monkeypatch.setitem(snap_module._PIECES, id(b), (a, snap_module._pieces(a)))
    s = snap_points(points((10, 40)), b, max_snap_m=100)
    assert s.snap_m.tolist() == pytest.approx([10.0])


def test_edges_across_the_origin():
    # Pieces are cut from each segment's own length: edge 0 runs 1,000 m through (0, 0) and
    # is the nearest (3 m) to P = (400, 3); edge 1, 7 m away, must not win because its
    # pieces crowd the KD-tree's candidates.
    net = network([(-500, 0), (500, 0)], [(-400, 10), (1200, 10)])
    s = snap_points(points((400, 3), (1000, 12)), net, max_snap_m=100)
    assert s.edge.tolist() == [0, 1]
    assert s.snap_m.tolist() == pytest.approx([3, 2])
    assert s.along_m.tolist() == pytest.approx([900, 1400])


def test_a_network_of_fewer_pieces_than_candidates():
    # One 30 m street: 3 pieces, fewer than the 8 candidates asked for first.
    net = network([(0, 0), (30, 0)])
    s = snap_points(points((12, 5), (40, 0)), net, max_snap_m=100)
    assert s.edge.tolist() == [0, 0]
    assert s.snap_m.tolist() == pytest.approx([5, 10])
    assert s.along_m.tolist() == pytest.approx([12, 30])


@pytest.mark.parametrize("value", ["0", "two", "-1", "1.5"])
def test_a_bad_thread_count_is_a_config_error(monkeypatch, value):
    from thuisdichtbij.errors import ConfigError
    from thuisdichtbij.settings import threads

    monkeypatch.setenv("THUISDICHTBIJ_THREADS", value)
    with pytest.raises(ConfigError, match=f"THUISDICHTBIJ_THREADS='{value}': give a whole"):
        threads()
    monkeypatch.setenv("THUISDICHTBIJ_THREADS", "3")
    assert threads() == 3
    monkeypatch.delenv("THUISDICHTBIJ_THREADS")
    assert threads() >= 1
