"""Woonzorgzones: contiguous high-scoring grid cells, merged, named and described.

Reads a scan GeoPackage (its ``grid``, ``dwellings``, ``amenities`` and ``network``); never
rescans. A cell counts as high when its class is at least ``zones.min_class``; gaps of up to
``zones.smoothing_cells`` cells between high cells are closed first (a morphological
closing); cells belong together when they share a side (and also at a corner when
``zones.diagonal`` is true); zones with fewer than ``zones.min_cells`` cells or
``zones.min_dwellings`` dwellings are dropped. Zones may cross any area boundary. The same
scan gives the same zones, ids and names.
"""

from __future__ import annotations

import logging
import os
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from scipy import ndimage

from .._text import label as field_label
from .._text import words
from ..config import Config, ZonesConfig, run_config
from ..engine.score import class_edges, classify
from ..errors import InputError
from ..outputs.scanfile import read_metadata, read_scan_layer, require_layer
from ..sources._io import read_vector, require_columns

log = logging.getLogger(__name__)

__all__ = [
    "zone_cells",
    "find_zones",
    "demand_grid",
    "make_zones",
    "compare_zones",
    "ZonesResult",
    "MIN_COUNT",
]

#: Counts below this are never exported (CBS publishes no smaller counts either).
MIN_COUNT = 5


def zone_cells(
    ij: np.ndarray, high: np.ndarray, cfg: ZonesConfig
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Label contiguous high cells on the integer cell grid.

    ``ij`` are the cells' integer column/row numbers, ``high`` whether each is high.
    Returns, for every cell of the (closed) zone mask, its column/row numbers and its
    label (1, 2, ...), labels numbered in scan order of the grid.
    """
    if not high.any():
        empty = np.zeros((0, 2), dtype=np.int64)
        return empty[:, 0], empty[:, 1], np.zeros(0, dtype=np.int64)
    pad = cfg.smoothing_cells + 1
    lo = ij[high].min(axis=0) - pad
    hi = ij[high].max(axis=0) + pad
    mask = np.zeros(tuple(hi - lo + 1), dtype=bool)
    sel = ij[high] - lo
    mask[sel[:, 0], sel[:, 1]] = True
    if cfg.smoothing_cells > 0:
        mask = ndimage.binary_closing(
            mask, structure=np.ones((3, 3), dtype=bool), iterations=cfg.smoothing_cells
        )
    structure = np.ones((3, 3), dtype=bool) if cfg.diagonal else None
    labels, _ = ndimage.label(mask, structure=structure)
    ci, cj = np.nonzero(labels)
    return ci + lo[0], cj + lo[1], labels[ci, cj]


def find_zones(
    grid: gpd.GeoDataFrame,
    cfg: ZonesConfig,
    *,
    cell_m: float,
    weight: str = "n_dwellings",
    min_weight: float | None = None,
) -> gpd.GeoDataFrame:
    """Zone polygons from a score grid (``score_class``, ``n_dwellings``, ``score_mean``).

    Returns ``n_cells``, ``n_dwellings`` and ``score_mean`` (dwelling-weighted over the
    zone's cells) per zone, largest first (ties: the zone with the lowest cell), without ids.
    With another ``weight`` column (``residents_65plus``), zones are kept by its total
    (at least ``min_weight``) instead of ``cfg.min_dwellings``, ranked by it, and it is
    returned as a column too.
    """
    bounds = grid.geometry.bounds
    ij = np.column_stack(
        [np.round(bounds["minx"] / cell_m), np.round(bounds["miny"] / cell_m)]
    ).astype(np.int64)
    high = (grid["score_class"].fillna(0).astype(int) >= cfg.min_class).to_numpy()
    ci, cj, lab = zone_cells(ij, high, cfg)
    key = {(int(a), int(b)): k for k, (a, b) in enumerate(ij)}
    n_dw = grid["n_dwellings"].to_numpy(dtype=float)
    score = grid["score_mean"].to_numpy(dtype=float)
    other = weight != "n_dwellings"
    w = np.nan_to_num(grid[weight].to_numpy(dtype=float)) if other else n_dw
    least = cfg.min_dwellings if min_weight is None else min_weight
    rows = []
    for label in np.unique(lab):
        m = lab == label
        cells = list(zip(ci[m].tolist(), cj[m].tolist(), strict=True))
        total, mean, weighed = _zone_sums([key[c] for c in cells if c in key], n_dw, score, w)
        if len(cells) < cfg.min_cells or weighed < least:
            continue
        arr = np.array(cells, dtype=float) * cell_m
        boxes = shapely.box(arr[:, 0], arr[:, 1], arr[:, 0] + cell_m, arr[:, 1] + cell_m)
        rows.append(
            {
                "n_cells": len(cells),
                "n_dwellings": int(round(total)),
                "score_mean": mean,
                **({weight: weighed} if other else {}),
                "first": min(cells),
                "geometry": shapely.coverage_union_all(boxes),
            }
        )
    if not rows:
        return gpd.GeoDataFrame(
            {"n_cells": [], "n_dwellings": [], "score_mean": []}, geometry=[], crs=grid.crs
        )
    out = gpd.GeoDataFrame(rows, geometry="geometry", crs=grid.crs)
    out = out.sort_values([weight, "first"], ascending=[False, True], ignore_index=True)
    return out.drop(columns="first")


def _zone_sums(idx: list[int], n_dw: np.ndarray, score: np.ndarray, w: np.ndarray):
    """Dwellings, dwelling-weighted mean score and total weight of the grid cells ``idx``."""
    if not idx:
        return 0.0, np.nan, 0.0
    dws, sc = n_dw[idx], score[idx]
    ok = ~np.isnan(sc)
    mean = float(np.average(sc[ok], weights=dws[ok])) if ok.any() and dws[ok].sum() else np.nan
    return float(dws.sum()), mean, float(w[idx].sum())


def demand_grid(
    grid: gpd.GeoDataFrame, residents: gpd.GeoDataFrame, config: Config
) -> gpd.GeoDataFrame:
    """The score grid with its residents aged 65+, classed where older people live.

    ``residents`` are PC6 points with ``residents_65plus`` (NaN where CBS masks it). Each
    point counts in the cell it lies in; masked values are unknown (``pc6_unknown``), not 0.
    The cells' mean scores are classed against their distribution weighted by residents 65+
    (cells without any left out), so "high" means high for where older people live.
    """
    cells = grid[["cell_id", "n_dwellings", "score_mean", "suppressed", "geometry"]].copy()
    hit = gpd.sjoin(residents[["residents_65plus", "geometry"]], cells[["geometry"]])
    hit = hit[~hit.index.duplicated(keep="first")]
    by_cell = hit.groupby("index_right")["residents_65plus"]
    cells["residents_65plus"] = by_cell.sum().reindex(cells.index).fillna(0.0)
    unknown = hit["residents_65plus"].isna().groupby(hit["index_right"]).sum()
    cells["pc6_unknown"] = unknown.reindex(cells.index).fillna(0).astype("int64")
    edges = class_edges(cells["score_mean"], cells["residents_65plus"], config)
    cells["score_class"] = classify(cells["score_mean"], edges)
    cells.attrs["class_edges"] = [round(float(x), 4) for x in edges]
    cells.attrs["points_outside_grid"] = int(len(residents) - len(hit))
    return cells


def _suppress(cells: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """The demand grid as exported: no count under ``MIN_COUNT`` residents or dwellings."""
    out = cells.copy()
    small = (out["residents_65plus"] < MIN_COUNT) | (out["n_dwellings"] < MIN_COUNT)
    out["residents_65plus"] = out["residents_65plus"].round().where(~small)
    out["n_dwellings"] = out["n_dwellings"].astype(float).where(out["n_dwellings"] >= MIN_COUNT)
    out["count_suppressed"] = small
    return out


def _names(
    zones: gpd.GeoDataFrame,
    dwellings: gpd.GeoDataFrame,
    network: gpd.GeoDataFrame | None,
    names: gpd.GeoDataFrame | None,
    name_field: str | None,
) -> list[str]:
    """A name per zone: the names polygon with most of its dwellings, else its main street."""
    out = []
    for _, z in zones.iterrows():
        name = None
        if names is not None:
            inside = dwellings[dwellings.intersects(z.geometry)]
            if len(inside):
                hit = gpd.sjoin(inside[["weight", "geometry"]], names[[name_field, "geometry"]])
                if len(hit):
                    w = hit.groupby(name_field)["weight"].sum()
                    name = field_label(w.sort_values(ascending=False, kind="stable").index[0])
        if name is None and network is not None:
            streets = network[network.intersects(z.geometry) & network["name"].notna()]
            if len(streets):
                length = streets.intersection(z.geometry).length.groupby(streets["name"]).sum()
                name = str(length.sort_values(ascending=False, kind="stable").index[0])
        out.append(name or "zone")
    seen = Counter()
    unique = []
    for n in out:
        seen[n] += 1
        unique.append(n if seen[n] == 1 else f"{n} ({seen[n]})")
    return unique


#: The rule that made the zones, in words (the console and ``run_metadata`` show it).
_RULE = {
    "nl": {
        "rule": "klasse >= {cls}, gaten van {gap} cel(len) gedicht, {nb}-buurcellen, minstens "
        "{cells} cellen en {least}",
        "dwellings": "{n:g} woningen",
        "65plus": "{n:g} 65-plussers (klassen naar hen gewogen)",
    },
    "en": {
        "rule": "class >= {cls}, gaps of {gap} cell(s) closed, {nb}-neighbour cells, at least "
        "{cells} cells and {least}",
        "dwellings": "{n:g} dwellings",
        "65plus": "{n:g} residents of 65+ (classes weighted by them)",
    },
}


def _rule(z, *, demand: bool, lang: str) -> str:
    """The zone rule of config ``z`` (``config.zones``) in ``lang``."""
    t = words(_RULE, lang)
    least = (
        t["65plus"].format(n=z.min_residents_65plus)
        if demand
        else t["dwellings"].format(n=z.min_dwellings)
    )
    return t["rule"].format(
        cls=z.min_class,
        gap=z.smoothing_cells,
        nb="8" if z.diagonal else "4",
        cells=z.min_cells,
        least=least,
    )


def _profiles(zones: gpd.GeoDataFrame, amenities: gpd.GeoDataFrame, config: Config, lang: str):
    counts = pd.DataFrame(0, index=zones.index, columns=list(config.indicator_ids), dtype="int64")
    if len(zones) and len(amenities):
        # Points on a cell border count (intersects, not within), and only once.
        hit = gpd.sjoin(amenities[["indicator", "geometry"]], zones[["geometry"]])
        hit = hit[~hit.index.duplicated(keep="first")]
        table = hit.groupby(["index_right", "indicator"]).size().unstack(fill_value=0)
        for ind in table.columns:
            if ind in counts:
                counts.loc[table.index, ind] = table[ind].astype("int64")
    texts = []
    for z in zones.index:
        parts = [
            config.indicator(i).count_text(int(counts.loc[z, i]), lang)
            for i in config.indicator_ids
            if counts.loc[z, i]
        ]
        texts.append(
            ", ".join(parts)
            if parts
            else ("geen voorzieningen" if lang == "nl" else "no amenities")
        )
    return counts.add_prefix("n_"), texts


@dataclass
class ZonesResult:
    """The zones layer (``zones``, or ``zones_demand``), further layers, the run's facts."""

    zones: gpd.GeoDataFrame
    metadata: dict[str, str]
    layer: str = "zones"
    extra: dict[str, gpd.GeoDataFrame] = field(default_factory=dict)
    lang: str = "nl"  # of the QGIS styles' legend labels, as of the zones' profiles

    def to_gpkg(self, path: str | os.PathLike) -> Path:
        """Add (or refresh) the zones layer (and ``extra`` layers) in the scan GeoPackage.

        Their QGIS styles join the scan's in its ``layer_styles`` table.
        """
        from ..outputs.export import add_layers
        from ..outputs.styles import layer_styles

        styles = layer_styles([self.layer, *self.extra], lang=self.lang)
        return add_layers(
            path,
            {self.layer: self.zones, **self.extra, "layer_styles": styles},
            metadata={f"{self.layer}.{k}": v for k, v in self.metadata.items()},
        )


def make_zones(
    scan: str | os.PathLike,
    *,
    names: str | os.PathLike | None = None,
    name_field: str | None = None,
    config: Config | None = None,
    lang: str = "nl",
    population: str | os.PathLike | None = None,
    points: str | os.PathLike | None = None,
) -> ZonesResult:
    """Find, name and describe the woonzorgzones of a scan GeoPackage.

    With ``population`` (the CBS PC6 table, and ``points`` when the scan's dwellings are not
    PC6 points), the demand-weighted variant: high cells are classed against the cells
    weighted by residents 65+, zones need ``zones.min_residents_65plus`` of them instead of
    ``zones.min_dwellings``, and the result goes to layer ``zones_demand`` with the grid of
    residents (``demand_grid``; counts under 5 never exported). Today's ``zones`` stay.
    """
    layers = require_layer(scan, "grid", what="zones")
    meta = read_metadata(scan)
    cfg = config or run_config(meta)
    grid = read_scan_layer(scan, "grid")
    dwellings = read_scan_layer(scan, "dwellings")
    amenities = read_scan_layer(scan, "amenities")
    network = read_scan_layer(scan, "network") if "network" in layers else None
    name_layer = None
    if names is not None:
        if not name_field:
            raise InputError("zones: give --name-field, the column of the names layer to use")
        name_layer = read_vector(names, what="zone names").to_crs(grid.crs)
        require_columns(name_layer, [name_field], what="zone names", path=Path(names))
    cell_m = float(meta.get("grid_cell_m", cfg.grid_cell_m))
    extra, facts = {}, {}
    if population is None:
        zones = find_zones(grid, cfg.zones, cell_m=cell_m)
    else:
        zones, extra, facts = _demand_zones(scan, grid, cfg, population, points, cell_m)
    zones.insert(0, "zone_id", [f"Z{i + 1:02d}" for i in range(len(zones))])
    zones.insert(1, "name", _names(zones, dwellings, network, name_layer, name_field))
    counts, texts = _profiles(zones, amenities, cfg, lang)
    zones["profile"] = texts
    zones = pd.concat([zones.drop(columns="geometry"), counts, zones[["geometry"]]], axis=1)
    zones = gpd.GeoDataFrame(zones, geometry="geometry", crs=grid.crs)
    facts = {
        "rule": _rule(cfg.zones, demand=population is not None, lang=lang),
        "count": str(len(zones)),
        "names": names and Path(names).name or "main street inside the zone",
        **facts,
    }
    log.info("zones: %d found (%s)", len(zones), facts["rule"])
    layer = "zones" if population is None else "zones_demand"
    return ZonesResult(zones, facts, layer=layer, extra=extra, lang=lang)


def _demand_zones(scan, grid, cfg: Config, population, points, cell_m: float):
    """Zones from the demand grid, the exported demand grid, and the facts."""
    from .demand import older_residents

    residents, facts = older_residents(scan, population, points=points)
    cells = demand_grid(grid, residents, cfg)
    zones = find_zones(
        cells,
        cfg.zones,
        cell_m=cell_m,
        weight="residents_65plus",
        min_weight=cfg.zones.min_residents_65plus,
    )
    small = zones["residents_65plus"] < MIN_COUNT
    zones["residents_65plus"] = zones["residents_65plus"].round().where(~small)
    facts = {
        **facts,
        "class_edges": str(cells.attrs["class_edges"]),
        "pc6_points_outside_grid": str(cells.attrs["points_outside_grid"]),
    }
    return zones, {"demand_grid": _suppress(cells)}, facts


def compare_zones(
    scan: str | os.PathLike,
    reference: str | os.PathLike,
    *,
    name_field: str,
    min_share: float = 0.5,
    layer: str = "zones",
    reference_layer: str | None = None,
) -> pd.DataFrame:
    """Each reference zone against the found zones, by the dwellings they share.

    A reference zone is matched when at least ``min_share`` of its dwellings lie in found
    zones; its counterpart is the found zone holding most of them. Found zones that no
    reference zone matches are listed with an empty reference. ``layer`` is the scan's
    zones layer (``zones_demand`` for the demand-weighted ones); the reference may be a
    layer of the same scan (``reference_layer="zones"``, ``name_field="name"``), which
    compares the two kinds of zones.
    """
    require_layer(scan, layer, what="compare-zones", fix="yet; run thuisdichtbij zones first")
    found = read_scan_layer(scan, layer)
    dw = read_scan_layer(scan, "dwellings")
    dw = dw[dw["weight"].notna()]
    ref = read_vector(reference, what="reference zones", layer=reference_layer)
    ref = ref.to_crs(found.crs)
    require_columns(ref, [name_field], what="reference zones", path=Path(reference))
    # Points on a cell border count (intersects, not within), and only once.
    in_found = gpd.sjoin(dw[["weight", "geometry"]], found[["zone_id", "name", "geometry"]])
    in_found = in_found[~in_found.index.duplicated(keep="first")]
    rows = []
    for _, r in ref.iterrows():
        inside = dw[dw.intersects(r.geometry)]
        total = float(inside["weight"].sum())
        both = in_found[in_found.index.isin(inside.index)]
        overlap = float(both["weight"].sum())
        share = overlap / total if total else 0.0
        best = both.groupby("zone_id")["weight"].sum().sort_values(ascending=False, kind="stable")
        zid = best.index[0] if len(best) else None
        matched = share >= min_share
        rows.append(
            {
                "reference": field_label(r[name_field]),
                "zone_id": zid,
                "zone_name": found.set_index("zone_id").loc[zid, "name"] if zid else None,
                "dwellings_reference": int(round(total)),
                "dwellings_overlap": int(round(overlap)),
                "share": round(share, 3),
                "matched": bool(matched),
            }
        )
    listed = {row["zone_id"] for row in rows}  # a partial match is listed once, with it
    for _, z in found.iterrows():
        if z["zone_id"] not in listed:
            rows.append(
                {
                    "reference": None,
                    "zone_id": z["zone_id"],
                    "zone_name": z["name"],
                    "dwellings_reference": 0,
                    "dwellings_overlap": 0,
                    "share": 0.0,
                    "matched": False,
                }
            )
    return pd.DataFrame(rows)
