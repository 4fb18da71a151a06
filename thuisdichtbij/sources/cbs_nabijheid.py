"""CBS proximity figures per buurt ("Nabijheid voorzieningen", "Kerncijfers wijken en buurten").

CBS publishes, per region, the mean distance in km over the road from all addresses to the
nearest GP practice, pharmacy, physiotherapist, large supermarket, library, museum and
performing-arts venue. Two shapes are read:

- OData v3 JSON (``https://opendata.cbs.nl/ODataApi/odata/<table>/TypedDataSet``): rows in a
  ``value`` array whose column keys carry a suffix that differs per table and edition
  (``AfstandTotHuisartsenpraktijk_5`` in 86134NED, ``_110`` in 85984NED), so columns are
  resolved by their ``Title`` in ``DataProperties`` (``Key``/``Title``). Given as one JSON
  object ``{"TypedDataSet": {...}, "DataProperties": {...}}`` (what ``fetch`` would store), or
  as the TypedDataSet file with a ``DataProperties.json`` next to it.
- A StatLine CSV export (semicolon- or comma-separated), whose headers are the titles, maybe
  with a category path (``Zorg/Huisartsenpraktijk/Afstand tot huisartsenpraktijk (km)``).

Evidence for keys and titles: public code using 86134NED, 86270NED and 85984NED (see the
project's research notes on CBS StatLine). Region codes are right-padded with spaces;
masked values come as ``null`` (OData) or empty / ``.`` (CSV) and stay unknown (``NaN``).
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Mapping
from pathlib import Path

import numpy as np
import pandas as pd

from .._text import short_list
from ..errors import InputError
from ._io import read_table, require_file

__all__ = ["read_cbs_proximity", "proximity_from_statline", "CBS_TITLES"]

#: Our sub-indicator (or a part of one) -> the start of CBS's column title.
CBS_TITLES = {
    "gp": "afstand tot huisartsenpraktijk",
    "pharmacy": "afstand tot apotheek",
    "physio": "afstand tot fysiotherapeut",
    "supermarket": "afstand tot grote supermarkt",
    "library": "afstand tot bibliotheek",
    "museum": "afstand tot museum",
    "performing_arts": "afstand tot podiumkunsten",
}
_BUURT = re.compile(r"^BU\d{8}$")


def _norm(title: str) -> str:
    """A title as compared: last path segment, no unit in brackets, lower case."""
    last = str(title).split("/")[-1]
    return re.sub(r"\s*\(.*?\)\s*$", "", last).strip().lower()


def _values(obj, what: str, where: str) -> list:
    if isinstance(obj, dict) and isinstance(obj.get("value"), list):
        return obj["value"]
    if isinstance(obj, list):
        return obj
    raise InputError(f"CBS table: {where}: {what} is not an OData 'value' array")


def _odata(raw, props, where: str) -> tuple[pd.DataFrame, dict[str, str]]:
    """The rows and each column key's title (normalised) of OData answers."""
    rows = _values(raw, "TypedDataSet", where)
    titles = {
        str(p["Key"]): _norm(p.get("Title", ""))
        for p in _values(props, "DataProperties", where)
        if isinstance(p, dict) and p.get("Key")
    }
    return pd.DataFrame(rows), titles


def _odata_file(path: Path) -> tuple[pd.DataFrame, dict[str, str]]:
    try:
        raw = json.loads(path.read_text(encoding="utf-8-sig"))
    except (ValueError, UnicodeDecodeError) as exc:
        raise InputError(f"CBS table: {path} is not JSON ({exc})") from exc
    if isinstance(raw, dict) and "TypedDataSet" in raw:
        raw, props = raw["TypedDataSet"], raw.get("DataProperties")
    else:
        props = None
        side = path.with_name("DataProperties.json")
        if side.is_file():
            props = json.loads(side.read_text(encoding="utf-8-sig"))
    if props is None:
        raise InputError(
            f"CBS table: {path} has no DataProperties to resolve column titles; put the "
            "table's DataProperties.json next to it (…/ODataApi/odata/<table>/DataProperties)"
        )
    return _odata(raw, props, str(path))


def _region_column(frame: pd.DataFrame, where: str) -> str:
    for col in frame.columns:
        text = frame[col].astype(str).str.strip()
        if len(text) and text.str.match(_BUURT).mean() > 0.5:
            return col
    raise InputError(
        f"CBS table: {where} has no column of buurt codes (like BU09350000); select the buurten "
        "(Wijken en buurten, with their codes) when exporting"
    )


def _columns(
    frame: pd.DataFrame, titles: dict[str, str], want: Mapping[str, str], required, where: str
) -> dict[str, str]:
    """Our name -> the table's column, by the start of its (normalised) title."""
    found = {}
    for ours, start in want.items():
        start = _norm(start)
        hits = [k for k, t in titles.items() if t.startswith(start) and k in frame.columns]
        if hits:
            found[ours] = hits[0]
    missing = [o for o in required if o not in found]
    if missing:
        raise InputError(
            f"CBS table {where}: no column titled {want[missing[0]]!r} (for {missing[0]}); its "
            f"columns are titled {short_list(set(titles.values()), n=12)}. If CBS renamed it, "
            "give the new title under 'columns' in a --catalogue file"
        )
    if not found:
        raise InputError(
            f"CBS table: {where} has none of the distance columns "
            f"({', '.join(t.capitalize() for t in want.values())}); use 'Nabijheid "
            "voorzieningen' (e.g. 86134NED) or 'Kerncijfers wijken en buurten'"
        )
    return found


def _proximity(
    frame: pd.DataFrame, titles: dict[str, str], *, where: str, want=None, required=()
) -> pd.DataFrame:
    want = dict(want or CBS_TITLES)
    region = _region_column(frame, where)
    found = _columns(frame, titles, want, required, where)
    codes = frame[region].astype(str).str.strip()
    keep = codes.str.match(_BUURT).to_numpy()
    out = pd.DataFrame(index=pd.Index(codes[keep].to_numpy(), name="buurt_code"))
    for ours, col in found.items():
        text = frame.loc[keep, col].astype(str).str.strip().str.replace(",", ".", regex=False)
        out[ours] = pd.to_numeric(
            text.replace({".": np.nan, "": np.nan}), errors="coerce"
        ).to_numpy()
    out.attrs["columns"] = found
    return out


def read_cbs_proximity(
    path: str | os.PathLike, *, titles: Mapping[str, str] | None = None, required=()
) -> pd.DataFrame:
    """Read CBS's mean distances per buurt from an OData JSON file or a StatLine CSV export.

    Parameters
    ----------
    path
        The OData JSON (``TypedDataSet`` with ``DataProperties``) or a StatLine CSV export.
    titles
        Our name -> the start of CBS's column title (default :data:`CBS_TITLES`); a title
        matches the last segment of a column's title, without its unit, case-insensitive.
    required
        Names of ``titles`` that must be found (else an error naming the titles there are).

    Returns
    -------
    pandas.DataFrame
        Indexed by ``buurt_code`` (``BU09350000``, buurten only) with a float column in km
        per entry of ``titles`` the table has (``gp``, ``pharmacy``, ...); masked values are
        ``NaN``. ``df.attrs["columns"]`` names the source column of each.
    """
    p = require_file(path, "CBS table")
    if p.suffix.lower() == ".json":
        frame, found = _odata_file(p)
    else:
        frame = read_table(p, what="CBS table", sep=None, engine="python", dtype=str)
        found = {c: _norm(c) for c in frame.columns}
    return _proximity(frame, found, where=str(p), want=titles, required=required)


def proximity_from_statline(
    dl, url: str, *, prefixes, titles: Mapping[str, str] | None = None, required=()
) -> tuple[pd.DataFrame, dict]:
    """CBS's mean distances for the buurten whose codes start with ``prefixes`` (StatLine).

    Asks ``<url>/DataProperties`` and ``<url>/TypedDataSet`` filtered on the region code
    (``BU0935``), page by page, through the cached downloader ``dl``.

    Returns
    -------
    (pandas.DataFrame, dict)
        The table as :func:`read_cbs_proximity` returns it, and CBS's answers in the one-file
        shape it reads (``{"TypedDataSet": {"value": ...}, "DataProperties": {...}}``).
    """
    from .statline import dimension_key, odata_rows, startswith_filter

    base = url.rstrip("/")
    table = base.rsplit("/", 1)[-1]
    what = f"CBS Nabijheid voorzieningen ({table})"
    props = odata_rows(dl, f"{base}/DataProperties", what=what)
    geo = dimension_key(props, "GeoDimension", table=table)
    rows: list[dict] = []
    for prefix in sorted(set(prefixes)):
        rows += odata_rows(dl, f"{base}/TypedDataSet?{startswith_filter(geo, prefix)}", what=what)
    raw = {"TypedDataSet": {"value": rows}, "DataProperties": {"value": props}}
    frame, found = _odata(raw["TypedDataSet"], raw["DataProperties"], table)
    if frame.empty:
        raise InputError(f"{what}: the table has no buurten with codes {', '.join(prefixes)}...")
    return _proximity(frame, found, where=table, want=titles, required=required), raw
