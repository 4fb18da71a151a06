"""Interactive web maps (folium): one self-contained HTML file per map, Leaflet inlined.

Optional (``pip install 'thuisdichtbij[maps]'``); folium is imported only when a map is made.
"""

from __future__ import annotations

import os
from html import escape
from pathlib import Path

from .._text import decimal
from ..config import SAFETY_ID
from ..errors import ConfigError
from ._mapkit import (
    CLASS_COLOURS,
    CONTEXT_COLOURS,
    FAIRSHARE_EDGE,
    FAIRSHARE_STYLE,
    INDICATOR_STYLE,
    INSUFFICIENT_COLOUR,
    INSUFFICIENT_STYLE,
    NETWORK_COLOUR,
    SUPPRESSED,
    ZONE_COLOUR,
    area_states,
    atomic_write,
    check_out,
    class_labels,
    fairshare_credits,
    flag_state,
    indicator_label,
    indicator_plural,
    legend_note,
    read_scan_for_maps,
    scan_credits,
    scan_date,
    scan_title,
    state_fill,
    state_label,
    text,
)

__all__ = ["fairshare_html", "scan_html"]

_STATIC = Path(__file__).parent.parent / "static"
#: Files inlined into the HTML maps, by the file name their CDN address ends in.
_VENDORED = {
    "leaflet.js": _STATIC / "leaflet" / "leaflet.js",
    "leaflet.css": _STATIC / "leaflet" / "leaflet.css",
    "leaflet.markercluster.js": _STATIC / "markercluster" / "leaflet.markercluster.js",
    "MarkerCluster.css": _STATIC / "markercluster" / "MarkerCluster.css",
    "MarkerCluster.Default.css": _STATIC / "markercluster" / "MarkerCluster.Default.css",
}


def folium_map(bounds_4326):
    """A folium map that needs only Leaflet (no jQuery, Bootstrap or icon fonts)."""
    import folium

    m = folium.Map(tiles="OpenStreetMap", control_scale=True)
    m.default_js = [("leaflet", "leaflet.js")]
    m.default_css = [("leaflet_css", "leaflet.css")]
    w, s_, e, n = bounds_4326
    m.fit_bounds([[s_, w], [n, e]])
    m.td_bounds = [[float(s_), float(w)], [float(n), float(e)]]  # fitted again by save_html
    return m


#: Once the panels are drawn, the data is fitted to the part of the map they leave free
#: (the layer list and the legend sit on the right: at 1,400 px they covered 40 % of the
#: city), in quarter zoom steps so that it fills the view; on a narrow screen, where the
#: panels take most of the width, the data is fitted to the whole map.
_FIT_JS = """
window.addEventListener("load", function () {
  var map = %(map)s;
  map.options.zoomSnap = 0.25;
  var right = 0;
  document.querySelectorAll('.leaflet-control-layers-expanded, #legend').forEach(
    function (el) { right = Math.max(right, el.offsetWidth + 20); });
  if (right > map.getSize().x * 0.45) { right = 0; }
  map.fitBounds(%(bounds)s,
    {paddingTopLeft: [10, 10], paddingBottomRight: [right, 10], animate: false});
  map.getContainer().classList.add("fitted");  // for whoever waits for the first view
});
"""


def _inline_css(path: Path) -> str:
    import base64

    css = path.read_text(encoding="utf-8")
    images = path.parent / "images"
    if images.is_dir():
        for img in images.glob("*.png"):
            data = base64.b64encode(img.read_bytes()).decode()
            css = css.replace(f"images/{img.name}", f"data:image/png;base64,{data}")
    return css


def _self_contained(html: str) -> str:
    """Replace the script and style sheet links by the vendored files' contents."""
    import re

    def script(m):
        name = m.group(1).rsplit("/", 1)[-1]
        if name not in _VENDORED:
            raise ConfigError(f"maps: no vendored copy of {m.group(1)} to inline")
        return "<script>" + _VENDORED[name].read_text(encoding="utf-8") + "</script>"

    def style(m):
        name = m.group(1).rsplit("/", 1)[-1]
        if name not in _VENDORED:
            raise ConfigError(f"maps: no vendored copy of {m.group(1)} to inline")
        return "<style>" + _inline_css(_VENDORED[name]) + "</style>"

    html = re.sub(r'<script src="([^"]+)"></script>', script, html)
    return re.sub(r'<link rel="stylesheet" href="([^"]+)"\s*/?>', style, html)


def save_html(m, out: Path) -> Path:
    import folium

    if getattr(m, "td_bounds", None):
        fit = _FIT_JS % {"map": m.get_name(), "bounds": m.td_bounds}
        m.get_root().script.add_child(folium.Element(fit))
    html = _self_contained(m.get_root().render())
    return atomic_write(out, lambda p: p.write_text(html, encoding="utf-8"))


def fairshare_html(result, path: str | os.PathLike, *, lang: str = "nl", title: str = "") -> Path:
    """An interactive map of a fair-share result: areas by verdict, municipal borders, legend."""
    import folium

    t = text(lang)
    out = check_out(path, (".html",))
    areas = result.areas.to_crs(4326)
    lbm_col = next(c for c in areas.columns if c.startswith("lbm_"))
    w, s, e, n = areas.total_bounds
    m = folium_map((w, s, e, n))

    def style(feature):
        st = FAIRSHARE_STYLE[flag_state(feature["properties"]["vulnerable"])]
        return {"fillColor": st["fill"], "color": FAIRSHARE_EDGE, "weight": 0.8, "fillOpacity": 0.7}

    shown = areas[
        ["area_id", "municipality", "ses_woa", lbm_col, "vulnerable", "reason", "geometry"]
    ].copy()
    shown["vulnerable"] = [flag_state(v) for v in shown["vulnerable"]]
    shown[["ses_woa", lbm_col]] = shown[["ses_woa", lbm_col]].round(3)
    folium.GeoJson(
        shown,
        name=t["fs_title"],
        style_function=style,
        tooltip=folium.GeoJsonTooltip(
            ["area_id", "municipality", "ses_woa", lbm_col, "reason"],
            aliases=[t["area"], t["municipality"], t["ses"], t["lbm"], t["reason"]],
        ),
    ).add_to(m)
    if result.municipalities is not None:
        folium.GeoJson(
            result.municipalities.to_crs(4326),
            name=t["borders"],
            style_function=lambda f: {"fill": False, "color": "#222222", "weight": 2.5},
            tooltip=folium.GeoJsonTooltip(["municipality"], aliases=[t["municipality"]]),
        ).add_to(m)
    folium.LayerControl(collapsed=False).add_to(m)
    rows = "".join(
        f'<div><span style="display:inline-block;width:14px;height:14px;background:{st["fill"]};'
        f'border:1px solid #555;margin-right:6px"></span>{st["label"][lang]}</div>'
        for st in FAIRSHARE_STYLE.values()
    )
    ref = t.get(result.metadata.get("reference", ""), "")
    title = title or f"{t['fs_title']} — {result.metadata.get('study', '')}"
    legend = (
        '<div id="legend" style="position:fixed;bottom:30px;right:10px;z-index:9999;'
        "background:white;padding:8px 10px;border:1px solid #999;font:13px sans-serif;"
        'max-width:320px">'
        f"<b>{title}</b>{rows}"
        f'<div style="margin-top:4px;color:#555">{t["reference"]}: {ref}</div>'
        f'<div id="sources" style="margin-top:4px;color:#555">'
        f"{escape(fairshare_credits(lang))}</div></div>"
    )
    m.get_root().html.add_child(folium.Element(legend))
    return save_html(m, out)


_SWATCH = "display:inline-block;width:14px;height:14px;border:1px solid #555;margin-right:6px"
_HATCH = f"repeating-linear-gradient(45deg,{INSUFFICIENT_COLOUR} 0 3px,#fff 3px 6px)"


def legend_row(swatch_css: str, label: str) -> str:
    return f'<div><span style="{_SWATCH};{swatch_css}"></span>{label}</div>'


def legend_html(
    lang: str,
    title: str,
    *,
    zones: bool,
    note: str,
    sources: str,
    context: tuple = (),
    scan_layers: bool = True,
    extra: str = "",
    square_m: str | None = None,
) -> str:
    """The scan map's legend: classes (areas and grid alike), the grey states, lines.

    Also under the sites map (:mod:`~thuisdichtbij.outputs.sites_map`): without the
    scan's network and grid (``scan_layers`` false), with a row of its own (``extra``).
    """
    t, labels = text(lang), class_labels(lang)
    rows = "".join(legend_row(f"background:{c}", labels[k]) for k, c in CLASS_COLOURS.items())
    rows += legend_row(f"background:{_HATCH}", t["insufficient"])
    rows += legend_row(f"background:{SUPPRESSED}", t["suppressed"])
    if zones:
        rows += legend_row(f"border:3px solid {ZONE_COLOUR};background:none", t["zones"])
    if scan_layers:
        rows += legend_row(
            f"border:none;border-top:2px solid {NETWORK_COLOUR};height:0", t["network"]
        )
    for kind in context:
        rows += legend_row(f"background:{CONTEXT_COLOURS[kind]};border-color:#ccc", t[kind])
    rows += extra
    note_html = (
        f'<div id="data-note" style="margin-top:4px;color:#8a4b00">{note}</div>' if note else ""
    )
    return (
        '<div id="legend" style="position:fixed;bottom:30px;right:10px;z-index:9999;'
        "background:white;padding:8px 10px;border:1px solid #999;font:13px sans-serif;"
        'max-width:280px">'
        f"<b>{title}</b><div>{t['classes']}: {_what_areas(t, scan_layers, square_m)}"
        f"</div>{rows}{note_html}"
        f'<div style="margin-top:4px;color:#555">{sources}</div></div>'
    )


def _what_areas(t: dict, grid: bool, square_m: str | None) -> str:
    """What the coloured areas are: postcode areas, or the squares drawn around dwellings."""
    if square_m:
        what = t["squares"].format(m=square_m)
        return t["and_grid"].format(what=what) if grid else what
    return t["areas_and_grid" if grid else "areas_only"]


def _style_by_state(edge: str, weight: float, opacity: float):
    def style(feature):
        state = feature["properties"]["state"]
        st = {
            "fillColor": state_fill(state),
            "color": edge,
            "weight": weight,
            "fillOpacity": opacity,
        }
        if state == "insufficient":
            st.update({"color": INSUFFICIENT_STYLE["edge"], "dashArray": "4 3", "weight": 1})
        return st

    return style


def _with_states(frame, lang: str):
    """A copy in WGS84 with ``state`` (1-5, suppressed, insufficient) and ``klasse`` (its label)."""
    shown = frame.to_crs(4326)
    shown["state"] = area_states(shown)
    shown["klasse"] = [state_label(s, lang) for s in shown["state"]]
    # shown as the language writes numbers (a decimal comma in Dutch); '-' without a mean
    shown["score_mean"] = [
        "-" if v != v else decimal(round(float(v), 2), "g", lang) for v in shown["score_mean"]
    ]
    return shown


def _area_popups(shown, cfg, lang: str) -> list[str]:
    """Per area: its score, class and dwellings, and the mean points of each part.

    Each with the weight it counts for, safety too, so that they add up to the score.
    """
    t = text(lang)
    parts = [(c, indicator_label(cfg, c[4:], lang), cfg.weights[c[4:]])
             for c in shown.columns if c.startswith("pts_")]  # fmt: skip
    if "safety_pts" in shown:
        parts.append(("safety_pts", t["safety"], cfg.weights[SAFETY_ID]))

    def num(v) -> str:
        return "" if v != v else decimal(round(float(v), 2), "g", lang)

    out = []
    for _, a in shown.iterrows():
        body = "".join(
            f"<tr><td>{label}</td><td>{num(a[c])}</td><td>× {num(w)}</td></tr>"
            for c, label, w in parts
        )
        share = a.get("unscored_share")
        lost = (
            f"<br><i>{t['unscored_note'].format(pct=decimal(share, '.0%', lang))}</i>"
            if share == share and share
            else ""
        )
        out.append(
            f"<b>{a['area_id']}</b>: {t['score']} {a['score_mean']}, {a['klasse']}, "
            f"{t['dwellings_scored']} {a['n_dwellings']}{lost}"
            f"<table><tr><th></th><th>{t['points']}</th><th>{t['weight']}</th></tr>"
            f"{body}</table>"
        )
    return out


def area_layer(m, areas, cfg, lang: str) -> None:
    """Areas in the five classes; tooltip: score, class, dwellings; popup: points per indicator."""
    import folium

    t = text(lang)
    shown = _with_states(areas, lang)
    shown["popup"] = _area_popups(shown, cfg, lang)
    cols = ["area_id", "score_mean", "klasse", "n_dwellings", "popup", "state", "geometry"]
    folium.GeoJson(
        shown[cols],
        name=t["classes"],
        style_function=_style_by_state("#555555", 0.8, 0.6),
        tooltip=folium.GeoJsonTooltip(
            ["area_id", "score_mean", "klasse", "n_dwellings"],
            aliases=["", t["score"], t["classes"], t["dwellings_scored"]],
        ),
        popup=folium.GeoJsonPopup(["popup"], labels=False),
    ).add_to(m)


def _grid_layer(m, grid, lang: str) -> None:
    """The score grid, switched off at first, in the same classes and legend as the areas."""
    import folium

    t = text(lang)
    shown = _with_states(grid, lang)
    folium.GeoJson(
        shown[["cell_id", "score_mean", "klasse", "state", "geometry"]],
        name=t["grid"],
        show=False,
        style_function=_style_by_state("#ffffff", 0, 0.7),
        tooltip=folium.GeoJsonTooltip(
            ["cell_id", "score_mean", "klasse"], aliases=["", t["score"], t["classes"]]
        ),
    ).add_to(m)


def _sensitivity_layer(m, grid, lang: str, meta: dict) -> None:
    """Grid cells by their share of dwellings whose class is not robust (switched off)."""
    import folium

    cells = grid[grid["share_not_robust"] > 0].to_crs(4326)
    if cells.empty:  # every class is robust: nothing to show (folium needs a feature)
        return
    cells = cells[["cell_id", "share_not_robust", "geometry"]].copy()
    cells["share_not_robust"] = (100 * cells["share_not_robust"]).round(0)
    tol = meta.get("band_tolerance_m", "25")
    folium.GeoJson(
        cells,
        name=text(lang)["sensitivity"].replace("25 m", f"{tol} m"),
        show=False,
        style_function=lambda f: {
            "fillColor": "#6a3d9a",
            "weight": 0,
            "fillOpacity": 0.15 + 0.7 * f["properties"]["share_not_robust"] / 100,
        },
        tooltip=folium.GeoJsonTooltip(["cell_id", "share_not_robust"], aliases=["", "%"]),
    ).add_to(m)


def _network_layer(m, network, lang: str) -> None:
    """The walking network as grey lines in a pane under the classes: readable offline."""
    import folium
    import geopandas as gpd
    import shapely

    lines = shapely.set_precision(network.to_crs(4326).geometry.values, 1e-5)
    one = gpd.GeoDataFrame(geometry=[shapely.multilinestrings(lines)], crs=4326)
    folium.map.CustomPane("network", z_index=350, pointer_events=False).add_to(m)
    folium.GeoJson(
        one,
        name=text(lang)["network"],
        pane="network",
        interactive=False,
        style_function=lambda f: {"color": NETWORK_COLOUR, "weight": 1, "opacity": 0.9},
    ).add_to(m)


def _context_layer(m, layers: dict, lang: str) -> None:
    """Water and green as one switchable layer in a pane under the network and the classes."""
    import folium
    import geopandas as gpd
    import pandas as pd

    parts = [layers[k].to_crs(4326) for k in CONTEXT_COLOURS if layers.get(k) is not None]
    if not parts:
        return
    t = text(lang)
    shapes = gpd.GeoDataFrame(pd.concat(parts, ignore_index=True)[["kind", "geometry"]])
    folium.map.CustomPane("context", z_index=340, pointer_events=False).add_to(m)
    folium.GeoJson(
        shapes,
        name=f"{t['water']} / {t['green'].lower()}",
        pane="context",
        interactive=False,
        style_function=lambda f: {
            "fillColor": CONTEXT_COLOURS[f["properties"]["kind"]],
            "fillOpacity": 1,
            "stroke": False,
        },
    ).add_to(m)


#: Hides every zone label whose box meets one shown before it (labels in order of rank,
#: the largest zone first), again after each zoom; a hidden name still shows on hover.
_DECLUTTER_JS = """
window.addEventListener("load", function () {
  var map = %(map)s;
  function declutter() {
    var labels = Array.from(document.querySelectorAll(".zone-label"));
    labels.sort(function (a, b) { return a.dataset.rank - b.dataset.rank; });
    var shown = [];
    labels.forEach(function (el) {
      el.style.visibility = "visible";
      var r = el.getBoundingClientRect();
      var hit = r.width === 0 || shown.some(function (s) {
        return r.left < s.right + 2 && s.left < r.right + 2 &&
               r.top < s.bottom + 2 && s.top < r.bottom + 2;
      });
      if (hit) { el.style.visibility = "hidden"; } else { shown.push(r); }
    });
  }
  // once the markers have settled at the new zoom (measured: not yet at "zoomend")
  map.on("zoomend viewreset overlayadd", function () { setTimeout(declutter, 300); });
  declutter();
});
"""


def _zone_layer(m, zones, lang: str) -> None:
    """Zone outlines with their names, profiles on hover.

    Names are centred on a point inside their zone; where two would overlap, the larger
    zone's name is shown and the other hidden until a zoom gives it room.
    """
    import folium

    t = text(lang)
    zones = zones.to_crs(4326)
    zones = zones.assign(_a=zones.to_crs(3857).area).sort_values("_a", ascending=False)
    group = folium.FeatureGroup(name=t["zones"])
    folium.GeoJson(
        zones[["zone_id", "name", "n_dwellings", "profile", "geometry"]],
        style_function=lambda f: {"fill": False, "color": ZONE_COLOUR, "weight": 3},
        tooltip=folium.GeoJsonTooltip(
            ["name", "n_dwellings", "profile"], aliases=["", t["dwellings"], t["profile"]]
        ),
    ).add_to(group)
    # names over the amenity markers (600), under tooltips and popups (650, 700)
    folium.map.CustomPane("zone-labels", z_index=625, pointer_events=False).add_to(m)
    for rank, (_, z) in enumerate(zones.iterrows()):
        p = z.geometry.representative_point()
        folium.Marker(
            [p.y, p.x],
            interactive=False,
            pane="zone-labels",
            icon=folium.DivIcon(
                icon_size=(0, 0),
                icon_anchor=(0, 0),
                html=f'<div class="zone-label" data-rank="{rank}" style="font:bold 12px '
                f"sans-serif;color:{ZONE_COLOUR};white-space:nowrap;display:inline-block;"
                f'transform:translate(-50%,-50%);text-shadow:0 0 3px white">'
                f"{escape(str(z['name']))}</div>",
            ),
        ).add_to(group)
    group.add_to(m)
    m.get_root().script.add_child(folium.Element(_DECLUTTER_JS % {"map": m.get_name()}))


def _amenity_marker(a, colour: str, code: str, label: str):
    import folium

    return folium.Marker(
        [a.geometry.y, a.geometry.x],
        tooltip=f"{label}: {a['name'] if isinstance(a['name'], str) else a['kind']}",
        icon=folium.DivIcon(
            html=f'<div style="background:{colour};color:white;border-radius:50%;'
            f"width:22px;height:22px;font:bold 10px/22px sans-serif;text-align:center;"
            f'border:1px solid white">{code}</div>',
            icon_size=(22, 22),
            icon_anchor=(11, 11),
        ),
    )


def _amenity_layers(m, amenities, cfg, lang: str) -> None:
    """One switchable layer per sub-indicator, also when the data has none of it."""
    from folium.plugins import MarkerCluster

    t = text(lang)
    amen = amenities.to_crs(4326)
    for ind in cfg.indicator_ids:
        sub = amen[amen["indicator"] == ind]
        colour, code = INDICATOR_STYLE[ind]
        plural = indicator_plural(cfg, ind, lang)
        name = (
            f'<span style="color:{colour}">&#9679;</span> {plural} '
            f'<span class="n-in-data">({len(sub)} {t["in_data"]})</span>'
        )
        cluster = MarkerCluster(name=name, show=ind != "bus_stop" and len(sub) > 0)
        cluster.default_js = [("markerclusterjs", "leaflet.markercluster.js")]
        cluster.default_css = [
            ("markerclustercss", "MarkerCluster.css"),
            ("markerclusterdefaultcss", "MarkerCluster.Default.css"),
        ]
        label = indicator_label(cfg, ind, lang)
        for _, a in sub.iterrows():
            _amenity_marker(a, colour, code, label).add_to(cluster)
        cluster.add_to(m)


def scan_html(
    scan: str | os.PathLike, path: str | os.PathLike, *, lang: str = "nl", note: str | None = None
) -> Path:
    """An interactive map of a scan GeoPackage, in one self-contained HTML file.

    Layers, each switchable: water and green (when the scan has them) and the walking
    network (grey lines), under everything, so the map reads without internet; the areas
    in the five classes (popup: mean points per sub-indicator), the score grid in the same
    classes, the zones with their names, and one layer of amenities per sub-indicator
    (also those with none in the data). No marker per dwelling, so large scans stay
    smooth. ``note`` (default: the scan's
    :func:`~thuisdichtbij.outputs._mapkit.legend_note`) is shown under the legend.
    """
    import folium

    from ..config import load_config

    t = text(lang)
    out = check_out(path, (".html",))
    layers, meta = read_scan_for_maps(scan)
    cfg = load_config()
    m = folium_map(layers["areas"].to_crs(4326).total_bounds)
    _context_layer(m, layers, lang)
    if layers["network"] is not None:
        _network_layer(m, layers["network"], lang)
    area_layer(m, layers["areas"], cfg, lang)
    if layers["grid"] is not None:
        _grid_layer(m, layers["grid"], lang)
        if "share_not_robust" in layers["grid"]:
            _sensitivity_layer(m, layers["grid"], lang, meta)
    has_zones = layers["zones"] is not None and len(layers["zones"]) > 0
    if has_zones:
        _zone_layer(m, layers["zones"], lang)
    _amenity_layers(m, layers["amenities"], cfg, lang)
    folium.LayerControl(collapsed=False).add_to(m)
    title = scan_title(meta, lang)
    sources = f"{scan_credits(meta, lang)}. {t['scan_of']} {scan_date(meta)}."
    note = legend_note(meta, lang) if note is None else note
    context = tuple(k for k in CONTEXT_COLOURS if layers.get(k) is not None)
    legend = legend_html(
        lang,
        title,
        zones=has_zones,
        note=note,
        sources=sources,
        context=context,
        square_m=meta.get("areas_square_m"),
    )
    m.get_root().html.add_child(folium.Element(legend))
    return save_html(m, out)
