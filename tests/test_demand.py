"""Demand: residents aged 65+ per area class; the CBS PC6 table parsed as published."""

import csv

import numpy as np
import pandas as pd
import pyogrio
import pytest

from thuisdichtbij import InputError, scan
from thuisdichtbij.analyses.demand import demand
from thuisdichtbij.apps.cli import main
from thuisdichtbij.sources.cbs import read_cbs_pc6

from ._synthetic import lonlat, write_study

HEADER = (
    "\ufeff;Inhabitants;;;;;;;;;;;;;Households;;;;;;Home;;;;;;;;;;;;;;;Social Security\n"
    ";Total;Sex;;Age classes;;;;;Origin;;;;;Total;Compound;;;;Size;Total;Construction period;"
    ";;;;;;;Type;;Property;;In use;Value;Total benefits\n"
    "Zip code-6;Total;man;Woman;up to 15 years;15 to 25 years;25 to 45 years;45 to 65 years;"
    "65 years and older;a;b;c;d;e;Total;single;f;g;h;Household size;Total;before 1945;i;j;k;l;"
    "m;n;2015 and later;Multifamily;o;p;q;Not inhabited;WOZ value home;Persons\n"
)


def cbs_row(pc6, inhabitants, old, dwellings):
    cells = [""] * 36
    cells[0], cells[1], cells[8], cells[20] = pc6, inhabitants, old, dwellings
    return ";".join(cells) + "\n"


def write_cbs(path, rows):
    path.write_text(HEADER + "".join(cbs_row(*r) for r in rows) + ";999;;;;\n" + ";" * 35 + "\n")
    return path


def test_cbs_real_file_sums_equal_the_file(data_dir):
    path = data_dir / "maastricht" / "cbs-pc6-2021.csv"
    cbs = read_cbs_pc6(path)
    # sums straight from the file, with the csv module
    with open(path, encoding="utf-8-sig") as f:
        rows = list(csv.reader(f, delimiter=";"))[3:]
    rows = [r for r in rows if r[0].strip()]

    def total(col):
        return sum(float(r[col].replace(",", ".")) for r in rows if r[col].strip())

    assert cbs["inhabitants"].sum() == total(1)
    assert cbs["age_65plus"].sum() == total(8)
    assert cbs["dwellings"].sum() == total(20)
    # masked cells (empty) are unknown, not zero
    empty_65 = sum(1 for r in rows if not r[8].strip())
    assert cbs["age_65plus"].isna().sum() == empty_65
    assert cbs.attrs["masked"]["age_65plus"] == empty_65


def test_cbs_masked_values_are_unknown(tmp_path):
    p = write_cbs(
        tmp_path / "pc6.csv",
        [("6211AA", "100", "20", "50"), ("6211AB", "", "", "5"), ("6211AC", "15", "-99997", "10")],
    )
    cbs = read_cbs_pc6(p)
    assert cbs.loc["6211AA", "age_65plus"] == 20
    assert np.isnan(cbs.loc["6211AB", "age_65plus"]) and np.isnan(cbs.loc["6211AB", "inhabitants"])
    assert np.isnan(cbs.loc["6211AC", "age_65plus"])
    assert cbs.attrs["masked"]["age_65plus"] == 2
    assert len(cbs) == 3


@pytest.fixture()
def small_scan(tmp_path):
    study = write_study(tmp_path)
    out = scan(study, data_dir=tmp_path).to_gpkg(tmp_path / "scan.gpkg")
    # PC6 points: two in area 6211 (west), two in 6212 (east), one outside all areas
    pts = {
        "6211AA": (100, 10),
        "6211AB": (200, 10),
        "6212AA": (900, 5),
        "6212AB": (600, 300),
        "6299ZZ": (5000, 5000),
        "6212AC": (700, 10),  # in the points, not in the CBS table
    }
    with open(tmp_path / "pc6.csv", "w") as f:
        f.write("Zip,Lat,Lon\n")
        for pc6, (x, y) in pts.items():
            lon, lat = lonlat(x, y)
            f.write(f"{pc6},{lat},{lon}\n")
    write_cbs(
        tmp_path / "cbs.csv",
        [
            ("6211AA", "100", "30", "40"),
            ("6211AB", "50", "", "20"),  # masked 65+
            ("6212AA", "80", "25", "30"),
            ("6212AB", "60", "10", "25"),
            ("6299ZZ", "10", "5", "5"),
            ("6213XX", "40", "15", "10"),  # in the CBS table, no point
        ],
    )
    return out, tmp_path


def test_demand_by_hand(small_scan):
    out, folder = small_scan
    res = demand(out, folder / "cbs.csv", points=folder / "pc6.csv")
    areas = res.by_area.set_index("area_id")
    assert areas.loc["6211", "residents_65plus"] == 30  # 6211AB is masked: unknown, not 0
    assert areas.loc["6211", "pc6_unknown"] == 1
    assert areas.loc["6212", "residents_65plus"] == 35
    assert areas.loc["6212", "pc6_unknown"] == 1  # 6212AC has no CBS row
    # D5 in 6211 is not snapped, too large a share of the area to class it ('onvoldoende
    # gegevens'); 6212 is then the only classed area, so it is average (3) by definition.
    assert pd.isna(areas.loc["6211", "score_class"])
    assert areas.loc["6212", "score_class"] == 3
    by_class = res.by_class.set_index("score_class")
    assert by_class.loc["outside", "residents_65plus"] == 5
    assert by_class.loc["3", "residents_65plus"] == 35
    # 6211's residents are counted where the class is unknown for lack of data, not as
    # "suppressed" (too few dwellings): the scan suppressed nothing
    assert by_class.loc["onvoldoende gegevens", "residents_65plus"] == 30
    assert by_class.loc["suppressed", "residents_65plus"] == 0
    assert by_class.loc[["1", "2", "4", "5"], "residents_65plus"].sum() == 0
    assert by_class["residents_65plus"].sum() == 70
    assert res.metadata["cbs_pc6_without_point"].startswith("1 (15 residents 65+): 6213XX")
    assert res.metadata["pc6_points_not_in_cbs"] == "1: 6212AC"
    assert res.metadata["pc6_masked_65plus"] == "1"
    assert res.metadata["zones"] == "no zones layer in this scan"


def test_demand_summary_counts_what_the_table_counts(small_scan, capsys):
    out, folder = small_scan
    code = main(["demand", str(out), "--population", str(folder / "cbs.csv"),
                 "--points", str(folder / "pc6.csv"), "--lang", "en"])  # fmt: skip
    assert code == 0
    printed = capsys.readouterr().out
    # 6211AB masked, 6212AC not in the table: 2 unknown, as the table's pc6_unknown column
    table = pyogrio.read_dataframe(out, layer="demand_by_class")
    assert int(table["pc6_unknown"].sum()) == 2
    assert "PC6 with unknown 65+ (pc6_unknown): 2 (1 masked in the CBS table, 1 not in it)" in (
        printed
    )


def test_demand_needs_pc6_points_when_dwellings_are_not(small_scan):
    out, folder = small_scan
    with pytest.raises(InputError, match="are not PC6 points; give the PC6 points with --points"):
        demand(out, folder / "cbs.csv")


def test_demand_on_a_file_that_is_not_a_scan(tmp_path):
    import geopandas as gpd
    from shapely import Point

    p = tmp_path / "other.gpkg"
    gpd.GeoDataFrame({"a": [1]}, geometry=[Point(0, 0)], crs=28992).to_file(p, layer="things")
    write_cbs(tmp_path / "cbs.csv", [("6211AA", "1", "1", "1")])
    with pytest.raises(InputError, match="is not a thuisdichtbij scan: it has no layer dwellings"):
        demand(p, tmp_path / "cbs.csv")


def test_demand_maastricht_cli(data_dir, tmp_path, capsys):
    out = scan("maastricht", data_dir=data_dir).to_gpkg(tmp_path / "m.gpkg")
    code = main(
        [
            "demand",
            str(out),
            "--population",
            str(data_dir / "maastricht" / "cbs-pc6-2021.csv"),
            "--points",
            str(data_dir / "maastricht" / "pc6-centroids.csv"),
        ]
    )
    assert code == 0
    printed = capsys.readouterr().out
    assert "in gebieden van klasse 1-2:" in printed
    by_class = pyogrio.read_dataframe(out, layer="demand_by_class")
    by_area = pyogrio.read_dataframe(out, layer="demand_by_area")
    # the class table is the area table summed by class
    low = by_area[by_area["score_class"].isin([1, 2])]["residents_65plus"].sum()
    got = by_class[by_class["score_class"].isin(["1", "2"])]["residents_65plus"].sum()
    assert low == got > 0
    cbs = read_cbs_pc6(data_dir / "maastricht" / "cbs-pc6-2021.csv")
    assert by_class["residents_65plus"].sum() == cbs["age_65plus"].sum()
