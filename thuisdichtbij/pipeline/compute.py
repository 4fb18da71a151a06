"""The scan's computing stages over plain frames: snap, measure, score, aggregate, classes."""

from __future__ import annotations

import logging

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from ..analyses.audit import (
    INSUFFICIENT,
    MIN_SAFETY_SHARE,
    OK,
    data_status,
    safety_shares,
    unscored_share,
)
from ..config import Config
from ..engine.aggregate import (
    MIN_DATA_COVERAGE,
    aggregate,
    assign_areas,
    cell_ids,
    score_grid,
)
from ..engine.distance import indicator_distances
from ..engine.partition import Tiling, tiled_distances
from ..engine.score import (
    band_points,
    band_sensitivity,
    class_edges,
    classify,
    total_score,
)
from ..engine.snap import snap_points
from ..errors import InputError
from ..study import Study
from . import inputs

log = logging.getLogger(__name__)


def require_scored(dw: gpd.GeoDataFrame, cfg: Config, st: Study) -> None:
    """A run that scores no dwelling is an error, never a written result."""
    if len(dw) and dw["snapped"].any():
        return
    raise InputError(
        f"dwellings: none of the {len(dw)} dwelling point(s) of {st.name} lies within "
        f"{cfg.max_snap_m:g} m of a walkable street, so nothing can be scored; check that the "
        "dwellings and the street network cover the same place (and their CRS)"
    )


def snap(net, amen, dw, areas, cfg: Config, tiling: Tiling | None):
    """Snap amenities (and, without tiles, dwellings) to the network; give dwellings an area."""
    a_snap = snap_points(amen.geometry.to_numpy(), net, max_snap_m=cfg.max_snap_m)
    amen["snapped"] = a_snap.ok
    amen["snap_m"] = a_snap.snap_m
    dw["area_id"] = assign_areas(dw, areas)
    d_snap = None
    if tiling is None:
        d_snap = snap_points(dw.geometry.to_numpy(), net, max_snap_m=cfg.max_snap_m)
    return a_snap, d_snap


def measure(net, dw, amen, a_snap, d_snap, cfg, tiling, stages, meta) -> dict[str, np.ndarray]:
    """Walking distances per sub-indicator into ``dw`` (``dist_*``, ``snapped``, ``snap_m``).

    Searched a tolerance beyond the largest band, for the band-edge sensitivity; returns
    those distances (``dist_*`` stops at the largest band).
    """
    indicator = amen["indicator"].to_numpy()
    search_m = cfg.max_distance_m + cfg.band_tolerance_m
    if tiling is None:
        dists = indicator_distances(
            net, d_snap, a_snap, indicator, cfg.indicator_ids, max_distance_m=search_m
        )
        snapped, snap_m = d_snap.ok, d_snap.snap_m
    else:
        tiled = tiled_distances(
            net,
            shapely.get_coordinates(dw.geometry.to_numpy()),
            shapely.get_coordinates(amen.geometry.to_numpy()),
            indicator,
            cfg.indicator_ids,
            max_snap_m=cfg.max_snap_m,
            max_distance_m=search_m,
            tiling=tiling,
            progress=stages.progress,
        )
        dists, snapped, snap_m = tiled.distances, tiled.snapped, tiled.snap_m
        meta["tiling"] = (
            f"tiles of {tiling.tile_m:g} m on "
            f"{tiling.scheduler or f'a local cluster of {tiling.workers} worker(s)'}"
        )
    dw["snapped"] = snapped
    dw["snap_m"] = snap_m
    for ind in cfg.indicator_ids:
        dw[f"dist_{ind}"] = np.where(dists[ind] > cfg.max_distance_m, np.inf, dists[ind])
    return dists


def sensitivity(dw, reach: dict[str, np.ndarray], cfg: Config, edges_dw) -> None:
    """Band-edge sensitivity columns into ``dw`` (see ``score.band_sensitivity``)."""
    distances = pd.DataFrame({f"dist_{i}": reach[i] for i in cfg.indicator_ids}, index=dw.index)
    sens = band_sensitivity(distances, dw["safety_pts"], cfg, class_edges=edges_dw)
    dw[list(sens.columns)] = sens.where(dw["snapped"], axis=0)


def score(st, dw, all_areas, net, cfg: Config, meta: dict[str, str]):
    """Points, safety, total and class per dwelling; returns the class edges and safety areas."""
    extent = shapely.box(*net.edges_frame().total_bounds)
    safety, safety_facts, safety_areas = inputs.study_safety(st, dw, all_areas, cfg, extent)
    meta.update(safety_facts)
    return points_and_classes(dw, safety, cfg), safety_areas


def points_and_classes(dw: gpd.GeoDataFrame, safety: pd.Series, cfg: Config) -> np.ndarray:
    """``pts_*``, ``safety_pts``, ``score`` and ``score_class`` into ``dw``; returns the edges.

    The classes are relative to the dwellings given: pass the whole study.
    """
    for ind in cfg.indicator_ids:
        dw[f"pts_{ind}"] = band_points(dw[f"dist_{ind}"].to_numpy(), cfg)
    dw["safety_pts"] = safety.where(dw["snapped"])
    pts = dw[[f"pts_{i}" for i in cfg.indicator_ids]]
    dw["score"] = total_score(pts, safety, cfg).where(dw["snapped"])
    edges_dw = class_edges(dw["score"], dw["weight"], cfg)
    dw["score_class"] = classify(dw["score"], edges_dw)
    return edges_dw


def aggregate_scores(dw, areas, cfg: Config):
    """Dwelling-weighted means per area and per grid cell, each classed against its own means."""
    cols = [f"pts_{i}" for i in cfg.indicator_ids] + ["safety_pts"]
    dw["not_robust"] = (~dw["class_robust"]).astype(float)
    agg = aggregate(dw, areas, cfg, columns=[*cols, "not_robust"])
    coverage = agg["area_id"].map(areas.set_index("area_id").get("data_coverage", {}))
    shares = (unscored_share(dw, dw["area_id"]), safety_shares(dw, dw["area_id"], cfg))
    edges_ar = _classes(agg, "area_id", shares, cfg, coverage)
    agg["share_not_robust"] = agg.pop("not_robust")
    grid = score_grid(dw, cfg, columns=["not_robust"])
    cells = cell_ids(shapely.get_coordinates(dw.geometry.to_numpy()), cfg.grid_cell_m)
    shares = (unscored_share(dw, cells), safety_shares(dw, cells, cfg))
    edges_gr = _classes(grid, "cell_id", shares, cfg)
    grid["share_not_robust"] = grid.pop("not_robust")
    return agg, grid, (edges_ar, edges_gr)


def _classes(
    layer: gpd.GeoDataFrame, key: str, shares: tuple, cfg: Config, coverage=None
) -> np.ndarray:
    """Add ``unscored_share``, ``safety_share``, ``data_status``, ``score_class`` to a layer.

    Areas (or cells) with too many unscored dwellings, less than half covered by the data,
    without a known number of dwellings, or (in a run with Leefbaarometer figures) with a
    figure for fewer than half of their dwellings, get no class and do not shape the class
    edges of the others; returns the edges. ``shares``: the unscored and the safety shares
    per key (:func:`~thuisdichtbij.analyses.audit.safety_shares`, None: not judged).
    """
    unscored, safety = shares
    layer["unscored_share"] = layer[key].map(unscored).astype(float)
    status = data_status(layer["unscored_share"], cfg)
    # NULL where not judged (safety weighed 0, or no figure anywhere in the run)
    layer["safety_share"] = np.nan if safety is None else layer[key].map(safety).astype(float)
    known = layer["safety_share"].fillna(1.0).to_numpy()
    status = status.where(known >= MIN_SAFETY_SHARE, INSUFFICIENT)
    # no known number of dwellings (only points whose CBS count is secret): not "too few"
    status = status.where(layer["n_dwellings"].notna().to_numpy(), INSUFFICIENT)
    if coverage is not None:
        layer["data_coverage"] = coverage.astype(float).fillna(1.0).round(4).to_numpy()
        covered = layer["data_coverage"].to_numpy() >= MIN_DATA_COVERAGE
        status = status.where(covered, INSUFFICIENT)
    layer["data_status"] = status.to_numpy()
    mean = layer["score_mean"].where(layer["data_status"] == OK)
    edges = class_edges(mean, layer["n_dwellings"].astype(float), cfg)
    layer["score_class"] = classify(mean, edges)
    return edges


def order_columns(dw: gpd.GeoDataFrame, cfg: Config) -> gpd.GeoDataFrame:
    """The dwellings' columns in the order the GeoPackage shows them."""
    head = [
        c for c in ("dwelling_id", "postcode", "weight", "area_id", "snapped", "snap_m") if c in dw
    ]
    cols = (
        head
        + [f"dist_{i}" for i in cfg.indicator_ids]
        + [f"pts_{i}" for i in cfg.indicator_ids]
        + ["safety_pts", "score", "score_class"]
        + ["n_near_edge", "score_min", "score_max", "class_min", "class_max", "class_robust"]
        + [dw.geometry.name]
    )
    return dw[cols]
