"""The scan and fetch subcommands: from a study, an extract or a place to a scan GeoPackage."""

from __future__ import annotations

import re
import sys
import time
from pathlib import Path

import numpy as np

from ..._text import decimal
from ...analyses.audit import INSUFFICIENT, warning_text
from ...config import load_config
from ...engine.aggregate import FULL_COVERAGE, suppressed_only
from ...engine.partition import Tiling
from ...outputs.export import check_scan_target
from ...pipeline.inputs import areas_source
from ...scan import scan
from ...settings import cache_dir
from ...sources.fetch import fetch
from ...sources.overpass import parse_bbox, study_from_overpass
from ...study import preset_names
from .._args import new_file, new_folder, positive
from .._console import say


def _add_scan(sub) -> None:
    s = sub.add_parser("scan", help="score every dwelling and area; write a GeoPackage")
    src = s.add_mutually_exclusive_group(required=True)
    src.add_argument(
        "--study",
        help=f"study file (.yaml) or preset name ({', '.join(preset_names())})",
    )
    src.add_argument("--osm", help="an .osm.pbf extract: network, amenities and dwellings from it")
    src.add_argument(
        "--place", help="a municipality (name or GM code): fetch its data first, then scan"
    )
    src.add_argument(
        "--osm-place",
        help="a place Nominatim knows ('Vaals, Netherlands'): OpenStreetMap from the Overpass "
        "API through osmnx (pip install 'thuisdichtbij[osmnx]')",
    )
    src.add_argument(
        "--osm-bbox",
        metavar="W,S,E,N",
        help="a box in WGS84 degrees: OpenStreetMap from the Overpass API through osmnx",
    )
    s.add_argument(
        "--out", required=True, type=new_file(".gpkg"), help="the GeoPackage to write (.gpkg)"
    )
    s.add_argument(
        "--overwrite",
        action="store_true",
        help="replace --out even when it holds layers other commands added (zones, ...)",
    )
    s.add_argument("--weights", help="a weights file laid over config/weights.yaml")
    s.add_argument(
        "--data-dir",
        help="folder that a study file's relative paths resolve against "
        "(default: $THUISDICHTBIJ_DATA, else ../shared/data)",
    )
    s.add_argument("--crs", help="metric CRS to measure in, e.g. EPSG:28992 (default: automatic)")
    s.add_argument(
        "--max-snap-m", type=positive, help="largest distance from a dwelling to a street"
    )
    s.add_argument(
        "--profile", help="a walking profile from the config's profiles (e.g. rollator: no steps)"
    )
    s.add_argument(
        "--cache-dir",
        help="folder for built networks "
        "(default: $THUISDICHTBIJ_CACHE, else ~/.cache/thuisdichtbij)",
    )
    s.add_argument("--no-cache", action="store_true", help="always build the network anew")
    s.add_argument(
        "--tiles",
        type=positive,
        metavar="M",
        help="run snapping and distances in square tiles of M metres on Dask (same result)",
    )
    s.add_argument("--workers", type=int, default=2, help="local Dask workers for --tiles")
    s.add_argument("--scheduler", help="address of a running Dask scheduler for --tiles")
    s.add_argument("--no-progress", action="store_true", help="no progress bar")
    _fetch_options(s)  # for --place


def _add_fetch(sub) -> None:
    fe = sub.add_parser("fetch", help="download a municipality's data and write a study file")
    fe.add_argument("--municipality", required=True, help="name (Maastricht) or CBS code (GM0935)")
    fe.add_argument(
        "--out",
        required=True,
        type=new_folder,
        help="folder for the study (study.yaml and data)",
    )
    fe.add_argument(
        "--cache-dir", help="download cache (default: $THUISDICHTBIJ_CACHE, else ~/.cache/...)"
    )
    fe.add_argument(
        "--with-demand", action="store_true", help="also the CBS PC6 areas (for demand)"
    )
    fe.add_argument(
        "--with-fairshare",
        action="store_true",
        help="also SES-WOA and Leefbaarometer per buurt (for fairshare --level buurt)",
    )
    fe.add_argument(
        "--with-validation",
        action="store_true",
        help="also CBS's proximity figures and the buurt polygons (for validate)",
    )
    _fetch_options(fe)


def _fetch_options(p) -> None:
    p.add_argument(
        "--osm-region",
        help="Geofabrik region whose extract covers the place: netherlands or a province "
        "(e.g. limburg); default: the municipality's province",
    )
    p.add_argument(
        "--lbm-level",
        choices=["pc4", "buurt", "grid"],
        default="pc4",
        help="Leefbaarometer areas for safety: PC4 (default), buurt or its 100 m grid",
    )
    p.add_argument(
        "--areas",
        choices=["pc4", "pc6"],
        default="pc4",
        help="areas the scores are averaged to: CBS PC4 (default) or the PC6 polygons of the "
        "CBS PC6 GeoPackage (fetched as with --with-demand; fewer than 5 dwellings: suppressed)",
    )
    p.add_argument("--offline", action="store_true", help="use only the download cache")
    p.add_argument("--mirror", help="base URL of a mirror serving the sources as /<host>/<path>")
    p.add_argument("--timeout", type=positive, default=60.0, help="seconds per request")
    p.add_argument(
        "--catalogue",
        help="a sources file laid over data/sources.yaml (e.g. a newer release's addresses)",
    )


def _fetch_study(args, out_dir) -> Path:
    return fetch(
        args.municipality if args.command == "fetch" else args.place,
        out_dir,
        osm_region=args.osm_region,
        cache_dir=args.cache_dir,
        offline=args.offline,
        mirror=args.mirror,
        timeout_s=args.timeout,
        catalogue=args.catalogue,
        with_demand=getattr(args, "with_demand", False),
        with_fairshare=getattr(args, "with_fairshare", False),
        with_validation=getattr(args, "with_validation", False),
        lbm_level=args.lbm_level,
        areas=args.areas,
        progress=sys.stderr.isatty() and not args.quiet,
    )


def _fetch(args) -> str:
    path = _fetch_study(args, args.out)
    return say(args.lang)["fetch_wrote"].format(path=path)


def _summary(result, out, seconds: float, lang: str) -> str:
    t = say(lang)
    dw, ar = result.dwellings, result.areas
    scored = dw[dw["snapped"]]
    counts = scored.groupby("score_class")["weight"].sum().round().astype(int).to_dict()
    classes = ", ".join(f"{k}: {v}" for k, v in sorted(counts.items()))
    md = result.metadata
    warning = (
        warning_text(result.audit, config=result.config, lang=lang)
        if result.audit is not None
        else ""
    )
    return "\n".join(
        [
            t["scan_wrote"].format(out=out, s=decimal(seconds, ".1f", lang)),
            t["scan_dwellings"].format(
                n=md["dwellings"], p=len(dw), u=md["dwelling_points_not_snapped"]
            ),
            t["scan_score"].format(
                mean=decimal(_dwelling_mean(scored), ".2f", lang),
                max=decimal(float(md["max_score"]), "g", lang),
                classes=classes,
            ),
            _areas_line(ar, result, lang),
            t["scan_network"].format(
                net=result.network, km=decimal(result.network.length_km, ".1f", lang), crs=md["crs"]
            ),
            *_partial(md, lang),
            *([warning] if warning else []),
        ]
    )


def _areas_line(ar, result, lang: str) -> str:
    """How many areas, what they are, how many suppressed and how many lack data.

    An area without data (beyond the data's reach, or with too many unscored dwellings) is
    counted as such, not as suppressed for too few dwellings, as the maps draw it. Classes
    that set fewer than :data:`FEW_AREAS` areas against each other are said to say little.
    """
    t = say(lang)
    gap = ar["data_status"] == INSUFFICIENT
    line = t["scan_areas"].format(
        n=len(ar), source=_areas_source(result, lang), s=int(suppressed_only(ar).sum())
    )
    line += t["scan_areas_gap"].format(g=int(gap.sum())) if gap.any() else ""
    classed = int(ar["score_class"].notna().sum())
    return line + (t["scan_areas_few"].format(k=classed) if 0 < classed < FEW_AREAS else "")


#: Fewer classed areas than this (one per class) make the areas' relative classes say little.
FEW_AREAS = 5


def _areas_source(result, lang: str) -> str:
    """What the areas are, in the summary's language (the metadata says it in English)."""
    source = result.metadata["areas_source"]
    if source == areas_source(None, result.config):  # no area polygons: squares
        size = decimal(result.config.fallback_cell_m, "g", lang)
        return say(lang)["scan_squares"].format(m=size)
    return source


def _dwelling_mean(scored) -> float:
    """The mean score per dwelling, as the classes and the areas' means count it.

    A point stands for its ``weight`` in dwellings (a PC6 point for its CBS count): not the
    mean over the points.
    """
    ok = scored["score"].notna() & (scored["weight"] > 0)
    if not ok.any():
        return float("nan")
    return float(np.average(scored.loc[ok, "score"], weights=scored.loc[ok, "weight"]))


def _partial(md: dict[str, str], lang: str) -> list[str]:
    """The warning for a study area the data covers only in part (none when it covers all)."""
    share = float(md.get("data_coverage", 1.0))
    if share >= FULL_COVERAGE:
        return []
    return [say(lang)["scan_partial"].format(pct=decimal(100 * share, ".0f", lang))]


def _scan(args) -> str:
    start = time.perf_counter()
    check_scan_target(args.out, overwrite=args.overwrite)  # before any input is read
    snap = args.max_snap_m
    overrides = {"snapping": {"max_snap_m": snap}} if snap is not None else {}
    if args.profile:
        overrides["network"] = {"profile": args.profile}
    config = load_config(args.weights, overrides=overrides) if (args.weights or overrides) else None
    tiling = (
        Tiling(tile_m=args.tiles, workers=args.workers, scheduler=args.scheduler)
        if args.tiles
        else None
    )
    study = args.study
    if args.osm_place or args.osm_bbox:
        study = study_from_overpass(
            place=args.osm_place,
            bbox=parse_bbox(args.osm_bbox) if args.osm_bbox else None,
            config=config,
            cache_dir=args.cache_dir,
        )
    if args.place:
        slug = re.sub(r"[^a-z0-9]+", "-", args.place.lower()).strip("-")
        study = _fetch_study(args, cache_dir(args.cache_dir) / "studies" / slug)
    result = scan(
        study,
        osm=args.osm,
        config=config,
        data_dir=args.data_dir,
        crs=args.crs,
        cache=False if args.no_cache else (args.cache_dir or True),
        tiling=tiling,
        progress=not (args.no_progress or args.quiet) and sys.stderr.isatty(),
    )
    out = result.to_gpkg(args.out, overwrite=args.overwrite, lang=args.lang)
    return _summary(result, out, time.perf_counter() - start, args.lang)


#: name: (declare the arguments, run, INFO logging unless --quiet)
COMMANDS = {
    "scan": (_add_scan, _scan, True),
    "fetch": (_add_fetch, _fetch, True),
}
