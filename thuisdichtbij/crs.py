"""Choosing the metric CRS a study is measured in."""

from __future__ import annotations

import logging

import geopandas as gpd
from pyproj import CRS, Transformer

from .errors import CRSError

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


#: Scale error of a CRS given by the user at the data (a share): above the first it is said,
#: above the second refused. A walk of 500 m is then 2.5 m, or 10 m, off: the first moves a
#: band edge now and then, the second many (Web Mercator at 52° N is 62 % off).
SCALE_WARN, SCALE_REFUSE = 0.005, 0.02


def check_scale(crs: CRS, bounds, bounds_crs) -> float:
    """The largest scale error of ``crs`` over data with ``bounds`` (in ``bounds_crs``).

    For a CRS the user gave: a metric one made for elsewhere (another UTM zone, Web
    Mercator) measures every walk too long or too short. Above :data:`SCALE_REFUSE` it is
    refused (:class:`CRSError`), above :data:`SCALE_WARN` said in a warning. Taken at the
    corners and the centre of the data's box (the error grows away from a CRS's centre).
    """
    from pyproj import Proj

    to_lonlat = Transformer.from_crs(bounds_crs, 4326, always_xy=True)
    w, s, e, n = to_lonlat.transform_bounds(*bounds)
    lons, lats = [w, e, w, e, (w + e) / 2], [s, s, n, n, (s + n) / 2]
    f = Proj(crs).get_factors(lons, lats)
    error = float(max(abs(v - 1) for v in (*f.meridional_scale, *f.parallel_scale)))
    text = (
        f"crs: {crs.to_string()} measures {100 * error:.1f} % off at the data ({w:.2f} to "
        f"{e:.2f} E, {s:.2f} to {n:.2f} N): a walk of 500 m would be {500 * error:.0f} m off"
    )
    if error > SCALE_REFUSE:
        raise CRSError(
            f"{text}; give a CRS made for this place (RD New, EPSG:28992, in the Netherlands; "
            "else its UTM zone), or leave the CRS out to have it chosen"
        )
    if error > SCALE_WARN:
        log.warning("%s; a CRS made for this place measures closer", text)
    return error
