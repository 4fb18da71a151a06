"""fetch against a local HTTP server that serves real files in the official URL shapes."""

import json
import re
import time
from argparse import ArgumentTypeError

import pytest
import yaml
from werkzeug import Response

from thuisdichtbij import scan
from thuisdichtbij.errors import InputError
from thuisdichtbij.sources.catalogue import load_catalogue
from thuisdichtbij.sources.fetch import fetch
from thuisdichtbij.sources.http import Downloader, DownloadError, MissingOffline

from . import _published as pub

CAT = load_catalogue()
REGION = "zuid-holland"


path_of = pub.path_of


def bag_feature(i, lon, lat, doel, status):
    return {
        "type": "Feature",
        "id": f"0503010000{i:06d}",
        "geometry": {"type": "Point", "coordinates": [lon, lat]},
        "properties": {
            "identificatie": f"0503010000{i:06d}",
            "gebruiksdoel": doel,
            "status": status,
            "oppervlakte": 80,
        },
    }


def bag_pages():
    """Two pages of verblijfsobjecten on the TU Delft campus, in the OGC API's JSON shape."""
    feats = []
    for k in range(60):
        lon = 4.362 + (k % 10) * 0.0018
        lat = 51.997 + (k // 10) * 0.0012
        doel = ["woonfunctie"] if k % 4 else ["kantoorfunctie"]
        if k % 7 == 0:
            doel = ["woonfunctie", "winkelfunctie"]
        status = "Verblijfsobject gevormd" if k % 10 == 9 else "Verblijfsobject in gebruik"
        feats.append(bag_feature(k, lon, lat, doel, status))
    expected = sum(
        1
        for f in feats
        if "woonfunctie" in f["properties"]["gebruiksdoel"]
        and f["properties"]["status"] == "Verblijfsobject in gebruik"
    )
    first = {
        "type": "FeatureCollection",
        "features": feats[:35],
        "links": [
            {"rel": "self", "href": CAT["bag"]["url"] + "?f=json"},
            {"rel": "next", "href": CAT["bag"]["url"] + "?f=json&cursor=page2"},
        ],
    }
    second = {"type": "FeatureCollection", "features": feats[35:], "links": []}
    return first, second, expected


DELFT_BUURTEN = ("BU05030100", "BU05030200")


def delft_buurten():
    """Two buurten over the campus, as in the Leefbaarometer's ``buurt 2024.gpkg``."""
    import geopandas as gpd
    from shapely import box

    return gpd.GeoDataFrame(
        {"bu_code": list(DELFT_BUURTEN), "bu_naam": ["West", "Oost"]},
        geometry=[box(4.35, 51.99, 4.3705, 52.01), box(4.3705, 51.99, 4.39, 52.01)],
        crs=4326,
    ).to_crs(28992)


def delft_buurt_scores():
    import pandas as pd

    rows = []
    for code, onv22 in zip(DELFT_BUURTEN, (0.12, -0.08), strict=True):
        rows += [
            (code, 2014, 4.1, 0.0, 0, onv22, 0, 0, 0),
            (code, 2022, 4.1, 0.0, 0, onv22, 0, 0, 0),
        ]
    return pd.DataFrame(
        rows, columns=["bu_code", "jaar", "lbm", "afw", "fys", "onv", "soc", "vrz", "won"]
    )


@pytest.fixture()
def mirror(httpserver, data_dir, tmp_path):
    """The sources for Delft in the shapes the publishers serve (tests/_published.py)."""
    import geopandas as gpd
    import pandas as pd

    build = tmp_path / "build"
    build.mkdir()

    def serve(url, data):
        httpserver.expect_request(path_of(url)).respond_with_data(data)

    serve(CAT["gemeenten"]["url"], pub.gebiedsindelingen(data_dir, build))
    pc4 = gpd.read_file(data_dir / "nl" / "cbs-pc4-2024.gpkg", bbox=(83000, 443000, 88000, 449000))
    serve(CAT["pc4"]["url"], pub.pc4_zip(pc4, build))
    lbm = pd.read_csv(data_dir / "nl" / "leefbaarometer3-pc4-2002-2022.csv")
    lbm = lbm[lbm["PC4"].isin(pc4["postcode"])]
    serve(
        CAT["leefbaarometer"]["url"],
        pub.lbm_scores_zip({"pc4": lbm, "buurt": delft_buurt_scores()}),
    )
    serve(
        CAT["leefbaarometer_areas"]["url"], pub.lbm_geometry_zip({"buurt": delft_buurten()}, build)
    )
    pbf = (data_dir / "osm" / "delft-tudelft.osm.pbf").read_bytes()
    serve(CAT["osm"]["url"].format(region=REGION), pbf)
    stops = (data_dir / "maastricht" / "gtfs-stops.csv").read_text()
    serve(CAT["gtfs"]["url"], pub._zip({"stops.txt": stops}))  # a GTFS feed: stops in a zip
    first, second, expected = bag_pages()

    def bag(request):
        page = second if request.args.get("cursor") == "page2" else first
        return Response(json.dumps(page), content_type="application/geo+json")

    httpserver.expect_request(path_of(CAT["bag"]["url"])).respond_with_handler(bag)
    return httpserver.url_for("").rstrip("/"), expected


def run_fetch(mirror_url, out, cache, **kw):
    return fetch("Delft", out, osm_region=REGION, cache_dir=cache, mirror=mirror_url, **kw)


def test_fetch_then_scan(mirror, tmp_path):
    url, expected = mirror
    study = run_fetch(url, tmp_path / "delft", tmp_path / "cache")
    raw = yaml.safe_load(study.read_text())
    assert raw["data_dir"] == "."
    assert raw["sources"]["bag"]["licence"] == "PDM-1.0"  # Public Domain Mark, as PDOK says
    result = scan(study)  # the study scans unchanged, from any working folder
    assert len(result.dwellings) == expected
    assert result.dwellings["dwelling_id"].str.startswith("0503010000").all()
    assert "OpenStreetMap" in result.metadata["attribution"]
    assert result.dwellings["snapped"].all()
    # and again, offline: everything comes from the cache
    again = run_fetch("http://127.0.0.1:9", tmp_path / "delft2", tmp_path / "cache", offline=True)
    assert scan(again).dwellings["dwelling_id"].tolist() == result.dwellings["dwelling_id"].tolist()


def test_municipality_by_unknown_name(mirror, tmp_path):
    url, _ = mirror
    with pytest.raises(InputError, match="no municipality 'Delf' .*did you mean Delft"):
        fetch("Delf", tmp_path / "x", osm_region=REGION, cache_dir=tmp_path / "c", mirror=url)


def test_offline_with_an_empty_cache_says_what_is_missing(tmp_path):
    with pytest.raises(MissingOffline) as err:
        fetch("Delft", tmp_path / "x", osm_region=REGION, cache_dir=tmp_path / "c", offline=True)
    message = str(err.value)
    for name in ("gemeenten", "pc4", "leefbaarometer", "osm", "gtfs"):
        assert f"{name}: http" in message
    assert not (tmp_path / "x").exists()


def test_persistent_404_names_the_url(httpserver, tmp_path):
    httpserver.expect_request("/example.org/gone.gpkg").respond_with_data("", status=404)
    dl = Downloader(tmp_path / "c", mirror=httpserver.url_for("").rstrip("/"), retries=1)
    with pytest.raises(DownloadError, match=r"example.org/gone.gpkg answered HTTP 404"):
        dl.download("https://example.org/gone.gpkg", what="test layer")
    assert not list((tmp_path / "c" / "files").iterdir())


def test_503_then_success_is_retried(httpserver, tmp_path):
    calls = {"n": 0}

    def flaky(request):
        calls["n"] += 1
        if calls["n"] == 1:
            return Response("busy", status=503)
        return Response(b"x" * 1000)

    httpserver.expect_request("/example.org/file.csv").respond_with_handler(flaky)
    dl = Downloader(tmp_path / "c", mirror=httpserver.url_for("").rstrip("/"), backoff_s=0.01)
    path = dl.download("https://example.org/file.csv", what="test layer")
    assert path.read_bytes() == b"x" * 1000
    assert calls["n"] == 2


def test_truncated_download_is_detected_and_not_kept(httpserver, tmp_path):
    def short(request):
        r = Response(b"x" * 500)
        r.headers["Content-Length"] = "5000"  # announces more than it sends
        return r

    httpserver.expect_request("/example.org/big.pbf").respond_with_handler(short)
    dl = Downloader(
        tmp_path / "c", mirror=httpserver.url_for("").rstrip("/"), retries=1, backoff_s=0.01
    )
    with pytest.raises(DownloadError, match="big.pbf"):
        dl.download("https://example.org/big.pbf", what="test layer")
    assert not list((tmp_path / "c" / "files").iterdir())  # no .part, no file


def test_timeout_is_a_clear_error(httpserver, tmp_path):
    def slow(request):
        time.sleep(1.5)
        return Response(b"late")

    httpserver.expect_request("/example.org/slow.csv").respond_with_handler(slow)
    dl = Downloader(
        tmp_path / "c", mirror=httpserver.url_for("").rstrip("/"), timeout_s=0.3, retries=0
    )
    with pytest.raises(DownloadError) as err:
        dl.download("https://example.org/slow.csv", what="test layer")
    assert not list((tmp_path / "c" / "files").iterdir())
    message = str(err.value)
    assert re.search(r"no answer from .*slow.csv within the 0.3 s timeout", message)
    waited = float(re.search(r"gave up after (\d+\.\d) s", message).group(1))
    assert 0.3 <= waited < 1.5  # the real wait, not the server's 1.5 s


def test_failed_name_lookup_says_dns_in_one_line(tmp_path, monkeypatch, caplog):
    import socket

    def no_dns(*args, **kwargs):
        raise socket.gaierror(-2, "Name or service not known")

    monkeypatch.setattr(socket, "getaddrinfo", no_dns)
    dl = Downloader(tmp_path / "c", timeout_s=60)
    for get in (dl.download, dl.get_json):
        with pytest.raises(DownloadError) as err:
            get("https://service.pdok.nl/x.gpkg", what="test layer")
        message = str(err.value)
        assert "\n" not in message
        assert "could not look up the host service.pdok.nl (DNS" in message
        assert "no answer" not in message
    assert not [r for r in caplog.records if r.name.startswith("urllib3")]


def test_refused_connection_is_named(tmp_path, caplog):
    import socket

    with socket.socket() as s:  # a port nothing listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    dl = Downloader(tmp_path / "c", mirror=f"http://127.0.0.1:{port}")
    with pytest.raises(DownloadError, match=r"127.0.0.1 refused the connection"):
        dl.download("https://example.org/file.csv", what="test layer")
    assert not [r for r in caplog.records if r.name.startswith("urllib3")]


def test_cli_fetch(mirror, tmp_path, capsys):
    from thuisdichtbij.apps.cli import main

    url, _ = mirror
    code = main(
        [
            "fetch",
            "--municipality",
            "Delft",
            "--out",
            str(tmp_path / "d"),
            "--osm-region",
            REGION,
            "--mirror",
            url,
            "--cache-dir",
            str(tmp_path / "c"),
        ]
    )
    assert code == 0
    assert "thuisdichtbij scan --study" in capsys.readouterr().out
    code = main(
        [
            "fetch",
            "--municipality",
            "Delft",
            "--out",
            str(tmp_path / "e"),
            "--offline",
            "--cache-dir",
            str(tmp_path / "empty"),
        ]
    )
    assert code == 2
    assert "not in the cache" in capsys.readouterr().err


def test_fetch_by_code(mirror, tmp_path):
    url, _ = mirror
    study = fetch("gm0503", tmp_path / "d", osm_region=REGION, cache_dir=tmp_path / "c", mirror=url)
    raw = yaml.safe_load(study.read_text())
    assert raw["study_area"]["ids"] == ["Delft"]
    assert raw["sources"]["pc4"]["url"] == CAT["pc4"]["url"]


def test_municipality_by_cbs_code(tmp_path):
    import geopandas as gpd
    from shapely import box

    from thuisdichtbij.sources.regions import read_municipality

    p = tmp_path / "gem.gpkg"
    for layer in ("gemeente_gegeneraliseerd", "gemeente_niet_gegeneraliseerd"):
        gpd.GeoDataFrame(
            {"statnaam": ["Maastricht", "Delft"], "statcode": ["GM0935", "GM0503"]},
            geometry=[box(0, 0, 10, 10), box(20, 0, 30, 10)],
            crs=28992,
        ).to_file(p, layer=layer)
    entry = CAT["gemeenten"]
    assert read_municipality(p, entry, "gm0503").iloc[0]["statnaam"] == "Delft"
    assert read_municipality(p, entry, "maastricht").iloc[0]["statcode"] == "GM0935"
    with pytest.raises(InputError, match="no municipality 'GM9999'"):
        read_municipality(p, entry, "GM9999")
    with pytest.raises(InputError, match="has no layer 'x'; its layers are gemeente_gegen"):
        read_municipality(p, {**entry, "layer": "x"}, "Delft")


def test_bag_geopackage_reader(tmp_path):
    import geopandas as gpd
    from shapely import Point

    from thuisdichtbij.sources.bag import read_bag_gpkg

    p = tmp_path / "bag.gpkg"
    gpd.GeoDataFrame(
        {
            "identificatie": ["0935010000000001", "0935010000000002", "0935010000000003"],
            "gebruiksdoel": ["woonfunctie", "kantoorfunctie", "woonfunctie,winkelfunctie"],
            "status": [
                "Verblijfsobject in gebruik",
                "Verblijfsobject in gebruik",
                "Verblijfsobject ingetrokken",
            ],
        },
        geometry=[Point(176000, 318000), Point(176010, 318000), Point(176020, 318000)],
        crs=28992,
    ).to_file(p, layer="verblijfsobject")
    dw = read_bag_gpkg(p)
    assert dw["bag_id"].tolist() == ["0935010000000001"]
    assert dw.crs.to_epsg() == 28992


def test_fetch_with_neighbourhood_leefbaarometer(mirror, tmp_path):
    url, _ = mirror
    study = run_fetch(url, tmp_path / "b", tmp_path / "c", lbm_level="buurt")
    raw = yaml.safe_load(study.read_text())
    assert raw["leefbaarometer"]["id_column"] == "bu_code"
    assert raw["leefbaarometer"]["areas"]["id_field"] == "bu_code"
    result = scan(study)
    dw = result.dwellings.to_crs(4326)
    west = dw.geometry.x < 4.3705
    assert (result.dwellings.loc[west, "safety_pts"] == 5).all()  # onv 0.12: excellent
    assert (result.dwellings.loc[~west, "safety_pts"] == 1).all()  # onv -0.08: insufficient


def test_clip_pbf_keeps_whole_ways_in_the_box(data_dir, tmp_path):
    from thuisdichtbij.sources.osm import clip_pbf, read_osm_dwellings, read_osm_ways

    src = data_dir / "osm" / "delft-tudelft.osm.pbf"
    box = (4.355, 51.995, 4.37, 52.005)  # the western half of the extract
    cut = clip_pbf(src, tmp_path / "cut.osm.pbf", box)
    full_dw, _ = read_osm_dwellings(src)
    cut_dw, _ = read_osm_dwellings(cut)
    assert 0 < len(cut_dw) < len(full_dw)
    # every address node inside the box survives
    in_box = full_dw.cx[box[0] : box[2], box[1] : box[3]]
    nodes = set(in_box.loc[in_box["dwelling_id"].str.startswith("node/"), "dwelling_id"])
    assert nodes and nodes <= set(cut_dw["dwelling_id"])
    ways = read_osm_ways(cut)
    assert len(ways) > 100
    assert not list(tmp_path.glob(".*part*"))


def test_fetch_checks_its_output_folder_before_any_download(tmp_path, capsys):
    from thuisdichtbij.apps.cli import main

    a_file = tmp_path / "notes.txt"
    a_file.write_text("x")
    cases = {
        str(a_file): "is a file; give a folder",
        str(a_file / "studies" / "study"): "notes.txt is not a folder (a file, or a link to",
    }
    for out, message in cases.items():
        # no server is running: a check that came after a download would fail otherwise
        code = main(["fetch", "--municipality", "Maastricht", "--out", out, "--offline"])
        err = capsys.readouterr().err
        assert code == 2 and message in err and "Traceback" not in err
    assert a_file.read_text() == "x"


def test_fetch_makes_a_new_output_folder_with_its_parents(tmp_path):
    # the README's fetch --out studies/maastricht/ in a fresh clone, which has no studies/
    from thuisdichtbij.apps._args import new_folder

    out = tmp_path / "studies" / "maastricht"
    assert new_folder(str(out)) == out
    assert not (tmp_path / "studies").exists()  # made by fetch when it writes, not here
    # '..' is taken out, so no stray folder is made on the way; through a link it is the
    # link's target's parent, as mkdir -p would have it
    assert new_folder(str(tmp_path / "new" / ".." / "st")) == tmp_path / "st"
    (tmp_path / "real" / "sub").mkdir(parents=True)
    (tmp_path / "lnk").symlink_to(tmp_path / "real" / "sub")
    assert new_folder(str(tmp_path / "lnk" / ".." / "new5")) == tmp_path / "real" / "new5"
    assert new_folder(str(tmp_path / "lnk" / "st")) == tmp_path / "real" / "sub" / "st"
    # a link to nothing, or a file, on the way (or as the folder) is refused at once, not
    # after the download or the conversion
    (tmp_path / "dangling").symlink_to(tmp_path / "nowhere")
    (tmp_path / "afile").write_text("x")
    for bad in ("dangling/study", "dangling", "afile/..", "afile/x/y"):
        with pytest.raises(ArgumentTypeError, match="is not a folder|is a file"):
            new_folder(str(tmp_path / bad))
