"""Interactive web maps (folium): one self-contained HTML file per map, Leaflet inlined.

Optional (``pip install 'thuisdichtbij[maps]'``); folium is imported only when a map is made.
"""

from __future__ import annotations

import os
from pathlib import Path

from ..errors import ConfigError
from ._mapkit import (
    CLASS_COLOURS,
    FAIRSHARE_STYLE,
    INDICATOR_STYLE,
    INSUFFICIENT_COLOUR,
    SUPPRESSED,
    atomic_write,
    check_out,
    class_labels,
    data_note,
    flag_state,
    indicator_label,
    insufficient,
    read_scan_for_maps,
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


def _folium_map(bounds_4326):
    """A folium map that needs only Leaflet (no jQuery, Bootstrap or icon fonts)."""
    import folium

    m = folium.Map(tiles="OpenStreetMap", control_scale=True)
    m.default_js = [("leaflet", "leaflet.js")]
    m.default_css = [("leaflet_css", "leaflet.css")]
    w, s_, e, n = bounds_4326
    m.fit_bounds([[s_, w], [n, e]])
    return m


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


def _save_html(m, out: Path) -> Path:
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
    m = _folium_map((w, s, e, n))

    def style(feature):
        st = FAIRSHARE_STYLE[flag_state(feature["properties"]["vulnerable"])]
        return {"fillColor": st["fill"], "color": "#555555", "weight": 0.8, "fillOpacity": 0.7}

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
        'background:white;padding:8px 10px;border:1px solid #999;font:13px sans-serif">'
        f"<b>{title}</b>{rows}"
        f'<div style="margin-top:4px;color:#555">{t["reference"]}: {ref}</div></div>'
    )
    m.get_root().html.add_child(folium.Element(legend))
    return _save_html(m, out)


def _legend_html(lang: str, title: str, extra: str = "") -> str:
    t, labels = text(lang), class_labels(lang)
    rows = "".join(
        f'<div><span style="display:inline-block;width:14px;height:14px;background:{c};'
        f'border:1px solid #555;margin-right:6px"></span>{labels[k]}</div>'
        for k, c in CLASS_COLOURS.items()
    )
    rows += (
        f'<div><span style="display:inline-block;width:14px;height:14px;background:{SUPPRESSED};'
        f'border:1px solid #555;margin-right:6px"></span>{t["suppressed"]}</div>'
        f'<div><span style="display:inline-block;width:14px;height:14px;'
        f"background:repeating-linear-gradient(45deg,{INSUFFICIENT_COLOUR} 0 3px,#fff 3px 6px);"
        f'border:1px dashed #333;margin-right:6px"></span>{t["insufficient"]}</div>'
    )
    return (
        '<div id="legend" style="position:fixed;bottom:30px;right:10px;z-index:9999;'
        'background:white;padding:8px 10px;border:1px solid #999;font:13px sans-serif">'
        f"<b>{title}</b><div>{t['classes']}</div>{rows}{extra}</div>"
    )


def scan_html(scan: str | os.PathLike, path: str | os.PathLike, *, lang: str = "nl") -> Path:
    """An interactive map of a scan GeoPackage, in one self-contained HTML file.

    Areas in the five classes (tooltip: mean score, class, dwellings; popup: mean points
    per sub-indicator), zones as outlines with their names and profiles, the score grid as
    a layer to switch on, and the amenities per sub-indicator as clustered layers. No
    marker per dwelling, so large scans stay smooth.
    """
    import folium
    from folium.plugins import MarkerCluster

    from ..config import load_config

    t, labels = text(lang), class_labels(lang)
    out = check_out(path, (".html",))
    layers, meta = read_scan_for_maps(scan)
    cfg = load_config()
    areas = layers["areas"].to_crs(4326)
    m = _folium_map(areas.total_bounds)

    def colour(props):
        if insufficient(props.get("data_status")):
            return INSUFFICIENT_COLOUR
        c = props.get("score_class")
        return CLASS_COLOURS.get(int(c), SUPPRESSED) if c is not None and c == c else SUPPRESSED

    pts_cols = [c for c in areas.columns if c.startswith("pts_")]
    shown = areas.copy()
    status = shown["data_status"] if "data_status" in shown else [None] * len(shown)
    shown["klasse"] = [
        t["insufficient"]
        if insufficient(s)
        else labels[int(c)]
        if c == c and c is not None
        else t["suppressed"]
        for c, s in zip(shown["score_class"], status)
    ]
    shown["score_mean"] = shown["score_mean"].round(2)
    popup_rows = []
    for _, a in shown.iterrows():
        body = "".join(
            f"<tr><td>{indicator_label(cfg, c[4:], lang)}</td>"
            f"<td>{'' if a[c] != a[c] else round(a[c], 2)}</td></tr>"
            for c in pts_cols
        )
        popup_rows.append(
            f"<b>{a['area_id']}</b>: {t['score']} {a['score_mean']}, {a['klasse']}, "
            f"{t['dwellings']} {a['n_dwellings']}<table><tr><th></th><th>{t['points']}</th></tr>"
            f"{body}</table>"
        )
    shown["popup"] = popup_rows
    area_layer = folium.GeoJson(
        shown[
            ["area_id", "score_mean", "klasse", "n_dwellings", "popup", "score_class", "geometry"]
            + [c for c in ("data_status",) if c in shown]
        ],
        name=t["classes"],
        style_function=lambda f: {
            "fillColor": colour(f["properties"]),
            "color": "#555555",
            "weight": 0.8,
            "fillOpacity": 0.65,
            **({"dashArray": "4 3"} if insufficient(f["properties"].get("data_status")) else {}),
        },
        tooltip=folium.GeoJsonTooltip(
            ["area_id", "score_mean", "klasse", "n_dwellings"],
            aliases=["", t["score"], t["classes"], t["dwellings"]],
        ),
        popup=folium.GeoJsonPopup(["popup"], labels=False),
    )
    area_layer.add_to(m)
    if layers["grid"] is not None:
        grid = layers["grid"].to_crs(4326)
        grid["score_mean"] = grid["score_mean"].round(2)
        folium.GeoJson(
            grid[
                ["cell_id", "score_mean", "score_class", "geometry"]
                + [c for c in ("data_status",) if c in grid]
            ],
            name=t["grid"],
            show=False,
            style_function=lambda f: {
                "fillColor": colour(f["properties"]),
                "weight": 0,
                "fillOpacity": 0.7,
            },
            tooltip=folium.GeoJsonTooltip(["cell_id", "score_mean"], aliases=["", t["score"]]),
        ).add_to(m)
    if layers["zones"] is not None and len(layers["zones"]):
        zones = layers["zones"].to_crs(4326)
        group = folium.FeatureGroup(name=t["zones"])
        folium.GeoJson(
            zones[["zone_id", "name", "n_dwellings", "profile", "geometry"]],
            style_function=lambda f: {"fill": False, "color": "#00441b", "weight": 3},
            tooltip=folium.GeoJsonTooltip(
                ["name", "n_dwellings", "profile"], aliases=["", t["dwellings"], t["profile"]]
            ),
        ).add_to(group)
        for _, z in zones.iterrows():
            p = z.geometry.representative_point()
            folium.Marker(
                [p.y, p.x],
                icon=folium.DivIcon(
                    html=f'<div class="zone-label" style="font:bold 12px sans-serif;color:#00441b;'
                    f'white-space:nowrap;text-shadow:0 0 3px white">{z["name"]}</div>'
                ),
            ).add_to(group)
        group.add_to(m)
    amen = layers["amenities"].to_crs(4326)
    for ind in cfg.indicator_ids:
        sub = amen[amen["indicator"] == ind]
        if sub.empty:
            continue
        colour_i, code = INDICATOR_STYLE[ind]
        label = cfg.indicator(ind).plural_nl if lang == "nl" else cfg.indicator(ind).plural_en
        cluster = MarkerCluster(name=f"{code} {label}", show=ind != "bus_stop")
        cluster.default_js = [("markerclusterjs", "leaflet.markercluster.js")]
        cluster.default_css = [
            ("markerclustercss", "MarkerCluster.css"),
            ("markerclusterdefaultcss", "MarkerCluster.Default.css"),
        ]
        for _, a in sub.iterrows():
            folium.Marker(
                [a.geometry.y, a.geometry.x],
                tooltip=f"{label}: {a['name'] if isinstance(a['name'], str) else a['kind']}",
                icon=folium.DivIcon(
                    html=f'<div style="background:{colour_i};color:white;border-radius:50%;'
                    f"width:22px;height:22px;font:bold 10px/22px sans-serif;text-align:center;"
                    f'border:1px solid white">{code}</div>',
                    icon_size=(22, 22),
                    icon_anchor=(11, 11),
                ),
            ).add_to(cluster)
        cluster.add_to(m)
    folium.LayerControl(collapsed=False).add_to(m)
    title = f"{t['scan_title']}: {meta.get('study', '')}"
    sources = meta.get("attribution") or t["scan_sources"]
    extra = f'<div style="margin-top:4px;color:#555;max-width:260px">{sources}</div>'
    note = data_note(meta, lang)
    if note:
        extra += (
            f'<div id="data-note" style="margin-top:4px;color:#8a4b00;max-width:260px">{note}</div>'
        )
    m.get_root().html.add_child(folium.Element(_legend_html(lang, title, extra)))
    return _save_html(m, out)
