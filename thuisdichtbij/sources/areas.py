"""Area polygons to aggregate to: PC4 areas, neighbourhoods, or any polygon layer with an id."""

from __future__ import annotations

import os

import geopandas as gpd
import pandas as pd

from ..errors import InputError
from ._io import read_vector, require_columns

__all__ = ["read_areas", "area_frame", "area_ids"]


def area_ids(values: pd.Series) -> pd.Series:
    """Area ids as text; whole numbers stored as floats (1011.0) lose their ``.0``."""
    num = pd.to_numeric(values, errors="coerce")
    whole = num.notna() & (num == num.round())
    text = values.astype(str).str.strip()
    text[whole] = num[whole].astype("int64").astype(str)
    return text


def read_areas(
    path: str | os.PathLike, *, id_field: str, layer: str | None = None, what: str = "areas"
) -> gpd.GeoDataFrame:
    """Read polygons with an id column; returns ``area_id`` (text) and the geometry."""
    gdf = read_vector(path, what=what, layer=layer)
    return area_frame(gdf, id_field=id_field, path=path, what=what)


def area_frame(
    gdf: gpd.GeoDataFrame, *, id_field: str, path: str | os.PathLike, what: str = "areas"
) -> gpd.GeoDataFrame:
    """Polygons read from ``path`` as areas: ``area_id`` (text, one per area) and the geometry."""
    require_columns(gdf, [id_field], what=what, path=path)
    kinds = set(gdf.geom_type.unique())
    if not kinds <= {"Polygon", "MultiPolygon"}:
        raise InputError(
            f"{what}: {path} holds {', '.join(sorted(kinds))} geometries; expected polygons"
        )
    ids = area_ids(gdf[id_field])
    if ids.duplicated().any():
        raise InputError(
            f"{what}: {path} has the id {ids[ids.duplicated()].iloc[0]!r} in '{id_field}' more "
            "than once; give a column with one value per area"
        )
    return gpd.GeoDataFrame({"area_id": ids.to_numpy()}, geometry=gdf.geometry.values, crs=gdf.crs)
