"""CBS statistics per 6-digit postcode (PC6), as CBS publishes them.

The official format is a GeoPackage in a zip (``2024-cbs_pc6_2021_vol.zip`` holding
``cbs_pc6_2021_vol.gpkg``, layer ``cbs_pc6_2021``, polygons in EPSG:28992): fields
``postcode6``, ``aantal_inwoners``, ``aantal_inwoners_65_jaar_en_ouder``,
``aantal_part_huishoudens``, ``aantal_woningen``; ``-99997`` marks a secret value and ``-99995``
one not (yet) published, and some fields are stored as text because of them (evidence: public
code reading ``cbs_pc6_2021`` / ``cbs_pc6_2025`` by these names; portolan-nl-catalog's PC6
notes). Both codes are unknown, never zero.

A CSV re-export is read too (the one in the offline mirror): semicolon-separated with three
header rows: a group row (Inhabitants, Households, Home, ...), a sub-group row, and the
column names; counts are rounded to 5 and secret values are masked (empty, or a negative
code such as -99997).
"""

from __future__ import annotations

import csv
import logging
import os

import geopandas as gpd
import numpy as np
import pandas as pd

from ..errors import InputError
from ._io import read_vector, require_file

log = logging.getLogger(__name__)

__all__ = ["read_cbs_pc6", "read_cbs_pc6_polygons", "is_gpkg", "CBS_PC6_COLUMNS", "CBS_PC6_FIELDS"]

#: Output column -> field of the official GeoPackage.
CBS_PC6_FIELDS = {
    "inhabitants": "aantal_inwoners",
    "age_65plus": "aantal_inwoners_65_jaar_en_ouder",
    "households": "aantal_part_huishoudens",
    "dwellings": "aantal_woningen",
}
_PC6_FIELD = "postcode6"

#: Output column -> (group in the first header row, name in the third header row).
CBS_PC6_COLUMNS = {
    "inhabitants": ("Inhabitants", "Total"),
    "age_65plus": ("Inhabitants", "65 years and older"),
    "households": ("Households", "Total"),
    "dwellings": ("Home", "Total"),
}
_POSTCODE_NAME = "Zip code-6"


def _expected() -> str:
    return (
        f"three header rows, the first column named '{_POSTCODE_NAME}' in the third row, "
        "and the groups " + ", ".join(sorted({g for g, _ in CBS_PC6_COLUMNS.values()}))
    )


def _masked(values: pd.Series) -> tuple[np.ndarray, int]:
    """Numbers with CBS's negative codes (-99997 secret, -99995 not published) as NaN."""
    num = pd.to_numeric(
        values.astype(str).str.strip().str.replace(",", ".", regex=False), errors="coerce"
    )
    bad = num.isna() | (num < 0)
    return np.where(bad, np.nan, num).astype(float), int(bad.sum())


def _finish(out: pd.DataFrame, masked: dict, p) -> pd.DataFrame:
    if out.index.duplicated().any():
        dup = out.index[out.index.duplicated()][0]
        raise InputError(f"CBS PC6 table: {p} lists postcode {dup} more than once")
    out.attrs["masked"] = masked
    if any(masked.values()):
        log.info("CBS PC6 table: masked values per column: %s", masked)
    return out


def is_gpkg(path: str | os.PathLike) -> bool:
    """Whether ``path`` names a GeoPackage (the official PC6 format, with polygons)."""
    return str(path).lower().endswith(".gpkg")


def read_cbs_pc6_polygons(path: str | os.PathLike, *, layer: str | None = None) -> gpd.GeoDataFrame:
    """Read the official CBS PC6 GeoPackage: the PC6 polygons with their figures.

    Returns a GeoDataFrame indexed by ``pc6`` with the float columns of
    :data:`CBS_PC6_FIELDS` (masked values ``NaN``, never 0) and the polygons, in the file's
    CRS. ``df.attrs["masked"]`` counts the masked values per column.
    """
    p = require_file(path, "CBS PC6 GeoPackage")
    gdf = read_vector(p, what="CBS PC6 GeoPackage", layer=layer)
    fields = [_PC6_FIELD, *CBS_PC6_FIELDS.values()]
    missing = [f for f in fields if f not in gdf.columns]
    if missing:
        have = ", ".join(c for c in gdf.columns if c != "geometry")
        raise InputError(
            f"CBS PC6 GeoPackage: {p} has no field '{missing[0]}' (expected {', '.join(fields)});"
            f" its fields are {have}"
        )
    index = gdf[_PC6_FIELD].astype(str).str.strip().str.upper().rename("pc6")
    out = gpd.GeoDataFrame(index=pd.Index(index.to_numpy(), name="pc6"))
    masked = {}
    for col, field in CBS_PC6_FIELDS.items():
        out[col], masked[col] = _masked(gdf[field].reset_index(drop=True))
    out = out.set_geometry(gpd.GeoSeries(gdf.geometry.to_numpy(), index=out.index, crs=gdf.crs))
    return _finish(out, masked, p)


def read_cbs_pc6(path: str | os.PathLike, *, layer: str | None = None) -> pd.DataFrame:
    """Read the CBS PC6 table (the official GeoPackage, or its CSV re-export), per postcode.

    Returns a DataFrame indexed by ``pc6`` (e.g. ``"6211AL"``) with the float columns of
    :data:`CBS_PC6_COLUMNS`; masked values are ``NaN``. ``df.attrs["masked"]`` counts the
    masked values per column.
    """
    p = require_file(path, "CBS PC6 table")
    if is_gpkg(p):
        polygons = read_cbs_pc6_polygons(p, layer=layer)
        out = pd.DataFrame(polygons.drop(columns=polygons.geometry.name))
        out.attrs = dict(polygons.attrs)
        return out
    try:
        with open(p, encoding="utf-8-sig", newline="") as f:
            reader = csv.reader(f, delimiter=";")
            head = [next(reader, []) for _ in range(3)]
    except UnicodeDecodeError as exc:
        raise InputError(f"CBS PC6 table: {p} is not UTF-8 text ({exc})") from exc
    if len(head[2]) < 2 or head[2][0].strip() != _POSTCODE_NAME:
        raise InputError(
            f"CBS PC6 table: {p} does not have the layout CBS publishes: expected "
            f"{_expected()}; found third row starting {head[2][:3]!r}"
        )
    groups, current = [], ""
    for g in head[0]:
        current = g.strip() or current
        groups.append(current)
    groups += [current] * (len(head[2]) - len(groups))
    index = {}
    for out, (group, name) in CBS_PC6_COLUMNS.items():
        hits = [
            i for i, (g, n) in enumerate(zip(groups, head[2])) if g == group and n.strip() == name
        ]
        if not hits:
            raise InputError(
                f"CBS PC6 table: {p} has no column '{name}' in the group '{group}'; expected "
                f"{_expected()}"
            )
        index[out] = hits[0]
    raw = pd.read_csv(
        p, sep=";", skiprows=3, header=None, dtype=str, encoding="utf-8-sig", keep_default_na=False
    )
    # Rows without a postcode are the totals row and blank trailing lines.
    raw = raw[raw[0].str.strip() != ""].reset_index(drop=True)
    if raw.empty:
        raise InputError(f"CBS PC6 table: {p} has no rows with a postcode")
    out = pd.DataFrame(index=raw[0].str.strip().str.upper().rename("pc6"))
    masked = {}
    for col, i in index.items():
        out[col], masked[col] = _masked(raw[i])
    return _finish(out, masked, p)
