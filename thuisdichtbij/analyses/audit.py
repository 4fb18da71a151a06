"""The data audit: how far a scan's answer can be trusted, given its input.

A scan is only as good as its amenities and its street network. The audit counts the
amenities of every sub-indicator against national reference figures (``audit`` in
``config/weights.yaml``), measures the network (walkable length per dwelling, its share of
footpaths, the dwellings beyond the snap limit) and marks the areas and grid cells where too
many dwellings could not be scored. Pure functions of the scan's frames; the scan stores the
table as ``audit`` and its verdicts in ``run_metadata``.
"""

from __future__ import annotations

import json
from collections.abc import Mapping

import numpy as np
import pandas as pd

from .._text import decimal, short_list, words
from ..config import SAFETY_ID, Config
from ..engine.aggregate import INSUFFICIENT
from ..engine.network import EDGE_FOOTPATH, EDGE_UNKNOWN, Network

__all__ = [
    "OK",
    "THIN",
    "MISSING",
    "INSUFFICIENT",
    "audit_table",
    "audit_metadata",
    "unscored_share",
    "safety_shares",
    "MIN_SAFETY_SHARE",
    "data_status",
    "warning_text",
    "finding",
]

#: Verdicts of the audit, in Dutch as in every output.
OK, THIN, MISSING = "ok", "dun", "ontbreekt"
#: Below this footpath share a network counts as having none at all.
NO_FOOTPATHS_SHARE = 0.01


def unscored_share(dwellings: pd.DataFrame, keys: pd.Series | np.ndarray) -> pd.Series:
    """Per key (area or cell id), the dwelling-weighted share of dwellings not scored.

    ``dwellings`` needs ``weight`` and ``snapped``; dwellings without a weight count as one.
    """
    w = dwellings["weight"].astype(float).fillna(1.0).to_numpy()
    lost = np.where(dwellings["snapped"].to_numpy(dtype=bool), 0.0, w)
    frame = pd.DataFrame({"key": np.asarray(keys, dtype=object), "w": w, "lost": lost})
    sums = frame.dropna(subset=["key"]).groupby("key")[["w", "lost"]].sum()
    return (sums["lost"] / sums["w"].where(sums["w"] > 0)).rename("unscored_share")


def safety_shares(dwellings: pd.DataFrame, keys, config: Config) -> pd.Series | None:
    """Per key (area or cell id), the weighted share of scored dwellings with a safety figure.

    The figure is the Leefbaarometer's. None when the configuration weighs safety 0, or
    when no dwelling has a figure (a run without the Leefbaarometer: every score counts
    the same way, and the audit says so once). In a run where some have one, the others'
    scores count safety as ``safety.missing`` says: with ``rescale`` a low distance score
    gains less than the lowest safety level gives, so an area mostly without a figure
    would look worse than it is.
    """
    scored_with = dwellings["safety_pts"].notna() & dwellings["snapped"].astype(bool)
    if config.weights.get(SAFETY_ID, 0) == 0 or not scored_with.any():
        return None
    return _safety_fraction(dwellings, keys)


def _safety_fraction(dwellings: pd.DataFrame, keys) -> pd.Series:
    """Per key, the dwelling-weighted share of the scored dwellings with a safety figure.

    Dwellings without a known weight count as one, as in :func:`unscored_share`; a key
    without a scored dwelling has none (NaN).
    """
    w = dwellings["weight"].astype(float).fillna(1.0).to_numpy()
    scored = dwellings["snapped"].to_numpy(dtype=bool)
    has = dwellings["safety_pts"].notna().to_numpy() & scored
    frame = pd.DataFrame(
        {"key": np.asarray(keys, dtype=object), "w": np.where(scored, w, 0.0),
         "has": np.where(has, w, 0.0)}
    )  # fmt: skip
    sums = frame.dropna(subset=["key"]).groupby("key")[["w", "has"]].sum()
    return (sums["has"] / sums["w"].where(sums["w"] > 0)).rename("safety_share")


#: An area or cell with a Leefbaarometer figure for fewer of its scored dwellings than this
#: gets no class in a run where others have one (see :func:`safety_shares`).
MIN_SAFETY_SHARE = 0.5


def data_status(share: pd.Series, config: Config) -> pd.Series:
    """``'ok'``, or :data:`INSUFFICIENT` where the unscored share exceeds the configured one."""
    over = share.fillna(0.0) > config.audit.max_unscored_share
    return pd.Series(np.where(over, INSUFFICIENT, OK), index=share.index, dtype=object)


def _indicator_rows(dwellings, amenities, config: Config) -> list[dict]:
    a = config.audit
    w = dwellings["weight"].astype(float).fillna(1.0)
    total = float(w.sum())
    scored = dwellings["snapped"].to_numpy(dtype=bool)
    counts = amenities["indicator"].value_counts()
    snapped = amenities.loc[amenities["snapped"].astype(bool), "indicator"].value_counts()
    rows = []
    for ind in config.indicator_ids:
        n = int(counts.get(ind, 0))
        per_10k = n / total * 1e4 if total else np.nan
        ref = a.reference_per_10k_dwellings.get(ind, np.nan)
        row = {
            "item": ind,
            "group": "indicator",
            "label": config.indicator(ind).label_nl,
            "n_amenities": float(n),
            "n_snapped": float(snapped.get(ind, 0)),
            "per_10k_dwellings": round(per_10k, 3),
            "reference_per_10k": ref,
        }
        d = dwellings[f"dist_{ind}"].to_numpy(dtype=float)
        for band in config.bands:
            inside = np.where(scored, d <= band.max_m, False)
            share = float((w * inside).sum() / w[scored].sum()) if scored.any() else np.nan
            row[f"share_within_{band.max_m:g}m"] = round(share, 4)
        if n == 0:
            row.update(verdict=MISSING, note=f"geen {row['label']} in de invoergegevens")
        elif np.isfinite(ref) and per_10k < a.thin_below * ref:
            row.update(
                verdict=THIN,
                note=f"{n} in de invoer, {decimal(per_10k, '.1f', 'nl')} per 10.000 woningen; "
                f"landelijk {decimal(ref, 'g', 'nl')}: "
                "afstanden vallen waarschijnlijk te lang uit",
            )
        else:
            row.update(verdict=OK, note="")
        rows.append(row)
    return rows


def _network_rows(dwellings, network: Network, config: Config) -> list[dict]:
    w = dwellings["weight"].astype(float).fillna(1.0)
    total = float(w.sum())
    length = network.edge_length_m
    kind = network.edge_kind
    known = kind != EDGE_UNKNOWN
    metres = float(length.sum())
    rows = [
        {"item": "walkable_km", "label": "beloopbaar netwerk", "value": metres / 1000,
         "unit": "km", "verdict": OK, "note": ""},
        {"item": "m_per_dwelling", "label": "beloopbaar netwerk per woning",
         "value": metres / total if total else np.nan, "unit": "m", "verdict": OK, "note": ""},
    ]  # fmt: skip
    if known.any():
        share = float(length[kind == EDGE_FOOTPATH].sum() / length[known].sum())
        if share < NO_FOOTPATHS_SHARE:
            verdict = MISSING
            note = "geen voetpaden: looproutes zijn langer dan in werkelijkheid"
        elif share < config.audit.min_footpath_share:
            verdict, note = THIN, "weinig voetpaden: looproutes vallen te lang uit"
        else:
            verdict, note = OK, ""
    else:
        share, verdict, note = np.nan, OK, "soort weg onbekend (geen highway-tag): niet beoordeeld"
    rows.append(
        {"item": "footpath_share", "label": "aandeel voetpaden (footway/path/steps)",
         "value": share, "unit": "aandeel", "verdict": verdict, "note": note}
    )  # fmt: skip
    lost = float(w[~dwellings["snapped"].to_numpy(dtype=bool)].sum())
    unscored = lost / total if total else np.nan
    over = unscored > config.audit.max_unscored_share
    rows.append(
        {"item": "unscored_share", "label": "woningen buiten de snapgrens",
         "value": unscored, "unit": "aandeel", "verdict": THIN if over else OK,
         "note": f"verder dan {config.max_snap_m:g} m van een beloopbare straat"
         if lost else ""}
    )  # fmt: skip
    for r in rows:
        r["group"] = "network"
    return rows


#: Below this share of scored dwellings with a Leefbaarometer figure, safety is thin.
SAFETY_THIN_BELOW = 0.8


def _safety_row(dwellings, config: Config) -> dict:
    """The share of the scored dwellings with a Leefbaarometer figure (safety_pts).

    None at all: the safety points are missing (a scan abroad, or without the file), and
    every score counts as ``safety.missing`` says; below :data:`SAFETY_THIN_BELOW`: thin.
    Never a finding when the configuration weighs safety 0 (nothing is then left out).
    """
    share = float(_safety_fraction(dwellings, np.zeros(len(dwellings))).get(0, np.nan))
    if config.weights.get(SAFETY_ID, 0) == 0:
        verdict = OK
    elif share == 0:
        verdict = MISSING
    elif share < SAFETY_THIN_BELOW:
        verdict = THIN
    else:
        verdict = OK
    label = "woningen met een Leefbaarometer-cijfer (veiligheid)"
    row = {"item": "safety_share", "group": "coverage", "label": label, "value": share,
           "unit": "aandeel", "verdict": verdict}  # fmt: skip
    row["note"] = "" if verdict == OK else _finding(pd.Series(row), _WARNING["nl"], config)
    return row


#: Below this share of dwelling points with a known number of dwellings, weights are thin.
WEIGHTS_THIN_BELOW = 0.99


def _weight_row(dwellings) -> dict:
    """The share of the dwelling points whose number of dwellings is known.

    A point's weight is unknown where the CBS table masks its postcode's count (-99997,
    secret) or lacks the postcode: its dwellings count in no mean, and an area holding only
    such points has no known number of dwellings, so no class. Thin below
    :data:`WEIGHTS_THIN_BELOW` (one postcode missing from the table is no finding).
    """
    known = dwellings["weight"].notna().to_numpy()
    share = float(known.mean()) if len(known) else np.nan
    row = {"item": "weight_share", "group": "coverage", "value": share, "unit": "aandeel",
           "label": "woningpunten met een bekend aantal woningen",
           "verdict": THIN if share < WEIGHTS_THIN_BELOW else OK}  # fmt: skip
    row["note"] = "" if row["verdict"] == OK else _finding(pd.Series(row), _WARNING["nl"], None)
    return row


def _status_rows(statuses: Mapping[str, pd.Series]) -> list[dict]:
    rows = []
    for name, status in statuses.items():
        n = int((status == INSUFFICIENT).sum())
        rows.append(
            {
                "item": f"{name}_insufficient",
                "group": "coverage",
                "label": f"{name}: {INSUFFICIENT}",
                "value": float(n),
                "unit": f"van {len(status)}",
                "verdict": THIN if n else OK,
                "note": f"{n} zonder klasse" if n else "",
            }
        )
    return rows


_COLUMNS = {
    "item": "string",
    "group": "string",
    "label": "string",
    "n_amenities": "float64",
    "n_snapped": "float64",
    "per_10k_dwellings": "float64",
    "reference_per_10k": "float64",
    "value": "float64",
    "unit": "string",
    "verdict": "string",
    "note": "string",
}


def audit_table(
    dwellings: pd.DataFrame,
    amenities: pd.DataFrame,
    network: Network,
    config: Config,
    *,
    statuses: Mapping[str, pd.Series] | None = None,
) -> pd.DataFrame:
    """The audit as a tidy table: one row per sub-indicator, the network, the coverage.

    Parameters
    ----------
    dwellings
        The scan's dwellings (``weight``, ``snapped``, ``dist_<id>``).
    amenities
        The scan's amenities (``indicator``, ``snapped``), as read: all of them count.
    network
        The walking network (lengths and edge kinds).
    config
        The configuration (its ``audit`` section and bands).
    statuses
        ``data_status`` per layer (``{"areas": ..., "grid": ...}``), for the coverage rows.

    Returns
    -------
    pandas.DataFrame
        Columns ``item``, ``group`` (``indicator``, ``network``, ``coverage``), ``label``,
        ``n_amenities``, ``n_snapped``, ``per_10k_dwellings``, ``reference_per_10k``,
        ``share_within_<m>m`` per band (of the scored dwellings, weighted), ``value`` and
        ``unit`` (network and coverage rows), ``verdict`` (``ok``/``dun``/``ontbreekt``)
        and ``note``.
    """
    rows = _indicator_rows(dwellings, amenities, config)
    rows += _network_rows(dwellings, network, config)
    rows += [_safety_row(dwellings, config), _weight_row(dwellings)]
    rows += _status_rows(statuses or {})
    table = pd.DataFrame(rows)
    shares = [f"share_within_{b.max_m:g}m" for b in config.bands]
    cols = [*list(_COLUMNS)[:7], *shares, *list(_COLUMNS)[7:]]
    table = table.reindex(columns=cols)
    types = {**_COLUMNS, **dict.fromkeys(shares, "float64")}
    for c in cols:
        if types[c] == "string":
            table[c] = table[c].fillna("").astype(str)
        else:
            table[c] = table[c].astype(float)
    return table


def _items(table: pd.DataFrame, group: str, verdict: str) -> list[str]:
    sel = table[(table["group"] == group) & (table["verdict"] == verdict)]
    return sel["item"].tolist()


def audit_metadata(table: pd.DataFrame) -> dict[str, str]:
    """The audit's verdicts as ``run_metadata`` keys (``audit_missing``, ``audit_thin``, ...)."""
    net = table.set_index("item")
    foot = net.loc["footpath_share"]
    meta = {
        "audit_missing": ", ".join(_items(table, "indicator", MISSING)),
        "audit_thin": ", ".join(_items(table, "indicator", THIN)),
        "audit_footpaths": foot["verdict"],
        "audit_footpath_share": f"{foot['value']:.4f}",
        "audit_unscored_share": f"{net.loc['unscored_share', 'value']:.4f}",
        "audit_safety": net.loc["safety_share", "verdict"],
        "audit_weights": net.loc["weight_share", "verdict"],
        "audit_m_per_dwelling": f"{net.loc['m_per_dwelling', 'value']:.1f}",
        "audit_verdicts": json.dumps(dict(zip(table["item"], table["verdict"])), sort_keys=True),
    }
    for item in ("areas_insufficient", "grid_insufficient"):
        if item in net.index:
            meta[f"audit_{item}"] = f"{net.loc[item, 'value']:.0f} {net.loc[item, 'unit']}"
    return meta


#: The WARNING block's words: the network and area items by name, and each finding.
_WARNING = {
    "nl": {
        "names": {
            "walkable_km": "netwerk",
            "m_per_dwelling": "netwerk",
            "footpath_share": "netwerk",
            "unscored_share": "woningen",
            "safety_share": "veiligheid",
            "weight_share": "woningaantallen",
            "areas_insufficient": "gebieden",
            "grid_insufficient": "rastercellen",
        },
        "head": "WAARSCHUWING: de invoer beperkt wat deze scan kan zeggen:",
        "missing": "geen in de invoer: elke woning krijgt er 0 punten voor",
        "thin": "{n:.0f} in de invoer, {per} per 10.000 woningen (referentie {ref}): "
        "afstanden vallen te lang uit",
        "no_paths": "{v} voetpaden: geen voetpaden, looproutes zijn langer dan in werkelijkheid",
        "few_paths": "{v} voetpaden: looproutes vallen te lang uit",
        "unscored": "{v} van de woningen ligt verder dan de snapgrens: niet gescoord",
        "no_safety": "geen Leefbaarometer-gegevens: {how}",
        "some_safety": "{v} van de woningen zonder Leefbaarometer-cijfer: {how}",
        "safety_rescale": "de scores tellen alleen de afstanden, opgeschaald naar het maximum",
        "safety_neutral": "veiligheid telt als voldoende (3 punten)",
        "weights": "{v} van de woningpunten zonder bekend aantal woningen (CBS geheim of "
        "ontbrekend): hun woningen tellen in geen gemiddelde mee, en een gebied met alleen "
        "zulke punten krijgt geen klasse",
        "insufficient": "{v:.0f} {unit} hebben te weinig gegevens (meer dan {max:.0%} van hun "
        "woningen niet gescoord, minder dan de helft van het gebied binnen de gegevens, geen "
        "bekend aantal woningen, of voor minder dan de helft van de woningen een "
        "Leefbaarometer-cijfer): geen klasse ('{label}')",
        "gap": "Lees lage scores voor {names} als een gat in de gegevens, niet als een feit "
        "over de buurt.",
    },
    "en": {
        "names": {
            "walkable_km": "network",
            "m_per_dwelling": "network",
            "footpath_share": "network",
            "unscored_share": "dwellings",
            "safety_share": "safety",
            "weight_share": "dwelling counts",
            "areas_insufficient": "areas",
            "grid_insufficient": "grid cells",
        },
        "head": "WARNING: the input limits what this scan can say:",
        "missing": "none in the input: every dwelling scores 0 points for it",
        "thin": "{n:.0f} in the input, {per} per 10,000 dwellings (reference {ref}): "
        "distances come out too long",
        "no_paths": "{v} footpaths: no footpaths, walks are longer than in reality",
        "few_paths": "{v} footpaths: walks come out too long",
        "unscored": "{v} of the dwellings are beyond the snap limit: not scored",
        "no_safety": "no Leefbaarometer data: {how}",
        "some_safety": "{v} of the dwellings without a Leefbaarometer figure: {how}",
        "safety_rescale": "the scores count the distances only, scaled up to the same maximum",
        "safety_neutral": "safety counts as sufficient (3 points)",
        "weights": "{v} of the dwelling points without a known number of dwellings (CBS "
        "secret or missing): their dwellings count in no mean, and an area of such points "
        "alone gets no class",
        "insufficient": "{v:.0f} {unit} have too little data (more than {max:.0%} of their "
        "dwellings unscored, less than half of the area within the data, no known number of "
        "dwellings, or a Leefbaarometer figure for fewer than half of the dwellings): no class "
        "('{label}')",
        "gap": "Treat low scores for {names} as a data gap, not as a fact about the neighbourhood.",
    },
}
#: Verdicts as the English block names them.
_VERDICT_EN = {OK: "ok", THIN: "thin", MISSING: "missing"}


def warning_text(table: pd.DataFrame, *, config: Config | None = None, lang: str = "nl") -> str:
    """The WARNING block for the end of a scan's console summary ('' when all is ok).

    In ``lang`` (``"nl"`` or ``"en"``), as the console summary; sub-indicators by their
    labels in that language when ``config`` is given, else by the table's (Dutch) labels.
    """
    t = words(_WARNING, lang)
    bad = table[table["verdict"] != OK]
    if bad.empty:
        return ""
    names = _names(table, t, config, lang)
    lines = [t["head"]]
    lines += [f"  {_line(r, t, names, config, lang)}" for _, r in bad.iterrows()]
    thin = _items(table, "indicator", THIN) + _items(table, "indicator", MISSING)
    if thin:
        listed = short_list([names.get(i, i) for i in thin], lang=lang)
        lines.append("  " + t["gap"].format(names=listed))
    return "\n".join(lines)


def finding(
    table: pd.DataFrame, item: str, *, config: Config | None = None, lang: str = "nl"
) -> str:
    """One item's line of the WARNING block, without its indent ('' when it is ok).

    ``"huisarts [dun]: 3 in de invoer, 0,5 per 10.000 woningen (referentie 6,2): afstanden
    vallen te lang uit"``; ``item`` is a row's ``item`` (a sub-indicator's id, ...).
    """
    t = words(_WARNING, lang)
    rows = table[(table["item"] == item) & (table["verdict"] != OK)]
    if rows.empty:
        return ""
    return _line(rows.iloc[0], t, _names(table, t, config, lang), config, lang)


def _names(table: pd.DataFrame, t: dict, config: Config | None, lang: str) -> dict[str, str]:
    """The items by name: sub-indicators by their labels in ``lang`` when ``config`` is given."""
    names = dict(zip(table["item"], table["label"])) | t["names"]
    if config is not None:
        names |= {i.id: i.label_nl if lang == "nl" else i.label_en for i in config.indicators}
    return names


def _line(r: pd.Series, t: dict, names: dict, config: Config | None, lang: str) -> str:
    verdict = r["verdict"] if lang == "nl" else _VERDICT_EN.get(r["verdict"], r["verdict"])
    return f"{names.get(r['item'], r['item'])} [{verdict}]: {_finding(r, t, config)}"


def _finding(r: pd.Series, t: dict, config: Config | None) -> str:
    """One audit row's finding in words."""
    lang = "nl" if t is _WARNING["nl"] else "en"
    if r["group"] == "indicator" and r["verdict"] == MISSING:
        return t["missing"]
    if r["group"] == "indicator":
        return t["thin"].format(
            n=r["n_amenities"],
            per=decimal(r["per_10k_dwellings"], ".1f", lang),
            ref=decimal(r["reference_per_10k"], "g", lang),
        )
    share = decimal(r["value"], ".1%", lang)
    if r["item"] == "footpath_share":
        return t["no_paths" if r["verdict"] == MISSING else "few_paths"].format(v=share)
    if r["item"] == "unscored_share":
        return t["unscored"].format(v=share)
    if r["item"] == "weight_share":
        return t["weights"].format(v=decimal(1 - r["value"], ".1%", lang))
    if r["item"] == "safety_share":
        how = t[f"safety_{config.safety.missing if config else 'rescale'}"]
        key = "no_safety" if r["verdict"] == MISSING else "some_safety"
        return t[key].format(v=decimal(1 - r["value"], ".1%", lang), how=how)
    unit = r["unit"] if lang == "nl" else r["unit"].replace("van", "of")
    most = config.audit.max_unscored_share if config else 0.2
    return t["insufficient"].format(v=r["value"], unit=unit, max=most, label=INSUFFICIENT)
