"""One command from a municipality to a ready study: download, cut, write ``study.yaml``.

Every layer comes from the catalogue of official sources (``data/sources.yaml``) through
the cached :class:`~thuisdichtbij.sources.http.Downloader`. Each is cut to the municipality
plus a buffer of the largest band and the snap limit, so that dwellings near the border
still reach amenities across it. The study file names the files relative to itself, records
the sources, their licences and attribution, and ``thuisdichtbij scan --study`` runs it
unchanged.
"""

from __future__ import annotations

import io
import logging
import os
import re
import shutil
import zipfile
from pathlib import Path

import geopandas as gpd
import pandas as pd
import yaml

from ..config import load_config
from ..crs import RD_NEW
from ..errors import InputError
from ..provenance import file_sha256, package_version, utc_now
from ..settings import cache_dir as _cache_dir
from ._io import read_vector
from .areas import area_ids
from .bag import bag_from_api
from .catalogue import load_catalogue
from .http import Downloader, MissingOffline
from .osm import clip_pbf

log = logging.getLogger(__name__)

__all__ = ["fetch"]

_CODE = re.compile(r"^GM\d{4}$", re.IGNORECASE)


def _municipality(path: Path, entry: dict, which: str) -> gpd.GeoDataFrame:
    gdf = read_vector(path, what="municipalities")
    by_code = bool(_CODE.match(which))
    field = entry.get("code_field") if by_code else entry["id_field"]
    if field not in gdf.columns:
        raise InputError(
            f"municipality: the municipality layer has no field '{field}' to find {which!r} in"
        )
    values = gdf[field].astype(str).str.strip()
    hit = gdf[values.str.casefold() == which.strip().casefold()]
    if hit.empty:
        close = sorted(v for v in values if v[:3].casefold() == which[:3].casefold())[:8]
        raise InputError(
            f"municipality: no municipality {which!r} in the CBS layer"
            + (f"; did you mean {', '.join(close)}?" if close else "")
        )
    return hit.to_crs(RD_NEW)


def _write_gpkg(gdf: gpd.GeoDataFrame, dst: Path, layer: str) -> None:
    tmp = dst.with_name(f".{dst.stem}.part.gpkg")
    tmp.unlink(missing_ok=True)
    gdf.to_file(tmp, layer=layer, driver="GPKG", engine="pyogrio")
    os.replace(tmp, dst)


def _extract_pc6(src: Path, dst: Path) -> None:
    """The CBS PC6 table, from its zip (as CBS publishes it) or as a plain CSV; checked."""
    from .cbs import read_cbs_pc6

    tmp = dst.with_name(f".{dst.name}.part")
    if zipfile.is_zipfile(src):
        with zipfile.ZipFile(src) as z:
            names = [n for n in z.namelist() if n.lower().endswith(".csv")]
            if not names:
                raise InputError(f"CBS PC6: the zip {src.name} holds no CSV table")
            tmp.write_bytes(z.read(names[0]))
    else:
        shutil.copyfile(src, tmp)
    try:
        read_cbs_pc6(tmp)  # the layout CBS publishes, or a clear error
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    os.replace(tmp, dst)


def fetch(
    municipality: str,
    out_dir: str | os.PathLike,
    *,
    osm_region: str = "netherlands",
    cache_dir: str | os.PathLike | None = None,
    offline: bool = False,
    mirror: str | None = None,
    timeout_s: float = 60.0,
    with_demand: bool = False,
    lbm_level: str = "pc4",
    progress: bool = False,
) -> Path:
    """Download and cut what a scan of ``municipality`` needs; returns the study file.

    Parameters
    ----------
    municipality
        A municipality name (``Maastricht``) or CBS code (``GM0935``).
    out_dir
        The folder to write the study into (created; files are replaced atomically).
    osm_region
        The Geofabrik region whose extract covers the municipality (``limburg``).
    offline
        Use only the cache; :class:`~thuisdichtbij.sources.http.MissingOffline` lists what
        is missing.
    mirror
        Base URL of a mirror serving every source under ``/<host>/<path>``.
    with_demand
        Also get the CBS PC6 table (``cbs-pc6.csv``, for ``thuisdichtbij demand``).
    lbm_level
        The Leefbaarometer areas safety is taken from: ``pc4`` (default), ``buurt`` (CBS
        neighbourhoods) or ``grid`` (its 100 m cells).
    """
    levels = {"pc4": None, "buurt": "leefbaarometer_buurt", "grid": "leefbaarometer_grid"}
    if lbm_level not in levels:
        raise InputError(f"fetch: --lbm-level must be pc4, buurt or grid, got {lbm_level!r}")
    catalogue = load_catalogue()
    cfg = load_config()
    buffer_m = cfg.max_distance_m + cfg.max_snap_m
    dl = Downloader(
        _cache_dir(cache_dir) / "downloads",
        offline=offline,
        mirror=mirror,
        timeout_s=timeout_s,
        progress=progress,
    )
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)

    files: dict[str, Path] = {}
    missing: list[str] = []

    def get(name: str, url: str) -> Path | None:
        try:
            files[name] = dl.download(url, what=catalogue[name]["title"])
            return files[name]
        except MissingOffline:
            missing.append(f"{name}: {url}")
            return None

    osm_url = catalogue["osm"]["url"].format(region=osm_region)
    gem_path = get("gemeenten", catalogue["gemeenten"]["url"])
    pc4_path = get("pc4", catalogue["pc4"]["url"])
    lbm_key = levels[lbm_level] or "leefbaarometer"
    lbm_path = get(lbm_key, catalogue[lbm_key]["url"])
    lbm_areas_key = catalogue[lbm_key].get("areas")
    lbm_areas_path = get(lbm_areas_key, catalogue[lbm_areas_key]["url"]) if lbm_areas_key else None
    osm_path = get("osm", osm_url)
    gtfs_path = get("gtfs", catalogue["gtfs"]["url"])
    pc6_path = get("cbs_pc6", catalogue["cbs_pc6"]["url"]) if with_demand else None
    if gem_path is None:
        raise MissingOffline(
            "offline, and these sources are not in the cache: " + "; ".join(missing)
        )
    muni = _municipality(gem_path, catalogue["gemeenten"], municipality)
    name = str(muni.iloc[0][catalogue["gemeenten"]["id_field"]])
    area = muni.union_all()
    reach = area.buffer(buffer_m)
    bbox_ll = gpd.GeoSeries([reach], crs=RD_NEW).to_crs(4326).total_bounds
    try:
        bag = bag_from_api(dl, catalogue["bag"]["url"], bbox_wgs84=tuple(bbox_ll))
    except MissingOffline:
        missing.append(f"bag: {catalogue['bag']['url']}")
        bag = None
    if missing:
        raise MissingOffline(
            "offline, and these sources are not in the cache: " + "; ".join(missing)
        )

    # Cut every layer to the municipality (plus the walking buffer where people cross it).
    _write_gpkg(
        muni[[catalogue["gemeenten"]["id_field"], "geometry"]], out / "gemeente.gpkg", "gemeente"
    )
    pc4 = read_vector(pc4_path, what="PC4 areas").to_crs(RD_NEW)
    pc4 = pc4[pc4.intersects(reach)]
    _write_gpkg(pc4, out / "pc4.gpkg", "pc4")
    lbm_spec = {"file": "leefbaarometer.csv"}
    if lbm_areas_key is None:
        ids = set(area_ids(pc4[catalogue["pc4"]["id_field"]]))
        key_col = "PC4"
    else:
        entry = catalogue[lbm_areas_key]
        zones = read_vector(lbm_areas_path, what=entry["title"], layer=entry.get("layer"))
        zones = zones.to_crs(RD_NEW)
        zones = zones[zones.intersects(reach)]
        _write_gpkg(zones, out / "leefbaarometer-gebieden.gpkg", "gebieden")
        ids = set(area_ids(zones[entry["id_field"]]))
        key_col = catalogue[lbm_key]["id_column"]
        lbm_spec.update(
            {
                "id_column": key_col,
                "areas": {"file": "leefbaarometer-gebieden.gpkg", "id_field": entry["id_field"]},
            }
        )
    lbm = pd.read_csv(lbm_path, dtype={key_col: str})
    if key_col not in lbm.columns:
        raise InputError(f"Leefbaarometer: {lbm_path.name} has no column {key_col!r}")
    lbm[lbm[key_col].astype(str).isin(ids)].to_csv(out / "leefbaarometer.csv", index=False)
    dwell = bag.to_crs(RD_NEW)
    dwell = dwell[dwell.intersects(area)]
    if dwell.empty:
        raise InputError(f"BAG: no dwellings found in {name}")
    _write_gpkg(dwell, out / "woningen.gpkg", "woningen")
    with zipfile.ZipFile(gtfs_path) as z:
        stops = pd.read_csv(io.BytesIO(z.read("stops.txt")), dtype=str)
    lon = pd.to_numeric(stops["stop_lon"], errors="coerce")
    lat = pd.to_numeric(stops["stop_lat"], errors="coerce")
    w, s, e, n = bbox_ll
    stops = stops[(lon >= w) & (lon <= e) & (lat >= s) & (lat <= n)]
    amenities = [{"file": Path(osm_url).name}]
    if len(stops):
        stops.to_csv(out / "stops.txt", index=False)
        amenities.append({"file": "stops.txt", "format": "gtfs"})
    else:
        log.warning("fetch: the GTFS feed has no stops in %s; bus stops come from OSM alone", name)
    osm_name = Path(osm_url).name
    clip_pbf(osm_path, out / osm_name, tuple(bbox_ll))
    if pc6_path is not None:
        _extract_pc6(pc6_path, out / "cbs-pc6.csv")

    sources = {
        key: {
            "title": catalogue[key]["title"],
            "url": osm_url if key == "osm" else catalogue[key]["url"],
            "licence": catalogue[key]["licence"],
            "attribution": catalogue[key]["attribution"],
            "sha256": file_sha256(files[key]) if key in files else "",
        }
        for key in ("gemeenten", "pc4", lbm_key, lbm_areas_key, "osm", "bag", "gtfs", "cbs_pc6")
        if key and (key != "cbs_pc6" or with_demand)
    }
    study = {
        "name": name,
        "crs": "EPSG:28992",
        "data_dir": ".",
        "study_area": {
            "file": "gemeente.gpkg",
            "id_field": catalogue["gemeenten"]["id_field"],
            "ids": [name],
        },
        "osm": osm_name,
        "dwellings": {"file": "woningen.gpkg", "id": "bag_id"},
        "amenities": amenities,
        "areas": {"file": "pc4.gpkg", "id_field": catalogue["pc4"]["id_field"]},
        "leefbaarometer": lbm_spec,
        "sources": {
            **sources,
            "fetched": {
                "utc": utc_now(),
                "thuisdichtbij": package_version(),
                "config_hash": cfg.hash,
                "buffer_m": buffer_m,
            },
        },
    }
    path = out / "study.yaml"
    tmp = out / ".study.yaml.part"
    tmp.write_text(
        f"# Written by thuisdichtbij fetch for {name}; paths are relative to this file.\n"
        + yaml.safe_dump(study, sort_keys=False, allow_unicode=True),
        encoding="utf-8",
    )
    os.replace(tmp, path)
    log.info("fetch: wrote %s (%d dwellings)", path, len(dwell))
    return path
