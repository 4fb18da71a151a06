"""Choosing the metric CRS a study is measured in."""

from __future__ import annotations

import logging
import math

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
    return utm_crs((west + east) / 2, (south + north) / 2)


def utm_crs(lon: float, lat: float) -> CRS:
    """The WGS 84 UTM zone at a point, as GeoPandas' ``estimate_utm_crs`` gives it.

    The zone is reckoned, not looked up in PROJ's database (60 ms a scan): zone ``n``
    spans longitudes ``-180 + 6(n - 1)`` to ``-180 + 6n``, a point on a zone's edge goes
    to the western one and a point on the equator to the northern hemisphere, as the
    database's answer puts them first. (The Norwegian and Svalbard exceptions of the
    military grid are not in EPSG's UTM zones, nor here.) Outside the zones' reach
    (longitudes beyond -180 to 180, latitudes beyond 80 S to 84 N, or no coordinates at all)
    a :class:`CRSError` asks for a CRS.
    """
    if not (-180 <= lon <= 180 and -80 <= lat <= 84):  # NaN fails both
        raise CRSError(
            f"crs: the data's centre (longitude {lon:g}, latitude {lat:g}) lies outside the UTM "
            "zones (longitudes -180 to 180, latitudes 80 S to 84 N), so no CRS can be chosen "
            "for it; check the input's coordinates, or give a metric CRS (--crs, or 'crs' in "
            "the study file)"
        )
    zone = min(max(math.ceil((lon + 180) / 6), 1), 60)
    return CRS.from_epsg((32600 if lat >= 0 else 32700) + zone)


def to_metric(gdf: gpd.GeoDataFrame, crs: CRS) -> gpd.GeoDataFrame:
    """Reproject to the study CRS (a metric one), leaving the input untouched."""
    if gdf.crs is not None and CRS(gdf.crs) == crs:
        return gdf
    return gdf.to_crs(crs)


#: Scale error of a CRS given by the user at the data (a share, in the worst direction):
#: above the first it is said, above the second refused. A walk of 500 m is then 2.5 m, or
#: 10 m, off: the first moves a band edge now and then, the second many (Web Mercator at
#: 52° N is 62 % off, World Sinusoidal 3 % in one direction).
SCALE_WARN, SCALE_REFUSE = 0.005, 0.02
#: North may point this far from the map's up (degrees): a UTM zone's edge turns it about
#: 2.5° at 52° N; a projection of another hemisphere turns the map upside down.
MAX_CONVERGENCE_DEG = 10.0


def check_metric_crs(crs: CRS, bounds, bounds_crs) -> float:
    """Refuse, or warn of, a CRS given by the user that cannot measure walks at the data.

    It must be a map projection (the horizontal part of a compound CRS) in metres. Its
    largest scale error over data with ``bounds`` (in ``bounds_crs``), in any direction
    (Tissot's ellipse, at the box's corners and centre), is refused above
    :data:`SCALE_REFUSE` (:class:`CRSError`) and said above :data:`SCALE_WARN`; a projection
    whose north is turned more than :data:`MAX_CONVERGENCE_DEG` (one for another part of the
    world) is refused. Returns the scale error.
    """
    from pyproj import Proj
    from pyproj.exceptions import ProjError

    name = crs.to_string()
    horizontal = crs.sub_crs_list[0] if crs.is_compound else crs
    if not horizontal.is_projected:
        raise CRSError(
            f"crs: {name} is not a map projection (it is {horizontal.type_name}); give a "
            "projected CRS in metres, such as EPSG:28992 (RD New)"
        )
    unit = horizontal.axis_info[0].unit_name if horizontal.axis_info else "metre"
    if unit not in ("metre", "meter"):
        raise CRSError(f"crs: {name} measures in {unit}, not metres; give a CRS in metres")
    to_lonlat = Transformer.from_crs(bounds_crs, 4326, always_xy=True)
    w, s, e, n = to_lonlat.transform_bounds(*bounds)
    try:
        f = Proj(horizontal).get_factors([w, e, w, e, (w + e) / 2], [s, s, n, n, (s + n) / 2])
    except ProjError as exc:
        raise CRSError(f"crs: {name} cannot measure at the data ({exc})") from exc
    error = float(max(abs(v - 1) for v in (*f.tissot_semimajor, *f.tissot_semiminor)))
    turned = float(max(abs(v) for v in f.meridian_convergence))
    where = f"at the data ({w:.3f} to {e:.3f} E, {s:.3f} to {n:.3f} N)"
    fix = (
        "give a CRS made for this place (RD New, EPSG:28992, in the Netherlands; else its UTM "
        "zone), or leave the CRS out to have it chosen"
    )
    if turned > MAX_CONVERGENCE_DEG:
        raise CRSError(f"crs: {name} turns north by {turned:.0f}° {where}: made elsewhere; {fix}")
    text = (
        f"crs: {name} measures {100 * error:.1f} % off {where}: a walk of 500 m would be "
        f"{500 * error:.0f} m off"
    )
    if error > SCALE_REFUSE:
        raise CRSError(f"{text}; {fix}")
    if error > SCALE_WARN:
        log.warning("%s; a CRS made for this place measures closer", text)
    _check_datum(horizontal, name, ((w + e) / 2, (s + n) / 2), fix)
    return error


#: The datums the Dutch sources come in: OSM, GTFS and lat/lon tables on WGS 84, PDOK's
#: and CBS's files on RD New (Amersfoort) or ETRS89. A CRS on one of them takes every
#: input along that datum's own transformations.
DATA_DATUMS = (
    "World Geodetic System 1984",
    "European Terrestrial Reference System 1989",
    "Amersfoort",
)
#: Inputs on different datums may land this far apart (metres) in a CRS on yet another.
MAX_DATUM_SHIFT_M = 1.0


def _check_datum(horizontal: CRS, name: str, lonlat: tuple[float, float], fix: str) -> None:
    """Refuse a CRS on a third datum that the data's datums reach along disagreeing paths.

    PROJ takes WGS 84 and RD New (Amersfoort) onto another datum by different
    transformations, some only a ballpark offset: at Maastricht, EPSG:31466 (DHDN) puts
    a point read in WGS 84 46 m from the same point read in RD New, EPSG:27700 (OSGB 36)
    99 m, so dwellings would shift against the areas and streets of another source. A
    point at the data's centre is taken there directly from WGS 84, and through RD New
    and ETRS89; paths more than :data:`MAX_DATUM_SHIFT_M` apart are refused.
    """
    import warnings

    datum = horizontal.datum.name if horizontal.datum else ""
    if datum.startswith(DATA_DATUMS):
        return
    with warnings.catch_warnings():  # a missing grid: PROJ warns, and takes another path
        warnings.simplefilter("ignore")
        direct = Transformer.from_crs(4326, horizontal, always_xy=True).transform(*lonlat)
        shift = 0.0
        for pivot in (28992, 4258):
            there = Transformer.from_crs(4326, pivot, always_xy=True).transform(*lonlat)
            x, y = Transformer.from_crs(pivot, horizontal, always_xy=True).transform(*there)
            shift = max(shift, math.hypot(x - direct[0], y - direct[1]))
    if not shift <= MAX_DATUM_SHIFT_M:  # NaN or inf: no path at all
        raise CRSError(
            f"crs: {name} lies on another datum ({datum}) than the data's (WGS 84, ETRS89, "
            f"RD New): the same point read from WGS 84 and from RD New lands {shift:.0f} m "
            "apart in it, so inputs from different sources would shift against each other; "
            f"{fix}"
        )
