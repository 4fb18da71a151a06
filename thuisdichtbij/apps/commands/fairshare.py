"""The fairshare and demand subcommands: vulnerable areas and residents of 65+."""

from __future__ import annotations

from ...analyses.demand import demand
from ...analyses.fairshare import fairshare
from ...config import load_config
from ...outputs.static_map import fairshare_png
from ...outputs.web_map import fairshare_html
from .._args import gpkg_new_or_update, gpkg_to_update, new_file
from .._console import say


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
    t, md = say(args.lang), result.metadata
    lbm = next(v for k, v in md.items() if k.startswith("reference_lbm"))
    mismatch = md["year_mismatch"].replace("yes", t["yes"]).replace("no", t["no"], 1)
    lines = [
        t["fs_head"].format(
            ref=t.get(f"fs_{md['reference']}", md["reference"]),
            ses=md["reference_ses_woa"],
            lbm=f"{md['lbm_measure']} {lbm}",
        ),
        result.summary.to_string(index=False),
        t["fs_years"].format(years=md["years"], mismatch=mismatch),
        t["wrote"].format(what=", ".join(written)),
    ]
    return "\n".join(lines)


def _demand(args) -> str:
    result = demand(args.scan, args.population, points=args.points)
    result.to_gpkg(args.scan)
    t, md = say(args.lang), result.metadata
    return "\n".join(
        [
            t["demand_head"].format(points=_points_source(md["points"], t)),
            result.by_class.to_string(index=False),
            t["demand_low"].format(n=result.in_low_classes),
            t["demand_unknown"].format(
                n=md["pc6_unknown"],
                masked=md["pc6_masked_65plus"],
                missing=md["pc6_points_not_in_cbs"].split(":")[0],
                free=md["cbs_pc6_without_point"].split(" ")[0],
                lost=md["cbs_pc6_without_point_65plus"],
            ),
            t["added"].format(layers=", ".join(result.layer_names), scan=args.scan),
        ]
    )


def _points_source(source: str, t: dict) -> str:
    """The demand's ``points`` fact (``scan.gpkg dwellings (dwelling_id)``) in words."""
    return source.replace(" dwellings (", f" {t['site_dwellings']} (").replace(
        "(a point inside each polygon)", t["pts_inside"]
    )


#: name: (declare the arguments, run, INFO logging unless --quiet)
COMMANDS = {
    "fairshare": (_add_fairshare, _fairshare, True),
    "demand": (_add_demand, _demand, True),
}
