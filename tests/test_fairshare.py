"""The fair-share check: hand-made cases and the real Parkstad and Maastricht runs."""

import csv

import numpy as np
import pandas as pd
import pyogrio
import pytest

from thuisdichtbij import load_config
from thuisdichtbij.analyses.fairshare import fairshare, mark_vulnerable
from thuisdichtbij.apps.cli import main
from thuisdichtbij.outputs._mapkit import FAIRSHARE_EDGE, FAIRSHARE_STYLE, fairshare_credits

from ._pictures import assert_png_fills, embedded_layer, printed_sources, shown_sources

NATIONAL = load_config().fairshare
REGION = load_config(overrides={"fairshare": {"reference": "region"}}).fairshare

# (SES-WOA, Leefbaarometer, households)
CASES = pd.DataFrame(
    {
        "ses": [-0.30, -0.30, 0.20, 0.20, np.nan, -0.10, np.nan, 0.10, np.nan],
        "lbm": [-0.10, 0.05, -0.10, 0.05, -0.10, np.nan, 0.06, np.nan, np.nan],
        "hh": [1000, 1000, 1000, 1000, 500, 500, 100, 100, 100],
    },
    index=[
        *["both_low", "ses_low", "lbm_low", "neither", "no_ses", "no_lbm"],
        *["no_ses_lbm_high", "no_lbm_ses_high", "no_scores"],
    ],
)


def test_four_combinations_and_missing_national_reference():
    flag, reason, ses_ref, lbm_ref = mark_vulnerable(
        CASES["ses"], CASES["lbm"], CASES["hh"], NATIONAL
    )
    assert (ses_ref, lbm_ref) == (0.0, 0.0)
    assert flag.loc["both_low"]
    assert flag.loc[["ses_low", "lbm_low", "neither"]].tolist() == [False, False, False]
    assert flag.loc[["no_ses", "no_lbm", "no_scores"]].isna().all()
    # both must be below: one known at or above the reference settles it, the other missing
    assert flag.loc[["no_ses_lbm_high", "no_lbm_ses_high"]].tolist() == [False, False]
    assert reason.loc["no_ses_lbm_high"] == (
        "niet kwetsbaar: Leefbaarometer (+0,060) op of boven de referentie (+0,000); "
        "geen SES-WOA-score nodig"
    )
    assert reason.loc["no_lbm_ses_high"].startswith("niet kwetsbaar: SES-WOA (+0,100) op of")
    assert reason.loc["no_scores"] == "onbekend: geen SES-WOA-score"
    assert reason.loc["both_low"].startswith(
        "kwetsbaar: SES-WOA (-0,300) en Leefbaarometer (-0,100)"  # decimal commas
    )
    assert reason.loc["ses_low"].startswith("niet kwetsbaar: alleen SES-WOA")
    assert reason.loc["lbm_low"].startswith("niet kwetsbaar: alleen Leefbaarometer")
    assert reason.loc["no_ses"] == "onbekend: geen SES-WOA-score"
    assert reason.loc["no_lbm"] == "onbekend: geen Leefbaarometer-score"


def test_region_reference_is_household_weighted():
    flag, _, ses_ref, lbm_ref = mark_vulnerable(CASES["ses"], CASES["lbm"], CASES["hh"], REGION)
    # SES known for 6 areas: (-0.3 - 0.3 + 0.2 + 0.2) * 1000 - 0.1 * 500 + 0.1 * 100, / 4600
    assert ses_ref == pytest.approx((-0.2 * 1000 - 0.05 * 1000 + 0.01 * 1000) / 4600)
    # LBM known for 6 areas: (-0.1 + 0.05 - 0.1 + 0.05) * 1000 - 0.1 * 500 + 0.06 * 100, / 4600
    assert lbm_ref == pytest.approx((-0.1 * 1000 - 0.05 * 1000 + 0.006 * 1000) / 4600)
    # ses_ref -0.0556, lbm_ref -0.0333: both_low stays, the others as before
    assert flag.loc["both_low"]
    assert not flag.loc["ses_low"] and not flag.loc["lbm_low"] and not flag.loc["neither"]
    # a case that flips: below zero but above the regional mean on SES
    # regional means: SES -0.275, LBM -0.3
    f2, *_ = mark_vulnerable(
        pd.Series([-0.05, -0.5]), pd.Series([-0.2, -0.4]), pd.Series([1, 1]), REGION
    )
    f1, *_ = mark_vulnerable(
        pd.Series([-0.05, -0.5]), pd.Series([-0.2, -0.4]), pd.Series([1, 1]), NATIONAL
    )
    assert f1.tolist() == [True, True]
    assert f2.tolist() == [False, True]


def test_english_reasons():
    _, reason, *_ = mark_vulnerable(CASES["ses"], CASES["lbm"], CASES["hh"], NATIONAL, lang="en")
    assert reason.loc["both_low"].startswith("vulnerable: SES-WOA (-0.300) and Leefbaarometer")


SEVEN = ["Heerlen", "Kerkrade", "Landgraaf", "Brunssum", "Simpelveld", "Voerendaal", "Beekdaelen"]


@pytest.fixture(scope="module")
def parkstad(data_dir):
    return fairshare("parkstad", data_dir=data_dir)


def test_parkstad_every_area_with_its_municipality(parkstad, data_dir):
    import geopandas as gpd

    fs = parkstad.areas
    assert set(fs["municipality"]) == set(SEVEN)
    assert fs["area_id"].is_unique
    # every PC4 whose inside point lies in one of the seven municipalities is there, with it
    gem = gpd.read_file(data_dir / "nl" / "cbs-gemeenten-2025.gpkg")
    gem = gem[gem["gemeente"].isin(SEVEN)]
    pc4 = gpd.read_file(data_dir / "nl" / "cbs-pc4-2024.gpkg")
    pc4["area_id"] = pc4["postcode"].astype(int).astype(str)
    pts = pc4.set_geometry(pc4.representative_point())
    inside = gpd.sjoin(pts, gem[["gemeente", "geometry"]], predicate="within")
    expected = dict(zip(inside["area_id"], inside["gemeente"], strict=True))
    got = dict(zip(fs["area_id"], fs["municipality"], strict=True))
    for area, municipality in expected.items():
        assert got.get(area) == municipality, area
    # and every Parkstad row of the SES-WOA table is among them
    with open(data_dir / "nl" / "ses-woa-pc4-2022-maastricht-parkstad.csv") as f:
        parkstad_pc4 = {r["pc4"] for r in csv.DictReader(f) if not r["pc4"].startswith("62")}
    assert parkstad_pc4 <= set(fs["area_id"])


def test_parkstad_summary_adds_up(parkstad):
    s = parkstad.summary.set_index("municipality")
    total = s.loc["Totaal"]
    per = s.drop("Totaal")
    assert (per.sum() == total).all()
    assert total["areas"] == len(parkstad.areas)
    assert total["areas_vulnerable"] == int(parkstad.areas["vulnerable"].sum())
    assert total["households"] == parkstad.areas["households"].fillna(0).sum()


def test_parkstad_metadata_records_years(parkstad):
    md = parkstad.metadata
    assert md["years"] == "SES-WOA 2022, Leefbaarometer 2022, areas 2024"
    assert md["year_mismatch"].startswith("yes")


def test_cli_parkstad_and_maastricht(data_dir, tmp_path, capsys, monkeypatch):
    out = tmp_path / "parkstad.gpkg"
    footers = printed_sources(monkeypatch)
    code = main(
        [
            "fairshare",
            "--study",
            "parkstad",
            "--data-dir",
            str(data_dir),
            "--out",
            str(out),
            "--html",
            str(tmp_path / "p.html"),
            "--png",
            str(tmp_path / "p.png"),
        ]
    )
    assert code == 0
    printed = capsys.readouterr().out
    assert "Heerlen" in printed and "Totaal" in printed
    assert "fair share (referentie" in printed and "jaren: SES-WOA 2022" in printed
    assert "reference" not in printed and "years" not in printed
    layers = dict(pyogrio.list_layers(out))
    assert layers["fairshare"] == "MultiPolygon"
    assert "fairshare_summary" in layers and "run_metadata" in layers
    fs = pyogrio.read_dataframe(out, layer="fairshare")
    assert {"area_id", "municipality", "ses_woa", "lbm_afw", "vulnerable", "reason"} <= set(
        fs.columns
    )
    # Both maps show each area's finding: vulnerable red, not vulnerable light grey,
    # unknown (a score missing) grey.
    fill = {True: "#D6604D", False: "#F4F4F4", None: "#BDBDBD"}
    state = [None if pd.isna(v) else bool(v) for v in fs["vulnerable"]]
    assert set(state) >= {True, False}
    html = (tmp_path / "p.html").read_text()
    shown = embedded_layer(html, "area_id")
    assert sorted(shown) == sorted(fs["area_id"])
    for area_id, st in zip(fs["area_id"], state):
        assert shown[area_id][1] == fill[st], area_id
    assert f'"color": "{FAIRSHARE_EDGE}"' in html  # outlined as on the PNG and in QGIS
    # both credit CBS and the Leefbaarometer, in the same words (the page had none)
    assert shown_sources(html) == footers[0] == fairshare_credits("nl")
    assert "CBS SES-WOA, Leefbaarometer 3.0 (BZK)" in footers[0]
    judged = assert_png_fills(tmp_path / "p.png", fs, [fill[v] for v in state], fill.values())
    assert judged >= 0.8 * len(fs)

    # Maastricht: the layers go into an existing scan GeoPackage
    from thuisdichtbij import scan

    scan_out = scan("maastricht", data_dir=data_dir).to_gpkg(tmp_path / "m.gpkg")
    code = main(
        [
            "fairshare",
            "--study",
            "maastricht",
            "--data-dir",
            str(data_dir),
            "--out",
            str(scan_out),
            "--reference",
            "region",
            "--lang",
            "en",
        ]
    )
    assert code == 0
    printed = capsys.readouterr().out
    assert "fair share (region reference: SES-WOA" in printed and "years: " in printed
    assert "referentie" not in printed and "jaren" not in printed and "nee)" not in printed
    layers = dict(pyogrio.list_layers(scan_out))
    assert {"dwellings", "areas", "amenities", "fairshare", "fairshare_summary"} <= set(layers)
    meta = pyogrio.read_dataframe(scan_out, layer="run_metadata")
    meta = dict(zip(meta["key"], meta["value"], strict=True))
    assert meta["fairshare.reference"] == "region"
    assert "config_hash" in meta  # the scan's own metadata is kept
    # QGIS opens the layer as the maps draw it, in the words of --lang (Dutch by default)
    assert_fairshare_style(out, "nl")
    styles = assert_fairshare_style(scan_out, "en")
    assert {"dwellings", "areas", "grid"} <= set(styles)  # the scan's styles are kept


def test_study_without_fairshare_section(data_dir, capsys):
    code = main(
        ["fairshare", "--study", "delft", "--data-dir", str(data_dir), "--out", "/tmp/x.gpkg"]
    )
    assert code == 2
    assert "has no 'fairshare' section" in capsys.readouterr().err


def test_layers_of_another_study_area_are_refused(parkstad, tmp_path):
    from thuisdichtbij import OutputError

    from ._synthetic import scan_with_zones

    out = scan_with_zones(tmp_path)  # a small study in Maastricht
    before = out.read_bytes()
    with pytest.raises(OutputError, match="layer 'fairshare' .* lies wholly outside the 'areas'"):
        parkstad.to_gpkg(out)
    assert out.read_bytes() == before


def _styles(gpkg) -> dict[str, dict]:
    """The GeoPackage's ``layer_styles`` table: layer name -> its one row."""
    table = pyogrio.read_dataframe(gpkg, layer="layer_styles")
    assert table["f_table_name"].is_unique
    return {row["f_table_name"]: row for row in table.to_dict("records")}


def _rgba(hex_colour: str) -> str:
    """A map colour as QML writes it (``#d6604d`` -> ``214,96,77,255``)."""
    return ",".join(str(int(hex_colour[i : i + 2], 16)) for i in (1, 3, 5)) + ",255"


def assert_fairshare_style(gpkg, lang: str) -> dict[str, dict]:
    """The ``fairshare`` layer's QGIS style: categories on ``vulnerable`` in the colours,
    hatch and words of the maps (``FAIRSHARE_STYLE``), the default style; all styles."""
    import xml.etree.ElementTree as ET

    styles = _styles(gpkg)
    row = styles["fairshare"]
    assert row["useAsDefault"] and row["f_geometry_column"] == "geom"
    renderer = ET.fromstring(row["styleQML"]).find("renderer-v2")
    assert renderer.get("type") == "categorizedSymbol"
    assert '"vulnerable"' in renderer.get("attr")  # the field, which the layer has
    assert "vulnerable" in pyogrio.read_info(gpkg, layer="fairshare")["fields"]
    symbols = {s.get("name"): s for s in renderer.find("symbols")}
    got = []
    for cat in renderer.find("categories"):
        layers = symbols[cat.get("symbol")].findall("layer")
        fill = layers[0].find("Option/Option[@name='color']").get("value")
        got.append((cat.get("label"), fill, [lyr.get("class") for lyr in layers]))
    assert got == [
        (
            st["label"][lang],
            _rgba(st["fill"]),
            ["SimpleFill", "LinePatternFill"] if st["hatch"] else ["SimpleFill"],
        )
        for st in FAIRSHARE_STYLE.values()
    ]
    return styles


def test_fairshare_layer_carries_the_maps_style(parkstad, tmp_path):
    out = parkstad.to_gpkg(tmp_path / "fs.gpkg")
    assert set(assert_fairshare_style(out, "nl")) == {"fairshare"}


def test_fairshare_style_joins_a_scans_styles(data_dir, tmp_path):
    from ._synthetic import scan_with_zones

    out = scan_with_zones(tmp_path)  # a small study in Maastricht, with zones
    before = _styles(out)
    fairshare("maastricht", data_dir=data_dir, lang="en").to_gpkg(out)
    after = assert_fairshare_style(out, "en")
    assert set(after) == {"dwellings", "areas", "network", "grid", "zones", "fairshare"}
    for name, row in before.items():
        assert after[name]["styleQML"] == row["styleQML"], name
    # run again in Dutch: the layer's style is replaced, not added twice
    fairshare("maastricht", data_dir=data_dir).to_gpkg(out)
    assert set(assert_fairshare_style(out, "nl")) == set(after)
