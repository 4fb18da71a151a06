"""OpenStreetMap through osmnx (the Overpass API), for a place without a PBF extract at hand.

Only the reading differs from an ``.osm.pbf`` scan. osmnx downloads, from Overpass and with
its own cache (in our cache folder), the same three things the PBF reader takes from a file:

- every highway way, as segments between consecutive OSM nodes (``network_type="all"``,
  unsimplified: the same ways the PBF reader reads; `engine.network.walkable` then decides),
- the features carrying any tag key the indicators look at (nodes, ways, relations),
- address points (``addr:housenumber``), else residential buildings, for dwellings.

They are written to one GeoPackage (layers ``edges``, ``features``, ``dwellings``, and
``study_area`` for a place), and the scan then reads that file as it reads any street
network, tag-bearing amenity file and dwelling layer: the walkable-way rule, the tag
matching and the network building are the ones every other source goes through. The file
is the run's provenance (its hash is in the scan's metadata), together with the query, its
date and osmnx's version.

osmnx is optional: ``pip install 'thuisdichtbij[osmnx]'``.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import re
from datetime import datetime, timezone
from pathlib import Path

import geopandas as gpd
import pandas as pd
import shapely

from ..config import Config, load_config
from ..crs import choose_metric_crs
from ..errors import InputError, ThuisdichtbijError
from ..settings import cache_dir as _cache_dir
from ..study import Study
from ._io import as_points
from .osm import RESIDENTIAL_BUILDINGS
from .tags import needed_keys

log = logging.getLogger(__name__)

__all__ = ["OverpassError", "study_from_overpass", "parse_bbox", "OSM_ATTRIBUTION"]

OSM_ATTRIBUTION = "© OpenStreetMap contributors, ODbL 1.0 (via the Overpass API and osmnx)"
#: The way tags the network needs (the PBF reader keeps the same ones).
_WAY_TAGS = [
    "highway",
    "name",
    "foot",
    "access",
    "service",
    "surface",
    "smoothness",
    "wheelchair",
    "kerb",
]
_EDGE_COLUMNS = ["id", "highway", "name", "foot", "access", "service", "geometry"]


class OverpassError(ThuisdichtbijError):
    """The Overpass API (or Nominatim) gave no usable answer."""


def parse_bbox(text: str) -> tuple[float, float, float, float]:
    """``"W,S,E,N"`` in WGS84 degrees (longitude first), checked."""
    try:
        w, s, e, n = (float(v) for v in str(text).split(","))
    except ValueError:
        raise InputError(
            f"--osm-bbox: {text!r} is not four numbers; give west,south,east,north in degrees, "
            "e.g. 5.95,50.75,6.05,50.80"
        ) from None
    if not (-180 <= w < e <= 180 and -90 <= s < n <= 90):
        raise InputError(
            f"--osm-bbox: {text!r} is not a box west,south,east,north in degrees (longitude "
            "first, west < east, south < north)"
        )
    return w, s, e, n


def _osmnx():
    try:
        import osmnx
    except ImportError:
        raise ThuisdichtbijError(
            "OpenStreetMap by place or box needs osmnx: pip install 'thuisdichtbij[osmnx]'"
        ) from None
    return osmnx


def _raise_for_status(response, *args, **kwargs):
    # osmnx waits and retries on 429/504 without end; a user at a terminal wants to hear it.
    if response.status_code in (429, 504) or response.status_code >= 500:
        raise OverpassError(
            f"{response.url.split('?')[0]} answered HTTP {response.status_code} "
            f"{response.reason}: the server is busy or failing; try again later or set "
            "THUISDICHTBIJ_OVERPASS_URL to another Overpass instance"
        )


def _configure(ox, cache: Path, *, overpass_url: str | None, nominatim_url: str | None, timeout_s):
    s = ox.settings
    s.cache_folder = str(cache)
    s.use_cache = True
    s.log_console = False
    s.requests_timeout = timeout_s
    s.overpass_rate_limit = False
    s.requests_kwargs = {"hooks": {"response": [_raise_for_status]}}
    s.useful_tags_way = sorted(set(_WAY_TAGS))
    s.overpass_url = overpass_url or os.environ.get(
        "THUISDICHTBIJ_OVERPASS_URL", "https://overpass-api.de/api"
    )
    if nominatim_url or os.environ.get("THUISDICHTBIJ_NOMINATIM_URL"):
        s.nominatim_url = nominatim_url or os.environ["THUISDICHTBIJ_NOMINATIM_URL"]
    return s.overpass_url


def _call(what: str, func, *args, **kwargs):
    """Run an osmnx download; its failures become one line that names the cause."""
    import requests

    ox = _osmnx()
    try:
        return func(*args, **kwargs)
    except ThuisdichtbijError:
        raise
    except requests.Timeout:
        raise OverpassError(
            f"{what}: no answer within {ox.settings.requests_timeout:g} s; try again later or "
            "a smaller area"
        ) from None
    except requests.ConnectionError as exc:
        raise OverpassError(f"{what}: could not reach the server ({_root_cause(exc)})") from None
    except ox._errors.InsufficientResponseError as exc:
        raise OverpassError(f"{what}: the answer holds no data ({exc})") from None
    except (ValueError, ox._errors.ResponseStatusCodeError) as exc:
        raise OverpassError(f"{what}: {exc}") from None


def _root_cause(exc: BaseException) -> str:
    while exc.__cause__ is not None or exc.__context__ is not None:
        exc = exc.__cause__ or exc.__context__
    return f"{type(exc).__name__}: {exc}"


def _edges(ox, polygon) -> gpd.GeoDataFrame:
    """Every highway way as segments between consecutive nodes, in way-id and way order.

    Read from Overpass's own answer (ways with their node lists), not from an osmnx graph:
    a graph keeps no order of a way's segments, and the order decides ties (the scan snaps
    to the edge listed first where two streets are exactly equally near). The filter is
    osmnx's ``network_type="all"``, the same rule the PBF reader's "all" follows; like an
    extract, ways crossing the border come whole. osmnx's downloader is not public API,
    hence the version range of the ``osmnx`` extra.
    """
    from osmnx import _overpass

    answers = _call(
        "Overpass (street network)",
        lambda: list(_overpass._download_overpass_network(polygon, "all", None)),
    )
    nodes, ways = {}, {}
    for answer in answers:
        for el in answer.get("elements", []):
            if el["type"] == "node":
                nodes[el["id"]] = (el["lon"], el["lat"])
            elif el["type"] == "way":
                ways[el["id"]] = el
    if not ways:
        raise OverpassError("Overpass (street network): the answer holds no data (no highway ways)")
    rows, lines = [], []
    for way_id in sorted(ways):
        way = ways[way_id]
        tags = way.get("tags", {})
        refs = [r for r in way["nodes"] if r in nodes]
        for a, b in zip(refs[:-1], refs[1:]):
            rows.append((way_id, *(tags.get(k) for k in _WAY_TAGS)))
            lines.append((nodes[a], nodes[b]))
    frame = pd.DataFrame(rows, columns=["id", *_WAY_TAGS])
    return gpd.GeoDataFrame(
        frame[_EDGE_COLUMNS[:-1]], geometry=shapely.linestrings(lines), crs=4326
    )


def _features(ox, polygon, tags: dict, what: str, columns: list[str]) -> gpd.GeoDataFrame:
    """Features with any of ``tags`` (osmnx), as points, with ``osm_id`` and ``columns``."""
    try:
        feats = _call(f"Overpass ({what})", ox.features_from_polygon, polygon, tags)
    except OverpassError as exc:
        if "holds no data" in str(exc):
            return gpd.GeoDataFrame(
                {"osm_id": [], **{c: [] for c in columns}}, geometry=[], crs=4326
            )
        raise
    feats = feats.reset_index()
    out = gpd.GeoDataFrame(
        {"osm_id": feats["element"].astype(str) + "/" + feats["id"].astype(str)},
        geometry=feats.geometry.to_numpy(),
        crs=4326,
    )
    for col in columns:
        out[col] = feats[col].astype("string") if col in feats else pd.NA
    return as_points(out)


def _dwellings(ox, polygon) -> tuple[gpd.GeoDataFrame, str]:
    """Address points (nodes and buildings, no relations), else residential buildings."""
    addr = _features(ox, polygon, {"addr:housenumber": True}, "address points", ["addr:postcode"])
    addr = addr[~addr["osm_id"].str.startswith("relation/")]
    how = "OSM address points (addr:housenumber)"
    if addr.empty:
        addr = _features(
            ox, polygon, {"building": list(RESIDENTIAL_BUILDINGS)}, "buildings", ["addr:postcode"]
        )
        how = "OSM residential buildings"
        if addr.empty:
            raise OverpassError(
                "Overpass: the area has neither address points nor residential buildings to "
                "use as dwellings"
            )
    out = gpd.GeoDataFrame(
        {"dwelling_id": addr["osm_id"].astype(str), "postcode": addr["addr:postcode"]},
        geometry=addr.geometry.to_numpy(),
        crs=4326,
    )
    return out, how


def _area(ox, place: str | None, bbox) -> tuple[shapely.Geometry, gpd.GeoDataFrame | None]:
    """The area to scan (WGS84): the place's polygon from Nominatim, or the box."""
    if place is None:
        return shapely.box(*bbox), None
    found = _call(f"Nominatim ({place})", ox.geocode_to_gdf, place)
    poly = found.geometry.iloc[0]
    if poly.geom_type not in ("Polygon", "MultiPolygon"):
        raise OverpassError(
            f"Nominatim ({place}): the place is a {poly.geom_type}, not an area; name a "
            "municipality or town, or give --osm-bbox"
        )
    return poly, gpd.GeoDataFrame({"name": [place]}, geometry=[poly], crs=4326)


def _buffered(area_wgs84, buffer_m: float):
    """The area plus ``buffer_m`` (people walk across its border), in WGS84."""
    frame = gpd.GeoDataFrame(geometry=[area_wgs84], crs=4326)
    metric = frame.to_crs(choose_metric_crs(frame))
    return metric.buffer(buffer_m).to_crs(4326).iloc[0]


def study_from_overpass(
    *,
    place: str | None = None,
    bbox: tuple[float, float, float, float] | None = None,
    config: Config | None = None,
    cache_dir: str | os.PathLike | None = None,
    overpass_url: str | None = None,
    nominatim_url: str | None = None,
    timeout_s: float = 180.0,
) -> Study:
    """A study of OpenStreetMap data for a place (Nominatim) or a box, through osmnx.

    Parameters
    ----------
    place
        A place name Nominatim knows ("Vaals, Netherlands"); its polygon is the study area
        and the data are fetched for it plus the walking buffer (the largest band plus the
        snap limit).
    bbox
        Instead of a place: (west, south, east, north) in WGS84 degrees, taken as it is.
    config
        Which tag keys the indicators need (default: the shipped configuration).
    cache_dir
        Our cache folder (default ``$THUISDICHTBIJ_CACHE``); osmnx keeps its answers under
        ``overpass/http`` there, the GeoPackages under ``overpass/``.
    overpass_url, nominatim_url
        Other instances (default: ``$THUISDICHTBIJ_OVERPASS_URL``, else overpass-api.de;
        ``$THUISDICHTBIJ_NOMINATIM_URL``, else osmnx's default).
    timeout_s
        Seconds per request.
    """
    if (place is None) == (bbox is None):
        raise InputError("OpenStreetMap by Overpass: give a place or a box, not both or neither")
    ox = _osmnx()
    cfg = config or load_config()
    folder = _cache_dir(cache_dir) / "overpass"
    url = _configure(
        ox,
        folder / "http",
        overpass_url=overpass_url,
        nominatim_url=nominatim_url,
        timeout_s=timeout_s,
    )
    area, study_area = _area(ox, place, bbox)
    query = _buffered(area, cfg.max_distance_m + cfg.max_snap_m) if place else area
    keys = needed_keys(cfg.indicators)
    log.info("Overpass: street network, %d tag keys and address points from %s", len(keys), url)
    layers = {
        "edges": _edges(ox, query),
        "features": _features(
            ox, query, dict.fromkeys(keys, True), "amenities", list(dict.fromkeys(["name", *keys]))
        ),
    }
    layers["dwellings"], how = _dwellings(ox, area)
    if study_area is not None:
        layers["study_area"] = study_area
    info = {
        "overpass_url": url,
        "query": f"place {place!r}" if place else f"bbox {','.join(f'{v:g}' for v in bbox)}",
        "query_polygon_wgs84": shapely.to_wkt(query, rounding_precision=6),
        "date_utc": datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "osmnx_version": ox.__version__,
        "dwellings": how,
        "attribution": OSM_ATTRIBUTION,
    }
    path = _write(folder, place or info["query"], layers, info)
    return _study(path, place or info["query"], study_area is not None, info)


def _write(folder: Path, label: str, layers: dict, info: dict) -> Path:
    """The layers in one GeoPackage under ``folder``, named after the query, written atomically."""
    folder.mkdir(parents=True, exist_ok=True)
    digest = hashlib.sha256(
        json.dumps({k: v for k, v in info.items() if k != "date_utc"}, sort_keys=True).encode()
    ).hexdigest()[:10]
    slug = re.sub(r"[^a-z0-9]+", "-", label.lower()).strip("-")[:40] or "area"
    path = folder / f"{slug}-{digest}.gpkg"
    tmp = folder / f".{path.name}.part.gpkg"
    tmp.unlink(missing_ok=True)
    try:
        for name, gdf in layers.items():
            gdf.to_file(tmp, layer=name, driver="GPKG")
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)
    return path


def _study(path: Path, label: str, has_area: bool, info: dict) -> Study:
    return Study(
        name=f"OpenStreetMap {label}",
        network={"file": path, "layer": "edges"},
        dwellings={"file": path, "layer": "dwellings", "id": "dwelling_id", "postcode": "postcode"},
        amenities=({"file": path, "layer": "features", "format": "osm_tags", "id": "osm_id"},),
        study_area=(
            {"file": path, "layer": "study_area", "id_field": "name", "ids": (label,)}
            if has_area
            else None
        ),
        sources={"osm": info},
    )
