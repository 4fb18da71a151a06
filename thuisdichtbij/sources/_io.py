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
from pyproj import CRS
from pyproj.exceptions import CRSError as _PyprojCRSError

from ..errors import CRSError, InputError, InputFileNotFoundError

VECTOR_SUFFIXES = (".gpkg", ".geojson", ".json", ".shp", ".fgb", ".parquet")


def require_file(path: str | os.PathLike, what: str) -> Path:
    """Return ``path`` as a Path, or raise naming ``what`` when it is not a file."""
    p = Path(path)
    if not p.is_file():
        hint = " (it is a folder)" if p.is_dir() else ""
        raise InputFileNotFoundError(f"{what}: file {p} does not exist{hint}; check the path")
    return p


def parse_crs(value: object, what: str) -> CRS:
    """Parse a CRS given by the user, with an error that names where it came from."""
    try:
        return CRS.from_user_input(value)
    except _PyprojCRSError as exc:
        raise CRSError(
            f"{what}: {value!r} is not a coordinate reference system; give one like "
            "'EPSG:28992' or 'EPSG:4326'"
        ) from exc


def read_vector(
    path: str | os.PathLike, *, what: str, layer: str | None = None
) -> gpd.GeoDataFrame:
    """Read a vector layer with pyogrio; clear errors for a bad file, layer, CRS or emptiness."""
    p = require_file(path, what)
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
            f"{what}: {p} has several layers ({', '.join(names)}); say which one with 'layer'"
        )
    try:
        gdf = gpd.read_file(p, layer=layer, engine="pyogrio")
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
    return gdf


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
    if crs_obj.is_geographic and (xs.abs().max() > 180 or ys.abs().max() > 90):
        raise CRSError(
            f"{what}: {path} coordinates in '{x}'/'{y}' are not longitude/latitude (found "
            f"values up to {xs.abs().max():.0f}); give the table's CRS, e.g. crs: EPSG:28992"
        )
    return gpd.GeoDataFrame(
        df.drop(columns=[x, y]), geometry=gpd.points_from_xy(xs, ys), crs=crs_obj
    )


def as_points(gdf: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Replace non-point geometries (building outlines) by a point inside each of them."""
    geom = gdf.geometry
    not_point = geom.geom_type != "Point"
    if not_point.any():
        gdf = gdf.copy()
        shapes = geom[not_point]
        # A polygon without area (a closed way over two nodes, A-B-A) has no inside: take a
        # point on its outline, as for the same way read as a line, so that readers that
        # build it as a polygon and readers that build it as a line agree.
        polygon = shapes.geom_type.isin(["Polygon", "MultiPolygon"])
        flat = polygon & (shapely.area(shapes.to_numpy()) == 0)
        shapes = shapes.where(~flat, shapes.boundary)
        gdf.loc[not_point, gdf.geometry.name] = shapes.representative_point()
    return gdf
