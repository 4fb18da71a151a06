"""Each bad input gives the message the user should see (the message, not just the type)."""

import geopandas as gpd
import pytest
import yaml
from shapely import LineString, Point

from thuisdichtbij import (
    ConfigError,
    CRSError,
    InputError,
    InputFileNotFoundError,
    ThuisdichtbijError,
    load_study,
    scan,
)
from thuisdichtbij.apps.cli import main
from thuisdichtbij.sources.areas import read_areas
from thuisdichtbij.sources.cbs import read_cbs_pc6
from thuisdichtbij.sources.gtfs import read_gtfs_stops
from thuisdichtbij.sources.leefbaarometer import read_leefbaarometer
from thuisdichtbij.sources.osm import read_osm_ways
from thuisdichtbij.sources.points import read_points

from ._synthetic import write_study


def edit_study(path, **changes):
    raw = yaml.safe_load(path.read_text())
    raw.update(changes)
    path.write_text(yaml.safe_dump(raw))
    return path


def test_errors_are_both_ours_and_standard():
    assert issubclass(InputFileNotFoundError, FileNotFoundError)
    assert issubclass(InputError, ValueError) and issubclass(ConfigError, ValueError)
    assert issubclass(CRSError, ThuisdichtbijError)


def test_missing_file(tmp_path):
    with pytest.raises(InputFileNotFoundError, match=r"dwellings: file .*nope.csv does not exist"):
        read_points(tmp_path / "nope.csv", what="dwellings")


def test_osm_extract_that_is_not_a_pbf(tmp_path):
    p = tmp_path / "map.osm"
    p.write_text("<osm></osm>")
    with pytest.raises(InputError, match="is not an .osm.pbf file"):
        read_osm_ways(p)


def test_corrupt_pbf(tmp_path):
    p = tmp_path / "broken.osm.pbf"
    p.write_bytes(b"this is no protobuf")
    with pytest.raises(InputError, match="OSM extract: .*broken.osm.pbf is damaged or incomplete"):
        read_osm_ways(p)


def test_truncated_pbf(data_dir, tmp_path):
    # a download that broke off: the first 187197 bytes of a real extract
    p = tmp_path / "trunc.osm.pbf"
    p.write_bytes((data_dir / "osm" / "delft-tudelft.osm.pbf").read_bytes()[:187197])
    with pytest.raises(InputError, match=r"trunc.osm.pbf is damaged or incomplete \(the file"):
        read_osm_ways(p)


def test_wrong_format(tmp_path):
    p = tmp_path / "streets.gpkg"
    p.write_text("not a geopackage")
    with pytest.raises(InputError, match="is not a vector file GDAL can read"):
        read_areas(p, id_field="id")


def test_layer_that_does_not_exist(tmp_path):
    p = tmp_path / "two.gpkg"
    gdf = gpd.GeoDataFrame({"id": [1]}, geometry=[Point(0, 0).buffer(1)], crs=28992)
    gdf.to_file(p, layer="a")
    gdf.to_file(p, layer="b")
    with pytest.raises(InputError, match="has no layer 'c'; its layers are a, b"):
        read_areas(p, id_field="id", layer="c")
    with pytest.raises(InputError, match=r"has several layers \(a, b\); say which one"):
        read_areas(p, id_field="id")


@pytest.mark.filterwarnings("ignore:'crs' was not provided")
def test_layer_without_crs(tmp_path):
    p = tmp_path / "nocrs.gpkg"
    gpd.GeoDataFrame({"id": [1]}, geometry=[Point(0, 0).buffer(1)]).to_file(p)
    with pytest.raises(CRSError, match="has no coordinate reference system; set one"):
        read_areas(p, id_field="id")


def test_empty_layer(tmp_path):
    p = tmp_path / "empty.gpkg"
    gpd.GeoDataFrame({"id": []}, geometry=[], crs=28992).to_file(p)
    with pytest.raises(InputError, match="holds no features"):
        read_areas(p, id_field="id")


def test_missing_id_column(tmp_path):
    p = tmp_path / "areas.gpkg"
    gpd.GeoDataFrame({"code": [1]}, geometry=[Point(0, 0).buffer(1)], crs=28992).to_file(p)
    with pytest.raises(InputError, match="has no column 'postcode'; its columns are code"):
        read_areas(p, id_field="postcode")


def test_duplicate_area_ids(tmp_path):
    p = tmp_path / "areas.gpkg"
    gpd.GeoDataFrame(
        {"postcode": [6211, 6211]},
        geometry=[Point(0, 0).buffer(1), Point(5, 0).buffer(1)],
        crs=28992,
    ).to_file(p)
    with pytest.raises(InputError, match="has the id '6211' in 'postcode' more than once"):
        read_areas(p, id_field="postcode")


def test_areas_that_are_not_polygons(tmp_path):
    p = tmp_path / "areas.gpkg"
    gpd.GeoDataFrame({"id": [1]}, geometry=[Point(0, 0)], crs=28992).to_file(p)
    with pytest.raises(InputError, match="holds Point geometries; expected polygons"):
        read_areas(p, id_field="id")


def test_points_layer_of_lines(tmp_path):
    p = tmp_path / "lines.gpkg"
    gpd.GeoDataFrame(geometry=[LineString([(0, 0), (1, 1)])], crs=28992).to_file(p)
    with pytest.raises(InputError, match="holds LineString geometries; expected points"):
        read_points(p, what="amenities")


def test_csv_without_coordinates(tmp_path):
    p = tmp_path / "woningen.csv"
    p.write_text("id,adres\n1,Markt 1\n")
    with pytest.raises(
        InputError, match="no coordinate columns I recognise .*columns are id, adres"
    ):
        read_points(p, what="dwellings")


def test_csv_with_bad_coordinates(tmp_path):
    p = tmp_path / "woningen.csv"
    p.write_text("id,lon,lat\n1,5.69,50.85\n2,,50.85\n")
    with pytest.raises(
        InputError, match=r"1 row\(s\) without numeric coordinates .*first at data row 2"
    ):
        read_points(p, what="dwellings")


def test_csv_in_rd_declared_as_wgs84(tmp_path):
    p = tmp_path / "woningen.csv"
    p.write_text("id,x,y\n1,176000,318000\n")
    with pytest.raises(CRSError, match="are not longitude/latitude.* crs: EPSG:28992"):
        read_points(p, what="dwellings")


def test_projected_file_outside_its_crs_area_of_use(tmp_path):
    # UTM 31N metres (Maastricht) in a file that says RD New: RD New's inverse puts
    # y = 5.6 million metres near the pole, far beyond its area of use (lat 50.75-53.7)
    p = tmp_path / "woningen.gpkg"
    gpd.GeoDataFrame(geometry=[Point(690000, 5635000)], crs=28992).to_file(p)
    with pytest.raises(CRSError, match="outside the area of use .* of EPSG:28992"):
        read_points(p, what="dwellings")
    # the same file with RD coordinates across the country (Maastricht to Groningen)
    gpd.GeoDataFrame(geometry=[Point(176000, 318000), Point(233000, 582000)], crs=28992).to_file(p)
    assert len(read_points(p, what="dwellings")) == 2


def test_gtfs_missing_column(tmp_path):
    p = tmp_path / "stops.txt"
    p.write_text("stop_id,stop_name\n1,Markt\n")
    with pytest.raises(InputError, match="GTFS stops: .* has no column 'stop_lat'"):
        read_gtfs_stops(p)


def test_cbs_table_with_unexpected_layout(tmp_path):
    p = tmp_path / "pc6.csv"
    p.write_text("postcode;woningen\n6211AL;245\n")
    with pytest.raises(
        InputError, match="expected three header rows, the first column named 'Zip code-6'"
    ):
        read_cbs_pc6(p)


def test_leefbaarometer_without_the_year(tmp_path):
    p = tmp_path / "lbm.csv"
    p.write_text(
        "PC4,jaar,lbm,afw,fys,onv,soc,vrz,won\n6211,2012,4.1,0.0,NA,NA,NA,NA,NA\n6211,2022,4.1,0.0,0,0.1,0,0,0\n"
    )
    with pytest.raises(InputError, match=r"has no 'onv' scores for 2014 .*with 'onv': \[2022\]"):
        read_leefbaarometer(p, dimension="onv", year=2022, base_year=2014)


def test_study_file_unknown_key(tmp_path):
    p = tmp_path / "s.yaml"
    p.write_text("name: x\nosm: a.osm.pbf\nnetwerk: streets.gpkg\n")
    with pytest.raises(ConfigError, match="unknown key 'netwerk'; allowed keys are"):
        load_study(p)


def test_study_file_unknown_section_key(tmp_path):
    p = tmp_path / "s.yaml"
    p.write_text("name: x\nosm: a.osm.pbf\nareas: {file: a.gpkg, id: postcode}\n")
    with pytest.raises(
        ConfigError, match="unknown key 'areas.id'; allowed keys are file, id_field, layer"
    ):
        load_study(p)


def test_unknown_preset():
    with pytest.raises(
        InputFileNotFoundError, match="presets: aachen, amsterdam, delft, maastricht"
    ):
        load_study("utrecht")


def test_study_area_id_not_found(tmp_path):
    study = write_study(tmp_path)
    gpd.GeoDataFrame(
        {"gemeente": ["Maastricht"]}, geometry=[Point(176000, 318000).buffer(5000)], crs=28992
    ).to_file(tmp_path / "gemeenten.gpkg")
    edit_study(
        study, study_area={"file": "gemeenten.gpkg", "id_field": "gemeente", "ids": ["Mastricht"]}
    )
    with pytest.raises(InputError, match="has no gemeente Mastricht; check the spelling"):
        scan(study, data_dir=tmp_path)


def test_missing_data_file_named_in_study(tmp_path):
    study = edit_study(
        write_study(tmp_path), areas={"file": "pc4-2030.gpkg", "id_field": "postcode"}
    )
    with pytest.raises(InputFileNotFoundError, match="areas: file .*pc4-2030.gpkg does not exist"):
        scan(study, data_dir=tmp_path)


def test_cli_bad_input_exit_code_and_message(tmp_path, capsys):
    code = main(
        ["scan", "--osm", str(tmp_path / "missing.osm.pbf"), "--out", str(tmp_path / "x.gpkg")]
    )
    err = capsys.readouterr().err
    assert code == 2
    assert err.startswith("thuisdichtbij: error: OSM extract: file")
    assert "Traceback" not in err
    assert not (tmp_path / "x.gpkg").exists()


def test_cli_output_must_be_a_geopackage(tmp_path, capsys):
    study = write_study(tmp_path)
    code = main(
        [
            "scan",
            "--study",
            str(study),
            "--data-dir",
            str(tmp_path),
            "--out",
            str(tmp_path / "x.shp"),
        ]
    )
    assert code == 2
    assert "must end in .gpkg" in capsys.readouterr().err


@pytest.mark.parametrize(
    "argv",
    [["scan", "--study", "x.yaml", "--out", "x.shp"], ["scna"], ["zones"], ["map", "a", "b"]],
)
def test_bad_arguments_are_one_line(argv, capsys):
    # as every other bad input: one line on stderr and exit code 2, no usage block
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("thuisdichtbij") and "error: " in err
    assert "--help)" in err


def test_metric_crs_required(tmp_path, capsys):
    study = write_study(tmp_path)
    code = main(
        [
            "scan",
            "--study",
            str(study),
            "--data-dir",
            str(tmp_path),
            "--crs",
            "EPSG:4326",
            "--out",
            str(tmp_path / "x.gpkg"),
        ]
    )
    assert code == 2
    assert "is geographic (degrees); give a metric CRS" in capsys.readouterr().err
