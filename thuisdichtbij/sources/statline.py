"""CBS StatLine OData v3 tables: rows page by page, columns resolved by their title.

``<table>/TypedDataSet`` answers ``{"value": [...], "odata.nextLink": ...}`` (at most 10,000
rows per answer; follow the link); ``<table>/DataProperties`` lists each column with ``Key``,
``Title``, ``Type`` (``Topic``, ``TopicGroup``, ``GeoDimension``, ``TimeDimension``, ...) and
``ParentID`` (its group). Keys carry a numeric suffix that changes per table and edition
(``GemiddeldeScore_29``), so columns are found by the path of titles, never by key. Region
codes are right-padded with spaces. (Evidence: public OData clients of 85984NED, 86134NED and
86092NED; see /data/sources.yaml.)
"""

from __future__ import annotations

from collections.abc import Mapping
from urllib.parse import quote

import pandas as pd

from .._text import short_list
from ..errors import InputError
from .http import Downloader

__all__ = [
    "odata_rows",
    "title_paths",
    "resolve_columns",
    "dimension_key",
    "startswith_filter",
    "frame",
]


def odata_rows(dl: Downloader, url: str, *, what: str) -> list[dict]:
    """Every row of an OData answer, following ``odata.nextLink``."""
    rows: list[dict] = []
    seen = set()
    while url and url not in seen:
        seen.add(url)
        page = dl.get_json(url, what=what)
        if not isinstance(page, dict) or not isinstance(page.get("value"), list):
            raise InputError(f"{what}: {url} did not answer with an OData 'value' list")
        rows += page["value"]
        url = page.get("odata.nextLink")
    return rows


def title_paths(props: list[dict]) -> dict[str, str]:
    """Each column key -> its title path, e.g. ``SES-WOA/Totaalscore/Gemiddelde score``."""
    by_id = {p.get("ID"): p for p in props}
    out = {}
    for p in props:
        if not p.get("Key") or p.get("Type") == "TopicGroup":
            continue
        parts, node = [], p
        while node is not None:
            parts.append(str(node.get("Title", "")).strip())
            node = by_id.get(node.get("ParentID"))
        out[p["Key"]] = "/".join(reversed(parts))
    return out


def resolve_columns(
    props: list[dict], titles: Mapping[str, str], *, table: str, required: bool = True
) -> dict[str, str]:
    """Our column -> the table's key, for titles matched at the end of the title path.

    A title ``Totaalscore/Gemiddelde score`` matches the path ``SES-WOA/Totaalscore/
    Gemiddelde score`` (case-insensitive). A required title that matches no column, or one
    that matches several, is an error naming the table and the titles it has.
    """
    paths = title_paths(props)
    out = {}
    for name, title in titles.items():
        want = "/" + title.strip().strip("/").casefold()
        hits = [k for k, p in paths.items() if ("/" + p.casefold()).endswith(want)]
        if len(hits) == 1:
            out[name] = hits[0]
        elif hits or required:
            found = short_list(paths.values(), n=12)
            problem = f"several columns ({', '.join(hits)})" if hits else "no column"
            raise InputError(
                f"CBS table {table}: {problem} titled {title!r} (for {name}); its columns are "
                f"titled {found}. Give the right title in a --catalogue file"
            )
    return out


def dimension_key(props: list[dict], kind: str, *, table: str) -> str:
    """The key of the table's ``GeoDimension`` or ``TimeDimension``."""
    keys = [p["Key"] for p in props if p.get("Type") == kind]
    if not keys:
        raise InputError(f"CBS table {table}: DataProperties lists no {kind}")
    return keys[0]


def startswith_filter(key: str, prefix: str) -> str:
    """``$filter=startswith(Key,'prefix')``, quoted for a URL."""
    return "$filter=" + quote(f"startswith({key},'{prefix}')", safe="(),'")


def frame(rows: list[dict]) -> pd.DataFrame:
    """The rows as a frame, text stripped of CBS's padding."""
    df = pd.DataFrame(rows)
    for c in df.columns:
        if df[c].map(lambda v: isinstance(v, str)).any():
            df[c] = df[c].map(lambda v: v.strip() if isinstance(v, str) else v)
    return df
