"""A whole scan on small files in the official formats, checked by hand."""

import numpy as np
import pandas as pd
import pyogrio
import pytest

from thuisdichtbij import load_config, scan
from thuisdichtbij.apps.cli import main

from ._synthetic import write_study


@pytest.fixture()
def study(tmp_path):
    return write_study(tmp_path)


@pytest.fixture()
def result(study, tmp_path):
    return scan(study, data_dir=tmp_path)


MM = 0.002  # the network file is in WGS84, as OSM exports are: a round trip costs < 1 mm


def by_id(result):
    return result.dwellings.set_index("dwelling_id")


def test_distances_by_hand(result):
    d = by_id(result)
    # D1 at (100, 10): 10 m to the street, 250 m along it to the pharmacy at x=350.
    assert d.loc["D1", "dist_pharmacy"] == pytest.approx(260.0, abs=MM)
    # The supermarket is a building outline: a point inside it, (100, 20), 20 m off the street.
    assert d.loc["D1", "dist_supermarket"] == pytest.approx(30.0, abs=MM)
    # D2 on the side street at 300 m: GP 50 m further down, bus stop 300 m up.
    assert d.loc["D2", "dist_gp"] == pytest.approx(50.0, abs=MM)
    assert d.loc["D2", "dist_bus_stop"] == pytest.approx(300.0, abs=MM)
    assert d.loc["D2", "dist_drugstore"] == pytest.approx(400.0, abs=MM)
    # D3 at (900, 5): hairdresser at x=950 from the Locatus table.
    assert d.loc["D3", "dist_hairdresser"] == pytest.approx(55.0, abs=MM)
    # D4 is 5 m from the motorway but pedestrians may not use it: 45 m to the main street.
    assert d.loc["D4", "snap_m"] == pytest.approx(45.0, abs=MM)
    assert d.loc["D4", "dist_pharmacy"] == pytest.approx(295.0, abs=MM)
    # Nothing within 500 m: inf in memory.
    assert np.isinf(d.loc["D1", "dist_gp"])


def test_scores_by_hand(result):
    d = by_id(result)
    # Safety: 6211 onv 0.07 in 2022 (class 4) rose 0.09 since 2014 (+1) -> 5 points;
    # 6212 onv 0.01 (class 3), fell 0.02 (less than a step) -> 3 points.
    assert d.loc["D1", "safety_pts"] == 5
    assert d.loc["D2", "safety_pts"] == 3
    # D1: pharmacy 1 pt x 1 + supermarket 2 pts x 3 + safety 5 x 0.5
    assert d.loc["D1", "score"] == pytest.approx(1 + 6 + 2.5)
    # D2: pharmacy (450 m) 1 + GP 2 x 2 + drugstore 1 x 1 + bus 1 x 2 + safety 3 x 0.5
    assert d.loc["D2", "score"] == pytest.approx(1 + 4 + 1 + 2 + 1.5)
    # D3: drugstore (305 m) 1 + hairdresser 2 x 0.5 + safety 1.5
    assert d.loc["D3", "score"] == pytest.approx(1 + 1 + 1.5)
    assert d.loc["D4", "score"] == pytest.approx(1 + 6 + 2.5)


def test_dwelling_beyond_snap_limit_is_flagged_not_scored(result):
    d = by_id(result)
    assert not d.loc["D5", "snapped"]
    assert np.isnan(d.loc["D5", "score"])
    assert d.loc[["D1", "D2", "D3", "D4"], "snapped"].all()
    assert result.metadata["dwelling_points_not_snapped"] == "1"


def test_areas_weighted_mean(result):
    a = result.areas.set_index("area_id")
    assert a.loc["6211", "n_dwellings"] == 12
    assert a.loc["6211", "score_mean"] == pytest.approx(9.5)
    # (3 x 9.5 + 4 x 3.5) / 7
    assert a.loc["6212", "n_dwellings"] == 7
    assert a.loc["6212", "score_mean"] == pytest.approx((3 * 9.5 + 4 * 3.5) / 7)


def test_small_areas_are_suppressed(study, tmp_path):
    cfg = load_config(overrides={"aggregation": {"min_dwellings": 10}})
    a = scan(study, data_dir=tmp_path, config=cfg).areas.set_index("area_id")
    assert not a.loc["6211", "suppressed"]
    assert a.loc["6212", "suppressed"]
    assert np.isnan(a.loc["6212", "score_mean"])
    assert pd.isna(a.loc["6212", "score_class"])


def test_changing_one_weight_changes_scores_as_by_hand(study, tmp_path):
    base = by_id(scan(study, data_dir=tmp_path))
    weights = tmp_path / "my-weights.yaml"
    weights.write_text("weights:\n  gp: 5\n")
    changed = by_id(scan(study, data_dir=tmp_path, weights=weights))
    # Only the GP weight changed (2 -> 5): each score moves by 3 x the GP points.
    expected = base["score"] + 3 * base["pts_gp"]
    assert np.allclose(changed["score"], expected, equal_nan=True)
    assert changed.loc["D2", "score"] == pytest.approx(9.5 + 6)
    assert changed.loc["D1", "score"] == pytest.approx(9.5)


def test_gtfs_stations_are_not_stops_and_unmatched_tags_are_ignored(result):
    a = result.amenities
    assert (a["indicator"] == "bus_stop").sum() == 1
    assert set(a["indicator"]) == {
        "pharmacy",
        "gp",
        "supermarket",
        "drugstore",
        "hairdresser",
        "bus_stop",
    }
    assert "Bakker Brood" not in set(a["name"].dropna())
    assert a.loc[a["indicator"] == "supermarket", "kind"].iloc[0] == "shop=supermarket"


def test_missing_safety_rescale_and_neutral(study, tmp_path):
    import yaml

    raw = yaml.safe_load(study.read_text())
    del raw["leefbaarometer"]
    study.write_text(yaml.safe_dump(raw))
    rescaled = by_id(scan(study, data_dir=tmp_path))
    # D1 without safety: (1 + 6) scaled by 30.5 / 28
    assert rescaled.loc["D1", "score"] == pytest.approx(7 * 30.5 / 28)
    assert np.isnan(rescaled.loc["D1", "safety_pts"])
    neutral = by_id(
        scan(
            study,
            data_dir=tmp_path,
            config=load_config(overrides={"safety": {"missing": "neutral"}}),
        )
    )
    assert neutral.loc["D1", "score"] == pytest.approx(7 + 1.5)


def test_cli_writes_geopackage_atomically(study, tmp_path, capsys):
    out = tmp_path / "scan.gpkg"
    out.write_bytes(b"an older file the user had")
    code = main(["scan", "--study", str(study), "--data-dir", str(tmp_path), "--out", str(out)])
    assert code == 0
    assert set(dict(pyogrio.list_layers(out))) == {
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
    dw = pyogrio.read_dataframe(out, layer="dwellings")
    # NULL, not a sentinel, where no amenity is within 500 m
    assert dw.loc[dw["dwelling_id"] == "D1", "dist_gp"].isna().all()
    assert "geschreven" in capsys.readouterr().out
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".scan-")]


def test_failed_run_keeps_the_old_output(study, tmp_path, capsys):
    out = tmp_path / "scan.gpkg"
    out.write_bytes(b"an older file the user had")
    (tmp_path / "stops.txt").write_text("stop_id,stop_name\nx,y\n")
    code = main(["scan", "--study", str(study), "--data-dir", str(tmp_path), "--out", str(out)])
    assert code == 2
    assert "GTFS stops" in capsys.readouterr().err
    assert out.read_bytes() == b"an older file the user had"


def test_dwellings_whose_cbs_count_is_secret_are_a_gap_not_too_few(tmp_path, capsys):
    # The CBS PC6 GeoPackage as CBS serves it (layer cbs_pc6_2021, -99997 for a secret
    # count): 6211AA, under D1 and D4 (PC4 6211), holds 12; 6212AA (D2, D3) is secret. D5
    # lies in no PC6. 6212's dwellings are unknown: it has no class for want of data, not
    # for "fewer than 5 dwellings" (6211 has none either: the data covers 28 % of it); the
    # audit and the console say how many points lack a count (3 of 5).
    import geopandas as gpd
    import yaml
    from shapely import box

    from ._synthetic import RD, at

    study = write_study(tmp_path)
    fields = ["aantal_inwoners", "aantal_inwoners_65_jaar_en_ouder", "aantal_part_huishoudens"]
    pc6 = gpd.GeoDataFrame(
        {"postcode6": ["6211AA", "6212AA"], **{f: [-99997, 20] for f in fields}},
        geometry=[box(*at(-100, -100), *at(450, 700)), box(*at(450, -100), *at(1100, 700))],
        crs=RD,
    ).assign(aantal_woningen=[12, -99997])
    pc6.to_file(tmp_path / "cbs_pc6_2021_vol.gpkg", layer="cbs_pc6_2021", engine="pyogrio")
    points = pd.read_csv(tmp_path / "woningen.csv").assign(pc="")  # from the PC6 polygons
    points.to_csv(tmp_path / "woningen.csv", index=False)
    spec = yaml.safe_load(study.read_text())
    del spec["dwellings"]["weight"]
    spec["dwellings"].update(cbs_pc6="cbs_pc6_2021_vol.gpkg", postcode="pc")
    study.write_text(yaml.safe_dump(spec))
    out = tmp_path / "scan.gpkg"
    args = ["scan", "--study", str(study), "--data-dir", str(tmp_path), "--no-cache", "-q"]
    assert main([*args, "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    areas = pyogrio.read_dataframe(out, layer="areas").set_index("area_id")
    assert pd.isna(areas.loc["6212", "n_dwellings"]) and pd.isna(areas.loc["6212", "score_class"])
    assert areas.loc["6212", "data_status"] == "onvoldoende gegevens"
    assert areas.loc["6211", "n_dwellings"] == 12 and areas.loc["6211", "data_coverage"] < 0.5
    audit = pyogrio.read_dataframe(out, layer="audit").set_index("item")
    assert audit.loc["weight_share", "value"] == pytest.approx(2 / 5)
    assert audit.loc["weight_share", "verdict"] == "dun"
    assert (
        "woningaantallen [dun]: 60,0% van de woningpunten zonder bekend aantal woningen "
        "(CBS geheim of ontbrekend)"
    ) in printed
    assert "0 afgeschermd (te weinig woningen), 2 zonder klasse (onvoldoende gegevens)" in printed
    meta = pyogrio.read_dataframe(out, layer="run_metadata").set_index("key")["value"]
    assert meta["areas_suppressed"] == "0"  # as the summary counts: 6212 is a data gap
    # and the maps' legend note says it
    from thuisdichtbij.outputs._mapkit import data_note

    assert "aantal woningen onbekend voor een deel van de punten" in data_note(meta.to_dict(), "nl")


def test_an_area_mostly_without_a_leefbaarometer_figure_has_no_class(tmp_path, capsys):
    # The Leefbaarometer table (its official columns) without PC4 6212: its dwellings (D2,
    # D3) get no safety figure while 6211's have one. With safety.missing 'rescale' their
    # scores count the distances only, scaled up, and a low distance score then gains less
    # than the lowest safety level would give: 6212 gets no class ('onvoldoende gegevens',
    # its safety_share 0) instead of a low one; the plot check says why.
    study = write_study(tmp_path)
    lbm = tmp_path / "leefbaarometer.csv"
    lbm.write_text("".join(ln for ln in lbm.read_text().splitlines(True) if ln[:5] != "6212,"))
    out = tmp_path / "scan.gpkg"
    args = ["scan", "--study", str(study), "--data-dir", str(tmp_path), "--no-cache", "-q"]
    assert main([*args, "--out", str(out)]) == 0
    areas = pyogrio.read_dataframe(out, layer="areas").set_index("area_id")
    assert areas["safety_share"].to_dict() == {"6211": 1.0, "6212": 0.0}
    assert areas.loc["6212", "data_status"] == "onvoldoende gegevens"
    assert pd.isna(areas.loc["6212", "score_class"])
    grid = pyogrio.read_dataframe(out, layer="grid")
    assert (grid.loc[grid["safety_share"] == 0, "data_status"] == "onvoldoende gegevens").all()
    capsys.readouterr()
    from ._synthetic import lonlat

    lon, lat = lonlat(900, 5)  # D3, in 6212
    assert main(["check", "--scan", str(out), "--at", f"{lat},{lon}"]) == 0
    said = capsys.readouterr().out
    assert (
        "gebied 6212 heeft onvoldoende gegevens (maar 0% van zijn woningen heeft een "
        "Leefbaarometer-cijfer)" in said
    )
    # and the spot's own score: not comparable with those that have a figure
    assert (
        "hier geen Leefbaarometer-cijfer (rescale): deze score en klasse zijn niet te "
        "vergelijken met die van woningen met een cijfer" in said
    )
    # in a run without any figure, every score counts alike: no area is judged by it
    import yaml

    spec = yaml.safe_load(study.read_text())
    del spec["leefbaarometer"]
    study.write_text(yaml.safe_dump(spec))
    assert main([*args, "--out", str(tmp_path / "none.gpkg")]) == 0
    areas = pyogrio.read_dataframe(tmp_path / "none.gpkg", layer="areas").set_index("area_id")
    assert areas["safety_share"].isna().all() and areas.loc["6212", "data_status"] == "ok"
