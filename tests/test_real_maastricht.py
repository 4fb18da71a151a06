"""Real data: the municipality of Maastricht from the offline mirror.

Expected values come from the source files themselves, read here with the csv module,
pyproj and shapely, not from the package's readers.
"""

import csv

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import pytest
import shapely
from pyproj import Transformer

from thuisdichtbij import scan
from thuisdichtbij.sources.cbs import read_cbs_pc6
from thuisdichtbij.sources.gtfs import read_gtfs_stops
from thuisdichtbij.sources.leefbaarometer import read_leefbaarometer

from ._reference import method_classes, method_scores


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


def csv_rows(path, **kw):
    with open(path, encoding="utf-8-sig", newline="") as f:
        return list(csv.reader(f, **kw))


def test_gtfs_stops(data_dir):
    path = data_dir / "maastricht" / "gtfs-stops.csv"
    stops = read_gtfs_stops(path)
    rows = csv_rows(path)
    lt = rows[0].index("location_type")
    boarding = [r for r in rows[1:] if r[lt] in ("", "0")]
    assert len(rows) - 1 > len(boarding) > 300  # the file has stations too
    assert len(stops) == len(boarding)
    assert stops["stop_id"].tolist() == [r[0] for r in boarding]
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
    rows = csv_rows(data_dir / "nl" / "leefbaarometer3-pc4-2002-2022.csv")
    onv = rows[0].index("onv")
    assert len(lbm) == len({r[0] for r in rows[1:] if r[onv] != "NA"})


def expected_dwellings(data_dir):
    """(postcode, weight) of the PC6 points in Maastricht, from the files by hand.

    The weight is the CBS 'Home, Total' count; points standing for 0 dwellings are left
    out; a postcode the CBS table lacks (or masks) has weight None.
    """
    rows = csv_rows(data_dir / "maastricht" / "cbs-pc6-2021.csv", delimiter=";")
    col = rows[0].index("Home")
    assert rows[2][0] == "Zip code-6" and rows[2][col] == "Total"
    cbs = {r[0]: r[col] for r in rows[3:] if r and r[0]}
    gem = gpd.read_file(data_dir / "nl" / "cbs-gemeenten-2025.gpkg")
    city = gem[gem["gemeente"] == "Maastricht"].to_crs(28992).union_all()
    to_rd = Transformer.from_crs(4326, 28992, always_xy=True)
    out = []
    points = csv_rows(data_dir / "maastricht" / "pc6-centroids.csv")
    for r in (dict(zip(points[0], row)) for row in points[1:]):
        value = cbs.get(r["Zip"], "")
        weight = int(value) if value.isdigit() else None
        if weight != 0 and city.intersects(shapely.Point(to_rd.transform(r["Lon"], r["Lat"]))):
            out.append((r["Zip"], weight))
    return out


def test_dwellings_weighted_by_cbs(maastricht, data_dir):
    dw = maastricht.dwellings
    expected = expected_dwellings(data_dir)
    assert dw["dwelling_id"].tolist() == [pc for pc, _ in expected]
    assert dw["weight"].isna().sum() == sum(w is None for _, w in expected) == 1
    assert dw["weight"].sum() == sum(w for _, w in expected if w is not None) == 62435
    assert dw.set_index("dwelling_id").loc["6211AL", "weight"] == 245


def test_snapped_scores_and_classes_by_the_method(maastricht):
    dw = maastricht.dwellings
    # Snapped: within 250 m of the network, measured here by shapely on the whole network.
    streets = shapely.union_all(maastricht.network.edge_geometry)
    near = shapely.dwithin(dw.geometry.to_numpy(), streets, 250)
    assert dw["snapped"].tolist() == near.tolist()
    assert near.sum() == len(dw) - 24  # 24 PC6 points lie in fields and woods
    scored = dw["score"].notna()
    assert scored.tolist() == near.tolist()
    assert dw["score"].to_numpy() == pytest.approx(method_scores(dw), nan_ok=True, rel=1e-12)
    expected = method_classes(dw["score"], dw["weight"])
    assert dw.loc[scored, "score_class"].tolist() == expected[scored.to_numpy()].tolist()
    assert dw.loc[~scored, "score_class"].isna().all()


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
    # Every snapped dwelling with a known weight lies in one of the areas: all are counted.
    dw = maastricht.dwellings
    assert areas["n_dwellings"].sum() == dw.loc[dw["snapped"], "weight"].sum()


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


def test_console_summary_gives_the_mean_per_dwelling(maastricht):
    """Points stand for their CBS dwellings: the summary's mean weighs them as the classes
    and the areas' means do, not one per point."""
    from thuisdichtbij.apps.commands.scan import _summary

    text = _summary(maastricht, "m.gpkg", 1.0, "en")
    dw = maastricht.dwellings[maastricht.dwellings["snapped"]]
    ok = dw["score"].notna() & dw["weight"].notna()
    by_hand = (dw["score"][ok] * dw["weight"][ok]).sum() / dw["weight"][ok].sum()
    assert abs(by_hand - dw["score"].mean()) > 0.05  # the two differ here
    assert f"score: mean {by_hand:.2f} per dwelling (of 30.5)" in text


def test_grid_cells_of_unscored_dwellings_say_so(maastricht):
    """Borgharen's 24 PC6 points lie beyond the snap limit of any street: their cells are on
    the grid as 'onvoldoende gegevens', not left out as if no one lived there."""
    dw, grid = maastricht.dwellings, maastricht.grid
    lost = dw[~dw["snapped"]]
    assert len(lost) == 24
    x, y = lost.geometry.x // 100 * 100, lost.geometry.y // 100 * 100
    ids = {f"E{int(a // 100):04d}N{int(b // 100):04d}" for a, b in zip(x, y)}
    cells = grid.set_index("cell_id").loc[sorted(ids)]
    assert (cells["unscored_share"] > 0).all()
    alone = cells[cells["unscored_share"] == 1]
    assert len(alone) >= 1 and (alone["data_status"] == "onvoldoende gegevens").all()
    assert alone["score_mean"].isna().all() and alone["score_class"].isna().all()
