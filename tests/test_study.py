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
    "lon, lat",
    [
        (6.087, 50.77),  # Aachen
        (-73.98, 40.75),  # New York
        (151.2, -33.87),  # Sydney
        (6.0, 51.0),  # on a zone's edge: the western zone
        (0.0, -10.0),
        (3.0, 0.0),  # on the equator: the northern hemisphere
        (6.0, 0.0),
        (-180.0, 5.0),  # the first zone's western edge
        (180.0, 5.0),  # the last zone's eastern edge
        (179.99, -5.0),
        (-0.001, 70.0),
    ],
)
def test_the_utm_zone_is_the_one_geopandas_estimates(lon, lat):
    # reckoned instead of looked up in PROJ's database; the same zone, edges included
    from thuisdichtbij.crs import utm_crs

    point = gpd.GeoDataFrame(geometry=gpd.points_from_xy([lon], [lat]), crs=4326)
    assert utm_crs(lon, lat) == point.estimate_utm_crs()


@pytest.mark.parametrize("lon, lat", [(360.0, 51.0), (-181.0, 0.0), (6.0, 85.0), (6.0, -81.0)])
def test_no_utm_zone_outside_their_reach_is_one_line(lon, lat):
    # GeoPandas' estimate raised a RuntimeError there (a street file in 0-360 longitudes)
    from thuisdichtbij import CRSError
    from thuisdichtbij.crs import utm_crs

    with pytest.raises(CRSError, match="outside the UTM zones.*give a metric CRS"):
        utm_crs(lon, lat)
    with pytest.raises(CRSError, match="latitude nan"):
        utm_crs(6.0, float("nan"))
    assert utm_crs(6.0, 84.0).to_epsg() == 32631 and utm_crs(6.0, -80.0).to_epsg() == 32731


DELFT = (4.355, 51.995, 4.386, 52.005)
BERLIN = (13.3, 52.4, 13.5, 52.6)


def _utm_k(zone: int, lon: float, lat: float) -> float:
    """UTM's scale by hand: k0 (1 + (dlon cos lat)^2 / 2), dlon from the zone's meridian."""
    import math

    dlon = math.radians(lon - (zone * 6 - 183))
    return 0.9996 * (1 + (dlon * math.cos(math.radians(lat))) ** 2 / 2)


@pytest.mark.parametrize(
    ("crs", "bounds", "verdict"),
    [
        ("EPSG:28992", DELFT, "ok"),
        ("EPSG:7415", DELFT, "ok"),  # RD New + NAP heights: its horizontal part
        ("EPSG:32632", DELFT, "ok"),  # Delft (zone 31) in zone 32: 0.08 %
        ("EPSG:32633", DELFT, "said"),  # in zone 33: 0.6 %
        ("EPSG:32631", BERLIN, "said"),  # Berlin in zone 31: 0.6 %
        ("EPSG:3857", DELFT, "62.4 % off"),  # Web Mercator: 1 / cos 52° = 1.624
        ("ESRI:54008", DELFT, "3.1 % off"),  # World Sinusoidal: 3 % along one direction
        ("EPSG:32660", DELFT, "turns north by 174°"),  # a zone of the other side of the world
        ("EPSG:4978", DELFT, "is not a map projection"),  # geocentric
        ("EPSG:25831", DELFT, "ok"),  # ETRS89 / UTM 31N: one of the data's datums
        # a third datum, reached from WGS 84 and from RD New along different paths: a point
        # read from each lands tens of metres apart (DHDN; OSGB 36 only a ballpark offset)
        ("EPSG:31466", DELFT, r"on another datum \(Deutsches Hauptdreiecksnetz\)"),
        ("EPSG:27700", DELFT, r"on another datum \(Ordnance Survey of Great Britain 1936\)"),
        ("+proj=sterea +lat_0=52.156 +lon_0=5.387 +k=0.9999 +units=ft", DELFT, "in foot"),
    ],
)
def test_a_crs_given_that_cannot_measure_the_data_is_said_or_refused(crs, bounds, verdict, caplog):
    from pyproj import CRS

    from thuisdichtbij.crs import check_metric_crs
    from thuisdichtbij.errors import CRSError

    c = CRS.from_user_input(crs)
    if verdict not in ("ok", "said"):
        with pytest.raises(CRSError, match=verdict.replace(".", r"\.")):
            check_metric_crs(c, bounds, "EPSG:4326")
        return
    with caplog.at_level("WARNING", logger="thuisdichtbij"):
        error = check_metric_crs(c, bounds, "EPSG:4326")
    warned = [r.getMessage() for r in caplog.records if r.name == "thuisdichtbij.crs"]
    assert len(warned) == (verdict == "said")
    if c.to_epsg() in (32632, 32633, 32631):  # the worst corner, by UTM's formula
        zone = c.to_epsg() - 32600
        corners = [(x, y) for x in bounds[::2] for y in bounds[1::2]]
        assert error == pytest.approx(max(abs(_utm_k(zone, *p) - 1) for p in corners), abs=2e-5)
    if warned:
        assert warned[0].startswith(f"crs: {crs} measures {100 * error:.1f} % off at the data")


def test_a_preset_without_its_data_folder_says_how_to_name_it(tmp_path, capsys):
    # a preset run away from the data mirror: the missing folder, and the way to name it
    from thuisdichtbij.apps.cli import main

    out = tmp_path / "m.gpkg"
    args = ["scan", "--study", "maastricht", "--data-dir", str(tmp_path / "nowhere")]
    assert main([*args, "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert f"its folder {tmp_path / 'nowhere' / 'maastricht'} does not exist either" in err
    assert "pass --data-dir, or set THUISDICHTBIJ_DATA" in err
    assert len(err.strip().splitlines()) == 1 and not out.exists()
    # a file missing from a folder that exists: only the path to check
    (tmp_path / "nowhere" / "maastricht").mkdir(parents=True)
    assert main([*args, "--out", str(out)]) == 2
    assert "does not exist; check the path" in capsys.readouterr().err
