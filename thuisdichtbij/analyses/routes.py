"""Walking routes from one location to the nearest amenity of each sub-indicator.

The plot check says how far; this draws the way: the shortest walk over the scan's network
(the same snapping and lengths as the check), as a line from the spot to the amenity.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import shapely
from scipy.sparse.csgraph import dijkstra
from shapely.ops import substring

from ..engine.snap import Snapped, snap_points

__all__ = ["walking_routes"]


def _ends(net, snap: Snapped, i: int) -> list[tuple[int, float]]:
    """The two end nodes of point ``i``'s edge with the walk to each (snap step included)."""
    e = int(snap.edge[i])
    return [
        (int(net.edge_u[e]), float(snap.to_u_m()[i])),
        (int(net.edge_v[e]), float(snap.to_v_m(net)[i])),
    ]


def _best_walk(net, dist, pred, here: Snapped, amen: Snapped, i: int):
    """(metres, node path or None for a walk along one edge) from the spot to amenity ``i``."""
    best = (np.inf, None)
    if amen.edge[i] == here.edge[0]:
        direct = here.snap_m[0] + abs(here.along_m[0] - amen.along_m[i]) + amen.snap_m[i]
        best = (float(direct), [])
    for k, (_, walk_in) in enumerate(_ends(net, here, 0)):
        for node, walk_out in _ends(net, amen, i):
            d = walk_in + dist[k, node] + walk_out
            if d < best[0]:
                best = (float(d), _path(pred[k], node))
    return best


def _path(pred: np.ndarray, node: int) -> list[int]:
    out = [node]
    while pred[out[-1]] >= 0:
        out.append(int(pred[out[-1]]))
    return out[::-1]


def _on_edge(net, snap: Snapped, i: int, towards_node: int | None):
    """The stretch of point ``i``'s edge from its snapped spot to ``towards_node``."""
    e = int(snap.edge[i])
    geom = net.edge_geometry[e]
    along = float(snap.along_m[i])
    end = 0.0 if towards_node == int(net.edge_u[e]) else geom.length
    return list(substring(geom, along, end).coords)


def _line(net, point, here, amen, i: int, amen_point, nodes: list[int]):
    """The route as a LineString: spot, its street, the path's nodes, the amenity's street."""
    if not nodes:  # both on one edge
        e = int(here.edge[0])
        part = substring(net.edge_geometry[e], float(here.along_m[0]), float(amen.along_m[i]))
        coords = [point.coords[0], *part.coords, amen_point.coords[0]]
        return shapely.LineString(coords)
    start = _on_edge(net, here, 0, nodes[0])
    middle = [tuple(net.node_xy[n]) for n in nodes]
    finish = _on_edge(net, amen, i, nodes[-1])[::-1]
    return shapely.LineString([point.coords[0], *start, *middle, *finish, amen_point.coords[0]])


def walking_routes(ctx, point: shapely.Point, *, max_distance_m: float) -> list[dict[str, Any]]:
    """Per sub-indicator, the walk to its nearest amenity within ``max_distance_m``.

    Each item: ``indicator``, ``distance_m``, ``band_m`` (the first band the walk falls in),
    ``amenity`` (WGS84 point as GeoJSON) and ``route`` (WGS84 line as GeoJSON). Sub-indicators
    with nothing within reach are left out.
    """
    net, cfg = ctx.network, ctx.config
    here = snap_points(np.array([point]), net, max_snap_m=cfg.max_snap_m)
    if not here.ok[0]:
        return []
    starts = [node for node, _ in _ends(net, here, 0)]
    dist, pred = dijkstra(net.graph, indices=starts, limit=max_distance_m, return_predecessors=True)
    indicator = ctx.amenities["indicator"].to_numpy()
    out = []
    for ind in cfg.indicator_ids:
        walks = [
            (_best_walk(net, dist, pred, here, ctx.amenity_snap, i), i)
            for i in np.flatnonzero((indicator == ind) & ctx.amenity_snap.ok)
        ]
        walks = [w for w in walks if w[0][0] <= max_distance_m]
        if not walks:
            continue
        (metres, nodes), i = min(walks, key=lambda w: w[0][0])
        apoint = ctx.amenities.geometry.iloc[i]
        line = _line(net, point, here, ctx.amenity_snap, i, apoint, nodes)
        band = next((b.max_m for b in cfg.bands if metres <= b.max_m), None)
        out.append(
            {
                "indicator": ind,
                "distance_m": round(metres, 1),
                "band_m": band,
                "amenity": ctx.geojson(apoint),
                "route": ctx.geojson(line),
            }
        )
    return out
