"""OpenStreetMap ``.osm.pbf`` extracts, read with pyrosm.

Three readers over one file: the ways a network can be built from, the features that may
be amenities (nodes, and building outlines taken at a point inside them), and dwellings
(address points, else residential buildings). All return GeoDataFrames in EPSG:4326; the
scan reprojects them to the study CRS.
"""

from __future__ import annotations

import logging
import os
import warnings
from pathlib import Path

import geopandas as gpd

from ..errors import InputError
from ._io import as_points, require_file
from .tags import expand_tags

log = logging.getLogger(__name__)

#: Residential building types, used for dwellings when an extract has no address points.
RESIDENTIAL_BUILDINGS = (
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
)

_EDGE_COLUMNS = ["id", "highway", "name", "foot", "access", "service", "geometry"]


def _open(path: str | os.PathLike):
    p = require_file(path, "OSM extract")
    if not p.name.endswith(".pbf"):
        raise InputError(
            f"OSM extract: {p} is not an .osm.pbf file; download a PBF extract (e.g. from "
            "Geofabrik or BBBike) or pass a street network with --network"
        )
    import pyrosm  # imported here: it is slow to import and only this reader needs it

    try:
        return pyrosm.OSM(str(p))
    except Exception as exc:  # pyrosm raises bare exceptions on corrupt files
        raise InputError(f"OSM extract: could not read {p} ({exc})") from exc


def _quiet(func, *args, **kwargs):
    # pyrosm calls APIs that current pandas/geopandas/shapely deprecate; its warnings
    # are not the user's business.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return func(*args, **kwargs)


def read_osm_ways(path: str | os.PathLike) -> gpd.GeoDataFrame:
    """All highway ways of the extract as line segments, with the tags walkability needs.

    Which of them a pedestrian may use is decided by :func:`thuisdichtbij.network.walkable`,
    the same rule that applies to street networks from files.
    """
    osm = _open(path)
    # nodes=True splits ways into segments between consecutive OSM nodes, so that ways
    # meet where they share a node.
    got = _quiet(
        osm.get_network, network_type="all", nodes=True, extra_attributes=["foot", "access"]
    )
    edges = got[1] if isinstance(got, tuple) else got
    if edges is None or len(edges) == 0:
        raise InputError(f"OSM extract: {path} holds no highway ways; is it the right area?")
    cols = [c for c in _EDGE_COLUMNS if c in edges.columns]
    return gpd.GeoDataFrame(edges[cols].reset_index(drop=True), crs=4326)


def read_osm_features(path: str | os.PathLike, keys: list[str]) -> gpd.GeoDataFrame:
    """Nodes and ways carrying any of ``keys``, as points, with a column per key.

    Ways (building outlines) are reduced to a point inside them, so a pharmacy mapped as a
    building counts as well as one mapped as a node.
    """
    osm = _open(path)
    custom = {k: True for k in keys}
    feats = _quiet(osm.get_pois, custom_filter=custom)
    if feats is None or len(feats) == 0:
        return gpd.GeoDataFrame({"osm_id": []}, geometry=[], crs=4326)
    feats = feats.reset_index(drop=True)
    feats["osm_id"] = feats["osm_type"].astype(str) + "/" + feats["id"].astype(str)
    return as_points(gpd.GeoDataFrame(feats, crs=4326))


def read_osm_dwellings(path: str | os.PathLike) -> tuple[gpd.GeoDataFrame, str]:
    """Dwellings from the extract: address points (nodes and buildings), else residential buildings.

    Dutch OSM addresses come from the BAG import, so they are a fair stand-in for
    dwellings, with the caveat that shops and offices have addresses too. Returns the
    points (columns ``dwelling_id``, ``postcode``) and a word on what was used.
    """
    osm = _open(path)
    addr = _quiet(
        osm.get_data_by_custom_criteria,
        custom_filter={"addr:housenumber": True},
        filter_type="keep",
        keep_nodes=True,
        keep_ways=True,
        keep_relations=False,
    )
    how = "OSM address points (addr:housenumber)"
    if addr is None or len(addr) == 0:
        addr = _quiet(osm.get_buildings, custom_filter={"building": list(RESIDENTIAL_BUILDINGS)})
        how = "OSM residential buildings"
        if addr is None or len(addr) == 0:
            raise InputError(
                f"OSM extract: {Path(path).name} has neither address points nor residential "
                "buildings to use as dwellings; pass a dwelling layer with --dwellings"
            )
    addr = expand_tags(addr.reset_index(drop=True), ["addr:postcode"])
    out = gpd.GeoDataFrame(
        {
            "dwelling_id": addr["osm_type"].astype(str) + "/" + addr["id"].astype(str),
            "postcode": addr["addr:postcode"].astype("string"),
        },
        geometry=addr.geometry.values,
        crs=4326,
    )
    log.info("dwellings: %d %s", len(out), how)
    return as_points(out), how


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
