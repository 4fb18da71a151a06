"""OpenStreetMap through osmnx: a scan from Overpass answers equals the scan of the same PBF.

A local server plays the Overpass API: it answers each query with Overpass JSON recorded,
in the test, from the mirror's own Delft PBF (read with pyosmium), keeping the elements the
query's tag filters select (and the nodes of selected ways), as Overpass does. No data file
is copied into the repository.
"""

import json
import re
from urllib.parse import parse_qs

import numpy as np
import pytest

pytest.importorskip("osmnx")
osmium = pytest.importorskip("osmium")

from thuisdichtbij import scan  # noqa: E402
from thuisdichtbij.apps.cli import main  # noqa: E402
from thuisdichtbij.sources.overpass import (  # noqa: E402
    OverpassError,
    parse_bbox,
    study_from_overpass,
)

_CLAUSE = re.compile(r"(node|way|relation)((?:\[[^\]]*\])+)\(poly")
_FILTER = re.compile(r"""\[\s*['"]([^'"]+)['"]\s*(?:(!?[=~])\s*['"]([^'"]*)['"])?\s*\]""")


def _elements(pbf):
    """Every node and way of the file as Overpass JSON elements."""
    nodes, ways = {}, []
    for obj in osmium.FileProcessor(str(pbf)).with_locations():
        if obj.is_node() and obj.location.valid():
            nodes[obj.id] = {
                "type": "node",
                "id": obj.id,
                "lat": obj.location.lat,
                "lon": obj.location.lon,
                "tags": dict(obj.tags),
            }
        elif obj.is_way():
            ways.append(
                {
                    "type": "way",
                    "id": obj.id,
                    "nodes": [n.ref for n in obj.nodes],
                    "tags": dict(obj.tags),
                }
            )
    return nodes, ways


def _matches(tags: dict, filters) -> bool:
    for key, op, value in filters:
        have = tags.get(key)
        if op == "":
            ok = have is not None
        elif op == "=":
            ok = have == value
        elif op == "!=":
            ok = have != value
        elif op == "~":
            ok = have is not None and re.search(value, have) is not None
        else:  # !~
            ok = have is None or re.search(value, have) is None
        if not ok:
            return False
    return True


class FakeOverpass:
    """Answers Overpass QL union queries of tag-filtered clauses (the spatial filter is
    ignored: the test asks for the whole extent of the file)."""

    def __init__(self, pbf):
        self.nodes, self.ways = _elements(pbf)
        self.queries = []

    def answer(self, query: str) -> dict:
        self.queries.append(query)
        out_nodes, out_ways = {}, {}
        for kind, filters in _CLAUSE.findall(query):
            fs = [(k, op or "", v) for k, op, v in _FILTER.findall(filters)]
            if kind == "node":
                for n in self.nodes.values():
                    if n["tags"] and _matches(n["tags"], fs):
                        out_nodes[n["id"]] = n
            elif kind == "way":
                for w in self.ways:
                    if _matches(w["tags"], fs):
                        out_ways[w["id"]] = w
                        for ref in w["nodes"]:
                            out_nodes[ref] = self.nodes[ref]
        return {
            "version": 0.6,
            "generator": "test",
            "elements": list(out_nodes.values()) + list(out_ways.values()),
        }


@pytest.fixture(scope="module")
def delft(data_dir):
    pbf = data_dir / "osm" / "delft-tudelft.osm.pbf"
    fake = FakeOverpass(pbf)
    lon = [n["lon"] for n in fake.nodes.values()]
    lat = [n["lat"] for n in fake.nodes.values()]
    # the whole file: nothing of it lies outside the box osmnx truncates to
    bbox = (min(lon) - 0.001, min(lat) - 0.001, max(lon) + 0.001, max(lat) + 0.001)
    return pbf, fake, bbox


def _serve(httpserver, fake, status=200):
    def handler(request):
        from werkzeug import Response

        if status != 200:
            return Response("busy", status=status)
        query = parse_qs(request.get_data(as_text=True))["data"][0]
        return Response(json.dumps(fake.answer(query)), content_type="application/json")

    httpserver.expect_request("/api/interpreter", method="POST").respond_with_handler(handler)
    return httpserver.url_for("/api")


def test_scan_from_overpass_equals_the_pbf_scan(delft, httpserver, tmp_path):
    pbf, fake, bbox = delft
    url = _serve(httpserver, fake)
    study = study_from_overpass(bbox=bbox, overpass_url=url, cache_dir=tmp_path)
    via = scan(study, cache=False)
    ref = scan(osm=pbf, cache=False)
    # three queries: the network, the amenities' tag keys, the address points
    assert len(fake.queries) == 3 and "highway" in fake.queries[0]
    a = via.dwellings.set_index("dwelling_id").sort_index()
    b = ref.dwellings.set_index("dwelling_id").sort_index()
    assert list(a.index) == list(b.index) and len(a) > 1000
    dist = [c for c in b.columns if c.startswith("dist_")]
    np.testing.assert_allclose(
        a[dist].to_numpy(float), b[dist].to_numpy(float), rtol=0, atol=0.01, equal_nan=True
    )
    np.testing.assert_array_equal(a["score"].to_numpy(float), b["score"].to_numpy(float))
    np.testing.assert_array_equal(a["score_class"].to_numpy(), b["score_class"].to_numpy())
    am = via.amenities.sort_values(["indicator", "source_id"])
    bm = ref.amenities.sort_values(["indicator", "source_id"])
    assert list(am["source_id"]) == list(bm["source_id"])
    assert via.metadata["network"] == ref.metadata["network"]
    src = json.loads(via.metadata["sources"])["osm"]
    assert src["osmnx_version"] and src["query"].startswith("bbox ")
    assert "OpenStreetMap" in via.metadata["attribution"]
    # a second run is answered from osmnx's cache, which lives in our cache folder
    study_from_overpass(bbox=bbox, overpass_url=url, cache_dir=tmp_path)
    assert len(fake.queries) == 3
    assert list((tmp_path / "overpass" / "http").glob("*.json"))


@pytest.mark.parametrize("status", [429, 504, 500])
def test_a_busy_server_is_one_line(delft, httpserver, tmp_path, capsys, status):
    _pbf, fake, bbox = delft
    url = _serve(httpserver, fake, status=status)
    with pytest.raises(OverpassError, match=f"HTTP {status}"):
        study_from_overpass(bbox=bbox, overpass_url=url, cache_dir=tmp_path)
    # and through the CLI: exit 2, one line, no traceback
    code = main(
        [
            "scan",
            "--osm-bbox",
            ",".join(map(str, bbox)),
            "--out",
            str(tmp_path / "x.gpkg"),
            "--cache-dir",
            str(tmp_path / "c"),
        ]
    )
    err = capsys.readouterr().err
    assert code == 2 and "Traceback" not in err and len(err.strip().splitlines()) == 1


def test_an_empty_answer_says_so(httpserver, tmp_path):
    from werkzeug import Response

    httpserver.expect_request("/api/interpreter", method="POST").respond_with_handler(
        lambda r: Response(json.dumps({"elements": []}), content_type="application/json")
    )
    with pytest.raises(OverpassError, match="no data"):
        study_from_overpass(
            bbox=(4.35, 51.99, 4.36, 52.0),
            overpass_url=httpserver.url_for("/api"),
            cache_dir=tmp_path,
        )


def test_a_timeout_names_its_duration(httpserver, tmp_path):
    import time

    from werkzeug import Response

    def slow(request):
        time.sleep(1.5)
        return Response("{}", content_type="application/json")

    httpserver.expect_request("/api/interpreter", method="POST").respond_with_handler(slow)
    with pytest.raises(OverpassError, match="no answer within 0.5 s"):
        study_from_overpass(
            bbox=(4.35, 51.99, 4.36, 52.0),
            overpass_url=httpserver.url_for("/api"),
            cache_dir=tmp_path,
            timeout_s=0.5,
        )


@pytest.mark.parametrize("text", ["1,2,3", "a,b,c,d", "6.1,50.7,6.0,50.8", "50.7,6.0,50.8,200"])
def test_a_bad_box_is_refused(text):
    from thuisdichtbij import InputError

    with pytest.raises(InputError, match="osm-bbox"):
        parse_bbox(text)
