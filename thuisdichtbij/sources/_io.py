"""Shared checks for readers: files that exist, layers that hold something, a known CRS."""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import shapely
from pyproj import CRS, Transformer
from pyproj.exceptions import CRSError as _PyprojCRSError

from ..errors import CRSError, InputError, InputFileNotFoundError
from ..settings import DATA_DIR_ENV

VECTOR_SUFFIXES = (".gpkg", ".geojson", ".json", ".shp", ".fgb", ".parquet")


def require_file(path: str | os.PathLike, what: str) -> Path:
    """Return ``path`` as a Path, or raise naming ``what`` when it is not a file."""
    p = Path(path)
    if not p.is_file():
        hint = " (it is a folder)" if p.is_dir() else ""
        raise InputFileNotFoundError(f"{what}: file {p} does not exist{hint}; {_fix(p)}")
    return p


def _fix(p: Path) -> str:
    """What to do about a missing file.

    When its folder is missing too, it is most often the data folder of a preset run
    from elsewhere than beside the data (``../shared/data`` by default).
    """
    if str(p.parent) in ("", ".") or p.parent.is_dir():
        return "check the path"
    return (
        f"its folder {p.parent} does not exist either (seen from {Path.cwd()}): pass --data-dir, "
        f"or set {DATA_DIR_ENV}, to the folder that holds the data, or check the path"
    )


def parse_crs(value: object, what: str) -> CRS:
    """Parse a CRS given by the user, with an error that names where it came from."""
    try:
        return CRS.from_user_input(value)
    except _PyprojCRSError as exc:
        raise CRSError(
            f"{what}: {value!r} is not a coordinate reference system; give one like "
            "'EPSG:28992' or 'EPSG:4326'"
        ) from exc


def check_layer(p: Path, layer: str | None, *, what: str, how: str = "'layer'") -> list[str]:
    """The file's layer names, checked against ``layer``.

    Refused when ``layer`` is not among them, or is None and the file has several (GDAL
    would take the first without a word). ``how``: how the user names a layer (a study
    file's key, a command's option).
    """
    try:
        layers = pyogrio.list_layers(p)
    except Exception as exc:  # pyogrio raises DataSourceError and friends from GDAL
        raise InputError(
            f"{what}: {p} is not a vector file GDAL can read ({exc}); expected a GeoPackage, "
            "GeoJSON or other OGR format"
        ) from exc
    names = [str(n) for n in layers[:, 0]]
    if layer is not None and layer not in names:
        raise InputError(
            f"{what}: {p} has no layer '{layer}'; its layers are {', '.join(names) or 'none'}"
        )
    if layer is None and len(names) > 1:
        raise InputError(
            f"{what}: {p} has several layers ({', '.join(names)}); say which one with {how}"
        )
    return names


def read_vector(
    path: str | os.PathLike,
    *,
    what: str,
    layer: str | None = None,
    columns: list[str] | None = None,
) -> gpd.GeoDataFrame:
    """Read a vector layer with pyogrio; clear errors for a bad file, layer, CRS or emptiness.

    ``columns``, when given, are the only attribute columns read (those the file lacks are
    left out): an OSM export with a column per tag is read several times faster.
    """
    p = require_file(path, what)
    names = check_layer(p, layer, what=what)
    try:
        gdf = gpd.read_file(p, layer=layer, engine="pyogrio", columns=columns)
    except Exception as exc:
        raise InputError(f"{what}: could not read {p} ({exc})") from exc
    if not isinstance(gdf, gpd.GeoDataFrame) or gdf.geometry is None:
        raise InputError(f"{what}: layer '{layer or names[0]}' of {p} has no geometry column")
    if gdf.crs is None:
        raise CRSError(
            f"{what}: {p} has no coordinate reference system; set one (e.g. with "
            "ogr2ogr -a_srs EPSG:28992) and try again"
        )
    geom = gdf.geometry.to_numpy()
    gdf = gdf[~(shapely.is_missing(geom) | shapely.is_empty(geom))]
    if gdf.empty:
        raise InputError(f"{what}: layer '{layer or names[0]}' of {p} holds no features")
    check_coordinates(gdf, what=what, path=p, how="the file's own")
    return gdf


#: Degrees a projected CRS's coordinates may lie beyond its area of use: wide, because small
#: test data sets sit near a CRS's false origin; the study-area check catches the rest.
_AREA_MARGIN_DEG = 5.0


def _bounds_text(b) -> str:
    return f"x {b[0]:.6g} to {b[2]:.6g}, y {b[1]:.6g} to {b[3]:.6g}"


def _lonlat_bounds(bounds, crs: CRS) -> np.ndarray:
    """Longitude/latitude bounds of a projected bounding box, its edges densified.

    They hold the lon/lat bounds of everything in the box: the check needs no more, and
    transforming the box costs nothing, where transforming every vertex of a national
    polygon file took a third of a second.
    """
    to_ll = Transformer.from_crs(crs, 4326, always_xy=True)
    with np.errstate(invalid="ignore"):
        return np.asarray(to_ll.transform_bounds(*bounds, densify_pts=21), dtype=float)


def check_coordinates(gdf: gpd.GeoDataFrame, *, what: str, path: Path, how: str) -> None:
    """Raise :class:`CRSError` when coordinates cannot be in the CRS they are read in.

    Geographic coordinates must be longitudes -180..180 and latitudes -90..90; projected
    ones must lie within the CRS's area of use (plus a margin), so RD metres read as WGS84
    degrees, or degrees read as RD metres, are caught here and not after a whole scan.
    ``how`` says where the CRS came from ("the file's own", "assumed", "declared").
    """
    b = np.asarray(gdf.total_bounds, dtype=float)
    crs = CRS.from_user_input(gdf.crs)
    name = crs.to_string()
    fix = (
        "give the right one with 'crs:' in the study file (e.g. crs: EPSG:28992)"
        if how != "the file's own"
        else "fix the file's CRS (e.g. ogr2ogr -a_srs EPSG:28992)"
    )
    if not np.isfinite(b).all():
        raise CRSError(f"{what}: {path} has coordinates that are not finite numbers; fix them")
    if crs.is_geographic:
        ok = -180 <= b[0] and b[2] <= 180 and -90 <= b[1] and b[3] <= 90
        rng = "longitude -180 to 180, latitude -90 to 90 (they are not longitude/latitude)"
    else:
        aou = crs.area_of_use
        if aou is None:
            return
        m = _AREA_MARGIN_DEG
        lon0, lat0, lon1, lat1 = (aou.west - m, aou.south - m, aou.east + m, aou.north + m)
        ll = _lonlat_bounds(b, crs)
        ok = bool(np.isfinite(ll).all()) and (
            lon0 <= ll[0] and ll[2] <= lon1 and lat0 <= ll[1] and ll[3] <= lat1
        )
        rng = (
            f"the area of use (longitude {aou.west:g} to {aou.east:g}, latitude "
            f"{aou.south:g} to {aou.north:g}, give or take {m:g} degrees)"
        )
    if not ok:
        raise CRSError(
            f"{what}: {path} has coordinates {_bounds_text(b)}, outside {rng} of {name} "
            f"({how} CRS); if the file is in another CRS, {fix}"
        )


def require_overlap(
    gdf: gpd.GeoDataFrame, *, what: str, path: object, area_bounds, area_crs, area_name: str
) -> None:
    """Raise :class:`InputError` when ``gdf`` lies wholly outside ``area_bounds``.

    Named with its own bounds, so the user sees which input lies elsewhere (in another
    CRS, with x and y swapped, or of another place) before the scan goes further.
    """
    own = np.asarray(gdf.to_crs(area_crs).total_bounds, dtype=float)
    a = np.asarray(area_bounds, dtype=float)
    if (
        not np.isfinite(own).all()
        or own[0] > a[2]
        or own[2] < a[0]
        or own[1] > a[3]
        or own[3] < a[1]
    ):
        raise InputError(
            f"{what}: {path} lies outside {area_name}: its extent is {_bounds_text(own)}, while "
            f"{area_name} spans {_bounds_text(a)} ({CRS.from_user_input(area_crs).to_string()}); "
            "check the file, its CRS, and the order of x and y"
        )


def require_columns(df: pd.DataFrame, columns: Iterable[str], *, what: str, path: Path) -> None:
    """Raise when ``df`` lacks any of ``columns``, listing the columns it does have."""
    missing = [c for c in columns if c not in df.columns]
    if missing:
        have = ", ".join(str(c) for c in df.columns if c != "geometry")
        raise InputError(
            f"{what}: {path} has no column '{missing[0]}'; its columns are {have}. "
            "Name the right column (in the study file, or the command's option that named it)."
        )


def read_table(path: Path, *, what: str, **kwargs) -> pd.DataFrame:
    """Read a CSV file, with an error naming the file when it cannot be parsed."""
    try:
        df = pd.read_csv(path, **kwargs)
    except (pd.errors.ParserError, UnicodeDecodeError, ValueError) as exc:
        raise InputError(f"{what}: {path} is not a readable CSV table ({exc})") from exc
    if df.empty:
        raise InputError(f"{what}: {path} holds no rows")
    return df


def points_from_xy(
    df: pd.DataFrame, *, x: str, y: str, crs: object, what: str, path: Path
) -> gpd.GeoDataFrame:
    """Turn a table with coordinate columns into points; rows without coordinates are errors."""
    require_columns(df, [x, y], what=what, path=path)
    xs = pd.to_numeric(df[x], errors="coerce")
    ys = pd.to_numeric(df[y], errors="coerce")
    bad = xs.isna() | ys.isna()
    if bad.any():
        first = int(np.flatnonzero(bad.to_numpy())[0])
        raise InputError(
            f"{what}: {path} has {int(bad.sum())} row(s) without numeric coordinates in "
            f"'{x}'/'{y}' (first at data row {first + 1}: {df[x].iloc[first]!r}, "
            f"{df[y].iloc[first]!r}); fix or remove them"
        )
    crs_obj = parse_crs(crs, what)
    gdf = gpd.GeoDataFrame(
        df.drop(columns=[x, y]), geometry=gpd.points_from_xy(xs, ys), crs=crs_obj
    )
    check_coordinates(gdf, what=what, path=path, how=f"'{x}'/'{y}' read in the study's")
    return gdf


def as_points(gdf: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Replace non-point geometries (building outlines) by a point inside each of them."""
    geoms = gdf.geometry.to_numpy()
    kind = shapely.get_type_id(geoms)
    not_point = kind != shapely.GeometryType.POINT  # missing geometries (-1) stay missing
    if not_point.any():
        gdf = gdf.copy()
        shapes = geoms[not_point].copy()
        # A polygon without area (a closed way over two nodes, A-B-A) has no inside: take a
        # point on its outline, as for the same way read as a line, so that readers that
        # build it as a polygon and readers that build it as a line agree. (The outline is
        # taken of those only: of every building it cost 0.04 s on Aachen.)
        polygon = np.isin(kind[not_point], POLYGON_TYPES)
        flat = polygon & (shapely.area(shapes) == 0)
        shapes[flat] = shapely.boundary(shapes[flat])
        points = shapely.point_on_surface(shapes)
        gdf.loc[not_point, gdf.geometry.name] = gpd.GeoSeries(
            points, index=gdf.index[not_point], crs=gdf.crs
        )
    return gdf


#: shapely's type ids of polygons and multipolygons.
POLYGON_TYPES = (shapely.GeometryType.POLYGON, shapely.GeometryType.MULTIPOLYGON)
