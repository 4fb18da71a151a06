"""The validate and diff subcommands: a scan held against CBS, or against another scan."""

from __future__ import annotations

from ...settings import cache_dir
from .._args import gpkg_new_or_update, gpkg_to_update, new_file, positive
from .._console import say


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


def _validate(args) -> str:
    from ...analyses.validate import is_table_id, validate
    from ...sources.http import Downloader

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
    t = say(args.lang)
    lines = [result.summary.to_string(index=False), t["validate_added"].format(scan=args.scan)]
    if args.plots and len(result.table):
        from ...outputs.validation_plot import validation_scatter

        plots = validation_scatter(result.table, args.plots)
        lines.append(t["wrote"].format(what=", ".join(map(str, plots))))
    return "\n".join(lines)


def _diff(args) -> str:
    from ...analyses.diff import diff_scans
    from ...outputs.diff_map import diff_html, diff_png
    from ...outputs.export import add_layers, write_layers
    from ...outputs.scanfile import read_scan, scan_layers
    from ...outputs.styles import layer_styles

    (old, old_meta), (new, new_meta) = read_scan(args.old), read_scan(args.new)
    result = diff_scans(
        old,
        new,
        old_metadata=old_meta,
        new_metadata=new_meta,
        max_match_m=args.max_match_m,
        lang=args.lang,
    )
    layers = result.layers()
    if args.out:
        layers["layer_styles"] = layer_styles(list(layers), lang=args.lang)
        written = [write_layers(args.out, layers, metadata={**new_meta, **result.metadata})]
    else:
        layers["layer_styles"] = layer_styles(scan_layers(args.new) + list(layers), lang=args.lang)
        written = [add_layers(args.new, layers, metadata=result.metadata)]
    if args.html:
        written.append(diff_html(result, args.html, lang=args.lang))
    if args.png:
        written.append(diff_png(result, args.png, lang=args.lang))
    wrote = say(args.lang)["wrote"].format(what=", ".join(map(str, written)))
    return result.summary(lang=args.lang) + "\n" + wrote


#: name: (declare the arguments, run, INFO logging unless --quiet)
COMMANDS = {
    "validate": (_add_validate, _validate, False),
    "diff": (_add_diff, _diff, False),
}
