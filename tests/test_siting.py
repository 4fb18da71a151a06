"""Siting: coverage on paper, and the solver against brute force on a hand-made network."""

import re
from itertools import combinations

import geopandas as gpd
import numpy as np
import pytest
from shapely import LineString, Point

from thuisdichtbij import scan
from thuisdichtbij.analyses.siting import coverage, grid_candidates, rank_sites, site, solve_mclp
from thuisdichtbij.analyses.whatif import load_whatif, parse_addition, whatif
from thuisdichtbij.config import load_config
from thuisdichtbij.engine.network import build_network
from thuisdichtbij.engine.snap import snap_points
from thuisdichtbij.errors import InputError

from ._synthetic import write_study

RD = "EPSG:28992"
CFG = load_config()


def _net(lines):
    gdf = gpd.GeoDataFrame(geometry=[LineString(c) for c in lines], crs=RD)
    return build_network(gdf, filter_walkable=False)


def _snap(net, xy):
    return snap_points(np.array([Point(p) for p in xy]), net, max_snap_m=250)


def test_coverage_on_paper():
    # A street of 2 km; dwellings at x=0 (0 points now) and x=1000 (1 point now: its nearest
    # is 250-500 m away). Candidates every 100 m.
    net = _net([[(x, 0), (x + 100, 0)] for x in range(0, 2000, 100)])
    dw = _snap(net, [(0, 0), (1000, 0)])
    cand = _snap(net, [(x, 0) for x in range(0, 2001, 100)])
    cover = coverage(net, dw, np.array([0.0, 1.0]), cand, CFG).toarray()
    xs = np.arange(0, 2001, 100)
    np.testing.assert_array_equal(cover[0], xs <= 500)  # any band is better than none
    np.testing.assert_array_equal(cover[1], np.abs(xs - 1000) <= 250)  # only the 250 m band


def _grid_case():
    """A 5 x 5 block grid of 200 m with weighted dwellings; candidates on every node."""
    lines = []
    for i in range(6):
        for j in range(5):
            lines.append([(j * 200, i * 200), ((j + 1) * 200, i * 200)])
            lines.append([(i * 200, j * 200), (i * 200, (j + 1) * 200)])
    net = _net(lines)
    rng = np.random.default_rng(3)
    xy = [(float(x), float(y)) for x, y in rng.uniform(0, 1000, size=(40, 2))]
    weights = rng.integers(1, 20, size=40).astype(float)
    now = rng.choice([0.0, 0.0, 1.0], size=40)
    dw = _snap(net, xy)
    cand = _snap(net, [(x, y) for x in range(0, 1001, 200) for y in range(0, 1001, 200)])
    return coverage(net, dw, now, cand, CFG), weights


def _covered(cover, weights, chosen):
    return weights[np.asarray(cover[:, list(chosen)].sum(axis=1)).ravel() > 0].sum()


@pytest.mark.parametrize("n", [1, 2, 3])
def test_solver_equals_brute_force(n):
    cover, weights = _grid_case()
    k = cover.shape[1]
    best = max(_covered(cover, weights, c) for c in combinations(range(k), n))
    chosen, optimal = solve_mclp(cover, weights, n)
    assert optimal and len(chosen) == n
    assert _covered(cover, weights, chosen) == best
    order, gains = rank_sites(cover, weights, chosen)
    assert sorted(order) == sorted(chosen)
    assert gains.sum() == best
    assert list(gains) == sorted(gains, reverse=True)
    # The first site is the best single site among the chosen.
    assert gains[0] == max(_covered(cover, weights, [j]) for j in chosen)


def test_grid_candidates_one_node_per_square():
    net = _net([[(x, 0), (x + 50, 0)] for x in range(0, 1000, 50)])
    pts = grid_candidates(net, np.array([Point(120, 5)]), spacing_m=100, built_up_m=200)
    # Nodes within 200 m of x=120: x = 0..300 (every 50 m); per 100 m square the node
    # nearest its centre (50, 150, 250 m) and x=300, alone in the square from 300 to 400.
    assert sorted(p.x for p in pts) == [50.0, 150.0, 250.0, 300.0]


def test_site_on_a_scan_agrees_with_whatif(tmp_path):
    study = write_study(tmp_path)
    path = scan(study, data_dir=tmp_path).to_gpkg(tmp_path / "scan.gpkg")
    ctx = load_whatif(path)
    result = site(ctx, indicator="huisarts", n=2, spacing_m=100)
    assert len(result.sites) == 2
    first = result.sites.iloc[0]
    g = first.geometry
    alone = whatif(ctx, add=[parse_addition(ctx, f"gp@{g.x},{g.y}", crs=RD)])
    assert alone.summary["dwellings_gaining"] == pytest.approx(first["alone_dwellings"])
    result.to_gpkg(path)
    import pyogrio

    assert "sites_gp" in {str(n) for n in pyogrio.list_layers(path)[:, 0]}
    # GPs are there as the audit expects them: no audit warning; but both sites lie within
    # a walk of the data's edge (its streets span 1000 x 600 m), and that is said
    assert result.metadata["audit_verdict"] == "ok"
    extent = ctx.check.extent
    edge = [round(extent.exterior.distance(p), 1) for p in result.sites.geometry]
    assert result.sites["edge_m"].tolist() == edge and max(edge) < 500
    assert result.metadata["near_data_edge"] == "2"
    assert result.warning["en"] == (
        "WARNING: 2 of the 2 sites lie within 500 m of the data's edge: what lies beyond is "
        "missing, so their gains may be a gap in the data (column edge_m)."
    )
    assert "2 van de 2 locaties liggen binnen 500 m" in result.metadata["audit_warning_nl"]


def test_site_refuses_a_sub_indicator_the_input_lacks(tmp_path, capsys):
    # the synthetic study has no physiotherapist: every dwelling scores 0 for them, so the
    # sites would only follow the dwellings
    from thuisdichtbij.apps.cli import main

    study = write_study(tmp_path)
    path = scan(study, data_dir=tmp_path).to_gpkg(tmp_path / "scan.gpkg")
    with pytest.raises(InputError, match="no physiotherapist .*'ontbreekt'") as err:
        site(load_whatif(path), indicator="fysiotherapeut", n=1)
    assert "geen fysiotherapeut" in err.value.in_language("nl")
    assert main(["site", str(path), "--indicator", "physio", "--png", str(tmp_path / "s.png")]) == 2
    said = capsys.readouterr()
    assert said.out == "" and len(said.err.strip().splitlines()) == 1
    assert "indicator: physio" in said.err  # the fix: how to add them to the study
    import pyogrio

    assert "sites_physio" not in {str(n) for n in pyogrio.list_layers(path)[:, 0]}
    assert not (tmp_path / "s.png").exists()


def test_site_on_maastricht_says_its_gps_are_thin(data_dir, tmp_path, capsys):
    # the mirror holds 3 GPs for ~62,000 dwellings (0.5 per 10,000, reference 6.2): the
    # advice stands, but says what the scan says, where the planner looks
    import matplotlib.pyplot as plt
    import pyogrio

    from thuisdichtbij.analyses.audit import finding, warning_text
    from thuisdichtbij.apps.cli import main
    from thuisdichtbij.outputs.scanfile import read_metadata
    from thuisdichtbij.outputs.sites_map import sites_figure

    pytest.importorskip("folium")
    result = scan("maastricht", data_dir=data_dir)
    path = result.to_gpkg(tmp_path / "m.gpkg")
    png, html = tmp_path / "s.png", tmp_path / "s.html"
    args = ["site", str(path), "--indicator", "huisarts", "--n", "1", "-q"]
    assert main([*args, "--png", str(png), "--html", str(html)]) == 0
    out = capsys.readouterr().out
    scan_said = warning_text(result.audit, config=result.config, lang="nl").splitlines()
    line = next(x for x in scan_said if x.startswith("  huisarts [dun]"))
    assert "3 in de invoer, 0,5 per 10.000 woningen (referentie 6,2)" in line
    # the scan's own WARNING head and line, and what it means for the gains, last
    assert scan_said[0] in out and f"{line}\n" in out and out.rstrip().endswith("tellen niet mee.")
    meta = read_metadata(path)
    nl = finding(result.audit, "gp", config=result.config, lang="nl")
    assert meta["sites_gp.audit_verdict"] == "dun"
    assert meta["sites_gp.audit_warning_nl"].startswith(f"{nl}. De winst van deze locaties")
    en = finding(result.audit, "gp", config=result.config, lang="en")
    assert en.startswith("general practitioner [thin]: 3 in the input")
    assert meta["sites_gp.audit_warning_en"].startswith(f"{en}. The sites' gains are overstated")
    assert "sites_gp" in {str(n) for n in pyogrio.list_layers(path)[:, 0]}
    note = html.read_text().split('id="data-note"')[1].split("</div>")[0]
    assert nl in note and "overschat" in note
    assert main([*args, "--lang", "en"]) == 0
    assert "general practitioner [thin]" in capsys.readouterr().out
    fig = sites_figure(path, "sites_gp", lang="en")
    try:
        texts = {t.get_gid(): t for t in fig.texts if t.get_gid()}
        said = texts["legend-note"].get_text().replace("\n", " ")
        assert en in said and "overstated" in said and "+" in said.split("overstated")[1]
        # the longer note makes the panel taller: it ends above the sources line
        r = fig.canvas.get_renderer()
        bottom = texts["legend-note"].get_window_extent(r).y0
        assert bottom > texts["sources"].get_window_extent(r).y1
    finally:
        plt.close(fig)


def test_cli_whatif_and_site(tmp_path, capsys):
    import json

    from thuisdichtbij.apps.cli import main

    from ._synthetic import lonlat

    study = write_study(tmp_path)
    path = scan(study, data_dir=tmp_path).to_gpkg(tmp_path / "scan.gpkg")
    lon, lat = lonlat(300, 5)
    code = main(["whatif", str(path), "--add", f"huisarts@{lat},{lon}", "--json", "--out",
                 str(tmp_path / "s.gpkg")])  # fmt: skip
    assert code == 0
    js = json.loads(capsys.readouterr().out)
    assert {"dwellings_gaining", "dwellings_losing", "residents_65plus_gaining", "areas"} <= set(js)
    assert (tmp_path / "s.gpkg").is_file()
    assert main(["whatif", str(path), "--add", "bakker@52,4"]) == 2
    capsys.readouterr()
    # the table of areas whose mean changes, with a Dutch decimal comma
    assert main(["whatif", str(path), "--add", f"huisarts@{lat},{lon}"]) == 0
    table = capsys.readouterr().out.split("class_after")[1]
    assert re.search(r"\d,\d{3}", table) and not re.search(r"\d\.\d{3}", table)
    assert main(["site", str(path), "--indicator", "gp", "--n", "1", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["sites"][0]["rank"] == 1


@pytest.mark.parametrize(
    ("lang", "title", "tip"),
    [
        ("nl", "1 nieuwe locatie(s) voor huisarts", "woningen ("),
        ("en", "1 new site(s) for general practitioner", "dwellings ("),
    ],
)
def test_site_maps_speak_the_language_asked(tmp_path, capsys, lang, title, tip):
    from thuisdichtbij.apps.cli import main

    pytest.importorskip("folium")
    study = write_study(tmp_path)
    path = scan(study, data_dir=tmp_path).to_gpkg(tmp_path / "scan.gpkg")
    png, html = tmp_path / "s.png", tmp_path / "s.html"
    args = ["site", str(path), "--indicator", "gp", "--n", "1", "--png", str(png)]
    assert main([*args, "--html", str(html), "--lang", lang, "-q"]) == 0
    page = html.read_text()
    assert title in page and tip in page
    other = "dwellings (" if lang == "nl" else "woningen ("
    assert other not in page
    # the areas as on the scan's web map: its legend, the classes in words, the states; a
    # row for the sites, none for the network and grid this map does not draw
    legend = page.split('id="legend"')[1]
    strong = "Sterk boven gemiddeld" if lang == "nl" else "Strongly above average"
    site = "Nieuwe locatie" if lang == "nl" else "New site"
    assert strong in legend and site in legend
    assert "loopnetwerk" not in legend and "walking network" not in legend
    assert '"state"' in page and '"klasse"' in page
    assert png.stat().st_size > 10_000
    # the PNG's words: the title, a line per site under the legend, the site in the legend
    import matplotlib.pyplot as plt

    from thuisdichtbij.outputs.sites_map import sites_figure

    fig = sites_figure(path, "sites_gp", lang=lang)
    try:
        texts = {t.get_gid(): t.get_text() for t in fig.texts if t.get_gid()}
        assert texts["title"].startswith(title)
        # the scan's own note first (this scan has no physiotherapist), the site's line last
        lines = texts["legend-note"].splitlines()
        head = "Let op, invoergegevens" if lang == "nl" else "Mind the input data"
        assert lines[0].startswith(head)
        assert lines[-1].startswith("1: +") and tip in lines[-1] + " ("
        assert any(t.get_text().startswith(site) for t in fig.legends[0].get_texts())
    finally:
        plt.close(fig)
