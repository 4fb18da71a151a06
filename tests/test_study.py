"""Study presets, the data folder, and the choice of CRS."""

import geopandas as gpd
import pytest
from shapely import box

from thuisdichtbij import load_study
from thuisdichtbij.crs import choose_metric_crs
from thuisdichtbij.settings import DATA_DIR_ENV
from thuisdichtbij.study import preset_names


@pytest.mark.parametrize("name", ["maastricht", "delft", "amsterdam", "aachen"])
def test_presets_name_files_that_exist(name, data_dir):
    study = load_study(name, data_dir=data_dir)
    files = study.input_files()
    assert files
    for f in files:
        assert f.is_file(), f


def test_presets_ship_with_the_package():
    assert {"maastricht", "delft", "amsterdam", "aachen"} <= set(preset_names())


def test_data_dir_from_environment(tmp_path, monkeypatch):
    monkeypatch.setenv(DATA_DIR_ENV, str(tmp_path))
    study = load_study("delft")
    assert study.osm == tmp_path / "osm" / "delft-tudelft.osm.pbf"
    explicit = load_study("delft", data_dir=tmp_path / "elsewhere")
    assert explicit.osm == tmp_path / "elsewhere" / "osm" / "delft-tudelft.osm.pbf"


def test_weights_path_resolves_next_to_the_study(tmp_path):
    p = tmp_path / "s.yaml"
    p.write_text("name: s\nosm: x.osm.pbf\nweights: w.yaml\n")
    assert load_study(p).weights == tmp_path / "w.yaml"


def lonlat_box(w, s, e, n):
    return gpd.GeoDataFrame(geometry=[box(w, s, e, n)], crs=4326)


def test_rd_new_inside_the_netherlands():
    assert choose_metric_crs(lonlat_box(4.355, 51.995, 4.386, 52.005)).to_epsg() == 28992


def test_utm_outside_the_netherlands():
    # Aachen reaches just south of RD New's area of use
    assert choose_metric_crs(lonlat_box(6.026, 50.745, 6.148, 50.794)).to_epsg() == 32632
    assert choose_metric_crs(lonlat_box(13.3, 52.4, 13.5, 52.6)).to_epsg() == 32633


@pytest.mark.parametrize(
    ("epsg", "bounds", "said"),
    [
        (32632, (4.355, 51.995, 4.386, 52.005), True),  # Delft (zone 31) in zone 32
        (32631, (4.355, 51.995, 4.386, 52.005), False),  # its own zone
        (28992, (6.026, 50.745, 6.148, 50.794), False),  # Aachen: just past RD New, in slack
        (28992, (13.3, 52.4, 13.5, 52.6), True),  # Berlin in RD New
    ],
)
def test_a_crs_given_for_data_beyond_its_area_of_use_is_said(epsg, bounds, said, caplog):
    from pyproj import CRS

    from thuisdichtbij.crs import warn_outside_area_of_use

    with caplog.at_level("WARNING", logger="thuisdichtbij"):
        assert warn_outside_area_of_use(CRS.from_epsg(epsg), bounds, "EPSG:4326") is said
    warned = [r.getMessage() for r in caplog.records if r.name == "thuisdichtbij.crs"]
    assert len(warned) == int(said)
    if said:
        assert warned[0].startswith(f"crs: EPSG:{epsg} is made for ")
        assert f"the data lie at {bounds[0]:.2f} to {bounds[2]:.2f} E" in warned[0]
