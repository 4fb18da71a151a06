"""Small files in the exact shapes the publishers serve (names, members, layers, fields).

Each builder follows the evidence named in ``data/sources.yaml``: PDOK's gebiedsindelingen
GeoPackage, the CBS PC4/PC6 zips, the Leefbaarometer open-data and geometry zips, and the
CBS StatLine OData v3 answers. Tests serve them under the catalogue's URL paths.
"""

import io
import json
import zipfile
from urllib.parse import urlsplit

import geopandas as gpd
import pandas as pd
from werkzeug import Response

# Municipalities (real polygons from the offline mirror) and their CBS codes and provinces.
MUNICIPALITIES = {
    "Maastricht": ("GM0935", "Limburg"),
    "Eijsden-Margraten": ("GM1903", "Limburg"),
    "Meerssen": ("GM0938", "Limburg"),
    "Delft": ("GM0503", "Zuid-Holland"),
}
PROVINCE_CODES = {"Limburg": "PV31", "Zuid-Holland": "PV28"}
LBM_FOLDER = "Leefbaarometer 3.0 - Meting 2024 - open data/"
LBM_SCORES = {
    "pc4": "Leefbaarometer-scores PC4 2002-2024.csv",
    "buurt": "Leefbaarometer-scores buurten 2002-2024.csv",
    "grid": "Leefbaarometer-scores grids 2002-2024.csv",
}
LBM_AREAS = {"pc4": "PC4 2024.gpkg", "buurt": "buurt 2024.gpkg", "grid": "grid 2024.gpkg"}
XLSX = b"PK\x03\x04 (the Excel twin CBS puts next to the GeoPackage; never read)"


def path_of(url):
    p = urlsplit(url)
    return f"/{p.netloc}{p.path}"


def _gpkg_bytes(layers: dict, tmp) -> bytes:
    """A GeoPackage holding ``layers`` (name -> frame), as bytes."""
    p = tmp / f"layers-{len(list(tmp.iterdir()))}.gpkg"
    for name, gdf in layers.items():
        gdf.to_file(p, layer=name, driver="GPKG", engine="pyogrio")
    return p.read_bytes()


def _zip(members: dict) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        for name, data in members.items():
            z.writestr(name, data)
    return buf.getvalue()


def gebiedsindelingen(data_dir, tmp, *, register: bool = False) -> bytes:
    """``cbsgebiedsindelingen2025.gpkg``: gemeente and provincie layers (+ a decoy), PDOK fields."""
    real = gpd.read_file(data_dir / "nl" / "cbs-gemeenten-2025.gpkg", engine="pyogrio")
    real = real[real["gemeente"].isin(MUNICIPALITIES)].reset_index(drop=True)
    codes = real["gemeente"].map(lambda n: MUNICIPALITIES[n][0])
    gem = gpd.GeoDataFrame(
        {
            "statcode": codes,
            "jrstatcode": "2025" + codes,
            "statnaam": real["gemeente"],
            "rubriek": "gemeente",
            "id": range(1, len(real) + 1),
        },
        geometry=real.geometry.values,
        crs=real.crs,
    )
    prov_of = real["gemeente"].map(lambda n: MUNICIPALITIES[n][1])
    prov = gem.assign(statnaam=prov_of).dissolve("statnaam").reset_index()
    prov = gpd.GeoDataFrame(
        {
            "statcode": prov["statnaam"].map(PROVINCE_CODES),
            "jrstatcode": "2025" + prov["statnaam"].map(PROVINCE_CODES),
            "statnaam": prov["statnaam"],
            "rubriek": "provincie",
            "id": range(1, len(prov) + 1),
        },
        geometry=prov.geometry.simplify(200).values,
        crs=real.crs,
    )
    layers = {
        "gemeente_gegeneraliseerd": gem.assign(geometry=gem.geometry.simplify(100)),
        "gemeente_niet_gegeneraliseerd": gem,
        "provincie_gegeneraliseerd": prov,
        "coropgebied_gegeneraliseerd": prov.assign(rubriek="coropgebied"),
    }
    data = _gpkg_bytes(layers, tmp)
    if register:
        p = tmp / "with-register.gpkg"
        p.write_bytes(data)
        table = pd.DataFrame(
            {
                "gm_code": codes,
                "gm_naam": real["gemeente"],
                "pv_code": prov_of.map(PROVINCE_CODES),
                "pv_naam": prov_of,
            }
        )
        import pyogrio

        pyogrio.write_dataframe(table, p, layer="gebiedsindelingen_register", driver="GPKG")
        data = p.read_bytes()
    return data


def pc4_zip(areas: gpd.GeoDataFrame, tmp) -> bytes:
    """``2025-cbs_pc4_2024_v1.zip``: ``cbs_pc4_2024_v1.gpkg`` (layer cbs_pc4_2024) + .xlsx."""
    gdf = areas.assign(postcode=areas["postcode"].astype("int64"))
    gpkg = _gpkg_bytes({"cbs_pc4_2024": gdf}, tmp)
    return _zip({"cbs_pc4_2024_v1.gpkg": gpkg, "pc4_2024_v1.xlsx": XLSX})


def pc6_zip(areas: gpd.GeoDataFrame, tmp, member="cbs_pc6_2021_vol.gpkg") -> bytes:
    """``2024-cbs_pc6_2021_vol.zip``: ``cbs_pc6_2021_vol.gpkg`` (layer cbs_pc6_2021) + .xlsx."""
    gpkg = _gpkg_bytes({"cbs_pc6_2021": areas}, tmp)
    return _zip({member: gpkg, "pc6_2021_vol.xlsx": XLSX})


def lbm_scores_zip(tables: dict) -> bytes:
    """``open-data-leefbaarometer-meting-2024.zip``: a folder with one CSV per level."""
    members = {LBM_FOLDER + LBM_SCORES[k]: df.to_csv(index=False) for k, df in tables.items()}
    # the development table sits next to the scores and must not be taken for them
    members[LBM_FOLDER + "Leefbaarometer-ontwikkeling PC4 2002-2024.csv"] = "PC4,x\n1,2\n"
    return _zip(members)


def lbm_geometry_zip(layers: dict, tmp) -> bytes:
    """``geometrie-lbm3-2024.zip``: ``geometrie-lbm3-2024/<level> 2024.gpkg``, one layer each."""
    members = {}
    for level, gdf in layers.items():
        name = LBM_AREAS[level]
        members["geometrie-lbm3-2024/" + name] = _gpkg_bytes({name[:-5]: gdf}, tmp)
    return _zip(members)


def statline_properties() -> list[dict]:
    """``86092NED/DataProperties``: dimensions, groups and topics, keys with suffixes."""
    return [
        {
            "ID": 0,
            "Position": "0",
            "ParentID": None,
            "Type": "GeoDimension",
            "Key": "WijkenEnBuurten",
            "Title": "Wijken en buurten",
        },
        {
            "ID": 1,
            "Position": "1",
            "ParentID": None,
            "Type": "TimeDimension",
            "Key": "Perioden",
            "Title": "Perioden",
        },
        {
            "ID": 2,
            "Position": "2",
            "ParentID": None,
            "Type": "Topic",
            "Key": "ParticuliereHuishoudens_2",
            "Title": "Particuliere huishoudens",
        },
        {
            "ID": 3,
            "Position": "3",
            "ParentID": None,
            "Type": "TopicGroup",
            "Key": "",
            "Title": "SES-WOA",
        },
        {
            "ID": 4,
            "Position": "4",
            "ParentID": 3,
            "Type": "TopicGroup",
            "Key": "",
            "Title": "Totaalscore",
        },
        {
            "ID": 5,
            "Position": "5",
            "ParentID": 4,
            "Type": "Topic",
            "Key": "GemiddeldeScore_29",
            "Title": "Gemiddelde score",
        },
        {
            "ID": 6,
            "Position": "6",
            "ParentID": 3,
            "Type": "TopicGroup",
            "Key": "",
            "Title": "Financiële welvaart",
        },
        {
            "ID": 7,
            "Position": "7",
            "ParentID": 6,
            "Type": "Topic",
            "Key": "GemiddeldeScore_31",
            "Title": "Gemiddelde score",
        },
    ]


def statline_handler(base_url: str, rows: list[dict], *, properties=None, page=2):
    """A werkzeug handler answering ``DataProperties`` and a paged ``TypedDataSet``.

    Codes are padded to 10 characters, as CBS serves them; ``$filter=startswith(...)`` is
    applied; pages of ``page`` rows are linked by ``odata.nextLink``.
    """
    props = properties or statline_properties()
    padded = [{**r, "WijkenEnBuurten": r["WijkenEnBuurten"].ljust(10)} for r in rows]

    def handler(request):
        if request.path.endswith("/DataProperties"):
            return Response(json.dumps({"value": props}), content_type="application/json")
        flt = request.args.get("$filter", "")
        prefix = flt.split("'")[1] if "startswith" in flt else ""
        hits = [r for r in padded if r["WijkenEnBuurten"].startswith(prefix)]
        skip = int(request.args.get("$skip", 0))
        body = {"odata.metadata": "...", "value": hits[skip : skip + page]}
        if skip + page < len(hits):
            q = f"$filter={flt}&$skip={skip + page}"
            body["odata.nextLink"] = f"{base_url}/TypedDataSet?{q}"
        return Response(json.dumps(body), content_type="application/json")

    return handler


def gebiedsindelingen_buurten(buurten: gpd.GeoDataFrame, tmp) -> bytes:
    """``cbsgebiedsindelingen2024.gpkg``: buurt layers with PDOK's fields (+ a wijk decoy)."""
    gdf = gpd.GeoDataFrame(
        {
            "statcode": buurten["code"],
            "jrstatcode": "2024" + buurten["code"],
            "statnaam": buurten["name"],
            "rubriek": "buurt",
            "id": range(1, len(buurten) + 1),
        },
        geometry=buurten.geometry.values,
        crs=buurten.crs,
    )
    wijk = gdf.assign(statcode="WK093500", rubriek="wijk").dissolve("statcode").reset_index()
    layers = {
        "buurt_gegeneraliseerd": gdf.assign(geometry=gdf.geometry.simplify(50)),
        "buurt_niet_gegeneraliseerd": gdf,
        "wijk_gegeneraliseerd": wijk,
    }
    return _gpkg_bytes(layers, tmp)


def nabijheid_properties(gp_title="Afstand tot huisartsenpraktijk") -> list[dict]:
    """``86134NED/DataProperties``: region dimension, text topics, groups, km topics."""

    def topic(i, key, title, parent, unit="km"):
        return {"ID": i, "Position": str(i), "ParentID": parent, "Type": "Topic", "Key": key,
                "Title": title, "Unit": unit, "Decimals": 1}  # fmt: skip

    def group(i, title, parent=None):
        return {"ID": i, "Position": str(i), "ParentID": parent, "Type": "TopicGroup",
                "Key": "", "Title": title}  # fmt: skip

    return [
        {
            "ID": 0,
            "Position": "0",
            "ParentID": None,
            "Type": "GeoDimension",
            "Key": "WijkenEnBuurten",
            "Title": "Wijken en buurten",
        },  # fmt: skip
        topic(1, "Gemeentenaam_1", "Gemeentenaam", None, unit=""),
        group(2, "Regioaanduiding"),
        topic(3, "Codering_3", "Codering", 2, unit=""),
        group(4, "Gezondheid en welzijn"),
        group(5, "Huisartsenpraktijk", 4),
        topic(6, "AfstandTotHuisartsenpraktijk_5", gp_title, 5),
        topic(7, "Binnen1Km_6", "Binnen 1 km", 5, unit="aantal"),
        topic(8, "AfstandTotHuisartsenpost_9", "Afstand tot huisartsenpost", 4),
        topic(9, "AfstandTotApotheek_10", "Afstand tot apotheek", 4),
        topic(10, "AfstandTotFysiotherapeut_20", "Afstand tot fysiotherapeut", 4),
        group(11, "Detailhandel"),
        topic(12, "AfstandTotGroteSupermarkt_24", "Afstand tot grote supermarkt", 11),
    ]


def nabijheid_row(code, gp, pharmacy, physio, supermarket):
    """One ``TypedDataSet`` row of 86134NED (no Perioden; the code padded by the handler)."""
    return {
        "ID": int(code[-4:]) if code[-4:].isdigit() else 0,
        "WijkenEnBuurten": code,
        "Gemeentenaam_1": "Maastricht                              ",
        "Codering_3": code.ljust(10),
        "AfstandTotHuisartsenpraktijk_5": gp,
        "Binnen1Km_6": 1.0,
        "AfstandTotHuisartsenpost_9": 3.2,
        "AfstandTotApotheek_10": pharmacy,
        "AfstandTotFysiotherapeut_20": physio,
        "AfstandTotGroteSupermarkt_24": supermarket,
    }
