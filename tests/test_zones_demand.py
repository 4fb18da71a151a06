"""Demand-weighted woonzorgzones: residents 65+ per cell, classes where they live, suppression."""

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import pytest
from shapely import Point, box

from thuisdichtbij import load_config
from thuisdichtbij.analyses.zones import demand_grid, find_zones
from thuisdichtbij.apps.cli import main

from ._synthetic import lonlat, scan_with_zones
from .test_demand import write_cbs


def _grid():
    """Four 100 m cells in a row, 10 dwellings each, mean scores 2, 4, 6, 8."""
    return gpd.GeoDataFrame(
        {
            "cell_id": ["A", "B", "C", "D"],
            "n_dwellings": [10, 10, 10, 10],
            "score_mean": [2.0, 4.0, 6.0, 8.0],
            "suppressed": False,
        },
        geometry=[box(i * 100, 0, i * 100 + 100, 100) for i in range(4)],
        crs="EPSG:28992",
    )


def _residents():
    # B: 4 + 6 and one masked PC6; C: 10; one point beyond the grid.
    xy = [(150, 50), (160, 50), (170, 50), (250, 50), (950, 50)]
    return gpd.GeoDataFrame(
        {"residents_65plus": [4.0, 6.0, np.nan, 10.0, 50.0]},
        geometry=[Point(p) for p in xy],
        crs="EPSG:28992",
    )


def test_demand_grid_by_hand():
    cells = demand_grid(_grid(), _residents(), load_config())
    assert cells["residents_65plus"].tolist() == [0, 10, 10, 0]
    assert cells["pc6_unknown"].tolist() == [0, 1, 0, 0]
    assert cells.attrs["points_outside_grid"] == 1
    # Weighted by residents only B and C count: mean 5, sd 1, edges 3.5/4.5/5.5/6.5.
    assert cells.attrs["class_edges"] == [3.5, 4.5, 5.5, 6.5]
    assert cells["score_class"].tolist() == [1, 2, 4, 5]
    # (By dwellings: mean 5, sd 2.236, edges 1.65/3.88/6.12/8.35, classes 2, 3, 3, 4.)


@pytest.mark.parametrize(("least", "found"), [(10, 1), (10.5, 0)])
def test_demand_zones_need_older_residents(least, found):
    cells = demand_grid(_grid(), _residents(), load_config())
    cfg = load_config(overrides={"zones": {"min_cells": 1}}).zones
    zones = find_zones(
        cells, cfg, cell_m=100, weight="residents_65plus", min_weight=least
    )  # C and D are class 4+, one zone of 10 residents (C: 10, D: 0)
    assert len(zones) == found
    if found:
        assert zones.loc[0, ["n_cells", "n_dwellings", "residents_65plus"]].tolist() == [2, 20, 10]
        assert zones.geometry[0].equals(box(200, 0, 400, 100))


def test_cli_demand_zones_suppressed_and_compared(tmp_path, capsys):
    scan = scan_with_zones(tmp_path)
    points = pd.DataFrame(
        {
            "Zip": ["1111AA", "2222BB", "3333CC"],
            "Lat": [lonlat(100, 10)[1], lonlat(500, 300)[1], lonlat(900, 5)[1]],
            "Lon": [lonlat(100, 10)[0], lonlat(500, 300)[0], lonlat(900, 5)[0]],
        }
    )
    points.to_csv(tmp_path / "pc6.csv", index=False)
    cbs = write_cbs(
        tmp_path / "cbs.csv",
        [("1111AA", "60", "30", "10"), ("2222BB", "10", "3", "3"), ("3333CC", "10", "", "4")],
    )
    args = ["zones", str(scan), "--demand", str(cbs), "--points", str(tmp_path / "pc6.csv")]
    assert main(args) == 0
    # D1's cell (10 dwellings, 30 residents 65+) touches D4's (2 dwellings): one zone of 30;
    # D2's cell has 3 and D3's is masked: below zones.min_residents_65plus (25).
    z = pyogrio.read_dataframe(scan, layer="zones_demand")
    assert z[["n_cells", "n_dwellings", "residents_65plus"]].values.tolist() == [[2, 12, 30]]
    g = pyogrio.read_dataframe(scan, layer="demand_grid").set_index("cell_id")
    shown = g["residents_65plus"].dropna()
    assert shown.to_dict() == {"E1761N3180": 30.0}  # no count under 5 leaves the file
    assert g["n_dwellings"].dropna().min() >= 5
    assert len(pyogrio.read_dataframe(scan, layer="zones")) == 3  # today's zones stay
    capsys.readouterr()
    compare = ["compare-zones", str(scan), "--layer", "zones_demand", "--reference", str(scan)]
    compare += ["--reference-layer", "zones", "--reference-name-field", "name"]
    assert main(compare) == 0
    assert "zone_comparison" in capsys.readouterr().out
