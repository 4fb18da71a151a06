"""Two scans that differ in one amenity, one weight, or both: the changes worked out by hand."""

import json
import re
import shutil

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import pytest
from shapely import Point, box

from thuisdichtbij import load_config, scan
from thuisdichtbij.analyses.diff import diff_scans
from thuisdichtbij.apps.cli import main

from ._pictures import printed_sources, shown_sources
from ._synthetic import write_study

PHARMACY = "node/1"  # Apotheek Hoofdstraat at (350, 0)


def _scan(base, folder, *, drop_pharmacy=False, gp_weight=2):
    # Copies of one set of inputs: a GeoPackage written twice differs in its timestamps.
    shutil.copytree(base, folder, dirs_exist_ok=True)
    study = folder / "study.yaml"
    if drop_pharmacy:
        poi = folder / "osm-poi.geojson"
        fc = json.loads(poi.read_text())
        fc["features"] = [f for f in fc["features"] if f["id"] != PHARMACY]
        poi.write_text(json.dumps(fc))
    cfg = load_config(overrides={"weights": {"gp": gp_weight}})
    r = scan(study, data_dir=folder, config=cfg)
    out = r.to_gpkg(folder / "scan.gpkg")
    frames = {"dwellings": r.dwellings, "areas": r.areas, "amenities": r.amenities}
    return frames, r.metadata, out


@pytest.fixture(scope="module")
def scans(tmp_path_factory):
    base = tmp_path_factory.mktemp("inputs")
    write_study(base)

    def make(name, **kw):
        return _scan(base, tmp_path_factory.mktemp(name), **kw)

    return {
        "old": make("old"),
        "amenity": make("amenity", drop_pharmacy=True),
        "weight": make("weight", gp_weight=3),
        "both": make("both", drop_pharmacy=True, gp_weight=3),
    }


def _gpkg(scans, which):
    return scans[which][2]


def _diff(scans, which):
    (old, om, _), (new, nm, _) = scans["old"], scans[which]
    return diff_scans(old, new, old_metadata=om, new_metadata=nm, lang="en")


def test_one_amenity_gone(scans):
    d = _diff(scans, "amenity")
    dw = d.dwellings.set_index("dwelling_id")
    # The pharmacy at (350, 0) was 260 m from D1, 450 m from D2 and 295 m from D4 (1 pt
    # each, weight 1), 555 m from D3 (0 pts). Scores before: 9.5, 9.5, 3.5, 9.5.
    assert dw.loc[["D1", "D2", "D3", "D4"], "d_pts_pharmacy"].tolist() == [-1, -1, 0, -1]
    assert dw.loc[["D1", "D2", "D3", "D4"], "score_change"].tolist() == [-1, -1, 0, -1]
    assert dw.loc[["D1", "D2", "D4"], "change_points"].tolist() == [-1, -1, -1]
    assert (dw.loc[["D1", "D2", "D3", "D4"], "change_weights"] == 0).all()
    assert "pharmacy -1 pts: -node/1 (Apotheek Hoofdstraat)" in dw.loc["D1", "cause"]
    assert dw.loc["D3", "cause"] == ""
    assert dw.loc["D1", "status"] == "both" and len(dw) == 5
    assert d.amenities[["change", "indicator", "source_id"]].values.tolist() == [
        ["disappeared", "pharmacy", PHARMACY]
    ]
    runs = d.runs.set_index("item")
    assert runs.loc["osm-poi.geojson", "kind"] == "input"
    assert not (d.runs["kind"] == "config").any()
    # Areas: 6211 holds D1 (10 dwellings) and D4 (2): 9.5 -> 8.5; 6212 holds D2 (3) and
    # D3 (4): (3 x 9.5 + 4 x 3.5) / 7 -> (3 x 8.5 + 4 x 3.5) / 7, i.e. -3/7.
    ar = d.areas.set_index("area_id")
    assert ar.loc["6211", "score_change"] == pytest.approx(-1)
    assert ar.loc["6212", "score_change"] == pytest.approx(-3 / 7)
    assert ar.loc["6212", "d_pts_pharmacy"] == pytest.approx(-3 / 7)
    # The study mean (19 dwellings) fell by (10 + 3 + 2) / 19.
    assert ar.loc["6211", "score_change_relative"] == pytest.approx(-1 + 15 / 19)
    assert "-node/1" in ar.loc["6212", "cause"]


def test_the_summary_counts_points_as_points_and_dwellings_by_their_weight(scans):
    d = _diff(scans, "amenity")
    # Five points standing for 20 dwellings (weights 10, 3, 4, 2, 1); the pharmacy's loss
    # changes the scores of D1, D2 and D4: 3 points, 15 dwellings. D5 is not scored.
    assert d.summary(lang="en").splitlines()[2] == (
        "dwellings: 20 in 5 point(s) in both, 0 in 0 point(s) new, 0 in 0 point(s) gone; "
        "15 in 3 point(s) with another score"
    )
    # D3 (4 dwellings) only in the new scan, D5 (1) only in the old
    status = d.dwellings["status"].where(~d.dwellings["dwelling_id"].eq("D3"), "new_only")
    d.dwellings["status"] = status.where(~d.dwellings["dwelling_id"].eq("D5"), "old_only")
    assert d.summary(lang="nl").splitlines()[2] == (
        "woningen: 15 in 3 punt(en) in beide, 4 in 1 punt(en) nieuw, 1 in 1 punt(en) "
        "verdwenen; 15 in 3 punt(en) met een andere score"
    )


def test_one_weight_changed(scans):
    d = _diff(scans, "weight")
    dw = d.dwellings.set_index("dwelling_id")
    # Only D2 has a GP within reach (50 m, 2 pts): 2 x (3 - 2) = +2, all from the weight.
    assert dw.loc[["D1", "D2", "D3", "D4"], "score_change"].tolist() == [0, 2, 0, 0]
    assert dw.loc["D2", "change_weights"] == 2 and dw.loc["D2", "change_points"] == 0
    assert "weight gp 2->3" in dw.loc["D2", "cause"]
    assert d.amenities.empty
    runs = d.runs.set_index("item")
    assert runs.loc["weights.gp", ["kind", "old", "new"]].tolist() == ["config", "2", "3"]
    assert not (d.runs["kind"] == "input").any()
    assert d.areas.set_index("area_id").loc["6212", "change_weights"] == pytest.approx(6 / 7)


def test_amenity_and_weight(scans):
    d = _diff(scans, "both")
    dw = d.dwellings.set_index("dwelling_id")
    # D2: pharmacy -1 x 1 (new weight) and GP 2 x (+1): +1.
    assert dw.loc["D2", ["change_points", "change_weights", "score_change"]].tolist() == [-1, 2, 1]
    assert dw.loc["D2", "change_other"] == 0
    assert "pharmacy -1 pts" in dw.loc["D2", "cause"] and "weight gp" in dw.loc["D2", "cause"]
    assert set(d.runs["kind"]) == {"input", "config"}
    ch = d.dwellings.dropna(subset=["class_change"])
    assert (ch["class_change"] == ch["class_change_own"] + ch["class_change_edges"]).all()


def _areas(scores, classes):
    geoms = [box(i * 10, 0, i * 10 + 10, 10) for i in range(len(scores))]
    pts = {f"pts_{i}": 0.0 for i in load_config().indicator_ids}
    return gpd.GeoDataFrame(
        {
            "area_id": [f"A{i}" for i in range(len(scores))],
            "n_dwellings": 10,
            "score_mean": scores,
            **pts,
            "safety_pts": 3.0,
            "score_class": pd.array(classes, dtype="Int64"),
        },
        geometry=geoms,
        crs="EPSG:28992",
    )


def test_own_change_and_moved_average_are_told_apart(tmp_path):
    """Edges 2/4/6/8 become 3/5/7/9 (the average rose by 1): A0 keeps its score 4.5 and
    drops from class 3 to 2 by the edges alone; A1 rose 5.5 -> 7.5, class 3 -> 4: against
    the new edges 5.5 is class 3, so +1 is its own doing and 0 the edges'."""
    dw = gpd.GeoDataFrame(
        {"dwelling_id": ["x"], "area_id": ["A0"], "weight": [1.0], "score": [1.0]}
        | {f"pts_{i}": [0.0] for i in load_config().indicator_ids}
        | {"safety_pts": [3.0], "score_class": pd.array([1], dtype="Int64")},
        geometry=[Point(1, 1)],
        crs="EPSG:28992",
    )
    amen = gpd.GeoDataFrame(
        {"indicator": [], "name": [], "source": [], "source_id": []},
        geometry=[],
        crs="EPSG:28992",
    )
    cfg = json.dumps({"bands": [{"max_m": 250, "points": 2}, {"max_m": 500, "points": 1}]})
    weights = json.dumps(dict(load_config().weights))

    def meta(edges):
        e = json.dumps(edges)
        return {
            "weights": weights,
            "config": cfg,
            "class_edges_areas": e,
            "class_edges_dwellings": e,
        }

    old = {"dwellings": dw, "areas": _areas([4.5, 5.5, 5.0], [3, 3, 3]), "amenities": amen}
    # A2 has no class in the new scan (e.g. too many unscored dwellings): not compared.
    new = {"dwellings": dw, "areas": _areas([4.5, 7.5, np.nan], [2, 4, None]), "amenities": amen}
    d = diff_scans(
        old, new, old_metadata=meta([2, 4, 6, 8]), new_metadata=meta([3, 5, 7, 9]), lang="en"
    )
    ar = d.areas.set_index("area_id")
    assert ar["class_change"].tolist()[:2] == [-1, 1]
    assert ar["class_change_own"].tolist()[:2] == [0, 1]
    assert ar["class_change_edges"].tolist()[:2] == [-1, 0]
    assert pd.isna(ar.loc["A2", "class_change"])
    # and no class change split for it: the edges moved nothing (its class was lost)
    assert ar.loc[["A2"], ["class_change_own", "class_change_edges"]].isna().all(axis=None)
    assert (
        ar.loc["A2", "cause"] == "no class in the new scan (too few dwellings or too little data)"
    )
    pytest.importorskip("matplotlib")
    from thuisdichtbij.outputs.diff_map import diff_png

    assert diff_png(d, tmp_path / "d.png").stat().st_size > 10_000
    assert "class edges moved (-1 class)" in ar.loc["A0", "cause"]
    assert np.isclose(ar.loc["A1", "score_change"], 2.0)


def test_the_maps_of_a_diff_credit_the_sources_of_both_scans(scans, tmp_path, monkeypatch):
    pytest.importorskip("folium")
    from thuisdichtbij.outputs.diff_map import diff_html, diff_png

    (old, om, _), (new, nm, _) = scans["old"], scans["weight"]
    osm = "© OpenStreetMap-bijdragers (ODbL 1.0)"
    om = {**om, "attribution": f"{osm}; CBS (CC BY 4.0)"}
    nm = {**nm, "attribution": f"{osm}; Haltes: OVapi GTFS"}
    d = diff_scans(old, new, old_metadata=om, new_metadata=nm)
    footers = printed_sources(monkeypatch)
    diff_png(d, tmp_path / "d.png", lang="en")
    page = diff_html(d, tmp_path / "d.html", lang="en").read_text()
    # each source once, the old scan's first
    assert footers == [
        f"{osm}; CBS (CC BY 4.0); Haltes: OVapi GTFS. thuisdichtbij diff: classes are relative; "
        "see the table diff_areas."
    ]
    assert shown_sources(page) == footers[0]


def test_cli_writes_tables_and_maps(scans, tmp_path, capsys, monkeypatch):
    pytest.importorskip("folium")
    from thuisdichtbij.outputs._mapkit import scan_credits
    from thuisdichtbij.outputs.scanfile import read_metadata
    from thuisdichtbij.outputs.static_map import _footer

    footers = printed_sources(monkeypatch)
    old = _gpkg(scans, "old")
    new = _gpkg(scans, "both")
    out, html, png = tmp_path / "diff.gpkg", tmp_path / "diff.html", tmp_path / "diff.png"
    args = ["diff", str(old), str(new), "--out", str(out), "--html", str(html), "--png", str(png)]
    assert main(args) == 0
    text = capsys.readouterr().out
    assert "voorzieningen: 0 erbij, 1 verdwenen" in text
    assert "woningen: 20 in 5 punt(en) in beide" in text  # points and the dwellings they hold
    assert "config: weights.gp: 2 -> 3" in text
    # numbers with a Dutch decimal comma: the study mean with four decimals, each side
    mean = re.search(r"gemiddelde score van de studie: (\S+) -> (\S+);", text)
    assert mean and all(re.fullmatch(r"\d+,\d{4}", m) for m in mean.groups())
    layers = {str(n) for n in pyogrio.list_layers(out)[:, 0]}
    assert {"diff_areas", "diff_dwellings", "diff_amenities", "diff_runs", "layer_styles"} <= layers
    styles = pyogrio.read_dataframe(out, layer="layer_styles")
    assert set(styles["f_table_name"]) == {"diff_areas", "diff_dwellings"}
    areas = pyogrio.read_dataframe(out, layer="diff_areas")
    assert areas.set_index("area_id").loc["6211", "score_change"] == pytest.approx(-1)
    page = html.read_text()
    assert "Klasseverandering" in page and "-node/1 (Apotheek Hoofdstraat)" in page
    assert png.stat().st_size > 10_000
    # both maps credit the sources the scans' own maps credit (the PNG had no sources line)
    meta = read_metadata(new)
    assert footers[0].startswith(scan_credits(meta, "nl") + ". ")
    assert _footer(meta, "nl").startswith(scan_credits(meta, "nl") + ". ")
    assert shown_sources(page) == footers[0]
    # Without --out the tables go into the new scan, next to its own layers.
    assert main(["diff", str(old), str(new)]) == 0
    assert "diff_areas" in {str(n) for n in pyogrio.list_layers(new)[:, 0]}
    assert main(["diff", str(old), str(tmp_path / "missing.gpkg")]) == 2


def test_the_diff_map_writes_the_mean_as_the_console_does():
    # a decimal comma in Dutch (the PNG's note said "6.6996 -> 6.7961")
    from thuisdichtbij.outputs.diff_map import mean_note

    md = {"study_mean_old": "6.6996", "study_mean_new": "6.7961"}
    assert mean_note(md, "nl") == "Gemiddelde score van het studiegebied: 6,6996 -> 6,7961"
    assert mean_note(md, "en") == "Mean score of the study area: 6.6996 -> 6.7961"
