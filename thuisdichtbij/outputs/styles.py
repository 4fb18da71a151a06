"""QGIS layer styles stored in the GeoPackage (its ``layer_styles`` table).

QGIS reads a layer's default style from this table when it opens the layer, so the scan's
layers come up in the five class colours with their names, and zones as labelled outlines.
Areas and grid cells with ``data_status`` 'onvoldoende gegevens' (no class for lack of data)
get a category of their own: grey, hatched with a line-pattern fill, never a class colour;
those with too few dwellings (``suppressed``) one in the maps' light grey. Which of the two
an area gets is decided as the maps decide it
(:func:`~thuisdichtbij.outputs._mapkit.area_states`).
The fair-share layer comes up as its static map draws it: vulnerable, not vulnerable, unknown.
The score grid's GeoTIFF gets its style as a file beside it (:func:`grid_tif_qml`).
"""

from __future__ import annotations

from datetime import datetime, timezone
from xml.sax.saxutils import escape, quoteattr

import pandas as pd

from .._text import label as plain
from ..engine.score import CLASS_LABELS_EN, CLASS_LABELS_NL
from ._mapkit import (
    CHANGE_COLOURS,
    CLASS_COLOURS,
    CONTEXT_COLOURS,
    FAIRSHARE_EDGE,
    FAIRSHARE_STYLE,
    INSUFFICIENT,
    INSUFFICIENT_COLOUR,
    NETWORK_COLOUR,
    SUPPRESSED,
    text,
)

__all__ = ["layer_styles", "grid_tif_qml", "STYLED_LAYERS"]

_DOCTYPE = "<!DOCTYPE qgis PUBLIC 'http://mrcc.com/qgis.dtd' 'SYSTEM'>\n"
_HEAD = _DOCTYPE + '<qgis version="3.22.0" styleCategories="Symbology|Labeling">\n'


def _rgb(hex_colour: str, alpha: int = 255) -> str:
    h = hex_colour.lstrip("#")
    return f"{int(h[0:2], 16)},{int(h[2:4], 16)},{int(h[4:6], 16)},{alpha}"


def _symbol(kind: str, name: str, colour: str, *, outline: str = "#555555") -> str:
    if kind == "marker":
        layer = (
            '<layer class="SimpleMarker" enabled="1" pass="0" locked="0"><Option type="Map">'
            f'<Option name="color" value="{_rgb(colour)}" type="QString"/>'
            '<Option name="name" value="circle" type="QString"/>'
            '<Option name="size" value="1.8" type="QString"/>'
            f'<Option name="outline_color" value="{_rgb(outline)}" type="QString"/>'
            '<Option name="outline_width" value="0.1" type="QString"/>'
            "</Option></layer>"
        )
    else:
        style = "no" if colour == "none" else "solid"
        fill = "0,0,0,0" if colour == "none" else _rgb(colour)
        width = "0.8" if colour == "none" else "0.2"
        layer = (
            '<layer class="SimpleFill" enabled="1" pass="0" locked="0"><Option type="Map">'
            f'<Option name="color" value="{fill}" type="QString"/>'
            f'<Option name="style" value="{style}" type="QString"/>'
            f'<Option name="outline_color" value="{_rgb(outline)}" type="QString"/>'
            f'<Option name="outline_width" value="{width}" type="QString"/>'
            '<Option name="outline_style" value="solid" type="QString"/>'
            "</Option></layer>"
        )
    return (
        f'<symbol type="{kind}" name="{name}" alpha="1" clip_to_extent="1" force_rhr="0">'
        f"{layer}</symbol>"
    )


def _line_symbol(name: str, colour: str, *, width_mm: float) -> str:
    """A plain line of ``colour``, ``width_mm`` wide."""
    return (
        f'<symbol type="line" name="{name}" alpha="1" clip_to_extent="1" force_rhr="0">'
        '<layer class="SimpleLine" enabled="1" pass="0" locked="0"><Option type="Map">'
        f'<Option name="line_color" value="{_rgb(colour)}" type="QString"/>'
        f'<Option name="line_width" value="{width_mm:g}" type="QString"/>'
        '<Option name="line_width_unit" value="MM" type="QString"/>'
        "</Option></layer></symbol>"
    )


def _network_qml() -> str:
    """The walking network: thin grey lines, as the maps draw it (QGIS gave a random colour)."""
    return (
        _HEAD + '<renderer-v2 type="singleSymbol" symbollevels="0" enableorderby="0" '
        f'forceraster="0"><symbols>{_line_symbol("0", NETWORK_COLOUR, width_mm=0.2)}</symbols>'
        "</renderer-v2></qgis>\n"
    )


def _hatched(
    name: str,
    colour: str = INSUFFICIENT_COLOUR,
    *,
    line: str = "#404040",
    outline: str = "#555555",
) -> str:
    """A fill with diagonal lines; by default grey, for areas without a class for lack of data."""
    lines = _line_symbol(f"@{name}@1", line, width_mm=0.3)
    hatch = (
        '<layer class="LinePatternFill" enabled="1" pass="0" locked="0"><Option type="Map">'
        '<Option name="angle" value="45" type="QString"/>'
        '<Option name="distance" value="2" type="QString"/>'
        '<Option name="distance_unit" value="MM" type="QString"/>'
        '<Option name="line_width" value="0.3" type="QString"/>'
        f"</Option>{lines}</layer>"
    )
    solid = _symbol("fill", name, colour, outline=outline)
    return solid.replace("</layer></symbol>", f"</layer>{hatch}</symbol>")


#: The category of areas and cells with too few dwellings (``suppressed``, no class).
_SUPPRESSED_VALUE = "suppressed"
#: What QGIS categorises areas and cells on, as ``area_states`` decides for the maps: the
#: insufficient-data status first, then the class, then too few dwellings; an area without
#: a class and not suppressed has too little data to be classed. ``suppressed`` is a
#: GeoPackage boolean, read as true/false or 1/0: the expression takes both.
_AREA_CLASS = (
    f"CASE WHEN \"data_status\" = '{INSUFFICIENT}' THEN '{INSUFFICIENT}' "
    'WHEN "score_class" IS NOT NULL THEN "score_class" '
    f"WHEN \"suppressed\" THEN '{_SUPPRESSED_VALUE}' ELSE '{INSUFFICIENT}' END"
)


def _classes_qml(kind: str, lang: str, *, status: bool = False) -> str:
    """Five classes on ``score_class``; with ``status`` two more, as the maps draw them.

    Insufficient data (grey, hatched) and too few dwellings (light grey), in the maps' words.
    """
    t = text(lang)
    labels = CLASS_LABELS_NL if lang == "nl" else CLASS_LABELS_EN
    cats = "".join(
        f'<category value="{k}" label="{k}: {escape(labels[k])}" symbol="{i}" render="true"/>'
        for i, k in enumerate(CLASS_COLOURS)
    )
    syms = "".join(_symbol(kind, str(i), c) for i, c in enumerate(CLASS_COLOURS.values()))
    attr = "score_class"
    if status:
        n, m = len(CLASS_COLOURS), len(CLASS_COLOURS) + 1
        label = escape(t["insufficient"].lower())
        cats += f'<category value="{INSUFFICIENT}" label="{label}" symbol="{n}" render="true"/>'
        syms += _hatched(str(n))
        label = escape(t["suppressed"])
        cats += (
            f'<category value="{_SUPPRESSED_VALUE}" label="{label}" symbol="{m}" render="true"/>'
        )
        syms += _symbol(kind, str(m), SUPPRESSED)
        attr = _AREA_CLASS
    return _categorized(attr, cats, syms)


def _categorized(attr: str, categories: str, symbols: str) -> str:
    """A categorised renderer on ``attr`` (a field or an expression) as a whole QML."""
    return (
        _HEAD + f'<renderer-v2 type="categorizedSymbol" attr={quoteattr(attr)} symbollevels="0" '
        'enableorderby="0" forceraster="0">'
        f"<categories>{categories}</categories><symbols>{symbols}</symbols></renderer-v2></qgis>\n"
    )


def grid_tif_qml(lang: str, *, cell_m: float, notes: bool = True) -> str:
    """The QGIS style of the score grid's GeoTIFF (``grid.qml`` beside ``grid.tif``).

    QGIS 3.22 shows a 3-band raster as an RGB composite unless a style file named like it
    says otherwise. This one draws band 2 (the class) as a paletted raster, exact values 1-5
    in the class colours and labels of the scan's other maps, nearest neighbour; nodata and
    any other value stay transparent. A renderer draws one band, so the cells without a class
    are transparent whatever band 3 says; the layer's notes (an icon in QGIS's layer list)
    say what band 3 tells apart, the gap in the data among them. Without ``notes`` the style
    holds the renderer alone, which QGIS does not apply to a vector layer (see
    :func:`~thuisdichtbij.outputs.raster.grid_tif`).
    """
    t = text(lang)
    labels = CLASS_LABELS_NL if lang == "nl" else CLASS_LABELS_EN
    palette = "".join(
        f'<paletteEntry value="{k}" color="{c}" alpha="255" '
        f"label={quoteattr(f'{k}: {labels[k]}')}/>"
        for k, c in CLASS_COLOURS.items()
    )
    note = t["tif_note"].format(
        classes=t["classes"],
        m=plain(cell_m),
        suppressed=t["suppressed"].lower(),
        insufficient=t["insufficient"].lower(),
        score=t["score"].lower(),
    )
    note_xml = f"<userNotes value={quoteattr(f'<p>{escape(note)}</p>')}/>" if notes else ""
    return (
        _DOCTYPE + '<qgis version="3.22.0" styleCategories="Symbology|Notes">\n'
        f"{note_xml}<pipe><provider>"
        '<resampling enabled="false" zoomedInResamplingMethod="nearestNeighbour" '
        'zoomedOutResamplingMethod="nearestNeighbour" maxOversampling="2"/></provider>'
        '<rasterrenderer type="paletted" band="2" opacity="1" alphaBand="-1" nodataColor="">'
        f"<colorPalette>{palette}</colorPalette></rasterrenderer></pipe>"
        "<blendMode>0</blendMode></qgis>\n"
    )


def _zones_qml() -> str:
    return (
        _HEAD
        + '<renderer-v2 type="singleSymbol" symbollevels="0" enableorderby="0" forceraster="0">'
        f"<symbols>{_symbol('fill', '0', 'none', outline='#00441b')}</symbols></renderer-v2>"
        '<labeling type="simple"><settings calloutType="simple">'
        '<text-style fieldName="name" fontSize="9" fontWeight="75" textColor="0,68,27,255" '
        'isExpression="0" fontFamily="Sans Serif">'
        '<text-buffer bufferDraw="1" bufferSize="1" bufferColor="255,255,255,255"/>'
        "</text-style>"
        '<placement placement="1"/><rendering drawLabels="1"/>'
        "</settings></labeling></qgis>\n"
    )


def _categories_qml(
    kind: str, attr: str, cats: dict[str, tuple[str, str]], *, quiet: bool = False
) -> str:
    """A categorised style on ``attr``: value -> (label, colour); grey outlines unless ``quiet``."""
    rows = "".join(
        f'<category value="{escape(v)}" label="{escape(label)}" symbol="{i}" render="true"/>'
        for i, (v, (label, _)) in enumerate(cats.items())
    )
    syms = "".join(
        _symbol(kind, str(i), c, outline=c if quiet else "#555555")
        for i, (_, c) in enumerate(cats.values())
    )
    return _categorized(attr, rows, syms)


_CHANGE = {
    "nl": {"gain": "beter", "loss": "slechter", "same": "gelijk"},
    "en": {"gain": "better", "loss": "worse", "same": "same"},
}
_CHANGE_COLOURS = {"gain": "#1a9641", "loss": "#d7191c", "same": "#bdbdbd"}


def _change_qml(kind: str, lang: str) -> str:
    labels = _CHANGE[lang]
    return _categories_qml(kind, "change", {k: (labels[k], c) for k, c in _CHANGE_COLOURS.items()})


def _class_change_qml(kind: str) -> str:
    """Categories of ``class_change`` (-4 to +4) between two scans, in the diff's colours."""
    cats = {str(k): (f"{k:+d}", c) for k, c in CHANGE_COLOURS.items()}
    return _categories_qml(kind, "class_change", cats)


#: The category of each state of the maps' ``FAIRSHARE_STYLE`` (None: unknown).
_FAIRSHARE_VALUES = {True: "true", False: "false", None: "unknown"}
#: What QGIS categorises the fair-share areas on: the three-valued ``vulnerable`` as a word.
#: The field is a GeoPackage boolean, NULL where a missing score decides it; QGIS reads it
#: as true/false, older readers as 1/0: the expression takes both.
_VULNERABLE = (
    f"CASE WHEN \"vulnerable\" IS NULL THEN '{_FAIRSHARE_VALUES[None]}' "
    f"WHEN \"vulnerable\" THEN '{_FAIRSHARE_VALUES[True]}' ELSE '{_FAIRSHARE_VALUES[False]}' END"
)


def _fairshare_qml(lang: str) -> str:
    """The fair-share verdict in the static map's fills, hatch, outline and legend words."""
    text(lang)  # an unknown language is refused as the maps refuse it
    rows, syms = "", ""
    for i, (state, st) in enumerate(FAIRSHARE_STYLE.items()):
        label = escape(st["label"][lang])
        rows += (
            f'<category value="{_FAIRSHARE_VALUES[state]}" label="{label}" symbol="{i}" '
            'render="true"/>'
        )
        syms += (
            _hatched(str(i), st["fill"], line=FAIRSHARE_EDGE, outline=FAIRSHARE_EDGE)
            if st["hatch"]
            else _symbol("fill", str(i), st["fill"], outline=FAIRSHARE_EDGE)
        )
    return _categorized(_VULNERABLE, rows, syms)


def _context_qml(lang: str) -> str:
    """The maps' context: light blue water, light green parks and woods, no outlines."""
    t = text(lang)
    cats = {k: (t[k], c) for k, c in CONTEXT_COLOURS.items()}
    return _categories_qml("fill", "kind", cats, quiet=True)


#: Layer name -> (geometry kind, QML maker).
STYLED_LAYERS = {
    "areas": lambda lang: _classes_qml("fill", lang, status=True),
    "grid": lambda lang: _classes_qml("fill", lang, status=True),
    "dwellings": lambda lang: _classes_qml("marker", lang),
    "zones": lambda lang: _zones_qml(),
    "context": _context_qml,
    "network": lambda lang: _network_qml(),
    "change": lambda lang: _change_qml("marker", lang),
    "area_change": lambda lang: _change_qml("fill", lang),
    "diff_areas": lambda lang: _class_change_qml("fill"),
    "diff_dwellings": lambda lang: _class_change_qml("marker"),
    "zones_demand": lambda lang: _zones_qml(),
    "demand_grid": lambda lang: _classes_qml("fill", lang),
    "fairshare": _fairshare_qml,
}


def layer_styles(layers: list[str], *, lang: str = "nl") -> pd.DataFrame:
    """The ``layer_styles`` rows for those of ``layers`` that have a style (default styles)."""
    now = datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S")
    rows: list[dict[str, object]] = [
        {
            "f_table_catalog": "",
            "f_table_schema": "",
            "f_table_name": name,
            "f_geometry_column": "geom",
            "styleName": f"thuisdichtbij {name}",
            "styleQML": STYLED_LAYERS[name](lang),
            "styleSLD": "",
            "useAsDefault": True,
            "description": "thuisdichtbij: classes and labels",
            "owner": "",
            "ui": "",
            "update_time": now,
        }
        for name in layers
        if name in STYLED_LAYERS
    ]
    return pd.DataFrame(rows, columns=_COLUMNS)


#: The columns of QGIS's ``layer_styles`` table (an empty one has them too).
_COLUMNS = [
    "f_table_catalog",
    "f_table_schema",
    "f_table_name",
    "f_geometry_column",
    "styleName",
    "styleQML",
    "styleSLD",
    "useAsDefault",
    "description",
    "owner",
    "ui",
    "update_time",
]
