"""Maps in the house style: Dutch labels by default, the same colours everywhere.

Interactive maps with folium, static ones (PNG, PDF) with matplotlib; both are optional
(``pip install 'thuisdichtbij[maps]'``) and imported only when a map is made.
"""

from __future__ import annotations

import os
import tempfile
from datetime import date
from pathlib import Path

import geopandas as gpd
import pandas as pd

from .errors import ConfigError

__all__ = [
    "fairshare_html",
    "fairshare_png",
    "scan_html",
    "scan_static",
    "grid_tif",
    "CLASS_COLOURS",
]

#: Classes 1-5, red (strongly below average) to green (strongly above).
CLASS_COLOURS = {1: "#d7191c", 2: "#fdae61", 3: "#ffffbf", 4: "#a6d96a", 5: "#1a9641"}

_FAIRSHARE_STYLE = {
    True: {"fill": "#d6604d", "label": {"nl": "Kwetsbaar", "en": "Vulnerable"}},
    False: {"fill": "#f4f4f4", "label": {"nl": "Niet kwetsbaar", "en": "Not vulnerable"}},
    None: {
        "fill": "#bdbdbd",
        "label": {"nl": "Onbekend (score ontbreekt)", "en": "Unknown (score missing)"},
    },
}
_TEXT = {
    "nl": {
        "fs_title": "Fair share: gebieden die al kwetsbaar zijn",
        "area": "Postcodegebied",
        "municipality": "Gemeente",
        "ses": "SES-WOA",
        "lbm": "Leefbaarometer",
        "reason": "Oordeel",
        "sources": "Bronnen: CBS SES-WOA, Leefbaarometer 3.0 (BZK), CBS postcodegebieden en "
        "gemeentegrenzen",
        "made": "Gemaakt met thuisdichtbij op",
        "borders": "Gemeentegrens",
        "reference": "Referentie",
        "national": "landelijk gemiddelde",
        "scan_title": "Thuis en dichtbij-scan",
        "classes": "Klasse (relatief)",
        "zones": "Woonzorgzones",
        "grid": "Scoreraster (100 m)",
        "score": "Gemiddelde score",
        "dwellings": "Woningen",
        "suppressed": "Te weinig woningen (< 5)",
        "scan_sources": "Bronnen: OpenStreetMap-bijdragers (ODbL), CBS, Leefbaarometer 3.0 (BZK)",
        "points": "gemiddelde punten",
        "profile": "Voorzieningen",
        "region": "gemiddelde van de regio (gewogen naar huishoudens)",
    },
    "en": {
        "fs_title": "Fair share: areas that are already vulnerable",
        "area": "Postcode area",
        "municipality": "Municipality",
        "ses": "SES-WOA",
        "lbm": "Leefbaarometer",
        "reason": "Finding",
        "sources": "Sources: CBS SES-WOA, Leefbaarometer 3.0 (BZK), CBS postcode areas and "
        "municipalities",
        "made": "Made with thuisdichtbij on",
        "borders": "Municipal border",
        "reference": "Reference",
        "national": "national average",
        "scan_title": "Thuis en dichtbij scan",
        "classes": "Class (relative)",
        "zones": "Housing-with-care zones",
        "grid": "Score grid (100 m)",
        "score": "Mean score",
        "dwellings": "Dwellings",
        "suppressed": "Too few dwellings (< 5)",
        "scan_sources": "Sources: OpenStreetMap contributors (ODbL), CBS, Leefbaarometer 3.0 (BZK)",
        "points": "mean points",
        "profile": "Amenities",
        "region": "mean of the region (weighted by households)",
    },
}


_STATIC = Path(__file__).with_name("static")
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
    return _atomic_write(out, lambda p: p.write_text(html, encoding="utf-8"))


def _text(lang: str) -> dict[str, str]:
    if lang not in _TEXT:
        raise ConfigError(f"maps: language {lang!r} is not available; use 'nl' or 'en'")
    return _TEXT[lang]


def _atomic_write(path: Path, write) -> Path:
    """Call ``write(tmp_path)`` and move the result to ``path``."""
    fd, tmp = tempfile.mkstemp(prefix=f".{path.stem}-", suffix=path.suffix, dir=path.parent or ".")
    os.close(fd)
    try:
        write(Path(tmp))
        os.chmod(tmp, 0o666 & ~_umask())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def _check_out(path: str | os.PathLike, suffixes: tuple[str, ...]) -> Path:
    p = Path(path)
    if p.suffix.lower() not in suffixes:
        raise ConfigError(f"maps: {p} must end in {' or '.join(suffixes)}")
    if not p.parent.exists():
        raise ConfigError(f"maps: the folder {p.parent} does not exist; create it first")
    return p


def _state(v) -> bool | None:
    """A nullable flag as True, False or None (unknown)."""
    return None if pd.isna(v) else bool(v)


def fairshare_html(result, path: str | os.PathLike, *, lang: str = "nl", title: str = "") -> Path:
    """An interactive map of a fair-share result: areas by verdict, municipal borders, legend."""
    import folium

    t = _text(lang)
    out = _check_out(path, (".html",))
    areas = result.areas.to_crs(4326)
    lbm_col = next(c for c in areas.columns if c.startswith("lbm_"))
    w, s, e, n = areas.total_bounds
    m = _folium_map((w, s, e, n))

    def style(feature):
        st = _FAIRSHARE_STYLE[_state(feature["properties"]["vulnerable"])]
        return {"fillColor": st["fill"], "color": "#555555", "weight": 0.8, "fillOpacity": 0.7}

    shown = areas[
        ["area_id", "municipality", "ses_woa", lbm_col, "vulnerable", "reason", "geometry"]
    ].copy()
    shown["vulnerable"] = [_state(v) for v in shown["vulnerable"]]
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
        for st in _FAIRSHARE_STYLE.values()
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


def _scale_bar(ax, length_m: float) -> None:
    x0, x1 = ax.get_xlim()
    y0, y1 = ax.get_ylim()
    x, y = x0 + 0.05 * (x1 - x0), y0 + 0.05 * (y1 - y0)
    ax.plot([x, x + length_m], [y, y], color="black", lw=3, solid_capstyle="butt")
    label = f"{length_m / 1000:g} km" if length_m >= 1000 else f"{length_m:g} m"
    ax.text(x + length_m / 2, y + 0.012 * (y1 - y0), label, ha="center", va="bottom", fontsize=8)


def _north_arrow(ax) -> None:
    ax.annotate(
        "N",
        xy=(0.95, 0.93),
        xytext=(0.95, 0.83),
        xycoords="axes fraction",
        ha="center",
        va="center",
        fontsize=11,
        fontweight="bold",
        arrowprops={"facecolor": "black", "width": 4, "headwidth": 10},
    )


def fairshare_png(result, path: str | os.PathLike, *, lang: str = "nl", title: str = "") -> Path:
    """A static map (PNG or PDF, A4 landscape) of a fair-share result, for reports."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.patches import Patch

    t = _text(lang)
    out = _check_out(path, (".png", ".pdf"))
    areas: gpd.GeoDataFrame = result.areas
    fig, ax = plt.subplots(figsize=(11.69, 8.27))
    for state, st in _FAIRSHARE_STYLE.items():
        sel = areas[[_state(v) is state for v in areas["vulnerable"]]]
        if len(sel):
            sel.plot(
                ax=ax,
                facecolor=st["fill"],
                edgecolor="#666666",
                linewidth=0.5,
                hatch="///" if state is True else None,
            )
    if result.municipalities is not None:
        result.municipalities.boundary.plot(ax=ax, color="#111111", linewidth=1.6)
        _label_shapes(ax, result.municipalities, "municipality", colour="#111111", size=9)
    handles = [
        Patch(
            facecolor=st["fill"],
            edgecolor="#666666",
            hatch="///" if s is True else None,
            label=st["label"][lang],
        )
        for s, st in _FAIRSHARE_STYLE.items()
    ]
    handles.append(Patch(facecolor="none", edgecolor="#111111", linewidth=1.6, label=t["borders"]))
    ax.legend(handles=handles, loc="lower right", fontsize=9, frameon=True)
    ref = t.get(result.metadata.get("reference", ""), "")
    _static_frame(
        ax,
        fig,
        title or f"{t['fs_title']} — {result.metadata.get('study', '')}",
        f"{t['sources']}. {t['reference']}: {ref}. {t['made']} {date.today().isoformat()}.",
    )
    return _save_figure(fig, out)


# --- the scan's maps -------------------------------------------------------------------------

_SUPPRESSED = "#d9d9d9"
#: A colour and a two-letter code per sub-indicator, for the amenity markers.
INDICATOR_STYLE = {
    "pharmacy": ("#1b9e77", "Ap"),
    "gp": ("#d95f02", "Hu"),
    "physio": ("#7570b3", "Fy"),
    "community": ("#e7298a", "Bc"),
    "supermarket": ("#66a61e", "Su"),
    "drugstore": ("#e6ab02", "Dr"),
    "hairdresser": ("#a6761d", "Ka"),
    "culture": ("#1f78b4", "Cu"),
    "bus_stop": ("#444444", "Bh"),
}


def _class_labels(lang: str) -> dict[int, str]:
    from .score import CLASS_LABELS_EN, CLASS_LABELS_NL

    return CLASS_LABELS_NL if lang == "nl" else CLASS_LABELS_EN


def _read_scan_for_maps(scan):
    from .scanfile import read_metadata, read_scan_layer, scan_layers

    names = scan_layers(scan)
    layers = {n: read_scan_layer(scan, n) for n in ("areas", "amenities") if n in names}
    for n in ("zones", "grid"):
        layers[n] = read_scan_layer(scan, n) if n in names else None
    return layers, read_metadata(scan)


def _indicator_label(cfg, key: str, lang: str) -> str:
    if key not in cfg.indicator_ids:
        return key  # safety
    ind = cfg.indicator(key)
    return ind.label_nl if lang == "nl" else ind.label_en


def _legend_html(lang: str, title: str, extra: str = "") -> str:
    t, labels = _text(lang), _class_labels(lang)
    rows = "".join(
        f'<div><span style="display:inline-block;width:14px;height:14px;background:{c};'
        f'border:1px solid #555;margin-right:6px"></span>{labels[k]}</div>'
        for k, c in CLASS_COLOURS.items()
    )
    rows += (
        f'<div><span style="display:inline-block;width:14px;height:14px;background:{_SUPPRESSED};'
        f'border:1px solid #555;margin-right:6px"></span>{t["suppressed"]}</div>'
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

    from .config import load_config

    t, labels = _text(lang), _class_labels(lang)
    out = _check_out(path, (".html",))
    layers, meta = _read_scan_for_maps(scan)
    cfg = load_config()
    areas = layers["areas"].to_crs(4326)
    m = _folium_map(areas.total_bounds)

    def colour(props):
        c = props.get("score_class")
        return CLASS_COLOURS.get(int(c), _SUPPRESSED) if c is not None and c == c else _SUPPRESSED

    pts_cols = [c for c in areas.columns if c.startswith("pts_")]
    shown = areas.copy()
    shown["klasse"] = [
        labels[int(c)] if c == c and c is not None else t["suppressed"]
        for c in shown["score_class"]
    ]
    shown["score_mean"] = shown["score_mean"].round(2)
    popup_rows = []
    for _, a in shown.iterrows():
        body = "".join(
            f"<tr><td>{_indicator_label(cfg, c[4:], lang)}</td>"
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
        ],
        name=t["classes"],
        style_function=lambda f: {
            "fillColor": colour(f["properties"]),
            "color": "#555555",
            "weight": 0.8,
            "fillOpacity": 0.65,
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
            grid[["cell_id", "score_mean", "score_class", "geometry"]],
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
    m.get_root().html.add_child(folium.Element(_legend_html(lang, title, extra)))
    return _save_html(m, out)


def _label_shapes(ax, shapes, field: str, *, colour: str, size: int) -> None:
    """Write each shape's ``field`` at a point inside it, on a light box."""
    for _, row in shapes.iterrows():
        p = row.geometry.representative_point()
        ax.text(
            p.x,
            p.y,
            row[field],
            fontsize=size,
            ha="center",
            color=colour,
            weight="bold",
            bbox={"facecolor": "white", "alpha": 0.65, "edgecolor": "none", "pad": 0.8},
        )


def _save_figure(fig, out: Path) -> Path:
    import matplotlib.pyplot as plt

    try:
        return _atomic_write(out, lambda p: fig.savefig(p, dpi=150, format=out.suffix[1:]))
    finally:
        plt.close(fig)


def _static_frame(ax, fig, title: str, footer: str) -> None:
    ax.set_axis_off()
    ax.set_aspect("equal")
    ax.set_title(title, fontsize=15, loc="left")
    width = ax.get_xlim()[1] - ax.get_xlim()[0]
    _scale_bar(ax, 1000 * max(1, round(width / 5000)))
    _north_arrow(ax)
    fig.text(0.01, 0.01, footer, fontsize=7, color="#444444")
    fig.tight_layout()


def scan_static(scan: str | os.PathLike, path: str | os.PathLike, *, lang: str = "nl") -> Path:
    """A static map (PNG or PDF, A4 landscape) of a scan: classes, zones, legend, scale bar."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.patches import Patch

    t, labels = _text(lang), _class_labels(lang)
    out = _check_out(path, (".png", ".pdf"))
    layers, meta = _read_scan_for_maps(scan)
    areas = layers["areas"]
    fig, ax = plt.subplots(figsize=(11.69, 8.27))
    cls = areas["score_class"]
    colours = [CLASS_COLOURS.get(int(c), _SUPPRESSED) if c == c else _SUPPRESSED for c in cls]
    areas.plot(ax=ax, color=colours, edgecolor="#666666", linewidth=0.5)
    handles = [
        Patch(facecolor=c, edgecolor="#666666", label=labels[k]) for k, c in CLASS_COLOURS.items()
    ]
    handles.append(Patch(facecolor=_SUPPRESSED, edgecolor="#666666", label=t["suppressed"]))
    zones = layers["zones"]
    if zones is not None and len(zones):
        zones.boundary.plot(ax=ax, color="#00441b", linewidth=2)
        _label_shapes(ax, zones, "name", colour="#00441b", size=7)
        handles.append(Patch(facecolor="none", edgecolor="#00441b", linewidth=2, label=t["zones"]))
    ax.legend(handles=handles, loc="lower right", fontsize=9, title=t["classes"], frameon=True)
    title = f"{t['scan_title']}: {meta.get('study', '')}"
    when = meta.get("finished_utc", "")[:10]
    sources = meta.get("attribution") or t["scan_sources"]
    footer = (
        f"{sources}. Scan {when}, thuisdichtbij {meta.get('package_version', '')}; "
        f"{t['made']} {date.today().isoformat()}."
    )
    _static_frame(ax, fig, title, footer)
    return _save_figure(fig, out)


def grid_tif(scan: str | os.PathLike, path: str | os.PathLike) -> Path:
    """The score grid as a GeoTIFF: band 1 mean score (float32), band 2 class (uint8).

    Empty and suppressed cells are nodata (-9999 and 0). Cells align with the grid's own
    multiples, in the scan's CRS.
    """
    import numpy as np
    import rasterio
    from rasterio.transform import from_origin

    from .scanfile import read_metadata, read_scan_layer, require_layer

    out = _check_out(path, (".tif", ".tiff"))
    require_layer(scan, "grid", what="maps")
    grid = read_scan_layer(scan, "grid")
    size = float(read_metadata(scan).get("grid_cell_m", 100))
    b = grid.geometry.bounds
    x0, y1 = b["minx"].min(), b["maxy"].max()
    cols = np.round((b["minx"] - x0) / size).astype(int).to_numpy()
    rows = np.round((y1 - b["maxy"]) / size).astype(int).to_numpy()
    shape = (rows.max() + 1, cols.max() + 1)
    score = np.full(shape, -9999.0, dtype="float32")
    klass = np.zeros(shape, dtype="uint8")
    ok = grid["score_mean"].notna().to_numpy()
    score[rows[ok], cols[ok]] = grid["score_mean"].to_numpy()[ok]
    klass[rows[ok], cols[ok]] = grid["score_class"].fillna(0).astype(int).to_numpy()[ok]
    profile = {
        "driver": "GTiff",
        "height": shape[0],
        "width": shape[1],
        "count": 2,
        "dtype": "float32",
        "crs": grid.crs.to_wkt(),
        "transform": from_origin(x0, y1, size, size),
        "nodata": -9999.0,
        "compress": "deflate",
    }

    def write(p):
        with rasterio.open(p, "w", **profile) as dst:
            dst.write(score, 1)
            dst.write(klass.astype("float32"), 2)
            dst.set_band_description(1, "score_mean")
            dst.set_band_description(2, "score_class (0 = none)")

    return _atomic_write(out, write)
