"""The plot check: same answer as the scan, band edges, walking reach, bad input, web server."""

import contextlib
import json
import os
import shutil
import socket
import threading
import time
import urllib.error
import urllib.request

import numpy as np
import pytest
import shapely
from pyproj import Transformer
from shapely.geometry import shape

from thuisdichtbij import InputError, scan
from thuisdichtbij.analyses.check import check, load_check, parse_location
from thuisdichtbij.apps.cli import main

from ._synthetic import ORIGIN, write_study

IDS = [
    "pharmacy",
    "gp",
    "physio",
    "community",
    "supermarket",
    "drugstore",
    "hairdresser",
    "culture",
    "bus_stop",
]


@pytest.fixture(scope="module")
def small(tmp_path_factory):
    folder = tmp_path_factory.mktemp("small")
    study = write_study(folder)
    result = scan(study, data_dir=folder)
    out = result.to_gpkg(folder / "scan.gpkg")
    return result, load_check(out), out


def rd(ctx, x, y):
    return parse_location(ctx, at=f"{ORIGIN[0] + x},{ORIGIN[1] + y}", crs="EPSG:28992")


def test_check_equals_the_scan_for_a_dwelling_at_the_same_spot(small):
    result, ctx, _ = small
    for _, dw in result.dwellings[result.dwellings["snapped"]].iterrows():
        r = check(ctx, dw.geometry)
        rows = {row["indicator"]: row for row in r["indicators"]}
        for ind in IDS:
            scan_d = dw[f"dist_{ind}"]
            got = rows[ind]["distance_m"]
            if np.isfinite(scan_d):
                assert got == pytest.approx(scan_d, abs=0.051), (dw["dwelling_id"], ind)
            else:
                assert got is None or got > 500
            assert rows[ind]["points"] == dw[f"pts_{ind}"], (dw["dwelling_id"], ind)
        assert r["score"] == pytest.approx(dw["score"])
        assert r["safety"]["points"] == dw["safety_pts"]
        assert r["score_class"] == dw["score_class"]


def test_check_tells_missing_data_from_nothing_nearby(small):
    _, ctx, _ = small
    # 900 m along the main street: the only pharmacy (x=350) is 550 m away; the study
    # has no physiotherapist at all
    rows = {r["indicator"]: r for r in check(ctx, rd(ctx, 900, 5), reach=False)["indicators"]}
    assert rows["pharmacy"]["n_amenities"] == 1
    assert rows["pharmacy"]["data"] == "ok"
    assert rows["pharmacy"]["reach_note"] == "niets binnen 500 m"
    assert rows["physio"]["n_amenities"] == 0
    assert rows["physio"]["data"] == "ontbreekt"
    assert rows["physio"]["data_note"] == "geen fysiotherapeut in de invoergegevens"
    assert rows["physio"]["reach_note"] is None
    en = check(ctx, rd(ctx, 900, 5), reach=False, lang="en")
    assert "no physiotherapist in the input data" in en["data"]["notes"]


def test_band_edge_location(small):
    _, ctx, _ = small
    # the pharmacy lies on the main street at x=350
    exact = check(ctx, rd(ctx, 100, 0))
    beyond = check(ctx, rd(ctx, 99.99, 0))
    row = {r["indicator"]: r for r in exact["indicators"]}["pharmacy"]
    assert row["distance_m"] == pytest.approx(250.0, abs=0.01) and row["points"] == 2
    row = {r["indicator"]: r for r in beyond["indicators"]}["pharmacy"]
    assert row["distance_m"] == pytest.approx(250.0, abs=0.02) and row["points"] == 1


def test_near_miss_says_what_would_change(small):
    _, ctx, _ = small
    # at x=40 the pharmacy (x=350) is 310 m away: 60 m beyond the 250 m band
    r = check(ctx, rd(ctx, 40, 0))
    miss = {m["indicator"]: m for m in r["near_misses"]}["pharmacy"]
    assert miss["distance_m"] == pytest.approx(310, abs=0.01)
    assert miss["band_m"] == 250 and miss["score_gain"] == 1.0


def test_reach_polygons(small):
    _, ctx, _ = small
    r = check(ctx, rd(ctx, 500, 0))  # the junction of the main and the side street
    to_ll = Transformer.from_crs(28992, 4326, always_xy=True)

    def inside(band, x, y):
        return shape(r["reach"][band]["geometry"]).contains(
            shapely.Point(*to_ll.transform(ORIGIN[0] + x, ORIGIN[1] + y))
        )

    within_250 = [(300, 0), (400, 0), (600, 0), (700, 0), (500, 100), (500, 200)]
    beyond_250 = [(200, 0), (800, 0), (500, 300)]
    assert all(inside("250", *p) for p in within_250)
    assert not any(inside("250", *p) for p in beyond_250)
    within_500 = beyond_250 + [(100, 0), (900, 0), (500, 400)]
    beyond_500 = [(500, 600), (700, 600), (1000, -100)]
    assert all(inside("500", *p) for p in within_500)
    assert not any(inside("500", *p) for p in beyond_500)


@pytest.fixture(scope="module")
def maastricht(data_dir, tmp_path_factory):
    result = scan("maastricht", data_dir=data_dir)
    out = result.to_gpkg(tmp_path_factory.mktemp("m") / "maastricht.gpkg")
    return result, load_check(out), out


def test_maastricht_checks(maastricht):
    result, ctx, _ = maastricht
    dw = result.dwellings
    scored = dw[dw["snapped"] & dw["weight"].notna()]
    for lat, lon in [(50.8514, 5.6910), (50.8406, 5.7136), (50.8649, 5.6794)]:
        r = check(ctx, parse_location(ctx, at=f"{lat},{lon}"))
        assert [row["indicator"] for row in r["indicators"]] == IDS
        assert r["safety"]["points"] in (1, 2, 3, 4, 5)  # the tenth sub-indicator
        lower = scored.loc[scored["score"] < r["score"], "weight"].sum() / scored["weight"].sum()
        assert r["percentile"] == pytest.approx(100 * lower, abs=0.05)


def test_maastricht_check_equals_scan_at_dwellings(maastricht):
    result, ctx, _ = maastricht
    dw = result.dwellings[result.dwellings["snapped"]].sample(15, random_state=3)
    for _, d in dw.iterrows():
        r = check(ctx, d.geometry)
        pts = [row["points"] for row in r["indicators"]]
        assert pts == [d[f"pts_{i}"] for i in IDS], d["dwelling_id"]
        assert r["score"] == pytest.approx(d["score"])


def test_postcode_lookup(maastricht):
    result, ctx, _ = maastricht
    pc = result.dwellings.loc[result.dwellings["snapped"], "dwelling_id"].iloc[0]
    point = parse_location(ctx, postcode=pc.lower())
    assert point.equals(result.dwellings.set_index("dwelling_id").loc[pc, "geometry"])


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--at", "52.0,4.3"], "lies outside the study area"),
        (["--at", "abc"], "is not two numbers"),
        (["--at", "95,4"], "is not a latitude, longitude"),
        (["--postcode", "6299ZZ"], "is not among the scan's"),
        (["--postcode", "62"], "is not a 6-character postcode"),
        # Borgharen: inside the study area, but the street file has no streets there
        (["--at", "50.899639,5.698704"], "farther than 250 m from any walkable street"),
    ],
)
def test_cli_bad_locations(maastricht, capsys, args, message):
    _, _, out = maastricht
    assert main(["check", "--scan", str(out), *args]) == 2
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err


def test_cli_not_a_scan(tmp_path, capsys):
    import geopandas as gpd

    p = tmp_path / "other.gpkg"
    gpd.GeoDataFrame({"a": [1]}, geometry=[shapely.Point(0, 0)], crs=28992).to_file(p)
    assert main(["check", "--scan", str(p), "--at", "50.85,5.69"]) == 2
    assert "is not a thuisdichtbij scan" in capsys.readouterr().err


def test_cli_text_and_json(maastricht, capsys):
    _, _, out = maastricht
    assert main(["check", "--scan", str(out), "--at", "50.8514,5.6910"]) == 0
    text = capsys.readouterr().out
    assert "Score" in text and "klasse" in text and "bushalte" in text
    # at the Markt: the GP and pharmacy data is thin, physiotherapists are missing
    assert "geen fysiotherapeut in de invoergegevens" in text
    assert "weinig huisartsen (3)" in text and "weinig apotheken (7)" in text
    assert "geen voetpaden" in text
    assert main(["check", "--scan", str(out), "--at", "50.8514,5.6910", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert {"huisarts", "apotheek"} <= set(data["data"]["thin"])
    assert data["data"]["missing"] == ["fysiotherapeut"]
    assert data["data"]["footpaths"] == "ontbreekt"
    assert data["reach"]["500"]["geometry"]["type"] in ("Polygon", "MultiPolygon")


def _free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _get(url):
    try:
        with urllib.request.urlopen(url, timeout=10) as r:
            return r.status, r.read().decode()
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode()


@contextlib.contextmanager
def _serving(ctx):
    """``serve`` on a free loopback port, in a thread; yields its base URL."""
    import uvicorn

    from thuisdichtbij.apps.serve import create_app

    port = _free_port()
    server = uvicorn.Server(
        uvicorn.Config(create_app(ctx), host="127.0.0.1", port=port, log_level="error")
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    try:
        for _ in range(100):
            if server.started:
                break
            time.sleep(0.05)
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)


def test_server_answers_and_keeps_serving(maastricht):
    _, ctx, _ = maastricht
    with _serving(ctx) as base:
        status, body = _get(base + "/")
        assert status == 200 and "plotcheck" in body and "Sterk boven gemiddeld" in body
        status, body = _get(base + "/api/check?lat=50.8514&lon=5.6910")
        assert status == 200 and json.loads(body)["score_class"] in range(1, 6)
        for bad in ("lat=52.0&lon=4.3", "lat=abc&lon=5.69", "lat=95&lon=5", "lon=5.69"):
            status, body = _get(base + "/api/check?" + bad)
            assert status == 422, bad
            assert "detail" in json.loads(body)
        status, body = _get(base + "/api/check?lat=50.8406&lon=5.7136")
        assert status == 200
        status, body = _get(base + "/openapi.json")
        assert status == 200 and "/api/check" in json.loads(body)["paths"]
        status, body = _get(base + "/api/areas")
        assert len(json.loads(body)["features"]) == 18
        status, body = _get(base + "/static/leaflet/leaflet.js")
        assert status == 200 and "Leaflet" in body[:2000]


CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
ARTIFACTS = os.path.join(os.path.dirname(__file__), "artifacts")
MARKT = (50.8514, 5.6910)  # the Markt of Maastricht


@pytest.mark.skipif(CHROMIUM is None, reason="no chromium (apt-get install chromium)")
def test_planner_page_shows_the_data_notes_after_a_click_at_the_markt(maastricht):
    from playwright.sync_api import sync_playwright

    _, ctx, _ = maastricht
    with _serving(ctx) as base, sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=CHROMIUM,
            args=["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                  "--disable-component-update", "--disable-sync"],
        )  # fmt: skip
        try:
            page = browser.new_page(viewport={"width": 1400, "height": 900})
            # offline: the background tiles are not fetched
            page.route("https://tile.openstreetmap.org/**", lambda route: route.abort())
            page.goto(base + "/")
            page.wait_for_selector("path.leaflet-interactive")  # the areas are drawn
            x, y = page.evaluate(
                "([lat, lon]) => { const p = map.latLngToContainerPoint([lat, lon]); "
                "return [p.x, p.y]; }",
                list(MARKT),
            )
            box = page.locator("#map").bounding_box()
            page.mouse.click(box["x"] + x, box["y"] + y)  # a click on the map, as a planner
            page.wait_for_selector("#out h4", timeout=15000)
            out = page.inner_text("#out")
            rows = {r.split("\t")[0]: r for r in page.locator("#out tr").all_inner_texts()}
            notes = page.locator("#out p.data").all_inner_texts()
            os.makedirs(ARTIFACTS, exist_ok=True)
            page.screenshot(path=os.path.join(ARTIFACTS, "maastricht-check-markt.png"))
        finally:
            browser.close()
    assert "Score" in out and "klasse" in out
    # missing in the input, not "nothing within 500 m"
    assert "geen fysiotherapeut in de invoergegevens" in rows["fysiotherapeut"]
    assert "niets binnen 500 m" not in rows["fysiotherapeut"]
    # thin GP and pharmacy data: marked in their rows and named in the notes under the table
    assert "(gegevens dun)" in rows["huisarts"] and "(gegevens dun)" in rows["apotheek"]
    assert any("weinig huisartsen (3)" in n for n in notes), notes
    assert any("weinig apotheken (7)" in n for n in notes), notes
    assert any("geen voetpaden" in n for n in notes), notes
    assert all(n.startswith("Let op, invoergegevens:") for n in notes)


def test_scan_without_network_layer(tmp_path, maastricht):
    from thuisdichtbij.outputs.export import write_layers

    result, _, _ = maastricht
    old = write_layers(
        tmp_path / "old.gpkg",
        {"dwellings": result.dwellings, "areas": result.areas, "amenities": result.amenities},
        metadata=result.metadata,
    )
    with pytest.raises(InputError, match="has no 'network' layer .* run thuisdichtbij scan again"):
        load_check(old)


def test_check_knows_the_zones(tmp_path):
    from ._synthetic import scan_with_zones

    ctx = load_check(scan_with_zones(tmp_path))
    inside = check(ctx, rd(ctx, 150, 10))  # in the cell of D1: zone Z01 "Hoofdstraat"
    assert inside["zone"] == {"inside": True, "zone_id": "Z01", "name": "Hoofdstraat"}
    # from (350, 0) the nearest zone cell edge on the street is x=200 (150 m) or x=500 side
    outside = check(ctx, rd(ctx, 350, 0))
    assert not outside["zone"]["inside"]
    assert outside["zone"]["walking_m_to_nearest"] == pytest.approx(150, abs=0.01)
