"""CBS SES-WOA scores (socio-economic status: welfare, education, labour) per area."""

from __future__ import annotations

import os
from collections.abc import Mapping

import pandas as pd

from ..errors import InputError
from ._io import read_table, require_columns, require_file

__all__ = ["read_ses_woa", "ses_woa_from_statline"]

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


def ses_woa_from_statline(dl, entry: Mapping, *, gm_code: str) -> pd.DataFrame:
    """SES-WOA per buurt of one municipality from CBS's OData table (``ses_woa_buurt``).

    Returns one row per buurt code (``bu_code``) with ``ses_woa_total`` (and the catalogue's
    other columns), ``n_households`` (empty when the table has no such column) for the
    latest period that has scores; ``attrs["year"]`` is that period's year.
    """
    from .statline import dimension_key, frame, odata_rows, resolve_columns, startswith_filter

    base = entry["url"].rstrip("/")
    table = base.rsplit("/", 1)[-1]
    what = f"SES-WOA ({table})"
    props = odata_rows(dl, f"{base}/DataProperties", what=what)
    cols = resolve_columns(props, entry["columns"], table=table)
    cols |= resolve_columns(props, entry.get("optional_columns", {}), table=table, required=False)
    geo = dimension_key(props, "GeoDimension", table=table)
    time = dimension_key(props, "TimeDimension", table=table)
    prefix = "BU" + gm_code.upper().removeprefix("GM")
    url = f"{base}/TypedDataSet?{startswith_filter(geo, prefix)}"
    df = frame(odata_rows(dl, url, what=what))
    if df.empty:
        raise InputError(f"{what}: the table has no buurten of {gm_code} (codes {prefix}...)")
    df = df[df[geo].astype(str).str.startswith(prefix)]
    total = cols["ses_woa_total"]
    scored = df[pd.to_numeric(df[total], errors="coerce").notna()]
    if scored.empty:
        raise InputError(f"{what}: no buurt of {gm_code} has a SES-WOA score in any period")
    period = sorted(scored[time].astype(str))[-1]
    rows = df[df[time].astype(str) == period]
    out = pd.DataFrame({"bu_code": rows[geo].astype(str).to_numpy()})
    for name, key in cols.items():
        out[name] = pd.to_numeric(rows[key], errors="coerce").to_numpy()
    if "n_households" not in out:
        out["n_households"] = float("nan")
    out.attrs["year"] = int(period[:4])
    return out
