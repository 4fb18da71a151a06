"""Walking distance from every dwelling to the nearest amenity of a kind.

One multi-source shortest-path search per sub-indicator over the whole network: all
amenities of the kind are the sources at once, each entering the network at both ends of
the edge it is snapped to (its snap step plus the walk along the edge). The search stops at
the largest band; a dwelling then takes the better of its own edge's two ends, or walks
along its edge directly when an amenity is snapped to the same edge.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import sparse
from scipy.sparse.csgraph import dijkstra

from .network import Network
from .snap import Snapped

__all__ = ["nearest_distance", "node_distances", "edge_distances", "indicator_distances"]

# Every edge from the virtual source carries this extra length, so that an amenity lying
# exactly on a node still has an edge of positive weight (sparse graphs drop zeros). All
# paths use exactly one such edge, so it changes no choice and is taken off afterwards.
_SOURCE_OFFSET_M = 1.0

#: Distances are kept to the millimetre; band edges compare against the rounded value.
DISTANCE_DECIMALS = 3


def node_distances(
    network: Network, sources: list[Snapped], *, max_distance_m: float
) -> np.ndarray:
    """Walking distance from the nearest point of each source set to every node.

    Returns a ``(len(sources), n_nodes)`` array, ``inf`` beyond ``max_distance_m``. All
    sets are searched in one call: each gets a virtual node whose edges lead to both ends of
    the edges its points are snapped to.
    """
    n = network.n_nodes
    g = network.graph
    heads, weights, counts = [], [], []
    for src in sources:
        ok = src.ok
        e = src.edge[ok]
        targets = np.concatenate([network.edge_u[e], network.edge_v[e]])
        w = np.concatenate([src.to_u_m()[ok], src.to_v_m(network)[ok]])
        # Two points of a set on one edge give a node twice: keep the shorter way in.
        nodes, inverse = np.unique(targets, return_inverse=True)
        entry = np.full(len(nodes), np.inf)
        np.minimum.at(entry, inverse, w)
        heads.append(nodes)
        weights.append(entry + _SOURCE_OFFSET_M)
        counts.append(len(nodes))
    k = len(sources)
    # The network's rows, then one row per virtual source; built directly, no re-sorting.
    indptr = np.concatenate([g.indptr, g.indptr[-1] + np.cumsum(counts)])
    graph = sparse.csr_matrix(
        (
            np.concatenate([g.data, *weights]),
            np.concatenate([g.indices, *heads]),
            indptr,
        ),
        shape=(n + k, n + k),
    )
    dist = dijkstra(
        graph,
        directed=True,
        indices=np.arange(n, n + k),
        limit=max_distance_m + _SOURCE_OFFSET_M,
    )
    return np.atleast_2d(dist)[:, :n] - _SOURCE_OFFSET_M


def edge_distances(
    network: Network,
    dwellings: Snapped,
    amenities: Snapped,
    node_d: np.ndarray,
    max_distance_m: float,
) -> np.ndarray:
    """Walking distance from each snapped point to the nearest source, given node distances.

    Combines ``node_d`` (from :func:`node_distances` for ``amenities``) with each point's own
    edge: either end, or straight along the edge when a source lies on it. ``inf`` beyond
    ``max_distance_m``, ``NaN`` for points that were not snapped. The plot check uses it
    with the roles swapped (walking is symmetric).
    """
    return _from_ends(network, _Ends.of(network, dwellings), amenities, node_d, max_distance_m)


@dataclass(frozen=True)
class _Ends:
    """The snapped points' walks to both ends of their edges, worked out once for all kinds."""

    ok: np.ndarray  # snapped
    edge: np.ndarray  # edge of each snapped point
    to_u: np.ndarray  # walk to the edge's start node, snap step included
    to_v: np.ndarray  # walk to its end node
    along: np.ndarray  # position along the edge
    snap: np.ndarray  # snap step

    @classmethod
    def of(cls, network: Network, points: Snapped) -> _Ends:
        ok = points.ok
        return cls(
            ok,
            points.edge[ok],
            points.to_u_m()[ok],
            points.to_v_m(network)[ok],
            points.along_m[ok],
            points.snap_m[ok],
        )


def _from_ends(
    network: Network, ends: _Ends, amenities: Snapped, node_d: np.ndarray, max_distance_m: float
) -> np.ndarray:
    """:func:`edge_distances` for points whose walks to their edge's ends are known."""
    out = np.full(len(ends.ok), np.nan)
    e = ends.edge
    best = np.minimum(ends.to_u + node_d[network.edge_u[e]], ends.to_v + node_d[network.edge_v[e]])
    # Dwelling and amenity on the same edge: walk along it directly.
    a_ok = amenities.ok
    if a_ok.any():
        order = np.argsort(amenities.edge[a_ok], kind="stable")
        a_edge = amenities.edge[a_ok][order]
        a_along = amenities.along_m[a_ok][order]
        a_snap = amenities.snap_m[a_ok][order]
        # Only dwellings on an edge that holds an amenity need looking at.
        on_amenity_edge = np.zeros(network.n_edges, dtype=bool)
        on_amenity_edge[a_edge] = True
        has = np.flatnonzero(on_amenity_edge[e])
        lo = np.searchsorted(a_edge, e[has], side="left")
        count = np.searchsorted(a_edge, e[has], side="right") - lo
        d_along, d_snap = ends.along[has], ends.snap[has]
        for j in range(int(count.max()) if len(has) else 0):
            sel = np.flatnonzero(count > j)
            a = lo[sel] + j
            direct = d_snap[sel] + np.abs(d_along[sel] - a_along[a]) + a_snap[a]
            best[has[sel]] = np.minimum(best[has[sel]], direct)
    best = np.round(best, DISTANCE_DECIMALS)
    best[best > max_distance_m] = np.inf
    out[ends.ok] = best
    return out


def nearest_distance(
    network: Network,
    dwellings: Snapped,
    amenities: Snapped,
    *,
    max_distance_m: float,
) -> np.ndarray:
    """Walking distance in metres from each dwelling to its nearest amenity.

    Returns ``inf`` when no amenity is within ``max_distance_m`` (or none is reachable) and
    ``NaN`` for dwellings that were not snapped. Distances are rounded to the millimetre,
    so a band edge such as 250 m is compared exactly.
    """
    node_d = node_distances(network, [amenities], max_distance_m=max_distance_m)[0]
    return edge_distances(network, dwellings, amenities, node_d, max_distance_m)


def indicator_distances(
    network: Network,
    dwellings: Snapped,
    amenities: Snapped,
    indicator: np.ndarray,
    indicator_ids: tuple[str, ...],
    *,
    max_distance_m: float,
) -> dict[str, np.ndarray]:
    """Distances from every dwelling to the nearest amenity of each sub-indicator.

    ``indicator`` gives the sub-indicator of each amenity. One multi-source search per
    sub-indicator, all run in a single call.
    """
    subsets = [amenities.subset(indicator == ind) for ind in indicator_ids]
    node_d = node_distances(network, subsets, max_distance_m=max_distance_m)
    ends = _Ends.of(network, dwellings)
    return {
        ind: _from_ends(network, ends, sub, node_d[k], max_distance_m)
        for k, (ind, sub) in enumerate(zip(indicator_ids, subsets))
    }
