"""The zones and compare-zones subcommands: woonzorgzones of a scan."""

from __future__ import annotations

from ..._text import decimal
from ...analyses.audit import warning_text
from ...analyses.zones import compare_zones, make_zones
from ...config import run_config
from ...outputs.scanfile import read_metadata, read_scan_layer, scan_layers
from .._args import gpkg_to_update, share
from .._console import say


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


def _add_compare_zones(sub) -> None:
    cz = sub.add_parser("compare-zones", help="hold the zones against designated ones")
    cz.add_argument("scan", type=gpkg_to_update, help="a scan GeoPackage with zones")
    cz.add_argument("--reference", required=True, help="polygons of the designated zones")
    cz.add_argument("--reference-name-field", required=True, help="their name column")
    cz.add_argument("--min-share", type=share, default=0.5, help="share of dwellings to match")
    cz.add_argument("--layer", default="zones", help="the scan's zones layer (or zones_demand)")
    cz.add_argument("--reference-layer", help="the reference file's layer (e.g. zones)")


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
    t, z = say(args.lang), result.zones
    lines = [t["zones_head"].format(n=len(z), rule=result.metadata["rule"])]
    for _, r in z.iterrows():
        lines.append(
            t["zone_line"].format(
                id=r["zone_id"],
                name=r["name"],
                cells=r["n_cells"],
                dwellings=r["n_dwellings"],
                mean=decimal(r["score_mean"], ".2f", args.lang),
            )
            + (t["zone_65"].format(n=r["residents_65plus"]) if args.demand else "")
            + f"; {r['profile']}"
        )
    lines.append(t["zones_wrote"].format(layer=result.layer, scan=args.scan))
    return "\n".join([*lines, *_scan_warning(args.scan, args.lang)])


def _scan_warning(scan, lang: str) -> list[str]:
    """The scan's data audit WARNING block, in the words of its own settings.

    The zones stand on the same input.
    """
    if "audit" not in scan_layers(scan):  # a scan written before the audit
        return []
    audit, config = read_scan_layer(scan, "audit"), run_config(read_metadata(scan))
    block = warning_text(audit, config=config, lang=lang)
    return [block] if block else []


def _compare(args) -> str:
    table = compare_zones(
        args.scan,
        args.reference,
        name_field=args.reference_name_field,
        min_share=args.min_share,
        layer=args.layer,
        reference_layer=args.reference_layer,
    )
    from ...outputs.export import add_layers

    add_layers(args.scan, {"zone_comparison": table})
    shown = table.astype(object).where(table.notna(), "-")  # no NaN/None in what people read
    return (
        shown.to_string(index=False) + "\n" + say(args.lang)["compare_wrote"].format(scan=args.scan)
    )


#: name: (declare the arguments, run, INFO logging unless --quiet)
COMMANDS = {
    "zones": (_add_zones, _zones, True),
    "compare-zones": (_add_compare_zones, _compare, False),
}
