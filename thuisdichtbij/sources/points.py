"""Point layers from files: GeoPackage, GeoJSON and other OGR formats, or CSV with coordinates."""

from __future__ import annotations

import os
from pathlib import Path

import geopandas as gpd

from ..errors import InputError
from ._io import as_points, points_from_xy, read_table, read_vector, require_file

__all__ = ["read_points", "guess_xy"]

_XY_NAMES = (
    ("lon", "lat"),
    ("longitude", "latitude"),
    ("stop_lon", "stop_lat"),
    ("x", "y"),
)


def guess_xy(columns) -> tuple[str, str] | None:
    """The coordinate columns of a table by their usual names (case-insensitive), if any."""
    lower = {str(c).lower(): str(c) for c in columns}
    for x, y in _XY_NAMES:
        if x in lower and y in lower:
            return lower[x], lower[y]
    return None


def read_points(
    path: str | os.PathLike,
    *,
    what: str,
    layer: str | None = None,
    x: str | None = None,
    y: str | None = None,
    crs: object = "EPSG:4326",
    dtype: dict | None = None,
    columns: list[str] | None = None,
) -> gpd.GeoDataFrame:
    """Read points from a vector file or a CSV table.

    Polygons (building outlines) become a point inside them. For CSV, ``x``/``y`` name the
    coordinate columns (guessed from lon/lat, longitude/latitude, x/y when not given) and
    ``crs`` their CRS (WGS84 by default). ``columns`` limits the attribute columns read
    from a vector file (see :func:`~thuisdichtbij.sources._io.read_vector`).
    """
    p = require_file(path, what)
    if p.suffix.lower() in (".csv", ".txt", ".tsv"):
        sep = "\t" if p.suffix.lower() == ".tsv" else None
        df = read_table(p, what=what, sep=sep, engine="python", dtype=dtype, encoding="utf-8-sig")
        if x is None or y is None:
            guessed = guess_xy(df.columns)
            if guessed is None:
                raise InputError(
                    f"{what}: {p} has no coordinate columns I recognise (lon/lat, x/y); "
                    f"its columns are {', '.join(map(str, df.columns))}. Name them with x: "
                    "and y: in the study file"
                )
            x, y = guessed
        return points_from_xy(df, x=x, y=y, crs=crs, what=what, path=p)
    gdf = read_vector(p, what=what, layer=layer, columns=columns)
    kinds = set(gdf.geom_type.unique())
    if not kinds <= {"Point", "MultiPoint", "Polygon", "MultiPolygon"}:
        raise InputError(
            f"{what}: {Path(p).name} holds {', '.join(sorted(kinds))} geometries; expected "
            "points (or polygons, taken at a point inside)"
        )
    return as_points(gdf.reset_index(drop=True))
