"""Matching OpenStreetMap-style tags against the indicator definitions."""

from __future__ import annotations

import json
from collections.abc import Iterable

import numpy as np
import pandas as pd

from ..config import Indicator


def needed_keys(indicators: Iterable[Indicator]) -> list[str]:
    """All tag keys any indicator rule looks at, in a stable order."""
    keys: list[str] = []
    for ind in indicators:
        for rule in ind.osm_rules:
            for key, _ in rule:
                if key not in keys:
                    keys.append(key)
    return keys


def rule_starts(indicators: Iterable[Indicator]) -> dict[str, frozenset[str] | None]:
    """For each key that starts a rule, the values the rules accept there (None: any value).

    Whatever matches a rule carries that rule's first key with one of these values, so a
    reader may keep only such features and leave the decision to :func:`match`.
    """
    out: dict[str, set[str] | None] = {}
    for ind in indicators:
        for rule in ind.osm_rules:
            key, values = rule[0]
            if values is None or out.get(key, set()) is None:
                out[key] = None
            else:
                out[key] = out.get(key, set()) | set(values)
    return {k: None if v is None else frozenset(v) for k, v in out.items()}


def expand_tags(
    df: pd.DataFrame, keys: Iterable[str], *, tags_column: str = "tags"
) -> pd.DataFrame:
    """Return ``df`` with a column per key, filled from a JSON/dict ``tags`` column if present.

    Some readers keep the tags they have no column for in one JSON text column; Overpass GeoJSON
    exports have a property per tag. Both end up as one column per key.
    """
    keys = list(keys)
    out = df.copy()
    parsed = None
    if tags_column in df.columns:

        def _load(v):
            if isinstance(v, dict):
                return v
            if isinstance(v, str) and v:
                try:
                    return json.loads(v)
                except ValueError:
                    return {}
            return {}

        parsed = df[tags_column].map(_load)
    for key in keys:
        col = out[key] if key in out.columns else pd.Series(None, index=out.index, dtype=object)
        if parsed is not None:
            col = col.where(col.notna(), parsed.map(lambda d, k=key: d.get(k)))
        out[key] = col.astype(object)
    return out


def tag_columns(df: pd.DataFrame, keys: Iterable[str]) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """Each key's column as text and where it has a value: what :func:`match` compares.

    Worked out once per table, the matching of every indicator is plain numpy.
    """
    return {
        k: (df[k].astype(str).to_numpy(), df[k].notna().to_numpy()) for k in keys if k in df.columns
    }


def match(
    df: pd.DataFrame,
    indicator: Indicator,
    *,
    columns: dict[str, tuple[np.ndarray, np.ndarray]] | None = None,
) -> tuple[np.ndarray, pd.Series]:
    """Rows of ``df`` that count for ``indicator``, and for each the rule that matched.

    Returns a boolean mask and a Series with text such as ``"amenity=pharmacy"``.
    ``columns`` is ``tag_columns(df, keys)`` for keys that include the indicator's, when
    several indicators are matched against one table.
    """
    if columns is None:
        columns = tag_columns(df, needed_keys([indicator]))
    n = len(df)
    mask = np.zeros(n, dtype=bool)
    kind = np.full(n, "", dtype=object)
    for rule in indicator.osm_rules:
        hit = np.ones(n, dtype=bool)
        for key, values in rule:
            if key not in columns:
                hit[:] = False
                break
            text, present = columns[key]
            if values is None:
                hit &= present
            else:
                hit &= np.fromiter((t in values for t in text), dtype=bool, count=n) & present
        new = hit & ~mask
        if new.any():
            parts = [key + "=" + columns[key][0][new] for key, _ in rule]
            kind[new] = [";".join(p) for p in zip(*parts)]
        mask |= hit
    return mask, pd.Series(kind, index=df.index, dtype=object)
