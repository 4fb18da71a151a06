"""Choosing the metric CRS a study is measured in."""

from __future__ import annotations

import geopandas as gpd
from pyproj import CRS

#: RD New, the Dutch national grid; used for studies that lie wholly in the Netherlands.
RD_NEW = CRS.from_epsg(28992)

# Bounds (lon/lat) of RD New's area of use: 3.2-7.22 E, 50.75-53.7 N.
_RD_BOUNDS = (3.2, 50.75, 7.22, 53.7)


def choose_metric_crs(gdf: gpd.GeoDataFrame) -> CRS:
    """Return RD New when ``gdf`` lies wholly within its area of use, else the UTM zone.

    The test is by bounding box: a study that reaches beyond the Netherlands' box (Aachen
    does, just) is measured in its UTM zone. Pass an explicit CRS to override.
    """
    west, south, east, north = gdf.to_crs(4326).total_bounds
    w, s, e, n = _RD_BOUNDS
    if west >= w and south >= s and east <= e and north <= n:
        return RD_NEW
    return gdf.estimate_utm_crs()


def to_metric(gdf: gpd.GeoDataFrame, crs: CRS) -> gpd.GeoDataFrame:
    """Reproject to the study CRS (a metric one), leaving the input untouched."""
    if gdf.crs is not None and CRS(gdf.crs) == crs:
        return gdf
    return gdf.to_crs(crs)
