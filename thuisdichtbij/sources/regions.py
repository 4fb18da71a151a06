"""Municipalities and provinces from CBS's gebiedsindelingen, and the OSM extract to fetch.

PDOK serves all CBS area divisions in one GeoPackage (``cbsgebiedsindelingen2025.gpkg``, about
56 layers): ``gemeente_niet_gegeneraliseerd`` (exact borders) and ``provincie_gegeneraliseerd``
(there is no non-generalised province layer), fields ``statcode`` (GM0935, PV31), ``statnaam``,
``jrstatcode``, ``rubriek``, ``id`` (portolan-nl-catalog's README of the feed; QGIS workshop
and scripts that read these layers). Geofabrik serves the Netherlands as one file and per
province (12 slugs; Friesland is ``friesland``).
"""

from __future__ import annotations

import logging
import os
import re
import unicodedata
from collections.abc import Mapping

import geopandas as gpd
import pyogrio

from ..crs import RD_NEW
from ..errors import InputError
from ._io import read_vector

log = logging.getLogger(__name__)

__all__ = ["read_municipality", "province_of", "osm_url", "province_slug"]

_CODE = re.compile(r"^GM\d{4}$", re.IGNORECASE)


def read_municipality(path: str | os.PathLike, entry: Mapping, which: str) -> gpd.GeoDataFrame:
    """The municipality ``which`` (name or GM code) from the catalogue's municipality layer."""
    gdf = read_vector(path, what="municipalities", layer=entry.get("layer"))
    by_code = bool(_CODE.match(which.strip()))
    field = entry.get("code_field") if by_code else entry["id_field"]
    if field not in gdf.columns:
        have = ", ".join(c for c in gdf.columns if c != "geometry")
        raise InputError(
            f"municipalities: layer {entry.get('layer') or ''!s} of {os.fspath(path)} has no "
            f"field '{field}' to find {which!r} in; its fields are {have}"
        )
    values = gdf[field].astype(str).str.strip()
    hit = gdf[values.str.casefold() == which.strip().casefold()]
    if hit.empty:
        close = sorted(v for v in values if v[:3].casefold() == which[:3].casefold())[:8]
        raise InputError(
            f"municipality: no municipality {which!r} in the CBS layer"
            + (f"; did you mean {', '.join(close)}?" if close else "")
        )
    return hit.to_crs(RD_NEW)


def province_slug(name: str) -> str:
    """Geofabrik's slug of a province name: ``Fryslân`` -> ``friesland``."""
    plain = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode().casefold()
    slug = re.sub(r"[^a-z]+", "-", plain).strip("-")
    return {"fryslan": "friesland", "friesland-fryslan": "friesland"}.get(slug, slug)


def _from_register(path, entry: Mapping, code: str) -> str | None:
    reg = entry.get("province_register")
    if not reg:
        return None
    if reg["layer"] not in [str(n) for n in pyogrio.list_layers(path)[:, 0]]:
        return None
    table = pyogrio.read_dataframe(path, layer=reg["layer"], read_geometry=False)
    if not {reg["code"], reg["province"]} <= set(table.columns):
        return None
    hit = table[table[reg["code"]].astype(str).str.strip().str.upper() == code.upper()]
    return str(hit.iloc[0][reg["province"]]) if len(hit) else None


def province_of(path: str | os.PathLike, entry: Mapping, muni: gpd.GeoDataFrame) -> str:
    """The province (its name) of a municipality: the register table, else largest overlap."""
    code = str(muni.iloc[0].get(entry.get("code_field", ""), ""))
    name = _from_register(path, entry, code) if code else None
    if name:
        return name
    prov = read_vector(path, what="provinces", layer=entry["province_layer"]).to_crs(RD_NEW)
    overlap = prov.intersection(muni.union_all()).area
    if not (overlap > 0).any():
        raise InputError(
            f"provinces: no province in layer {entry['province_layer']} of {os.fspath(path)} "
            "overlaps the municipality; give --osm-region"
        )
    return str(prov.loc[overlap.idxmax(), entry["id_field"]])


def osm_url(entry: Mapping, region: str) -> str:
    """Geofabrik's address of ``region``: ``netherlands`` or one of the 12 provinces."""
    slug = region.strip().casefold()
    if slug in ("netherlands", "nederland", "nl"):
        return entry["url_country"]
    regions = list(entry.get("regions") or [])
    if slug not in regions:
        raise InputError(
            f"--osm-region: {region!r} is not a Geofabrik region of the Netherlands; use "
            f"netherlands or one of {', '.join(regions)}"
        )
    return entry["url"].format(region=slug)
