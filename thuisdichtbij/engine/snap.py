"""Snapping points onto the nearest edge of the walking network.

A point is projected onto the nearest edge (not the nearest node): its walk starts with
the perpendicular step to that edge (``snap_m``) and goes along the edge to either end.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import numpy as np
import shapely

from .network import Network

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
    idx, dist = network.tree.query_nearest(
        points, max_distance=max_snap_m, return_distance=True, all_matches=True
    )
    if idx.shape[1]:
        # all_matches returns every equally near edge; keep the lowest edge index.
        order = np.lexsort((idx[1], idx[0]))
        src, tgt, dist = idx[0][order], idx[1][order], dist[order]
        first = np.ones(len(src), dtype=bool)
        first[1:] = src[1:] != src[:-1]
        src, tgt, dist = src[first], tgt[first], dist[first]
        edge[src] = tgt
        snap_m[src] = dist
        along_m[src] = shapely.line_locate_point(network.edge_geometry[tgt], points[src])
    far = int((edge < 0).sum())
    if far:
        log.info(
            "snapping: %d of %d point(s) farther than %g m from any street", far, n, max_snap_m
        )
    return Snapped(edge, snap_m, along_m)
