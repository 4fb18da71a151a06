"""CBS statistics per 6-digit postcode (PC6), as CBS publishes them.

The table is semicolon-separated with three header rows: a group row (Inhabitants,
Households, Home, ...), a sub-group row, and the column names; counts are rounded to 5 and
secret values are masked (empty, or a negative code such as -99997). Masked values are
unknown, never zero.
"""

from __future__ import annotations

import csv
import logging
import os

import numpy as np
import pandas as pd

from ..errors import InputError
from ._io import require_file

log = logging.getLogger(__name__)

__all__ = ["read_cbs_pc6", "CBS_PC6_COLUMNS"]

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


def read_cbs_pc6(path: str | os.PathLike) -> pd.DataFrame:
    """Read the CBS PC6 table into one row per postcode.

    Returns a DataFrame indexed by ``pc6`` (e.g. ``"6211AL"``) with the float columns of
    :data:`CBS_PC6_COLUMNS`; masked values are ``NaN``. ``df.attrs["masked"]`` counts the
    masked values per column.
    """
    p = require_file(path, "CBS PC6 table")
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
        text = raw[i].str.strip().str.replace(",", ".", regex=False)
        values = pd.to_numeric(text, errors="coerce")
        is_masked = values.isna() | (values < 0)
        masked[col] = int(is_masked.sum())
        out[col] = np.where(is_masked, np.nan, values).astype(float)
    if out.index.duplicated().any():
        dup = out.index[out.index.duplicated()][0]
        raise InputError(f"CBS PC6 table: {p} lists postcode {dup} more than once")
    out.attrs["masked"] = masked
    if any(masked.values()):
        log.info("CBS PC6 table: masked values per column: %s", masked)
    return out
