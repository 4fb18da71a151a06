"""Walking routes and the place search of the planner page, on the Maastricht scan."""

import pytest
import shapely
from pyproj import Transformer

from thuisdichtbij import scan
from thuisdichtbij.analyses.check import check, load_check, parse_location
from thuisdichtbij.analyses.places import find_places
from thuisdichtbij.analyses.routes import walking_routes


@pytest.fixture(scope="module")
def ctx(data_dir, tmp_path_factory):
    out = scan("maastricht", data_dir=data_dir).to_gpkg(tmp_path_factory.mktemp("r") / "m.gpkg")
    return load_check(out)


def test_routes_walk_as_far_as_the_check_says(ctx):
    to_rd = Transformer.from_crs(4326, 28992, always_xy=True)
    for lat, lon in [(50.8514, 5.6910), (50.8406, 5.7136)]:
        point = parse_location(ctx, lat=lat, lon=lon)
        rows = {r["indicator"]: r for r in check(ctx, point, reach=False)["indicators"]}
        routes = walking_routes(ctx, point, max_distance_m=500)
        within = {k for k, r in rows.items() if r["distance_m"] is not None}
        assert {r["indicator"] for r in routes} == within
        for r in routes:
            assert r["distance_m"] == pytest.approx(rows[r["indicator"]]["distance_m"], abs=0.05)
            # Maastricht's edges are straight: the drawn line is as long as the walk
            line = shapely.transform(
                shapely.geometry.shape(r["route"]["geometry"]),
                lambda xy: __import__("numpy").column_stack(to_rd.transform(xy[:, 0], xy[:, 1])),
            )
            assert line.length == pytest.approx(r["distance_m"], abs=1.0)
            assert r["band_m"] == (250 if r["distance_m"] <= 250 else 500)
        # farther searches find more, never fewer
        assert len(walking_routes(ctx, point, max_distance_m=2000)) >= len(routes)


def test_find_places_by_postcode_and_street(ctx):
    hits = find_places(ctx, "6211 al")
    assert [h["label"] for h in hits] == ["6211AL"]
    assert 50.8 < hits[0]["lat"] < 50.9 and 5.6 < hits[0]["lon"] < 5.8
    streets = [h["label"] for h in find_places(ctx, "markt")]
    assert streets[0] == "Markt" and "Graanmarkt" in streets
    assert find_places(ctx, "no such street anywhere") == []
    assert find_places(ctx, "   ") == []
