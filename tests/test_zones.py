"""The score grid, woonzorgzones and their comparison, on hand-made data."""

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from shapely import Point, box

from thuisdichtbij import InputError, load_config
from thuisdichtbij.analyses.zones import compare_zones, find_zones, make_zones, zone_cells
from thuisdichtbij.config import ZonesConfig
from thuisdichtbij.engine.aggregate import score_grid

from ._synthetic import at, scan_with_zones

RD = 28992


def test_grid_cell_means_by_hand():
    cfg = load_config()
    dw = gpd.GeoDataFrame(
        {"weight": [3.0, 2.0, 1.0, 4.0], "score": [10.0, 20.0, 5.0, 8.0]},
        geometry=[
            Point(176050, 318050),
            Point(176099.9, 318000.1),  # same cell as the first
            Point(176150, 318050),  # a cell with one dwelling: suppressed
            Point(176250, 318950),
        ],
        crs=RD,
    )
    grid = score_grid(dw, cfg).set_index("cell_id")
    assert grid.loc["E1760N3180", "score_mean"] == pytest.approx((3 * 10 + 2 * 20) / 5)
    assert grid.loc["E1760N3180", "n_dwellings"] == 5
    assert grid.loc["E1761N3180", "suppressed"]
    assert np.isnan(grid.loc["E1761N3180", "score_mean"])
    assert grid.loc["E1762N3189", "n_dwellings"] == 4
    b = grid.geometry.bounds
    assert (b % 100 == 0).all().all()
    assert ((b["maxx"] - b["minx"]) == 100).all()


def cells(pattern):
    """Cells from a text picture: '#' high, '.' low; row 0 is the top."""
    rows = pattern.strip().splitlines()
    ij, high = [], []
    for r, line in enumerate(rows):
        for c, ch in enumerate(line.strip()):
            ij.append((c, len(rows) - 1 - r))
            high.append(ch == "#")
    return np.array(ij), np.array(high)


def n_zones(pattern, **kw):
    cfg = ZonesConfig(
        min_class=4,
        smoothing_cells=kw.get("smoothing", 0),
        diagonal=kw.get("diagonal", False),
        min_cells=kw.get("min_cells", 1),
        min_dwellings=0,
    )
    ij, high = cells(pattern)
    _, _, labels = zone_cells(ij, high, cfg)
    sizes = sorted(np.bincount(labels)[1:].tolist(), reverse=True)
    return [s for s in sizes if s >= cfg.min_cells]


def test_touching_cells_are_one_zone():
    assert n_zones("##.\n...\n...") == [2]


def test_diagonal_contact_follows_the_rule():
    picture = "#..\n.#.\n..#"
    assert n_zones(picture, diagonal=False) == [1, 1, 1]
    assert n_zones(picture, diagonal=True) == [3]


def test_small_zones_disappear():
    assert n_zones("###.#\n.....\n.....", min_cells=2) == [3]


def test_smoothing_closes_a_one_cell_gap():
    picture = "##.##\n##.##\n....."
    assert n_zones(picture) == [4, 4]
    assert n_zones(picture, smoothing=1) == [10]


def test_find_zones_polygons_and_order():
    ij, high = cells("##...\n.....\n..###")
    size = 100.0
    # Cells are listed row by row from the top: 0, 1 form the top zone, 12-14 the bottom one.
    n_dw = np.full(15, 7.0)
    mean = np.full(15, 5.0)
    n_dw[[0, 1, 12, 13, 14]] = [10, 30, 5, 10, 5]
    mean[[0, 1, 12, 13, 14]] = [20, 12, 18, 24, 30]
    grid = gpd.GeoDataFrame(
        {"score_class": np.where(high, 5, 2), "n_dwellings": n_dw, "score_mean": mean},
        geometry=[box(i * size, j * size, (i + 1) * size, (j + 1) * size) for i, j in ij],
        crs=RD,
    )
    z = find_zones(grid, ZonesConfig(4, 0, False, 1, 0), cell_m=size)
    # Most dwellings first: the top zone (2 cells, 40 dwellings) before the bottom (3, 20).
    assert z["n_cells"].tolist() == [2, 3]
    assert z["n_dwellings"].tolist() == [40, 20]
    assert z.geometry.iloc[0].equals(box(0, 200, 200, 300))
    assert z.geometry.iloc[1].area == 3 * size * size
    # Dwelling-weighted: (10 x 20 + 30 x 12) / 40 and (5 x 18 + 10 x 24 + 5 x 30) / 20.
    assert z["score_mean"].tolist() == [14.0, 24.0]


@pytest.fixture()
def small(tmp_path):
    return scan_with_zones(tmp_path), tmp_path


def test_zones_names_profiles_and_stability(small):
    out, folder = small
    first = make_zones(out)
    z = first.zones
    # D1 and D4 lie in two cells one above the other: one zone of 12 dwellings
    assert z.loc[0, "n_dwellings"] == 12 and z.loc[0, "n_cells"] == 2
    assert z.loc[0, "name"] == "Hoofdstraat"  # the main street, not the (unwalkable) A2
    assert z.loc[0, "profile"] == "1 (mini)supermarkt"
    assert z.loc[0, "n_supermarket"] == 1
    assert z["zone_id"].tolist() == [f"Z{i + 1:02d}" for i in range(len(z))]
    again = make_zones(out).zones
    assert again.drop(columns="geometry").equals(z.drop(columns="geometry"))
    # with a names layer, the polygon holding most of the zone's dwellings names it
    names = gpd.GeoDataFrame(
        {"naam": ["West", "Oost"]},
        geometry=[box(*at(-100, -100), *at(450, 700)), box(*at(450, -100), *at(1100, 700))],
        crs=RD,
    )
    names.to_file(folder / "wijken.gpkg")
    named = make_zones(out, names=folder / "wijken.gpkg", name_field="naam").zones
    assert named.loc[0, "name"] == "West"
    assert set(named["name"]) >= {"West", "Oost", "Oost (2)"}
    # written to the scan, with its QGIS style
    first.to_gpkg(out)
    import pyogrio

    layers = set(pyogrio.list_layers(out)[:, 0])
    assert "zones" in layers
    styles = pyogrio.read_dataframe(out, layer="layer_styles")
    assert "zones" in set(styles["f_table_name"]) and "areas" in set(styles["f_table_name"])


def test_compare_zones(small):
    out, folder = small
    make_zones(out).to_gpkg(out)
    ref = gpd.GeoDataFrame(
        {"naam": ["Centrum", "Nergens"]},
        geometry=[box(*at(50, -60), *at(150, 60)), box(*at(2500, 2500), *at(2600, 2600))],
        crs=RD,
    )
    ref.to_file(folder / "ref.gpkg")
    table = compare_zones(out, folder / "ref.gpkg", name_field="naam")
    row = table.set_index("reference").loc["Centrum"]
    assert row["matched"] and row["zone_id"] == "Z01" and row["share"] == 1.0
    assert row["dwellings_reference"] == 12
    assert not table.set_index("reference").loc["Nergens", "matched"]
    unmatched = table[table["reference"].isna()]
    assert set(unmatched["zone_id"]) == {"Z02", "Z03"}


def test_zones_on_a_file_that_is_not_a_scan(tmp_path):
    p = tmp_path / "x.gpkg"
    gpd.GeoDataFrame({"a": [1]}, geometry=[Point(0, 0)], crs=RD).to_file(p, layer="dwellings")
    with pytest.raises(InputError, match="it has no layer areas, run_metadata"):
        make_zones(p)


def test_scan_layer_with_missing_fields(tmp_path):
    from thuisdichtbij.outputs.scanfile import read_scan_layer

    p = tmp_path / "x.gpkg"
    for layer in ("dwellings", "areas"):
        gpd.GeoDataFrame({"a": [1]}, geometry=[Point(0, 0)], crs=RD).to_file(p, layer=layer)
    pd.DataFrame({"key": ["a"], "value": ["b"]}).pipe(
        lambda d: __import__("pyogrio").write_dataframe(d, p, layer="run_metadata")
    )
    with pytest.raises(InputError, match="layer 'areas' of x.gpkg lacks the field"):
        read_scan_layer(p, "areas")


def test_cli_zones_and_compare(small, capsys):
    from thuisdichtbij.apps.cli import main

    out, folder = small
    assert main(["zones", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "Z01 Hoofdstraat" in printed and "laag zones geschreven" in printed
    ref = gpd.GeoDataFrame(
        {"naam": ["Centrum"]}, geometry=[box(*at(50, -60), *at(150, 60))], crs=RD
    )
    ref.to_file(folder / "ref.gpkg")
    code = main(
        [
            "compare-zones",
            str(out),
            "--reference",
            str(folder / "ref.gpkg"),
            "--reference-name-field",
            "naam",
        ]
    )
    assert code == 0
    assert "Centrum" in capsys.readouterr().out
    import pyogrio

    table = pyogrio.read_dataframe(out, layer="zone_comparison")
    assert table.loc[table["reference"] == "Centrum", "matched"].iloc[0]


def test_zone_names_from_a_numeric_field(small):
    out, folder = small
    # pc4.gpkg's postcode field is numeric (6211.0): a name is "6211", not "6211.0"
    names = set(make_zones(out, names=folder / "pc4.gpkg", name_field="postcode").zones["name"])
    assert names and all(".0" not in n for n in names)
    assert {n.split(" ")[0] for n in names} <= {"6211", "6212"}


def test_compare_lists_a_partly_matched_zone_once(small, capsys):
    from thuisdichtbij.apps.cli import main

    out, folder = small
    zones = make_zones(out).zones
    z1 = zones.set_index("zone_id").loc["Z01", "geometry"]
    # Z01 and far more around it: Z01 is this zone's counterpart, but under the 100% asked
    ref = gpd.GeoDataFrame({"naam": [7.0]}, geometry=[z1.buffer(2000)], crs=zones.crs)
    ref.to_file(folder / "ref.gpkg")
    table = compare_zones(out, folder / "ref.gpkg", name_field="naam", min_share=1.0)
    assert table["zone_id"].dropna().is_unique
    assert list(table["reference"].dropna()) == ["7"]
    assert main(["compare-zones", str(out), "--reference", str(folder / "ref.gpkg"),
                 "--reference-name-field", "naam", "--min-share", "1"]) == 0  # fmt: skip
    printed = capsys.readouterr().out
    assert "NaN" not in printed and "None" not in printed
