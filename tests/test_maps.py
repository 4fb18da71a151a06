"""Maps of a scan: the HTML in a real browser, the PNG and PDF, the GeoTIFF."""

import os
import shutil

import numpy as np
import pytest

from thuisdichtbij import scan
from thuisdichtbij.analyses.zones import make_zones
from thuisdichtbij.apps.cli import main

ARTIFACTS = os.path.join(os.path.dirname(__file__), "artifacts")
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
CLASS_NAMES = [
    "Sterk beneden gemiddeld",
    "Beneden gemiddeld",
    "Gemiddeld",
    "Boven gemiddeld",
    "Sterk boven gemiddeld",
]


@pytest.fixture(scope="module")
def maastricht(data_dir, tmp_path_factory):
    folder = tmp_path_factory.mktemp("maps")
    out = scan("maastricht", data_dir=data_dir).to_gpkg(folder / "maastricht.gpkg")
    make_zones(out).to_gpkg(out)
    return out, folder


def test_map_command_writes_everything(maastricht, capsys):
    out, folder = maastricht
    code = main(
        [
            "map",
            str(out),
            "--out",
            str(folder / "m.html"),
            "--png",
            str(folder / "m.png"),
            "--pdf",
            str(folder / "m.pdf"),
            "--tif",
            str(folder / "m.tif"),
        ]
    )
    assert code == 0
    html = (folder / "m.html").read_text()
    # one self-contained file: Leaflet inlined, no script or style sheet from elsewhere
    assert "<script src=" not in html and 'rel="stylesheet" href="http' not in html
    assert "L.map(" in html or "L.map =" in html or "leaflet" in html.lower()
    for name in CLASS_NAMES:
        assert name in html
    # the audit: PC4 6223 drawn as 'onvoldoende gegevens', the thin and missing inputs named
    assert "Onvoldoende gegevens" in html
    assert 'id="data-note"' in html
    note = html.split('id="data-note"')[1].split("</div>")[0]
    assert "ontbreekt: fysiotherapeut" in note and "huisarts" in note and "geen voetpaden" in note
    from PIL import Image

    img = np.asarray(Image.open(folder / "m.png").convert("L"), dtype=float)
    assert img.shape[1] > 1500 and img.std() > 10
    pdf = (folder / "m.pdf").read_bytes()
    assert pdf.startswith(b"%PDF") and b"%%EOF" in pdf[-64:] and b"/Type /Page" in pdf


def test_geotiff_matches_the_grid(maastricht):
    import pyogrio
    import rasterio

    from thuisdichtbij.outputs.raster import grid_tif

    out, folder = maastricht
    tif = grid_tif(out, folder / "grid.tif")
    grid = pyogrio.read_dataframe(out, layer="grid")
    with rasterio.open(tif) as r:
        assert r.count == 2 and r.res == (100.0, 100.0)
        assert r.transform.c % 100 == 0 and r.transform.f % 100 == 0
        assert r.crs.to_epsg() == 28992
        score, klass = r.read(1), r.read(2)
        cell = grid[grid["score_mean"].notna()].iloc[0]
        c = cell.geometry.centroid
        row, col = r.index(c.x, c.y)
        assert score[row, col] == pytest.approx(cell["score_mean"], rel=1e-6)
        assert klass[row, col] == cell["score_class"]
        assert (score == r.nodata).sum() > 0  # empty cells are nodata
        assert np.nanmax(score[score != r.nodata]) <= 30.5


def test_map_of_a_file_that_is_not_a_scan(tmp_path, capsys):
    import geopandas as gpd
    from shapely import Point

    p = tmp_path / "x.gpkg"
    gpd.GeoDataFrame({"a": [1]}, geometry=[Point(0, 0)], crs=28992).to_file(p, layer="roads")
    assert main(["map", str(p), "--out", str(tmp_path / "x.html")]) == 2
    err = capsys.readouterr().err
    assert "is not a thuisdichtbij scan: it has no layer dwellings, areas, run_metadata" in err


def test_map_needs_an_output(maastricht, capsys):
    out, _ = maastricht
    assert main(["map", str(out)]) == 2
    assert "say what to write" in capsys.readouterr().err


@pytest.mark.skipif(CHROMIUM is None, reason="no chromium (apt-get install chromium)")
def test_html_map_in_a_real_browser(maastricht):
    from playwright.sync_api import sync_playwright

    out, folder = maastricht
    html = folder / "browser.html"
    main(["map", str(out), "--out", str(html)])
    os.makedirs(ARTIFACTS, exist_ok=True)
    with sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=CHROMIUM,
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
            ],
        )
        try:
            page = browser.new_page(viewport={"width": 1400, "height": 900})
            page.goto(html.as_uri())
            page.wait_for_selector(".leaflet-container")
            legend = page.inner_text("#legend")
            for name in CLASS_NAMES:
                assert name in legend
            areas = page.locator("path.leaflet-interactive")
            assert areas.count() >= 18
            # click inside an area (one with few amenity markers on it): its popup opens
            import pyogrio

            areas_gdf = pyogrio.read_dataframe(out, layer="areas").to_crs(4326)
            target = areas_gdf.set_index("area_id").loc["6223"]
            pt = target.geometry.representative_point()
            x, y = page.evaluate(
                """([lat, lon]) => {
                    const m = window[Object.keys(window).find(k => k.startsWith('map_'))];
                    const p = m.latLngToContainerPoint([lat, lon]);
                    return [p.x, p.y];
                }""",
                [pt.y, pt.x],
            )
            box = page.locator(".leaflet-container").bounding_box()
            page.mouse.click(box["x"] + x, box["y"] + y)
            page.wait_for_selector(".leaflet-popup-content", timeout=5000)
            popup = page.inner_text(".leaflet-popup-content")
            assert "6223" in popup and "gemiddelde punten" in popup
            page.wait_for_timeout(600)  # let the popup finish fading in and panning
            page.screenshot(path=os.path.join(ARTIFACTS, "maastricht-map.png"))
        finally:
            browser.close()


def test_data_note_from_metadata():
    from thuisdichtbij.outputs._mapkit import data_note

    meta = {"audit_missing": "physio", "audit_thin": "gp, pharmacy", "audit_footpaths": "ok"}
    assert data_note(meta, "nl") == (
        "Let op, invoergegevens: ontbreekt: fysiotherapeut; dun: huisarts, apotheek."
    )
    assert "missing: physiotherapist" in data_note(meta, "en")
    # a scan from before the audit, or one without gaps: no note
    assert data_note({}, "nl") == ""
    assert data_note({"audit_missing": "", "audit_thin": "", "audit_footpaths": "ok"}, "en") == ""
