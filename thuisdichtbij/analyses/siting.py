"""Siting: where n new amenities of a kind move the most dwellings into a better band.

A maximal covering location problem on the walking network. A candidate site *covers* a
dwelling when an amenity there would give it more points for the sub-indicator than it has
(its walk falls into a better band), measured with the scan's own snapping and search
(:mod:`thuisdichtbij.engine.distance`): a site's gain is exactly what ``whatif --add`` at
that spot reports. The n sites that together cover the most dwellings (or residents of
65+) are found exactly, as an integer programme solved by HiGHS (``scipy.optimize.milp``),
and then ranked by the gain each adds to those before it.

The advice is only as good as the scan's amenities: where the data audit finds the
sub-indicator thin (``dun``), the result carries the audit's WARNING and says the gains are
overstated; where it finds none (``ontbreekt``), :func:`site` refuses (see there).
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from scipy import sparse
from scipy.optimize import Bounds, LinearConstraint, milp

from .._text import LANGS, words
from ..config import Config
from ..engine.distance import edge_distances, node_distances
from ..engine.network import Network, inside_extent_m
from ..engine.score import band_points
from ..engine.snap import Snapped, snap_points
from ..errors import InputError
from ..outputs.scanfile import read_scan_layer, scan_layers
from ..provenance import utc_now
from .audit import MISSING, OK, finding, warning_text
from .whatif import WhatifContext, indicator_id

log = logging.getLogger(__name__)

__all__ = [
    "SitingResult",
    "grid_candidates",
    "coverage",
    "solve_mclp",
    "rank_sites",
    "site",
]

#: Candidates whose walks are searched in one call (memory: chunk x nodes floats).
_CHUNK = 128

#: What the data audit's verdict on the sub-indicator means for the advice.
_WORDS = {
    "nl": {
        "overstated": "De winst van deze locaties is daardoor overschat: bestaande {plural} "
        "die in de gegevens ontbreken, tellen niet mee.",
        "edge": "{n} van de {k} locaties liggen binnen {m:g} m van de rand van de gegevens: wat "
        "daarachter ligt ontbreekt, dus hun winst kan aan de gegevens liggen (kolom edge_m).",
        "head": "WAARSCHUWING:",
        "missing": "site: de invoer van de scan heeft geen {label} (data-audit: "
        "'ontbreekt'), dus elke woning telt als zonder en de locaties zouden alleen de "
        "woningen volgen; voeg de {plural} toe aan de voorzieningen van de studie (bijv. "
        "{{file: ..., format: points, indicator: {id}}}) en scan opnieuw",
    },
    "en": {
        "overstated": "The sites' gains are overstated: existing {plural} missing from the "
        "data are not counted.",
        "edge": "{n} of the {k} sites lie within {m:g} m of the data's edge: what lies beyond "
        "is missing, so their gains may be a gap in the data (column edge_m).",
        "head": "WARNING:",
        "missing": "site: the scan's input holds no {label} (data audit: 'ontbreekt'), so "
        "every dwelling counts as without one and the sites would only follow the dwellings; "
        "add the {plural} to the study's amenities (e.g. {{file: ..., format: points, "
        "indicator: {id}}}) and scan again",
    },
}


def grid_candidates(
    network: Network, dwellings: np.ndarray, *, spacing_m: float, built_up_m: float
) -> np.ndarray:
    """Network nodes on a regular spacing within the built-up area, as points.

    The built-up area is everything within ``built_up_m`` of a dwelling point; per square
    of ``spacing_m`` (corners on multiples of it) the node nearest its centre is taken.
    """
    nodes = shapely.points(network.node_xy)
    tree = shapely.STRtree(dwellings)
    near = np.unique(tree.query(nodes, predicate="dwithin", distance=built_up_m)[0])
    if not len(near):
        return np.array([], dtype=object)
    xy = network.node_xy[near]
    cell = np.floor(xy / spacing_m)
    off = np.hypot(*(xy - (cell + 0.5) * spacing_m).T)
    order = np.lexsort((near, off, cell[:, 1], cell[:, 0]))
    c = cell[order]
    first = np.ones(len(order), dtype=bool)
    first[1:] = (c[1:] != c[:-1]).any(axis=1)
    return nodes[np.sort(near[order][first])]


def coverage(
    network: Network,
    dwellings: Snapped,
    points_now: np.ndarray,
    candidates: Snapped,
    config: Config,
) -> sparse.csr_matrix:
    """Which candidate would move which dwelling into a better band (dwellings x candidates).

    ``points_now`` are the dwellings' band points for the sub-indicator. Walks are measured
    as the scan measures them: one search per candidate up to the largest band.
    """
    rows, cols = [], []
    limit = config.max_distance_m
    for start in range(0, len(candidates.edge), _CHUNK):
        idx = np.arange(start, min(start + _CHUNK, len(candidates.edge)))
        subsets = [candidates.subset(np.array([j])) for j in idx]
        node_d = node_distances(network, subsets, max_distance_m=limit)
        for k, (j, cand) in enumerate(zip(idx, subsets)):
            if not cand.ok[0]:
                continue
            d = edge_distances(network, dwellings, cand, node_d[k], limit)
            better = np.flatnonzero(band_points(d, config) > points_now)
            rows.append(better)
            cols.append(np.full(len(better), j))
    r = np.concatenate(rows) if rows else np.array([], dtype=np.int64)
    c = np.concatenate(cols) if cols else np.array([], dtype=np.int64)
    return sparse.csr_matrix(
        (np.ones(len(r), dtype=bool), (r, c)), shape=(len(dwellings.edge), len(candidates.edge))
    )


def _merge_rows(cover: sparse.csr_matrix, weights: np.ndarray):
    """Dwellings covered by the same candidates, as one row with their summed weight."""
    cover = cover.tocsr()
    cover.sort_indices()
    keys = {}
    for i in np.flatnonzero(np.diff(cover.indptr) > 0):
        if weights[i] > 0:
            key = cover.indices[cover.indptr[i] : cover.indptr[i + 1]].tobytes()
            keys.setdefault(key, []).append(i)
    groups = list(keys.values())
    w = np.array([weights[g].sum() for g in groups])
    first = [g[0] for g in groups]
    return cover[first], w


def solve_mclp(
    cover: sparse.csr_matrix, weights: np.ndarray, n: int, *, time_limit_s: float = 120.0
) -> tuple[np.ndarray, bool]:
    """The ``n`` candidates that together cover the most weight: maximal covering location.

    Maximise ``sum w_i z_i`` with ``z_i <= sum_j a_ij y_j``, ``sum_j y_j = n``, ``y`` binary
    (``z`` may be continuous: at an optimum it is 0 or 1). Solved by HiGHS; returns the
    chosen candidate indices and whether the solution is proven optimal (else the best
    found within ``time_limit_s``).
    """
    a, w = _merge_rows(cover, np.asarray(weights, dtype=float))
    n_cand = cover.shape[1]
    useful = np.flatnonzero(np.asarray(a.sum(axis=0)).ravel() > 0)
    if len(useful) <= n:
        rest = np.setdiff1d(np.arange(n_cand), useful)[: n - len(useful)]
        return np.sort(np.concatenate([useful, rest]).astype(np.int64)), True
    a = a[:, useful].tocsr()
    m, k = a.shape
    c = np.concatenate([np.zeros(k), -w])
    # z_i - sum_j a_ij y_j <= 0 ; sum_j y_j = n
    link = sparse.hstack([-a.astype(float), sparse.identity(m, format="csr")], format="csr")
    count = sparse.csr_matrix(np.concatenate([np.ones(k), np.zeros(m)])[None, :])
    res = milp(
        c,
        constraints=[
            LinearConstraint(link, -np.inf, 0.0),
            LinearConstraint(count, n, n),
        ],
        integrality=np.concatenate([np.ones(k), np.zeros(m)]),
        bounds=Bounds(0.0, 1.0),
        options={"time_limit": time_limit_s, "disp": False},
    )
    if res.x is None:
        raise InputError(f"site: the solver found no solution ({res.message})")
    chosen = useful[np.flatnonzero(res.x[:k] > 0.5)]
    return np.sort(chosen), res.status == 0


def rank_sites(
    cover: sparse.csr_matrix, weights: np.ndarray, chosen: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """The chosen sites ordered by the weight each adds to those before it, and that gain."""
    cover = cover.tocsc()
    w = np.asarray(weights, dtype=float)
    covered = np.zeros(cover.shape[0], dtype=bool)
    left, order, gains = list(chosen), [], []
    while left:
        adds = []
        for j in left:
            rows = cover.indices[cover.indptr[j] : cover.indptr[j + 1]]
            adds.append(w[rows[~covered[rows]]].sum())
        best = int(np.argmax(adds))  # ties: the lower candidate index (left is sorted)
        j = left.pop(best)
        covered[cover.indices[cover.indptr[j] : cover.indptr[j + 1]]] = True
        order.append(j)
        gains.append(adds[best])
    return np.array(order, dtype=np.int64), np.array(gains)


@dataclass
class SitingResult:
    """The chosen sites, ranked: ``sites`` (points in the scan's CRS) and the run's facts."""

    indicator: str
    sites: gpd.GeoDataFrame
    metadata: dict[str, str] = field(default_factory=dict)
    #: The data audit's WARNING on the sub-indicator per language (``{}`` when it is ok),
    #: for the end of the console summary.
    warning: dict[str, str] = field(default_factory=dict)

    @property
    def layer(self) -> str:
        """The GeoPackage layer name, ``sites_<indicator>``."""
        return f"sites_{self.indicator}"

    def to_gpkg(self, path: str | os.PathLike) -> Path:
        """Add (or replace) the sites layer in the scan GeoPackage, atomically."""
        from ..outputs.export import add_layers

        meta = {f"{self.layer}.{k}": v for k, v in self.metadata.items()}
        return add_layers(path, {self.layer: self.sites}, metadata=meta)

    def to_json(self) -> dict[str, Any]:
        """The sites and the facts as a JSON-ready dict."""
        cols = [c for c in self.sites.columns if c != "geometry"]
        rows = self.sites[cols].astype(object).where(self.sites[cols].notna(), None)
        return {"indicator": self.indicator, **self.metadata, "sites": rows.to_dict("records")}


def _read_candidates(path, crs) -> np.ndarray:
    from ..crs import to_metric
    from ..sources._io import as_points, read_vector

    gdf = as_points(read_vector(path, what="candidates"))
    return to_metric(gdf, crs).geometry.to_numpy()


def _weights(ctx: WhatifContext, weight: str) -> np.ndarray:
    if weight == "dwellings":
        return ctx.dwellings["weight"].astype(float).fillna(0).to_numpy()
    if weight == "65plus":
        if ctx.residents_65plus is None:
            raise InputError(
                "site: --weight 65plus needs the residents of 65+; give the CBS PC6 table "
                "with --population"
            )
        return np.nan_to_num(ctx.residents_65plus, nan=0.0)
    raise InputError(f"site: weight {weight!r} is neither 'dwellings' nor '65plus'")


def _audit_words(ctx: WhatifContext, ind: str) -> tuple[dict[str, str], dict[str, str]]:
    """The audit's verdict on ``ind`` for the metadata, and its WARNING for the console.

    The metadata gets ``audit_verdict`` and, when it is not ok, ``audit_warning_nl`` and
    ``audit_warning_en`` (the audit's finding and what it means for the gains: the maps'
    note); the WARNING is the scan's block for this sub-indicator with that meaning added.
    Scans written before the audit have no table: their verdict only.
    """
    verdict = ctx.check.verdicts.get(ind, OK)
    meta, block = {"audit_verdict": verdict}, {}
    if verdict == OK or "audit" not in scan_layers(ctx.check.path):
        return meta, block
    table = read_scan_layer(ctx.check.path, "audit")
    spec = ctx.config.indicator(ind)
    for lang in LANGS:
        line = finding(table, ind, config=ctx.config, lang=lang)
        if not line:
            continue
        after = words(_WORDS, lang)["overstated"].format(plural=_plural(spec, lang))
        meta[f"audit_warning_{lang}"] = f"{line}. {after}"
        rows = table[table["item"] == ind]
        block[lang] = f"{warning_text(rows, config=ctx.config, lang=lang)}\n  {after}"
    return meta, block


def _add_edge_words(sites, reach_m: float, meta: dict, block: dict) -> None:
    """Say how many sites lie within a walk of the data's edge, into ``meta`` and ``block``.

    Amenities beyond the edge are not in the data, so a site there gains dwellings that
    may well have one already (Delft's extract: its first site lies in an area the data
    covers a quarter of). ``meta`` gets ``near_data_edge``; the words go after the audit's.
    """
    near = int((sites["edge_m"] < reach_m).sum())
    meta["near_data_edge"] = str(near)
    if not near:
        return
    for lang in LANGS:
        t = words(_WORDS, lang)
        said = t["edge"].format(n=near, k=len(sites), m=reach_m)
        key = f"audit_warning_{lang}"
        meta[key] = f"{meta[key]} {said}" if key in meta else said
        block[lang] = f"{block[lang]}\n  {said}" if lang in block else f"{t['head']} {said}"


def _plural(spec, lang: str) -> str:
    """A sub-indicator's plural in ``lang`` (its label when it has none)."""
    one = spec.label_nl if lang == "nl" else spec.label_en
    return (spec.plural_nl if lang == "nl" else spec.plural_en) or one


def _refuse_missing(ctx: WhatifContext, ind: str) -> None:
    """Refuse the advice when the scan's input holds none of the sub-indicator.

    With none, every dwelling scores 0 for it, so every candidate 'covers' all the dwellings
    within the largest band and the sites follow where dwellings are dense: the data gap,
    not a lack of the amenity, would decide them.
    """
    if ctx.check.verdicts.get(ind) != MISSING:
        return
    spec = ctx.config.indicator(ind)
    said = {
        lang: words(_WORDS, lang)["missing"].format(
            label=spec.label_nl if lang == "nl" else spec.label_en,
            plural=_plural(spec, lang),
            id=ind,
        )
        for lang in LANGS
    }
    raise InputError(said["en"], nl=said["nl"])


def site(
    ctx: WhatifContext,
    *,
    indicator: str,
    n: int,
    candidates: str | os.PathLike | np.ndarray | None = None,
    weight: str = "dwellings",
    spacing_m: float = 100.0,
    built_up_m: float = 100.0,
    time_limit_s: float = 120.0,
) -> SitingResult:
    """Choose ``n`` new sites of a sub-indicator that move the most weight into a better band.

    Parameters
    ----------
    ctx
        The scan, from :func:`~.whatif.load_whatif`.
    indicator
        The sub-indicator (id or label, e.g. ``huisarts``).
    n
        How many sites.
    candidates
        Candidate sites: a vector file (points, or plots as polygons) or shapely points in
        the scan's CRS; default: :func:`grid_candidates` every ``spacing_m`` within
        ``built_up_m`` of a dwelling.
    weight
        ``dwellings`` or ``65plus`` (residents of 65+, needs the population in ``ctx``).
    time_limit_s
        Limit for the solver; the result says whether it proved optimality.

    Raises
    ------
    InputError
        When the scan's data audit finds none of the sub-indicator in the input
        (``ontbreekt``): the advice would rest on the gap alone. When it finds them thin
        (``dun``), the result says so (``warning``, ``audit_warning_*`` in its metadata).
    """
    ind = indicator_id(ctx.config, indicator)
    if n < 1:
        raise InputError(f"site: --n must be at least 1, got {n}")
    _refuse_missing(ctx, ind)
    cfg, net = ctx.config, ctx.network
    w = _weights(ctx, weight)
    if candidates is None:
        pts = grid_candidates(
            net, ctx.dwellings.geometry.to_numpy(), spacing_m=spacing_m, built_up_m=built_up_m
        )
        source = f"network nodes every {spacing_m:g} m within {built_up_m:g} m of a dwelling"
    elif isinstance(candidates, np.ndarray):
        pts, source = candidates, "given points"
    else:
        pts, source = _read_candidates(candidates, net.crs), Path(candidates).name
    snap = snap_points(pts, net, max_snap_m=cfg.max_snap_m)
    pts, snap = pts[snap.ok], snap.subset(snap.ok)
    if not len(pts):
        raise InputError(f"site: no candidate lies within {cfg.max_snap_m:g} m of a street")
    d_now = ctx.dist[ind]
    now = np.where(np.isnan(d_now), np.inf, band_points(d_now, cfg))  # unsnapped: never
    cover = coverage(net, ctx.dwelling_snap, now, snap, cfg)
    chosen, optimal = solve_mclp(cover, w, min(n, len(pts)), time_limit_s=time_limit_s)
    order, gains = rank_sites(cover, w, chosen)
    sites = _sites_frame(ctx, cover, order, pts, snap)
    audit_meta, warning = _audit_words(ctx, ind)
    _add_edge_words(sites, cfg.max_distance_m, audit_meta, warning)
    meta = {
        "indicator": ind,
        "n": str(n),
        "weight": weight,
        "candidates": f"{len(pts)} ({source})",
        "solver": "maximal covering location, integer programme, HiGHS (scipy.optimize.milp)",
        "optimal": str(bool(optimal)).lower(),
        "covered": f"{float(gains.sum()):.0f}",
        **audit_meta,
        "created_utc": utc_now(),
    }
    return SitingResult(indicator=ind, sites=sites, metadata=meta, warning=warning)


def _sites_frame(ctx, cover, order, pts, snap) -> gpd.GeoDataFrame:
    cover = cover.tocsc()
    w = ctx.dwellings["weight"].astype(float).fillna(0).to_numpy()
    r = None if ctx.residents_65plus is None else np.nan_to_num(ctx.residents_65plus)
    covered = np.zeros(cover.shape[0], dtype=bool)
    rows = []
    for rank, j in enumerate(order, start=1):
        hit = cover.indices[cover.indptr[j] : cover.indptr[j + 1]]
        new = hit[~covered[hit]]
        covered[hit] = True
        lon, lat = ctx.check.to_wgs84.transform(pts[j].x, pts[j].y)
        rows.append(
            {
                "rank": rank,
                "gain_dwellings": round(float(w[new].sum()), 1),
                "gain_65plus": None if r is None else round(float(r[new].sum()), 1),
                "alone_dwellings": round(float(w[hit].sum()), 1),
                "cumulative_dwellings": round(float(w[covered].sum()), 1),
                "street": ctx.network.edge_name[int(snap.edge[j])],
                "edge_m": round(inside_extent_m(ctx.check.extent, pts[j]), 1),
                "lat": round(lat, 6),
                "lon": round(lon, 6),
            }
        )
    frame = pd.DataFrame(rows)
    if r is None:
        frame = frame.drop(columns="gain_65plus")
    return gpd.GeoDataFrame(frame, geometry=list(pts[order]), crs=ctx.network.crs)
