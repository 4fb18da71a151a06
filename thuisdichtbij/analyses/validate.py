"""Validation against CBS's proximity figures per buurt.

CBS measures the mean distance over the road from all addresses of a buurt to the nearest
amenity; we walk. A walk is usually about as long or a little shorter, never many times
longer: where ours is far longer, amenities or streets are likely missing from our input.
The walking distances are measured for this purpose only, with the scan's own search
(:func:`thuisdichtbij.engine.distance.indicator_distances`) up to ``max_m`` (5 km) instead
of the largest band; the scan's banded distances are not touched.
"""

from __future__ import annotations

import json
import logging
import os
import re
from dataclasses import dataclass, field
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
from scipy.stats import spearmanr
from shapely import box

from ..engine.aggregate import assign_areas
from ..engine.distance import indicator_distances
from ..engine.snap import snap_points
from ..errors import InputError
from ..outputs.scanfile import read_metadata, read_scan_layer, scan_layers
from ..sources.areas import read_areas
from ..sources.cbs_nabijheid import proximity_from_statline, read_cbs_proximity
from ..study import load_study
from .check import load_check

log = logging.getLogger(__name__)

__all__ = ["ValidationResult", "validate", "is_table_id", "compare", "summarise", "CULTURE_PARTS"]

#: CBS's parts of our culture sub-indicator: ours is the nearest of any of them, so it is
#: compared with the nearest of CBS's means (an approximation: the mean of the nearest is at
#: most the nearest of the means).
CULTURE_PARTS = ("library", "museum", "performing_arts")
#: Ours longer than this many times CBS's: flagged.
RATIO_FLAG = 2.0
#: CBS has one within this many km ...
NEARBY_KM = 1.0
#: A StatLine table id (``86134NED``) given instead of a file.
TABLE_ID = re.compile(r"^\d{5}[A-Z]{3}$")


@dataclass(frozen=True)
class _Inputs:
    """Where the CBS table and the buurt polygons come from."""

    cbs: str
    buurten: str
    buurt_field: str
    layer: str | None = None
    titles: dict | None = None


@dataclass
class ValidationResult:
    """The comparison per buurt and sub-indicator, its summary and the buurt polygons."""

    table: pd.DataFrame
    summary: pd.DataFrame
    buurten: gpd.GeoDataFrame
    metadata: dict[str, str] = field(default_factory=dict)

    def to_gpkg(self, scan: str | os.PathLike) -> Path:
        """Add the validation tables and layer to the scan GeoPackage.

        Tables ``validation`` and ``validation_summary``, layer ``validation_buurten``; the
        verdicts are folded into the ``audit`` table.
        """
        from ..outputs.export import add_layers

        layers = {
            "validation": self.table,
            "validation_summary": self.summary,
            "validation_buurten": self.buurten,
        }
        if "audit" in scan_layers(scan):  # not in scans written before the audit
            layers["audit"] = fold_into_audit(read_scan_layer(scan, "audit"), self.summary)
        return add_layers(scan, layers, metadata=self.metadata)


def compare(
    ours: pd.DataFrame, cbs: pd.DataFrame, *, ratio_flag: float = RATIO_FLAG
) -> pd.DataFrame:
    """Per buurt and sub-indicator: our mean walking km next to CBS's km, ratio and flags.

    ``ours`` is indexed by buurt code with columns ``<id>_km``, ``<id>_within_1km`` (the
    weighted share of dwellings with one within 1 km) and ``n_dwellings``; ``cbs`` as read by
    :func:`~thuisdichtbij.sources.cbs_nabijheid.read_cbs_proximity`. Flags:
    ``far_longer`` (ours more than ``ratio_flag`` times CBS's) and ``missing_nearby``
    (CBS's mean is within 1 km, yet none of our amenities is within 1 km of any dwelling).
    """
    cbs = cbs.copy()
    parts = [c for c in CULTURE_PARTS if c in cbs]
    if parts:
        cbs["culture"] = cbs[parts].min(axis=1, skipna=True)
    rows = []
    for ind in ("gp", "pharmacy", "physio", "supermarket", "culture"):
        if ind not in cbs or f"{ind}_km" not in ours:
            continue
        both = ours.join(cbs[[ind]], how="inner")
        for code, r in both.iterrows():
            mine, theirs = float(r[f"{ind}_km"]), float(r[ind])
            ratio = mine / theirs if theirs > 0 and np.isfinite(mine) else np.nan
            far = bool(np.isfinite(ratio) and ratio > ratio_flag)
            missing = bool(theirs <= NEARBY_KM and r[f"{ind}_within_1km"] == 0)
            rows.append(
                {
                    "buurt_code": code,
                    "indicator": ind,
                    "n_dwellings": float(r["n_dwellings"]),
                    "ours_km": round(mine, 3),
                    "cbs_km": theirs,
                    "ratio": round(ratio, 3) if np.isfinite(ratio) else np.nan,
                    "ours_capped": bool(r[f"{ind}_capped"]),
                    "far_longer": far,
                    "missing_nearby": missing,
                    "flagged": far or missing,
                }
            )
    return pd.DataFrame(rows)


def summarise(table: pd.DataFrame) -> pd.DataFrame:
    """Per sub-indicator: buurten compared, rank correlation, median ratio, flagged buurten."""
    rows = []
    for ind, t in table.groupby("indicator", sort=False):
        ok = t.dropna(subset=["ours_km", "cbs_km"])
        rho = spearmanr(ok["ours_km"], ok["cbs_km"]).statistic if len(ok) >= 3 else np.nan
        rows.append(
            {
                "indicator": ind,
                "n_buurten": float(len(t)),
                "spearman": round(float(rho), 3) if np.isfinite(rho) else np.nan,
                "median_ratio": round(float(t["ratio"].median()), 3),
                "n_flagged": float(t["flagged"].sum()),
                "n_far_longer": float(t["far_longer"].sum()),
                "n_missing_nearby": float(t["missing_nearby"].sum()),
            }
        )
    return pd.DataFrame(rows)


def fold_into_audit(audit: pd.DataFrame, summary: pd.DataFrame) -> pd.DataFrame:
    """The audit table with one ``validation`` row per sub-indicator (replacing old ones).

    Verdict ``dun`` where more than a quarter of the buurten are flagged (a judgement).
    """
    kept = audit[audit["group"] != "validation"]
    rows = [
        {
            "item": f"validation_{r['indicator']}",
            "group": "validation",
            "label": f"CBS-vergelijking {r['indicator']}",
            "value": r["median_ratio"],
            "unit": "mediaan verhouding loopafstand / CBS",
            "verdict": "dun" if r["n_flagged"] > 0.25 * r["n_buurten"] else "ok",
            "note": f"{r['n_flagged']:.0f} van {r['n_buurten']:.0f} buurten gemarkeerd; "
            f"rangcorrelatie {r['spearman']}",
        }
        for _, r in summary.iterrows()
    ]
    out = pd.concat([kept, pd.DataFrame(rows)], ignore_index=True)
    for c in out.columns:
        if out[c].dtype == object:
            out[c] = out[c].fillna("").astype(str)
    return out


def _walks(scan, *, max_m: float) -> tuple[gpd.GeoDataFrame, list[str]]:
    """The scan's dwellings with uncapped (up to ``max_m``) walking distances per indicator."""
    ctx = load_check(scan)
    dw = read_scan_layer(scan, "dwellings")
    cfg, net = ctx.config, ctx.network
    snapped = snap_points(dw.geometry.to_numpy(), net, max_snap_m=cfg.max_snap_m)
    indicator = ctx.amenities["indicator"].to_numpy()
    ids = [
        i for i in ("gp", "pharmacy", "physio", "supermarket", "culture") if i in cfg.indicator_ids
    ]
    dists = indicator_distances(
        net, snapped, ctx.amenity_snap, indicator, tuple(ids), max_distance_m=max_m
    )
    out = dw[["weight", dw.geometry.name]].copy()
    out["snapped"] = snapped.ok
    for ind in ids:
        out[f"d_{ind}"] = dists[ind]
    return out, ids


def _per_buurt(
    dw: gpd.GeoDataFrame, buurten: gpd.GeoDataFrame, ids, *, max_m: float
) -> pd.DataFrame:
    d = dw[dw["snapped"] & dw["weight"].notna()].copy()
    d["buurt"] = assign_areas(d, buurten).to_numpy()
    d = d[d["buurt"].notna()]
    w = d["weight"].astype(float)
    out = pd.DataFrame({"n_dwellings": w.groupby(d["buurt"]).sum()})
    for ind in ids:
        metres = d[f"d_{ind}"].astype(float)
        capped = ~np.isfinite(metres)
        km = metres.where(~capped, max_m) / 1000
        out[f"{ind}_km"] = (km * w).groupby(d["buurt"]).sum() / out["n_dwellings"]
        out[f"{ind}_capped"] = capped.groupby(d["buurt"]).any()
        out[f"{ind}_within_1km"] = ((metres <= 1000) * w).groupby(d["buurt"]).sum() / out[
            "n_dwellings"
        ]
    return out


def _inputs(scan, *, cbs, buurten, buurt_field, layer, study) -> _Inputs:
    """The options given, else the study's ``validation``, else what the scan recorded."""
    if study is not None:
        sec = load_study(study).validation
        if not sec:
            raise InputError(
                f"validate: the study {study} has no 'validation' section; fetch it with "
                "--with-validation, or give --cbs and --buurten"
            )
    elif cbs is None or buurten is None:
        raw = read_metadata(scan).get("validation_inputs")
        sec = json.loads(raw) if raw else None
        if not sec:
            raise InputError(
                f"validate: {Path(scan).name} was not made from a study with validation data; "
                "give --cbs (a file or a table id like 86134NED) and --buurten, or --study of a "
                "study fetched with --with-validation"
            )
    else:
        sec = {}
    table, polys = sec.get("cbs", {}), sec.get("buurten", {})
    return _Inputs(
        cbs=str(cbs if cbs is not None else table["file"]),
        buurten=str(buurten if buurten is not None else polys["file"]),
        buurt_field=buurt_field or polys.get("id_field") or "buurtcode",
        layer=layer if buurten is not None else polys.get("layer"),
        titles=dict(table["titles"]) if cbs is None and table.get("titles") else None,
    )


def is_table_id(cbs: str | os.PathLike) -> bool:
    """Whether ``cbs`` names a StatLine table (``86134NED``) rather than a file."""
    return not Path(cbs).is_file() and bool(TABLE_ID.match(str(cbs).upper()))


def _cbs_table(cbs: str, *, titles, polys: gpd.GeoDataFrame, downloader) -> pd.DataFrame:
    """The CBS table from a file, or from StatLine for a table id (for the buurten given)."""
    if not is_table_id(cbs):
        return read_cbs_proximity(cbs, titles=titles)
    from ..settings import cache_dir
    from ..sources.catalogue import load_catalogue
    from ..sources.http import Downloader

    entry = load_catalogue()["cbs_nabijheid"]
    url = entry["url"].rstrip("/").rsplit("/", 1)[0] + "/" + cbs.upper()
    prefixes = sorted({str(c)[:6] for c in polys["area_id"] if str(c).startswith("BU")})
    if not prefixes:
        raise InputError("validate: the buurten near the scan's dwellings have no BU... codes")
    dl = downloader or Downloader(cache_dir() / "downloads")
    table, _ = proximity_from_statline(
        dl, url, prefixes=prefixes, titles=titles or entry.get("columns")
    )
    return table


def _buurt_layer(polys: gpd.GeoDataFrame, table: pd.DataFrame) -> gpd.GeoDataFrame:
    """The buurt polygons with each sub-indicator's ratio and flag."""
    layer_out = polys.rename(columns={"area_id": "buurt_code"})
    if not len(table):
        return layer_out
    wide = table.pivot(index="buurt_code", columns="indicator", values=["ratio", "flagged"])
    wide.columns = [f"{a}_{b}" for a, b in wide.columns]
    layer_out = layer_out.merge(wide, left_on="buurt_code", right_index=True, how="inner")
    for c in layer_out.columns:
        if c.startswith("flagged_"):
            layer_out[c] = layer_out[c].astype(float)
    return layer_out


def validate(
    scan: str | os.PathLike,
    cbs: str | os.PathLike | None = None,
    *,
    buurten: str | os.PathLike | None = None,
    buurt_field: str | None = None,
    layer: str | None = None,
    study: str | os.PathLike | None = None,
    downloader=None,
    max_m: float = 5000.0,
    ratio_flag: float = RATIO_FLAG,
) -> ValidationResult:
    """Hold a scan's walking distances against CBS's mean distances per buurt.

    Parameters
    ----------
    scan
        A scan GeoPackage (with its ``network`` layer).
    cbs
        The CBS table: a file (OData JSON or a StatLine CSV export, see
        :func:`~thuisdichtbij.sources.cbs_nabijheid.read_cbs_proximity`) or a StatLine table
        id (``86134NED``), asked for the buurten near the scan (cached). Default: the
        study's ``validation`` (``study``, else the one the scan was made from).
    buurten
        The buurt polygons (e.g. CBS's gebiedsindelingen ``buurt_niet_gegeneraliseerd``),
        with ``buurt_field`` (default ``buurtcode``, or the study's). Default: as ``cbs``.
    study
        A study fetched with ``--with-validation``: its CBS table and buurten.
    downloader
        The :class:`~thuisdichtbij.sources.http.Downloader` for a table id (default: one
        on the user cache).
    max_m
        Walks are measured up to this far; a dwelling with nothing nearer counts as
        ``max_m`` (and the buurt's ``ours_capped`` is true).
    ratio_flag
        Ours longer than this many times CBS's is flagged.
    """
    src = _inputs(scan, cbs=cbs, buurten=buurten, buurt_field=buurt_field, layer=layer, study=study)
    dw, ids = _walks(scan, max_m=max_m)
    polys = read_areas(src.buurten, id_field=src.buurt_field, layer=src.layer, what="buurten")
    polys = polys.to_crs(dw.crs)
    polys = polys[polys.intersects(box(*dw.total_bounds))]  # the scan's buurten
    table_cbs = _cbs_table(src.cbs, titles=src.titles, polys=polys, downloader=downloader)
    polys = polys[polys["area_id"].isin(table_cbs.index)]
    ours = _per_buurt(dw, polys, ids, max_m=max_m)
    table = compare(ours, table_cbs, ratio_flag=ratio_flag)
    summary = summarise(table) if len(table) else pd.DataFrame(columns=["indicator"])
    meta = {
        "validation_cbs_file": Path(src.cbs).name,
        "validation_cbs_columns": ", ".join(
            f"{k}={v}" for k, v in table_cbs.attrs["columns"].items()
        ),
        "validation_max_m": f"{max_m:g}",
        "validation_ratio_flag": f"{ratio_flag:g}",
        "validation_buurten": str(table["buurt_code"].nunique()) if len(table) else "0",
    }
    for _, r in summary.iterrows():
        meta[f"validation_{r['indicator']}"] = (
            f"median ratio {r['median_ratio']}, spearman {r['spearman']}, "
            f"{r['n_flagged']:.0f} of {r['n_buurten']:.0f} buurten flagged"
        )
    return ValidationResult(
        table=table, summary=summary, buurten=_buurt_layer(polys, table), metadata=meta
    )
