"""Reading a scan GeoPackage back: checked, so that a wrong file gives a clear error."""

from __future__ import annotations

import os
from pathlib import Path

import geopandas as gpd
import pandas as pd
import pyogrio

from ..errors import InputError
from ..sources._io import require_file

__all__ = ["read_scan_layer", "scan_layers", "require_layer", "read_metadata", "read_scan"]

#: Fields each layer of a scan GeoPackage must have.
REQUIRED = {
    "dwellings": ("dwelling_id", "weight", "area_id", "snapped", "score", "score_class"),
    "areas": ("area_id", "n_dwellings", "score_mean", "score_class", "suppressed"),
    "amenities": ("indicator", "name"),
    "run_metadata": ("key", "value"),
}


def scan_layers(path: str | os.PathLike) -> list[str]:
    """The layer names of a scan GeoPackage; raises if it is not one."""
    p = require_file(path, "scan GeoPackage")
    try:
        names = [str(n) for n in pyogrio.list_layers(p)[:, 0]]
    except Exception as exc:
        raise InputError(f"scan GeoPackage: {p} is not a GeoPackage GDAL can read ({exc})") from exc
    missing = [n for n in ("dwellings", "areas", "run_metadata") if n not in names]
    if missing:
        raise InputError(
            f"scan GeoPackage: {p} is not a thuisdichtbij scan: it has no layer "
            f"{', '.join(missing)} (its layers: {', '.join(names) or 'none'}); make one with "
            "thuisdichtbij scan"
        )
    return names


RESCAN = "(written by an older version); run thuisdichtbij scan again"


def require_layer(
    path: str | os.PathLike, layer: str, *, what: str, fix: str = RESCAN
) -> list[str]:
    """The layer names of a scan GeoPackage that must hold ``layer``; else a clear error."""
    names = scan_layers(path)
    if layer not in names:
        raise InputError(f"{what}: {Path(path).name} has no '{layer}' layer {fix}")
    return names


def read_scan_layer(path: str | os.PathLike, layer: str) -> gpd.GeoDataFrame | pd.DataFrame:
    """One layer of a scan GeoPackage, with its required fields checked."""
    names = scan_layers(path)
    if layer not in names:
        raise InputError(f"scan GeoPackage: {Path(path).name} has no layer '{layer}'")
    info = pyogrio.read_info(path, layer=layer)
    missing = [f for f in REQUIRED.get(layer, ()) if f not in set(info["fields"])]
    if missing:
        raise InputError(
            f"scan GeoPackage: layer '{layer}' of {Path(path).name} lacks the field(s) "
            f"{', '.join(missing)}; was it written by thuisdichtbij scan?"
        )
    return pyogrio.read_dataframe(path, layer=layer)


def read_metadata(path: str | os.PathLike) -> dict[str, str]:
    """The ``run_metadata`` table as a dict."""
    meta = read_scan_layer(path, "run_metadata")
    return dict(zip(meta["key"], meta["value"], strict=True))


def read_scan(
    path: str | os.PathLike, layers: tuple[str, ...] = ("dwellings", "areas", "amenities")
) -> tuple[dict[str, gpd.GeoDataFrame | pd.DataFrame], dict[str, str]]:
    """Several layers of a scan GeoPackage, checked, and its ``run_metadata``."""
    return {n: read_scan_layer(path, n) for n in layers}, read_metadata(path)
