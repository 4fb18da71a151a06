"""Choosing the metric CRS a study is measured in."""

from __future__ import annotations

import logging

import geopandas as gpd
from pyproj import CRS, Transformer

log = logging.getLogger(__name__)

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


#: Degrees a study may reach beyond its CRS's area of use before that is said (a study on a
#: zone's edge, as Aachen on RD New's, is measured well enough a little past it).
AREA_OF_USE_SLACK_DEG = 1.0


def warn_outside_area_of_use(crs: CRS, bounds, bounds_crs) -> bool:
    """Warn when data with ``bounds`` (in ``bounds_crs``) lie beyond a CRS's area of use.

    Said for a CRS the user gave: there its distances are distorted (UTM zone 32 for Delft,
    in zone 31, moved classes). True when it warned.
    """
    aou = crs.area_of_use
    if aou is None:
        return False
    to_lonlat = Transformer.from_crs(bounds_crs, 4326, always_xy=True)
    west, south, east, north = to_lonlat.transform_bounds(*bounds)
    slack = AREA_OF_USE_SLACK_DEG
    if (
        west >= aou.west - slack
        and east <= aou.east + slack
        and south >= aou.south - slack
        and north <= aou.north + slack
    ):
        return False
    log.warning(
        "crs: %s is made for %.1f to %.1f E, %.1f to %.1f N; the data lie at %.2f to "
        "%.2f E, %.2f to %.2f N, where its distances are distorted: leave the CRS out to "
        "measure in RD New or the data's UTM zone",
        crs.to_string(), aou.west, aou.east, aou.south, aou.north, west, east, south, north,
    )  # fmt: skip
    return True
