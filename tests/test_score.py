"""Points, safety, classes: small cases worked out by hand."""

import numpy as np
import pandas as pd
import pytest

from thuisdichtbij import load_config
from thuisdichtbij.config import INDICATOR_IDS
from thuisdichtbij.engine.score import (
    CLASS_LABELS_EN,
    CLASS_LABELS_NL,
    band_points,
    band_sensitivity,
    class_edges,
    classify,
    safety_points,
    total_score,
)


def test_band_points_edges_inclusive():
    cfg = load_config()
    d = np.array([0.0, 250.0, 250.001, 500.0, 500.001, np.inf, np.nan])
    assert band_points(d, cfg).tolist()[:6] == [2, 2, 1, 1, 0, 0]
    assert np.isnan(band_points(d, cfg)[6])


def test_band_points_follow_a_user_band_table(tmp_path):
    p = tmp_path / "w.yaml"
    p.write_text(
        "bands:\n  - {max_m: 300, points: 3}\n  - {max_m: 600, points: 2}\n"
        "  - {max_m: 900, points: 1}\n"
    )
    cfg = load_config(p)
    assert band_points(np.array([300.0, 301, 601, 900, 901]), cfg).tolist() == [3, 2, 1, 1, 0]
    assert cfg.max_distance_m == 900
    assert cfg.max_score == 3 * 14 + 2.5


def test_safety_level_and_development():
    cfg = load_config().safety  # edges -0.05, 0, 0.05, 0.10; step 0.05
    levels = pd.DataFrame(
        {
            "level": [-0.10, -0.02, 0.02, 0.07, 0.12, 0.12, -0.10, 0.02, np.nan],
            "base": [-0.10, -0.02, 0.02, 0.07, 0.12, 0.00, 0.00, np.nan, 0.0],
        }
    )
    pts = safety_points(levels, cfg)
    # levels 1..5; then 5 + rise stays 5; 1 - fall stays 1; no base year: level alone
    assert pts.tolist()[:8] == [1, 2, 3, 4, 5, 5, 1, 3]
    assert np.isnan(pts.iloc[8])
    fall = safety_points(pd.DataFrame({"level": [0.07], "base": [0.13]}), cfg)
    rise = safety_points(pd.DataFrame({"level": [0.02], "base": [-0.05]}), cfg)
    assert fall.tolist() == [3] and rise.tolist() == [4]


def test_stddev_classes_by_hand():
    cfg = load_config()
    # mean 10, population standard deviation 4
    values = pd.Series([6.0, 14.0, 6.0, 14.0])
    edges = class_edges(values, None, cfg)
    assert edges == pytest.approx([4, 8, 12, 16])
    got = classify(pd.Series([4.0, 4.1, 8.0, 8.1, 12.0, 12.1, 16.0, 16.1, np.nan]), edges)
    # a value on an edge goes to the lower class
    assert got.tolist()[:8] == [1, 2, 2, 3, 3, 4, 4, 5]
    assert pd.isna(got.iloc[8])


def test_weights_shift_the_mean():
    cfg = load_config()
    edges = class_edges(pd.Series([0.0, 10.0]), pd.Series([3.0, 1.0]), cfg)
    mean = 2.5
    std = np.sqrt((3 * 2.5**2 + 7.5**2) / 4)
    assert edges == pytest.approx(mean + std * np.array([-1.5, -0.5, 0.5, 1.5]))


def test_quantile_classes(tmp_path):
    p = tmp_path / "w.yaml"
    p.write_text("classification:\n  method: quantile\n")
    cfg = load_config(p)
    values = pd.Series(np.arange(1.0, 11.0))  # 1..10
    edges = class_edges(values, None, cfg)
    assert edges.tolist() == [2, 4, 6, 8]
    assert classify(values, edges).tolist() == [1, 1, 2, 2, 3, 3, 4, 4, 5, 5]


def test_edges_with_a_gap_make_everything_average():
    # Edges that are not all known cannot rank anything: every value is average.
    got = classify(pd.Series([0.0, 5.0, np.nan]), np.array([1.0, np.nan, 3.0, 4.0]))
    assert got.iloc[:2].tolist() == [3, 3] and pd.isna(got.iloc[2])


def test_all_equal_scores_are_average():
    cfg = load_config()
    edges = class_edges(pd.Series([5.0, 5.0, 5.0]), None, cfg)
    assert classify(pd.Series([5.0, 5.0]), edges).tolist() == [3, 3]


def test_safety_exactly_one_step_and_exactly_on_an_edge():
    cfg = load_config().safety  # edges -0.05, 0, 0.05, 0.10; step 0.05
    # 0.0 - 0.05 and 0.0 - (-0.05) are exactly -0.05 and 0.05 in floating point.
    levels = pd.DataFrame(
        {
            "level": [0.0, 0.0, 0.0, -0.05, 0.05, 0.10, -0.0501],
            "base": [0.05, -0.05, 0.0499, np.nan, np.nan, np.nan, np.nan],
        }
    )
    # level 0.0 is class 3 (an edge value belongs to the class above it): a fall of exactly
    # one step takes a point off, a rise of exactly one step adds one, a smaller fall nothing.
    assert safety_points(levels, cfg).tolist() == [2, 4, 3, 2, 4, 5, 1]


def test_total_score_rescales_or_counts_neutral(tmp_path):
    cfg = load_config()  # missing: rescale; max 30.5, distance part at most 28
    ids = cfg.indicator_ids
    points = pd.DataFrame({f"pts_{i}": [2.0, 1.0, 0.0, np.nan] for i in ids})
    safety = pd.Series([4.0, np.nan, 1.0, 3.0])
    got = total_score(points, safety, cfg)
    # row 0: 2 x 14 + 4 x 0.5; row 1: 14 scaled by 30.5 / 28; row 2: 0 + 0.5; row 3: NaN
    assert got.iloc[:3].tolist() == pytest.approx([30.0, 14 * 30.5 / 28, 0.5])
    assert np.isnan(got.iloc[3])
    p = tmp_path / "w.yaml"
    p.write_text("safety:\n  missing: neutral\n")
    neutral = total_score(points, safety, load_config(p))
    assert neutral.iloc[:3].tolist() == pytest.approx([30.0, 14 + 1.5, 0.5])


def test_rescale_when_every_distance_weight_is_zero(tmp_path):
    p = tmp_path / "w.yaml"
    zero = "".join(f"  {i}: 0\n" for i in load_config().indicator_ids)
    p.write_text(f"weights:\n{zero}  safety: 2\n")
    cfg = load_config(p)
    assert cfg.max_distance_score == 0 and cfg.max_score == 10
    points = pd.DataFrame({f"pts_{i}": [2.0, 1.0] for i in cfg.indicator_ids})
    # No division by a zero maximum: without safety the score is 0, with it 2 x level.
    got = total_score(points, pd.Series([np.nan, 4.0]), cfg)
    assert got.tolist() == [0.0, 8.0]


@pytest.mark.parametrize("values", [[], [np.nan, np.nan]])
@pytest.mark.parametrize("method", ["stddev", "quantile"])
def test_class_edges_of_nothing(tmp_path, values, method):
    p = tmp_path / "w.yaml"
    p.write_text(f"classification:\n  method: {method}\n")
    edges = class_edges(pd.Series(values, dtype=float), None, load_config(p))
    assert edges.shape == (4,) and np.isnan(edges).all()
    # Nothing to compare with: every score is average, a missing one stays missing.
    got = classify(pd.Series([1.0, np.nan, 30.0]), edges)
    assert got.iloc[0] == 3 and got.iloc[2] == 3 and pd.isna(got.iloc[1])


def test_class_edges_when_every_weight_is_zero():
    # Areas that all have 0 dwellings: nothing to compare with, not a division by zero.
    edges = class_edges(pd.Series([3.0, 7.0]), pd.Series([0.0, 0.0]), load_config())
    assert np.isnan(edges).all()


def test_class_edges_skip_missing_and_zero_weights():
    cfg = load_config()
    values = pd.Series([6.0, 14.0, np.nan, 100.0, 50.0, 6.0, 14.0])
    weights = pd.Series([1.0, 1.0, 1.0, 0.0, np.nan, 1.0, 1.0])
    # Only 6, 14, 6, 14 count: mean 10, standard deviation 4.
    assert class_edges(values, weights, cfg) == pytest.approx([4, 8, 12, 16])


def test_weighted_quintiles_by_hand(tmp_path):
    p = tmp_path / "w.yaml"
    p.write_text("classification:\n  method: quantile\n")
    cfg = load_config(p)
    # Weights 4, 1, 1, 4 out of 10: cumulative shares 0.4, 0.5, 0.6, 1.0. The first value
    # whose share reaches 0.2, 0.4, 0.6, 0.8.
    edges = class_edges(pd.Series([3.0, 1.0, 2.0, 4.0]), pd.Series([1.0, 4.0, 1.0, 4.0]), cfg)
    assert edges.tolist() == [1, 1, 3, 4]
    # 4 cut points 0.2 .. 0.8 of 5 equally weighted values: the 1st, 2nd, 3rd, 4th value.
    edges = class_edges(pd.Series([50.0, 10.0, 40.0, 20.0, 30.0]), None, cfg)
    assert edges.tolist() == [10, 20, 30, 40]


def test_class_labels():
    assert CLASS_LABELS_NL == {
        1: "Sterk beneden gemiddeld",
        2: "Beneden gemiddeld",
        3: "Gemiddeld",
        4: "Boven gemiddeld",
        5: "Sterk boven gemiddeld",
    }
    assert CLASS_LABELS_EN == {
        1: "Strongly below average",
        2: "Below average",
        3: "Average",
        4: "Above average",
        5: "Strongly above average",
    }


def test_band_sensitivity_clamps_the_best_case_at_zero_metres(tmp_path):
    # A band for an amenity in the building itself (0.5 m), tolerance 0.4 m: a walk of
    # 0.3 m is 0 m at best (3 pts, not -0.1 m) and 0.7 m at worst (2 pts).
    p = tmp_path / "w.yaml"
    p.write_text(
        "bands:\n  - {max_m: 0.5, points: 3}\n  - {max_m: 250, points: 2}\n"
        "  - {max_m: 500, points: 1}\nsensitivity: {band_tolerance_m: 0.4}\n"
    )
    cfg = load_config(p)
    d = pd.DataFrame(np.inf, index=[0], columns=[f"dist_{i}" for i in INDICATOR_IDS])
    d["dist_gp"] = 0.3
    edges = np.array([2.0, 4, 6, 8])
    out = band_sensitivity(d, pd.Series(3.0, index=d.index), cfg, class_edges=edges)
    assert out["n_near_edge"].tolist() == [1]
    assert out.loc[0, "score_max"] - out.loc[0, "score_min"] == pytest.approx(cfg.weights["gp"])
