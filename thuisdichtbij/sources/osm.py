"""OpenStreetMap ``.osm.pbf`` extracts, read in one pass with pyosmium.

One pass over the file gives the layers a scan takes from OSM: the highway ways a network
can be built from (split into segments between consecutive nodes), the features that may
be amenities (nodes, ways taken at a point inside their outline, and multipolygon
relations), dwellings (address points, else residential buildings), and the water and
green areas a map draws as context (closed ways and multipolygon relations, as polygons).
A tag-key filter in C++ keeps untagged nodes out of Python, way geometries are built in
C++ (WKB) and turned into segments and points with vectorised shapely. All layers are
GeoDataFrames in EPSG:4326; the scan reprojects them to the study CRS. Which ways a
pedestrian may use and which features count are decided elsewhere
(``engine.network.walkable``, ``tags.match``).
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from .._process_wide import GC_PAUSED
from ..errors import InputError
from ._io import as_points, require_file
from ._osm_areas import is_area
from ._osm_context import CONTEXT_KEYS, context_kind
from .pbf_blocks import check_pbf_complete

log = logging.getLogger(__name__)

__all__ = [
    "OsmExtract",
    "read_osm",
    "node_locations",
    "read_run",
    "read_relations",
    "extract_from_runs",
    "read_osm_ways",
    "read_osm_features",
    "read_osm_dwellings",
    "clip_pbf",
    "RESIDENTIAL_BUILDINGS",
]

#: Residential building types, used for dwellings when an extract has no address points.
RESIDENTIAL_BUILDINGS = frozenset(
    {
        "apartments",
        "bungalow",
        "detached",
        "dormitory",
        "farm",
        "house",
        "houseboat",
        "residential",
        "semidetached_house",
        "static_caravan",
        "terrace",
    }
)

#: Tags kept on network ways: what ``walkable`` and the network need, and what a walking
#: profile (the rollator's) judges.
WAY_TAGS = (
    "highway",
    "name",
    "foot",
    "access",
    "service",
    "area",
    "surface",
    "smoothness",
    "wheelchair",
    "kerb",
)
_ADDRESS = "addr:housenumber"
_POSTCODE = "addr:postcode"


@dataclass(frozen=True)
class OsmExtract:
    """The layers of one extract (None for a layer that was not asked for).

    Attributes
    ----------
    path
        The file read.
    ways
        Highway ways as two-point segments: ``id`` (the way), the :data:`WAY_TAGS` and
        the geometry.
    features
        Candidate amenities as points: ``osm_id`` (``node/1``, ``way/2``,
        ``relation/3``), ``name`` and a column per asked key.
    dwellings
        Dwelling points: ``dwelling_id`` (``node/1``, ``way/2``) and ``postcode``.
    dwellings_how
        What the dwellings are (address points or residential buildings).
    context
        Water and green areas as polygons: ``kind`` (``water`` or ``green``, see
        :mod:`thuisdichtbij.sources._osm_context`), ``name``, ``source_id`` (``way/2``,
        ``relation/3``); every size (the scan keeps the large ones).
    """

    path: Path
    ways: gpd.GeoDataFrame | None = field(default=None, repr=False)
    features: gpd.GeoDataFrame | None = field(default=None, repr=False)
    dwellings: gpd.GeoDataFrame | None = field(default=None, repr=False)
    dwellings_how: str = ""
    context: gpd.GeoDataFrame | None = field(default=None, repr=False)


def _check_pbf(path: str | os.PathLike) -> Path:
    p = require_file(path, "OSM extract")
    if not p.name.endswith(".pbf"):
        raise InputError(
            f"OSM extract: {p} is not an .osm.pbf file; download a PBF extract (e.g. from "
            "Geofabrik or BBBike), or name a street network file under 'network:' in a study file"
        )
    check_pbf_complete(p)
    return p


class _Rows:
    """Rows of one layer while the file is read: kind (node/way/relation), id, geometry, tags."""

    def __init__(self) -> None:
        self.kind: list[str] = []
        self.id: list[int] = []
        self.geom: list = []  # (lon, lat) for nodes, WKB for ways and relations
        self.polygon: list[bool] = []  # a closed way that is an area
        self.tags: list[tuple] = []

    def add(self, kind: str, oid: int, geom, tags: tuple, polygon: bool = False) -> None:
        self.kind.append(kind)
        self.id.append(oid)
        self.geom.append(geom)
        self.polygon.append(polygon)
        self.tags.append(tags)

    def extend(self, other: _Rows) -> _Rows:
        """These rows followed by ``other``'s (returns self)."""
        for name in ("kind", "id", "geom", "polygon", "tags"):
            getattr(self, name).extend(getattr(other, name))
        return self


def _way_wkb(way, factory):
    """The way's line as WKB (every node, duplicates too), or None when it has < 2 locations."""
    import osmium

    try:
        return factory.create_linestring(way, use_nodes=osmium.geom.use_nodes.ALL)
    except (osmium.InvalidLocationError, RuntimeError):
        xy = [(n.lon, n.lat) for n in way.nodes if n.location.valid()]
        return shapely.LineString(xy).wkb_hex if len(xy) >= 2 else None


def _closed_way_is_area(tags) -> bool:
    """:func:`is_area`, with a shortcut for the keys that make nearly every answer here."""
    get = tags.get
    if get("area") == "no":
        return False
    if get("building") is not None or get("amenity") is not None or get("shop") is not None:
        return True  # keys whose every value makes an area
    return is_area(tags)


class _Collector:
    """Sorts the objects of one pass into the layers asked for.

    The pass is bound by the Python calls per object, so each tag is looked up once, through
    the tag list's bound ``get``: iterating a tag list (``dict(tags)``) costs more.
    """

    def __init__(
        self,
        *,
        ways: bool,
        feature_keys: tuple[str, ...],
        prefilter: Mapping[str, frozenset[str] | None] | None,
        dwellings: bool,
        context: bool = False,
        on_ways: Callable[[gpd.GeoDataFrame], None] | None = None,
        chunk_ways: int = 100_000,
    ) -> None:
        import osmium

        self.want_ways, self.feature_keys, self.want_dwellings = ways, feature_keys, dwellings
        self.want_context = context
        self.context = _Rows()
        self.on_ways, self.chunk_ways, self.n_ways = on_ways, chunk_ways, 0
        self.prefilter = None if prefilter is None else tuple(prefilter.items())
        self.feature_tags = ("name", *[k for k in feature_keys if k != "name"])
        self.ways, self.features, self.dwellings = _Rows(), _Rows(), _Rows()
        # multipolygon features, kept apart and put after the others: a pass over part of
        # the file (read_run) sees no relation, so every way of them comes in file order
        self.relation_features = _Rows()
        self.factory = osmium.geom.WKBFactory()

    def _is_feature(self, get: Callable[[str], str | None]) -> bool:
        if self.prefilter is None:
            return any(get(k) is not None for k in self.feature_keys)
        for key, values in self.prefilter:
            value = get(key)
            if value is not None and (values is None or value in values):
                return True
        return False

    def node(self, n) -> None:
        get = n.tags.get
        if self._is_feature(get):
            values = tuple(map(get, self.feature_tags))
            self.features.add("node", n.id, (n.lon, n.lat), values)
        if self.want_dwellings and get(_ADDRESS) is not None:
            self.dwellings.add("node", n.id, (n.lon, n.lat), (get(_POSTCODE),))

    def way(self, w) -> None:
        tags = w.tags
        get = tags.get
        highway = self.want_ways and get("highway") is not None
        feature = self._is_feature(get)
        address = self.want_dwellings and get(_ADDRESS) is not None
        if not (highway or feature or address):
            return
        wkb = _way_wkb(w, self.factory)
        if wkb is None:
            return
        if highway:
            self.ways.add("way", w.id, wkb, tuple(map(get, WAY_TAGS)))
            if self.on_ways is not None and len(self.ways.id) >= self.chunk_ways:
                self.flush_ways()
        if feature or address:
            polygon = w.is_closed() and _closed_way_is_area(tags)
            if feature:
                values = tuple(map(get, self.feature_tags))
                self.features.add("way", w.id, wkb, values, polygon)
            if address:
                self.dwellings.add("way", w.id, wkb, (get(_POSTCODE),), polygon)

    def flush_ways(self) -> None:
        """Hand the ways read so far to ``on_ways`` as segments, and forget them."""
        if self.ways.id:
            self.n_ways += len(self.ways.id)
            self.on_ways(_segments(self.ways))
            self.ways = _Rows()

    def area(self, a) -> None:
        from_way = a.from_way()
        tags = a.tags
        get = tags.get
        kind = context_kind(tags) if self.want_context else None
        # closed ways are features as ways, with the polygon rule above
        feature = not from_way and self._is_feature(get)
        if kind is None and not feature:
            return
        try:
            wkb = self.factory.create_multipolygon(a)
        except RuntimeError:
            return
        if kind is not None:
            osm_kind = "way" if from_way else "relation"
            self.context.add(osm_kind, a.orig_id(), wkb, (kind, get("name")))
        if feature:
            values = tuple(map(get, self.feature_tags))
            self.relation_features.add("relation", a.orig_id(), wkb, values)


@contextmanager
def _reading(path):
    """Turn libosmium's RuntimeError on a corrupt file into a one-line :class:`InputError`."""
    try:
        yield
    except RuntimeError as exc:
        raise InputError(f"OSM extract: could not read {path} ({exc})") from exc


def _area_assembly(path: Path, area_keys: tuple[str, ...], pool):
    """Multipolygon relations with ``area_keys`` read and set up to become areas.

    Returns the buffer the areas arrive in (only those carrying ``area_keys``), and the
    objects the assembly needs kept alive (see :func:`_read_pass`), the handler for the
    pass over the ways last.
    """
    import osmium
    from osmium.io import Reader

    manager = osmium.area.AreaManager()
    area_filter = osmium.filter.KeyFilter(*area_keys)
    with Reader(str(path), osmium.osm.RELATION, thread_pool=pool) as relations:
        osmium.apply(relations, area_filter, manager.first_pass_handler())
    areas = osmium.BufferIterator(area_filter)
    return areas, (manager, area_filter, manager.second_pass_to_buffer(areas))


def _read_pass(path: Path, collector: _Collector, keys: set[str], area_keys: tuple) -> None:
    """The one pass: objects with ``keys`` go to the collector.

    Relations with ``area_keys`` are assembled into areas, and so are closed ways (libosmium
    assembles every closed way it sees); only areas carrying ``area_keys`` reach Python.
    This is pyosmium's ``FileProcessor.with_areas`` with that one difference: there, every
    area passing the object filter comes to Python, which for an extract means every
    building with an address (27,425 of 27,537 areas on Aachen, for nothing).
    """
    import osmium
    from osmium.io import Reader, ThreadPool

    # pyosmium's iterators hold no reference to the handlers and filters they are given:
    # every one is kept in a local name until the pass is over
    pool = ThreadPool()
    store = osmium.index.create_map("flex_mem")
    locations = osmium.NodeLocationsForWays(store)
    locations.ignore_errors()
    handlers: list = [locations]
    areas = keep_alive = None
    keep = (  # only the areas, when no key is asked for (a map's context alone)
        osmium.filter.KeyFilter(*sorted(keys))
        if keys
        else osmium.filter.EntityFilter(osmium.osm.NOTHING)
    )
    node, way, area = collector.node, collector.way, collector.area
    Node, Way = osmium.osm.Node, osmium.osm.Way
    with _reading(path):
        if area_keys:  # multipolygon relations carrying these keys become areas
            areas, keep_alive = _area_assembly(path, area_keys, pool)
            handlers.append(keep_alive[-1])
        with Reader(str(path), thread_pool=pool) as reader:
            for obj in osmium.OsmFileIterator(reader, *handlers, keep):
                kind = type(obj)
                if kind is Way:
                    way(obj)
                elif kind is Node:
                    node(obj)
                if areas:  # relations need no handling: their areas come from the buffer
                    for a in areas:
                        area(a)
        if areas:
            for a in areas:  # what the last flush left
                area(a)


# --- the same pass in parts, for a country (tilestore.convert_pbf with processes) -------
# (the runs of blocks come from sources.pbf_blocks.pbf_runs)
#
# A national PBF is read by several processes at once: the node locations are gathered
# once in C++ (node_locations) and shared with forked workers; each reads a run of the
# file's blocks (read_run: its tagged nodes, then its ways, located from the shared
# index), one more assembles the multipolygon relations (read_relations), and
# extract_from_runs puts the rows together in file order: the layers read_osm gives.


def node_locations(path: str | os.PathLike):
    """Every node's location, gathered in one pass in C++ (no node comes to Python)."""
    import osmium
    from osmium.io import FileBuffer, Reader, ThreadPool

    p = _check_pbf(path)
    index = osmium.index.create_map("flex_mem")
    handler = osmium.NodeLocationsForWays(index)
    handler.ignore_errors()
    pool = ThreadPool()  # held in a local until the pass is over (see _read_pass)
    with _reading(p):
        with Reader(str(p), osmium.osm.NODE, thread_pool=pool) as reader:
            osmium.apply(reader, handler)
    # libosmium sorts the index when its handler meets the first way, and only then (nodes
    # out of id order, as ``osmium cat`` of two extracts leaves them, would otherwise be
    # looked up in an unsorted index): one way, read from a line of OPL, sorts it here,
    # before the workers are forked, none of which then writes to it
    one_way = FileBuffer(b"w1 Nn1\n", "opl")
    with Reader(one_way, osmium.osm.WAY) as reader:
        osmium.apply(reader, handler)
    return index


def read_run(
    path: str | os.PathLike,
    header: tuple[int, int],
    blocks: list[tuple[int, int]],
    locations,
    *,
    feature_keys: tuple[str, ...],
    feature_prefilter: Mapping[str, frozenset[str] | None] | None,
    on_ways: Callable[[gpd.GeoDataFrame], None],
    chunk_ways: int = 100_000,
) -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame]:
    """Read a run of the file's blocks: ways to ``on_ways``, features and dwellings returned.

    The features and dwellings come as points, for :func:`extract_from_runs`. The
    blocks are read behind the file's ``header`` block (both from
    :func:`~thuisdichtbij.sources.pbf_blocks.pbf_runs`) as a PBF of their own, nodes first
    and ways after (a sorted file holds the nodes before the ways, so the rows keep file
    order); the ways take their locations from ``locations`` (:func:`node_locations`). One
    decoding thread: the processes are the parallelism.
    """
    import osmium
    from osmium.io import FileBuffer, Reader, ThreadPool

    p = Path(path)
    collector = _Collector(
        ways=True,
        feature_keys=feature_keys,
        prefilter=feature_prefilter,
        dwellings=True,
        on_ways=on_ways,
        chunk_ways=chunk_ways,
    )
    keys, _ = _pass_keys(feature_keys, feature_prefilter, ways=True, dwellings=True)
    with open(p, "rb") as f:
        data = b"".join(os.pread(f.fileno(), size, at) for at, size in [header, *blocks])
    # as in _read_pass, every buffer, handler and filter is held in a local name
    pool = ThreadPool(num_threads=1)
    keep = osmium.filter.KeyFilter(*sorted(keys))
    located = osmium.NodeLocationsForWays(locations)
    located.ignore_errors()
    with GC_PAUSED.held():  # a tuple of tags per object: see GC_PAUSED
        with _reading(p):
            nodes = FileBuffer(data, "pbf")
            with Reader(nodes, osmium.osm.NODE, thread_pool=pool) as reader:
                for obj in osmium.OsmFileIterator(reader, keep):
                    collector.node(obj)
            ways = FileBuffer(data, "pbf")
            with Reader(ways, osmium.osm.WAY, thread_pool=pool) as reader:
                for obj in osmium.OsmFileIterator(reader, located, keep):
                    collector.way(obj)
        collector.flush_ways()
        return (
            _features(collector.features, collector.feature_tags),
            _dwelling_points(collector.dwellings),
        )


def read_relations(
    path: str | os.PathLike,
    locations,
    *,
    feature_keys: tuple[str, ...],
    feature_prefilter: Mapping[str, frozenset[str] | None] | None,
) -> gpd.GeoDataFrame:
    """The multipolygon relations that are features, as points (after all other features).

    They are assembled from the whole file's ways, located from ``locations``.
    """
    import osmium
    from osmium.io import Reader, ThreadPool

    p = Path(path)
    collector = _Collector(
        ways=False, feature_keys=feature_keys, prefilter=feature_prefilter, dwellings=False
    )
    _, area_keys = _pass_keys(feature_keys, feature_prefilter)
    if not area_keys:
        return _features(collector.relation_features, collector.feature_tags)
    pool = ThreadPool(num_threads=1)  # as in read_run
    located = osmium.NodeLocationsForWays(locations)
    located.ignore_errors()
    with _reading(p):
        areas, keep_alive = _area_assembly(p, area_keys, pool)
        with Reader(str(p), osmium.osm.WAY, thread_pool=pool) as ways:
            osmium.apply(ways, located, keep_alive[-1])  # in C++: no way comes to Python
    for a in areas:
        collector.area(a)
    return _features(collector.relation_features, collector.feature_tags)


def extract_from_runs(
    path: str | os.PathLike,
    runs: list[tuple[gpd.GeoDataFrame, gpd.GeoDataFrame]],
    relations: gpd.GeoDataFrame,
) -> OsmExtract:
    """The features and dwellings :func:`read_osm` gives, from the runs read in parts."""
    features = pd.concat([f for f, _ in runs] + [relations], ignore_index=True)
    dwellings = pd.concat([d for _, d in runs], ignore_index=True)
    return OsmExtract(path=Path(path), features=features, **_dwellings(Path(path), dwellings))


def _from_wkb(wkb_hex: list[str]) -> np.ndarray:
    """Geometries from pyosmium's hex WKB, decoded to bytes first.

    That halves the time: GEOS reads hex digit by digit (0.23 s against 0.11 s for
    Aachen's 37,645 ways).
    """
    return shapely.from_wkb(np.array([bytes.fromhex(h) for h in wkb_hex], dtype=object))


def _shapes(rows: _Rows) -> np.ndarray:
    """One geometry per row: points for nodes, lines or polygons for ways, relation areas.

    A closed way that is an area becomes a polygon, so its point lies inside the outline;
    one with fewer than three locations (a way cut at the extract's edge) has no outline
    and gets None.
    """
    out = np.empty(len(rows.id), dtype=object)
    node = np.array([k == "node" for k in rows.kind], dtype=bool)
    if node.any():
        xy = np.array([g for g, n in zip(rows.geom, node) if n], dtype=float)
        out[node] = shapely.points(xy)
    if (~node).any():
        geoms = _from_wkb([g for g, n in zip(rows.geom, node) if not n])
        poly = np.array(rows.polygon, dtype=bool)[~node]
        n_xy = shapely.get_num_coordinates(geoms)
        ring = poly & (n_xy >= 4)
        if ring.any():
            coords, idx = shapely.get_coordinates(geoms[ring], return_index=True)
            geoms[ring] = shapely.polygons(shapely.linearrings(coords, indices=idx))
        for i in np.flatnonzero(poly & (n_xy == 3)):  # there and back: a degenerate outline
            geoms[i] = shapely.polygons(shapely.get_coordinates(geoms[i]))
        geoms[poly & (n_xy < 3)] = None
        out[~node] = geoms
    return out


def _osm_ids(rows: _Rows) -> pd.Series:
    return pd.Series([f"{k}/{i}" for k, i in zip(rows.kind, rows.id)], dtype="string")


def _segments(rows: _Rows) -> gpd.GeoDataFrame:
    """Ways split into two-point segments, so that ways meet where they share a node."""
    lines = _from_wkb(rows.geom)
    coords, idx = shapely.get_coordinates(lines, return_index=True)
    same = idx[1:] == idx[:-1]
    seg = np.stack([coords[:-1][same], coords[1:][same]], axis=1)
    way = idx[:-1][same]
    tags = pd.DataFrame(rows.tags, columns=list(WAY_TAGS)).iloc[way].reset_index(drop=True)
    tags.insert(0, "id", np.asarray(rows.id, dtype=np.int64)[way])
    return gpd.GeoDataFrame(tags, geometry=shapely.linestrings(seg), crs=4326)


def _features(rows: _Rows, tag_names: tuple[str, ...]) -> gpd.GeoDataFrame:
    frame = pd.DataFrame(rows.tags, columns=list(tag_names), dtype=object)
    frame.insert(0, "osm_id", _osm_ids(rows))
    return _points(gpd.GeoDataFrame(frame, geometry=_shapes(rows), crs=4326))


def _points(gdf: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Rows with a geometry, each at a point (inside outlines, as for any other source)."""
    return as_points(gdf[gdf.geometry.notna()].reset_index(drop=True))


def _dwelling_points(rows: _Rows) -> gpd.GeoDataFrame:
    postcode = pd.Series([t[0] for t in rows.tags], dtype="string")
    frame = gpd.GeoDataFrame(
        {"dwelling_id": _osm_ids(rows), "postcode": postcode}, geometry=_shapes(rows), crs=4326
    )
    return _points(frame)


def _residential_buildings(path: Path) -> gpd.GeoDataFrame:
    """Residential building outlines as dwelling points (a second pass, only when needed)."""
    import osmium

    rows = _Rows()
    factory = osmium.geom.WKBFactory()
    proc = (
        osmium.FileProcessor(str(path), osmium.osm.NODE | osmium.osm.WAY)
        .with_locations()
        .with_filter(osmium.filter.KeyFilter("building"))
    )
    for obj in proc:
        if obj.is_way() and obj.tags.get("building") in RESIDENTIAL_BUILDINGS:
            wkb = _way_wkb(obj, factory)
            if wkb is not None:
                rows.add("way", obj.id, wkb, (obj.tags.get(_POSTCODE),), obj.is_closed())
    return _dwelling_points(rows)


def read_osm(
    path: str | os.PathLike,
    *,
    ways: bool = True,
    feature_keys: list[str] | tuple[str, ...] = (),
    feature_prefilter: Mapping[str, frozenset[str] | None] | None = None,
    dwellings: bool = True,
    context: bool = False,
    on_ways: Callable[[gpd.GeoDataFrame], None] | None = None,
    chunk_ways: int = 100_000,
) -> OsmExtract:
    """Read the layers a scan needs from an extract, in one pass over the file.

    Parameters
    ----------
    path
        An ``.osm.pbf`` file.
    ways
        Read the highway ways (all of them: :func:`thuisdichtbij.engine.network.walkable`
        decides which a pedestrian may use, for OSM and street files alike).
    feature_keys
        Read the nodes, ways and multipolygon relations carrying any of these keys, with a
        column per key; ways and relations are taken at a point inside their outline.
    feature_prefilter
        Keep only the features carrying one of these keys with one of its values (None:
        any value), e.g. :func:`thuisdichtbij.sources.tags.rule_starts`; which of them
        count is still decided by ``tags.match``.
    dwellings
        Read address points (nodes and ways with ``addr:housenumber``); when the extract
        has none, residential buildings (a second pass over the file).
    context
        Read water and green areas (closed ways and multipolygon relations) as polygons,
        in the same pass (see :attr:`OsmExtract.context`).
    on_ways
        Hand the ways over in pieces of ``chunk_ways`` ways (as segments, like ``ways``)
        while the file is read, instead of keeping them (``ways`` is then None): memory
        stays bounded for a whole country (:mod:`thuisdichtbij.sources.tilestore`).
    """
    p = _check_pbf(path)
    feature_keys = tuple(dict.fromkeys(feature_keys))
    keys, area_keys = _pass_keys(
        feature_keys, feature_prefilter, ways=ways, dwellings=dwellings, context=context
    )
    collector = _Collector(
        ways=ways,
        feature_keys=feature_keys,
        prefilter=feature_prefilter,
        dwellings=dwellings,
        context=context,
        on_ways=on_ways,
        chunk_ways=chunk_ways,
    )
    with GC_PAUSED.held():  # a tuple of tags per object: see GC_PAUSED
        if keys or area_keys:
            _read_pass(p, collector, keys, area_keys)
        if ways:
            if not (collector.ways.id or collector.n_ways):
                raise no_highways(path)
            if on_ways is not None:
                collector.flush_ways()
        collector.features.extend(collector.relation_features)
        return _extract(
            p,
            collector,
            ways=ways and on_ways is None,
            features=bool(feature_keys),
            dwellings=dwellings,
            context=context,
        )


def no_highways(path) -> InputError:
    """The error for an extract without a highway way (the wrong area, or an empty file)."""
    return InputError(f"OSM extract: {path} holds no highway ways; is it the right area?")


def _pass_keys(
    feature_keys, prefilter, *, ways: bool = False, dwellings: bool = False, context: bool = False
):
    """The keys that bring an object to Python, and those that make a relation an area.

    The water and green areas come from the area assembly alone (closed ways and
    relations, in C++): their keys bring no node or way to Python (on Aachen 4,091 nodes,
    mostly trees, and 3,535 ways, a seventh of the objects, came for nothing).
    """
    keys = set(feature_keys if prefilter is None else prefilter)
    keys |= {"highway"} if ways else set()
    keys |= {_ADDRESS} if dwellings else set()
    area_keys = tuple(feature_keys if prefilter is None else prefilter)
    area_keys = (area_keys if feature_keys else ()) + (CONTEXT_KEYS if context else ())
    return keys, tuple(dict.fromkeys(area_keys))


def _extract(p: Path, rows, *, ways: bool, features: bool, dwellings: bool, context: bool):
    """The layers asked for, from what a pass collected (``rows``: a :class:`_Collector`)."""
    out = {}
    if ways:
        out["ways"] = _segments(rows.ways)
    if features:
        out["features"] = _features(rows.features, rows.feature_tags)
    if dwellings:
        out.update(_dwellings(p, _dwelling_points(rows.dwellings)))
    if context:
        out["context"] = _context(rows.context)
    return OsmExtract(path=p, **out)


def _context(rows: _Rows) -> gpd.GeoDataFrame:
    """Water and green polygons: kind, name, source_id, geometry (EPSG:4326)."""
    geoms = _from_wkb(rows.geom) if rows.id else []
    frame = gpd.GeoDataFrame(
        {
            "kind": pd.Series([t[0] for t in rows.tags], dtype="string"),
            "name": pd.Series([t[1] for t in rows.tags], dtype="string"),
            "source_id": _osm_ids(rows),
        },
        geometry=gpd.GeoSeries(geoms, crs=4326).values,
        crs=4326,
    )
    return frame[~frame.geometry.is_empty].reset_index(drop=True)


def _dwellings(path: Path, points: gpd.GeoDataFrame) -> dict:
    """The dwellings: the address points, else (none) the residential buildings."""
    how = "OSM address points (addr:housenumber)"
    if points.empty:
        points = _residential_buildings(path)
        how = "OSM residential buildings"
        if points.empty:
            raise InputError(
                f"OSM extract: {path.name} has neither address points nor residential "
                "buildings to use as dwellings; pass a dwelling layer with --dwellings"
            )
    log.info("dwellings: %d %s", len(points), how)
    return {"dwellings": points, "dwellings_how": how}


def read_osm_ways(path: str | os.PathLike) -> gpd.GeoDataFrame:
    """All highway ways of the extract as two-point segments (see :func:`read_osm`)."""
    return read_osm(path, dwellings=False).ways


def read_osm_features(path: str | os.PathLike, keys: list[str]) -> gpd.GeoDataFrame:
    """Nodes, ways and multipolygons carrying any of ``keys``, as points (see :func:`read_osm`)."""
    return read_osm(path, ways=False, feature_keys=keys, dwellings=False).features


def read_osm_dwellings(path: str | os.PathLike) -> tuple[gpd.GeoDataFrame, str]:
    """Dwellings from the extract and a word on what they are (see :func:`read_osm`).

    Dutch OSM addresses come from the BAG import, so they are a fair stand-in for
    dwellings, with the caveat that shops and offices have addresses too.
    """
    ext = read_osm(path, ways=False)
    return ext.dwellings, ext.dwellings_how


def clip_pbf(src: str | os.PathLike, dst: str | os.PathLike, bbox_wgs84) -> Path:
    """Cut an ``.osm.pbf`` to a WGS84 bounding box (west, south, east, north), with pyosmium.

    Keeps the nodes inside the box, every way that touches one of them (whole, with all its
    nodes, so streets that leave the box stay intact) and drops relations. Written to a
    temporary file and moved into place.
    """
    import osmium

    src, dst = Path(src), Path(dst)
    w, s, e, n = bbox_wgs84
    inside: set[int] = set()
    for node in osmium.FileProcessor(str(src), osmium.osm.NODE):
        loc = node.location
        if loc.valid() and w <= loc.lon <= e and s <= loc.lat <= n:
            inside.add(node.id)
    needed, ways = set(inside), set()
    for way in osmium.FileProcessor(str(src), osmium.osm.WAY):
        refs = [r.ref for r in way.nodes]
        if any(r in inside for r in refs):
            ways.add(way.id)
            needed.update(refs)
    if not inside:
        raise InputError(f"OSM extract: {src.name} has no data in {tuple(bbox_wgs84)}")
    tmp = dst.with_name(f".{dst.name}.part.osm.pbf")
    tmp.unlink(missing_ok=True)
    try:
        with osmium.SimpleWriter(str(tmp)) as out:
            for obj in osmium.FileProcessor(str(src), osmium.osm.NODE | osmium.osm.WAY):
                if obj.is_node() and obj.id in needed:
                    out.add_node(obj)
                elif obj.is_way() and obj.id in ways:
                    out.add_way(obj)
        os.replace(tmp, dst)
    finally:
        tmp.unlink(missing_ok=True)
    log.info("OSM extract: cut %s to %d nodes and %d ways", src.name, len(needed), len(ways))
    return dst
