"""BAG dwellings: verblijfsobjecten with a woonfunctie that are in use.

From PDOK's OGC API Features (GeoJSON pages, followed by their ``next`` links) or from the
national BAG GeoPackage. The dwelling layer keeps the BAG id (``bag_id``) so that results
can be joined back.
"""

from __future__ import annotations

import logging
import os

import geopandas as gpd
import pandas as pd

from ..errors import InputError
from ._io import read_vector, require_columns, require_file

log = logging.getLogger(__name__)

__all__ = ["bag_dwellings", "read_bag_gpkg", "bag_from_api"]

IN_USE = {"verblijfsobject in gebruik", "verblijfsobject in gebruik (niet ingemeten)"}


def _has_woonfunctie(value) -> bool:
    if isinstance(value, (list, tuple)):
        return any("woonfunctie" in str(v).lower() for v in value)
    return "woonfunctie" in str(value).lower()


def bag_dwellings(features: gpd.GeoDataFrame, *, what: str = "BAG") -> gpd.GeoDataFrame:
    """Keep verblijfsobjecten with a woonfunctie that are in use.

    Columns ``bag_id``, ``postcode`` (when the BAG gives it, without spaces) and points.
    """
    require_columns(features, ["identificatie", "gebruiksdoel", "status"], what=what, path="BAG")
    woon = features["gebruiksdoel"].map(_has_woonfunctie)
    in_use = features["status"].astype(str).str.strip().str.lower().isin(IN_USE)
    keep = features[woon & in_use]
    log.info("%s: %d of %d verblijfsobjecten are dwellings in use", what, len(keep), len(features))
    cols = {"bag_id": keep["identificatie"].astype(str).to_numpy()}
    if "postcode" in keep:
        cols["postcode"] = keep["postcode"].astype("string").str.replace(" ", "").to_numpy()
    return gpd.GeoDataFrame(cols, geometry=keep.geometry.to_numpy(), crs=features.crs)


def read_bag_gpkg(
    path: str | os.PathLike, *, layer: str = "verblijfsobject", bbox=None, empty_ok: bool = False
):
    """Dwellings from the national BAG GeoPackage (optionally within a bbox in its CRS).

    With ``empty_ok`` a bbox without verblijfsobjecten gives an empty layer, not an error
    (a tile of a national scan that lies in the sea).
    """
    if bbox is not None:
        require_file(path, "BAG")
        gdf = gpd.read_file(path, layer=layer, bbox=bbox, engine="pyogrio")
        if gdf.empty and not empty_ok:
            raise InputError(f"BAG: {path} has no verblijfsobjecten in {bbox}")
    else:
        gdf = read_vector(path, what="BAG", layer=layer)
    return bag_dwellings(gdf)


def bag_from_api(downloader, url: str, *, bbox_wgs84, page_size: int = 1000) -> gpd.GeoDataFrame:
    """Dwellings from the OGC API Features collection at ``url`` within a WGS84 bbox.

    Follows the ``next`` links page by page; each page is cached by the downloader.
    """
    w, s, e, n = bbox_wgs84
    page = f"{url}?f=json&limit={page_size}&bbox={w:.6f},{s:.6f},{e:.6f},{n:.6f}"
    frames, pages = [], 0
    while page:
        doc = downloader.get_json(page, what="BAG verblijfsobjecten")
        pages += 1
        feats = doc.get("features", [])
        if feats:
            frames.append(gpd.GeoDataFrame.from_features(feats, crs=4326))
        page = next(
            (link["href"] for link in doc.get("links", []) if link.get("rel") == "next"), None
        )
    if not frames:
        raise InputError(f"BAG: the API at {url} returned no verblijfsobjecten in {bbox_wgs84}")
    gdf = pd.concat(frames, ignore_index=True)
    log.info("BAG: %d verblijfsobjecten in %d page(s)", len(gdf), pages)
    return bag_dwellings(gpd.GeoDataFrame(gdf, geometry="geometry", crs=4326))
