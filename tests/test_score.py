"""Points, safety, classes: small cases worked out by hand."""

import numpy as np
import pandas as pd
import pytest

from thuisdichtbij import load_config
from thuisdichtbij.engine.score import band_points, class_edges, classify, safety_points


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


def test_all_equal_scores_are_average():
    cfg = load_config()
    edges = class_edges(pd.Series([5.0, 5.0, 5.0]), None, cfg)
    assert classify(pd.Series([5.0, 5.0]), edges).tolist() == [3, 3]
