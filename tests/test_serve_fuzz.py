"""The web server under a schema-driven fuzz and hand-made nasty queries: never a 500."""

import json
import warnings

import pytest

schemathesis = pytest.importorskip("schemathesis")
with warnings.catch_warnings():
    # starlette would rather have httpx2, which is not on PyPI mirrors here; httpx works
    warnings.simplefilter("ignore")
    from fastapi.testclient import TestClient  # noqa: E402
from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402
from hypothesis.errors import Unsatisfiable  # noqa: E402

from thuisdichtbij.apps.serve import create_app  # noqa: E402

from ._synthetic import lonlat, scan_with_zones  # noqa: E402

# a minute or more together: the everyday suite (-m 'not slow') leaves them to CI
pytestmark = pytest.mark.slow

_SETTINGS = settings(
    max_examples=60,
    deadline=None,
    derandomize=True,
    suppress_health_check=list(HealthCheck),
)


@pytest.fixture(scope="module")
def app(tmp_path_factory):
    return create_app(scan_with_zones(tmp_path_factory.mktemp("serve")), lang="en")


@pytest.fixture(scope="module")
def api(app):
    return schemathesis.openapi.from_asgi("/openapi.json", app)


def test_openapi_fuzz(api):
    """Every operation of the OpenAPI document, positive and negative examples, all checks."""
    calls = []
    for found in api.get_all_operations():
        operation = found.ok()
        for mode in schemathesis.GenerationMode:

            @given(case=operation.as_strategy(mode))
            @_SETTINGS
            def run(case):
                # The API's documented contract answers every error, a location outside the
                # scan too, with 422 and a Problem: schema-valid coordinates elsewhere are
                # rightly refused, so "valid data is accepted" does not apply here.
                skip = [schemathesis.checks.positive_data_acceptance]
                calls.append(case.call_and_validate(excluded_checks=skip))

            try:
                run()
            except Unsatisfiable:  # no parameters: no negative examples to make
                assert mode is schemathesis.GenerationMode.NEGATIVE
    print(f"schemathesis: {len(calls)} requests, 0 failures")
    assert len(calls) >= 100


# the small study spans x -100..1100, y -100..700 m around its origin (tests/_synthetic.py)
_LON0, _LAT0 = lonlat(-300, -300)
_LON1, _LAT1 = lonlat(1300, 900)


@given(
    lat=st.floats(min_value=_LAT0, max_value=_LAT1),
    lon=st.floats(min_value=_LON0, max_value=_LON1),
)
@_SETTINGS
def test_checks_inside_the_study_area_score_or_say_why(app, lat, lon):
    with TestClient(app) as client:
        r = client.get("/api/check", params={"lat": lat, "lon": lon})
    assert r.status_code in (200, 422), r.text
    body = r.json()
    if r.status_code == 200:
        assert 1 <= body["score_class"] <= 5
    else:
        assert isinstance(body["detail"], str) and body["detail"]


NASTY = [
    "lat=nan&lon=5.69",
    "lat=NaN&lon=nan",
    "lat=inf&lon=5.69",
    "lat=-Infinity&lon=5.69",
    "lat=1e308&lon=1e308",
    "lat=-1e309&lon=0",
    "lat=50.85&lon=5.69&lat=51&lon=6",  # repeated
    "lat=" + "9" * 60_000 + "&lon=5.69",  # huge (httpx refuses URLs over 64 kB)
    "lat=0x1p3&lon=5",
    "lat=%00&lon=5",
    "lat=50,85&lon=5,69",
    "lat=&lon=",
    "lat=50.85",
    "",
    "lat=90&lon=180",
    "lat=-90&lon=-180",
    "lat=" + "1" * 5000,
]
STATIC = [
    "/static/../serve.py",
    "/static/..%2f..%2fpyproject.toml",
    "/static/%2e%2e/%2e%2e/etc/passwd",
    "/static//etc/passwd",
    "/static/leaflet/../../apps/serve.py",
    "/static/" + "a" * 5000,
    "/api/check/../../etc/passwd",
    "/api/areas?x=" + "y" * 10000,
]


@pytest.mark.parametrize("query", NASTY)
def test_nasty_queries_get_422_or_200_never_500(app, query):
    with TestClient(app, raise_server_exceptions=False) as client:
        r = client.get("/api/check?" + query)
        assert r.status_code in (200, 422), (query[:80], r.status_code, r.text[:200])
        assert "Traceback" not in r.text
        if r.status_code != 200:
            assert isinstance(r.json()["detail"], str)
        assert client.get("/api/check", params={"lat": 50.0, "lon": 5.0}).status_code == 422
        assert client.get("/api/areas").status_code == 200  # still serving


@pytest.mark.parametrize("path", STATIC)
def test_static_routes_serve_nothing_outside_their_folder(app, path):
    with TestClient(app, raise_server_exceptions=False) as client:
        r = client.get(path)
    assert r.status_code in (200, 404, 405, 422), (path[:80], r.status_code)
    assert "Traceback" not in r.text
    assert "[build-system]" not in r.text and "root:" not in r.text
    assert "def create_app" not in r.text


def test_openapi_declares_the_ranges_and_the_error_model(app):
    with TestClient(app) as client:
        doc = client.get("/openapi.json").json()
        params = {
            p["name"]: next(s for s in p["schema"].get("anyOf", [p["schema"]]) if "minimum" in s)
            for p in doc["paths"]["/api/check"]["get"]["parameters"]
            if p["name"] in ("lat", "lon")
        }
        assert (params["lat"]["minimum"], params["lat"]["maximum"]) == (-90, 90)
        assert (params["lon"]["minimum"], params["lon"]["maximum"]) == (-180, 180)
        assert "422" in doc["paths"]["/api/check"]["get"]["responses"]
        r = client.get("/api/check", params={"lat": 10.0, "lon": 10.0})  # far from the study
    assert r.status_code == 422
    detail = r.json()["detail"]
    assert isinstance(detail, str) and "outside" in detail
    assert json.dumps(detail).count("Traceback") == 0
