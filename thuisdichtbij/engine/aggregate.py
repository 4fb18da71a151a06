"""Dwelling scores per area: the dwelling-weighted mean, its class and the dwelling count."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from ..config import Config
from .rows import unique_rows

__all__ = ["assign_areas", "aggregate", "square_cells", "select_areas", "cell_ids", "score_grid"]


#: A study area (or a municipality of a national run) covered less than this by the data
#: (the walking network's extent) is said in a warning: the extract ends inside it.
FULL_COVERAGE = 0.99
#: ``data_status`` of an area or grid cell with too little data for a class: too many of
#: its dwellings not scored, or less than half of it within the data (its ``data_coverage``).
INSUFFICIENT = "onvoldoende gegevens"
#: An area or cell with less of it within the data than this gets no class (INSUFFICIENT).
MIN_DATA_COVERAGE = 0.5


def suppressed_only(layer: pd.DataFrame) -> pd.Series:
    """Rows suppressed for too few dwellings and not short of data (as the maps draw them).

    An area or cell with ``data_status`` :data:`INSUFFICIENT` is a data gap first, whatever
    its dwelling count says.
    """
    gap = layer["data_status"] == INSUFFICIENT if "data_status" in layer else False
    return layer["suppressed"].astype(bool) & ~gap


def assign_areas(points: gpd.GeoDataFrame, areas: gpd.GeoDataFrame) -> pd.Series:
    """The ``area_id`` each point lies in (``<NA>`` outside all areas).

    A point on a shared border goes to the area listed first.
    """
    hits = gpd.sjoin(
        points[[points.geometry.name]],
        areas[["area_id", areas.geometry.name]].reset_index(drop=True),
        how="left",
        predicate="intersects",
    )
    # The spatial index lists a point's areas in no fixed order: order them as listed.
    hits = hits.sort_values("index_right", kind="stable")
    hits = hits[~hits.index.duplicated(keep="first")]
    return hits["area_id"].reindex(points.index).astype("string")


def cell_ids(xy: np.ndarray, size_m: float) -> list[str]:
    """CBS-style ids of the cells of ``size_m`` holding each point (see :func:`square_cells`)."""
    corners = np.floor(xy / size_m).astype(np.int64) * size_m
    # named once per cell, not once per point
    cells, inverse = unique_rows(corners)
    names = np.array([f"E{int(x // 100):04d}N{int(y // 100):04d}" for x, y in cells], dtype=object)
    return names[inverse].tolist()


def square_cells(points: gpd.GeoDataFrame, *, size_m: float) -> gpd.GeoDataFrame:
    """Square cells of ``size_m`` with corners on multiples of ``size_m``, where points lie.

    Ids follow the CBS squares' naming: ``E<x/100>N<y/100>`` of the lower-left corner in
    hectometres (``E1760N3180`` for the 100 m cell at 176000, 318000 in RD New).
    """
    xy = shapely.get_coordinates(points.geometry.to_numpy())
    corners = unique_rows(np.floor(xy / size_m).astype(np.int64))[0] * size_m
    ids = cell_ids(corners.astype(float), size_m)
    geoms = shapely.box(
        corners[:, 0], corners[:, 1], corners[:, 0] + size_m, corners[:, 1] + size_m
    )
    return gpd.GeoDataFrame({"area_id": ids}, geometry=geoms, crs=points.crs)


def select_areas(
    areas: gpd.GeoDataFrame,
    *,
    study_area: gpd.GeoDataFrame | None,
    dwellings: gpd.GeoDataFrame,
    min_share: float = 0.5,
) -> gpd.GeoDataFrame:
    """The areas of the study: those with at least half their surface in the study area.

    Without a study area: the areas holding at least one dwelling.
    """
    if study_area is not None:
        boundary = study_area.union_all()
        cand = areas[areas.intersects(boundary)]
        share = cand.intersection(boundary).area / cand.area
        return cand[share >= min_share].reset_index(drop=True)
    ids = assign_areas(dwellings, areas).dropna().unique()
    return areas[areas["area_id"].isin(ids)].reset_index(drop=True)


def aggregate(
    dwellings: pd.DataFrame, areas: gpd.GeoDataFrame, config: Config, *, columns: list[str]
) -> gpd.GeoDataFrame:
    """Per area the dwelling-weighted mean of ``score`` and of ``columns``, and the count.

    ``dwellings`` needs ``area_id``, ``weight`` and ``score``. Only scored dwellings with a
    known weight count, and for each of ``columns`` only those that have a value (the mean
    is empty where none has). Areas with fewer than ``config.min_dwellings`` dwellings are
    suppressed: their means are empty and ``suppressed`` is true. ``n_dwellings`` is a
    nullable integer: unknown (``<NA>``, never 0) where the area's scored points all have an
    unknown weight (e.g. a PC6 whose CBS dwelling count is secret); such an area is
    suppressed.
    """
    d = dwellings[dwellings["score"].notna() & dwellings["area_id"].notna()]
    unknown_only = set(d["area_id"].unique()) - set(d.loc[d["weight"].notna(), "area_id"].unique())
    d = d[d["weight"].notna()]
    w = d["weight"].astype(float)
    values = d[["score", *columns]].astype(float)
    sums = values.mul(w, axis=0).groupby(d["area_id"]).sum()
    # each column over the dwellings that have it (safety_pts is empty where the
    # Leefbaarometer has no figure): empty, never 0, where none has it
    known = values.notna().mul(w, axis=0).groupby(d["area_id"]).sum()
    means = sums / known.where(known > 0)
    n = w.groupby(d["area_id"]).sum()
    out = areas[["area_id", areas.geometry.name]].copy()
    count = out["area_id"].map(n).fillna(0).round().astype("Int64")
    out["n_dwellings"] = count.mask(out["area_id"].isin(unknown_only))
    out["score_mean"] = out["area_id"].map(means["score"]).astype(float)
    for c in columns:
        out[c] = out["area_id"].map(means[c]).astype(float)
    out["suppressed"] = (out["n_dwellings"] < config.min_dwellings).fillna(True).astype(bool)
    out.loc[out["suppressed"], ["score_mean", *columns]] = np.nan
    return out


def score_grid(
    dwellings: gpd.GeoDataFrame, config: Config, *, columns: list[str] | None = None
) -> gpd.GeoDataFrame:
    """The score grid: dwelling scores averaged per square cell of ``config.grid_cell_m``.

    Cells align with the CBS squares (corners on multiples of the cell size in the study's
    metric CRS) and are suppressed below ``config.min_dwellings`` like areas. Every cell
    holding a dwelling is there, scored or not: one whose dwellings could not be scored (too
    far from any street) has no mean, and the caller marks it by its unscored share, so the
    gap shows on the map instead of empty land. Columns ``cell_id``, ``n_dwellings`` (the
    scored ones, as for areas), ``score_mean``, ``suppressed`` (classes are added by the
    caller, against the distribution of the cell means), and the dwelling-weighted mean of
    each of ``columns``.
    """
    columns = list(columns or [])
    size = config.grid_cell_m
    cells = square_cells(dwellings, size_m=size)
    xy = shapely.get_coordinates(dwellings.geometry.to_numpy())
    d = dwellings[["weight", "score", *columns]].assign(area_id=cell_ids(xy, size))
    grid = aggregate(d, cells, config, columns=columns)
    return grid.rename(columns={"area_id": "cell_id"})
