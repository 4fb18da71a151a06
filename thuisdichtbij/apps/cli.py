"""The command line: ``thuisdichtbij scan ...``. Parses arguments, calls the library, prints."""

from __future__ import annotations

import argparse
import json
import logging
import os
import re
import sys
import time
from pathlib import Path

from .. import __version__
from ..analyses.audit import warning_text
from ..analyses.check import check, load_check, parse_location
from ..analyses.demand import demand
from ..analyses.fairshare import fairshare
from ..analyses.siting import site
from ..analyses.whatif import Removal, load_whatif, parse_addition, whatif
from ..analyses.zones import compare_zones, make_zones
from ..config import load_config
from ..engine.partition import Tiling
from ..errors import ConfigError, ThuisdichtbijError
from ..outputs.export import check_scan_target
from ..outputs.raster import grid_tif
from ..outputs.static_map import fairshare_png, scan_static
from ..outputs.web_map import fairshare_html, scan_html
from ..scan import scan
from ..settings import cache_dir
from ..sources.fetch import fetch
from ..sources.overpass import parse_bbox, study_from_overpass
from ..study import preset_names
from ._args import gpkg_new_or_update, gpkg_to_update, missing_extra, new_file, positive, share
from ._check_text import check_text

_QUIET = "only warnings and errors"


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
    fe.add_argument("--out", required=True, help="folder for the study (study.yaml and data)")
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


def _add_fairshare(sub) -> None:
    f = sub.add_parser(
        "fairshare", help="mark areas that are already vulnerable (SES-WOA and Leefbaarometer)"
    )
    f.add_argument("--study", required=True, help="study file or preset (e.g. parkstad)")
    f.add_argument(
        "--out",
        required=True,
        type=gpkg_new_or_update,
        help="GeoPackage to write; an existing one (a scan) gets the layers added",
    )
    f.add_argument("--html", type=new_file(".html"), help="also write an interactive map (.html)")
    f.add_argument(
        "--png", type=new_file(".png", ".pdf"), help="also write a static map (.png or .pdf)"
    )
    f.add_argument("--reference", choices=["national", "region"], help="override the config")
    f.add_argument("--level", help="the study's fair-share level to use (e.g. buurt, as fetched)")
    f.add_argument("--weights", help="a weights file laid over config/weights.yaml")
    f.add_argument("--data-dir", help="folder that the study's relative paths resolve against")
    f.add_argument("--lang", choices=["nl", "en"], default="nl")


def _add_demand(sub) -> None:
    d = sub.add_parser("demand", help="residents of 65+ per area class of a scan GeoPackage")
    d.add_argument(
        "scan", type=gpkg_to_update, help="a scan GeoPackage; the tables are added to it"
    )
    d.add_argument(
        "--population",
        required=True,
        help="the CBS PC6 table: the GeoPackage CBS publishes (fetch --with-demand) "
        "or its CSV re-export",
    )
    d.add_argument(
        "--points",
        help="PC6 points: CSV Zip,Lat,Lon, or the CBS PC6 GeoPackage (a point inside each "
        "polygon); default: the scan's dwellings when they are PC6 points, else the polygons "
        "of --population when it is the GeoPackage",
    )


def _add_check(sub) -> None:
    c = sub.add_parser("check", help="score one location against a scan, explained")
    c.add_argument("--scan", required=True, help="a scan GeoPackage")
    where = c.add_mutually_exclusive_group(required=True)
    where.add_argument("--at", help="'lat,lon' in WGS84, or 'x,y' with --crs")
    where.add_argument("--postcode", help="a PC6 postcode known to the scan (e.g. 6211AB)")
    c.add_argument("--crs", help="CRS of --at when it is not WGS84 lat,lon (e.g. EPSG:28992)")
    c.add_argument("--json", action="store_true", help="print JSON (with the reach polygons)")
    c.add_argument("--lang", choices=["nl", "en"], default="nl")


def _add_serve(sub) -> None:
    v = sub.add_parser("serve", help="a web page for plot checks (FastAPI, local)")
    v.add_argument("--scan", required=True, help="a scan GeoPackage")
    v.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1)")
    v.add_argument("--port", type=int, default=8000)
    v.add_argument("--lang", choices=["nl", "en"], default="nl")
    v.add_argument("--population", help="the CBS PC6 table: the what-if counts residents of 65+")


def _add_zones(sub) -> None:
    z = sub.add_parser("zones", help="find, name and describe the woonzorgzones of a scan")
    z.add_argument(
        "scan", type=gpkg_to_update, help="a scan GeoPackage; the zones layer is added to it"
    )
    z.add_argument("--names", help="polygons to name zones after (e.g. neighbourhoods)")
    z.add_argument("--name-field", help="the names layer's column with the name")
    z.add_argument(
        "--demand", help="CBS PC6 table: zones where residents of 65+ live (layer zones_demand)"
    )
    z.add_argument("--points", help="PC6 points for --demand (default: the scan's dwellings)")
    z.add_argument("--lang", choices=["nl", "en"], default="nl")


def _add_compare_zones(sub) -> None:
    cz = sub.add_parser("compare-zones", help="hold the zones against designated ones")
    cz.add_argument("scan", type=gpkg_to_update, help="a scan GeoPackage with zones")
    cz.add_argument("--reference", required=True, help="polygons of the designated zones")
    cz.add_argument("--reference-name-field", required=True, help="their name column")
    cz.add_argument("--min-share", type=share, default=0.5, help="share of dwellings to match")
    cz.add_argument("--layer", default="zones", help="the scan's zones layer (or zones_demand)")
    cz.add_argument("--reference-layer", help="the reference file's layer (e.g. zones)")


def _add_map(sub) -> None:
    mp = sub.add_parser("map", help="maps of a scan: interactive HTML, PNG/PDF, GeoTIFF grid")
    mp.add_argument("scan", help="a scan GeoPackage")
    mp.add_argument("--out", type=new_file(".html"), help="interactive map (.html)")
    mp.add_argument("--png", type=new_file(".png", ".pdf"), help="static map (.png)")
    mp.add_argument("--pdf", type=new_file(".pdf", ".png"), help="static map (.pdf)")
    mp.add_argument(
        "--tif", type=new_file(".tif", ".tiff"), help="the score grid as a GeoTIFF (.tif)"
    )
    mp.add_argument("--lang", choices=["nl", "en"], default="nl")


def _add_validate(sub) -> None:
    va = sub.add_parser("validate", help="hold a scan's walking distances against CBS per buurt")
    va.add_argument(
        "scan",
        type=gpkg_to_update,
        help="a scan GeoPackage; the validation tables are added to it",
    )
    va.add_argument(
        "--cbs",
        help="CBS proximity table: OData JSON, CSV export or a StatLine table id (86134NED); "
        "default: the one fetched with the scan's study (fetch --with-validation)",
    )
    va.add_argument("--buurten", help="buurt polygons (default: as --cbs)")
    va.add_argument("--buurt-field", help="their buurt code column (default buurtcode)")
    va.add_argument("--study", help="a study fetched with --with-validation: its table, buurten")
    va.add_argument("--plots", help="folder for a scatter plot PNG per sub-indicator")
    va.add_argument("--max-m", type=positive, default=5000.0, help="walks measured up to (m)")
    va.add_argument("--cache-dir", help="download cache for a table id (default: the user cache)")
    va.add_argument("--offline", action="store_true", help="use only the download cache")
    va.add_argument("--mirror", help="base URL of a mirror serving the sources as /<host>/<path>")
    va.add_argument("--timeout", type=positive, default=60.0, help="seconds per request")


def _add_whatif(sub) -> None:
    w = sub.add_parser("whatif", help="what changes when amenities open or close (incremental)")
    w.add_argument("scan", help="a scan GeoPackage")
    w.add_argument(
        "--add",
        action="append",
        default=[],
        metavar="KIND@LAT,LON",
        help="a new amenity, e.g. huisarts@50.8513,5.6909 (repeatable)",
    )
    w.add_argument(
        "--remove", action="append", default=[], metavar="ID", help="an amenity's source_id"
    )
    w.add_argument("--crs", help="CRS of --add coordinates when not WGS84 lat,lon")
    w.add_argument("--population", help="the CBS PC6 table, to count residents of 65+")
    w.add_argument(
        "--out", type=new_file(".gpkg"), help="write the scenario to this GeoPackage (.gpkg)"
    )
    w.add_argument("--json", action="store_true", help="print JSON")


def _add_site(sub) -> None:
    s = sub.add_parser("site", help="where n new amenities of a kind help the most dwellings")
    s.add_argument(
        "scan", type=gpkg_to_update, help="a scan GeoPackage; the sites layer is added to it"
    )
    s.add_argument("--indicator", required=True, help="sub-indicator, e.g. huisarts or gp")
    s.add_argument("--n", type=int, default=1, help="how many new sites (default 1)")
    s.add_argument("--candidates", help="candidate plots or points (vector file)")
    s.add_argument(
        "--spacing-m", type=positive, default=100.0, help="spacing of the default candidates"
    )
    s.add_argument("--weight", choices=["dwellings", "65plus"], default="dwellings")
    s.add_argument("--population", help="the CBS PC6 table (needed for --weight 65plus)")
    s.add_argument(
        "--png", type=new_file(".png", ".pdf"), help="also draw the sites on a map (.png)"
    )
    s.add_argument(
        "--html",
        type=new_file(".html"),
        help="also write an interactive map of the sites (.html)",
    )
    s.add_argument("--json", action="store_true", help="print JSON")


def _add_diff(sub) -> None:
    df = sub.add_parser("diff", help="what changed between two scans, and why")
    df.add_argument("old", help="the earlier scan GeoPackage (e.g. the baseline)")
    df.add_argument("new", help="the later scan GeoPackage")
    df.add_argument(
        "--out",
        type=gpkg_new_or_update,
        help="GeoPackage for the tables (default: added to NEW)",
    )
    df.add_argument("--html", type=new_file(".html"), help="map of the class changes (.html)")
    df.add_argument(
        "--png", type=new_file(".png", ".pdf"), help="map of the class changes (.png or .pdf)"
    )
    df.add_argument("--max-match-m", type=positive, default=5.0, help="match dwellings by location")
    df.add_argument("--lang", choices=["nl", "en"], default="nl")


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="thuisdichtbij",
        description="Thuis en dichtbij-scan: walking access to everyday amenities per dwelling.",
    )
    p.add_argument("--version", action="version", version=f"thuisdichtbij {__version__}")
    sub = p.add_subparsers(dest="command", required=True)
    for name, (add, _run, _chatty) in COMMANDS.items():
        add(sub)
        sub.choices[name].add_argument("-q", "--quiet", action="store_true", help=_QUIET)
    return p


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
    return f"wrote {path}; scan it with: thuisdichtbij scan --study {path} --out <file>.gpkg"


def _zones(args) -> str:
    result = make_zones(
        args.scan,
        names=args.names,
        name_field=args.name_field,
        lang=args.lang,
        population=args.demand,
        points=args.points,
    )
    result.to_gpkg(args.scan)
    z = result.zones
    lines = [f"{len(z)} woonzorgzone(s) ({result.metadata['rule']}):"]
    for _, r in z.iterrows():
        lines.append(
            f"  {r['zone_id']} {r['name']}: {r['n_cells']} cells, {r['n_dwellings']} dwellings, "
            f"mean score {r['score_mean']:.2f}"
            + (f", {r['residents_65plus']:.0f} residents 65+" if args.demand else "")
            + f"; {r['profile']}"
        )
    lines.append(f"wrote layer {result.layer} to {args.scan}")
    return "\n".join(lines)


def _compare(args) -> str:
    table = compare_zones(
        args.scan,
        args.reference,
        name_field=args.reference_name_field,
        min_share=args.min_share,
        layer=args.layer,
        reference_layer=args.reference_layer,
    )
    from ..outputs.export import add_layers

    add_layers(args.scan, {"zone_comparison": table})
    shown = table.astype(object).where(table.notna(), "-")  # no NaN/None in what people read
    return shown.to_string(index=False) + f"\nwrote table zone_comparison to {args.scan}"


def _map(args) -> str:
    written = []
    if args.out:
        written.append(scan_html(args.scan, args.out, lang=args.lang))
    for path in (args.png, args.pdf):
        if path:
            written.append(scan_static(args.scan, path, lang=args.lang))
    if args.tif:
        written.append(grid_tif(args.scan, args.tif))
    if not written:
        raise ConfigError("map: say what to write: --out x.html, --png, --pdf or --tif")
    return "wrote " + ", ".join(map(str, written))


def _check(args) -> str:
    ctx = load_check(args.scan)
    point = parse_location(ctx, at=args.at, crs=args.crs, postcode=args.postcode)
    result = check(ctx, point, lang=args.lang, reach=args.json)
    if args.json:
        return json.dumps(result, ensure_ascii=False, indent=1)
    return check_text(result, args.lang)


def _validate(args) -> str:
    from ..analyses.validate import is_table_id, validate
    from ..sources.http import Downloader

    dl = None
    if args.cbs and is_table_id(args.cbs):
        dl = Downloader(
            cache_dir(args.cache_dir) / "downloads",
            offline=args.offline,
            mirror=args.mirror,
            timeout_s=args.timeout,
        )
    result = validate(
        args.scan,
        args.cbs,
        buurten=args.buurten,
        buurt_field=args.buurt_field,
        study=args.study,
        downloader=dl,
        max_m=args.max_m,
    )
    result.to_gpkg(args.scan)
    lines = [result.summary.to_string(index=False), f"added validation tables to {args.scan}"]
    if args.plots and len(result.table):
        from ..outputs.validation_plot import validation_scatter

        lines.append("wrote " + ", ".join(map(str, validation_scatter(result.table, args.plots))))
    return "\n".join(lines)


def _serve(args) -> str:
    from .serve import run

    run(args.scan, host=args.host, port=args.port, lang=args.lang, population=args.population)
    return ""


def _demand(args) -> str:
    result = demand(args.scan, args.population, points=args.points)
    result.to_gpkg(args.scan)
    md = result.metadata
    return "\n".join(
        [
            f"residents of 65 and older per area class ({md['points']}):",
            result.by_class.to_string(index=False),
            f"in class 1-2 areas: {result.in_low_classes} residents of 65+",
            f"PC6 with unknown 65+ (pc6_unknown): {md['pc6_unknown']} "
            f"({md['pc6_masked_65plus']} masked in the CBS table, "
            f"{md['pc6_points_not_in_cbs'].split(':')[0]} not in it); "
            f"CBS postcodes without a point: {md['cbs_pc6_without_point']}",
            f"added demand_by_class, demand_by_area to {args.scan}",
        ]
    )


def _fairshare(args) -> str:
    overrides = {"fairshare": {"reference": args.reference}} if args.reference else None
    config = load_config(args.weights, overrides=overrides) if (args.weights or overrides) else None
    result = fairshare(
        args.study, config=config, data_dir=args.data_dir, lang=args.lang, level=args.level
    )
    written = [str(result.to_gpkg(args.out))]
    if args.html:
        written.append(str(fairshare_html(result, args.html, lang=args.lang)))
    if args.png:
        written.append(str(fairshare_png(result, args.png, lang=args.lang)))
    md = result.metadata
    lines = [
        f"fair share ({md['reference']} reference: SES-WOA {md['reference_ses_woa']}, "
        f"Leefbaarometer {md['lbm_measure']} "
        f"{next(v for k, v in md.items() if k.startswith('reference_lbm'))})",
        result.summary.to_string(index=False),
        f"years: {md['years']} (mismatch: {md['year_mismatch']})",
        "wrote " + ", ".join(written),
    ]
    return "\n".join(lines)


def _whatif(args) -> str:
    ctx = load_whatif(args.scan, population=args.population)
    adds = [parse_addition(ctx, a, crs=args.crs) for a in args.add]
    result = whatif(ctx, add=adds, remove=[Removal(r) for r in args.remove])
    written = f"wrote {result.to_gpkg(args.out)}" if args.out else ""
    if args.json:
        return json.dumps(result.to_json(), ensure_ascii=False, indent=1)
    s = result.summary
    lines = [
        "; ".join(f"{e['edit']} {e['indicator']} {e['name']} ({e['id']})" for e in s["scenario"]),
        f"dwellings gaining: {s['dwellings_gaining']}, losing: {s['dwellings_losing']}; "
        f"class up: {s['dwellings_class_up']}, down: {s['dwellings_class_down']}",
    ]
    if s["residents_65plus_gaining"] is not None:
        lines.append(
            f"residents of 65+ gaining: {s['residents_65plus_gaining']}, "
            f"losing: {s['residents_65plus_losing']}"
        )
    changed = result.areas[result.areas["score_delta"].fillna(0) != 0]
    cols = ["area_id", "score_mean_before", "score_mean_after", "class_before", "class_after"]
    if len(changed):
        lines.append(changed[cols].round(3).to_string(index=False))
    lines.append(s["classes"])
    return "\n".join(lines + ([written] if written else []))


def _site(args) -> str:
    ctx = load_whatif(args.scan, population=args.population)
    result = site(
        ctx,
        indicator=args.indicator,
        n=args.n,
        candidates=args.candidates,
        weight=args.weight,
        spacing_m=args.spacing_m,
    )
    result.to_gpkg(args.scan)
    written = [f"layer {result.layer} in {args.scan}"]
    if args.png or args.html:
        from ..outputs.sites_map import sites_html, sites_png

        if args.png:
            written.append(str(sites_png(args.scan, result.layer, args.png)))
        if args.html:
            written.append(str(sites_html(args.scan, result.layer, args.html)))
    if args.json:
        return json.dumps(result.to_json(), ensure_ascii=False, indent=1)
    md = result.metadata
    cols = [c for c in result.sites.columns if c != "geometry"]
    return "\n".join(
        [
            f"{md['n']} new {md['indicator']} site(s) from {md['candidates']} candidates "
            f"(optimal: {md['optimal']}; weight: {md['weight']}):",
            result.sites[cols].to_string(index=False, na_rep="-"),
            "wrote " + ", ".join(written),
        ]
    )


def _summary(result, out, seconds: float) -> str:
    dw, ar = result.dwellings, result.areas
    scored = dw[dw["snapped"]]
    counts = scored.groupby("score_class")["weight"].sum().round().astype(int).to_dict()
    classes = ", ".join(f"{k}: {v}" for k, v in sorted(counts.items()))
    md = result.metadata
    warning = warning_text(result.audit, config=result.config) if result.audit is not None else ""
    return "\n".join(
        [
            f"wrote {out} in {seconds:.1f} s",
            f"  dwellings: {md['dwellings']} in {len(dw)} point(s), "
            f"{md['dwelling_points_not_snapped']} point(s) not scored (beyond the snap limit)",
            f"  score: mean {scored['score'].mean():.2f} of {md['max_score']}; "
            f"dwellings per class: {classes}",
            f"  areas: {len(ar)} ({md['areas_source']}), {md['areas_suppressed']} suppressed",
            f"  network: {md['network']} ({md['crs']})",
            *([warning] if warning else []),
        ]
    )


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
    out = result.to_gpkg(args.out, overwrite=args.overwrite)
    return _summary(result, out, time.perf_counter() - start)


def _diff(args) -> str:
    from ..analyses.diff import diff_scans
    from ..outputs.diff_map import diff_html, diff_png
    from ..outputs.export import add_layers, write_layers
    from ..outputs.scanfile import read_scan, scan_layers
    from ..outputs.styles import layer_styles

    (old, old_meta), (new, new_meta) = read_scan(args.old), read_scan(args.new)
    result = diff_scans(
        old, new, old_metadata=old_meta, new_metadata=new_meta, max_match_m=args.max_match_m
    )
    layers = result.layers()
    if args.out:
        layers["layer_styles"] = layer_styles(list(layers), lang=args.lang)
        written = [write_layers(args.out, layers, metadata={**new_meta, **result.metadata})]
    else:
        layers["layer_styles"] = layer_styles(scan_layers(args.new) + list(layers))
        written = [add_layers(args.new, layers, metadata=result.metadata)]
    if args.html:
        written.append(diff_html(result, args.html, lang=args.lang))
    if args.png:
        written.append(diff_png(result, args.png, lang=args.lang))
    return result.summary() + "\nwrote " + ", ".join(map(str, written))


#: Each subcommand: how its arguments are declared, what runs it, and whether it tells
#: what it is doing (INFO logging) unless --quiet.
COMMANDS = {
    "scan": (_add_scan, _scan, True),
    "fetch": (_add_fetch, _fetch, True),
    "fairshare": (_add_fairshare, _fairshare, True),
    "demand": (_add_demand, _demand, True),
    "check": (_add_check, _check, False),
    "serve": (_add_serve, _serve, False),
    "zones": (_add_zones, _zones, True),
    "compare-zones": (_add_compare_zones, _compare, False),
    "map": (_add_map, _map, False),
    "validate": (_add_validate, _validate, False),
    "whatif": (_add_whatif, _whatif, False),
    "site": (_add_site, _site, False),
    "diff": (_add_diff, _diff, False),
}


def main(argv: list[str] | None = None) -> int:
    """Run the command line; returns the exit code (0 fine, 2 bad input)."""
    try:
        args = _parser().parse_args(argv)
    except SystemExit as exc:  # bad arguments (exit 2), --help and --version (0)
        return exc.code if isinstance(exc.code, int) else 2
    _add, run, chatty = COMMANDS[args.command]
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    level = logging.INFO if chatty and not args.quiet else logging.WARNING
    logging.getLogger("thuisdichtbij").setLevel(level)
    logging.getLogger("distributed").setLevel(logging.WARNING)
    logging.getLogger("urllib3").setLevel(logging.ERROR)  # fetch names the cause in one line
    try:
        text = run(args)
    except ThuisdichtbijError as exc:
        print(f"thuisdichtbij: error: {exc}", file=sys.stderr)
        return 2
    except ModuleNotFoundError as exc:
        extra = missing_extra(exc)
        if extra is None:
            raise
        print(f"thuisdichtbij: error: {extra}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("thuisdichtbij: interrupted; nothing was written", file=sys.stderr)
        return 130
    return _print(text)


def _print(text: str) -> int:
    """Print the result; a reader that stopped early (``| head``) is no error."""
    try:
        print(text, flush=True)
    except BrokenPipeError:
        # Python would complain again when it flushes stdout at exit: point it at nothing
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    return 0


if __name__ == "__main__":
    sys.exit(main())
