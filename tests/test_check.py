"""The plot check: same answer as the scan, band edges, walking reach, bad input, web server."""

import contextlib
import json
import os
import re
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


@pytest.mark.parametrize(
    ("xy", "edge_m"),
    [
        # the walkable streets span (0, 0), (1000, 0), (800, 600), (500, 600) (the motorway
        # at y=-50 is no walk): from (500, 300) the nearest side of that outline is the one
        # from (0, 0) to (500, 600), |500 x 600 - 300 x 500| / 781.02 = 192.06 m away
        ((500, 300), 192.1),
        ((900, 5), 5.0),  # 5 m above the main street, the outline's lower side
        ((500, 0), 0.0),  # on the main street: on the outline itself
        ((500, 0.3), 0.3),  # 30 cm inside it: "here", not "0 m from here"
        ((100, 200), 0.0),  # left of the side from (0, 0) to (500, 600): beyond the data
    ],
)
def test_check_says_where_the_data_ends(small, xy, edge_m):
    _, ctx, _ = small
    data = check(ctx, rd(ctx, *xy), reach=False)["data"]
    assert data["edge_m"] == pytest.approx(edge_m, abs=0.05)
    want, want_en = (
        ("de gegevens (het wegennet) houden hier op", "the data (the street network) ends here")
        if edge_m < 1
        else (
            f"de gegevens (het wegennet) houden {edge_m:.0f} m hiervandaan op",
            f"the data (the street network) ends {edge_m:.0f} m from here",
        )
    )
    assert [n for n in data["notes"] if "wegennet" in n][0].startswith(want), data["notes"]
    assert data["notes"][0].startswith(want)  # first: it bears on every row
    en = check(ctx, rd(ctx, *xy), reach=False, lang="en")["data"]["notes"]
    assert en[0].startswith(want_en), en


def test_check_far_from_the_data_edge_says_nothing_of_it(maastricht):
    _, ctx, _ = maastricht
    # the Markt, 2 km or more from where Maastricht's street file ends: no edge note ...
    r = check(ctx, parse_location(ctx, at="50.8514,5.6910"), reach=False)
    assert r["data"]["edge_m"] is None
    assert not any("wegennet" in n for n in r["data"]["notes"])
    # ... the north of Borgharen, past where the file ends (the scan's 94 % coverage): said
    north = check(ctx, parse_location(ctx, at="50.8930,5.7250"), reach=False)
    assert north["data"]["edge_m"] == 0
    assert north["data"]["notes"][0].startswith("de gegevens (het wegennet) houden hier op")


def test_check_in_an_area_without_enough_data_says_so(maastricht):
    result, ctx, _ = maastricht
    # Borgharen (6223): a third of its dwellings lie beyond the snap limit; a spot on one of
    # its streets is scored (class 2 here), and the check says the area has too little data
    areas = result.areas.set_index("area_id")
    share = areas.loc["6223", "unscored_share"]
    assert areas.loc["6223", "data_status"] == "onvoldoende gegevens" and share > 0.2
    r = check(ctx, parse_location(ctx, postcode="6223BE"), reach=False)
    assert r["location"]["area_id"] == "6223"
    want = f"gebied 6223 heeft onvoldoende gegevens ({share:.0%} van zijn woningen ligt te ver"
    assert any(n.startswith(want) for n in r["data"]["notes"]), r["data"]["notes"]
    en = check(ctx, parse_location(ctx, postcode="6223BE"), reach=False, lang="en")
    assert any(n.startswith("area 6223 has too little data (") for n in en["data"]["notes"])
    markt = check(ctx, parse_location(ctx, at="50.8514,5.6910"), reach=False)
    assert not any("onvoldoende gegevens" in n for n in markt["data"]["notes"])


@pytest.mark.parametrize(
    ("xy", "distances", "score", "safety"),
    [
        # D1's spot: 10 m to the main street, 250 m to the pharmacy at x=350; the
        # supermarket point at (100, 20): 10 + 20 m. Score 1 + 2 x 3 + 5 x 0.5.
        ((100, 10), {"pharmacy": 260.0, "supermarket": 30.0, "gp": None}, 9.5, 5),
        # D2's spot on the side street: GP 50 m, bus stop 300 m, drugstore 400 m, pharmacy
        # 450 m. Score 1 + 2 x 2 + 1 + 1 x 2 + 3 x 0.5.
        (
            (500, 300),
            {"gp": 50.0, "bus_stop": 300.0, "drugstore": 400.0, "pharmacy": 450.0},
            9.5,
            3,
        ),
    ],
)
def test_check_by_hand(small, xy, distances, score, safety):
    _, ctx, _ = small
    r = check(ctx, rd(ctx, *xy))
    rows = {row["indicator"]: row for row in r["indicators"]}
    for ind, d in distances.items():
        if d is None:
            assert rows[ind]["distance_m"] is None or rows[ind]["distance_m"] > 500
        else:
            assert rows[ind]["distance_m"] == pytest.approx(d, abs=0.01), ind
    assert r["safety"]["points"] == safety
    assert r["score"] == pytest.approx(score)


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
        # RD coordinates said to be lon/lat: PROJ gives inf, which is not a place
        (["--at", "176500,318000", "--crs", "EPSG:4326"], "cannot be coordinates in EPSG:4326"),
        # Borgharen: inside the study area, but the street file ends 890 m before it
        (["--at", "50.899639,5.698704"], "beyond the scan's data: its street network ends 890 m"),
        # the ENCI quarry: within the street file's reach, but no walkable street near
        (["--at", "50.810145,5.699667"], "farther than 250 m from any walkable street"),
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
    # numbers as Dutch writes them (a decimal comma), English with a point; coordinates keep
    # their point, as --at takes them
    assert " van 30,5: klasse " in text and " x 0,5 = " in text and "30.5" not in text
    assert text.startswith("Locatie 50.85140, 5.69100")
    assert main(["check", "--scan", str(out), "--at", "50.8514,5.6910", "--lang", "en"]) == 0
    en = capsys.readouterr().out
    assert " of 30.5: class " in en and " x 0.5 = " in en and "0,5" not in en
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
def _serving(ctx, **options):
    """``serve`` on a free loopback port, in a thread; yields its base URL."""
    import uvicorn

    from thuisdichtbij.apps.serve import create_app

    port = _free_port()
    server = uvicorn.Server(
        uvicorn.Config(create_app(ctx, **options), host="127.0.0.1", port=port, log_level="error")
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


def _chromium(p):
    return p.chromium.launch(
        executable_path=CHROMIUM,
        args=["--no-sandbox", "--disable-gpu", "--disable-background-networking",
              "--disable-component-update", "--disable-sync"],
    )  # fmt: skip


def _open_and_click(browser, base, lat_lon):
    """The planner page, clicked (as a planner clicks) at ``lat_lon``; waits for the check."""
    page = browser.new_page(viewport={"width": 1400, "height": 900})
    # offline: the background tiles are not fetched
    page.route("https://tile.openstreetmap.org/**", lambda route: route.abort())
    page.goto(base + "/")
    page.wait_for_selector("path.leaflet-interactive")  # the areas are drawn
    x, y = page.evaluate(
        "([lat, lon]) => { const p = map.latLngToContainerPoint([lat, lon]); return [p.x, p.y]; }",
        list(lat_lon),
    )
    box = page.locator("#map").bounding_box()
    page.mouse.click(box["x"] + x, box["y"] + y)
    page.wait_for_selector("#out h4", timeout=15000)
    return page


@pytest.mark.skipif(CHROMIUM is None, reason="no chromium (apt-get install chromium)")
def test_planner_page_shows_the_data_notes_after_a_click_at_the_markt(maastricht):
    from playwright.sync_api import sync_playwright

    _, ctx, _ = maastricht
    with _serving(ctx) as base, sync_playwright() as p:
        browser = _chromium(p)
        try:
            page = _open_and_click(browser, base, MARKT)
            out = page.inner_text("#out")
            rows = {r.split("\t")[0]: r for r in page.locator("#out tr").all_inner_texts()}
            notes = page.locator("#out p.data").all_inner_texts()
            os.makedirs(ARTIFACTS, exist_ok=True)
            page.screenshot(path=os.path.join(ARTIFACTS, "maastricht-check-markt.png"))
            # by the Belgian border (PC6 6215JP): the street file stops there, some 320 m
            # west, and the page says so under the table
            west = _open_and_click(browser, base, (50.84646, 5.64213))
            west_notes = west.locator("#out p.data").all_inner_texts()
            west.screenshot(path=os.path.join(ARTIFACTS, "maastricht-check-border.png"))
            # 261 m from a supermarket, a few steps south-west of the Markt
            shop = _open_and_click(browser, base, (50.85125, 5.69095))
            shop_lines = shop.locator("#out p").all_inner_texts()
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
    assert not any("wegennet" in n for n in notes), notes  # the Markt lies far from the edge
    # a supermarket 261 m away: already within the 500 m band, just beyond the 250 m one,
    # said as such (not "just out of reach", as if it did not count)
    near = [t for t in shop_lines if t.startswith("Net buiten een nauwere afstandsband: ")]
    assert any(re.search(r"supermarkt 26\d m \(\+3 bij hoogstens 250 m", t) for t in near), near
    edge = [n for n in west_notes if "de gegevens (het wegennet) houden" in n]
    assert len(edge) == 1 and re.search(r"houden 3\d\d m hiervandaan op", edge[0]), west_notes
    assert west_notes[0] == edge[0]  # first: it bears on every row of the table


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


# What if a GP opened here: the API and the planner page (issue 19)
EAST = (50.8430, 5.7292)  # between two PC4 areas east of the Maas, far from the scan's GPs


def test_whatif_api_equals_the_library_and_declares_its_errors(maastricht, data_dir):
    from thuisdichtbij.analyses.whatif import load_whatif, parse_addition, whatif

    _, ctx, _ = maastricht
    population = data_dir / "maastricht" / "cbs-pc6-2021.csv"
    wctx = load_whatif(ctx, population=population)
    expected = whatif(wctx, add=[parse_addition(wctx, "gp@50.843,5.7292")]).to_json()
    with _serving(ctx, population=population) as base:
        status, body = _get(base + "/api/whatif?lat=50.843&lon=5.7292&indicator=huisarts")
        assert status == 200, body
        got = json.loads(body)
        bad = {
            "lat=95&lon=5.7&indicator=gp": "lat: Input should be less than or equal to 90",
            "lat=50.84&lon=-200&indicator=gp": "lon: Input should be greater than or equal",
            "lat=abc&lon=5.7&indicator=gp": "lat: Input should be a valid number",
            "lat=50.84&lon=5.7": "indicator: Field required",
            "lat=50.843&lon=5.7292&indicator=bakker": "'bakker' is not a sub-indicator",
            "lat=50.899639&lon=5.698704&indicator=gp": "farther than 250 m from any walkable",
        }
        answers = {q: _get(base + "/api/whatif?" + q + "&lang=en") for q in bad}
        status, body = _get(base + "/openapi.json")
        api = json.loads(body)
    for key in ("dwellings_gaining", "dwellings_class_up", "residents_65plus_gaining", "areas"):
        assert got[key] == expected[key], key
    assert got["dwellings_gaining"] > 0 and len(got["areas"]) >= 1
    points = got["gaining"]["features"]
    assert len(points) == expected["dwelling_points_changed"]  # an addition: all of them gain
    assert sum(f["properties"]["weight"] for f in points) == got["dwellings_gaining"]
    assert all(f["properties"]["score_after"] > f["properties"]["score_before"] for f in points)
    lon, lat = points[0]["geometry"]["coordinates"]
    assert 50.80 < lat < 50.88 and 5.64 < lon < 5.77  # WGS84, in Maastricht
    for query, message in bad.items():
        status, body = answers[query]
        assert status == 422, query
        assert set(json.loads(body)) == {"detail"} and message in json.loads(body)["detail"]
    params = {q["name"]: q for q in api["paths"]["/api/whatif"]["get"]["parameters"]}
    assert (params["lat"]["schema"]["minimum"], params["lat"]["schema"]["maximum"]) == (-90, 90)
    assert (params["lon"]["schema"]["minimum"], params["lon"]["schema"]["maximum"]) == (-180, 180)
    for path in ("/api/whatif", "/api/check", "/api/search"):
        error = api["paths"][path]["get"]["responses"]["422"]["content"]["application/json"]
        assert error["schema"]["$ref"].endswith("/Problem"), path
    assert "HTTPValidationError" not in api["components"]["schemas"]


def test_whatif_without_population_and_in_english(maastricht):
    _, ctx, _ = maastricht
    with _serving(ctx, lang="en") as base:
        status, body = _get(base + "/api/whatif?lat=50.843&lon=5.7292&indicator=GP")
        _, page = _get(base + "/")
    assert status == 200 and json.loads(body)["residents_65plus_gaining"] is None
    assert "What if a {kind} opened here?" in page and "Dwellings that gain" in page


@pytest.mark.skipif(CHROMIUM is None, reason="no chromium (apt-get install chromium)")
def test_planner_page_whatif_equals_the_cli(maastricht, data_dir, capsys):
    from playwright.sync_api import sync_playwright

    _, ctx, out = maastricht
    population = str(data_dir / "maastricht" / "cbs-pc6-2021.csv")
    with _serving(ctx, population=population) as base, sync_playwright() as p:
        browser = _chromium(p)
        try:
            page = _open_and_click(browser, base, EAST)
            ask = page.inner_text("#wi-form")
            page.select_option("#kind", "gp")
            kind = page.eval_on_selector("#kind", "s => s.options[s.selectedIndex].text")
            page.click("#wi-form button")
            page.wait_for_selector("#wi-gain", timeout=15000)
            box = page.locator("#whatif")
            lat, lon = box.get_attribute("data-lat"), box.get_attribute("data-lon")
            shown = {k: page.inner_text(f"#wi-{k}") for k in ("gain", "class-up", "res")}
            rows = page.locator("#wi-areas tr").all_inner_texts()[1:]
            markers = page.locator("path.whatif-gain").count()
            os.makedirs(ARTIFACTS, exist_ok=True)
            page.screenshot(path=os.path.join(ARTIFACTS, "maastricht-whatif-huisarts.png"))
        finally:
            browser.close()
    assert "Wat als hier een" in ask and "komt?" in ask and kind == "huisarts"
    assert abs(float(lat) - EAST[0]) < 0.01 and abs(float(lon) - EAST[1]) < 0.01
    cmd = ["whatif", str(out), "--add", f"huisarts@{lat},{lon}", "--population", population]
    assert main([*cmd, "--json"]) == 0
    cli = json.loads(capsys.readouterr().out)
    assert int(shown["gain"]) == cli["dwellings_gaining"] > 0
    assert int(shown["class-up"]) == cli["dwellings_class_up"]
    assert int(shown["res"]) == cli["residents_65plus_gaining"]
    assert markers == cli["dwelling_points_changed"]
    # the Dutch page writes the means with a decimal comma
    expected = [
        f"{a['code']}\t{a['mean_before']:.3f} → {a['mean_after']:.3f}\t".replace(".", ",")
        + f"{a['class_before']} → {a['class_after']}"
        for a in cli["areas"]
    ]
    assert [r.replace("\n", "").strip() for r in rows] == expected and expected


def test_whatif_api_on_paper_with_zones(tmp_path):
    from ._synthetic import lonlat, scan_with_zones

    ctx = load_check(scan_with_zones(tmp_path))
    lon, lat = lonlat(100, 0)  # a GP on the main street, where D1 and D4 snap
    with _serving(ctx) as base:
        status, body = _get(base + f"/api/whatif?lat={lat!r}&lon={lon!r}&indicator=huisarts")
        _, page = _get(base + "/")
    assert status == 200, body
    # the page draws the zones as green outlines, and its legend names them (it did not)
    from thuisdichtbij.outputs._mapkit import ZONE_COLOUR

    legend = page.split('<div class="legend">')[1].split("</div><p")[0]
    assert f'border:3px solid {ZONE_COLOUR}"></span>Woonzorgzones' in legend
    assert f"color: '{ZONE_COLOUR}'" in page
    got = json.loads(body)
    # D1 (10 dwellings) and D4 (2) walk 650 m to the GP on the side street, 0 points; now
    # 0 m: 2 points x weight 2 = +4 each. D2 has a GP 50 m away, D3 is 800 m from the spot.
    assert got["dwellings_gaining"] == 12 and got["dwellings_losing"] == 0
    gaining = {f["properties"]["dwelling_id"]: f["properties"] for f in got["gaining"]["features"]}
    assert set(gaining) == {"D1", "D4"}
    assert all(p["score_after"] - p["score_before"] == 4 for p in gaining.values())
    (area,) = got["areas"]  # 6211 holds D1 and D4 (and no other dwelling)
    assert area["code"].startswith("6211")
    assert area["mean_after"] - area["mean_before"] == pytest.approx(4, abs=0.002)
    moved = [z for z in got["zones"] if z["mean_after"] != z["mean_before"]]
    assert len(got["zones"]) == 3 and [z["code"] for z in moved] == ["Z01"]  # D1's zone
    assert moved[0]["mean_after"] - moved[0]["mean_before"] == pytest.approx(4, abs=0.002)


#: Bad requests and the words their answer has, Dutch and English (written by hand).
_BAD = [
    ("check?lat=95&lon=5", "moet kleiner dan of gelijk aan 90", "less than or equal to 90"),
    ("check?lat=abc&lon=5", "lat: moet een getal zijn (gegeven: abc)", "valid number"),
    ("check?lon=5", "locatie: geef een locatie", "location: give a location"),
    ("check?postcode=62", "is geen postcode van 6 tekens", "is not a 6-character postcode"),
    ("check?postcode=6211AA", "heeft geen PC6-punten", "has no PC6 points"),
    ("check?lat=52.0&lon=4.3", "ligt buiten het studiegebied", "lies outside the study area"),
    ("check?lat={lon}&lon={lat}", "breedte en lengte zijn verwisseld", "latitude and longitude"),
    ("whatif?lat={lat}&lon={lon}&indicator=bakker", "is geen subindicator", "not a sub-indicator"),
    ("check?lat={lat}&lon={lon}&lang=de", "lang: moet 'nl' of 'en' zijn", "Input should be 'nl'"),
]


def _details(base, extra=""):
    from ._synthetic import lonlat

    lon, lat = lonlat(300, 5)
    out = []
    for query, _, _ in _BAD:
        asked = "" if "lang=" in query else extra
        status, body = _get(base + "/api/" + query.format(lat=lat, lon=lon) + asked)
        assert status == 422, (query, body)
        out.append(json.loads(body)["detail"])
    return out


def test_api_errors_in_the_language_of_the_page(tmp_path):
    from ._synthetic import scan_with_zones

    ctx = load_check(scan_with_zones(tmp_path))
    with _serving(ctx) as base:  # a Dutch page (the default); lang= asks another language
        dutch, asked_en = _details(base), _details(base, "&lang=en")
    with _serving(ctx, lang="en") as base:
        english, asked_nl = _details(base), _details(base, "&lang=nl")
    for (query, nl, en), d, e, ae, an in zip(_BAD, dutch, english, asked_en, asked_nl):
        assert nl in d and en not in d, (query, d)
        assert en in e and nl not in e, (query, e)
        if "lang=de" not in query:  # lang=de itself is the error: the server's language
            assert en in ae and nl in an, (query, ae, an)


@pytest.mark.slow
@pytest.mark.skipif(CHROMIUM is None, reason="no chromium (apt-get install chromium)")
def test_planner_page_says_a_bad_postcode_in_its_language(maastricht):
    from playwright.sync_api import sync_playwright

    _, ctx, _ = maastricht
    said = {}
    with sync_playwright() as p:
        browser = _chromium(p)
        try:
            for lang in ("nl", "en"):
                with _serving(ctx, lang=lang) as base:
                    page = browser.new_page(viewport={"width": 1400, "height": 900})
                    page.route("https://tile.openstreetmap.org/**", lambda route: route.abort())
                    page.goto(base + "/")
                    page.wait_for_selector("path.leaflet-interactive")
                    page.fill("#q", "6299 ZZ")  # a postcode, but not one of Maastricht's
                    page.click("#f button")
                    page.wait_for_selector("#out p.err", timeout=15000)
                    said[lang] = page.inner_text("#out p.err")
                    os.makedirs(ARTIFACTS, exist_ok=True)
                    page.screenshot(
                        path=os.path.join(ARTIFACTS, f"planner-bad-postcode-{lang}.png")
                    )
        finally:
            browser.close()
    n = len(ctx.postcodes)
    assert said["nl"] == f"De check lukte niet: postcode: 6299ZZ hoort niet bij de {n} " + (
        "postcodes van de scan"
    )
    assert said["en"] == f"The check failed: postcode: 6299ZZ is not among the scan's {n} postcodes"
