"""The CBS PC6 GeoPackage's polygons: dwellings weighted per PC6, areas at PC6 level.

Files are built in the shape CBS publishes (``cbs_pc6_2021_vol.gpkg``, layer ``cbs_pc6_2021``,
fields ``postcode6`` ... ``aantal_woningen``, -99997/-99995 for secret/unpublished values);
every expected weight and mean below is worked out by hand in the comments.
"""

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import yaml
from shapely import Point, box

from thuisdichtbij import load_config
from thuisdichtbij.engine.aggregate import aggregate, assign_areas
from thuisdichtbij.errors import ConfigError
from thuisdichtbij.sources.areas import read_areas
from thuisdichtbij.sources.cbs import read_cbs_pc6_polygons
from thuisdichtbij.sources.dwellings import read_dwellings
from thuisdichtbij.study import load_study

from ._pbf import PBF
from .test_demand import write_cbs

X0, Y0 = 176000.0, 318000.0  # RD New


def _box(x0, x1):
    return box(X0 + x0, Y0, X0 + x1, Y0 + 100)


def _pt(x, y=50):
    return Point(X0 + x, Y0 + y)


def write_pc6(folder):
    """Four PC6 polygons in a row, 100 m wide: A, B (dwellings secret), C, D (no dwellings)."""
    gdf = gpd.GeoDataFrame(
        {
            "postcode6": ["6211AA", "6211AB", "6211AC", "6211AD"],
            "aantal_inwoners": [30, -99997, 5, 0],
            "aantal_inwoners_65_jaar_en_ouder": [10, -99997, -99995, 0],
            "aantal_part_huishoudens": [12, -99997, 3, 0],
            "aantal_woningen": [12, -99997, 3, 0],
        },
        geometry=[_box(0, 100), _box(100, 200), _box(200, 300), _box(300, 400)],
        crs=28992,
    )
    path = folder / "cbs_pc6_2021_vol.gpkg"
    gdf.to_file(path, layer="cbs_pc6_2021", engine="pyogrio")
    return path


def test_polygons_read_with_secret_values_unknown(tmp_path):
    pc6 = read_cbs_pc6_polygons(write_pc6(tmp_path))
    assert pc6.index.tolist() == ["6211AA", "6211AB", "6211AC", "6211AD"]
    assert pc6.geom_type.tolist() == ["Polygon"] * 4
    assert pc6["dwellings"].tolist()[0] == 12 and np.isnan(pc6.loc["6211AB", "dwellings"])
    assert np.isnan(pc6.loc["6211AC", "age_65plus"])  # -99995: not yet published
    assert pc6.loc["6211AD", "dwellings"] == 0  # a real zero stays zero
    assert pc6.attrs["masked"] == {"inhabitants": 1, "age_65plus": 2, "households": 1,
                                   "dwellings": 1}  # fmt: skip


def test_one_point_per_pc6_polygon_weighted_by_its_dwellings(tmp_path):
    gpkg = write_pc6(tmp_path)
    dw, facts = read_dwellings({"cbs_pc6": gpkg})
    # D has 0 dwellings: no point; B is secret: a point of unknown weight, never 0
    assert dw["dwelling_id"].tolist() == ["6211AA", "6211AB", "6211AC"]
    assert dw["weight"].tolist()[::2] == [12.0, 3.0] and np.isnan(dw["weight"][1])
    polygons = read_cbs_pc6_polygons(gpkg)
    for _, row in dw.iterrows():
        assert polygons.loc[row["postcode"], "geometry"].contains(row.geometry)
    assert facts["points_with_unknown_weight"] == 1
    assert facts["points_without_dwellings_dropped"] == 1
    assert facts["postcodes_masked_in_cbs"] == 1
    assert "one point inside each PC6 polygon" in facts["dwellings_source"]


def test_points_share_their_pc6_count_and_take_a_missing_postcode_from_the_polygon(tmp_path):
    gpkg = write_pc6(tmp_path)
    pts = gpd.GeoDataFrame(
        {"id": ["p1", "p2", "p3", "p4", "p5"],
         "pc": ["6211AA", "6211 aa", None, "6299ZZ", "6211AB"]},
        geometry=[_pt(10), _pt(50), _pt(90), _pt(250), _pt(150)],
        crs=28992,
    )  # fmt: skip
    path = tmp_path / "adressen.gpkg"
    pts.to_file(path, layer="adressen", engine="pyogrio")
    dw, facts = read_dwellings({"file": path, "id": "id", "postcode": "pc", "cbs_pc6": gpkg})
    w = dw.set_index("dwelling_id")["weight"]
    # 6211AA: 12 dwellings over p1, p2 and p3 (whose postcode comes from polygon A): 4 each
    assert w[["p1", "p2", "p3"]].tolist() == [4.0, 4.0, 4.0]
    assert dw.set_index("dwelling_id").loc["p3", "postcode"] == "6211AA"
    assert np.isnan(w["p4"])  # 6299ZZ: not in the CBS table
    assert np.isnan(w["p5"])  # 6211AB: secret
    assert facts["postcodes_from_pc6_polygons"] == 1
    assert facts["postcodes_not_in_cbs"] == 1 and facts["postcodes_masked_in_cbs"] == 1


def test_csv_reexport_shares_too_and_one_point_keeps_the_whole_count(tmp_path):
    cbs = write_cbs(tmp_path / "cbs.csv", [("6211AA", "30", "10", "12"), ("6211AC", "5", "", "3")])
    pd.DataFrame(
        {"Zip": ["6211AA", "6211AA", "6211AC"], "x": [X0, X0 + 1, X0 + 2], "y": [Y0] * 3}
    ).to_csv(tmp_path / "p.csv", index=False)
    spec = {"file": tmp_path / "p.csv", "x": "x", "y": "y", "crs": "EPSG:28992", "id": "Zip",
            "cbs_pc6": cbs}  # fmt: skip
    dw, _ = read_dwellings(spec)
    assert dw["weight"].tolist() == [6.0, 6.0, 3.0]  # 12 / 2, 12 / 2, 3 / 1


def test_osm_address_points_weighted_per_pc6(tmp_path):
    gpkg = write_pc6(tmp_path)
    pbf = PBF(origin=(X0, Y0))
    pbf.node(20, 50, **{"addr:housenumber": "1", "addr:postcode": "6211 AA"})
    pbf.node(60, 50, **{"addr:housenumber": "3", "addr:postcode": "6211AA"})
    pbf.node(250, 50, **{"addr:housenumber": "5"})  # no postcode: polygon C gives 6211AC
    pbf.node(350, 50, amenity="bench")  # no address: no dwelling
    osm = pbf.write(tmp_path / "x.osm.pbf")
    dw, facts = read_dwellings({"file": osm, "cbs_pc6": gpkg})
    assert sorted(zip(dw["postcode"], dw["weight"])) == [
        ("6211AA", 6.0),  # 12 / 2
        ("6211AA", 6.0),
        ("6211AC", 3.0),  # 3 / 1
    ]
    assert "OSM address points" in facts["dwellings_source"]


def test_areas_at_pc6_level_suppressed_and_unknown_never_zero(tmp_path):
    gpkg = write_pc6(tmp_path)
    areas = read_areas(gpkg, id_field="postcode6")
    assert areas["area_id"].tolist() == ["6211AA", "6211AB", "6211AC", "6211AD"]
    pts = gpd.GeoDataFrame(
        {"dwelling_id": ["p1", "p2", "p3", "p4", "p5"],
         "postcode": ["6211AA", "6211AA", "6211AA", "6211AB", "6211AC"]},
        geometry=[_pt(10), _pt(50), _pt(90), _pt(150), _pt(250)],
        crs=28992,
    )  # fmt: skip
    path = tmp_path / "p.gpkg"
    pts.to_file(path, engine="pyogrio")
    dw, _ = read_dwellings({"file": path, "id": "dwelling_id", "postcode": "postcode",
                            "cbs_pc6": gpkg})  # fmt: skip
    dw["area_id"] = assign_areas(dw, areas)
    dw["score"] = [10.0, 16.0, 4.0, 20.0, 5.0]
    agg = aggregate(dw, areas, load_config(), columns=[]).set_index("area_id")
    # A: 12 dwellings (4 + 4 + 4), mean (4*10 + 4*16 + 4*4) / 12 = 10
    assert agg.loc["6211AA", "n_dwellings"] == 12
    assert agg.loc["6211AA", "score_mean"] == pytest.approx(10.0)
    assert not agg.loc["6211AA", "suppressed"]
    # B: its one point's weight is secret: count unknown (not 0), suppressed, no mean
    assert pd.isna(agg.loc["6211AB", "n_dwellings"]) and agg.loc["6211AB", "suppressed"]
    assert np.isnan(agg.loc["6211AB", "score_mean"])
    # C: 3 dwellings < 5: suppressed; D: no point at all: 0 dwellings, suppressed
    assert agg.loc["6211AC", "n_dwellings"] == 3 and agg.loc["6211AC", "suppressed"]
    assert np.isnan(agg.loc["6211AC", "score_mean"])
    assert agg.loc["6211AD", "n_dwellings"] == 0 and agg.loc["6211AD", "suppressed"]


def test_study_keys_for_pc6(tmp_path):
    gpkg = write_pc6(tmp_path)
    f = tmp_path / "s.yaml"
    study = {
        "name": "x",
        "dwellings": {"cbs_pc6": str(gpkg)},
        "areas": {"file": str(gpkg), "id_field": "postcode6"},
    }
    f.write_text(yaml.safe_dump(study))
    st = load_study(f)
    assert st.dwellings["cbs_pc6"] == gpkg and "file" not in st.dwellings
    assert gpkg in st.input_files()
    f.write_text(yaml.safe_dump({"name": "x", "dwellings": {"cbs_pc6": "cbs-pc6-2021.csv"}}))
    with pytest.raises(ConfigError, match="without 'file' must be the CBS PC6 GeoPackage"):
        load_study(f)
    f.write_text(yaml.safe_dump({"name": "x", "dwellings": {"id": "Zip"}}))
    with pytest.raises(ConfigError, match="'dwellings' needs a 'file'"):
        load_study(f)


def test_bag_dwellings_keep_their_postcode():
    from thuisdichtbij.sources.bag import bag_dwellings

    feats = gpd.GeoDataFrame(
        {
            "identificatie": ["0935010000000001", "0935010000000002"],
            "gebruiksdoel": ["woonfunctie", "kantoorfunctie"],
            "status": ["Verblijfsobject in gebruik", "Verblijfsobject in gebruik"],
            "postcode": ["6211 AA", "6211AB"],
        },
        geometry=[_pt(10), _pt(20)],
        crs=28992,
    )
    dw = bag_dwellings(feats)
    assert dw["bag_id"].tolist() == ["0935010000000001"]
    assert dw["postcode"].tolist() == ["6211AA"]
