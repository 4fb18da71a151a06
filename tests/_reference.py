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
