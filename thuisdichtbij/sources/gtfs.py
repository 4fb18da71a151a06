"""GTFS ``stops.txt``: the stops where public transport halts."""

from __future__ import annotations

import os

import geopandas as gpd
import pandas as pd

from ..errors import InputError
from ._io import points_from_xy, read_table, require_columns, require_file

__all__ = ["read_gtfs_stops"]


def read_gtfs_stops(path: str | os.PathLike) -> gpd.GeoDataFrame:
    """Stops and platforms (``location_type`` 0 or empty) of a GTFS ``stops.txt``.

    Stations, entrances and other location types are dropped: people board at stops. The
    result has ``stop_id`` and ``name`` and is in WGS84, as GTFS is.
    """
    p = require_file(path, "GTFS stops")
    df = read_table(p, what="GTFS stops", dtype=str, encoding="utf-8-sig")
    require_columns(df, ["stop_id", "stop_lat", "stop_lon"], what="GTFS stops", path=p)
    if "location_type" in df.columns:
        lt = pd.to_numeric(df["location_type"], errors="coerce").fillna(0)
        df = df[lt == 0]
    if df.empty:
        raise InputError(f"GTFS stops: {p} has no stops with location_type 0 (a stop or platform)")
    out = points_from_xy(
        df.reset_index(drop=True), x="stop_lon", y="stop_lat", crs=4326, what="GTFS stops", path=p
    )
    name = out["stop_name"] if "stop_name" in out else pd.Series(None, index=out.index)
    return gpd.GeoDataFrame(
        {"stop_id": out["stop_id"].astype(str), "name": name}, geometry=out.geometry, crs=4326
    )
