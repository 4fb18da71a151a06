"""One command from a municipality to a ready study: download, cut, write ``study.yaml``.

Every layer comes from the catalogue of official sources (``data/sources.yaml``, optionally
with a user's file laid over it) through the cached
:class:`~thuisdichtbij.sources.http.Downloader`, in the shapes the publishers serve: zips whose
members are found by pattern, a multi-layer GeoPackage read by layer name, OData tables read
by column title. Each layer is cut to the municipality plus a buffer of the largest band and
the snap limit, so that dwellings near the border still reach amenities across it. The study
is built in a hidden folder next to ``out_dir`` and moved in only when complete: a failed
fetch leaves no empty or partial study behind.
"""

from __future__ import annotations

import io
import json
import logging
import os
import shutil
import tempfile
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

import geopandas as gpd
import pandas as pd
import yaml

from ..config import Config, load_config
from ..crs import RD_NEW
from ..errors import InputError
from ..provenance import file_sha256, package_version, utc_now
from ..settings import cache_dir as _cache_dir
from ._io import read_vector
from .archive import extract_member, find_member
from .areas import area_ids
from .bag import bag_from_api
from .catalogue import load_catalogue
from .http import Downloader, MissingOffline
from .leefbaarometer import read_lbm_member
from .osm import clip_pbf
from .regions import osm_url, province_of, province_slug, read_municipality

log = logging.getLogger(__name__)

__all__ = ["fetch"]

_LEVELS = ("pc4", "buurt", "grid")
#: The study's areas (aggregation level) -> (file fetch writes, catalogue entry).
_AREAS = {"pc4": ("pc4.gpkg", "pc4"), "pc6": ("cbs-pc6.gpkg", "cbs_pc6")}


@dataclass
class _Run:
    """What the stages of one fetch share: the catalogue, downloads, the municipality."""

    catalogue: dict
    cfg: Config
    dl: Downloader
    files: dict[str, Path] = field(default_factory=dict)
    urls: dict[str, str] = field(default_factory=dict)
    missing: list[str] = field(default_factory=list)
    muni: gpd.GeoDataFrame | None = None
    name: str = ""

    @property
    def area(self):
        return self.muni.union_all()

    @property
    def reach(self):
        return self.area.buffer(self.cfg.max_distance_m + self.cfg.max_snap_m)

    @property
    def bbox_ll(self) -> tuple[float, float, float, float]:
        return tuple(gpd.GeoSeries([self.reach], crs=RD_NEW).to_crs(4326).total_bounds)

    def get(self, key: str, url: str | None = None) -> Path | None:
        """Download a catalogue source; offline and missing: noted, ``None``."""
        url = url or self.catalogue[key]["url"]
        self.urls[key] = url
        try:
            self.files[key] = self.dl.download(url, what=self.catalogue[key]["title"])
        except MissingOffline:
            self.missing.append(f"{key}: {url}")
            return None
        return self.files[key]

    def unpacked(self, key: str, patterns) -> Path:
        """The member of a downloaded zip (extracted once, next to it), or the file itself."""
        src = self.files[key]
        if not zipfile.is_zipfile(src):
            return src
        what = self.catalogue[key]["title"]
        member = Path(find_member(src, patterns, what=what)).name
        dst = src.with_name(f"{src.name}--{member}")
        return dst if dst.is_file() else extract_member(src, patterns, dst, what=what)


def _write_gpkg(gdf: gpd.GeoDataFrame, dst: Path, layer: str) -> None:
    gdf.to_file(dst, layer=layer, driver="GPKG", engine="pyogrio")


def _check_offline(run: _Run) -> None:
    if run.missing:
        raise MissingOffline(
            "offline, and these sources are not in the cache: " + "; ".join(run.missing)
        )


def _osm_region(run: _Run, osm_region: str | None) -> str:
    """The Geofabrik region: as given, else the municipality's province."""
    if osm_region:
        return osm_region
    entry = run.catalogue["gemeenten"]
    province = province_of(run.files["gemeenten"], entry, run.muni)
    log.info("fetch: %s lies in %s; OSM extract of that province", run.name, province)
    return province_slug(province)


def _download(
    run: _Run, municipality: str, *, osm_region, with_demand, with_fairshare, with_validation
):
    """Every source the study needs, in the cache; the municipality found.

    Returns the BAG, the SES-WOA table and CBS's proximity answers (``None`` when not asked).
    """
    cat = run.catalogue
    gem = run.get("gemeenten")
    if gem is not None:
        run.muni = read_municipality(gem, cat["gemeenten"], municipality)
        run.name = str(run.muni.iloc[0][cat["gemeenten"]["id_field"]])
        region = _osm_region(run, osm_region)
    else:
        region = osm_region
    for key in ("pc4", "leefbaarometer", "leefbaarometer_areas", "gtfs"):
        run.get(key)
    if region:
        run.get("osm", osm_url(cat["osm"], region))
    else:
        run.missing.append("osm: the province's extract (known once gemeenten is cached)")
    if with_demand:
        run.get("cbs_pc6")
    if run.muni is None:
        _check_offline(run)
    bag = None
    try:
        bag = bag_from_api(run.dl, cat["bag"]["url"], bbox_wgs84=run.bbox_ll)
        run.urls["bag"] = cat["bag"]["url"]
    except MissingOffline:
        run.missing.append(f"bag: {cat['bag']['url']}")
    ses = _ses_woa(run) if with_fairshare else None
    nab = _nabijheid(run) if with_validation else None
    _check_offline(run)
    return bag, ses, nab


def _ses_woa(run: _Run) -> pd.DataFrame | None:
    from .ses_woa import ses_woa_from_statline

    entry = run.catalogue["ses_woa_buurt"]
    code = str(run.muni.iloc[0][run.catalogue["gemeenten"]["code_field"]])
    run.urls["ses_woa_buurt"] = entry["url"]
    try:
        return ses_woa_from_statline(run.dl, entry, gm_code=code)
    except MissingOffline:
        run.missing.append(f"ses_woa_buurt: {entry['url']}")
        return None


def _buurt_prefix(run: _Run) -> str:
    """``BU0935``: the start of the municipality's buurt codes."""
    code = str(run.muni.iloc[0][run.catalogue["gemeenten"]["code_field"]]).strip().upper()
    return "BU" + code.removeprefix("GM")


def _nabijheid(run: _Run) -> dict | None:
    """CBS's proximity figures for the municipality's buurten (and their polygons, cached)."""
    from .cbs_nabijheid import proximity_from_statline

    entry = run.catalogue["cbs_nabijheid"]
    run.get(entry.get("buurten", "cbs_buurten"))
    run.urls["cbs_nabijheid"] = entry["url"]
    try:
        table, raw = proximity_from_statline(
            run.dl,
            entry["url"],
            prefixes=[_buurt_prefix(run)],
            titles=entry.get("columns"),
            required=entry.get("required", ()),
        )
    except MissingOffline:
        run.missing.append(f"cbs_nabijheid: {entry['url']}")
        return None
    log.info(
        "fetch: CBS proximity figures for %d buurten (%s)", len(table), ", ".join(table.columns)
    )
    return raw


def _cut_validation(run: _Run, work: Path, raw: dict) -> dict:
    """``cbs-nabijheid.json`` and ``cbs-buurten.gpkg``; returns the study's ``validation``."""
    entry = run.catalogue["cbs_nabijheid"]
    key = entry.get("buurten", "cbs_buurten")
    src_entry = run.catalogue[key]
    src = run.unpacked(key, src_entry.get("member", ["*.gpkg"]))
    buurten = read_vector(src, what=src_entry["title"], layer=src_entry.get("layer"))
    id_field = src_entry["id_field"]
    if id_field not in buurten.columns:
        have = ", ".join(c for c in buurten.columns if c != "geometry")
        raise InputError(f"{src_entry['title']}: no field '{id_field}'; its fields are {have}")
    prefix = _buurt_prefix(run)
    buurten = buurten[buurten[id_field].astype(str).str.strip().str.startswith(prefix)]
    if buurten.empty:
        raise InputError(f"{src_entry['title']}: no buurt of {run.name} (codes {prefix}...)")
    _write_gpkg(buurten.to_crs(RD_NEW), work / "cbs-buurten.gpkg", "buurten")
    (work / "cbs-nabijheid.json").write_text(json.dumps(raw, ensure_ascii=False), "utf-8")
    return {
        "cbs": {
            "file": "cbs-nabijheid.json",
            "table": entry["url"].rstrip("/").rsplit("/", 1)[-1],
            "titles": dict(entry.get("columns") or {}),
        },
        "buurten": {"file": "cbs-buurten.gpkg", "layer": "buurten", "id_field": id_field},
    }


def _cut_areas(run: _Run, work: Path) -> gpd.GeoDataFrame:
    """``gemeente.gpkg`` and ``pc4.gpkg`` (PC4 areas within reach); returns the PC4 areas."""
    cat = run.catalogue
    _write_gpkg(
        run.muni[[cat["gemeenten"]["id_field"], cat["gemeenten"]["code_field"], "geometry"]],
        work / "gemeente.gpkg",
        "gemeente",
    )
    src = run.unpacked("pc4", cat["pc4"].get("member", ["*.gpkg"]))
    pc4 = read_vector(src, what=cat["pc4"]["title"], layer=cat["pc4"].get("layer"))
    pc4 = pc4.to_crs(RD_NEW)
    pc4 = pc4[pc4.intersects(run.reach)]
    if pc4.empty:
        raise InputError(f"{cat['pc4']['title']}: no PC4 area lies in {run.name}")
    _write_gpkg(pc4, work / "pc4.gpkg", "pc4")
    return pc4


def _lbm_areas(run: _Run, level: str, work: Path, name: str) -> tuple[dict, set]:
    """The Leefbaarometer's own areas of ``level`` within reach, written to ``name``."""
    entry = run.catalogue["leefbaarometer_areas"]
    src = run.unpacked("leefbaarometer_areas", entry["members"][level])
    zones = read_vector(src, what=entry["title"]).to_crs(RD_NEW)
    id_field = entry["id_field"][level]
    if id_field not in zones.columns:
        have = ", ".join(c for c in zones.columns if c != "geometry")
        raise InputError(
            f"{entry['title']}: {src.name.split('--')[-1]} has no field '{id_field}'; its "
            f"fields are {have}"
        )
    zones = zones[zones.intersects(run.reach)]
    if zones.empty:
        raise InputError(f"{entry['title']}: no {level} area lies in {run.name}")
    _write_gpkg(zones, work / name, "gebieden")
    return {"file": name, "id_field": id_field}, set(area_ids(zones[id_field]))


def _lbm_scores(run: _Run, level: str, ids: set, dst: Path) -> str:
    """The Leefbaarometer scores of ``level`` for ``ids``, written to ``dst``; the id column."""
    entry = run.catalogue["leefbaarometer"]
    key = entry["id_column"][level]
    lbm = read_lbm_member(
        run.files["leefbaarometer"], entry["members"][level], id_column=key, what=entry["title"]
    )
    rows = lbm[lbm[key].isin(ids)]
    if rows.empty:
        raise InputError(f"{entry['title']}: no {level} scores for the areas of {run.name}")
    rows.to_csv(dst, index=False)
    return key


def _cut_leefbaarometer(
    run: _Run, work: Path, level: str, pc4: gpd.GeoDataFrame, *, areas: str
) -> dict:
    """``leefbaarometer.csv`` (and its areas unless PC4); returns the study's section.

    PC4 scores are given for the PC4 areas: when the study's areas are others (PC6), the
    section names ``pc4.gpkg`` as the scores' areas.
    """
    if level == "pc4":
        id_field = run.catalogue["pc4"]["id_field"]
        _lbm_scores(run, "pc4", set(area_ids(pc4[id_field])), work / "leefbaarometer.csv")
        if areas == "pc4":
            return {"file": "leefbaarometer.csv"}
        return {"file": "leefbaarometer.csv", "areas": {"file": "pc4.gpkg", "id_field": id_field}}
    areas, ids = _lbm_areas(run, level, work, "leefbaarometer-gebieden.gpkg")
    key = _lbm_scores(run, level, ids, work / "leefbaarometer.csv")
    return {"file": "leefbaarometer.csv", "id_column": key, "areas": areas}


def _cut_fairshare(run: _Run, work: Path, ses: pd.DataFrame) -> dict:
    """SES-WOA and Leefbaarometer per buurt: the study's ``fairshare`` level ``buurt``."""
    areas, ids = _lbm_areas(run, "buurt", work, "buurten.gpkg")
    key = _lbm_scores(run, "buurt", ids, work / "leefbaarometer-buurt.csv")
    ses.to_csv(work / "ses-woa-buurt.csv", index=False)
    year = ses.attrs["year"]
    return {
        "levels": {
            "buurt": {
                "areas": {**areas, "year": year},
                "leefbaarometer": {"file": "leefbaarometer-buurt.csv", "id_column": key},
                "ses_woa": {"file": "ses-woa-buurt.csv", "id_column": "bu_code", "year": year},
            }
        }
    }


def _cut_dwellings(run: _Run, work: Path, bag: gpd.GeoDataFrame) -> dict:
    """``woningen.gpkg``: the BAG dwellings in the municipality; returns the study's section.

    A BAG verblijfsobject is one dwelling: weight 1, no PC6 weighting (CBS counts its PC6
    dwellings from the same BAG, and masks the small ones).
    """
    dwell = bag.to_crs(RD_NEW)
    dwell = dwell[dwell.intersects(run.area)]
    if dwell.empty:
        raise InputError(f"BAG: no dwellings found in {run.name}")
    _write_gpkg(dwell, work / "woningen.gpkg", "woningen")
    log.info("fetch: %d BAG dwellings in %s", len(dwell), run.name)
    section = {"file": "woningen.gpkg", "id": "bag_id"}
    if "postcode" in dwell and dwell["postcode"].notna().any():
        section["postcode"] = "postcode"
    return section


def _cut_amenities(run: _Run, work: Path) -> list[dict]:
    """The OSM extract cut to the reach, and the GTFS stops in it."""
    with zipfile.ZipFile(run.files["gtfs"]) as z:
        stops = pd.read_csv(io.BytesIO(z.read("stops.txt")), dtype=str)
    lon = pd.to_numeric(stops["stop_lon"], errors="coerce")
    lat = pd.to_numeric(stops["stop_lat"], errors="coerce")
    w, s, e, n = run.bbox_ll
    stops = stops[(lon >= w) & (lon <= e) & (lat >= s) & (lat <= n)]
    osm_name = Path(run.urls["osm"]).name
    clip_pbf(run.files["osm"], work / osm_name, run.bbox_ll)
    amenities = [{"file": osm_name}]
    if len(stops):
        stops.to_csv(work / "stops.txt", index=False)
        amenities.append({"file": "stops.txt", "format": "gtfs"})
    else:
        log.warning(
            "fetch: the GTFS feed has no stops in %s; bus stops come from OSM alone", run.name
        )
    return amenities


def _cut_pc6(run: _Run, work: Path) -> None:
    """``cbs-pc6.gpkg``: the CBS PC6 areas in the municipality, as CBS publishes them."""
    from .cbs import read_cbs_pc6

    entry = run.catalogue["cbs_pc6"]
    src = run.unpacked("cbs_pc6", entry.get("member", ["*.gpkg"]))
    pc6 = read_vector(src, what=entry["title"], layer=entry.get("layer")).to_crs(RD_NEW)
    pc6 = pc6[pc6.intersects(run.area)]
    if pc6.empty:
        raise InputError(f"{entry['title']}: no PC6 area lies in {run.name}")
    _write_gpkg(pc6, work / "cbs-pc6.gpkg", "cbs_pc6")
    read_cbs_pc6(work / "cbs-pc6.gpkg")  # the fields CBS publishes, or a clear error


def _sources(run: _Run) -> dict:
    cat = run.catalogue
    return {
        key: {
            "title": cat[key]["title"],
            "url": url,
            "licence": cat[key]["licence"],
            "attribution": cat[key]["attribution"],
            "sha256": file_sha256(run.files[key]) if key in run.files else "",
        }
        for key, url in run.urls.items()
    }


def _study(
    run: _Run,
    *,
    dwellings,
    amenities,
    lbm: dict,
    fairshare: dict | None,
    validation: dict | None,
    areas: str,
) -> dict:
    gem = run.catalogue["gemeenten"]
    area_file, area_key = _AREAS[areas]
    study = {
        "name": run.name,
        "crs": "EPSG:28992",
        "data_dir": ".",
        "study_area": {"file": "gemeente.gpkg", "id_field": gem["id_field"], "ids": [run.name]},
        "osm": amenities[0]["file"],
        "dwellings": dwellings,
        "amenities": amenities,
        "areas": {"file": area_file, "id_field": run.catalogue[area_key]["id_field"]},
        "leefbaarometer": lbm,
    }
    if fairshare:
        study["fairshare"] = fairshare
    if validation:
        study["validation"] = validation
    study["sources"] = {
        **_sources(run),
        "fetched": {
            "utc": utc_now(),
            "thuisdichtbij": package_version(),
            "config_hash": run.cfg.hash,
            "buffer_m": run.cfg.max_distance_m + run.cfg.max_snap_m,
        },
    }
    return study


def _publish(work: Path, out: Path) -> None:
    """Move the finished study into ``out`` (created), file by file."""
    out.mkdir(parents=True, exist_ok=True)
    for f in sorted(work.iterdir(), key=lambda p: p.name == "study.yaml"):  # study.yaml last
        os.replace(f, out / f.name)


def fetch(
    municipality: str,
    out_dir: str | os.PathLike,
    *,
    osm_region: str | None = None,
    catalogue: str | os.PathLike | None = None,
    cache_dir: str | os.PathLike | None = None,
    offline: bool = False,
    mirror: str | None = None,
    timeout_s: float = 60.0,
    with_demand: bool = False,
    with_fairshare: bool = False,
    with_validation: bool = False,
    lbm_level: str = "pc4",
    areas: str = "pc4",
    progress: bool = False,
) -> Path:
    """Download and cut what a scan of ``municipality`` needs; returns the study file.

    Parameters
    ----------
    municipality
        A municipality name (``Maastricht``) or CBS code (``GM0935``).
    out_dir
        The folder to write the study into; created only when the study is complete.
    osm_region
        The Geofabrik extract: ``netherlands`` or a province (``limburg``). Default: the
        municipality's province (from the gebiedsindelingen file).
    catalogue
        A catalogue file laid over the shipped one (e.g. a newer release's addresses).
    offline
        Use only the cache; :class:`~thuisdichtbij.sources.http.MissingOffline` lists what
        is missing.
    mirror
        Base URL of a mirror serving every source under ``/<host>/<path>``.
    with_demand
        Also get the CBS PC6 areas (``cbs-pc6.gpkg``, for ``thuisdichtbij demand``).
    areas
        The study's areas, the level scores are averaged to: ``pc4`` (default, the CBS PC4
        areas) or ``pc6`` (the polygons of the CBS PC6 GeoPackage, which is then fetched as
        with ``with_demand``; areas of fewer than 5 dwellings are suppressed as always).
    with_fairshare
        Also get SES-WOA per buurt (CBS StatLine) and the Leefbaarometer buurt scores, for
        ``thuisdichtbij fairshare --level buurt``.
    with_validation
        Also get CBS's proximity figures per buurt (Nabijheid voorzieningen, StatLine) and
        the buurt polygons, for ``thuisdichtbij validate`` (recorded as the study's
        ``validation``).
    lbm_level
        The Leefbaarometer areas safety is taken from: ``pc4`` (default), ``buurt`` or
        ``grid`` (its 100 m cells).
    """
    if lbm_level not in _LEVELS:
        raise InputError(f"fetch: --lbm-level must be pc4, buurt or grid, got {lbm_level!r}")
    if areas not in _AREAS:
        raise InputError(f"fetch: --areas must be pc4 or pc6, got {areas!r}")
    with_demand = with_demand or areas == "pc6"
    run = _Run(
        catalogue=dict(load_catalogue(overlay=catalogue)),
        cfg=load_config(),
        dl=Downloader(
            _cache_dir(cache_dir) / "downloads",
            offline=offline,
            mirror=mirror,
            timeout_s=timeout_s,
            progress=progress,
        ),
    )
    bag, ses, nab = _download(
        run,
        municipality,
        osm_region=osm_region,
        with_demand=with_demand,
        with_fairshare=with_fairshare,
        with_validation=with_validation,
    )
    out = Path(out_dir)
    out.parent.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix=f".{out.name}.", suffix=".part", dir=out.parent))
    try:
        pc4 = _cut_areas(run, work)
        lbm = _cut_leefbaarometer(run, work, lbm_level, pc4, areas=areas)
        fair = _cut_fairshare(run, work, ses) if ses is not None else None
        dwellings = _cut_dwellings(run, work, bag)
        amenities = _cut_amenities(run, work)
        if with_demand:
            _cut_pc6(run, work)
        val = _cut_validation(run, work, nab) if nab is not None else None
        study = _study(
            run,
            dwellings=dwellings,
            amenities=amenities,
            lbm=lbm,
            fairshare=fair,
            validation=val,
            areas=areas,
        )
        (work / "study.yaml").write_text(
            f"# Written by thuisdichtbij fetch for {run.name}; paths are relative to this file.\n"
            + yaml.safe_dump(study, sort_keys=False, allow_unicode=True),
            encoding="utf-8",
        )
        _publish(work, out)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    log.info("fetch: wrote %s", out / "study.yaml")
    return out / "study.yaml"
