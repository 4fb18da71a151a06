"""The walking network: which ways a pedestrian may use, as compact graph arrays.

Nodes are where edges meet (end points equal to the centimetre); edges keep their full
geometry for snapping and their length in metres for routing. The graph is undirected:
walking has no one-way streets.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from pyproj import CRS
from scipy import sparse
from scipy.sparse.csgraph import connected_components

from ..errors import CRSError, InputError
from .rows import unique_rows

log = logging.getLogger(__name__)

__all__ = [
    "Network",
    "walkable",
    "build_network",
    "profile_audit",
    "edge_kinds",
    "NOT_WALKABLE_HIGHWAYS",
    "FOOTPATH_HIGHWAYS",
    "EDGE_UNKNOWN",
    "EDGE_STREET",
    "EDGE_FOOTPATH",
]

#: Highway values no pedestrian may use, whatever other tags say.
NOT_WALKABLE_HIGHWAYS = frozenset(
    {
        "motorway",
        "motorway_link",
        "trunk",
        "trunk_link",
        "busway",
        "bus_guideway",
        "raceway",
        "construction",
        "proposed",
        "planned",
        "abandoned",
        "platform",
        "elevator",
        "no",
        "razed",
        "rest_area",
        "services",
    }
)
#: Highway values of ways for people on foot (or bike) only: footpaths in the data audit.
FOOTPATH_HIGHWAYS = frozenset(
    {"footway", "path", "steps", "cycleway", "bridleway", "corridor", "track"}
)
#: Edge kind codes (``Network.edge_kind``): no highway tag, a street, a footpath.
EDGE_UNKNOWN, EDGE_STREET, EDGE_FOOTPATH = 0, 1, 2
_FOOT_NO = frozenset({"no", "private", "use_sidepath", "discouraged"})
_FOOT_YES = frozenset({"yes", "designated", "permissive", "official"})
_ACCESS_NO = frozenset({"no", "private"})

#: End points closer than this are the same node.
NODE_PRECISION_M = 0.01


def _tag(edges: pd.DataFrame, name: str) -> pd.Series:
    if name in edges.columns:
        return edges[name].astype("string").str.strip().str.lower()
    return pd.Series(pd.NA, index=edges.index, dtype="string")


def walkable(
    edges: pd.DataFrame, *, exclude: Mapping[str, tuple[str, ...]] | None = None
) -> np.ndarray:
    """Boolean mask of the edges a pedestrian may use.

    Out: motorways and trunk roads (and their links), bus-only roads, ways under
    construction; ``foot=no``/``private``/``use_sidepath``; ``access=no``/``private``
    unless ``foot`` allows walking; ``area=yes`` (the outline of a square or a platform,
    not a way along it). In: everything else, footways, paths, steps and pedestrian
    streets included. Missing tag columns count as "not tagged".

    ``exclude`` is a walking profile (``config.Config.profile_rules``, e.g. the rollator's):
    tag -> values; an edge whose tag has one of the values is out as well (``highway=steps``,
    ``surface=gravel``, ``wheelchair=no``). An edge without the tag stays in.
    """
    highway, access, foot = _tag(edges, "highway"), _tag(edges, "access"), _tag(edges, "foot")
    bad_highway = highway.isin(NOT_WALKABLE_HIGHWAYS).fillna(False)
    foot_no = foot.isin(_FOOT_NO).fillna(False)
    foot_yes = foot.isin(_FOOT_YES).fillna(False)
    access_no = access.isin(_ACCESS_NO).fillna(False)
    is_area = (_tag(edges, "area") == "yes").fillna(False)
    keep = ~bad_highway & ~foot_no & ~(access_no & ~foot_yes) & ~is_area
    for tag, values in (exclude or {}).items():
        keep &= ~_tag(edges, tag).isin(values).fillna(False)
    return keep.to_numpy(dtype=bool)


def profile_audit(edges: pd.DataFrame, exclude: Mapping[str, tuple[str, ...]]) -> dict:
    """What a walking profile could judge: per tag, the edges it drops and those untagged.

    Counted over the edges (way segments) that are walkable without the profile. A tag the
    input has no column for is reported as ``"no column"``: the profile cannot judge it.
    """
    base = edges[walkable(edges)]
    out = {"ways": len(base), "dropped": int((~walkable(base, exclude=exclude)).sum())}
    for tag, values in exclude.items():
        if tag not in base.columns:
            out[tag] = "no column"
            continue
        t = _tag(base, tag)
        out[tag] = {
            "dropped": int(t.isin(values).fillna(False).sum()),
            "untagged": int(t.isna().sum()),
        }
    return out


def edge_kinds(edges: pd.DataFrame) -> np.ndarray:
    """Kind code per edge (``int8``): footpath, street, or unknown when untagged.

    Footpaths are the highway values in :data:`FOOTPATH_HIGHWAYS`; any other highway value
    is a street (pedestrian streets included); no ``highway`` column or value: unknown.
    """
    if "highway" not in edges.columns:
        return np.zeros(len(edges), dtype=np.int8)
    hw = edges["highway"].astype("string").str.strip().str.lower()
    kind = np.where(hw.isin(FOOTPATH_HIGHWAYS).fillna(False), EDGE_FOOTPATH, EDGE_STREET)
    return np.where(hw.isna() | (hw == ""), EDGE_UNKNOWN, kind).astype(np.int8)


def inside_extent_m(extent, point) -> float:
    """How far inside ``extent`` (:meth:`Network.extent`) a point lies: 0 on or beyond its edge.

    NaN where the extent has no outline to measure from (no edge, or a network on one line).
    """
    if extent is None or shapely.area(extent) == 0:
        return float("nan")
    return float(extent.exterior.distance(point)) if extent.covers(point) else 0.0


@dataclass(frozen=True)
class Network:
    """A walking network as arrays, in a metric CRS.

    Attributes
    ----------
    crs
        The metric CRS of coordinates and lengths.
    node_xy
        ``(n_nodes, 2)`` node coordinates.
    edge_u, edge_v
        Node index at the start and the end of each edge's geometry.
    edge_length_m
        Length of each edge in metres (its geometry's length).
    edge_geometry
        Shapely LineStrings, start at ``edge_u``.
    edge_name
        Street name per edge (may be empty), for descriptions.
    graph
        Symmetric CSR matrix of the shortest edge between each pair of nodes (both
        directions stored, so searches need not transpose it).
    tree
        Spatial index of ``edge_geometry`` for snapping.
    edge_kind
        Kind code per edge (:data:`EDGE_STREET`, :data:`EDGE_FOOTPATH`, or
        :data:`EDGE_UNKNOWN`), for the data audit; routing ignores it.
    """

    crs: CRS
    node_xy: np.ndarray
    edge_u: np.ndarray
    edge_v: np.ndarray
    edge_length_m: np.ndarray
    edge_geometry: np.ndarray
    edge_name: np.ndarray
    graph: sparse.csr_matrix
    tree: shapely.STRtree
    edge_kind: np.ndarray | None = None

    @classmethod
    def from_arrays(
        cls,
        *,
        crs: CRS,
        node_xy: np.ndarray,
        edge_u: np.ndarray,
        edge_v: np.ndarray,
        edge_length_m: np.ndarray,
        edge_geometry: np.ndarray,
        edge_name: np.ndarray,
        edge_kind: np.ndarray | None = None,
    ) -> Network:
        """Assemble a network from its arrays; builds the routing graph and the edge index."""
        n_edges = len(edge_u)
        kind = np.zeros(n_edges, dtype=np.int8) if edge_kind is None else edge_kind
        return cls(
            crs=CRS(crs),
            node_xy=node_xy,
            edge_u=edge_u.astype(np.int64),
            edge_v=edge_v.astype(np.int64),
            edge_length_m=edge_length_m,
            edge_geometry=edge_geometry,
            edge_name=edge_name,
            graph=_graph(edge_u, edge_v, edge_length_m, len(node_xy)),
            tree=shapely.STRtree(edge_geometry),
            edge_kind=np.asarray(kind, dtype=np.int8),
        )

    def to_arrays(self, edges: np.ndarray | None = None) -> dict[str, np.ndarray]:
        """Plain arrays of the network (or of the edges selected by a mask), nodes renumbered.

        The inverse of :meth:`from_array_dict`; used to cache networks on disk and to send
        tiles of a network to other processes. Text and numbers only, no pickles.
        """
        sel = np.ones(self.n_edges, dtype=bool) if edges is None else edges
        used, u, v = _renumber(self.edge_u[sel], self.edge_v[sel])
        coords, coord_edge = shapely.get_coordinates(self.edge_geometry[sel], return_index=True)
        names = ["" if n is None else str(n) for n in self.edge_name[sel]]
        return {
            "crs": np.array(self.crs.to_wkt()),
            "node_xy": self.node_xy[used],
            "edge_u": u,
            "edge_v": v,
            "edge_length_m": self.edge_length_m[sel],
            "edge_name": np.array(names, dtype=str),
            "edge_kind": self.edge_kind[sel],
            "coords": coords,
            "coord_edge": coord_edge,
        }

    @classmethod
    def from_array_dict(cls, arrays: Mapping[str, np.ndarray]) -> Network:
        """Rebuild a network from :meth:`to_arrays`."""
        names = np.asarray(arrays["edge_name"])
        return cls.from_arrays(
            crs=CRS.from_wkt(str(arrays["crs"])),
            node_xy=np.asarray(arrays["node_xy"]),
            edge_u=np.asarray(arrays["edge_u"]),
            edge_v=np.asarray(arrays["edge_v"]),
            edge_length_m=np.asarray(arrays["edge_length_m"]),
            edge_geometry=np.asarray(
                shapely.linestrings(arrays["coords"], indices=arrays["coord_edge"])
            ),
            edge_name=np.where(names == "", None, names).astype(object),
            edge_kind=np.asarray(arrays["edge_kind"]) if "edge_kind" in arrays else None,
        )

    def subset(self, edges: np.ndarray) -> Network:
        """The network of the edges selected by a mask, in their order, with nodes renumbered."""
        used, u, v = _renumber(self.edge_u[edges], self.edge_v[edges])
        return Network.from_arrays(
            crs=self.crs,
            node_xy=self.node_xy[used],
            edge_u=u,
            edge_v=v,
            edge_length_m=self.edge_length_m[edges],
            edge_geometry=self.edge_geometry[edges],
            edge_name=self.edge_name[edges],
            edge_kind=self.edge_kind[edges],
        )

    @property
    def n_nodes(self) -> int:
        """Number of nodes."""
        return len(self.node_xy)

    @property
    def n_edges(self) -> int:
        """Number of edges."""
        return len(self.edge_u)

    @property
    def length_km(self) -> float:
        """Total length of the network in kilometres."""
        return float(self.edge_length_m.sum() / 1000)

    def extent(self):
        """Where the data reaches: the convex hull of the nodes the edges use (None: no edge).

        The yardstick for "the data covers it" throughout (a study area's, a municipality's
        and an area's ``data_coverage``, the plot check's distance to the data's edge).
        """
        xy = self.node_xy[np.unique(np.concatenate([self.edge_u, self.edge_v]))]
        if len(xy) < 2:
            return shapely.points(xy[0]) if len(xy) else None
        # the hull of a line through the nodes is theirs, the same geometry, and the line is
        # made 50 times faster than a multipoint of them (1.5 against 78 ms for Aachen's)
        return shapely.convex_hull(shapely.linestrings(xy))

    def edges_frame(self) -> gpd.GeoDataFrame:
        """The edges as a GeoDataFrame (``u``, ``v``, ``length_m``, ``name``)."""
        return gpd.GeoDataFrame(
            {
                "u": self.edge_u,
                "v": self.edge_v,
                "length_m": self.edge_length_m,
                "name": self.edge_name,
            },
            geometry=self.edge_geometry,
            crs=self.crs,
        )


def _lines(edges: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    kinds = set(edges.geom_type.unique())
    if not kinds <= {"LineString", "MultiLineString"}:
        raise InputError(
            "street network: expected LineString edges, got "
            f"{', '.join(sorted(kinds))}; give the edges layer, not the nodes"
        )
    if kinds == {"LineString"}:  # nothing to explode (as an OSM extract's segments)
        return edges.reset_index(drop=True)
    return edges.explode(index_parts=False, ignore_index=True)


def _require_metric(edges: gpd.GeoDataFrame) -> None:
    if edges.crs is None:
        raise CRSError("street network: edges have no CRS; set one before building")
    if CRS(edges.crs).is_geographic:
        raise CRSError(
            f"street network: edges are in geographic CRS {edges.crs.to_string()}; "
            "reproject to a metric CRS first"
        )


def _edge_arrays(edges: gpd.GeoDataFrame):
    """Geometry, length, name and kind of every edge longer than zero."""
    geom = edges.geometry.to_numpy()
    length = shapely.length(geom)
    ok = length > 0
    geom, length, kinds = geom[ok], length[ok], edge_kinds(edges)[ok]
    raw_names = edges["name"].to_numpy(dtype=object)[ok] if "name" in edges else []
    names = np.full(ok.sum(), None, dtype=object)
    for i, n in enumerate(raw_names):
        if isinstance(n, str) and n:
            names[i] = n
    if len(geom) == 0:
        raise InputError("street network: no walkable edges left; is this a street network?")
    return geom, length, names, kinds


def _end_nodes(geom: np.ndarray):
    """The nodes where edges end (ends within ``NODE_PRECISION_M`` meet), and each edge's two."""
    coords = shapely.get_coordinates(geom)  # every vertex, edge after edge
    last = np.cumsum(shapely.get_num_coordinates(geom)) - 1
    start, end = coords[np.r_[0, last[:-1] + 1]], coords[last]
    keys = np.round(np.vstack([start, end]) / NODE_PRECISION_M).astype(np.int64)
    uniq, inverse = unique_rows(keys)
    m = len(geom)
    return uniq, inverse[:m], inverse[m:]


def _large_pieces(u, v, length, n_nodes: int, min_component_m: float) -> np.ndarray:
    """Mask of the edges in connected pieces with at least ``min_component_m`` of street."""
    n_comp, labels = connected_components(_graph(u, v, length, n_nodes), directed=False)
    comp_len = np.bincount(labels[u], weights=length, minlength=n_comp)
    keep = comp_len[labels[u]] >= min_component_m
    if not keep.all():
        log.info(
            "network: dropped %d fragment(s) under %g m (%d edges, %.2f km)",
            int((comp_len < min_component_m).sum()),
            min_component_m,
            int((~keep).sum()),
            float(length[~keep].sum()) / 1000,
        )
        if not keep.any():
            raise InputError(
                f"street network: every connected piece is shorter than {min_component_m:g} m"
            )
    return keep


def build_network(
    edges: gpd.GeoDataFrame,
    *,
    min_component_m: float = 0.0,
    filter_walkable: bool = True,
    exclude: Mapping[str, tuple[str, ...]] | None = None,
) -> Network:
    """Build the walking network from street edges in a metric CRS.

    Parameters
    ----------
    edges
        LineStrings with optional tag columns (``highway``, ``foot``, ``access``, ``name``).
    min_component_m
        Connected pieces with less total length are dropped (stray fragments).
    filter_walkable
        Apply :func:`walkable`; off for networks that are already pedestrian-only.
    exclude
        A walking profile's exclusions, passed to :func:`walkable`.
    """
    _require_metric(edges)
    keep = walkable(edges, exclude=exclude) if filter_walkable else np.ones(len(edges), dtype=bool)
    dropped = int((~keep).sum())
    edges = _lines(edges[keep])
    geom, length, names, kinds = _edge_arrays(edges)
    uniq, u, v = _end_nodes(geom)
    keep = _large_pieces(u, v, length, len(uniq), min_component_m)
    if not keep.all():
        used, u, v = _renumber(u[keep], v[keep])
        uniq = uniq[used]
        geom, length, names, kinds = geom[keep], length[keep], names[keep], kinds[keep]
    net = Network.from_arrays(
        crs=CRS(edges.crs),
        node_xy=uniq.astype(float) * NODE_PRECISION_M,
        edge_u=u,
        edge_v=v,
        edge_length_m=length,
        edge_geometry=geom,
        edge_name=names,
        edge_kind=kinds,
    )
    log.info(
        "network: %d nodes, %d edges, %.1f km walkable (%d ways not walkable)",
        net.n_nodes,
        net.n_edges,
        net.length_km,
        dropped,
    )
    return net


def _renumber(u: np.ndarray, v: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The nodes still used by edges ``u``-``v``, and the edges with those nodes renumbered."""
    used, new_idx = np.unique(np.concatenate([u, v]), return_inverse=True)
    return used, new_idx[: len(u)], new_idx[len(u) :]


def _graph(u: np.ndarray, v: np.ndarray, length: np.ndarray, n: int) -> sparse.csr_matrix:
    """Symmetric graph with, between two nodes, the shortest of their parallel edges."""
    a, b = np.minimum(u, v), np.maximum(u, v)
    loop = a == b
    a, b, w = a[~loop], b[~loop], length[~loop]
    order = np.lexsort((w, b, a))
    a, b, w = a[order], b[order], w[order]
    first = np.ones(len(a), dtype=bool)
    first[1:] = (a[1:] != a[:-1]) | (b[1:] != b[:-1])
    a, b, w = a[first], b[first], w[first]
    rows, cols = np.concatenate([a, b]), np.concatenate([b, a])
    graph = sparse.csr_matrix((np.concatenate([w, w]), (rows, cols)), shape=(n, n))
    graph.sort_indices()
    return graph
