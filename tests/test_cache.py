"""The network cache: reused when nothing changed, never when something did."""

import numpy as np
import pandas as pd
import pytest
import yaml

from thuisdichtbij import load_config, scan
from thuisdichtbij.errors import InputError

from ._synthetic import write_study


@pytest.fixture()
def study(tmp_path):
    return write_study(tmp_path)


def run(study, cache, **kw):
    return scan(study, data_dir=study.parent, cache=cache, **kw)


def test_second_scan_uses_the_cache_and_gives_the_same_result(study, tmp_path):
    cache = tmp_path / "cache"
    first = run(study, cache)
    assert first.metadata["network_cache"] == "miss"
    assert len(list(cache.glob("network-*.npz"))) == 1
    second = run(study, cache)
    assert second.metadata["network_cache"] == "hit"
    a, b = first.network, second.network
    assert np.array_equal(a.node_xy, b.node_xy)
    assert np.array_equal(a.edge_u, b.edge_u) and np.array_equal(a.edge_v, b.edge_v)
    assert np.array_equal(a.edge_length_m, b.edge_length_m)
    assert list(a.edge_name) == list(b.edge_name)
    assert a.crs == b.crs
    cols = [c for c in first.dwellings.columns if c != "geometry"]
    pd.testing.assert_frame_equal(first.dwellings[cols], second.dwellings[cols])


def test_changed_input_file_is_not_served_from_the_cache(study, tmp_path):
    cache = tmp_path / "cache"
    run(study, cache)
    # same name, other bytes: a street added
    import geopandas as gpd
    from shapely import LineString

    from ._synthetic import at

    edges = gpd.read_file(tmp_path / "streets.gpkg", layer="edges")
    extra = gpd.GeoDataFrame(
        {"edge_id": ["new"], "highway": ["footway"], "name": ["Nieuw pad"]},
        geometry=[LineString([at(900, 0), at(900, 300)])],
        crs=28992,
    ).to_crs(edges.crs)
    pd.concat([edges, extra]).to_file(tmp_path / "streets.gpkg", layer="edges")
    again = run(study, cache)
    assert again.metadata["network_cache"] == "miss"
    assert "Nieuw pad" in set(again.network.edge_name)


def test_changed_parameter_is_not_served_from_the_cache(study, tmp_path):
    cache = tmp_path / "cache"
    run(study, cache)
    cfg = load_config(overrides={"network": {"min_component_m": 5000}})
    with pytest.raises(InputError, match="every connected piece is shorter than 5000 m"):
        run(study, cache, config=cfg)
    other_crs = run(study, cache, crs="EPSG:32631")
    assert other_crs.metadata["network_cache"] == "miss"
    assert other_crs.network.crs.to_epsg() == 32631


def test_changed_network_layer_is_not_served_from_the_cache(study, tmp_path):
    cache = tmp_path / "cache"
    run(study, cache)
    raw = yaml.safe_load(study.read_text())
    raw["network"]["layer"] = "nodes"
    study.write_text(yaml.safe_dump(raw))
    with pytest.raises(InputError, match="expected LineString edges"):
        run(study, cache)


def test_cache_off(study, tmp_path):
    result = run(study, False)
    assert result.metadata["network_cache"] == "off"


def test_unreadable_cache_entry_is_rebuilt(study, tmp_path):
    cache = tmp_path / "cache"
    run(study, cache)
    entry = next(cache.glob("network-*.npz"))
    entry.write_bytes(b"garbage")
    again = run(study, cache)
    assert again.metadata["network_cache"] == "miss"
    assert run(study, cache).metadata["network_cache"] == "hit"
