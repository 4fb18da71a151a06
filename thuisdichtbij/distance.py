"""Walking distance from every dwelling to the nearest amenity of a kind.

One multi-source shortest-path search per sub-indicator over the whole network: all
amenities of the kind are the sources at once, each entering the network at both ends of
the edge it is snapped to (its snap step plus the walk along the edge). The search stops at
the largest band; a dwelling then takes the better of its own edge's two ends, or walks
along its edge directly when an amenity is snapped to the same edge.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import sparse
from scipy.sparse.csgraph import dijkstra

from .network import Network
from .snap import Snapped

__all__ = ["nearest_distance", "node_distance", "indicator_distances"]

# Every edge from the virtual source carries this extra length, so that an amenity lying
# exactly on a node still has an edge of positive weight (sparse graphs drop zeros). All
# paths use exactly one such edge, so it changes no choice and is taken off afterwards.
_SOURCE_OFFSET_M = 1.0

#: Distances are kept to the millimetre; band edges compare against the rounded value.
DISTANCE_DECIMALS = 3


def node_distance(network: Network, sources: Snapped, *, max_distance_m: float) -> np.ndarray:
    """Walking distance from the nearest source to every node, ``inf`` beyond the limit."""
    n = network.n_nodes
    ok = sources.ok
    if not ok.any():
        return np.full(n, np.inf)
    e = sources.edge[ok]
    targets = np.concatenate([network.edge_u[e], network.edge_v[e]])
    weights = np.concatenate([sources.to_u_m()[ok], sources.to_v_m(network)[ok]])
    # An amenity pair on one edge gives a node twice: keep the shorter way in (a sparse
    # matrix would add duplicates up).
    nodes, inverse = np.unique(targets, return_inverse=True)
    entry = np.full(len(nodes), np.inf)
    np.minimum.at(entry, inverse, weights)
    g = network.graph.tocoo()
    graph = sparse.csr_matrix(
        (
            np.concatenate([g.data, entry + _SOURCE_OFFSET_M]),
            (np.concatenate([g.row, np.full(len(nodes), n)]), np.concatenate([g.col, nodes])),
        ),
        shape=(n + 1, n + 1),
    )
    dist = dijkstra(graph, directed=False, indices=n, limit=max_distance_m + _SOURCE_OFFSET_M)
    return dist[:n] - _SOURCE_OFFSET_M


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
    node_d = node_distance(network, amenities, max_distance_m=max_distance_m)
    ok = dwellings.ok
    out = np.full(len(dwellings.edge), np.nan)
    e = dwellings.edge[ok]
    via_u = dwellings.to_u_m()[ok] + node_d[network.edge_u[e]]
    via_v = dwellings.to_v_m(network)[ok] + node_d[network.edge_v[e]]
    best = np.minimum(via_u, via_v)

    # Dwelling and amenity on the same edge: walk along it directly.
    a_ok = amenities.ok
    if a_ok.any():
        amen = pd.DataFrame(
            {
                "edge": amenities.edge[a_ok],
                "along": amenities.along_m[a_ok],
                "snap": amenities.snap_m[a_ok],
            }
        )
        dw = pd.DataFrame(
            {
                "pos": np.arange(ok.sum()),
                "edge": e,
                "along": dwellings.along_m[ok],
                "snap": dwellings.snap_m[ok],
            }
        )
        same = dw.merge(amen, on="edge", suffixes=("_d", "_a"))
        if len(same):
            direct = same["snap_d"] + (same["along_d"] - same["along_a"]).abs() + same["snap_a"]
            per = direct.groupby(same["pos"]).min()
            pos = per.index.to_numpy()
            best[pos] = np.minimum(best[pos], per.to_numpy())

    best = np.round(best, DISTANCE_DECIMALS)
    best[best > max_distance_m] = np.inf
    out[ok] = best
    return out


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

    ``indicator`` gives the sub-indicator of each amenity; one search per sub-indicator.
    """
    return {
        ind: nearest_distance(
            network, dwellings, amenities.subset(indicator == ind), max_distance_m=max_distance_m
        )
        for ind in indicator_ids
    }
