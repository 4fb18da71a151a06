"""Real data: the municipality of Maastricht from the offline mirror."""

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import pytest

from thuisdichtbij import scan
from thuisdichtbij.sources.cbs import read_cbs_pc6
from thuisdichtbij.sources.gtfs import read_gtfs_stops
from thuisdichtbij.sources.leefbaarometer import read_leefbaarometer


@pytest.fixture(scope="module")
def maastricht(data_dir):
    return scan("maastricht", data_dir=data_dir)


def test_cbs_pc6_table_parsed_as_published(data_dir):
    cbs = read_cbs_pc6(data_dir / "maastricht" / "cbs-pc6-2021.csv")
    assert len(cbs) == 2780  # 2,790 data rows less the totals row and 9 blank lines
    assert cbs.index.str.fullmatch(r"\d{4}[A-Z]{2}").all()
    row = cbs.loc["6211AL"]
    assert (row["inhabitants"], row["age_65plus"], row["dwellings"]) == (225, 10, 245)
    assert cbs["dwellings"].sum() == 62435


def test_gtfs_stops(data_dir):
    stops = read_gtfs_stops(data_dir / "maastricht" / "gtfs-stops.csv")
    assert len(stops) > 300
    assert stops.crs.to_epsg() == 4326
    assert stops["stop_id"].is_unique


def test_leefbaarometer_levels(data_dir):
    lbm = read_leefbaarometer(
        data_dir / "nl" / "leefbaarometer3-pc4-2002-2022.csv",
        dimension="onv",
        year=2022,
        base_year=2014,
    )
    assert lbm.loc["6211", "level"] == pytest.approx(-0.077062, abs=1e-6)
    assert lbm.loc["6211", "base"] == pytest.approx(-0.168649, abs=1e-6)
    assert len(lbm) > 4000


def test_dwellings_weighted_by_cbs(maastricht):
    dw = maastricht.dwellings
    assert 2500 < len(dw) < 2790
    total = dw["weight"].sum()
    assert 60000 < total <= 62435
    assert dw.set_index("dwelling_id").loc["6211AL", "weight"] == 245


def test_scores_in_range_and_all_classes(maastricht):
    scored = maastricht.dwellings[maastricht.dwellings["snapped"]]
    assert len(scored) / len(maastricht.dwellings) > 0.97
    assert scored["score"].between(0, 30.5).all()
    assert set(scored["score_class"].unique()) == {1, 2, 3, 4, 5}
    assert scored["safety_pts"].between(1, 5).all()


def test_areas_cover_maastricht(maastricht, data_dir):
    gem = gpd.read_file(data_dir / "nl" / "cbs-gemeenten-2025.gpkg")
    city = gem[gem["gemeente"] == "Maastricht"].union_all()
    areas = maastricht.areas
    assert areas["area_id"].str.startswith("62").all()
    covered = areas.union_all().intersection(city).area / city.area
    assert covered > 0.95
    # and no area lies mostly outside the municipality
    share = areas.intersection(city).area / areas.area
    assert (share >= 0.5).all()
    assert areas["score_mean"].notna().all()
    # a class everywhere, except where too many dwellings could not be scored
    ok = areas["data_status"] == "ok"
    assert areas.loc[ok, "score_class"].notna().all()
    assert areas.loc[~ok, "score_class"].isna().all()
    assert areas["n_dwellings"].sum() == pytest.approx(
        maastricht.dwellings.loc[maastricht.dwellings["snapped"], "weight"].sum(), abs=1
    )


def test_geopackage(maastricht, tmp_path):
    out = maastricht.to_gpkg(tmp_path / "maastricht.gpkg")
    layers = dict(pyogrio.list_layers(out))
    assert set(layers) == {
        "dwellings",
        "areas",
        "amenities",
        "network",
        "grid",
        "safety_areas",
        "audit",
        "layer_styles",
        "run_metadata",
    }
    assert layers["network"] == "LineString"
    areas = pyogrio.read_dataframe(out, layer="areas")
    assert len(areas) == len(maastricht.areas)
    grid = pyogrio.read_dataframe(out, layer="grid")
    assert {"cell_id", "score_mean", "score_class", "n_dwellings", "suppressed"} <= set(
        grid.columns
    )
    x0, y0, _, _ = grid.geometry.bounds.min()
    assert x0 % 100 == 0 and y0 % 100 == 0
    assert areas.crs.to_epsg() == 28992
    dw = pyogrio.read_dataframe(out, layer="dwellings")
    assert np.isfinite(dw["dist_bus_stop"].dropna()).all()


def test_audit_says_what_the_input_lacks(maastricht, tmp_path):
    # The mirror holds 0 physiotherapists, 3 GPs and 7 pharmacies for ~62,000 dwellings
    # (data README); the national references are 14.6, 6.2 and 2.4 per 10,000 dwellings.
    audit = maastricht.audit.set_index("item")
    assert audit.loc["physio", "verdict"] == "ontbreekt"
    assert audit.loc["physio", "n_amenities"] == 0
    assert audit.loc["gp", "verdict"] == "dun"
    assert audit.loc["gp", "n_amenities"] == 3
    assert audit.loc["pharmacy", "verdict"] == "dun"
    assert audit.loc["supermarket", "verdict"] == "ok"
    # no footway/path edges at all; the steps are a few hundred metres of ~650 km
    assert audit.loc["footpath_share", "verdict"] == "ontbreekt"
    assert audit.loc["footpath_share", "value"] < 0.01
    # Borgharen has no streets: a third of PC4 6223 lies beyond the snap limit
    areas = maastricht.areas.set_index("area_id")
    assert areas.loc["6223", "data_status"] == "onvoldoende gegevens"
    assert 0.2 < areas.loc["6223", "unscored_share"] < 0.5
    assert pd.isna(areas.loc["6223", "score_class"])
    md = maastricht.metadata
    assert md["audit_missing"] == "physio"
    assert set(md["audit_thin"].split(", ")) >= {"gp", "pharmacy"}
    assert md["audit_footpaths"] == "ontbreekt"
