"""Dwelling scores per area and per grid cell, worked out by hand."""

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from shapely import Point, box

from thuisdichtbij import load_config
from thuisdichtbij.engine.aggregate import (
    aggregate,
    assign_areas,
    cell_ids,
    score_grid,
    select_areas,
    square_cells,
)

RD = "EPSG:28992"


def areas(*boxes, ids=None):
    ids = ids or [f"A{i}" for i in range(len(boxes))]
    return gpd.GeoDataFrame({"area_id": ids}, geometry=[box(*b) for b in boxes], crs=RD)


def points(*xy):
    return gpd.GeoDataFrame(geometry=[Point(p) for p in xy], crs=RD)


def test_assign_areas_border_goes_to_the_first_listed():
    # Two squares sharing the border x=100; a point on it, one in each, one outside.
    pts = points((100, 50), (50, 50), (150, 50), (500, 500), (100, 100))
    left_first = areas((0, 0, 100, 100), (100, 0, 200, 100), ids=["L", "R"])
    got = assign_areas(pts, left_first)
    assert got.iloc[:3].tolist() == ["L", "L", "R"] and pd.isna(got.iloc[3])
    assert got.iloc[4] == "L"
    right_first = left_first.iloc[::-1].reset_index(drop=True)
    got = assign_areas(pts, right_first)
    assert got.iloc[:3].tolist() == ["R", "L", "R"] and got.iloc[4] == "R"
    assert str(got.dtype) == "string"


def test_assign_areas_keeps_the_points_index():
    pts = points((50, 50), (150, 50)).set_index(pd.Index([7, 3]))
    got = assign_areas(pts, areas((0, 0, 100, 100), (100, 0, 200, 100)))
    assert got.index.tolist() == [7, 3] and got.tolist() == ["A0", "A1"]


def dwellings(rows):
    return pd.DataFrame(rows, columns=["area_id", "weight", "score", "x"])


def test_weighted_means_counts_and_suppression():
    cfg = load_config()  # min_dwellings 5
    d = dwellings(
        [
            ("A", 1, 10.0, 1.0),
            ("A", 3, 2.0, 5.0),
            ("A", 2, np.nan, 100.0),  # not scored: left out
            ("A", np.nan, 30.0, 100.0),  # unknown weight: left out
            ("B", 2, 4.0, 0.0),  # 2 dwellings: suppressed
            (pd.NA, 9, 30.0, 100.0),  # outside every area: left out
            ("C", 1.4, np.nan, 1.0),  # C has no scored dwelling
            ("D", 2.5, 8.0, 2.0),  # counts are rounded: 2.5 + 2.6 = 5.1 -> 5
            ("D", 2.6, 19.0, 4.0),
            ("F", np.nan, 12.0, 1.0),  # F's only scored point has an unknown weight
        ]
    )
    zones = areas(*[(i * 100, 0, i * 100 + 100, 100) for i in range(6)], ids=list("ABCDEF"))
    out = aggregate(d, zones, cfg, columns=["x"]).set_index("area_id")
    # F's count is unknown, not 0; E has no dwellings at all.
    assert out["n_dwellings"].iloc[:5].tolist() == [4, 2, 0, 5, 0]
    assert pd.isna(out.loc["F", "n_dwellings"]) and str(out["n_dwellings"].dtype) == "Int64"
    assert out["suppressed"].tolist() == [True, True, True, False, True, True]
    # A has 4 dwellings (< 5): suppressed, its means emptied.
    assert out[["score_mean", "x"]].loc[["A", "B", "C", "E", "F"]].isna().all().all()
    # D: (2.5 x 8 + 2.6 x 19) / 5.1 and (2.5 x 2 + 2.6 x 4) / 5.1
    assert out.loc["D", "score_mean"] == pytest.approx((20 + 49.4) / 5.1)
    assert out.loc["D", "x"] == pytest.approx((5 + 10.4) / 5.1)
    assert out.geometry.iloc[3].equals(box(300, 0, 400, 100))


def test_means_without_suppression(tmp_path):
    p = tmp_path / "w.yaml"
    p.write_text("aggregation:\n  min_dwellings: 1\n")
    cfg = load_config(p)
    d = dwellings([("A", 1, 10.0, 1.0), ("A", 3, 2.0, 5.0), ("B", 1, 7.0, 0.0)])
    out = aggregate(
        d, areas((0, 0, 1, 1), (1, 0, 2, 1), (2, 0, 3, 1), ids=["A", "B", "C"]), cfg, columns=["x"]
    )
    # A: (10 + 6) / 4 = 4 and (1 + 15) / 4 = 4; B: 7, 0; C: no dwellings, suppressed.
    assert out["score_mean"].iloc[:2].tolist() == [4.0, 7.0]
    assert out["x"].iloc[:2].tolist() == [4.0, 0.0]
    assert out["n_dwellings"].tolist() == [4, 1, 0]
    assert out["suppressed"].tolist() == [False, False, True]
    assert np.isnan(out["score_mean"].iloc[2])


def test_a_column_is_averaged_over_the_dwellings_that_have_it(tmp_path):
    # safety points are empty where the Leefbaarometer has no figure: such a dwelling
    # counts in the score's mean, not in that column's, and no value is no value, not 0
    p = tmp_path / "w.yaml"
    p.write_text("aggregation:\n  min_dwellings: 1\n")
    cfg = load_config(p)
    d = dwellings(
        [
            ("A", 1, 10.0, 4.0),
            ("A", 3, 2.0, np.nan),  # scored, no x
            ("B", 2, 6.0, np.nan),  # B: no dwelling has x
        ]
    )
    out = aggregate(d, areas((0, 0, 1, 1), (1, 0, 2, 1), ids=["A", "B"]), cfg, columns=["x"])
    # A: score (10 + 6) / 4 = 4 over all 4 dwellings; x: 4 over the 1 that has it (not 1)
    assert out["score_mean"].tolist() == [4.0, 6.0]
    assert out["n_dwellings"].tolist() == [4, 2]
    assert out["x"].iloc[0] == 4.0
    assert np.isnan(out["x"].iloc[1])


def test_select_areas_exact_minimum_share():
    # The study area covers x 50..250: A0 exactly half inside, A1 fully, A2 0.49 inside,
    # A3 touches nothing.
    zones = areas((0, 0, 100, 100), (100, 0, 200, 100), (201, 0, 301, 100), (400, 0, 500, 100))
    study = gpd.GeoDataFrame(geometry=[box(50, -10, 250, 110)], crs=RD)
    got = select_areas(zones, study_area=study, dwellings=points())  # by default half
    assert got["area_id"].tolist() == ["A0", "A1"]
    assert got.index.tolist() == [0, 1] and got.columns.tolist() == ["area_id", "geometry"]
    got = select_areas(zones, study_area=study, dwellings=points(), min_share=0.49)
    assert got["area_id"].tolist() == ["A0", "A1", "A2"]
    got = select_areas(zones, study_area=study, dwellings=points(), min_share=0.5001)
    assert got["area_id"].tolist() == ["A1"]


def test_select_areas_without_a_study_area_takes_areas_with_dwellings():
    zones = areas((0, 0, 100, 100), (100, 0, 200, 100), (200, 0, 300, 100))
    got = select_areas(zones, study_area=None, dwellings=points((250, 50), (260, 10), (999, 0)))
    assert got["area_id"].tolist() == ["A2"] and got.index.tolist() == [0]
    assert got.columns.tolist() == ["area_id", "geometry"]


def test_cell_ids_and_square_cells():
    xy = np.array([[176050.0, 318050.0], [176550.0, 318499.9], [176499.9, 318500.0]])
    assert cell_ids(xy, 100) == ["E1760N3180", "E1765N3184", "E1764N3185"]
    assert cell_ids(xy, 500) == ["E1760N3180", "E1765N3180", "E1760N3185"]
    pts = gpd.GeoDataFrame(geometry=[Point(p) for p in [*xy, (176010, 318020)]], crs=RD)
    cells = square_cells(pts, size_m=500)
    assert cells["area_id"].tolist() == ["E1760N3180", "E1760N3185", "E1765N3180"]
    assert cells.geometry.iloc[1].equals(box(176000, 318500, 176500, 319000))
    assert cells.crs == RD


def test_score_grid_by_hand(tmp_path):
    p = tmp_path / "w.yaml"
    p.write_text("aggregation:\n  min_dwellings: 2\n  grid_cell_m: 100\n")
    cfg = load_config(p)
    dw = gpd.GeoDataFrame(
        {"weight": [1.0, 3.0, 1.0, 5.0], "score": [10.0, 2.0, 9.0, np.nan]},
        geometry=[Point(10, 10), Point(90, 90), Point(150, 50), Point(250, 50)],
        crs=RD,
    )
    grid = score_grid(dw, cfg).set_index("cell_id")
    # The second cell has one dwelling (< 2); the unscored dwelling's cell is there too,
    # with no scored dwelling and no mean (the caller marks it by its unscored share)
    assert grid.index.tolist() == ["E0000N0000", "E0001N0000", "E0002N0000"]
    assert grid["n_dwellings"].tolist() == [4, 1, 0]
    assert grid.loc["E0000N0000", "score_mean"] == 4.0
    assert grid["suppressed"].tolist() == [False, True, True]
    assert grid.loc[["E0001N0000", "E0002N0000"], "score_mean"].isna().all()
