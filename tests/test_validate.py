"""Validation against CBS proximity figures: readers, and hand-made buurten on paper."""

import json

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import pytest
from shapely import box

from thuisdichtbij import InputError, scan
from thuisdichtbij.analyses.validate import compare, summarise, validate
from thuisdichtbij.apps.cli import main
from thuisdichtbij.sources.cbs_nabijheid import read_cbs_proximity

from ._synthetic import ORIGIN, write_study

# Two buurten of the synthetic study (see _synthetic.py): A around x 0-200 holds D1 (weight
# 10, 10 m north of the main street at x=100) and D4 (weight 2, 45 m south of it); B around
# x 800-1000 holds D3 (weight 4, 5 m from the street at x=900).
# GP at (500, 250) on the side street; pharmacy at (350, 0) on the main street.
#   GP:       D1 10+400+250 = 660, D4 45+400+250 = 695, D3 5+400+250 = 655
#   pharmacy: D1 10+250 = 260,     D4 45+250 = 295,     D3 5+550 = 555
GP_A = (10 * 660 + 2 * 695) / 12 / 1000
PH_A = (10 * 260 + 2 * 295) / 12 / 1000
GP_B, PH_B = 0.655, 0.555


def _props(gp_key="AfstandTotHuisartsenpraktijk_5"):
    return [
        {"Key": "ID", "Title": "ID"},
        {"Key": "WijkenEnBuurten", "Title": "Wijken en buurten"},
        {"Key": gp_key, "Title": "Afstand tot huisartsenpraktijk", "Unit": "km"},
        {"Key": "AfstandTotHuisartsenpost_9", "Title": "Afstand tot huisartsenpost"},
        {"Key": "AfstandTotApotheek_10", "Title": "Afstand tot apotheek", "Unit": "km"},
        {"Key": "AfstandTotFysiotherapeut_20", "Title": "Afstand tot fysiotherapeut"},
    ]


def _rows(gp_key="AfstandTotHuisartsenpraktijk_5"):
    return [
        {"ID": 0, "WijkenEnBuurten": "GM9999    ", gp_key: 1.0, "AfstandTotApotheek_10": 1.0,
         "AfstandTotHuisartsenpost_9": 9.0, "AfstandTotFysiotherapeut_20": 1.0},
        {"ID": 1, "WijkenEnBuurten": "BU99990001", gp_key: 0.3, "AfstandTotApotheek_10": 0.25,
         "AfstandTotHuisartsenpost_9": 9.0, "AfstandTotFysiotherapeut_20": 0.8},
        {"ID": 2, "WijkenEnBuurten": "BU99990002", gp_key: 0.7, "AfstandTotApotheek_10": 0.5,
         "AfstandTotHuisartsenpost_9": 9.0, "AfstandTotFysiotherapeut_20": None},
    ]  # fmt: skip


def _odata_file(tmp_path, gp_key="AfstandTotHuisartsenpraktijk_5"):
    p = tmp_path / "86134NED.json"
    p.write_text(
        json.dumps(
            {
                "TypedDataSet": {"odata.metadata": "x", "value": _rows(gp_key)},
                "DataProperties": {"odata.metadata": "y", "value": _props(gp_key)},
            }
        )
    )
    return p


def test_odata_reader_resolves_titles(tmp_path):
    t = read_cbs_proximity(_odata_file(tmp_path))
    assert list(t.index) == ["BU99990001", "BU99990002"]  # the municipality row is dropped
    assert t.loc["BU99990001", "gp"] == 0.3 and t.loc["BU99990002", "pharmacy"] == 0.5
    assert np.isnan(t.loc["BU99990002", "physio"])  # masked: unknown, not 0
    assert t.attrs["columns"]["gp"] == "AfstandTotHuisartsenpraktijk_5"  # not the huisartsenpost


def test_odata_reader_with_another_suffix_and_a_side_file(tmp_path):
    key = "AfstandTotHuisartsenpraktijk_110"
    (tmp_path / "TypedDataSet.json").write_text(json.dumps({"value": _rows(key)}))
    (tmp_path / "DataProperties.json").write_text(json.dumps({"value": _props(key)}))
    t = read_cbs_proximity(tmp_path / "TypedDataSet.json")
    assert t.loc["BU99990001", "gp"] == 0.3
    (tmp_path / "DataProperties.json").unlink()
    with pytest.raises(InputError, match="no DataProperties"):
        read_cbs_proximity(tmp_path / "TypedDataSet.json")


def test_csv_export_reader(tmp_path):
    p = tmp_path / "export.csv"
    p.write_text(
        '"Wijken en buurten";"Regioaanduiding/Codering (code)";'
        '"Zorg/Huisartsenpraktijk/Afstand tot huisartsenpraktijk (km)";'
        '"Zorg/Apotheek/Afstand tot apotheek (km)"\n'
        '"Buurt 1";"BU99990001  ";"0,3";"0,25"\n'
        '"Buurt 2";"BU99990002";"0,7";"."\n',
        encoding="utf-8",
    )
    t = read_cbs_proximity(p)
    assert t.loc["BU99990001", "gp"] == 0.3
    assert np.isnan(t.loc["BU99990002", "pharmacy"])
    bad = tmp_path / "other.csv"
    bad.write_text("code;inwoners\nBU99990001;5\n")
    with pytest.raises(InputError, match="none of the distance columns"):
        read_cbs_proximity(bad)


def test_compare_on_paper():
    ours = pd.DataFrame(
        {"n_dwellings": [12.0, 4.0], "gp_km": [0.9, 0.4], "gp_within_1km": [1.0, 1.0],
         "gp_capped": [False, False], "physio_km": [5.0, 1.2], "physio_within_1km": [0.0, 0.2],
         "physio_capped": [True, False]},
        index=["BU1", "BU2"],
    )  # fmt: skip
    cbs = pd.DataFrame({"gp": [0.3, 0.5], "physio": [0.8, 1.0]}, index=["BU1", "BU2"])
    t = compare(ours, cbs).set_index(["buurt_code", "indicator"])
    assert t.loc[("BU1", "gp"), "ratio"] == pytest.approx(3.0)
    assert t.loc[("BU1", "gp"), "far_longer"] and not t.loc[("BU1", "gp"), "missing_nearby"]
    assert (
        t.loc[("BU2", "gp"), "ratio"] == pytest.approx(0.8) and not t.loc[("BU2", "gp"), "flagged"]
    )
    assert t.loc[("BU1", "physio"), "missing_nearby"] and t.loc[("BU1", "physio"), "ours_capped"]
    assert not t.loc[("BU2", "physio"), "flagged"]  # 1.2 / 1.0, and some within 1 km
    s = summarise(t.reset_index()).set_index("indicator")
    assert s.loc["gp", "median_ratio"] == pytest.approx(1.9)
    assert s.loc["gp", "n_flagged"] == 1 and s.loc["physio", "n_flagged"] == 1


@pytest.fixture(scope="module")
def small(tmp_path_factory):
    folder = tmp_path_factory.mktemp("val")
    study = write_study(folder)
    out = scan(study, data_dir=folder).to_gpkg(folder / "scan.gpkg")
    x, y = ORIGIN
    buurten = gpd.GeoDataFrame(
        {"buurtcode": ["BU99990001", "BU99990002"]},
        geometry=[box(x - 10, y - 60, x + 200, y + 60), box(x + 800, y - 60, x + 1000, y + 60)],
        crs=28992,
    )
    buurten.to_file(folder / "buurten.gpkg", layer="buurten")
    return out, folder


def test_validate_hand_made_buurten(small, tmp_path):
    out, folder = small
    r = validate(out, _odata_file(tmp_path), buurten=folder / "buurten.gpkg")
    t = r.table.set_index(["buurt_code", "indicator"])
    assert t.loc[("BU99990001", "gp"), "ours_km"] == pytest.approx(GP_A, abs=1e-3)
    assert t.loc[("BU99990001", "gp"), "ratio"] == pytest.approx(GP_A / 0.3, abs=1e-2)
    assert t.loc[("BU99990001", "gp"), "far_longer"]  # 0.666 km against 0.3: over 2x
    assert t.loc[("BU99990001", "pharmacy"), "ours_km"] == pytest.approx(PH_A, abs=1e-3)
    assert not t.loc[("BU99990001", "pharmacy"), "flagged"]
    assert t.loc[("BU99990002", "gp"), "ours_km"] == pytest.approx(GP_B, abs=1e-3)
    assert t.loc[("BU99990002", "pharmacy"), "ratio"] == pytest.approx(PH_B / 0.5, abs=1e-2)
    # no physiotherapist in the study: walks capped at 5 km, and CBS has one within 1 km
    assert t.loc[("BU99990001", "physio"), "ours_km"] == pytest.approx(5.0)
    assert t.loc[("BU99990001", "physio"), "missing_nearby"]
    assert not t.loc[("BU99990002", "physio"), "flagged"]  # CBS masked it


def test_validate_cli_writes_tables_plots_and_audit(small, tmp_path, capsys):
    out, folder = small
    copy = tmp_path / "scan.gpkg"
    copy.write_bytes(out.read_bytes())
    args = ["validate", str(copy), "--cbs", str(_odata_file(tmp_path))]
    args += ["--buurten", str(folder / "buurten.gpkg"), "--plots", str(tmp_path / "plots")]
    assert main(args) == 0
    layers = set(dict(pyogrio.list_layers(copy)))
    assert {"validation", "validation_summary", "validation_buurten"} <= layers
    audit = pyogrio.read_dataframe(copy, layer="audit").set_index("item")
    assert audit.loc["validation_gp", "verdict"] == "dun"  # 1 of 2 buurten flagged
    assert (tmp_path / "plots" / "validation_gp.png").stat().st_size > 1000
    assert "gp" in capsys.readouterr().out


def test_validate_without_inputs_says_what_to_give(small, capsys):
    out, _ = small
    assert main(["validate", str(out)]) == 2  # a scan of a study without 'validation'
    err = capsys.readouterr().err
    assert "was not made from a study with validation data" in err
    assert "--cbs" in err and "--with-validation" in err
