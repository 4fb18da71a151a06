"""Snapping points onto the nearest edge of the walking network.

A point is projected onto the nearest edge (not the nearest node): its walk starts with
the perpendicular step to that edge (``snap_m``) and goes along the edge to either end.

How the nearest edge is found fast: every straight segment of every edge is cut into
pieces of at most :data:`PIECE_M` metres, and a KD-tree holds the pieces' midpoints. For a
point, the :data:`CANDIDATES` nearest midpoints give candidate segments; the exact
distances to them (numpy) give the nearest, ``d``. Any segment within ``d`` has a piece
midpoint within ``d`` plus half a piece, so when the farthest candidate midpoint lies
beyond that, no segment was missed and the answer is exact. Points for which it does not
(dense tangles of short segments) go through the STRtree's exact nearest query instead.
Identical points are snapped once.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import numpy as np
import shapely
from scipy.spatial import cKDTree

from ..settings import threads
from .network import Network
from .rows import unique_rows

log = logging.getLogger(__name__)

__all__ = ["Snapped", "snap_points"]


@dataclass(frozen=True)
class Snapped:
    """Where points meet the network.

    ``edge`` is -1 and the other arrays NaN for points farther than the limit.

    Attributes
    ----------
    edge
        Index of the edge each point was snapped to.
    snap_m
        Straight distance from the point to that edge.
    along_m
        Distance along the edge from its start node (``edge_u``) to the snapped position.
    """

    edge: np.ndarray
    snap_m: np.ndarray
    along_m: np.ndarray

    @property
    def ok(self) -> np.ndarray:
        """Mask of points that were snapped within the limit."""
        return self.edge >= 0

    def subset(self, mask: np.ndarray) -> Snapped:
        """The snapped positions of the points selected by ``mask``."""
        return Snapped(self.edge[mask], self.snap_m[mask], self.along_m[mask])

    def to_u_m(self) -> np.ndarray:
        """Walk from each point to its edge's start node (snap step included)."""
        return self.snap_m + self.along_m

    def to_v_m(self, network: Network) -> np.ndarray:
        """Walk from each point to its edge's end node (snap step included)."""
        length = np.where(self.ok, network.edge_length_m[np.maximum(self.edge, 0)], np.nan)
        return self.snap_m + (length - self.along_m)


def snap_points(points: np.ndarray, network: Network, *, max_snap_m: float) -> Snapped:
    """Snap shapely points (in the network's CRS) to their nearest edge within ``max_snap_m``.

    Ties between equally near edges go to the edge listed first, so the result is the
    same on every run.
    """
    n = len(points)
    edge = np.full(n, -1, dtype=np.int64)
    snap_m = np.full(n, np.nan)
    along_m = np.full(n, np.nan)
    if n == 0:
        return Snapped(edge, snap_m, along_m)
    xy, inverse = unique_rows(shapely.get_coordinates(points))
    u_edge, u_snap, u_along = _nearest(xy, _pieces(network), network)
    near = u_snap <= max_snap_m
    edge[:] = np.where(near, u_edge, -1)[inverse]
    snap_m[:] = np.where(near, u_snap, np.nan)[inverse]
    along_m[:] = np.where(near, u_along, np.nan)[inverse]
    far = int((edge < 0).sum())
    if far:
        log.info(
            "snapping: %d of %d point(s) farther than %g m from any street", far, n, max_snap_m
        )
    return Snapped(edge, snap_m, along_m)


#: Longest piece of a segment indexed in the KD-tree (metres).
PIECE_M = 10.0
#: Candidate piece midpoints looked at per point: first a few, then more for the points
#: the few did not settle, then the STRtree.
CANDIDATES = (8, 32)


@dataclass(frozen=True)
class _Pieces:
    """The straight segments of a network's edges, and a KD-tree of their pieces.

    Each segment's coordinates, direction and length are kept as flat arrays, so that the
    distance to a candidate segment gathers them instead of recomputing them per point.
    """

    ax: np.ndarray  # start of each segment, x
    ay: np.ndarray  # start, y
    bx: np.ndarray  # end, x
    by: np.ndarray  # end, y
    dx: np.ndarray  # bx - ax
    dy: np.ndarray  # by - ay
    safe: np.ndarray  # squared length, 1.0 for a zero-length segment
    root: np.ndarray  # length, sqrt of the squared length
    seg_edge: np.ndarray  # edge of each segment
    seg_offset: np.ndarray  # distance along the edge to the segment's start
    piece_seg: np.ndarray  # segment of each piece
    half_m: float  # half the longest piece
    tree: cKDTree


_PIECES: dict[int, tuple[Network, _Pieces]] = {}


def _pieces(network: Network) -> _Pieces:
    """The pieces of ``network``, built once per network object.

    Only the last network's are kept: a scan snaps amenities and dwellings to the same
    network, and a worker snaps one tile after another.
    """
    hit = _PIECES.get(id(network))
    if hit is not None and hit[0] is network:
        return hit[1]
    coords, idx = shapely.get_coordinates(network.edge_geometry, return_index=True)
    same = idx[1:] == idx[:-1]
    a, b, seg_edge = coords[:-1][same], coords[1:][same], idx[:-1][same]
    step = np.hypot(*(coords[1:] - coords[:-1]).T)
    seg_len = step[same]
    first = np.r_[True, ~same]  # position of each edge's first coordinate
    cum = np.concatenate([[0.0], np.cumsum(step)])
    start_of_edge = cum[first[: len(cum)]][idx[:-1][same]]
    seg_offset = cum[:-1][same] - start_of_edge
    n_piece = np.maximum(np.ceil(seg_len / PIECE_M), 1).astype(np.int64)
    piece_seg = np.repeat(np.arange(len(a)), n_piece)
    k = np.arange(len(piece_seg)) - np.repeat(np.cumsum(n_piece) - n_piece, n_piece)
    frac = (k + 0.5) / n_piece[piece_seg]
    d = b - a
    mid = a[piece_seg] + frac[:, None] * d[piece_seg]
    half = float((seg_len / n_piece).max() / 2) if len(a) else 0.0
    # an unbalanced tree builds in a third of the time and answers as fast here
    tree = cKDTree(mid, balanced_tree=False, compact_nodes=False)
    dx, dy = d[:, 0].copy(), d[:, 1].copy()
    len2 = dx * dx + dy * dy
    pieces = _Pieces(
        *(a[:, 0].copy(), a[:, 1].copy(), b[:, 0].copy(), b[:, 1].copy(), dx, dy),
        *(np.where(len2 > 0, len2, 1.0), np.sqrt(len2), seg_edge, seg_offset, piece_seg),
        *(half, tree),
    )
    _PIECES.clear()
    _PIECES[id(network)] = (network, pieces)
    return pieces


def _to_segments(xy: np.ndarray, seg: np.ndarray, pc: _Pieces) -> tuple[np.ndarray, np.ndarray]:
    """Exact distance from each point (row) to each of its candidate segments.

    Also returns ``r``, where the point projects on the segment (0 at its start, 1 at its
    end). The formula is GEOS's (``Distance::pointToSegment``), so that distances, and with
    them ties, come out bit for bit as the STRtree's nearest query finds them: the
    perpendicular term ``(ay - py) * dx - (ax - px) * dy`` is written negated, which IEEE
    rounding leaves exact, and a zero-length segment has ``r = 0`` (its end-point distance).
    """
    px, py = xy[:, :1], xy[:, 1:]
    ex, ey = px - pc.ax[seg], py - pc.ay[seg]
    dx, dy, safe = pc.dx[seg], pc.dy[seg], pc.safe[seg]
    r = (ex * dx + ey * dy) / safe
    dist = np.abs((ey * dx - ex * dy) / safe) * pc.root[seg]
    to_a = r <= 0.0
    ex, ey = ex[to_a], ey[to_a]
    dist[to_a] = np.sqrt(ex * ex + ey * ey)
    row, col = np.nonzero(r >= 1.0)
    fx = xy[row, 0] - pc.bx[seg[row, col]]
    fy = xy[row, 1] - pc.by[seg[row, col]]
    dist[row, col] = np.sqrt(fx * fx + fy * fy)
    return dist, r


def _nearest(xy: np.ndarray, pc: _Pieces, network: Network):
    """Nearest edge, distance and position along it for each point (no distance limit)."""
    n = len(xy)
    edge, best, along = np.full(n, -1, np.int64), np.full(n, np.inf), np.full(n, np.nan)
    todo = np.arange(n)
    workers = threads()
    for k in CANDIDATES:
        k = min(k, len(pc.piece_seg))
        mid_d, piece = pc.tree.query(xy[todo], k=k, workers=workers)
        mid_d, piece = mid_d.reshape(len(todo), k), piece.reshape(len(todo), k)
        seg = pc.piece_seg[piece]
        dist, r = _to_segments(xy[todo], seg, pc)
        d = dist.min(axis=1)
        # ties: the lowest edge index among the equally near segments
        cand = np.where(dist == d[:, None], pc.seg_edge[seg], np.iinfo(np.int64).max)
        col = cand.argmin(axis=1)
        # exact unless a segment within `d` could have its nearest midpoint beyond the k-th
        sure = (mid_d[:, -1] > d + pc.half_m) | (k == len(pc.piece_seg))
        row, col = np.flatnonzero(sure), col[sure]
        chosen, done = seg[row, col], todo[sure]
        edge[done], best[done] = pc.seg_edge[chosen], d[sure]
        # along the edge: to the segment's start, then the projection clamped to the segment
        along[done] = pc.seg_offset[chosen] + np.clip(r[row, col], 0.0, 1.0) * pc.root[chosen]
        todo = todo[~sure]
        if not len(todo):
            return edge, best, along
    edge[todo], best[todo], along[todo] = _nearest_strtree(xy[todo], network)
    return edge, best, along


def _nearest_strtree(xy: np.ndarray, network: Network):
    """The exact nearest edge by the STRtree (all equally near edges, the lowest kept)."""
    pts = shapely.points(xy)
    idx, dist = network.tree.query_nearest(pts, return_distance=True, all_matches=True)
    order = np.lexsort((idx[1], idx[0]))
    src, tgt, dist = idx[0][order], idx[1][order], dist[order]
    first = np.ones(len(src), dtype=bool)
    first[1:] = src[1:] != src[:-1]
    src, tgt, dist = src[first], tgt[first], dist[first]
    along = shapely.line_locate_point(network.edge_geometry[tgt], pts[src])
    return tgt, dist, along
