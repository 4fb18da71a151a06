"""The exact reference: networkx Dijkstra on the network with snapped points inserted as nodes."""

import networkx as nx
import numpy as np


def insert_points(net, groups):
    """A networkx graph of ``net`` with each snapped point as its own node.

    ``groups`` maps a label to a :class:`~thuisdichtbij.engine.snap.Snapped`; point ``i`` of group
    ``g`` becomes node ``(g, i)``, joined by its snap step to its spot on the edge, and the
    edge is cut at every such spot.
    """
    on_edge = {}
    for label, snapped in groups.items():
        for i in np.flatnonzero(snapped.ok):
            on_edge.setdefault(int(snapped.edge[i]), []).append(
                (float(snapped.along_m[i]), float(snapped.snap_m[i]), (label, int(i)))
            )
    g = nx.Graph()

    def add(a, b, w):
        if a == b:
            return
        if g.has_edge(a, b) and g[a][b]["weight"] <= w:
            return
        g.add_edge(a, b, weight=w)

    for e in range(net.n_edges):
        u, v, length = int(net.edge_u[e]), int(net.edge_v[e]), float(net.edge_length_m[e])
        pts = sorted(on_edge.get(e, []), key=lambda t: t[0])
        prev, prev_along = ("node", u), 0.0
        for along, snap, name in pts:
            spot = ("spot", name)
            add(prev, spot, along - prev_along) if along > prev_along else g.add_edge(
                prev, spot, weight=0.0
            )
            g.add_edge(spot, name, weight=snap)
            prev, prev_along = spot, along
        add(prev, ("node", v), length - prev_along)
    return g


def reference_distance(g, source, targets, cutoff):
    lengths = nx.single_source_dijkstra_path_length(g, source, cutoff=cutoff, weight="weight")
    found = [lengths[t] for t in targets if t in lengths]
    return min(found) if found else np.inf


def brute_snap(points, net, *, max_snap_m):
    """Snap by brute force: every point against every edge, nearest (first listed on a tie).

    Independent of the engine's spatial index; returns a
    :class:`~thuisdichtbij.engine.snap.Snapped` for :func:`insert_points`.
    """
    import shapely

    from thuisdichtbij.engine.snap import Snapped

    n = len(points)
    edge = np.full(n, -1, dtype=np.int64)
    snap_m, along_m = np.full(n, np.nan), np.full(n, np.nan)
    for i, p in enumerate(points):
        d = shapely.distance(p, net.edge_geometry)
        e = int(np.argmin(d))  # the first of equally near edges
        if d[e] <= max_snap_m:
            edge[i], snap_m[i] = e, d[e]
            along_m[i] = shapely.line_locate_point(net.edge_geometry[e], p)
    return Snapped(edge, snap_m, along_m)


# The method's table (METHOD.md), written out here so the tests do not read the package's.
METHOD_WEIGHTS = {
    "pharmacy": 1,
    "gp": 2,
    "physio": 1,
    "community": 3,
    "supermarket": 3,
    "drugstore": 1,
    "hairdresser": 0.5,
    "culture": 0.5,
    "bus_stop": 2,
}
METHOD_SAFETY_WEIGHT = 0.5


def method_scores(dw):
    """Each dwelling's score from its distance columns and safety points, by the method.

    Within 250 m 2 points, within 500 m 1; safety points times 0.5; without safety points
    the distance part scaled by 30.5 / 28 (``missing: rescale``). ``NaN`` where not snapped.
    """
    total = 0.0
    for ind, w in METHOD_WEIGHTS.items():
        d = dw[f"dist_{ind}"].to_numpy(dtype=float)
        pts = np.where(d <= 250, 2.0, np.where(d <= 500, 1.0, 0.0))
        total = total + w * np.where(np.isnan(d), np.nan, pts)
    safety = dw["safety_pts"].to_numpy(dtype=float)
    return np.where(np.isnan(safety), total * 30.5 / 28, total + METHOD_SAFETY_WEIGHT * safety)


def method_classes(values, weights):
    """Classes 1-5 at the weighted mean + (-1.5, -0.5, 0.5, 1.5) standard deviations."""
    v, w = np.asarray(values, dtype=float), np.asarray(weights, dtype=float)
    ok = ~np.isnan(v) & ~np.isnan(w) & (w > 0)
    mean = (v[ok] * w[ok]).sum() / w[ok].sum()
    std = np.sqrt(((v[ok] - mean) ** 2 * w[ok]).sum() / w[ok].sum())
    out = np.full(len(v), np.nan)
    for i in np.flatnonzero(~np.isnan(v)):
        # a value on an edge belongs to the lower class
        out[i] = 1 + sum(v[i] > mean + k * std for k in (-1.5, -0.5, 0.5, 1.5))
    return out
