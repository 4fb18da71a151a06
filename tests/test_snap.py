"""Snapping: the nearest edge, the tie rule, and agreement with a brute-force reference."""

import geopandas as gpd
import numpy as np
import pytest
import shapely
from shapely import LineString, Point

from thuisdichtbij.crs import RD_NEW
from thuisdichtbij.engine import snap as snap_module
from thuisdichtbij.engine.network import build_network
from thuisdichtbij.engine.snap import snap_points


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


def test_along_a_bent_edge_counts_the_earlier_segments():
    net = _net([[(0, 0), (100, 0), (100, 100)]])
    s = snap_points(np.array([Point(103, 40)]), net, max_snap_m=250)
    assert s.snap_m[0] == pytest.approx(3.0)
    assert s.along_m[0] == pytest.approx(140.0)


@pytest.mark.parametrize("candidates", [(8, 32), (1,), (2, 3)])
def test_agrees_with_brute_force_on_a_dense_grid(monkeypatch, candidates):
    # few candidates force the exact STRtree path for many points: same answers
    monkeypatch.setattr(snap_module, "CANDIDATES", candidates)
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
