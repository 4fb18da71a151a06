"""Maps of a scan: the HTML in a real browser, the PNG and PDF, the GeoTIFF."""

import os
import re
import shutil

import numpy as np
import pyogrio
import pytest

from thuisdichtbij import scan
from thuisdichtbij.analyses.zones import make_zones
from thuisdichtbij.apps.cli import main

from ._pictures import assert_png_fills, embedded_layer
from ._reference import method_classes

ARTIFACTS = os.path.join(os.path.dirname(__file__), "artifacts")
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
CLASS_NAMES = [
    "Sterk beneden gemiddeld",
    "Beneden gemiddeld",
    "Gemiddeld",
    "Boven gemiddeld",
    "Sterk boven gemiddeld",
]
# Classes 1-5 from red to green (ColorBrewer RdYlGn), as the README's legend shows them.
CLASS_COLOURS = {1: "#D7191C", 2: "#FDAE61", 3: "#FFFFBF", 4: "#A6D96A", 5: "#1A9641"}
INSUFFICIENT = "#969696"  # too little data for a class: grey


@pytest.fixture(scope="module")
def maastricht(data_dir, tmp_path_factory):
    folder = tmp_path_factory.mktemp("maps")
    out = scan("maastricht", data_dir=data_dir).to_gpkg(folder / "maastricht.gpkg")
    make_zones(out).to_gpkg(out)
    return out, folder


@pytest.mark.slow
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
    assert "L.map(" in html
    for name in CLASS_NAMES:
        assert name in html
    # the audit: PC4 6223 drawn as 'onvoldoende gegevens', the thin and missing inputs named
    assert "Onvoldoende gegevens" in html
    assert 'id="data-note"' in html
    note = html.split('id="data-note"')[1].split("</div>")[0]
    assert "ontbreekt: fysiotherapeut" in note and "huisarts" in note and "geen voetpaden" in note
    from PIL import Image

    img = np.asarray(Image.open(folder / "m.png").convert("L"), dtype=float)
    # A4 at 150 dpi, portrait or landscape (whichever gives the map more paper)
    assert sorted(img.shape) == [1240, 1753] and img.std() > 10
    # Every area is on the map with its own class (label and fill colour), or grey when it
    # has too little data to be classed; only the classed areas shape the class edges.
    areas = pyogrio.read_dataframe(out, layer="areas")
    ok = (areas["data_status"] == "ok").to_numpy()
    assert 0 < (~ok).sum() < len(areas)
    classes = method_classes(areas["score_mean"].where(ok), areas["n_dwellings"])
    assert areas["score_class"].to_numpy(dtype=float, na_value=np.nan) == pytest.approx(
        classes, nan_ok=True
    )
    labels = [CLASS_NAMES[int(c) - 1] if c == c else "Onvoldoende gegevens" for c in classes]
    fills = [CLASS_COLOURS[int(c)] if c == c else INSUFFICIENT for c in classes]
    shown = embedded_layer(html, "area_id")
    assert sorted(shown) == sorted(areas["area_id"])
    for area_id, label, fill in zip(areas["area_id"], labels, fills):
        assert shown[area_id][0]["klasse"] == label, area_id
        assert shown[area_id][1] == fill, area_id
    # its popup says whose points they are: a third of 6223's dwellings are not scored
    lost = areas.set_index("area_id").loc["6223", "unscored_share"]
    popup = shown["6223"][0]["popup"]
    assert f"Woningen met score {areas.set_index('area_id').loc['6223', 'n_dwellings']}" in popup
    assert f"{lost:.0%} van de woningen hier niet gescoord" in popup
    assert "niet gescoord" not in shown["6211"][0]["popup"]
    # the parts of 6211's score, each with its weight, add up to its mean score
    a = areas.set_index("area_id").loc["6211"]
    rows = re.findall(r"<tr><td>[^<]*</td><td>([\d,]*)</td><td>× ([\d,]+)</td></tr>",
                      shown["6211"][0]["popup"])  # fmt: skip
    assert len(rows) == 10  # nine sub-indicators and safety
    total = sum(float(p.replace(",", ".")) * float(w.replace(",", ".")) for p, w in rows if p)
    assert total == pytest.approx(a["score_mean"], abs=0.1)
    # numbers as Dutch writes them, in the tooltip and the popup
    mean = areas.set_index("area_id").loc["6211", "score_mean"]
    assert shown["6211"][0]["score_mean"] == f"{round(mean, 2):g}".replace(".", ",")
    assert "," in shown["6211"][0]["score_mean"] and "0,0<" not in popup and "0<" in popup
    palette = [*CLASS_COLOURS.values(), INSUFFICIENT]
    assert assert_png_fills(folder / "m.png", areas, fills, palette) >= len(areas) - 1
    pdf = (folder / "m.pdf").read_bytes()
    assert pdf.startswith(b"%PDF") and b"%%EOF" in pdf[-64:] and b"/Type /Page" in pdf
    # two pages: the map, then the sheet of small maps per sub-indicator
    assert len(re.findall(rb"/Type\s*/Page[^s]", pdf)) == 2
    os.makedirs(ARTIFACTS, exist_ok=True)
    shutil.copy(folder / "m.png", os.path.join(ARTIFACTS, "maastricht-static.png"))
    shutil.copy(folder / "m.pdf", os.path.join(ARTIFACTS, "maastricht-static.pdf"))


def test_geotiff_matches_the_grid(maastricht):
    import pyogrio
    import rasterio

    from thuisdichtbij.outputs.raster import grid_tif

    out, folder = maastricht
    tif = grid_tif(out, folder / "grid.tif")
    grid = pyogrio.read_dataframe(out, layer="grid")
    with rasterio.open(tif) as r:
        assert r.count == 3 and r.res == (100.0, 100.0)
        assert r.transform.c % 100 == 0 and r.transform.f % 100 == 0
        assert r.crs.to_epsg() == 28992
        score, klass = r.read(1), r.read(2)
        cell = grid[grid["score_mean"].notna()].iloc[0]
        c = cell.geometry.centroid
        row, col = r.index(c.x, c.y)
        assert score[row, col] == pytest.approx(cell["score_mean"], rel=1e-6)
        assert klass[row, col] == cell["score_class"]
        assert (score == r.nodata).sum() > 0  # empty cells are nodata
        # ... in band 2 too, as the README says, never class "0"
        assert ((klass == r.nodata) == (score == r.nodata)).all()
        assert set(np.unique(klass[klass != r.nodata])) <= {1, 2, 3, 4, 5}
        assert np.nanmax(score[score != r.nodata]) <= 30.5
        # band 3 tells a gap in the data (Borgharen: no street near) from empty land
        state = r.read(3)
        for _, c in grid.iterrows():
            row, col = r.index(c.geometry.centroid.x, c.geometry.centroid.y)
            want = (
                3 if c["data_status"] == "onvoldoende gegevens"
                else 2 if c["suppressed"] else 1
            )  # fmt: skip
            assert state[row, col] == want, c["cell_id"]
        assert (state == 3).sum() >= 10 and (state == r.nodata).sum() > 0
        assert r.tags(3)["3"] == "onvoldoende gegevens"


def test_geotiff_has_its_qgis_style_beside_it(maastricht, capsys, monkeypatch):
    import xml.etree.ElementTree as ET

    import rasterio
    from rasterio.enums import ColorInterp

    from thuisdichtbij.engine.score import CLASS_LABELS_EN, CLASS_LABELS_NL
    from thuisdichtbij.outputs._mapkit import CLASS_COLOURS as MAP_COLOURS
    from thuisdichtbij.outputs.raster import grid_tif

    out, folder = maastricht
    qml = folder / "styled.qml"
    qml.write_text("the user's own style")
    # a GeoTIFF that fails to be written leaves the style the user had, and no GeoTIFF
    monkeypatch.setattr(rasterio, "open", lambda *a, **k: (_ for _ in ()).throw(OSError("full")))
    with pytest.raises(OSError, match="full"):
        grid_tif(out, folder / "styled.tif")
    assert qml.read_text() == "the user's own style" and not (folder / "styled.tif").exists()
    assert not list(folder.glob(".styled.*"))  # no temporaries left
    monkeypatch.undo()
    for lang, labels in (("nl", CLASS_LABELS_NL), ("en", CLASS_LABELS_EN)):
        assert main(["map", str(out), "--tif", str(folder / "styled.tif"), "--lang", lang]) == 0
        said = capsys.readouterr().out
        assert str(qml) in said and "QGIS" in said  # the user is told of the second file
        root = ET.parse(qml).getroot()  # parses as XML; the user's file is replaced
        (renderer,) = root.iter("rasterrenderer")
        assert renderer.get("type") == "paletted" and renderer.get("band") == "2"
        assert renderer.get("nodataColor") == ""  # nodata drawn in no colour: transparent
        entries = [(e.get("value"), e.get("color"), e.get("label")) for e in renderer.iter(
            "paletteEntry")]  # fmt: skip
        # the five classes in the colours and labels of the scan's other maps, nothing more
        assert entries == [(str(k), c, f"{k}: {labels[k]}") for k, c in MAP_COLOURS.items()]
        # why a cell has no class (band 3), the gap in the data among them, in the notes
        notes = root.find("userNotes").get("value")
        assert "band 3 (data_status)" in notes
        assert ("onvoldoende gegevens" if lang == "nl" else "insufficient data") in notes
    # the GeoTIFF's bands are what they were, and not declared RGB
    with rasterio.open(folder / "styled.tif") as r:
        assert r.count == 3 and r.dtypes == ("float32",) * 3 and r.nodata == -9999.0
        assert r.descriptions == ("score_mean", "score_class", "data_status")
        assert r.colorinterp == (ColorInterp.gray, ColorInterp.undefined, ColorInterp.undefined)
        assert r.tags(3)["3"] == "onvoldoende gegevens"
        assert set(np.unique(r.read(2))) <= {-9999.0, 1, 2, 3, 4, 5}


def test_a_style_that_cannot_be_replaced_stops_the_map_before_it_writes(maastricht, capsys):
    out, folder = maastricht
    (folder / "locked.qml").mkdir()
    code = main(
        ["map", str(out), "--out", str(folder / "locked.html"), "--tif", str(folder / "locked.tif")]
    )
    assert code == 2 and "locked.qml is a folder" in capsys.readouterr().err
    assert not (folder / "locked.html").exists() and not (folder / "locked.tif").exists()


def test_a_geotiff_named_like_the_scan_has_a_style_without_notes(maastricht, capsys):
    # scan.qml beside scan.gpkg is QGIS's default style for the scan's unstyled layers too:
    # the GeoTIFF's notes would show there; its renderer alone QGIS does not apply to them
    import xml.etree.ElementTree as ET

    out, folder = maastricht
    tif = out.with_suffix(".tif")
    assert main(["map", str(out), "--tif", str(tif)]) == 0
    root = ET.parse(out.with_suffix(".qml")).getroot()
    assert root.find("userNotes") is None
    (renderer,) = root.iter("rasterrenderer")
    assert renderer.get("type") == "paletted" and renderer.get("band") == "2"
    assert main(["map", str(out), "--tif", str(folder / "elsewhere.tif")]) == 0
    assert ET.parse(folder / "elsewhere.qml").getroot().find("userNotes") is not None


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


@pytest.mark.slow
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
            page.route("http*://**", lambda route: route.abort())  # no internet
            page.goto(html.as_uri())
            page.wait_for_selector(".leaflet-container.fitted")  # the first view is set
            legend = page.inner_text("#legend")
            for name in [*CLASS_NAMES, "Woonzorgzones", "Onvoldoende gegevens", "raster"]:
                assert name in legend
            # without tiles the walking network is drawn, as vector lines in its own pane
            assert page.locator(".leaflet-network-pane path").count() >= 1
            control = page.inner_text(".leaflet-control-layers")
            assert "Straten en paden (loopnetwerk)" in control
            # one layer per sub-indicator, clean names, also when the data has none
            assert "Fysiotherapeuten (0 in de gegevens)" in control
            assert "Apotheken (7 in de gegevens)" in control
            assert "Ap apotheken" not in control
            # network, classes, grid, band-edge sensitivity, zones, 9 sub-indicators
            assert "Klasse niet robuust" in control
            assert page.locator(".leaflet-control-layers-overlays label").count() == 5 + 9
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


def _boxes(fig, artists):
    renderer = fig.canvas.get_renderer()
    return [a.get_window_extent(renderer) for a in artists]


def _intersect(a, b) -> bool:
    return a.x0 < b.x1 and b.x0 < a.x1 and a.y0 < b.y1 and b.y0 < a.y1


def test_zone_labels_overlap_nothing_on_the_maastricht_map(maastricht):
    from thuisdichtbij.outputs._labels import LABEL_GID
    from thuisdichtbij.outputs._mapkit import read_scan_for_maps
    from thuisdichtbij.outputs.static_map import scan_figure

    out, _ = maastricht
    layers, meta = read_scan_for_maps(out)
    fig = scan_figure(layers, meta, note="a note under the legend")
    try:
        ax = fig.axes[0]
        labels = [t for t in ax.texts if t.get_gid() == LABEL_GID]
        assert sorted(t.get_text() for t in labels) == sorted(layers["zones"]["name"])
        boxes = _boxes(fig, labels)
        for i, a in enumerate(boxes):
            for b in boxes[i + 1 :]:
                assert not _intersect(a, b), (a, b)
        frame = ax.get_window_extent(fig.canvas.get_renderer())
        legend = _boxes(fig, fig.legends)[0]
        note = _boxes(fig, [t for t in fig.texts if t.get_gid() == "legend-note"])[0]
        for box in boxes:
            assert frame.x0 <= box.x0 and box.x1 <= frame.x1
            assert frame.y0 <= box.y0 and box.y1 <= frame.y1
            assert not _intersect(box, legend) and not _intersect(box, note)
        # the legend and note sit outside the map frame (not over the city)
        assert not _intersect(legend, frame) and not _intersect(note, frame)
        # the sources line keeps the page's margins (a long attribution wraps: the
        # Maastricht one is too long for one line) and keeps off the rest
        sources = _boxes(fig, [t for t in fig.texts if t.get_gid() == "sources"])[0]
        page = fig.bbox
        margin = sources.x0 - page.x0
        assert margin > 0 and sources.x1 <= page.x1 - margin and page.y0 <= sources.y0
        for other in (frame, legend, note):
            assert not _intersect(sources, other)
    finally:
        import matplotlib.pyplot as plt

        plt.close(fig)


@pytest.mark.parametrize(
    "size_m",
    [
        *[(6_000, 9_000), (9_000, 6_000), (2_100, 3_000), (14_000, 3_000), (40_000, 55_000)],
        (300, 400),  # a plot and its street: a bar of tens of metres
    ],
)
def test_note_scale_bar_and_north_arrow_keep_apart(size_m):
    """Whatever the map's scale and the page's orientation: the note under the legend, the
    scale bar (a round length up to 1.5 inch of paper), the north arrow and the sources
    line overlap nothing of each other and stay on the paper (a long note ran into the
    sources line on a portrait page)."""
    import matplotlib.pyplot as plt

    from thuisdichtbij.outputs._page import plan_page
    from thuisdichtbij.outputs.static_map import panel, sheet

    note = "Let op, invoergegevens: ontbreekt: fysiotherapeut; dun: apotheek, huisarts, " * 20
    page = plan_page((0, 0, *size_m), note=note)  # as the maps plan it: room for the note
    fig, _ = sheet(page, "title")
    footer = "© OpenStreetMap-bijdragers (ODbL 1.0); Haltes: OVapi GTFS; CBS (CC BY 4.0); " * 2
    try:
        from matplotlib.patches import Patch

        handles = [Patch(facecolor="#cccccc", label=f"Klasse {i} (relatief)") for i in range(10)]
        panel(fig, page, handles, title="Klasse", note=note, footer=footer)
        fig.canvas.draw()
        parts = {
            gid: _boxes(
                fig, [a for a in [*fig.texts, *fig.artists, *fig.patches] if a.get_gid() == gid]
            )
            for gid in ("legend-note", "scale-bar", "north-arrow", "sources")
        }
        assert all(parts.values())
        bar = [a for a in fig.artists if a.get_gid() == "scale-bar"][0]
        (x0, x1), _ = bar.get_data()
        assert 0.5 <= (x1 - x0) * page.size_in[0] <= 1.5  # inches of paper
        for a, b in (
            ("legend-note", "scale-bar"),
            ("legend-note", "north-arrow"),
            ("scale-bar", "north-arrow"),
            ("legend-note", "sources"),
        ):
            for box_a in parts[a]:
                for box_b in parts[b]:
                    assert not _intersect(box_a, box_b), (size_m, a, b)
        for boxes in parts.values():
            for box in boxes:
                assert fig.bbox.x0 <= box.x0 and box.x1 <= fig.bbox.x1
    finally:
        plt.close(fig)


def test_the_maastricht_note_keeps_off_the_scale_bar(maastricht):
    """Its data note is long (five findings and the coverage): it wraps short of the scale
    bar beside it (it ran into it: '... bedekken' over the bar)."""
    import matplotlib.pyplot as plt

    from thuisdichtbij.outputs._mapkit import read_scan_for_maps
    from thuisdichtbij.outputs.static_map import scan_figure

    out, _ = maastricht
    layers, meta = read_scan_for_maps(out)
    fig = scan_figure(layers, meta)
    try:
        fig.canvas.draw()
        notes = [t for t in fig.texts if t.get_gid() == "legend-note"]
        assert len(notes) == 1 and "bedekken" in notes[0].get_text()
        note = _boxes(fig, notes)
        tools = [a for a in [*fig.texts, *fig.artists, *fig.patches]
                 if a.get_gid() in ("scale-bar", "north-arrow")]  # fmt: skip
        assert len(tools) == 4
        for box in _boxes(fig, tools):
            assert not _intersect(note[0], box)
    finally:
        plt.close(fig)


@pytest.mark.parametrize("size_m", [(6_000, 9_000), (14_000, 3_000)])
def test_a_long_title_wraps_on_the_paper(size_m):
    # the site map's title ("3 nieuwe locatie(s) voor huisarts, ...: 5685 woningen in een
    # betere afstandsband") ran off the page
    import matplotlib.pyplot as plt

    from thuisdichtbij.outputs._page import plan_page
    from thuisdichtbij.outputs.static_map import sheet

    title = "3 nieuwe locatie(s) voor huisarts, maastricht: 5685 woningen in een betere " * 2
    fig, _ = sheet(plan_page((0, 0, *size_m)), title.strip())
    try:
        fig.canvas.draw()
        (box,) = _boxes(fig, [t for t in fig.texts if t.get_gid() == "title"])
        assert fig.bbox.x0 < box.x0 and box.x1 < fig.bbox.x1 and box.y1 < fig.bbox.y1
    finally:
        plt.close(fig)


def test_labels_at_one_spot_are_spread_out():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from thuisdichtbij.outputs._labels import place_labels

    fig, ax = plt.subplots(figsize=(4, 4))
    ax.set_xlim(0, 100)
    ax.set_ylim(0, 100)
    texts = ["Paus Leo XIII plein", "Akersteenweg", "Markt", "Wyck"]
    arts = place_labels(ax, [(50, 50)] * 4, texts, colour="black")
    assert [a.get_text() for a in arts] == texts
    boxes = _boxes(fig, arts)
    assert not any(_intersect(a, b) for i, a in enumerate(boxes) for b in boxes[i + 1 :])
    # the first keeps its anchor; the others moved and got a leader line each
    assert boxes[0].contains(*ax.transData.transform((50, 50)))
    assert len(ax.texts) - len(arts) == 3
    plt.close(fig)


def test_an_area_without_enough_data_is_hatched_grey_never_class_1(maastricht):
    import matplotlib.pyplot as plt

    from thuisdichtbij.outputs._mapkit import CLASS_COLOURS, read_scan_for_maps
    from thuisdichtbij.outputs.static_map import scan_figure
    from thuisdichtbij.outputs.web_map import _with_states

    out, _ = maastricht
    layers, meta = read_scan_for_maps(out)
    areas = layers["areas"]
    areas["data_status"] = "ok"
    hit = areas["area_id"] == "6223"
    areas.loc[hit, "score_class"] = None
    areas.loc[hit, "data_status"] = "onvoldoende gegevens"
    fig = scan_figure(layers, meta)
    try:
        legend = [t.get_text() for t in fig.legends[0].get_texts()]
        assert "Onvoldoende gegevens" in legend
        hatched = [c for c in fig.axes[0].collections if c.get_hatch() == "////"]
        assert len(hatched) == 1 and len(hatched[0].get_paths()) == 1
        red = [
            c
            for c in fig.axes[0].collections
            if len(c.get_facecolor()) and matplotlib_hex(c.get_facecolor()[0]) == CLASS_COLOURS[1]
        ]
        assert all(len(c.get_paths()) == (areas["score_class"] == 1).sum() for c in red)
    finally:
        plt.close(fig)
    web = _with_states(areas, "nl").set_index("area_id")
    assert web.loc["6223", "state"] == "insufficient"
    assert web.loc["6223", "klasse"] == "Onvoldoende gegevens"


@pytest.mark.parametrize("lang", ["nl", "en"])
def test_the_qgis_style_names_and_colours_too_few_dwellings_as_the_maps_do(lang):
    import xml.etree.ElementTree as ET

    from thuisdichtbij.outputs._mapkit import SUPPRESSED, text
    from thuisdichtbij.outputs.styles import layer_styles

    rgba = ",".join(str(int(SUPPRESSED[i : i + 2], 16)) for i in (1, 3, 5)) + ",255"
    styles = layer_styles(["areas", "grid"], lang=lang).set_index("f_table_name")
    for name in ("areas", "grid"):
        renderer = ET.fromstring(styles.loc[name, "styleQML"]).find("renderer-v2")
        cat = renderer.find("categories")[-1]
        assert cat.get("label") == text(lang)["suppressed"]  # "Too few dwellings (< 5)"
        assert f"WHEN \"suppressed\" THEN '{cat.get('value')}'" in renderer.get("attr")
        symbol = renderer.find(f"symbols/symbol[@name='{cat.get('symbol')}']")
        assert [lyr.get("class") for lyr in symbol.findall("layer")] == ["SimpleFill"]
        assert symbol.find("layer/Option/Option[@name='color']").get("value") == rgba


def test_an_area_without_a_safety_figure_is_hatched_on_the_sheet_never_0_points(maastricht):
    import matplotlib.pyplot as plt

    from thuisdichtbij.outputs._mapkit import read_scan_for_maps
    from thuisdichtbij.outputs.static_map import indicators_figure

    out, _ = maastricht
    layers, meta = read_scan_for_maps(out)
    areas = layers["areas"]
    shown = ~areas["suppressed"].astype(bool)
    assert shown.sum() > 3 and areas.loc[shown, "safety_pts"].notna().all()
    first = areas.index[shown][0]
    areas.loc[first, "safety_pts"] = None  # its postcode has no Leefbaarometer figure

    def safety_panel(fig):
        ax = next(a for a in fig.axes if a.get_title(loc="left").startswith("Veiligheid"))
        hatched = [c for c in ax.collections if c.get_hatch() == "////"]
        return ax.get_title(loc="left"), sum(len(c.get_paths()) for c in hatched)

    fig = indicators_figure(layers, meta)
    try:
        title, n_hatched = safety_panel(fig)
        assert title == "Veiligheid\nLeefbaarometer"
        assert n_hatched == 1 + areas["data_status"].map(lambda s: s != "ok").sum()
        # a thin input says so over its map; numbers with a Dutch decimal comma; the
        # hatching explained
        titles = [a.get_title(loc="left") for a in fig.axes]
        assert "Apotheken\n7 in de gegevens, dun" in titles
        assert "Supermarkten\n42 in de gegevens" in titles  # not thin
        fig.canvas.draw()
        ticks = [t.get_text() for a in fig.axes for t in a.get_xticklabels() if t.get_text()]
        assert "0,5" in ticks and not any("." in t for t in ticks)
        assert any(t.get_gid() == "sheet-hatch" for t in fig.texts)
        assert len(fig.axes) == 10 + 2  # ten small maps, two colour scales
        # safety's scale runs over its levels 1-5: the worst is red, as 0 distance points
        # are (it ran from 0, so level 1 was drawn orange)
        ax = next(a for a in fig.axes if a.get_title(loc="left").startswith("Veiligheid"))
        norms = {(c.norm.vmin, c.norm.vmax) for c in ax.collections if c.get_array() is not None}
        assert norms == {(1.0, 5.0)}
        scales = [a.get_xlim() for a in fig.axes[-2:]]
        assert scales == [(0.0, 2.0), (1.0, 5.0)]
    finally:
        plt.close(fig)
    areas["safety_pts"] = None  # no Leefbaarometer data at all (a scan abroad)
    fig = indicators_figure(layers, meta)
    try:
        title, n_hatched = safety_panel(fig)
        assert title == "Veiligheid\ngeen Leefbaarometer-gegevens"
        assert n_hatched == len(areas)
        # no safety scale beside a map that is all hatched
        assert len(fig.axes) == 10 + 1
    finally:
        plt.close(fig)


def matplotlib_hex(rgba) -> str:
    from matplotlib.colors import to_hex

    return to_hex(rgba)


def _free_port():
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _browser(p):
    return p.chromium.launch(
        executable_path=CHROMIUM,
        args=[
            "--no-sandbox",
            "--disable-gpu",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
        ],
    )


@pytest.fixture
def planner(maastricht):
    """The planner page on a free local port, stopped after the test."""
    import threading
    import time

    import uvicorn

    from thuisdichtbij.apps.serve import create_app

    out, _ = maastricht
    port = _free_port()
    server = uvicorn.Server(
        uvicorn.Config(create_app(out), host="127.0.0.1", port=port, log_level="error")
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    for _ in range(200):
        if server.started:
            break
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}/", out
    server.should_exit = True
    thread.join(timeout=10)


def test_planner_page_names_areas_without_a_class(maastricht):
    from fastapi.testclient import TestClient

    from thuisdichtbij.apps.serve import create_app
    from thuisdichtbij.outputs._mapkit import INSUFFICIENT_STYLE

    out, _ = maastricht
    with TestClient(create_app(out)) as client:
        page = client.get("/").text
        areas = client.get("/api/areas").json()["features"]
    props = {f["properties"]["area_id"]: f["properties"] for f in areas}
    # 6223 (a third of its dwellings beyond the snap limit): no class, said and drawn so
    assert props["6223"]["state"] == "insufficient"
    assert props["6223"]["label"] == "Onvoldoende gegevens"
    assert props["6223"]["fill"] == INSUFFICIENT_STYLE["fill"]
    classed = [p for a, p in props.items() if a != "6223"]
    assert all(p["state"] == str(int(p["score_class"])) for p in classed)
    assert "Onvoldoende gegevens</div>" in page and "Te weinig woningen" not in page
    assert "Bronnen: © OpenStreetMap-bijdragers" in page and "Haltes: OVapi GTFS" in page
    # the walks' colours explained: one per band, and beyond them
    routes = page.split('class="routes">')[1].split("</div>")[0]
    assert routes.startswith("Looproute naar de dichtstbijzijnde: ")
    assert "&le; 250 m" in routes and "&le; 500 m" in routes and routes.endswith("verder")


@pytest.mark.slow
@pytest.mark.skipif(CHROMIUM is None, reason="no chromium (apt-get install chromium)")
def test_planner_page_in_a_real_browser(planner):
    import geopandas as gpd
    import pyogrio
    from playwright.sync_api import sync_playwright
    from shapely import Point

    base, out = planner
    markt = (50.8514, 5.6910)
    zones = pyogrio.read_dataframe(out, layer="zones")
    here = gpd.GeoSeries([Point(markt[1], markt[0])], crs=4326).to_crs(zones.crs).iloc[0]
    zone_name = zones[zones.contains(here)]["name"].iloc[0]
    amen = pyogrio.read_dataframe(out, layer="amenities")
    n_kinds = amen["indicator"].nunique()  # 8: no physiotherapist in the Maastricht data
    os.makedirs(ARTIFACTS, exist_ok=True)
    with sync_playwright() as p:
        browser = _browser(p)
        try:
            page = browser.new_page(viewport={"width": 1400, "height": 900})
            page.route("https://tile.openstreetmap.org/**", lambda route: route.abort())
            page.goto(base)
            page.wait_for_selector("path.leaflet-interactive")
            x, y = page.evaluate(
                "([lat, lon]) => { const p = map.latLngToContainerPoint([lat, lon]);"
                " return [p.x, p.y]; }",
                list(markt),
            )
            box = page.locator("#map").bounding_box()
            page.mouse.click(box["x"] + x, box["y"] + y)
            page.wait_for_selector("#zone")
            assert zone_name in page.inner_text("#zone")
            side = page.inner_text("#side")
            assert "niets binnen 500 m" in side and "niets binnen bereik" not in side
            assert "relatief" in side
            assert " / 30,5: klasse 5" in side and " × 0,5" in side  # a Dutch decimal comma
            # a marker and a route line per sub-indicator found within the search
            page.wait_for_timeout(300)
            assert page.locator("path.nearest-amenity").count() == n_kinds
            assert page.locator("path.walk-route").count() == n_kinds
            page.screenshot(path=os.path.join(ARTIFACTS, "planner-click.png"))
            # Borgharen (6223) has no class: named so in the legend, drawn dashed, not blank
            legend = page.inner_text(".legend")
            assert "Onvoldoende gegevens" in legend
            assert page.locator('path.leaflet-interactive[stroke-dasharray="4 3"]').count() == 1
            assert "Haltes: OVapi GTFS" in page.inner_text("#side")
            # search a postcode, written as people write it
            with page.expect_response(lambda r: "postcode=6211AL" in r.url) as resp:
                page.fill("#q", "6211 al")
                page.press("#q", "Enter")
            assert resp.value.status == 200
            page.wait_for_selector("#out h4")
            # a street name the scan has
            with page.expect_response(lambda r: "api/check" in r.url) as resp:
                page.fill("#q", "Markt")
                page.press("#q", "Enter")
            assert resp.value.status == 200
            page.wait_for_timeout(500)
            page.screenshot(path=os.path.join(ARTIFACTS, "planner-search.png"))
            page.emulate_media(media="print")
            page.screenshot(path=os.path.join(ARTIFACTS, "planner-print.png"), full_page=True)
        finally:
            browser.close()


def test_maps_credit_what_the_scan_used_and_say_when_safety_is_left_out():
    from thuisdichtbij.outputs._mapkit import data_note
    from thuisdichtbij.outputs.static_map import _footer
    from thuisdichtbij.study import load_study, study_from_osm

    # a preset credits its own sources; an OSM extract credits OpenStreetMap only
    aachen = load_study("aachen")
    assert [v["attribution"] for v in aachen.sources.values()] == [
        "© OpenStreetMap-bijdragers (ODbL 1.0)"
    ]
    assert list(study_from_osm("x.osm.pbf").sources) == ["osm"]
    meta = {"attribution": "© OpenStreetMap-bijdragers (ODbL 1.0)", "package_version": "9"}
    footer = _footer(meta, "nl")
    assert footer.startswith("© OpenStreetMap-bijdragers") and "CBS" not in footer
    note = data_note({"safety": "no Leefbaarometer data; safety handled as 'rescale'"}, "nl")
    assert "veiligheid niet meegeteld" in note
    assert "veiligheid" not in data_note({"safety": "Leefbaarometer 'onv' 2022"}, "nl")
    # the audit's verdict on safety wins: none with safety weighed 0, and a thin one said
    no_lbm = {"safety": "no Leefbaarometer data; safety handled as 'rescale'"}
    assert "veiligheid" not in data_note({**no_lbm, "audit_safety": "ok"}, "nl")
    thin = data_note({"safety": "Leefbaarometer 'onv' 2022", "audit_safety": "dun"}, "nl")
    assert "veiligheid voor een deel van de woningen niet meegeteld" in thin
    assert "safety not counted (no" in data_note({"audit_safety": "ontbreekt"}, "en")
    # an extract that ends inside the study area: the share it covers, in each language
    assert "de gegevens bedekken 94\u00a0% van het studiegebied" in data_note(
        {"data_coverage": "0.9445"}, "nl"
    )
    en = data_note({"data_coverage": "0.4062"}, "en")
    assert "the data cover 41\u00a0% of the study area" in en  # a no-break space: never "41 /%"
    assert data_note({"data_coverage": "0.9950"}, "nl") == ""  # covered: nothing to say


_LABEL_BOXES = """() => Array.from(document.querySelectorAll('.zone-label')).map(e => {
    const r = e.getBoundingClientRect();
    return {name: e.textContent, shown: getComputedStyle(e).visibility === 'visible',
            x0: r.left, y0: r.top, x1: r.right, y1: r.bottom};
})"""


def _meet(a, b) -> bool:
    return a["x0"] < b["x1"] and b["x0"] < a["x1"] and a["y0"] < b["y1"] and b["y0"] < a["y1"]


@pytest.mark.slow
@pytest.mark.skipif(CHROMIUM is None, reason="no chromium (apt-get install chromium)")
def test_zone_names_on_the_web_map_never_overlap(maastricht):
    from playwright.sync_api import sync_playwright

    out, folder = maastricht
    html = folder / "labels.html"
    main(["map", str(out), "--out", str(html)])
    zones = pyogrio.read_dataframe(out, layer="zones")
    os.makedirs(ARTIFACTS, exist_ok=True)
    with sync_playwright() as p:
        browser = _browser(p)
        try:
            page = browser.new_page(viewport={"width": 1400, "height": 900})
            page.route("http*://**", lambda route: route.abort())  # no internet
            page.goto(html.as_uri())
            page.wait_for_selector(".leaflet-container.fitted")  # the first view is set
            page.wait_for_function("document.querySelectorAll('.zone-label').length > 0")
            page.wait_for_timeout(300)
            boxes = page.evaluate(_LABEL_BOXES)
            assert sorted(b["name"] for b in boxes) == sorted(zones["name"])
            shown = [b for b in boxes if b["shown"]]
            # at the initial zoom the names would collide: some are held back, most shown
            assert any(_meet(a, b) for i, a in enumerate(boxes) for b in boxes[i + 1 :])
            assert len(boxes) / 2 <= len(shown) < len(boxes)
            for i, a in enumerate(shown):
                for b in shown[i + 1 :]:
                    assert not _meet(a, b), (a, b)
            page.screenshot(path=os.path.join(ARTIFACTS, "maastricht-web-labels.png"))
            # the first view fits the areas beside the layer list and the legend, not under
            w, s, e, n = pyogrio.read_dataframe(out, layer="areas").to_crs(4326).total_bounds
            east = page.evaluate(
                "([n, e]) => { const m = window[Object.keys(window).find(k =>"
                " k.startsWith('map_'))]; return m.latLngToContainerPoint([n, e]).x; }",
                [n, e],
            )
            panel = page.evaluate(
                "() => Math.min(...['.leaflet-control-layers', '#legend'].map(q =>"
                " document.querySelector(q).getBoundingClientRect().left))"
            )
            assert east <= panel
            # two zoom levels closer, more names fit, and still none overlaps another
            page.evaluate(
                "() => { const m = window[Object.keys(window).find(k => k.startsWith('map_'))];"
                " m.setZoom(m.getZoom() + 2, {animate: false}); }"
            )
            page.wait_for_timeout(800)
            closer = [b for b in page.evaluate(_LABEL_BOXES) if b["shown"]]
            assert len(closer) > len(shown)
            for i, a in enumerate(closer):
                for b in closer[i + 1 :]:
                    assert not _meet(a, b), (a, b)
        finally:
            browser.close()
