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
from pathlib import Path

import numpy as np
import pandas as pd

from ..errors import InputError
from ._io import read_table, require_file

__all__ = ["read_cbs_proximity", "CBS_TITLES"]

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


def _odata(path: Path) -> tuple[pd.DataFrame, dict[str, str]]:
    try:
        raw = json.loads(path.read_text(encoding="utf-8-sig"))
    except (ValueError, UnicodeDecodeError) as exc:
        raise InputError(f"CBS table: {path} is not JSON ({exc})") from exc

    def values(obj, what):
        if isinstance(obj, dict) and isinstance(obj.get("value"), list):
            return obj["value"]
        if isinstance(obj, list):
            return obj
        raise InputError(f"CBS table: {path}: {what} is not an OData 'value' array")

    if isinstance(raw, dict) and "TypedDataSet" in raw:
        rows, props = values(raw["TypedDataSet"], "TypedDataSet"), raw.get("DataProperties")
    else:
        rows, props = values(raw, "the file"), None
        side = path.with_name("DataProperties.json")
        if side.is_file():
            props = json.loads(side.read_text(encoding="utf-8-sig"))
    if props is None:
        raise InputError(
            f"CBS table: {path} has no DataProperties to resolve column titles; put the "
            "table's DataProperties.json next to it (…/ODataApi/odata/<table>/DataProperties)"
        )
    titles = {
        str(p["Key"]): _norm(p.get("Title", ""))
        for p in values(props, "DataProperties")
        if isinstance(p, dict) and p.get("Key")
    }
    return pd.DataFrame(rows), titles


def _region_column(frame: pd.DataFrame, path: Path) -> str:
    for col in frame.columns:
        text = frame[col].astype(str).str.strip()
        if len(text) and text.str.match(_BUURT).mean() > 0.5:
            return col
    raise InputError(
        f"CBS table: {path} has no column of buurt codes (like BU09350000); select the buurten "
        "(Wijken en buurten, with their codes) when exporting"
    )


def read_cbs_proximity(path: str | os.PathLike) -> pd.DataFrame:
    """Read CBS's mean distances per buurt from an OData JSON file or a StatLine CSV export.

    Returns
    -------
    pandas.DataFrame
        Indexed by ``buurt_code`` (``BU09350000``, buurten only) with a float column in km
        per entry of :data:`CBS_TITLES` the table has (``gp``, ``pharmacy``, ...); masked
        values are ``NaN``. ``df.attrs["columns"]`` names the source column of each.
    """
    p = require_file(path, "CBS table")
    if p.suffix.lower() == ".json":
        frame, titles = _odata(p)
    else:
        frame = read_table(p, what="CBS table", sep=None, engine="python", dtype=str)
        titles = {c: _norm(c) for c in frame.columns}
    region = _region_column(frame, p)
    found = {}
    for ours, start in CBS_TITLES.items():
        hits = [k for k, t in titles.items() if t.startswith(start) and k in frame.columns]
        if hits:
            found[ours] = hits[0]
    if not found:
        raise InputError(
            f"CBS table: {p} has none of the distance columns "
            f"({', '.join(t.capitalize() for t in CBS_TITLES.values())}); use 'Nabijheid "
            "voorzieningen' (e.g. 86134NED) or 'Kerncijfers wijken en buurten'"
        )
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
