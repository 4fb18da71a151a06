"""fetch and scan --place for Maastricht against a local server serving files in the shapes the
publishers use (see tests/_published.py and the evidence in data/sources.yaml)."""

import json

import geopandas as gpd
import pandas as pd
import pyogrio
import pytest
import yaml
from shapely import box
from werkzeug import Response

from thuisdichtbij.errors import InputError
from thuisdichtbij.sources.catalogue import load_catalogue
from thuisdichtbij.sources.fetch import fetch

from . import _published as pub
from ._pbf import PBF

CAT = load_catalogue()
X0, Y0 = 176000.0, 317500.0  # Maastricht centre (RD New): the test's street grid starts here
STEP, N = 100.0, 5  # a 5 x 5 grid of streets 100 m apart


def _rd_box(x0, y0, x1, y1):
    return box(X0 + x0, Y0 + y0, X0 + x1, Y0 + y1)


def maastricht_pbf(path):
    """Streets in a grid, a few amenities, in the heart of Maastricht."""
    pbf = PBF(origin=(X0, Y0))
    grid = [[pbf.node(i * STEP, j * STEP) for j in range(N)] for i in range(N)]
    for i in range(N):
        pbf.way_through(grid[i], highway="residential", name=f"Noord {i}")
        pbf.way_through([grid[j][i] for j in range(N)], highway="residential", name=f"Oost {i}")
    pbf.node(105, 105, amenity="pharmacy", name="Apotheek")
    pbf.node(205, 205, amenity="doctors", name="Huisarts")
    pbf.node(305, 105, shop="supermarket", name="Super")
    pbf.node(105, 305, highway="bus_stop", name="Halte")
    return pbf.write(path)


def bag_page():
    """Verblijfsobjecten along the streets (woonfunctie, in gebruik) and one office."""
    to_ll = gpd.GeoSeries(
        gpd.points_from_xy(
            [X0 + 20 + 40 * k for k in range(10)], [Y0 + 110 + 100 * (k % 3) for k in range(10)]
        ),
        crs=28992,
    ).to_crs(4326)
    feats = []
    for k, p in enumerate(to_ll):
        doel = "kantoorfunctie" if k == 9 else "woonfunctie"
        feats.append(
            {
                "type": "Feature",
                "id": f"uuid-{k}",
                "geometry": {"type": "Point", "coordinates": [p.x, p.y]},
                "properties": {
                    "identificatie": f"09350100000{k:05d}",
                    "gebruiksdoel": doel,
                    "status": "Verblijfsobject in gebruik",
                },
            }
        )
    return {"type": "FeatureCollection", "features": feats, "links": []}


def pc4_areas():
    return gpd.GeoDataFrame(
        {"postcode": [6211, 6212, 2628], "aantal_inwoners": [-99997, 500, 80]},
        geometry=[
            _rd_box(-200, -200, 200, 600),
            _rd_box(200, -200, 600, 600),
            box(85000, 445000, 86000, 446000),  # Delft: outside the reach
        ],
        crs=28992,
    )


def buurt_areas():
    return gpd.GeoDataFrame(
        {"bu_code": ["BU09350001", "BU09350002", "BU05030000"], "bu_naam": ["W", "O", "Delft"]},
        geometry=[
            _rd_box(-200, -200, 200, 600),
            _rd_box(200, -200, 600, 600),
            box(85000, 445000, 86000, 446000),
        ],
        crs=28992,
    )


def lbm_tables():
    pc4 = pd.DataFrame(
        [
            (code, year, 4.0, afw, 0, onv, 0, 0, 0)
            for code, onv, afw in ((6211, 0.12, -0.1), (6212, -0.08, 0.05), (2628, 0.0, 0.0))
            for year in (2014, 2022, 2024)
        ],
        columns=["PC4", "jaar", "lbm", "afw", "fys", "onv", "soc", "vrz", "won"],
    )
    buurt = pc4.rename(columns={"PC4": "bu_code"})
    buurt["bu_code"] = buurt["bu_code"].map(
        {6211: "BU09350001", 6212: "BU09350002", 2628: "BU05030000"}
    )
    return {"pc4": pc4, "buurt": buurt}


SES_ROWS = [  # StatLine rows: two periods; the latest with scores (2023) is taken
    {"ID": 1, "WijkenEnBuurten": "BU09350001", "Perioden": "2022JJ00",
     "ParticuliereHuishoudens_2": 400, "GemiddeldeScore_29": -0.5, "GemiddeldeScore_31": -0.1},
    {"ID": 2, "WijkenEnBuurten": "BU09350001", "Perioden": "2023JJ00",
     "ParticuliereHuishoudens_2": 410, "GemiddeldeScore_29": -0.2, "GemiddeldeScore_31": -0.1},
    {"ID": 3, "WijkenEnBuurten": "BU09350002", "Perioden": "2023JJ00",
     "ParticuliereHuishoudens_2": None, "GemiddeldeScore_29": 0.1, "GemiddeldeScore_31": 0.2},
    {"ID": 4, "WijkenEnBuurten": "BU05030000", "Perioden": "2023JJ00",
     "ParticuliereHuishoudens_2": 50, "GemiddeldeScore_29": -0.9, "GemiddeldeScore_31": 0.0},
    {"ID": 5, "WijkenEnBuurten": "WK093500", "Perioden": "2023JJ00",
     "ParticuliereHuishoudens_2": 900, "GemiddeldeScore_29": -0.1, "GemiddeldeScore_31": 0.0},
]  # fmt: skip


# CBS's mean km per buurt (86134NED): three buurten of Maastricht (two pages of two rows),
# Delft, a wijk and the municipality. W's GP at 0.05 km by road is far shorter than any walk
# in the test grid (at least 10 m to a street, then along it: W's dwellings walk 40-300 m);
# O's GP at 2.0 km is far longer. The OSM extract has no physiotherapist: W's walk is capped
# (5 km) where CBS has one at 0.6 km; O's is masked by CBS (null).
NABIJHEID_ROWS = [
    pub.nabijheid_row("BU09350001", 0.05, 0.4, 0.6, 0.3),
    pub.nabijheid_row("BU09350002", 2.0, 0.5, None, 0.4),
    pub.nabijheid_row("BU09350003", 1.1, 1.2, 1.5, 1.0),
    pub.nabijheid_row("BU05030000", 0.5, 0.5, 0.5, 0.5),
    pub.nabijheid_row("WK093500", 0.7, 0.6, 0.8, 0.5),
    pub.nabijheid_row("GM0935", 0.8, 0.7, 0.9, 0.6),
]


def validation_buurten():
    """CBS's 2024 buurten: W and O hold the test's dwellings, 3 none; one buurt of Delft."""
    return gpd.GeoDataFrame(
        {"code": ["BU09350001", "BU09350002", "BU09350003", "BU05030000"],
         "name": ["W", "O", "Zuid", "Delft"]},
        geometry=[_rd_box(-200, -200, 200, 600), _rd_box(200, -200, 600, 600),
                  _rd_box(600, -200, 1000, 600), box(85000, 445000, 86000, 446000)],
        crs=28992,
    )  # fmt: skip


def pc6_areas():
    return gpd.GeoDataFrame(
        {
            "postcode6": ["6211AA", "6211AB", "6212AC"],
            "aantal_inwoners": [100, -99997, 40],
            "aantal_inwoners_65_jaar_en_ouder": [25, -99997, -99995],
            "aantal_part_huishoudens": [50, -99997, 20],
            "aantal_woningen": [55, 0, 20],
        },
        geometry=[_rd_box(0, 0, 200, 200), _rd_box(0, 200, 200, 400), _rd_box(200, 0, 400, 400)],
        crs=28992,
    )


@pytest.fixture()
def served(httpserver, data_dir, tmp_path):
    """The local server with every source of a Maastricht fetch, in the published shapes."""
    build = tmp_path / "build"
    build.mkdir()

    def serve(key, data, url=None):
        httpserver.expect_request(pub.path_of(url or CAT[key]["url"])).respond_with_data(data)

    serve("gemeenten", pub.gebiedsindelingen(data_dir, build))
    serve("pc4", pub.pc4_zip(pc4_areas(), build))
    serve("leefbaarometer", pub.lbm_scores_zip(lbm_tables()))
    serve("leefbaarometer_areas", pub.lbm_geometry_zip({"buurt": buurt_areas()}, build))
    serve("cbs_pc6", pub.pc6_zip(pc6_areas(), build))
    pbf = maastricht_pbf(build / "m.osm.pbf").read_bytes()
    serve("osm", pbf, CAT["osm"]["url"].format(region="limburg"))
    serve("osm", pbf, CAT["osm"]["url_country"])
    gtfs = pub._zip({"stops.txt": (data_dir / "maastricht" / "gtfs-stops.csv").read_text()})
    serve("gtfs", gtfs)
    page = json.dumps(bag_page())
    httpserver.expect_request(pub.path_of(CAT["bag"]["url"])).respond_with_handler(
        lambda r: Response(page, content_type="application/geo+json")
    )
    base = CAT["ses_woa_buurt"]["url"]
    httpserver.expect_request(pub.path_of(base) + "/DataProperties").respond_with_handler(
        pub.statline_handler(base, SES_ROWS)
    )
    httpserver.expect_request(pub.path_of(base) + "/TypedDataSet").respond_with_handler(
        pub.statline_handler(base, SES_ROWS)
    )
    serve("cbs_buurten", pub.gebiedsindelingen_buurten(validation_buurten(), build))
    serve_statline(httpserver, CAT["cbs_nabijheid"]["url"], NABIJHEID_ROWS,
                   pub.nabijheid_properties())  # fmt: skip
    return httpserver


def serve_statline(httpserver, base, rows, props):
    handler = pub.statline_handler(base, rows, properties=props)
    for part in ("/DataProperties", "/TypedDataSet"):
        httpserver.expect_request(pub.path_of(base) + part).respond_with_handler(handler)


def _requested(httpserver, part):
    return [r for r, _ in httpserver.log if part in r.path]


def test_fetch_maastricht_from_published_shapes(served, tmp_path):
    from thuisdichtbij import scan
    from thuisdichtbij.sources.cbs import read_cbs_pc6

    url = served.url_for("").rstrip("/")
    study = fetch(
        "Maastricht",
        tmp_path / "m",
        cache_dir=tmp_path / "c",
        mirror=url,
        with_demand=True,
        with_fairshare=True,
    )
    # no --osm-region: the province of Maastricht (Limburg) by overlap with the province layer
    assert _requested(served, "netherlands/limburg-latest.osm.pbf")
    raw = yaml.safe_load(study.read_text())
    assert raw["sources"]["osm"]["url"].endswith("/europe/netherlands/limburg-latest.osm.pbf")
    assert raw["study_area"] == {
        "file": "gemeente.gpkg",
        "id_field": "statnaam",
        "ids": ["Maastricht"],
    }
    assert sorted(gpd.read_file(study.parent / "pc4.gpkg")["postcode"]) == [6211, 6212]
    lbm = pd.read_csv(study.parent / "leefbaarometer.csv")
    assert sorted(lbm["PC4"].unique()) == [6211, 6212]
    pc6 = read_cbs_pc6(study.parent / "cbs-pc6.gpkg")
    assert pc6["age_65plus"].isna().tolist() == [False, True, True]  # -99997, -99995: unknown
    assert pc6.loc["6211AA", "age_65plus"] == 25
    assert pc6.loc["6211AB", "dwellings"] == 0  # a real zero stays zero
    result = scan(study, cache=False)
    assert len(result.dwellings) == 9  # the office is no dwelling
    assert set(result.areas["area_id"]) == {"6211", "6212"}
    assert not list(tmp_path.glob(".m.*"))  # the hidden build folder is gone


def test_fetch_picks_the_province_from_the_register_when_present(served, data_dir, tmp_path):
    from thuisdichtbij.sources.regions import province_of, read_municipality

    p = tmp_path / "gi.gpkg"
    p.write_bytes(pub.gebiedsindelingen(data_dir, tmp_path, register=True))
    entry = dict(CAT["gemeenten"])
    muni = read_municipality(p, entry, "gm0503")
    assert muni.iloc[0]["statnaam"] == "Delft"
    assert province_of(p, entry, muni) == "Zuid-Holland"
    # the register wins over the geometry: make it say something else for Delft
    import sqlite3

    with sqlite3.connect(p) as db:
        db.execute("UPDATE gebiedsindelingen_register SET pv_naam='Fryslân' WHERE gm_code='GM0503'")
    assert province_of(p, entry, muni) == "Fryslân"


def _cli(args, url, tmp_path):
    from thuisdichtbij.apps.cli import main

    return main([*args, "--mirror", url, "--cache-dir", str(tmp_path / "c")])


def test_scan_place_with_and_without_osm_region_matches_a_preset_scan(
    served, tmp_path, capsys, data_dir
):
    from thuisdichtbij import scan

    url = served.url_for("").rstrip("/")
    assert (
        _cli(["scan", "--place", "Maastricht", "--out", str(tmp_path / "a.gpkg")], url, tmp_path)
        == 0
    )
    args = ["scan", "--place", "Maastricht", "--osm-region", "netherlands"]
    assert _cli([*args, "--out", str(tmp_path / "b.gpkg")], url, tmp_path) == 0
    assert _requested(served, "/europe/netherlands-latest.osm.pbf")  # the national file
    assert "geschreven" in capsys.readouterr().out
    preset = scan("delft", data_dir=data_dir, cache=False).to_gpkg(tmp_path / "preset.gpkg")

    def fields(path):
        layers = [str(n) for n in pyogrio.list_layers(path)[:, 0]]
        return {n: list(pyogrio.read_info(path, layer=n)["fields"]) for n in layers}

    want = fields(preset)
    assert fields(tmp_path / "a.gpkg") == want
    assert fields(tmp_path / "b.gpkg") == want


def test_unknown_osm_region_lists_the_provinces(served, tmp_path, capsys):
    url = served.url_for("").rstrip("/")
    code = _cli(["fetch", "--municipality", "Maastricht", "--out", str(tmp_path / "x"),
                 "--osm-region", "fryslan"], url, tmp_path)  # fmt: skip
    assert code == 2
    err = capsys.readouterr().err
    assert "'fryslan' is not a Geofabrik region" in err and "friesland" in err
    assert "zuid-holland" in err
    assert not (tmp_path / "x").exists()


def test_fairshare_at_buurt_level_from_fetched_official_data(served, tmp_path, capsys):
    url = served.url_for("").rstrip("/")
    out = tmp_path / "m"
    args = ["fetch", "--municipality", "GM0935", "--out", str(out), "--with-fairshare"]
    assert _cli(args, url, tmp_path) == 0
    from thuisdichtbij.apps.cli import main

    gpkg = tmp_path / "fs.gpkg"
    assert main(["fairshare", "--study", str(out / "study.yaml"), "--level", "buurt",
                 "--out", str(gpkg), "--lang", "en"]) == 0  # fmt: skip
    fs = gpd.read_file(gpkg, layer="fairshare").set_index("area_id")
    assert sorted(fs.index) == ["BU09350001", "BU09350002"]
    # By hand: W has SES-WOA -0.2 (2023, the latest period) and afw -0.1 (2022): both below
    # the national 0, so vulnerable; O has SES-WOA +0.1: not.
    assert fs.loc["BU09350001", "ses_woa"] == pytest.approx(-0.2)
    assert fs.loc["BU09350001", "lbm_afw"] == pytest.approx(-0.1)
    assert bool(fs.loc["BU09350001", "vulnerable"]) is True
    assert bool(fs.loc["BU09350002", "vulnerable"]) is False
    assert fs.loc["BU09350001", "households"] == 410
    assert pd.isna(fs.loc["BU09350002", "households"])  # null in StatLine: unknown
    with pytest.raises(Exception, match="no fair-share level 'pc4'; its levels are buurt"):
        from thuisdichtbij.analyses.fairshare import fairshare

        fairshare(out / "study.yaml", level="pc4")


def test_a_newer_release_laid_over_the_catalogue_and_a_failed_fetch(served, tmp_path):
    # A newer PC4 release, named in the user's catalogue file, whose GeoPackage was renamed
    # into something the patterns do not know: a clear error, and no study folder left.
    new = "https://download.cbs.nl/postcode/2026-cbs_pc4_2024_v2.zip"
    bad = pub._zip({"postcodes.gpkg": b"x", "pc4_2024_v2.xlsx": pub.XLSX})
    served.expect_request(pub.path_of(new)).respond_with_data(bad)
    mine = tmp_path / "mine.yaml"
    mine.write_text(f"pc4:\n  url: {new}\n")
    url = served.url_for("").rstrip("/")
    with pytest.raises(InputError) as err:
        fetch("Maastricht", tmp_path / "m", catalogue=mine, cache_dir=tmp_path / "c", mirror=url)
    message = str(err.value)
    assert "2026-cbs_pc4_2024_v2.zip" in message
    assert "'cbs_pc4_*.gpkg' or '*pc4*.gpkg'" in message
    assert "pc4_2024_v2.xlsx, postcodes.gpkg" in message
    assert not (tmp_path / "m").exists()
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".m")]


def test_fetch_with_pc6_areas_scan_and_demand_end_to_end(served, tmp_path, capsys):
    """fetch --areas pc6, then scan and demand on the fetched study (all against the server)."""
    from thuisdichtbij import load_config, scan
    from thuisdichtbij.analyses.demand import demand

    url = served.url_for("").rstrip("/")
    out = tmp_path / "m"
    args = ["fetch", "--municipality", "Maastricht", "--out", str(out), "--areas", "pc6"]
    assert _cli(args, url, tmp_path) == 0
    raw = yaml.safe_load((out / "study.yaml").read_text())
    assert raw["areas"] == {"file": "cbs-pc6.gpkg", "id_field": "postcode6"}
    # PC4 Leefbaarometer scores keep their PC4 areas; BAG dwellings keep weight 1
    assert raw["leefbaarometer"]["areas"] == {"file": "pc4.gpkg", "id_field": "postcode"}
    assert raw["dwellings"] == {"file": "woningen.gpkg", "id": "bag_id"}
    assert raw["sources"]["cbs_pc6"]["url"].endswith("2024-cbs_pc6_2021_vol.zip")

    result = scan(out / "study.yaml", cache=False)
    areas = result.areas.set_index("area_id")
    # BAG points at x = 20 + 40k, y = 110 + 100 (k % 3), k = 0..8, in the PC6 boxes
    # 6211AA (x, y < 200), 6211AB (x < 200 <= y), 6212AC (x >= 200): k 0, 3 | 1, 2, 4 | 5-8
    assert areas["n_dwellings"].to_dict() == {"6211AA": 2, "6211AB": 3, "6212AC": 4}
    assert areas["suppressed"].all() and areas["score_mean"].isna().all()  # all below 5
    assert result.dwellings["safety_pts"].notna().all()  # safety from the PC4 areas

    cfg = load_config(overrides={"aggregation": {"min_dwellings": 3}})
    low = scan(out / "study.yaml", config=cfg, cache=False)
    a = low.areas.set_index("area_id")
    assert a.loc["6211AA", "suppressed"] and not a.loc["6211AB", "suppressed"]
    dw = low.dwellings
    for code, (x0, y0, x1, y1) in {
        "6211AB": (0, 200, 200, 400),
        "6212AC": (200, 0, 400, 400),
    }.items():
        inside = dw.within(_rd_box(x0, y0, x1, y1))
        assert a.loc[code, "score_mean"] == pytest.approx(dw.loc[inside, "score"].mean())

    gpkg = result.to_gpkg(tmp_path / "scan.gpkg")
    for points in (None, out / "cbs-pc6.gpkg"):  # default: the polygons of the population
        res = demand(gpkg, out / "cbs-pc6.gpkg", points=points)
        by_area = res.by_area.set_index("area_id")
        # 65+: 6211AA 25; 6211AB secret (-99997), 6212AC not published (-99995): unknown
        assert by_area["residents_65plus"].to_dict() == {"6211AA": 25, "6211AB": 0, "6212AC": 0}
        assert by_area["pc6_unknown"].to_dict() == {"6211AA": 0, "6211AB": 1, "6212AC": 1}
        assert res.by_class.set_index("score_class").loc["suppressed", "residents_65plus"] == 25
        assert "cbs-pc6.gpkg (a point inside each polygon)" == res.metadata["points"]


def _assert_validated(table):
    """The flags computed on paper (see NABIJHEID_ROWS)."""
    t = table.set_index(["buurt_code", "indicator"])
    assert set(t.index.get_level_values(0)) == {"BU09350001", "BU09350002"}  # 3 has no homes
    assert t.loc[("BU09350001", "gp"), "cbs_km"] == 0.05  # the padded code was matched
    assert 0.1 < t.loc[("BU09350001", "gp"), "ours_km"] < 0.4
    assert t.loc[("BU09350001", "gp"), "far_longer"]
    assert not t.loc[("BU09350002", "gp"), "flagged"]  # ours < 0.6 km against CBS's 2.0
    assert t.loc[("BU09350001", "physio"), "ours_km"] == pytest.approx(5.0)
    assert t.loc[("BU09350001", "physio"), "missing_nearby"]
    assert not t.loc[("BU09350002", "physio"), "flagged"]  # CBS masked it


def test_fetch_with_validation_then_validate_without_options(served, tmp_path, capsys):
    from thuisdichtbij import scan
    from thuisdichtbij.analyses.validate import validate
    from thuisdichtbij.apps.cli import main

    url = served.url_for("").rstrip("/")
    out = tmp_path / "m"
    args = ["fetch", "--municipality", "Maastricht", "--out", str(out), "--with-validation"]
    assert _cli(args, url, tmp_path) == 0
    raw = yaml.safe_load((out / "study.yaml").read_text())
    assert raw["validation"]["buurten"] == {
        "file": "cbs-buurten.gpkg", "layer": "buurten", "id_field": "statcode"
    }  # fmt: skip
    assert raw["validation"]["cbs"]["table"] == "86134NED"
    assert raw["sources"]["cbs_nabijheid"]["url"].endswith("/86134NED")
    assert raw["sources"]["cbs_buurten"]["sha256"]
    polys = gpd.read_file(out / "cbs-buurten.gpkg", layer="buurten")
    assert sorted(polys["statcode"]) == ["BU09350001", "BU09350002", "BU09350003"]
    answers = json.loads((out / "cbs-nabijheid.json").read_text())
    codes = [r["WijkenEnBuurten"] for r in answers["TypedDataSet"]["value"]]
    assert codes == ["BU09350001", "BU09350002", "BU09350003"]  # as served: padded
    assert all(len(c) == 10 for c in codes)
    assert _requested(served, "86134NED/TypedDataSet")  # the second page was followed:
    assert any("$skip=2" in r.query_string.decode() for r, _ in served.log)

    gpkg = scan(out / "study.yaml", cache=False).to_gpkg(tmp_path / "scan.gpkg")
    _assert_validated(validate(gpkg).table)  # the study's files, found through the scan
    _assert_validated(validate(gpkg, study=out / "study.yaml").table)
    assert main(["validate", str(gpkg)]) == 0
    assert "validatietabellen toegevoegd" in capsys.readouterr().out
    assert {"validation", "validation_buurten"} <= set(pyogrio.list_layers(gpkg)[:, 0])

    # --cbs as a table id: asked from StatLine for the buurten given, then from the cache
    table_args = ["validate", str(gpkg), "--cbs", "86134NED", "--buurten",
                  str(out / "cbs-buurten.gpkg"), "--buurt-field", "statcode"]  # fmt: skip
    assert _cli(table_args, url, tmp_path / "v") == 0
    n_asked = len(served.log)
    assert main([*table_args, "--offline", "--cache-dir", str(tmp_path / "v" / "c")]) == 0
    assert len(served.log) == n_asked
    _assert_validated(pyogrio.read_dataframe(gpkg, layer="validation"))


def test_a_renamed_cbs_title_is_a_clear_error_and_a_catalogue_fixes_it(served, tmp_path):
    from thuisdichtbij import scan
    from thuisdichtbij.analyses.validate import validate

    new = "https://opendata.cbs.nl/ODataApi/odata/86270NED"  # a newer edition, renamed title
    serve_statline(served, new, NABIJHEID_ROWS, pub.nabijheid_properties("Afstand tot de huisarts"))
    mine = tmp_path / "mine.yaml"
    mine.write_text(f"cbs_nabijheid:\n  url: {new}\n")
    url = served.url_for("").rstrip("/")
    kw = {"cache_dir": tmp_path / "c", "mirror": url, "with_validation": True}
    with pytest.raises(InputError) as err:
        fetch("Maastricht", tmp_path / "m", catalogue=mine, **kw)
    message = str(err.value)
    assert message.startswith(
        "CBS table 86270NED: no column titled 'Afstand tot huisartsenpraktijk'"
    )
    assert "afstand tot de huisarts" in message and "--catalogue" in message
    assert not (tmp_path / "m").exists()
    mine.write_text(
        f"cbs_nabijheid:\n  url: {new}\n  columns: {{gp: Afstand tot de huisarts, "
        "pharmacy: Afstand tot apotheek, physio: Afstand tot fysiotherapeut}\n"
    )
    study = fetch("Maastricht", tmp_path / "m", catalogue=mine, **kw)
    gpkg = scan(study, cache=False).to_gpkg(tmp_path / "scan.gpkg")
    r = validate(gpkg)  # the study's titles travel with it
    _assert_validated(r.table)
    assert "gp=AfstandTotHuisartsenpraktijk_5" in r.metadata["validation_cbs_columns"]
    assert "supermarket" not in r.metadata["validation_cbs_columns"]  # not asked for
