"""The tiles and scan-national subcommands: the national path over a tile store."""

from __future__ import annotations

import os
import sys
import time

from ..._text import decimal, short_list
from ...analyses.audit import OK
from ...config import load_config
from ...engine.aggregate import FULL_COVERAGE
from ...engine.partition import Tiling
from ...pipeline.national import require_halo, scan_national
from ...sources.tags import needed_keys, rule_starts
from ...sources.tilestore import convert_pbf
from .._args import count, new_folder, positive
from .._console import say


def _add_tiles(sub) -> None:
    t = sub.add_parser(
        "tiles", help="convert an .osm.pbf (the whole country) into a tile store, once"
    )
    t.add_argument("pbf", help="an .osm.pbf extract, e.g. netherlands-latest.osm.pbf")
    t.add_argument("--out", required=True, type=new_folder, help="the store folder to write")
    t.add_argument("--tile-m", type=positive, default=10_000.0, help="tile size (default 10 km)")
    t.add_argument("--halo-m", type=positive, default=1_500.0, help="extra metres around each tile")
    t.add_argument("--weights", help="a weights file: the amenity tags its indicators need")
    t.add_argument(
        "--processes",
        type=count,
        default=_cores(),
        help="processes reading the file at once (default: one per core this process may use)",
    )
    t.add_argument("--overwrite", action="store_true", help="replace an existing store")
    t.add_argument("--no-progress", action="store_true", help="no progress bar")


def _cores() -> int:
    """The cores this process may run on, by its CPU affinity.

    That follows ``taskset`` and a container's ``--cpuset-cpus``, not a ``--cpus`` quota.
    """
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on every system
        return os.cpu_count() or 1


def _add_scan_national(sub) -> None:
    s = sub.add_parser("scan-national", help="scan every tile of a store; results per municipality")
    s.add_argument("--store", required=True, help="a tile store (thuisdichtbij tiles)")
    s.add_argument("--municipalities", required=True, help="municipality polygons (GeoPackage)")
    s.add_argument(
        "--municipality-field", default="gemeente", help="their id column (default gemeente)"
    )
    s.add_argument("--bag", help="BAG GeoPackage: its dwellings instead of OSM addresses")
    s.add_argument("--bag-layer", default="verblijfsobject", help="the BAG layer")
    s.add_argument("--leefbaarometer", help="Leefbaarometer table (per PC4): safety points")
    s.add_argument("--safety-areas", help="the polygons the table is given for (CBS PC4 areas)")
    s.add_argument(
        "--safety-area-field", default="postcode", help="their id column (default postcode)"
    )
    s.add_argument("--areas", help="area polygons for the means per area (CBS PC4 areas)")
    s.add_argument("--area-field", default="postcode", help="their id column (default postcode)")
    s.add_argument("--areas-layer", help="their layer, when the file has several")
    s.add_argument("--out", required=True, type=new_folder, help="the results folder")
    s.add_argument("--weights", help="a weights file laid over config/weights.yaml")
    s.add_argument("--workers", type=int, default=2, help="local Dask workers")
    s.add_argument("--scheduler", help="address of a running Dask scheduler")
    s.add_argument("--overwrite", action="store_true", help="replace earlier results in --out")
    s.add_argument("--no-progress", action="store_true", help="no progress bar")


def _tiles(args) -> str:
    cfg = load_config(args.weights)
    require_halo(args.halo_m, cfg, what="tiles")  # before the country is read, not after
    start = time.perf_counter()
    store = convert_pbf(
        args.pbf,
        args.out,
        feature_keys=needed_keys(cfg.indicators),
        feature_prefilter=rule_starts(cfg.indicators),
        tile_m=args.tile_m,
        halo_m=args.halo_m,
        processes=args.processes,
        progress=not (args.no_progress or args.quiet) and sys.stderr.isatty(),
        overwrite=args.overwrite,
    )
    return say(args.lang)["tiles_wrote"].format(
        n=len(store.tiles),
        tile_m=store.tile_m,
        halo_m=store.halo_m,
        path=store.path,
        s=decimal(time.perf_counter() - start, ".1f", args.lang),
    )


def _scan_national(args) -> str:
    start = time.perf_counter()
    result = scan_national(
        args.store,
        out=args.out,
        municipalities=args.municipalities,
        municipality_field=args.municipality_field,
        bag=args.bag,
        bag_layer=args.bag_layer,
        leefbaarometer=args.leefbaarometer,
        safety_areas=args.safety_areas,
        safety_area_field=args.safety_area_field,
        areas=args.areas,
        area_field=args.area_field,
        area_layer=args.areas_layer,
        config=load_config(args.weights) if args.weights else None,
        tiling=Tiling(workers=args.workers, scheduler=args.scheduler),
        overwrite=args.overwrite,
        progress=not (args.no_progress or args.quiet) and sys.stderr.isatty(),
        lang=args.lang,
    )
    t = say(args.lang)
    lines = [
        t["national_done"].format(
            n=result.dwellings,
            tiles=len(result.tiles),
            m=len(result.municipalities),
            s=decimal(time.perf_counter() - start, ".1f", args.lang),
        ),
        t["national_wrote"].format(dw=result.out / "dwellings", gpkg=result.out / "gpkg"),
    ]
    if result.outside:  # said in words here; the log's warning is for --quiet runs' logs
        lines.append(t["national_outside"].format(n=result.outside))
    partial = [m["id"] for m in result.municipalities if m["data_coverage"] < FULL_COVERAGE]
    if partial:
        names = short_list(partial, lang=args.lang)
        lines.append(t["national_partial"].format(n=len(partial), names=names))
    gaps = input_gaps(result.municipalities)
    if gaps:
        lines.append(t["national_gaps"].format(n=len(gaps), names=short_list(gaps, lang=args.lang)))
    return "\n".join(lines)


def input_gaps(municipalities: list[dict]) -> list[str]:
    """The municipalities whose audit found thin or missing input: amenities or safety."""
    return [
        m["id"]
        for m in municipalities
        if m["audit_missing"] or m["audit_thin"] or m["audit_safety"] != OK
    ]


#: name: (declare the arguments, run, INFO logging unless --quiet)
COMMANDS = {
    "tiles": (_add_tiles, _tiles, True),
    "scan-national": (_add_scan_national, _scan_national, True),
}
