"""What-if: incremental edits on paper, and equal to a full re-scan of the edited input."""

import json
import sys

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from shapely import LineString, Point

from thuisdichtbij import InputError, scan
from thuisdichtbij.analyses.whatif import (
    Removal,
    add_amenity,
    load_whatif,
    parse_addition,
    remove_amenity,
    whatif,
)
from thuisdichtbij.engine.network import build_network
from thuisdichtbij.engine.score import classify
from thuisdichtbij.engine.snap import snap_points

RD = "EPSG:28992"
INF = np.inf


def _street():
    # 2 km along the x axis in edges of 100 m.
    lines = [LineString([(x, 0), (x + 100, 0)]) for x in range(0, 2000, 100)]
    return build_network(gpd.GeoDataFrame(geometry=lines, crs=RD), filter_walkable=False)


def _snap(net, xs, y=0.0):
    return snap_points(np.array([Point(x, y) for x in xs]), net, max_snap_m=250)


def test_add_and_remove_on_paper():
    net = _street()
    dw = _snap(net, [0, 300, 700, 1200, 1950])
    # Amenities at x=100 and x=1000: walks 100, 200, 300, 200, 950 (beyond 500: none).
    before = np.array([100, 200, 300, 200, INF])
    added = add_amenity(net, dw, before, _snap(net, [500]), max_distance_m=500)
    np.testing.assert_array_equal(added, [100, 200, 200, 200, INF])
    # The amenity at x=100 closes: x=0 and x=300 had it nearest; x=1000 is 1000 and 700 m away.
    gone = remove_amenity(
        net, dw, before, _snap(net, [100]), _snap(net, [1000]), max_distance_m=500
    )
    np.testing.assert_array_equal(gone, [INF, INF, 300, 200, INF])
    # With one at x=600 left as well, x=300 walks 300 m to it and x=0 600 m (none).
    gone = remove_amenity(
        net, dw, before, _snap(net, [100]), _snap(net, [600, 1000]), max_distance_m=500
    )
    np.testing.assert_array_equal(gone, [INF, 300, 300, 200, INF])


def test_band_edge_and_snap_step():
    net = _street()
    dw = _snap(net, [0, 0.0], y=0)
    # 240 m along the street plus a snap step of 10 m: exactly 250.0 m, the 250 m band.
    d = add_amenity(net, dw, np.array([INF, INF]), _snap(net, [240], y=10), max_distance_m=500)
    np.testing.assert_array_equal(d, [250.0, 250.0])
    d = add_amenity(net, dw, np.array([INF, 30]), _snap(net, [240.01], y=10), max_distance_m=500)
    np.testing.assert_array_equal(d, [250.01, 30])


@pytest.fixture(scope="module")
def delft(data_dir, tmp_path_factory):
    base = scan("delft", data_dir=data_dir)
    path = base.to_gpkg(tmp_path_factory.mktemp("whatif") / "delft.gpkg")
    return base, load_whatif(path)


def _full_scan(data_dir, monkeypatch, *, add=(), drop=()):
    """A full scan of Delft whose amenities are edited as they are read."""
    module = sys.modules["thuisdichtbij.pipeline.inputs"]  # where the scan reads amenities
    read = module.read_amenities

    def edited(*args, **kwargs):
        amen = read(*args, **kwargs)
        amen = amen[~amen["source_id"].astype(str).isin(drop)]
        extra = gpd.GeoDataFrame(
            {
                "indicator": [ind for ind, _ in add],
                "name": "new",
                "kind": "new",
                "source": "test",
                "source_id": [f"t{i}" for i in range(len(add))],
            },
            geometry=[p for _, p in add],
            crs=amen.crs,
        )
        return pd.concat([amen, extra], ignore_index=True)

    monkeypatch.setattr(module, "read_amenities", edited)
    return scan("delft", data_dir=data_dir)


def _assert_equal(result, full, base):
    cfg = base.config
    got, want = result.dwellings, full.dwellings
    assert list(got["dwelling_id"]) == list(want["dwelling_id"])
    for ind in cfg.indicator_ids:
        a, b = got[f"dist_{ind}"].to_numpy(float), want[f"dist_{ind}"].to_numpy(float)
        a, b = np.nan_to_num(a, nan=-1, posinf=1e9), np.nan_to_num(b, nan=-1, posinf=1e9)
        np.testing.assert_allclose(a, b, atol=0.01, rtol=0, err_msg=ind)
        np.testing.assert_array_equal(got[f"pts_{ind}"], want[f"pts_{ind}"])
    np.testing.assert_array_equal(got["score"].to_numpy(float), want["score"].to_numpy(float))
    # Classes on the base run's edges (as stored in its metadata).
    edges = np.asarray(json.loads(base.metadata["class_edges_dwellings"]), dtype=float)
    want_cls = classify(want["score"], edges).astype(float).to_numpy()
    np.testing.assert_array_equal(got["score_class"].to_numpy(float), want_cls)
    means = result.areas.set_index("area_id")["score_mean_after"]
    full_means = full.areas.set_index("area_id")["score_mean"]
    np.testing.assert_allclose(means[full_means.index], full_means, rtol=1e-12)


def _far_spot(base, indicator):
    """A dwelling with no amenity of the kind within reach, 12 m off it."""
    dw = base.dwellings
    far = dw[dw["snapped"] & ~np.isfinite(dw[f"dist_{indicator}"])].iloc[0]
    return Point(far.geometry.x + 12, far.geometry.y)


def _central(base, indicator):
    """The amenity of a kind nearest to the middle of the dwellings (many have it nearest)."""
    amen = base.amenities[base.amenities["indicator"] == indicator]
    xy = base.dwellings.geometry
    centre = Point(xy.x.mean(), xy.y.mean())
    return str(amen["source_id"].iloc[int(np.argmin(amen.distance(centre)))])


@pytest.mark.slow
def test_addition_equals_a_full_scan(delft, data_dir, monkeypatch):
    base, ctx = delft
    spot = _far_spot(base, "gp")
    lat_lon = ctx.check.to_wgs84.transform(spot.x, spot.y)
    add = parse_addition(ctx, f"huisarts@{lat_lon[1]:.7f},{lat_lon[0]:.7f}")
    result = whatif(ctx, add=[add])
    full = _full_scan(data_dir, monkeypatch, add=[("gp", add.point)])
    _assert_equal(result, full, base)
    assert result.summary["dwellings_gaining"] > 0
    assert result.summary["dwellings_losing"] == 0


@pytest.mark.slow
def test_removal_and_addition_equal_a_full_scan(delft, data_dir, monkeypatch):
    base, ctx = delft
    gone = _central(base, "supermarket")
    spot = _far_spot(base, "supermarket")
    result = whatif(
        ctx,
        remove=[Removal(gone)],
        add=[parse_addition(ctx, f"{spot.x},{spot.y}".join(["supermarket@", ""]), crs=RD)],
    )
    full = _full_scan(data_dir, monkeypatch, drop=[gone], add=[("supermarket", spot)])
    _assert_equal(result, full, base)
    assert result.summary["dwellings_losing"] > 0
    assert result.summary["dwellings_gaining"] > 0


@pytest.mark.slow
def test_removal_alone_equals_a_full_scan(delft, data_dir, monkeypatch):
    base, ctx = delft
    # The first bus stop from the middle whose closing lengthens a walk to another stop.
    stops = base.amenities[base.amenities["indicator"] == "bus_stop"]
    xy = base.dwellings.geometry
    order = np.argsort(stops.distance(Point(xy.x.mean(), xy.y.mean())).to_numpy())
    for gone in stops["source_id"].astype(str).to_numpy()[order]:
        result = whatif(ctx, remove=[Removal(gone)])
        after = result.change["dist_bus_stop_after"]
        if result.summary["dwellings_losing"] and np.isfinite(after).any():
            break
    assert np.isfinite(result.change["dist_bus_stop_after"]).any()
    full = _full_scan(data_dir, monkeypatch, drop=[gone])
    _assert_equal(result, full, base)
    js = result.to_json()
    assert js["dwellings_gaining"] == 0
    assert {"code", "mean_before", "mean_after", "class_before", "class_after"} <= set(
        js["areas"][0]
    )


def test_bad_edits(delft):
    _, ctx = delft
    with pytest.raises(InputError, match="not a sub-indicator"):
        parse_addition(ctx, "bakker@52.0,4.37")
    with pytest.raises(InputError, match="KIND@LAT,LON"):
        parse_addition(ctx, "huisarts 52.0,4.37")
    with pytest.raises(InputError, match="no amenity with id"):
        whatif(ctx, remove=[Removal("node/0")])
    with pytest.raises(InputError, match="nothing to change"):
        whatif(ctx)
