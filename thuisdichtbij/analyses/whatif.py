"""What if an amenity opens or closes: the scan recomputed where it changes, not re-run.

A new amenity can only shorten walks that end within the largest band around it; a removed
one only lengthens the walks of the dwellings whose nearest it was. :func:`whatif` searches
from the edited amenity alone, recomputes just those dwellings with the scan's own snapping
and search (:mod:`thuisdichtbij.engine.distance`) and scores them with the scan's
configuration. The result equals a full scan of the edited input, to the millimetre.

Classes stay on the base run's class edges: a relative class recomputed on the new scores
would shift for everyone, so before and after are both measured against the base run.
"""

from __future__ import annotations

import json
import logging
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from ..config import Config
from ..engine.aggregate import aggregate
from ..engine.distance import edge_distances, node_distances
from ..engine.network import Network
from ..engine.score import band_points, classify, total_score
from ..engine.snap import Snapped, snap_points
from ..errors import InputError
from ..outputs.scanfile import read_scan_layer
from ..provenance import utc_now
from .check import CheckContext, load_check, parse_location

log = logging.getLogger(__name__)

__all__ = [
    "Addition",
    "Removal",
    "WhatifContext",
    "WhatifResult",
    "load_whatif",
    "parse_addition",
    "add_amenity",
    "remove_amenity",
    "whatif",
    "CLASS_NOTE",
]

CLASS_NOTE = "classes on the base run's class edges (a relative class would shift for everyone)"


@dataclass(frozen=True)
class Addition:
    """A new amenity of sub-indicator ``indicator`` at ``point`` (in the scan's CRS)."""

    indicator: str
    point: shapely.Point
    name: str = "scenario"


@dataclass(frozen=True)
class Removal:
    """An amenity of the scan closes: ``amenity_id`` is its ``source_id`` (or its row)."""

    amenity_id: str


@dataclass
class WhatifContext:
    """A scan loaded once for scenarios: the check's context, the dwellings and their walks.

    ``dist`` holds per sub-indicator the scan's walking distance per dwelling (``inf``:
    nothing within the largest band; ``NaN``: not snapped); ``residents_65plus`` the
    residents of 65+ per dwelling point, when known.
    """

    check: CheckContext
    dwellings: gpd.GeoDataFrame
    dwelling_snap: Snapped
    dist: dict[str, np.ndarray]
    residents_65plus: np.ndarray | None = None

    @property
    def config(self) -> Config:
        """The scan's configuration."""
        return self.check.config

    @property
    def network(self) -> Network:
        """The scan's walking network."""
        return self.check.network


def load_whatif(
    scan: str | os.PathLike | CheckContext, *, population: str | os.PathLike | None = None
) -> WhatifContext:
    """Load a scan GeoPackage for scenarios (see :func:`~.check.load_check`).

    ``scan`` is the GeoPackage, or its check context when one is loaded already.
    ``population`` is the CBS PC6 table; with it, the residents of 65+ of each postcode are
    spread over its dwelling points by their weights.
    """
    ctx = scan if isinstance(scan, CheckContext) else load_check(scan)
    dw = read_scan_layer(ctx.path, "dwellings")
    snapped = dw["snapped"].astype(bool).to_numpy()
    snap = snap_points(dw.geometry.to_numpy(), ctx.network, max_snap_m=ctx.config.max_snap_m)
    dist = {}
    for ind in ctx.config.indicator_ids:
        d = dw[f"dist_{ind}"].to_numpy(dtype=float).copy()
        d[snapped & np.isnan(d)] = np.inf  # the GeoPackage stores "none in reach" as NULL
        d[~snapped] = np.nan
        dist[ind] = d
    return WhatifContext(
        check=ctx,
        dwellings=dw,
        dwelling_snap=snap,
        dist=dist,
        residents_65plus=None if population is None else _residents_65plus(dw, population),
    )


def _residents_65plus(dw: gpd.GeoDataFrame, population) -> np.ndarray:
    from ..sources.cbs import read_cbs_pc6

    if "postcode" not in dw:
        raise InputError(
            "population: the scan's dwellings have no postcode, so the CBS PC6 table cannot be "
            "placed on them; leave out --population"
        )
    cbs = read_cbs_pc6(population)
    pc = dw["postcode"].astype("string")
    w = dw["weight"].astype(float)
    share = w / w.groupby(pc).transform("sum")
    return (pc.map(cbs["age_65plus"]).astype(float) * share).to_numpy(dtype=float)


def indicator_id(config: Config, text: str) -> str:
    """The sub-indicator named by its id or its Dutch or English label (``huisarts``)."""
    t = text.strip().lower()
    for ind in config.indicators:
        if t in (ind.id.lower(), ind.label_nl.lower(), ind.label_en.lower()):
            return ind.id
    known = ", ".join(f"{i.id} ({i.label_nl})" for i in config.indicators)
    raise InputError(
        f"indicator: {text!r} is not a sub-indicator; use one of {known}",
        nl=f"indicator: {text!r} is geen subindicator; kies uit {known}",
    )


def parse_addition(ctx: WhatifContext, text: str, *, crs: str | None = None) -> Addition:
    """``"huisarts@50.8513,5.6909"`` (WGS84 lat,lon, or x,y in ``crs``) as an addition."""
    kind, sep, where = text.partition("@")
    if not sep:
        raise InputError(
            f"add: {text!r} is not KIND@LAT,LON; write e.g. huisarts@50.8513,5.6909",
            nl=f"add: {text!r} is niet SOORT@BREEDTE,LENGTE; schrijf bijv. huisarts@50.8513,5.6909",
        )
    ind = indicator_id(ctx.config, kind)
    point = parse_location(ctx.check, at=where, crs=crs)
    return Addition(indicator=ind, point=point, name=f"{kind.strip()}@{where.strip()}")


def _on_reached_edges(network: Network, points: Snapped, node_d: np.ndarray, edge: int):
    """Indices of snapped points whose edge has a reached end, or is ``edge`` itself."""
    e = np.maximum(points.edge, 0)
    near = np.isfinite(node_d[network.edge_u[e]]) | np.isfinite(node_d[network.edge_v[e]])
    return np.flatnonzero(points.ok & (near | (points.edge == edge)))


def add_amenity(
    network: Network,
    dwellings: Snapped,
    dist: np.ndarray,
    amenity: Snapped,
    *,
    max_distance_m: float,
) -> np.ndarray:
    """Walking distances to the nearest amenity of a kind after one more opens.

    ``dist`` are the distances before (``inf`` none in reach, ``NaN`` not snapped) and
    ``amenity`` the new one, snapped. Only dwellings on streets its search reaches are
    looked at; each keeps the shorter of its old walk and the walk to the new amenity.
    """
    out = dist.copy()
    if not amenity.ok[0]:
        return out
    node_d = node_distances(network, [amenity], max_distance_m=max_distance_m)[0]
    idx = _on_reached_edges(network, dwellings, node_d, int(amenity.edge[0]))
    new = edge_distances(network, dwellings.subset(idx), amenity, node_d, max_distance_m)
    out[idx] = np.minimum(dist[idx], new)
    return out


def remove_amenity(
    network: Network,
    dwellings: Snapped,
    dist: np.ndarray,
    removed: Snapped,
    remaining: Snapped,
    *,
    max_distance_m: float,
) -> np.ndarray:
    """Walking distances to the nearest amenity of a kind after one closes.

    ``removed`` is the closing amenity, ``remaining`` the others of its kind (all snapped
    as the scan snaps them). Only the dwellings whose nearest it was (their walk equals the
    walk to it) are recomputed, against the remaining amenities within twice the largest
    band of it: a farther one cannot be within the band of a dwelling that was within the
    band of the removed one.
    """
    out = dist.copy()
    if not removed.ok[0]:
        return out
    reach = 2 * max_distance_m + 1.0
    node_d = node_distances(network, [removed], max_distance_m=reach)[0]
    idx = _on_reached_edges(network, dwellings, node_d, int(removed.edge[0]))
    to_removed = edge_distances(network, dwellings.subset(idx), removed, node_d, max_distance_m)
    # A tie with another amenity is recomputed too, and keeps its distance.
    hit = idx[np.isfinite(to_removed) & (to_removed <= dist[idx] + 1e-6)]
    if not len(hit):
        return out
    near = np.isfinite(edge_distances(network, remaining, removed, node_d, reach))
    others = remaining.subset(near)
    if not others.ok.any():
        out[hit] = np.inf
        return out
    node_o = node_distances(network, [others], max_distance_m=max_distance_m)[0]
    out[hit] = edge_distances(network, dwellings.subset(hit), others, node_o, max_distance_m)
    return out


@dataclass
class WhatifResult:
    """A scenario held against its base scan.

    Attributes
    ----------
    dwellings
        All dwellings after the edits, with the scan's columns (scores and classes on the
        base run's class edges).
    change
        The dwellings whose walk changed: before, after and delta of the edited
        sub-indicators, the score and the class; ``change`` is gain, loss or same.
    areas
        Every area's mean score and class before and after (classes on the base edges).
    zones
        The same per woonzorgzone (classes on the grid's base edges), or None.
    amenities
        The edited amenities (``edit``: add or remove).
    summary
        The counts (see :meth:`to_json`).
    """

    dwellings: gpd.GeoDataFrame
    change: gpd.GeoDataFrame
    areas: gpd.GeoDataFrame
    zones: pd.DataFrame | None
    amenities: gpd.GeoDataFrame
    summary: dict[str, Any]
    metadata: dict[str, str] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        """The counts and the changed areas (and zones) as a JSON-ready dict."""
        changed = self.areas[self.areas["score_delta"].fillna(0) != 0]
        return {
            **self.summary,
            "areas": _records(changed, "area_id"),
            "zones": None if self.zones is None else _records(self.zones, "zone_id"),
        }

    def to_gpkg(self, path: str | os.PathLike, *, lang: str = "nl") -> Path:
        """Write layers ``change``, ``area_change``, ``scenario`` (and ``zone_change``).

        ``lang`` is that of the QGIS styles' legend labels.
        """
        from ..outputs.export import write_layers
        from ..outputs.styles import layer_styles

        layers = {"change": self.change, "area_change": self.areas, "scenario": self.amenities}
        if self.zones is not None:
            layers["zone_change"] = self.zones
        layers["layer_styles"] = layer_styles(list(layers), lang=lang)
        return write_layers(path, layers, metadata=self.metadata)


def _records(frame: pd.DataFrame, key: str) -> list[dict[str, Any]]:
    def num(x, digits=3):
        return None if pd.isna(x) else round(float(x), digits)

    return [
        {
            "code": str(r[key]),
            "mean_before": num(r["score_mean_before"]),
            "mean_after": num(r["score_mean_after"]),
            "class_before": None if pd.isna(r["class_before"]) else int(r["class_before"]),
            "class_after": None if pd.isna(r["class_after"]) else int(r["class_after"]),
        }
        for _, r in frame.iterrows()
    ]


def _amenity_rows(amen: gpd.GeoDataFrame, amenity_id: str) -> np.ndarray:
    rows = np.flatnonzero(amen["source_id"].astype(str).to_numpy() == str(amenity_id))
    if not len(rows) and str(amenity_id).isdigit() and int(amenity_id) < len(amen):
        rows = np.array([int(amenity_id)])  # the row (fid - 1) when ids are not unique
    if not len(rows):
        raise InputError(
            f"remove: no amenity with id {amenity_id!r} in the scan; ids are the 'source_id' "
            "field of its amenities layer (e.g. node/123456)"
        )
    return rows


def _edit_distances(
    ctx: WhatifContext, additions: list[Addition], removals: list[Removal]
) -> tuple[dict[str, np.ndarray], gpd.GeoDataFrame]:
    """Distances after the edits (removals first, then additions) and the edited amenities."""
    cfg, net = ctx.config, ctx.network
    amen, a_snap = ctx.check.amenities, ctx.check.amenity_snap
    indicator = amen["indicator"].to_numpy()
    keep = np.ones(len(amen), dtype=bool)
    dist = dict(ctx.dist)
    edits = []
    for r in removals:
        for i in _amenity_rows(amen, r.amenity_id):
            if not keep[i]:
                continue
            ind, keep[i] = indicator[i], False
            rest = a_snap.subset(keep & (indicator == ind))
            dist[ind] = remove_amenity(
                net, ctx.dwelling_snap, dist[ind], a_snap.subset(np.arange(len(amen)) == i),
                rest, max_distance_m=cfg.max_distance_m,
            )  # fmt: skip
            row = amen.iloc[i]
            edits.append(("remove", ind, row["name"], str(row["source_id"]), row.geometry))
    for k, a in enumerate(additions):
        snap = snap_points(np.array([a.point]), net, max_snap_m=cfg.max_snap_m)
        if not snap.ok[0]:
            raise InputError(
                f"add: {a.name} lies farther than {cfg.max_snap_m:g} m from any walkable "
                "street; the scan would not count an amenity there",
                nl=f"add: {a.name} ligt verder dan {cfg.max_snap_m:g} m van elke beloopbare "
                "straat; de scan zou daar geen voorziening meetellen",
            )
        dist[a.indicator] = add_amenity(
            net, ctx.dwelling_snap, dist[a.indicator], snap, max_distance_m=cfg.max_distance_m
        )
        edits.append(("add", a.indicator, a.name, f"whatif/{k + 1}", a.point))
    frame = gpd.GeoDataFrame(
        pd.DataFrame(edits, columns=["edit", "indicator", "name", "source_id", "geometry"]),
        geometry="geometry",
        crs=net.crs,
    )
    return dist, frame


def _rescore(
    ctx: WhatifContext, dist: dict[str, np.ndarray], edited: list[str]
) -> tuple[gpd.GeoDataFrame, np.ndarray]:
    """The dwellings after the edits, and the rows whose walk changed."""
    cfg, before = ctx.config, ctx.dwellings
    changed = np.zeros(len(before), dtype=bool)
    for ind in edited:
        changed |= ~((dist[ind] == ctx.dist[ind]) | np.isnan(dist[ind]))
    rows = np.flatnonzero(changed)
    after = before.copy()
    for ind in cfg.indicator_ids:
        after[f"dist_{ind}"] = dist[ind]
    if not len(rows):
        return after, rows
    sub = after.iloc[rows]
    pts = pd.DataFrame(
        {f"pts_{i}": band_points(dist[i][rows], cfg) for i in edited}, index=sub.index
    )
    for i in cfg.indicator_ids:
        if i not in edited:
            pts[f"pts_{i}"] = sub[f"pts_{i}"]
    score = total_score(pts, sub["safety_pts"].astype(float), cfg)
    for i in edited:
        after.loc[sub.index, f"pts_{i}"] = pts[f"pts_{i}"]
    after.loc[sub.index, "score"] = score
    moved = sub.index[score.to_numpy() != sub["score"].to_numpy()]
    new_class = classify(score.loc[moved], ctx.check.class_edges).astype(float)
    after.loc[moved, "score_class"] = new_class
    return after, rows


def _group_change(
    before: pd.DataFrame, after: pd.DataFrame, key: str, edges: np.ndarray
) -> pd.DataFrame:
    """Mean before and after per group (``score_mean``, ``score_class`` in both frames)."""
    out = before[[key]].copy()
    out["n_dwellings"] = before["n_dwellings"].to_numpy()
    out["score_mean_before"] = before["score_mean"].to_numpy(dtype=float)
    out["score_mean_after"] = after["score_mean"].to_numpy(dtype=float)
    out["score_delta"] = out["score_mean_after"] - out["score_mean_before"]
    out["class_before"] = pd.array(before["score_class"], dtype="Int64")
    same = (out["score_delta"] == 0) | out["score_mean_after"].isna()
    cls = classify(out["score_mean_after"], edges)
    out["class_after"] = cls.where(~same.to_numpy(), out["class_before"].to_numpy())
    out["class_delta"] = out["class_after"] - out["class_before"]
    delta = out["score_delta"].fillna(0)
    out["change"] = np.select([delta > 0, delta < 0], ["gain", "loss"], "same")
    return out


def _area_change(ctx: WhatifContext, after: gpd.GeoDataFrame, rows: np.ndarray):
    """Every area's mean and class before and after; only touched areas are recomputed."""
    areas, cfg = ctx.check.areas, ctx.config
    touched = set(after["area_id"].iloc[rows].dropna())
    sel = areas["area_id"].isin(touched).to_numpy()
    new = areas.copy()
    if sel.any():
        part = aggregate(after[after["area_id"].isin(touched)], areas[sel], cfg, columns=[])
        new.loc[sel, "score_mean"] = part["score_mean"].to_numpy()
    edges = np.asarray(json.loads(ctx.check.metadata["class_edges_areas"]), dtype=float)
    out = _group_change(areas, new, "area_id", edges)
    return gpd.GeoDataFrame(out, geometry=areas.geometry.to_numpy(), crs=areas.crs)


def _zone_change(ctx: WhatifContext, after: gpd.GeoDataFrame) -> pd.DataFrame | None:
    """Per woonzorgzone the dwelling-weighted mean score before and after."""
    zones = ctx.check.zones
    if zones is None or zones.empty:
        return None
    hit = gpd.sjoin(ctx.dwellings[["geometry"]], zones[["zone_id", "geometry"]], how="inner")
    hit = hit[~hit.index.duplicated(keep="first")]
    w = ctx.dwellings.loc[hit.index, "weight"].astype(float)

    def means(frame):
        s = frame.loc[hit.index, "score"].astype(float)
        ok = s.notna() & w.notna()
        return (s[ok] * w[ok]).groupby(hit["zone_id"][ok]).sum() / w[ok].groupby(
            hit["zone_id"][ok]
        ).sum()

    base = pd.DataFrame({"zone_id": zones["zone_id"].astype(str)})
    base["n_dwellings"] = base["zone_id"].map(w.groupby(hit["zone_id"]).sum()).fillna(0)
    edges = np.asarray(json.loads(ctx.check.metadata["class_edges_grid"]), dtype=float)
    b = base.assign(score_mean=base["zone_id"].map(means(ctx.dwellings)))
    b["score_class"] = classify(b["score_mean"], edges)
    a = base.assign(score_mean=base["zone_id"].map(means(after)))
    return _group_change(b, a, "zone_id", edges)


def _change_layer(
    ctx: WhatifContext, after: gpd.GeoDataFrame, rows: np.ndarray, edited: list[str]
) -> gpd.GeoDataFrame:
    """Per dwelling whose walk changed: before, after and delta."""
    b, a = ctx.dwellings.iloc[rows], after.iloc[rows]
    out = pd.DataFrame({c: b[c].to_numpy() for c in ("dwelling_id", "weight", "area_id")})
    if ctx.residents_65plus is not None:
        out["residents_65plus"] = ctx.residents_65plus[rows]
    for ind in edited:
        out[f"dist_{ind}_before"] = ctx.dist[ind][rows]
        out[f"dist_{ind}_after"] = a[f"dist_{ind}"].to_numpy(dtype=float)
        out[f"pts_{ind}_before"] = b[f"pts_{ind}"].to_numpy(dtype=float)
        out[f"pts_{ind}_after"] = a[f"pts_{ind}"].to_numpy(dtype=float)
    out["score_before"] = b["score"].to_numpy(dtype=float)
    out["score_after"] = a["score"].to_numpy(dtype=float)
    out["score_delta"] = out["score_after"] - out["score_before"]
    out["class_before"] = pd.array(b["score_class"], dtype="Int64")
    out["class_after"] = pd.array(a["score_class"], dtype="Int64")
    out["class_delta"] = out["class_after"] - out["class_before"]
    out["change"] = np.select(
        [out["score_delta"] > 0, out["score_delta"] < 0], ["gain", "loss"], "same"
    )
    return gpd.GeoDataFrame(out, geometry=b.geometry.to_numpy(), crs=b.crs)


def _summary(ctx: WhatifContext, change: gpd.GeoDataFrame, edited: list[str]) -> dict[str, Any]:
    w = change["weight"].astype(float).fillna(0)
    r = change["residents_65plus"].astype(float) if "residents_65plus" in change else None

    def total(mask, values):
        return None if values is None else int(round(float(values[mask].sum())))

    gain, loss = change["score_delta"] > 0, change["score_delta"] < 0
    up, down = change["class_delta"].fillna(0) > 0, change["class_delta"].fillna(0) < 0
    bands = {}
    for ind in edited:
        d = change[f"pts_{ind}_after"] - change[f"pts_{ind}_before"]
        bands[ind] = {"dwellings_gaining": total(d > 0, w), "dwellings_losing": total(d < 0, w)}
    return {
        "dwellings_gaining": total(gain, w),
        "dwellings_losing": total(loss, w),
        "dwellings_class_up": total(up, w),
        "dwellings_class_down": total(down, w),
        "dwelling_points_changed": int((gain | loss).sum()),
        "residents_65plus_gaining": total(gain, r),
        "residents_65plus_losing": total(loss, r),
        "residents_65plus_class_up": total(up, r),
        "bands": bands,
        "classes": CLASS_NOTE,
    }


def whatif(
    ctx: WhatifContext,
    *,
    add: list[Addition] | tuple = (),
    remove: list[Removal] | tuple = (),
) -> WhatifResult:
    """Add and remove amenities and recompute what changes (removals first).

    Parameters
    ----------
    ctx
        The scan, from :func:`load_whatif`.
    add
        New amenities (see :func:`parse_addition`).
    remove
        Amenities of the scan that close.

    Returns
    -------
    WhatifResult
        The dwellings after, the change per dwelling, area and zone, and the counts; equal
        to a full scan of the edited input, with classes on the base run's class edges.
    """
    if not add and not remove:
        raise InputError("whatif: nothing to change; give --add KIND@LAT,LON or --remove ID")
    dist, edits = _edit_distances(ctx, list(add), list(remove))
    edited = [i for i in ctx.config.indicator_ids if i in set(edits["indicator"])]
    after, rows = _rescore(ctx, dist, edited)
    change = _change_layer(ctx, after, rows, edited)
    summary = _summary(ctx, change, edited)
    scenario = [
        {"edit": e.edit, "indicator": e.indicator, "name": e.name, "id": e.source_id}
        | _lat_lon(ctx, e.geometry)
        for e in edits.itertuples()
    ]
    summary = {"scenario": scenario, **summary}
    meta = {
        "package": "thuisdichtbij",
        "created_utc": utc_now(),
        "base_scan": ctx.check.path.name,
        "config_hash": ctx.check.metadata.get("config_hash", ""),
        "scenario": json.dumps(scenario, ensure_ascii=False),
        "classes": CLASS_NOTE,
        **{
            k: ctx.check.metadata[k]
            for k in ("class_edges_dwellings", "class_edges_areas", "class_edges_grid", "crs")
            if k in ctx.check.metadata
        },
    }
    return WhatifResult(
        dwellings=after,
        change=change,
        areas=_area_change(ctx, after, rows),
        zones=_zone_change(ctx, after),
        amenities=edits,
        summary=summary,
        metadata=meta,
    )


def _lat_lon(ctx: WhatifContext, point) -> dict[str, float]:
    lon, lat = ctx.check.to_wgs84.transform(point.x, point.y)
    return {"lat": round(lat, 6), "lon": round(lon, 6)}
