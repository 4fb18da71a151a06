"""The map subcommand: web, static and raster maps of a scan."""

from __future__ import annotations

from ...errors import ConfigError
from ...outputs.raster import grid_tif
from ...outputs.static_map import scan_static
from ...outputs.web_map import scan_html
from .._args import new_file
from .._console import say


def _add_map(sub) -> None:
    mp = sub.add_parser("map", help="maps of a scan: interactive HTML, PNG/PDF, GeoTIFF grid")
    mp.add_argument("scan", help="a scan GeoPackage")
    mp.add_argument("--out", type=new_file(".html"), help="interactive map (.html)")
    mp.add_argument("--png", type=new_file(".png", ".pdf"), help="static map (.png)")
    mp.add_argument("--pdf", type=new_file(".pdf", ".png"), help="static map (.pdf)")
    mp.add_argument(
        "--tif", type=new_file(".tif", ".tiff"), help="the score grid as a GeoTIFF (.tif)"
    )


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
    return say(args.lang)["wrote"].format(what=", ".join(map(str, written)))


#: name: (declare the arguments, run, INFO logging unless --quiet)
COMMANDS = {
    "map": (_add_map, _map, False),
}
