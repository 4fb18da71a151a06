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
    ("epsg", "bounds", "verdict"),
    [
        (32632, (4.355, 51.995, 4.386, 52.005), "ok"),  # Delft in UTM zone 32: 0.08 % off
        (28992, (13.3, 52.4, 13.5, 52.6), "ok"),  # Berlin in RD New: 0.17 %
        (32633, (4.355, 51.995, 4.386, 52.005), "said"),  # Delft in zone 33: 0.61 %
        (32631, (13.3, 52.4, 13.5, 52.6), "said"),  # Berlin in zone 31: 0.57 %
        (3857, (4.355, 51.995, 4.386, 52.005), "refused"),  # Web Mercator: 62 %
    ],
)
def test_a_crs_given_that_measures_the_data_off_is_said_or_refused(epsg, bounds, verdict, caplog):
    from pyproj import CRS, Proj

    from thuisdichtbij.crs import check_scale
    from thuisdichtbij.errors import CRSError

    crs = CRS.from_epsg(epsg)
    # the scale error by hand: pyproj's factors at the box's corners and centre
    lons = [bounds[0], bounds[2], bounds[0], bounds[2], (bounds[0] + bounds[2]) / 2]
    lats = [bounds[1], bounds[1], bounds[3], bounds[3], (bounds[1] + bounds[3]) / 2]
    off = max(abs(v - 1) for v in Proj(crs).get_factors(lons, lats).parallel_scale)
    with caplog.at_level("WARNING", logger="thuisdichtbij"):
        if verdict == "refused":
            with pytest.raises(CRSError, match=r"measures 62\.\d % off at the data"):
                check_scale(crs, bounds, "EPSG:4326")
            return
        assert check_scale(crs, bounds, "EPSG:4326") == pytest.approx(off, rel=1e-6)
    warned = [r.getMessage() for r in caplog.records if r.name == "thuisdichtbij.crs"]
    assert len(warned) == (verdict == "said")
    if warned:
        assert warned[0].startswith(f"crs: EPSG:{epsg} measures {100 * off:.1f} % off at the")
