"""From distances to points, scores and relative classes."""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..config import SAFETY_ID, Config, SafetyConfig

__all__ = [
    "band_points",
    "safety_points",
    "total_score",
    "class_edges",
    "classify",
    "band_sensitivity",
    "CLASS_LABELS_NL",
    "CLASS_LABELS_EN",
]

CLASS_LABELS_NL = {
    1: "Sterk beneden gemiddeld",
    2: "Beneden gemiddeld",
    3: "Gemiddeld",
    4: "Boven gemiddeld",
    5: "Sterk boven gemiddeld",
}
CLASS_LABELS_EN = {
    1: "Strongly below average",
    2: "Below average",
    3: "Average",
    4: "Above average",
    5: "Strongly above average",
}


def band_points(distance_m: np.ndarray, config: Config) -> np.ndarray:
    """Points per distance: the first band whose ``max_m`` the distance does not exceed.

    Band edges are inclusive (250.0 m earns the 250 m band). ``inf`` earns 0; ``NaN``
    (not snapped) stays ``NaN``.
    """
    d = np.asarray(distance_m, dtype=float)
    pts = np.zeros(d.shape)
    for band in reversed(config.bands):
        pts[d <= band.max_m] = band.points
    pts[np.isnan(d)] = np.nan
    return pts


def safety_points(levels: pd.DataFrame, safety: SafetyConfig) -> pd.Series:
    """Safety points 1-5 per area from its Leefbaarometer level and development.

    ``levels`` has the columns ``level`` (the score in the scoring year) and ``base`` (in
    the base year; may be missing). The level falls into classes 1-5 by
    ``safety.level_edges``; a rise since the base year of at least
    ``safety.development_step`` adds a point, an equal fall takes one off, within 1-5.
    Areas without a level get ``NaN``.
    """
    level = levels["level"].astype(float)
    pts = pd.Series(
        np.digitize(level.to_numpy(), safety.level_edges, right=False) + 1.0, index=levels.index
    )
    change = level - levels["base"].astype(float)
    step = safety.development_step
    pts = pts + (change >= step).astype(float) - (change <= -step).astype(float)
    pts = pts.clip(1, 5)
    pts[level.isna()] = np.nan
    return pts


def total_score(points: pd.DataFrame, safety_pts: pd.Series, config: Config) -> pd.Series:
    """Weighted total: the sum of band points times weights, plus safety points times weight.

    ``points`` has a column ``pts_<id>`` per sub-indicator. Where ``safety_pts`` is missing
    the config decides: ``neutral`` counts 3 points, ``rescale`` leaves safety out and
    scales the rest up so that the maximum score stays the same.
    """
    distance_part = sum(points[f"pts_{i}"] * config.weights[i] for i in config.indicator_ids)
    w_safety = config.weights[SAFETY_ID]
    safety = safety_pts.astype(float)
    if config.safety.missing == "neutral":
        return distance_part + safety.fillna(3.0) * w_safety
    scale = config.max_score / config.max_distance_score if config.max_distance_score else 1.0
    return (distance_part + safety * w_safety).where(safety.notna(), distance_part * scale)


def _weighted_quantiles(values: np.ndarray, weights: np.ndarray, qs: np.ndarray) -> np.ndarray:
    order = np.argsort(values, kind="stable")
    v, w = values[order], weights[order]
    cum = np.cumsum(w) / w.sum()  # ends at 1 (to rounding), above every q in qs
    return v[np.searchsorted(cum, qs, side="left")]


def class_edges(values: pd.Series, weights: pd.Series | None, config: Config) -> np.ndarray:
    """The four score values that separate classes 1-5 in this study area.

    ``stddev``: mean + k * standard deviation for each k of ``stddev_edges`` (weighted by
    ``weights``, e.g. dwellings per point); ``quantile``: the weighted quintiles.
    """
    v = values.to_numpy(dtype=float)
    w = np.ones(len(v)) if weights is None else weights.to_numpy(dtype=float)
    ok = ~np.isnan(v) & ~np.isnan(w) & (w > 0)
    v, w = v[ok], w[ok]
    if len(v) == 0:
        return np.full(4, np.nan)
    if config.classification_method == "quantile":
        return _weighted_quantiles(v, w, np.array([0.2, 0.4, 0.6, 0.8]))
    mean = np.average(v, weights=w)
    std = np.sqrt(np.average((v - mean) ** 2, weights=w))
    return mean + std * np.asarray(config.stddev_edges)


def classify(values: pd.Series, edges: np.ndarray) -> pd.Series:
    """Class 1-5 per value (a value on an edge goes to the lower class); missing stays missing.

    When all scores are equal (edges collapse) every value is average (3).
    """
    v = values.to_numpy(dtype=float)
    if np.isnan(edges).any() or np.ptp(edges) == 0:
        cls = np.where(np.isnan(v), np.nan, 3.0)
    else:
        cls = np.where(np.isnan(v), np.nan, np.digitize(v, edges, right=True) + 1.0)
    return pd.Series(cls, index=values.index).astype("Int64")


def band_sensitivity(
    distances: pd.DataFrame,
    safety_pts: pd.Series,
    config: Config,
    *,
    class_edges: np.ndarray,
    tolerance_m: float | None = None,
) -> pd.DataFrame:
    """How much a dwelling's score and class hang on a few metres of mapping error.

    Each walk in ``distances`` (a column ``dist_<id>`` per sub-indicator, searched to at
    least the largest band edge plus the tolerance; ``inf`` beyond, ``NaN`` when not
    snapped) may be off by up to ``tolerance_m`` (default ``config.band_tolerance_m``)
    either way. The class edges are held fixed.

    Returns
    -------
    pandas.DataFrame
        Aligned to ``distances``: ``n_near_edge`` (sub-indicators whose points differ
        within the tolerance: edges are inclusive, so with 25 m a walk of 225.001-275 m
        counts for the 250 m edge and one of 225 m does not), ``score_min`` and
        ``score_max`` (all walks longer or shorter by the tolerance), ``class_min``,
        ``class_max`` and ``class_robust`` (the class cannot change). Empty where the
        dwelling has no score.
    """
    tol = config.band_tolerance_m if tolerance_m is None else tolerance_m
    near = pd.Series(0, index=distances.index, dtype="int64")
    worst, best = {}, {}
    for ind in config.indicator_ids:
        d = distances[f"dist_{ind}"].to_numpy(dtype=float)
        worst[f"pts_{ind}"] = band_points(d + tol, config)
        best[f"pts_{ind}"] = band_points(np.maximum(d - tol, 0.0), config)
        near += worst[f"pts_{ind}"] != best[f"pts_{ind}"]
    score_min = total_score(pd.DataFrame(worst, index=distances.index), safety_pts, config)
    score_max = total_score(pd.DataFrame(best, index=distances.index), safety_pts, config)
    scored = score_min.notna()
    class_min, class_max = classify(score_min, class_edges), classify(score_max, class_edges)
    return pd.DataFrame(
        {
            "n_near_edge": near.where(scored).astype("Int64"),
            "score_min": score_min,
            "score_max": score_max,
            "class_min": class_min,
            "class_max": class_max,
            "class_robust": (class_min == class_max).astype("boolean"),
        },
        index=distances.index,
    )
