"""Leefbaarometer 3.0 scores per area (the PC4 table, or any table with an area id)."""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

import pandas as pd

from ..errors import InputError
from ._io import read_table, require_columns, require_file

__all__ = ["read_leefbaarometer", "read_lbm_member"]


def read_leefbaarometer(
    path: str | os.PathLike,
    *,
    dimension: str,
    year: int,
    base_year: int,
    id_column: str | None = None,
) -> pd.DataFrame:
    """Read one Leefbaarometer dimension for a year and a base year, per area.

    The table has a row per area and year (columns ``PC4`` or ``id_column``, ``jaar`` and
    the dimensions ``lbm``, ``afw``, ``fys``, ``onv``, ``soc``, ``vrz``, ``won``; ``NA``
    where a year has no dimension scores). Returns a DataFrame indexed by area id (text)
    with ``level`` (the score in ``year``) and ``base`` (in ``base_year``).
    """
    p = require_file(path, "Leefbaarometer table")
    df = read_table(p, what="Leefbaarometer table", dtype={id_column or "PC4": str})
    key = id_column or "PC4"
    require_columns(df, [key, "jaar", dimension], what="Leefbaarometer table", path=p)
    years = sorted(int(y) for y in df["jaar"].dropna().unique())
    for y in (year, base_year):
        has = df.loc[df["jaar"] == y, dimension].notna().any()
        if not has:
            with_dim = sorted(int(j) for j in df.loc[df[dimension].notna(), "jaar"].unique())
            raise InputError(
                f"Leefbaarometer table: {p} has no '{dimension}' scores for {y} (years in the "
                f"file: {years}; with '{dimension}': {with_dim}); set safety.year and "
                "safety.base_year in the weights file to years it has"
            )
    df[key] = df[key].astype(str).str.strip()
    wide = df.pivot_table(index=key, columns="jaar", values=dimension, aggfunc="first")
    out = pd.DataFrame(
        {"level": wide.get(year), "base": wide.get(base_year)}, index=wide.index.rename("area_id")
    )
    if out.empty:
        raise InputError(f"Leefbaarometer table: {p} holds no scores")
    return out


def read_lbm_member(
    path: str | os.PathLike, patterns: Sequence[str], *, id_column: str, what: str
) -> pd.DataFrame:
    """One scores table from the Leefbaarometer's open-data zip, the id column as text.

    The zip (``open-data-leefbaarometer-meting-2024.zip``) holds a folder with
    ``Leefbaarometer-scores PC4 2002-2024.csv``, ``... buurten ...`` and ``... grids ...``:
    comma-separated, ``.`` decimals, columns ``PC4`` / ``bu_code`` / ``grid_id``, ``jaar``,
    ``lbm``, ``afw``, ``fys``, ``onv``, ``soc``, ``vrz``, ``won`` (public download code of the
    2022 and 2024 releases). The member is found by pattern (the names carry the years).
    """
    import zipfile

    from .archive import find_member
    from .areas import area_ids

    name = find_member(path, patterns, what=what)
    with zipfile.ZipFile(path) as z, z.open(name) as f:
        df = read_table(f, what=what, dtype={id_column: str})
    where = Path(f"{Path(path).name}:{name}")
    require_columns(df, [id_column, "jaar"], what=what, path=where)
    df[id_column] = area_ids(df[id_column])
    return df
