"""Every command prints in ``--lang``: Dutch by default, English with ``--lang en``.

Each command is run twice on the small synthetic study, once without ``--lang`` and once
with ``--lang en``. Phrases written here by hand must appear in their language's output
and not in the other's, and the common words of the other language must be absent; a
command that forgets to pass its ``lang`` on prints the same text twice and fails.
"""

import re

import pandas as pd
import pytest

from thuisdichtbij.apps.cli import main

from ._synthetic import lonlat, scan_with_zones, write_study
from .test_demand import write_cbs

#: Words a Dutch summary never has, and words an English one never has (data such as zone
#: names, column names like ``n_dwellings`` and the audit's stored verdicts aside).
ENGLISH = r"\b(dwellings|wrote|written|residents|areas|class|mean|gaining|WARNING|nothing)\b"
DUTCH = r"\b(woningen|geschreven|65-plussers|gebieden|klasse|gemiddeld|gemiddelde|WAARSCHUWING)\b"


def _printed(capsys, args) -> str:
    assert main(args) == 0, capsys.readouterr().err
    return capsys.readouterr().out


def _style_labels(gpkg, layer: str) -> list[str]:
    """The legend labels of ``layer``'s QGIS style in the file's ``layer_styles``."""
    import xml.etree.ElementTree as ET

    import pyogrio

    styles = pyogrio.read_dataframe(gpkg, layer="layer_styles").set_index("f_table_name")
    qml = ET.fromstring(styles.loc[layer, "styleQML"])
    return [c.get("label") for c in qml.iter("category")]


def _both(capsys, args, *, nl, en, en_args=None):
    """The Dutch (default) and English output of ``args``; ``nl``/``en``: phrases of each."""
    dutch = _printed(capsys, args)
    english = _printed(capsys, [*(en_args or args), "--lang", "en"])
    for phrase in nl:
        assert phrase in dutch, (phrase, dutch)
        assert phrase not in english, (phrase, english)
    for phrase in en:
        assert phrase in english, (phrase, english)
        assert phrase not in dutch, (phrase, dutch)
    assert not re.findall(ENGLISH, dutch), (re.findall(ENGLISH, dutch), dutch)
    assert not re.findall(DUTCH, english), (re.findall(DUTCH, english), english)
    return dutch, english


@pytest.fixture(scope="module")
def study(tmp_path_factory):
    folder = tmp_path_factory.mktemp("lang")
    out = scan_with_zones(folder)
    pts = {"6211AA": (100, 10), "6211AB": (200, 10), "6212AA": (900, 5), "6212AB": (600, 300)}
    with open(folder / "pc6.csv", "w") as f:
        f.write("Zip,Lat,Lon\n")
        for pc6, (x, y) in pts.items():
            lon, lat = lonlat(x, y)
            f.write(f"{pc6},{lat},{lon}\n")
    rows = [("6211AA", "100", "30", "40"), ("6211AB", "50", "", "20"), ("6212AA", "80", "25", "30")]
    write_cbs(folder / "cbs.csv", rows)
    return folder, out


def test_scan_summary_and_its_warning(tmp_path, capsys):
    study = write_study(tmp_path)
    base = ["scan", "--study", str(study), "--data-dir", str(tmp_path), "-q", "--no-cache"]
    nl, en = _both(
        capsys,
        [*base, "--out", str(tmp_path / "nl.gpkg")],
        en_args=[*base, "--out", str(tmp_path / "en.gpkg")],
        nl=["nl.gpkg geschreven in", "  woningen: 20 in 5 punt(en)", "knopen", "afgeschermd"],
        en=["wrote", "  dwellings: 20 in 5 point(s)", "nodes", "suppressed"],
    )
    # the QGIS styles' legends in the same language
    from thuisdichtbij.engine.score import CLASS_LABELS_EN, CLASS_LABELS_NL

    assert f"1: {CLASS_LABELS_NL[1]}" in _style_labels(tmp_path / "nl.gpkg", "areas")
    assert f"1: {CLASS_LABELS_EN[1]}" in _style_labels(tmp_path / "en.gpkg", "areas")
    assert f"1: {CLASS_LABELS_EN[1]}" in _style_labels(tmp_path / "en.gpkg", "dwellings")
    # the audit's WARNING block: the study has no physiotherapist
    assert "WAARSCHUWING: de invoer beperkt" in nl
    assert "fysiotherapeut [ontbreekt]: geen in de invoer" in nl
    assert "WARNING: the input limits" in en and "physiotherapist [missing]" in en
    # numbers as each language writes them: the maximum 30.5, streets of 1 + 0.6 + 0.3 km
    assert " (van 30,5); " in nl and " (of 30.5); " in en
    assert "1,9 km (EPSG:28992)" in nl and "1.9 km (EPSG:28992)" in en
    assert re.search(r"geschreven in \d+,\d s", nl) and re.search(r" in \d+\.\d s", en)


def test_scan_says_when_the_data_covers_the_study_area_in_part(tmp_path, capsys):
    # The synthetic walkable streets' nodes (the motorway at y=-50 is not walkable) span the
    # hull (0,0) (1000,0) (800,600) (500,600): 390,000 m2 by the shoelace formula. A study
    # area of 1200 x 800 m around it: 390,000 / 960,000 = 40.6 %, said; one inside the hull
    # (x 350..800, y 10..400, where the hull spans x 333..867 and more): nothing said.
    import geopandas as gpd
    import pyogrio
    import yaml
    from shapely import box

    from ._synthetic import RD, at

    study = write_study(tmp_path)
    gem = gpd.GeoDataFrame(
        {"gemeente": ["Groot", "Klein"]},
        geometry=[box(*at(-100, -100), *at(1100, 700)), box(*at(350, 10), *at(800, 400))],
        crs=RD,
    )
    gem.to_file(tmp_path / "gem.gpkg", engine="pyogrio")
    spec = yaml.safe_load(study.read_text())
    base = ["scan", "--data-dir", str(tmp_path), "-q", "--no-cache"]
    for name in ("Groot", "Klein"):
        spec["study_area"] = {"file": "gem.gpkg", "id_field": "gemeente", "ids": [name]}
        if name == "Klein":  # no PC4 area lies half in it: its squares instead
            spec["leefbaarometer"]["areas"] = spec.pop("areas")
        (tmp_path / f"{name}.yaml").write_text(yaml.safe_dump(spec))
    nl, en = _both(
        capsys,
        [*base, "--study", str(tmp_path / "Groot.yaml"), "--out", str(tmp_path / "g.gpkg")],
        en_args=[*base, "--study", str(tmp_path / "Groot.yaml"), "--out", str(tmp_path / "e.gpkg")],
        nl=[
            "WAARSCHUWING: de gegevens (het wegennet) bedekken 41 % van het studiegebied;",
            "0 afgeschermd (te weinig woningen), 1 zonder klasse (onvoldoende gegevens); de "
            "klassen zetten maar 1 gebied(en) tegen elkaar af: weinig zeggend",
        ],
        en=[
            "WARNING: the data (the street network) covers 41 % of the study area;",
            "0 suppressed, 1 without a class (too little data); the classes set only 1 "
            "area(s) against each other: of little meaning",
        ],
    )
    meta = pyogrio.read_dataframe(tmp_path / "g.gpkg", layer="run_metadata")
    share = float(meta.set_index("key").loc["data_coverage", "value"])
    assert share == pytest.approx(390_000 / 960_000, abs=1e-4)
    # Each area's own share: PC4 6211 (x -100..450, y -100..700, 440,000 m2) holds the part
    # of the hull left of x=450, whose edge from (0,0) to (500,600) is x = 5y/6: the
    # integral of 450 - 5y/6 over y 0..540 = 121,500 m2, 27.6 %: no class, however many
    # dwellings it holds; 6212 (x 450..1100, 520,000 m2) the rest, 268,500 m2: 51.6 %
    areas = pyogrio.read_dataframe(tmp_path / "g.gpkg", layer="areas").set_index("area_id")
    assert areas["data_coverage"].to_dict() == pytest.approx(
        {"6211": 121_500 / 440_000, "6212": 268_500 / 520_000}, abs=1e-4
    )
    assert areas["data_status"].to_dict() == {"6211": "onvoldoende gegevens", "6212": "ok"}
    assert areas.loc["6211", "n_dwellings"] >= 5 and pd.isna(areas.loc["6211", "score_class"])
    # the plot check, in 6211 beside a street, says why the area has no class
    check = ["check", "--scan", str(tmp_path / "g.gpkg"), "--at", "176200,318020"]
    _both(
        capsys,
        [*check, "--crs", "EPSG:28992"],
        nl=["gebied 6211 heeft onvoldoende gegevens (maar 28% ervan ligt binnen de gegevens)"],
        en=["area 6211 has too little data (only 28% of it lies within the data)"],
    )
    klein = [*base, "--study", str(tmp_path / "Klein.yaml"), "--out", str(tmp_path / "k.gpkg")]
    out = _printed(capsys, klein)
    assert "bedekken" not in out and "WAARSCHUWING: de gegevens" not in out


def test_zones_and_compare_zones(study, capsys):
    folder, out = study
    nl, en = _both(
        capsys,
        ["zones", str(out), "-q"],
        nl=["woonzorgzone(s) (klasse >= 1", "cellen", "gemiddelde score", "laag zones geschreven"],
        en=["housing-with-care zone(s) (woonzorgzones; class >= 1", "cells", "mean score"],
    )
    assert "dwellings" not in nl and "Z01" in nl and "Z01" in en
    # the zones stand on the scan's input: its WARNING block (no physiotherapist) ends both
    assert "WAARSCHUWING: de invoer beperkt" in nl and "fysiotherapeut [ontbreekt]" in nl
    assert "WARNING: the input limits" in en and "physiotherapist [missing]" in en
    # the mean score with a decimal comma in Dutch, a point in English
    assert re.search(r"gemiddelde score \d+,\d\d;", nl) and re.search(r"mean score \d+\.\d\d;", en)
    # zones by demand add a grid whose QGIS style is labelled in the language asked for
    from thuisdichtbij.engine.score import CLASS_LABELS_EN, CLASS_LABELS_NL

    demand = ["--demand", str(folder / "cbs.csv"), "--points", str(folder / "pc6.csv"), "-q"]
    for lang, labels in (("en", CLASS_LABELS_EN), ("nl", CLASS_LABELS_NL)):
        _printed(capsys, ["zones", str(out), *demand, "--lang", lang])
        assert f"1: {labels[1]}" in _style_labels(out, "demand_grid"), lang
    _both(
        capsys,
        ["compare-zones", str(out), "--reference", str(out), "--reference-layer", "zones"]
        + ["--reference-name-field", "name"],
        nl=["tabel zone_comparison geschreven naar"],
        en=["wrote table zone_comparison to"],
    )


def test_demand(study, capsys):
    folder, out = study
    args = ["demand", str(out), "--population", str(folder / "cbs.csv")]
    _both(
        capsys,
        [*args, "--points", str(folder / "pc6.csv"), "-q"],
        nl=["65-plussers per klasse van hun gebied", "in gebieden van klasse 1-2:", "afgeschermd"],
        en=["residents of 65 and older per area class", "in class 1-2 areas:", "masked"],
    )


def test_whatif_site_and_check(study, capsys):
    folder, out = study
    lon, lat = lonlat(300, 5)
    whatif = ["whatif", str(out), "--add", f"huisarts@{lat},{lon}", "--out"]
    _both(
        capsys,
        [*whatif, str(folder / "w-nl.gpkg")],
        en_args=[*whatif, str(folder / "w-en.gpkg")],
        nl=["erbij huisarts", "woningen die vooruitgaan:", "klassen op de klassegrenzen"],
        en=["add general practitioner", "dwellings gaining:", "classes on the base run's"],
    )
    assert "beter" in _style_labels(folder / "w-nl.gpkg", "change")
    assert "better" in _style_labels(folder / "w-en.gpkg", "change")
    _both(
        capsys,
        ["site", str(out), "--indicator", "gp", "--n", "1"],
        nl=["1 nieuwe locatie(s) voor huisarts uit", "gewogen naar: woningen", "laag sites_gp"],
        en=["1 new general practitioner site(s) from", "weight: dwellings", "layer sites_gp"],
    )
    _both(
        capsys,
        ["check", "--scan", str(out), "--at", f"{lat},{lon}"],
        nl=["Locatie", "m van de straat", "loopafstand", "een woonzorgzone"],
        en=["Location", "m from the street", "walk", "a housing-with-care zone"],
    )


def test_diff_and_map(study, tmp_path, capsys):
    pytest.importorskip("rasterio")
    folder, out = study
    old = tmp_path / "old.gpkg"
    old.write_bytes(out.read_bytes())
    _both(
        capsys,
        ["diff", str(old), str(out), "--out", str(tmp_path / "d1.gpkg")],
        en_args=["diff", str(old), str(out), "--out", str(tmp_path / "d2.gpkg")],
        nl=["gebieden vergeleken:", "voorzieningen: 0 erbij, 0 verdwenen", "geschreven: "],
        en=["areas compared:", "amenities: 0 appeared, 0 disappeared", "wrote "],
    )
    _both(
        capsys,
        ["map", str(out), "--tif", str(tmp_path / "a.tif")],
        en_args=["map", str(out), "--tif", str(tmp_path / "b.tif")],
        nl=["geschreven: "],
        en=["wrote "],
    )


def test_fetch_and_serve_lines(study, tmp_path, capsys, monkeypatch):
    from thuisdichtbij.apps import serve
    from thuisdichtbij.apps.commands import scan as scan_commands

    monkeypatch.setattr(scan_commands, "fetch", lambda *a, **k: tmp_path / "x" / "study.yaml")
    _both(
        capsys,
        ["fetch", "--municipality", "Maastricht", "--out", str(tmp_path / "x"), "--offline"],
        nl=["study.yaml geschreven; scan de studie met: thuisdichtbij scan --study"],
        en=["study.yaml; scan it with: thuisdichtbij scan --study"],
    )
    pytest.importorskip("uvicorn")
    monkeypatch.setattr("uvicorn.run", lambda *a, **k: None)
    serve.run(study[1], lang="nl")
    assert "scan.gpkg staat op http://127.0.0.1:8000 (Ctrl-C stopt)" in capsys.readouterr().out
    serve.run(study[1], lang="en")
    assert "serving" in capsys.readouterr().out


def test_an_unknown_language_is_refused(study, capsys):
    _, out = study
    assert main(["zones", str(out), "--lang", "de"]) == 2
    assert "invalid choice: 'de'" in capsys.readouterr().err


def test_zones_say_the_scans_warning_in_the_scans_own_settings(tmp_path, capsys):
    # a scan with its own audit limit (10 % unscored): zones repeat its WARNING block with
    # that limit, not the shipped 20 %
    study = write_study(tmp_path)
    (tmp_path / "w.yaml").write_text("audit: {max_unscored_share: 0.1}\n")
    out = tmp_path / "s.gpkg"
    scan = ["scan", "--study", str(study), "--data-dir", str(tmp_path), "-q", "--no-cache"]
    assert "meer dan 10%" in _printed(capsys, [*scan, "--weights", str(tmp_path / "w.yaml"),
                                               "--out", str(out)])  # fmt: skip
    printed = _printed(capsys, ["zones", str(out), "-q"])
    assert "meer dan 10%" in printed and "meer dan 20%" not in printed
