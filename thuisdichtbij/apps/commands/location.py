"""The check, serve, whatif and site subcommands: one location, and what a new amenity does."""

from __future__ import annotations

import json

from ..._text import decimal
from ...analyses.check import check, load_check, parse_location
from ...analyses.siting import site
from ...analyses.whatif import Removal, load_whatif, parse_addition, whatif
from ...config import load_config
from ...outputs._mapkit import indicator_label
from .._args import gpkg_to_update, new_file, positive
from .._check_text import check_text
from .._console import say


def _add_check(sub) -> None:
    c = sub.add_parser("check", help="score one location against a scan, explained")
    c.add_argument("--scan", required=True, help="a scan GeoPackage")
    where = c.add_mutually_exclusive_group(required=True)
    where.add_argument("--at", help="'lat,lon' in WGS84, or 'x,y' with --crs")
    where.add_argument("--postcode", help="a PC6 postcode known to the scan (e.g. 6211AB)")
    c.add_argument("--crs", help="CRS of --at when it is not WGS84 lat,lon (e.g. EPSG:28992)")
    c.add_argument("--json", action="store_true", help="print JSON (with the reach polygons)")


def _add_serve(sub) -> None:
    v = sub.add_parser("serve", help="a web page for plot checks (FastAPI, local)")
    v.add_argument("--scan", required=True, help="a scan GeoPackage")
    v.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1)")
    v.add_argument("--port", type=int, default=8000)
    v.add_argument("--population", help="the CBS PC6 table: the what-if counts residents of 65+")


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


def _check(args) -> str:
    ctx = load_check(args.scan)
    point = parse_location(ctx, at=args.at, crs=args.crs, postcode=args.postcode)
    result = check(ctx, point, lang=args.lang, reach=args.json)
    if args.json:
        return json.dumps(result, ensure_ascii=False, indent=1)
    return check_text(result, args.lang)


def _serve(args) -> str:
    from ..serve import run

    run(args.scan, host=args.host, port=args.port, lang=args.lang, population=args.population)
    return ""


def _whatif(args) -> str:
    ctx = load_whatif(args.scan, population=args.population)
    adds = [parse_addition(ctx, a, crs=args.crs) for a in args.add]
    result = whatif(ctx, add=adds, remove=[Removal(r) for r in args.remove])
    t = say(args.lang)
    written = t["wrote"].format(what=result.to_gpkg(args.out, lang=args.lang)) if args.out else ""
    if args.json:
        return json.dumps(result.to_json(), ensure_ascii=False, indent=1)
    s = result.summary
    lines = [
        "; ".join(
            f"{t.get('edit_' + e['edit'], e['edit'])} {_label(e['indicator'], args.lang)} "
            f"{e['name']} ({e['id']})"
            for e in s["scenario"]
        ),
        t["wi_dwellings"].format(
            gain=s["dwellings_gaining"],
            lose=s["dwellings_losing"],
            up=s["dwellings_class_up"],
            down=s["dwellings_class_down"],
        ),
    ]
    if s["residents_65plus_gaining"] is not None:
        lines.append(
            t["wi_65"].format(gain=s["residents_65plus_gaining"], lose=s["residents_65plus_losing"])
        )
    changed = result.areas[result.areas["score_delta"].fillna(0) != 0]
    cols = ["area_id", "score_mean_before", "score_mean_after", "class_before", "class_after"]
    if len(changed):
        table = changed[cols].to_string(
            index=False, float_format=lambda v: decimal(v, ".3f", args.lang)
        )
        lines.append(table)
    lines.append(t["wi_classes"])
    return "\n".join(lines + ([written] if written else []))


def _label(indicator: str, lang: str) -> str:
    """A sub-indicator by its label in the language (the id when it is not one)."""
    return indicator_label(load_config(), indicator, lang)


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
    t = say(args.lang)
    written = [t["site_layer"].format(layer=result.layer, scan=args.scan)]
    if args.png or args.html:
        from ...outputs.sites_map import sites_html, sites_png

        if args.png:
            written.append(str(sites_png(args.scan, result.layer, args.png, lang=args.lang)))
        if args.html:
            written.append(str(sites_html(args.scan, result.layer, args.html, lang=args.lang)))
    if args.json:
        return json.dumps(result.to_json(), ensure_ascii=False, indent=1)
    md = result.metadata
    cols = [c for c in result.sites.columns if c != "geometry"]
    head = t["site_head"].format(
        n=md["n"],
        indicator=_label(md["indicator"], args.lang),
        candidates=md["candidates"],
        optimal=t["yes"] if md["optimal"] == "true" else t["no"],
        weight=t.get(f"site_{md['weight']}", md["weight"]),
    )
    # the data audit's word on the sub-indicator last, where the scan's summary has its own
    warning = result.warning.get(args.lang, "")
    return "\n".join(
        [
            head,
            result.sites[cols].to_string(index=False, na_rep="-"),
            t["wrote"].format(what=", ".join(written)),
            *([warning] if warning else []),
        ]
    )


#: name: (declare the arguments, run, INFO logging unless --quiet)
COMMANDS = {
    "check": (_add_check, _check, False),
    "serve": (_add_serve, _serve, False),
    "whatif": (_add_whatif, _whatif, False),
    "site": (_add_site, _site, False),
}
