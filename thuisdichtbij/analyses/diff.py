"""What changed between two scans, and why: per dwelling, per area, and in the run's inputs.

Pure: takes the layers and ``run_metadata`` of two scans (as read by
:mod:`thuisdichtbij.outputs.scanfile`) and returns tables; the caller reads and writes files.

A score change is split exactly into what the points did and what the weights did::

    Σ pts_new·w_new − Σ pts_old·w_old = Σ (pts_new − pts_old)·w_new + Σ pts_old·(w_new − w_old)

(safety included; what is left, ``change_other``, comes from rescaling where safety is
missing). A class change is split into the part the dwelling's or area's own score caused
(its old score against the new class edges, then its new score) and the part the moved
class edges caused (classes are relative: when the average moves, a class changes without
anything changing nearby).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field

import geopandas as gpd
import numpy as np
import pandas as pd

from .._text import decimal, words
from ..config import INDICATOR_IDS, SAFETY_ID
from ..engine.score import classify
from ..errors import InputError

__all__ = ["ScanDiff", "diff_scans", "run_changes", "amenity_changes"]

_PTS = [f"pts_{i}" for i in INDICATOR_IDS] + ["safety_pts"]

#: The console summary and the ``cause`` of each change, in Dutch and English.
_SUMMARY = {
    "nl": {
        "areas": "gebieden vergeleken: {n}; van klasse veranderd: {moved} ({up} omhoog, "
        "{down} omlaag); {own} door hun eigen score, {edges} alleen doordat de klassegrenzen "
        "verschoven",
        "mean": "gemiddelde score van de studie: {old} -> {new}; woningen gekoppeld op {how}",
        "dwellings": "woningen: {both_n} in {both} punt(en) in beide, {new_n} in {new} punt(en) "
        "nieuw, {gone_n} in {gone} punt(en) verdwenen; {other_n} in {other} punt(en) met een "
        "andere score",
        "amenities": "voorzieningen: {up} erbij, {gone} verdwenen",
        "area": "gebied {r[area_id]}: klasse {r[class_old]} -> {r[class_new]} "
        "(score {old} -> {new}): {r[cause]}",
        "no_change": "geen voorziening in de buurt veranderd",
        "pts": "{i} {d} punten: {why}",
        "weight": "gewicht {i} {old}->{new}",
        "edges": "klassegrenzen verschoven ({n:+d} klasse)",
        "no_class_new": "geen klasse in de nieuwe scan (te weinig woningen of onvoldoende "
        "gegevens)",
        "no_class_old": "geen klasse in de oude scan (te weinig woningen of onvoldoende gegevens)",
    },
    "en": {
        "areas": "areas compared: {n}; changed class: {moved} ({up} up, {down} down); "
        "{own} by their own score, {edges} only because the class edges moved",
        "mean": "study mean score: {old} -> {new}; dwellings matched by {how}",
        "dwellings": "dwellings: {both_n} in {both} point(s) in both, {new_n} in {new} "
        "point(s) new, {gone_n} in {gone} point(s) gone; {other_n} in {other} point(s) with "
        "another score",
        "amenities": "amenities: {up} appeared, {gone} disappeared",
        "area": "area {r[area_id]}: class {r[class_old]} -> {r[class_new]} "
        "(score {old} -> {new}): {r[cause]}",
        "no_change": "no amenity change nearby",
        "pts": "{i} {d} pts: {why}",
        "weight": "weight {i} {old}->{new}",
        "edges": "class edges moved ({n:+d} class)",
        "no_class_new": "no class in the new scan (too few dwellings or too little data)",
        "no_class_old": "no class in the old scan (too few dwellings or too little data)",
    },
}


@dataclass
class ScanDiff:
    """The changes between two scans.

    Attributes
    ----------
    dwellings
        Per dwelling (points, new location; old location for removed ones): ``status``
        (``both``, ``new_only``, ``old_only``), old and new score and class, their change,
        ``d_pts_<id>``, ``change_points``, ``change_weights``, ``change_other``,
        ``class_change_own``, ``class_change_edges`` and ``cause`` in words.
    areas
        The same per area (polygons of the new scan), with ``score_change_relative`` (the
        area's change minus the change of the study's mean).
    runs
        Table of what differs between the runs: ``kind`` (``input``, ``config``, ``code``),
        ``item``, ``old``, ``new``.
    amenities
        Amenities that appeared or disappeared (points): ``change`` (``appeared``,
        ``disappeared``), ``indicator``, ``name``, ``source``, ``source_id``.
    metadata
        Facts of the comparison (matching, study means, counts).
    """

    dwellings: gpd.GeoDataFrame
    areas: gpd.GeoDataFrame
    runs: pd.DataFrame
    amenities: gpd.GeoDataFrame
    metadata: dict[str, str] = field(default_factory=dict)

    def summary(self, *, lang: str = "nl") -> str:
        """A few lines for the console: class changes, their split, and the runs' differences."""
        t = words(_SUMMARY, lang)
        a = self.areas.dropna(subset=["class_change"])
        moved = a[a["class_change"] != 0]
        own = int((moved["class_change_own"] != 0).sum())
        md = self.metadata
        d, am = self.dwellings, self.amenities
        lines = [
            t["areas"].format(
                n=len(a),
                moved=len(moved),
                up=int((moved["class_change"] > 0).sum()),
                down=int((moved["class_change"] < 0).sum()),
                own=own,
                edges=len(moved) - own,
            ),
            t["mean"].format(
                old=decimal(float(md["study_mean_old"]), ".4f", lang),
                new=decimal(float(md["study_mean_new"]), ".4f", lang),
                how=md["diff_matched_by"],
            ),
            _dwellings_line(d, t["dwellings"]),
            t["amenities"].format(
                up=int((am["change"] == "appeared").sum()),
                gone=int((am["change"] == "disappeared").sum()),
            ),
        ]
        for _, r in self.runs.iterrows():
            lines.append(
                f"  {r['kind']}: {r['item']}: {str(r['old'])[:40]} -> {str(r['new'])[:40]}"
            )
        for _, r in moved.sort_values("class_change").iterrows():
            old, new = (decimal(r[c], ".2f", lang) for c in ("score_old", "score_new"))
            lines.append("  " + t["area"].format(r=r, old=old, new=new))
        return "\n".join(lines)

    def layers(self) -> dict[str, pd.DataFrame]:
        """The tables by their GeoPackage layer names."""
        return {
            "diff_areas": self.areas,
            "diff_dwellings": self.dwellings,
            "diff_amenities": self.amenities,
            "diff_runs": self.runs,
        }


def _dwellings_line(d: pd.DataFrame, line: str) -> str:
    """Points, and the dwellings they stand for, in both scans, new, gone, scored otherwise.

    A row of ``diff_dwellings`` is a dwelling point (an address, or a PC6 centroid that stands
    for its dwellings); a matched point counts with its new weight.
    """
    groups = {
        "both": d["status"] == "both",
        "new": d["status"] == "new_only",
        "gone": d["status"] == "old_only",
        "other": d["score_change"].abs() > 1e-9,
    }
    counts: dict[str, int] = {}
    for key, rows in groups.items():
        counts[key] = int(rows.sum())
        counts[f"{key}_n"] = int(round(d.loc[rows, "weight"].sum()))
    return line.format(**counts)


def _flat(value, prefix: str = "") -> dict[str, str]:
    if isinstance(value, Mapping):
        out: dict[str, str] = {}
        for k, v in value.items():
            out.update(_flat(v, f"{prefix}.{k}" if prefix else str(k)))
        return out
    return {prefix: json.dumps(value, sort_keys=True)}


def _inputs(meta: Mapping[str, str]) -> dict[str, str]:
    """``input_<n>`` entries (``name (bytes) sha256:hex``) as name -> hash."""
    out = {}
    for key, value in meta.items():
        if key.startswith("input_") and " sha256:" in value:
            name, digest = value.split(" (", 1)[0], value.rsplit("sha256:", 1)[1]
            out[name] = digest
    return out


def run_changes(old_meta: Mapping[str, str], new_meta: Mapping[str, str]) -> pd.DataFrame:
    """What differs between two runs' metadata: input files, configuration, code version."""
    rows = []
    old_in, new_in = _inputs(old_meta), _inputs(new_meta)
    for name in sorted(set(old_in) | set(new_in)):
        a, b = old_in.get(name), new_in.get(name)
        if a != b:
            rows.append(("input", name, (a or "")[:12], (b or "")[:12]))
    old_cfg = _flat(json.loads(old_meta.get("config") or "{}"))
    new_cfg = _flat(json.loads(new_meta.get("config") or "{}"))
    for key in sorted(set(old_cfg) | set(new_cfg)):
        a, b = old_cfg.get(key), new_cfg.get(key)
        if a != b:
            rows.append(("config", key, a or "", b or ""))
    for key in ("package_version", "libraries"):
        a, b = old_meta.get(key, ""), new_meta.get(key, "")
        if a != b:
            rows.append(("code", key, a, b))
    return pd.DataFrame(rows, columns=["kind", "item", "old", "new"], dtype="string")


def _amenity_key(amen: gpd.GeoDataFrame) -> pd.Series:
    """``indicator|source_id``, or ``indicator|name|x|y`` (1 m) where the id is missing."""
    sid = amen["source_id"].astype("string") if "source_id" in amen else None
    xy = np.round(np.column_stack([amen.geometry.x, amen.geometry.y]))
    fallback = (
        amen["indicator"].astype(str)
        + "|"
        + amen["name"].astype("string").fillna("")
        + "|"
        + pd.Series([f"{x:.0f}|{y:.0f}" for x, y in xy], index=amen.index)
    )
    if sid is None:
        return fallback
    return (amen["indicator"].astype(str) + "|" + sid).where(sid.notna() & (sid != ""), fallback)


def amenity_changes(old: gpd.GeoDataFrame, new: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Amenities in one scan and not in the other, matched by sub-indicator and source id."""
    old = old.to_crs(new.crs)
    ko, kn = _amenity_key(old), _amenity_key(new)
    gone = old[~ko.isin(set(kn))].assign(change="disappeared")
    came = new[~kn.isin(set(ko))].assign(change="appeared")
    cols = ["change", "indicator", "name", "source", "source_id"]
    both = pd.concat([came, gone], ignore_index=True)
    for c in cols:
        if c not in both:
            both[c] = pd.NA
    return gpd.GeoDataFrame(both[cols], geometry=both.geometry.to_numpy(), crs=new.crs)


def _match(old: gpd.GeoDataFrame, new: gpd.GeoDataFrame, max_match_m: float):
    """Positions of matched (new, old) dwellings, and how they were matched.

    By ``dwelling_id`` when most ids recur, else each new dwelling to the nearest old one
    within ``max_match_m``.
    """
    old_ids = pd.Index(old["dwelling_id"].astype(str))
    new_ids = pd.Index(new["dwelling_id"].astype(str))
    if new_ids.isin(old_ids).mean() >= 0.5 and old_ids.is_unique and new_ids.is_unique:
        pos = old_ids.get_indexer(new_ids)
        return np.flatnonzero(pos >= 0), pos[pos >= 0], "dwelling_id"
    a = new[[new.geometry.name]].reset_index(drop=True)
    b = old[[old.geometry.name]].to_crs(new.crs).reset_index(drop=True)
    hits = gpd.sjoin_nearest(a, b, how="inner", max_distance=max_match_m)
    hits = hits[~hits.index.duplicated(keep="first")]
    hits = hits[~hits["index_right"].duplicated(keep="first")]
    return hits.index.to_numpy(), hits["index_right"].to_numpy(), f"location ({max_match_m:g} m)"


def _weights(meta: Mapping[str, str]) -> dict[str, float]:
    try:
        return {k: float(v) for k, v in json.loads(meta["weights"]).items()}
    except (KeyError, ValueError) as exc:
        raise InputError(
            "diff: a scan's run_metadata has no readable 'weights'; run thuisdichtbij scan again"
        ) from exc


def _edges(meta: Mapping[str, str], key: str) -> np.ndarray:
    return np.array(json.loads(meta.get(key) or "[]") or [np.nan] * 4, dtype=float)


def _score_changes(o, n, *, score, w_old, w_new, edges_new) -> pd.DataFrame:
    """Old and new score and class of aligned rows, and how the change splits up."""
    ids = [*INDICATOR_IDS, SAFETY_ID]
    out = pd.DataFrame(index=n.index)
    out["score_old"], out["score_new"] = o[score].astype(float), n[score].astype(float)
    out["score_change"] = out["score_new"] - out["score_old"]
    out["class_old"] = o["score_class"].astype("Int64")
    out["class_new"] = n["score_class"].astype("Int64")
    out["class_change"] = out["class_new"] - out["class_old"]
    by_points = by_weights = 0.0
    for i, col in zip(ids, _PTS):
        po, pn = o[col].astype(float), n[col].astype(float)
        if i != SAFETY_ID:
            out[f"d_pts_{i}"] = pn - po
        by_points = by_points + (pn - po).fillna(0) * w_new[i]
        by_weights = by_weights + po.fillna(0) * (w_new[i] - w_old[i])
    out["change_points"] = by_points.where(out["score_change"].notna())
    out["change_weights"] = by_weights.where(out["score_change"].notna())
    out["change_other"] = out["score_change"] - out["change_points"] - out["change_weights"]
    if_unchanged = classify(out["score_old"], edges_new)
    # split only where both scans class it: a class lost to a data gap moved no edge
    both = out["class_old"].notna() & out["class_new"].notna()
    out["class_change_own"] = (out["class_new"] - if_unchanged).where(both)
    out["class_change_edges"] = (if_unchanged - out["class_old"]).where(both)
    return out


def _near_changes(places: gpd.GeoSeries, amen: gpd.GeoDataFrame, reach_m: float) -> dict:
    """Per (place index, indicator): amenity changes within ``reach_m`` in a straight line.

    A walk is never shorter than the straight line, so an amenity farther away cannot have
    changed the place's points.
    """
    if amen.empty or places.empty:
        return {}
    zones = gpd.GeoDataFrame(geometry=places.buffer(reach_m), crs=places.crs)
    hits = gpd.sjoin(zones, amen, predicate="intersects")
    out: dict = {}
    for idx, row in hits.iterrows():
        sign = "+" if row["change"] == "appeared" else "-"
        label = f"{sign}{row['source_id'] if pd.notna(row['source_id']) else ''}"
        if pd.notna(row["name"]):
            label += f" ({row['name']})"
        out.setdefault((idx, row["indicator"]), []).append(label)
    return out


def _causes(ch: pd.DataFrame, near: dict, w_old: dict, w_new: dict, lang: str) -> pd.Series:
    """A line per row saying why it changed.

    Which points changed and the amenity changes that can explain them, which weights
    changed, and whether the class edges moved.
    """
    t, texts = words(_SUMMARY, lang), []
    for idx, r in ch.iterrows():
        parts = []
        for i in INDICATOR_IDS:
            d = r[f"d_pts_{i}"]
            if pd.notna(d) and abs(d) > 1e-9:
                found = near.get((idx, i))
                why = ", ".join(found[:3]) if found else t["no_change"]
                parts.append(t["pts"].format(i=i, d=decimal(d, "+.2g", lang), why=why))
        for i in (*INDICATOR_IDS, SAFETY_ID):
            if w_old[i] != w_new[i] and pd.notna(r["change_weights"]) and r["change_weights"]:
                old, new = decimal(w_old[i], "g", lang), decimal(w_new[i], "g", lang)
                parts.append(t["weight"].format(i=i, old=old, new=new))
        if pd.notna(r["class_change_edges"]) and r["class_change_edges"] != 0:
            parts.append(t["edges"].format(n=int(r["class_change_edges"])))
        if pd.isna(r["class_old"]) != pd.isna(r["class_new"]):  # no class in one scan
            parts.append(t["no_class_new" if pd.isna(r["class_new"]) else "no_class_old"])
        texts.append("; ".join(parts))
    return pd.Series(texts, index=ch.index, dtype="string")


def _aligned(frame: pd.DataFrame, pos: np.ndarray, index: pd.Index) -> pd.DataFrame:
    return pd.DataFrame(frame.drop(columns=frame.geometry.name)).iloc[pos].set_index(index)


def _dwelling_diff(old, new, *, amen, w_old, w_new, old_meta, new_meta, reach_m, max_match_m, lang):
    new_pos, old_pos, how = _match(old, new, max_match_m)
    idx = pd.RangeIndex(len(new_pos))
    o, n = _aligned(old, old_pos, idx), _aligned(new, new_pos, idx)
    ch = _score_changes(
        o,
        n,
        score="score",
        w_old=w_old,
        w_new=w_new,
        edges_new=_edges(new_meta, "class_edges_dwellings"),
    )
    places = gpd.GeoSeries(new.geometry.to_numpy()[new_pos], crs=new.crs)
    ch["cause"] = _causes(ch, _near_changes(places, amen, reach_m), w_old, w_new, lang)
    head = pd.DataFrame(
        {
            "dwelling_id": n["dwelling_id"].astype("string"),
            "dwelling_id_old": o["dwelling_id"].astype("string"),
            "area_id": n["area_id"].astype("string"),
            "weight": n["weight"].astype(float),
            "status": "both",
        }
    )
    both = gpd.GeoDataFrame(pd.concat([head, ch], axis=1), geometry=places.to_numpy(), crs=new.crs)
    extra = []
    for frame, pos, status in (
        (new, new_pos, "new_only"),
        (old.to_crs(new.crs), old_pos, "old_only"),
    ):
        rest = frame.drop(frame.index[pos])
        extra.append(
            gpd.GeoDataFrame(
                {
                    "dwelling_id": rest["dwelling_id"].astype("string").to_numpy(),
                    "area_id": rest["area_id"].astype("string").to_numpy(),
                    "weight": rest["weight"].astype(float).to_numpy(),
                    "status": status,
                },
                geometry=rest.geometry.to_numpy(),
                crs=new.crs,
            )
        )
    out = pd.concat([both, *extra], ignore_index=True)
    return gpd.GeoDataFrame(out, geometry=both.geometry.name, crs=new.crs), how


def _area_diff(old, new, *, amen, w_old, w_new, new_meta, reach_m, mean_change, lang):
    pos = pd.Index(old["area_id"].astype(str)).get_indexer(new["area_id"].astype(str))
    o = pd.DataFrame(old.drop(columns=old.geometry.name)).reset_index(drop=True)
    o = o.reindex(pos).set_axis(new.index)  # -1: an area the old scan lacks, all NaN
    o.loc[pos < 0] = np.nan
    ch = _score_changes(
        o,
        new,
        score="score_mean",
        w_old=w_old,
        w_new=w_new,
        edges_new=_edges(new_meta, "class_edges_areas"),
    )
    ch.insert(3, "score_change_relative", ch["score_change"] - mean_change)
    ch["cause"] = _causes(ch, _near_changes(new.geometry, amen, reach_m), w_old, w_new, lang)
    head = pd.DataFrame(
        {
            "area_id": new["area_id"].astype("string"),
            "n_dwellings_old": o["n_dwellings"].astype("Int64"),
            "n_dwellings_new": new["n_dwellings"].astype("Int64"),
        }
    )
    return gpd.GeoDataFrame(pd.concat([head, ch], axis=1), geometry=new.geometry, crs=new.crs)


def _study_mean(dw: pd.DataFrame) -> float:
    ok = dw["score"].notna() & dw["weight"].notna()
    return float(np.average(dw.loc[ok, "score"], weights=dw.loc[ok, "weight"]))


def diff_scans(
    old: Mapping[str, pd.DataFrame],
    new: Mapping[str, pd.DataFrame],
    *,
    old_metadata: Mapping[str, str],
    new_metadata: Mapping[str, str],
    max_match_m: float = 5.0,
    lang: str = "nl",
) -> ScanDiff:
    """Compare two scans: what changed per dwelling and per area, and why.

    Parameters
    ----------
    old, new
        The layers ``dwellings``, ``areas`` and ``amenities`` of each scan.
    old_metadata, new_metadata
        Their ``run_metadata`` as dicts.
    max_match_m
        When the dwelling ids differ (fewer than half recur), a new dwelling is matched to
        the nearest old one within this distance.
    lang
        The language of the ``cause`` column: ``"nl"`` (default) or ``"en"``.

    Returns
    -------
    ScanDiff
        Tables in the new scan's CRS.
    """
    w_old, w_new = _weights(old_metadata), _weights(new_metadata)
    crs = new["dwellings"].crs
    amen = amenity_changes(old["amenities"], new["amenities"])
    reach_m = max(b["max_m"] for b in json.loads(new_metadata["config"])["bands"])
    mean_old, mean_new = _study_mean(old["dwellings"]), _study_mean(new["dwellings"])
    dwellings, how = _dwelling_diff(
        old["dwellings"],
        new["dwellings"],
        amen=amen,
        w_old=w_old,
        w_new=w_new,
        old_meta=old_metadata,
        new_meta=new_metadata,
        reach_m=reach_m,
        max_match_m=max_match_m,
        lang=lang,
    )
    areas = _area_diff(
        old["areas"].to_crs(crs),
        new["areas"],
        amen=amen,
        w_old=w_old,
        w_new=w_new,
        new_meta=new_metadata,
        reach_m=reach_m,
        mean_change=mean_new - mean_old,
        lang=lang,
    )
    meta = {
        "diff_old": old_metadata.get("finished_utc", ""),
        "diff_new": new_metadata.get("finished_utc", ""),
        "diff_matched_by": how,
        "study_mean_old": f"{mean_old:.4f}",
        "study_mean_new": f"{mean_new:.4f}",
        "class_edges_areas_old": old_metadata.get("class_edges_areas", ""),
        "class_edges_areas_new": new_metadata.get("class_edges_areas", ""),
        # whom the maps of the change credit: the sources of both scans
        "attribution_old": old_metadata.get("attribution", ""),
        "attribution_new": new_metadata.get("attribution", ""),
    }
    runs = run_changes(old_metadata, new_metadata)
    return ScanDiff(dwellings=dwellings, areas=areas, runs=runs, amenities=amen, metadata=meta)
