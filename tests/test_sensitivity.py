"""Band-edge sensitivity: worked out by hand on a table and on the small study."""

import json

import numpy as np
import pandas as pd
import pytest

from thuisdichtbij import load_config, scan
from thuisdichtbij.config import INDICATOR_IDS
from thuisdichtbij.engine.score import band_sensitivity
from thuisdichtbij.errors import ConfigError

from ._synthetic import write_study


def _distances(rows):
    frame = pd.DataFrame(
        np.inf, index=range(len(rows)), columns=[f"dist_{i}" for i in INDICATOR_IDS]
    )
    for k, row in enumerate(rows):
        if row is None:
            frame.loc[k] = np.nan
        else:
            for ind, d in row.items():
                frame.loc[k, f"dist_{ind}"] = d
    return frame


def test_band_sensitivity_by_hand():
    cfg = load_config()  # bands 250/500 m, tolerance 25 m
    d = _distances(
        [
            {"pharmacy": 250.0},  # A: on the edge: 275 m -> 1 pt, 225 m -> 2 pts
            {"gp": 275.0},  # B: 250 m at best (2 pts), 300 m at worst (1 pt)
            {"gp": 275.5},  # C: 250.5 m at best: still 1 pt
            None,  # D: not snapped
            {"supermarket": 520.0},  # E: beyond the bands, 495 m at best: 1 pt
            {"culture": 500.0},  # F: 0.5 x (0 or 1)
        ]
    )
    safety = pd.Series(3.0, index=d.index)  # 3 x 0.5 = 1.5 for everyone
    out = band_sensitivity(d, safety, cfg, class_edges=np.array([2.0, 4.0, 6.0, 8.0]))
    assert out["n_near_edge"].tolist()[:3] == [1, 1, 0]
    assert out["n_near_edge"].tolist()[4:] == [1, 1]
    assert out["score_min"].tolist()[:3] == [2.5, 3.5, 3.5]
    assert out["score_max"].tolist()[:3] == [3.5, 5.5, 3.5]
    assert out.loc[4, ["score_min", "score_max"]].tolist() == [1.5, 4.5]
    assert out.loc[5, ["score_min", "score_max"]].tolist() == [1.5, 2.0]
    # Edges 2/4/6/8, a value on an edge in the lower class.
    assert out["class_min"].tolist()[:3] == [2, 2, 2]
    assert out["class_max"].tolist()[:3] == [2, 3, 2]
    assert out.loc[4, ["class_min", "class_max"]].tolist() == [1, 3]
    assert out.loc[5, ["class_min", "class_max"]].tolist() == [1, 1]
    assert out["class_robust"].tolist() == [True, False, True, pd.NA, False, True]
    assert out.loc[3].isna().all()


def test_tolerance_is_validated(tmp_path):
    p = tmp_path / "w.yaml"
    p.write_text("sensitivity: {band_tolerance_m: 250}\n")
    with pytest.raises(ConfigError, match="band_tolerance_m.*250"):
        load_config(p)
    p.write_text("sensitivity: {band_tolerance_m: -1}\n")
    with pytest.raises(ConfigError, match="band_tolerance_m"):
        load_config(p)


@pytest.mark.parametrize(("tol", "near"), [(25.0, 2), (10.01, 2), (9.99, 0)])
def test_scan_columns_by_hand(tmp_path, tol, near):
    study = write_study(tmp_path)
    cfg = load_config(overrides={"sensitivity": {"band_tolerance_m": tol}})
    result = scan(study, data_dir=tmp_path, config=cfg)
    d = result.dwellings.set_index("dwelling_id")
    # D1 at (100, 10): pharmacy 260 m (1 pt, 2 within 250 m) and drugstore 510 m (0 pts,
    # 1 within 500 m); the drugstore stays out of dist_drugstore (beyond the bands).
    assert np.isinf(d.loc["D1", "dist_drugstore"])
    assert d.loc["D1", "n_near_edge"] == near
    assert d.loc["D1", "score_min"] == pytest.approx(9.5)
    assert d.loc["D1", "score_max"] == pytest.approx(9.5 + (1 + 1 if near else 0))
    # D2..D4 have no walk within 25 m of an edge (450, 400, 300, 305, 295 m ...).
    assert d.loc[["D2", "D3", "D4"], "n_near_edge"].tolist() == [0, 0, 0]
    assert (d.loc[["D2", "D3", "D4"], "score_min"] == d.loc[["D2", "D3", "D4"], "score"]).all()
    assert pd.isna(d.loc["D5", "n_near_edge"]) and pd.isna(d.loc["D5", "class_robust"])
    edges = np.array(json.loads(result.metadata["class_edges_dwellings"]))
    expected_max = int((edges < d.loc["D1", "score_max"] - 1e-6).sum()) + 1
    assert d.loc["D1", "class_max"] == expected_max
    assert d.loc["D1", "class_robust"] == (expected_max == d.loc["D1", "score_class"])
    # Areas: the dwelling-weighted share of dwellings whose class could change.
    a = result.areas.set_index("area_id")
    w = d["weight"].where(d["score"].notna())
    for area, group in d.groupby("area_id"):
        gw = w[group.index]
        share = (gw * (~group["class_robust"].astype(bool))).sum() / gw.sum()
        assert a.loc[area, "share_not_robust"] == pytest.approx(share)
    assert "share_not_robust" in result.grid.columns
    assert result.metadata["band_tolerance_m"] == f"{tol:g}"


def test_check_names_walks_near_an_edge(tmp_path):
    from shapely import Point

    from thuisdichtbij.analyses.check import check, load_check
    from thuisdichtbij.apps._check_text import check_text

    from ._synthetic import at

    study = write_study(tmp_path)
    out = scan(study, data_dir=tmp_path).to_gpkg(tmp_path / "scan.gpkg")
    ctx = load_check(out)
    r = check(ctx, Point(at(100, 10)), reach=False)  # where D1 stands
    b = r["band_edges"]
    near = {m["indicator"]: (m["distance_m"], m["edge_m"], m["gap_m"]) for m in b["near"]}
    # Pharmacy 260 m (10 m past 250), drugstore 510 m (10 m past 500); see the scan test.
    assert near == {"pharmacy": (260.0, 250.0, 10.0), "drugstore": (510.0, 500.0, 10.0)}
    assert (b["score_min"], b["score_max"]) == (9.5, 11.5)
    text = check_text(r, "nl")
    assert "ligt op 260 m: binnen 10 m van de 250 m-grens" in text
    assert "Binnen 25 m karteerfout: score 9,5 tot 11,5" in text
