"""Readers of the publishers' formats, on small files in their shapes: renamed members and
columns, sentinel values, empty results for the municipality."""

import geopandas as gpd
import pandas as pd
import pytest
from shapely import box

from thuisdichtbij.errors import InputError
from thuisdichtbij.sources.archive import find_member
from thuisdichtbij.sources.catalogue import load_catalogue
from thuisdichtbij.sources.http import Downloader

from . import _published as pub

CAT = load_catalogue()


def _write(tmp_path, name, data):
    p = tmp_path / name
    p.write_bytes(data)
    return p


def test_zip_members_by_pattern_with_folder_and_spaces(tmp_path):
    scores = pd.DataFrame({"bu_code": ["BU09350001"], "jaar": [2022], "afw": [0.1]})
    z = _write(tmp_path, "lbm.zip", pub.lbm_scores_zip({"buurt": scores, "pc4": scores}))
    entry = CAT["leefbaarometer"]
    assert find_member(z, entry["members"]["buurt"], what="LBM") == (
        "Leefbaarometer 3.0 - Meting 2024 - open data/Leefbaarometer-scores buurten 2002-2024.csv"
    )
    # the PC4 pattern takes the scores, not the development table next to them
    assert find_member(z, entry["members"]["pc4"], what="LBM").endswith("scores PC4 2002-2024.csv")
    with pytest.raises(InputError) as err:
        find_member(z, entry["members"]["grid"], what="LBM")
    msg = str(err.value)
    assert "no member of lbm.zip matches '*scores grid*.csv'" in msg
    assert "Leefbaarometer-scores buurten 2002-2024.csv" in msg  # the members found


def test_several_members_matching_is_an_error(tmp_path):
    z = _write(
        tmp_path, "pc4.zip", pub._zip({"a/cbs_pc4_2024_v1.gpkg": b"", "cbs_pc4_2023.gpkg": b""})
    )
    with pytest.raises(InputError, match="several members of pc4.zip match 'cbs_pc4_\\*.gpkg'"):
        find_member(z, ["cbs_pc4_*.gpkg"], what="PC4")


def test_leefbaarometer_renamed_column_names_member_expected_and_found(tmp_path):
    from thuisdichtbij.sources.leefbaarometer import read_lbm_member

    scores = pd.DataFrame({"buurtcode": ["BU09350001"], "jaar": [2022], "afw": [0.1]})
    z = _write(tmp_path, "lbm.zip", pub.lbm_scores_zip({"buurt": scores}))
    with pytest.raises(InputError) as err:
        read_lbm_member(
            z, CAT["leefbaarometer"]["members"]["buurt"], id_column="bu_code", what="LBM"
        )
    msg = str(err.value)
    assert (
        "lbm.zip:Leefbaarometer 3.0 - Meting 2024 - open data/Leefbaarometer-scores buurten" in msg
    )
    assert "no column 'bu_code'; its columns are buurtcode, jaar, afw" in msg
    pc4 = pd.DataFrame({"PC4": [6211.0, 6212.0], "jaar": [2022, 2022], "afw": [0.1, None]})
    z = _write(tmp_path, "lbm2.zip", pub.lbm_scores_zip({"pc4": pc4}))
    got = read_lbm_member(z, ["*scores pc4*.csv"], id_column="PC4", what="LBM")
    assert got["PC4"].tolist() == ["6211", "6212"]  # as text, without ".0"


def _pc6(**renamed):
    gdf = gpd.GeoDataFrame(
        {
            "postcode6": ["6211aa", "6211AB"],
            "aantal_inwoners": ["120", "-99997"],  # text, as some editions store them
            "aantal_inwoners_65_jaar_en_ouder": [-99995, 5],
            "aantal_part_huishoudens": [60, -99997],
            "aantal_woningen": [0, 10],
        },
        geometry=[box(0, 0, 1, 1), box(1, 0, 2, 1)],
        crs=28992,
    )
    return gdf.rename(columns=renamed)


def test_pc6_geopackage_sentinels_are_unknown_never_zero(tmp_path):
    from thuisdichtbij.sources.cbs import read_cbs_pc6

    p = tmp_path / "cbs_pc6_2021_vol.gpkg"
    _pc6().to_file(p, layer="cbs_pc6_2021")
    df = read_cbs_pc6(p)
    assert df.index.tolist() == ["6211AA", "6211AB"]
    assert df.loc["6211AA", "inhabitants"] == 120
    assert pd.isna(df.loc["6211AB", "inhabitants"])  # -99997 secret
    assert pd.isna(df.loc["6211AA", "age_65plus"])  # -99995 not yet published
    assert df.loc["6211AA", "dwellings"] == 0  # a real zero
    assert df.attrs["masked"] == {
        "inhabitants": 1,
        "age_65plus": 1,
        "households": 1,
        "dwellings": 0,
    }


def test_pc6_geopackage_renamed_field(tmp_path):
    from thuisdichtbij.sources.cbs import read_cbs_pc6

    p = tmp_path / "pc6.gpkg"
    _pc6(aantal_woningen="woningen").to_file(p, layer="cbs_pc6_2021")
    with pytest.raises(
        InputError, match="has no field 'aantal_woningen' .*its fields are postcode6"
    ):
        read_cbs_pc6(p)


def _statline(httpserver, tmp_path, rows, props=None):
    base = CAT["ses_woa_buurt"]["url"]
    handler = pub.statline_handler(base, rows, properties=props)
    for end in ("/DataProperties", "/TypedDataSet"):
        httpserver.expect_request(pub.path_of(base) + end).respond_with_handler(handler)
    return Downloader(tmp_path / "c", mirror=httpserver.url_for("").rstrip("/"))


ROWS = [
    {"WijkenEnBuurten": f"BU09350{i:03d}", "Perioden": "2023JJ00", "GemiddeldeScore_29": i / 10,
     "GemiddeldeScore_31": 0.0, "ParticuliereHuishoudens_2": 100 + i}
    for i in range(5)
]  # fmt: skip


def test_ses_woa_odata_pages_and_strips_codes(httpserver, tmp_path):
    from thuisdichtbij.sources.ses_woa import ses_woa_from_statline

    dl = _statline(httpserver, tmp_path, ROWS)
    df = ses_woa_from_statline(dl, CAT["ses_woa_buurt"], gm_code="GM0935")
    assert df["bu_code"].tolist() == [f"BU09350{i:03d}" for i in range(5)]  # 3 pages of 2
    assert df["ses_woa_total"].tolist() == [0.0, 0.1, 0.2, 0.3, 0.4]
    assert df["n_households"].tolist() == [100, 101, 102, 103, 104]
    assert df.attrs["year"] == 2023
    with pytest.raises(InputError, match="has no buurten of GM0503 \\(codes BU0503"):
        ses_woa_from_statline(dl, CAT["ses_woa_buurt"], gm_code="GM0503")


def test_ses_woa_renamed_title_names_the_titles_found(httpserver, tmp_path):
    from thuisdichtbij.sources.ses_woa import ses_woa_from_statline

    props = pub.statline_properties()
    for p in props:
        if p["Title"] == "Totaalscore":
            p["Title"] = "Totale score"
    dl = _statline(httpserver, tmp_path, ROWS, props)
    with pytest.raises(InputError) as err:
        ses_woa_from_statline(dl, CAT["ses_woa_buurt"], gm_code="GM0935")
    msg = str(err.value)
    assert "CBS table 86092NED: no column titled 'Totaalscore/Gemiddelde score'" in msg
    assert "SES-WOA/Totale score/Gemiddelde score" in msg


def test_geofabrik_addresses():
    from thuisdichtbij.sources.regions import osm_url, province_slug

    osm = CAT["osm"]
    assert (
        osm_url(osm, "netherlands")
        == "https://download.geofabrik.de/europe/netherlands-latest.osm.pbf"
    )
    assert osm_url(osm, "Limburg") == (
        "https://download.geofabrik.de/europe/netherlands/limburg-latest.osm.pbf"
    )
    assert len(osm["regions"]) == 12
    assert province_slug("Fryslân") == "friesland"
    assert province_slug("Noord-Brabant") == "noord-brabant"
    assert {province_slug(n) for n in ("Zeeland", "Zuid-Holland")} <= set(osm["regions"])
    with pytest.raises(InputError, match="'belgie' is not .*netherlands or one of drenthe, "):
        osm_url(osm, "belgie")


def test_catalogue_overlay_replaces_only_the_keys_given(tmp_path):
    mine = tmp_path / "mine.yaml"
    mine.write_text("pc4:\n  url: https://example.org/pc4.zip\nextra:\n  title: x\n")
    with pytest.raises(Exception, match="source 'extra' lacks url"):
        load_catalogue(overlay=mine)
    mine.write_text("pc4:\n  url: https://example.org/pc4.zip\n")
    cat = load_catalogue(overlay=mine)
    assert cat["pc4"]["url"] == "https://example.org/pc4.zip"
    assert cat["pc4"]["id_field"] == "postcode"  # kept from the shipped entry
    for name, entry in load_catalogue().items():  # every entry says how sure we are
        assert entry.get("verified") in (True, False, "partly"), name
