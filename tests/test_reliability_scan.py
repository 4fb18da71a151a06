"""Inputs that lie elsewhere (wrong CRS, swapped axes, another place) are named, never scored."""

import json

import pandas as pd
import pyogrio
import pytest
import yaml

from thuisdichtbij import CRSError, InputError, scan
from thuisdichtbij.analyses.check import load_check, parse_location

from ._synthetic import at, lonlat, write_study


def _edit(study, **changes):
    raw = yaml.safe_load(study.read_text())
    raw.update(changes)
    study.write_text(yaml.safe_dump(raw, sort_keys=False))
    return study


def _geojson(path, points, props):
    # RD metres, no "crs" member: GeoJSON readers take it for WGS84 degrees
    feats = [
        {"type": "Feature", "properties": p, "geometry": {"type": "Point", "coordinates": xy}}
        for xy, p in zip(points, props)
    ]
    path.write_text(json.dumps({"type": "FeatureCollection", "features": feats}))
    return path


def test_dwellings_in_rd_without_crs_are_named(tmp_path):
    study = write_study(tmp_path)
    _geojson(tmp_path / "woningen.geojson", [at(100, 10), at(500, 300)], [{"id": 1}, {"id": 2}])
    _edit(study, dwellings={"file": "woningen.geojson", "id": "id"})
    with pytest.raises(CRSError, match=r"woningen.geojson has coordinates x 176100 to 176500"):
        scan(study, data_dir=tmp_path)


def test_amenities_in_rd_without_crs_are_named(tmp_path):
    study = write_study(tmp_path)
    _geojson(tmp_path / "gp.geojson", [at(350, 0)], [{"name": "Huisarts"}])
    raw = yaml.safe_load(study.read_text())
    _edit(study, amenities=[*raw["amenities"], {"file": "gp.geojson", "indicator": "gp"}])
    with pytest.raises(CRSError, match="gp.geojson has coordinates .* not longitude/latitude"):
        scan(study, data_dir=tmp_path)


def test_swapped_lat_lon_in_a_csv_names_the_file_and_its_bounds(tmp_path):
    study = write_study(tmp_path)
    lon, lat = lonlat(100, 10)
    pd.DataFrame({"id": ["a"], "lon": [lat], "lat": [lon]}).to_csv(tmp_path / "w.csv", index=False)
    _edit(study, dwellings={"file": "w.csv", "id": "id"})
    with pytest.raises(
        InputError, match=r"dwellings: .*w.csv lies outside the street network"
    ) as e:
        scan(study, data_dir=tmp_path)
    assert ", while the street network spans x " in str(e.value) and "the the" not in str(e.value)


def test_study_area_far_from_the_network_names_the_network(tmp_path):
    import geopandas as gpd
    from shapely import box

    study = write_study(tmp_path)
    far = gpd.GeoDataFrame({"gm": ["X"]}, geometry=[box(100000, 400000, 101000, 401000)], crs=28992)
    far.to_file(tmp_path / "gm.gpkg")
    _edit(study, study_area={"file": "gm.gpkg", "id_field": "gm", "ids": ["X"]})
    with pytest.raises(InputError, match="street network: .*streets.gpkg lies outside the study"):
        scan(study, data_dir=tmp_path, cache=False)


def test_a_run_scoring_no_dwelling_is_an_error(tmp_path):
    study = write_study(tmp_path)
    # (200, 450): 450 m from the main street, 300 m from the side street, 335 m from the footway
    x, y = at(200, 450)
    pd.DataFrame({"id": ["a"], "x": [x], "y": [y]}).to_csv(tmp_path / "w.csv", index=False)
    _edit(study, dwellings={"file": "w.csv", "id": "id", "x": "x", "y": "y", "crs": "EPSG:28992"})
    with pytest.raises(InputError, match="none of the 1 dwelling point"):
        scan(study, data_dir=tmp_path)


def test_amenities_far_outside_the_study_are_not_written(tmp_path):
    study = write_study(tmp_path)
    stops = pd.read_csv(tmp_path / "stops.txt")
    far = {"stop_id": "be1", "stop_name": "Brussel", "stop_lat": 50.85, "stop_lon": 4.35}
    far2 = {**far, "stop_id": "gr1", "stop_name": "Groningen", "stop_lat": 53.2, "stop_lon": 6.57}
    near = dict(zip(["stop_lon", "stop_lat"], lonlat(1400, 0)))  # 400 m beyond the streets
    near = {**far, **near, "stop_id": "n1", "stop_name": "Net buiten"}
    stops = pd.concat([stops, pd.DataFrame([far, far2, near])], ignore_index=True)
    stops.to_csv(tmp_path / "stops.txt", index=False)
    result = scan(study, data_dir=tmp_path)
    ids = set(result.amenities["source_id"])
    assert "be1" not in ids and "gr1" not in ids
    # within the street network's extent (0..1000 m) plus 500 + 250 m: kept
    assert "n1" in ids
    assert result.metadata["amenities_beyond_reach"] == "2"
    out = result.to_gpkg(tmp_path / "s.gpkg")
    b = pyogrio.read_info(out, layer="amenities", force_total_bounds=True)["total_bounds"]
    assert b[2] - b[0] < 2500 and b[3] - b[1] < 2500


@pytest.fixture(scope="module")
def small_check(tmp_path_factory):
    folder = tmp_path_factory.mktemp("chk")
    study = write_study(folder)
    return load_check(scan(study, data_dir=folder).to_gpkg(folder / "scan.gpkg"))


def test_check_swapped_lat_lon_is_named(small_check):
    lon, lat = lonlat(100, 10)
    parse_location(small_check, at=f"{lat},{lon}")  # the right order works
    with pytest.raises(InputError, match="latitude and longitude are swapped"):
        parse_location(small_check, at=f"{lon},{lat}")
    x, y = at(100, 10)
    with pytest.raises(InputError, match="x and y are swapped"):
        parse_location(small_check, at=f"{y},{x}", crs="EPSG:28992")


def test_check_absurd_numbers_are_short(small_check):
    from thuisdichtbij.analyses.check import check

    with pytest.raises(InputError) as err:
        check(small_check, parse_location(small_check, at="1e308,1e308", crs="EPSG:28992"))
    assert len(str(err.value)) < 200 and "1e+308" in str(err.value)
