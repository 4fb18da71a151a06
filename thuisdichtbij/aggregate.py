"""Dwelling scores per area: the dwelling-weighted mean, its class and the dwelling count."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from .config import Config

__all__ = ["assign_areas", "aggregate", "square_cells", "select_areas"]


def assign_areas(points: gpd.GeoDataFrame, areas: gpd.GeoDataFrame) -> pd.Series:
    """The ``area_id`` each point lies in (``<NA>`` outside all areas).

    A point on a shared border goes to the area listed first.
    """
    hits = gpd.sjoin(
        points[[points.geometry.name]],
        areas[["area_id", areas.geometry.name]],
        how="left",
        predicate="intersects",
    )
    hits = hits[~hits.index.duplicated(keep="first")]
    return hits["area_id"].reindex(points.index).astype("string")


def square_cells(points: gpd.GeoDataFrame, *, size_m: float) -> gpd.GeoDataFrame:
    """Square cells of ``size_m`` with corners on multiples of ``size_m``, where points lie.

    Ids follow the CBS squares' naming: ``E<x/100>N<y/100>`` of the lower-left corner in
    hectometres (``E1760N3180`` for the 100 m cell at 176000, 318000 in RD New).
    """
    xy = shapely.get_coordinates(points.geometry.to_numpy())
    corners = np.unique(np.floor(xy / size_m).astype(np.int64), axis=0) * size_m
    ids = [f"E{int(x // 100):04d}N{int(y // 100):04d}" for x, y in corners]
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
    known weight count. Areas with fewer than ``config.min_dwellings`` dwellings are
    suppressed: their means are empty and ``suppressed`` is true.
    """
    d = dwellings[dwellings["score"].notna() & dwellings["weight"].notna()]
    d = d[d["area_id"].notna()]
    w = d["weight"].astype(float)
    sums = (d[["score", *columns]].astype(float).mul(w, axis=0)).groupby(d["area_id"]).sum()
    n = w.groupby(d["area_id"]).sum()
    means = sums.div(n, axis=0)
    out = areas[["area_id", areas.geometry.name]].copy()
    out["n_dwellings"] = out["area_id"].map(n).fillna(0).round().astype("int64")
    out["score_mean"] = out["area_id"].map(means["score"]).astype(float)
    for c in columns:
        out[c] = out["area_id"].map(means[c]).astype(float)
    out["suppressed"] = out["n_dwellings"] < config.min_dwellings
    out.loc[out["suppressed"], ["score_mean", *columns]] = np.nan
    return out
