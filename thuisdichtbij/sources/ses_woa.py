"""CBS SES-WOA scores (socio-economic status: welfare, education, labour) per area."""

from __future__ import annotations

import os

import pandas as pd

from ..errors import InputError
from ._io import read_table, require_columns, require_file

__all__ = ["read_ses_woa"]

_COLUMNS = ("ses_woa_total", "n_households")


def read_ses_woa(path: str | os.PathLike, *, id_column: str = "pc4") -> pd.DataFrame:
    """Read the SES-WOA table: one row per area, indexed by the area id (text).

    Columns ``ses_woa_total`` (standardised around the national mean 0; empty where CBS
    publishes none) and ``n_households``; other ``ses_woa_*`` columns are kept.
    """
    p = require_file(path, "SES-WOA table")
    df = read_table(p, what="SES-WOA table", dtype={id_column: str})
    require_columns(df, [id_column, *_COLUMNS], what="SES-WOA table", path=p)
    df[id_column] = df[id_column].astype(str).str.strip()
    if df[id_column].duplicated().any():
        dup = df.loc[df[id_column].duplicated(), id_column].iloc[0]
        raise InputError(f"SES-WOA table: {p} lists area {dup} more than once")
    keep = [c for c in df.columns if c.startswith("ses_woa_")] + ["n_households"]
    out = df.set_index(id_column)[keep].apply(pd.to_numeric, errors="coerce")
    out.index = out.index.rename("area_id")
    return out
