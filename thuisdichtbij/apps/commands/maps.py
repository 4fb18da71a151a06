"""The map subcommand: web, static and raster maps of a scan."""

from __future__ import annotations

from ...errors import ConfigError
from ...outputs.raster import grid_tif, grid_tif_outputs
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
        "--tif",
        type=new_file(".tif", ".tiff"),
        help="the score grid as a GeoTIFF (.tif), its QGIS style beside it (same name, .qml)",
    )


def _map(args) -> str:
    t = say(args.lang)
    # the GeoTIFF's style beside it: checked before anything is written, like the rest
    style = grid_tif_outputs(args.tif)[1] if args.tif else None
    written = []
    if args.out:
        written.append(scan_html(args.scan, args.out, lang=args.lang))
    for path in (args.png, args.pdf):
        if path:
            written.append(scan_static(args.scan, path, lang=args.lang))
    if args.tif:
        tif = grid_tif(args.scan, args.tif, lang=args.lang)
        written.append(t["tif_and_style"].format(tif=tif, qml=style))
    if not written:
        raise ConfigError("map: say what to write: --out x.html, --png, --pdf or --tif")
    return t["wrote"].format(what=", ".join(map(str, written)))


#: name: (declare the arguments, run, INFO logging unless --quiet)
COMMANDS = {
    "map": (_add_map, _map, False),
}
