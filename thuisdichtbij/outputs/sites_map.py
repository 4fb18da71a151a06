"""Maps of chosen sites (``thuisdichtbij site``): the areas in their classes, sites ranked.

Optional like the other maps (``pip install 'thuisdichtbij[maps]'``).
"""

from __future__ import annotations

import html
import os
from datetime import date
from pathlib import Path

from ._mapkit import (
    check_out,
    indicator_label,
    legend_note,
    read_scan_for_maps,
    scan_credits,
    text,
)
from .scanfile import read_scan_layer

__all__ = ["sites_png", "sites_html", "sites_figure"]

_SITE_COLOUR = "#6a3d9a"


def _gain(site, lang: str) -> str:
    """One site's line: its rank, its gain, and its street when it has a name."""
    name = site["street"]
    street = f" ({name})" if isinstance(name, str) and name else ""
    gain = f"{site['gain_dwellings']:.0f}"
    return text(lang)["sites_tip"].format(rank=site["rank"], gain=gain, street=street)


def _title(sites, layer: str, meta: dict, lang: str) -> str:
    from ..config import load_config

    key = layer.removeprefix("sites_")
    cfg = load_config()
    what = indicator_label(cfg, key, lang) if key in cfg.indicator_ids else key
    total = float(sites["gain_dwellings"].sum()) if len(sites) else 0.0
    return text(lang)["sites_title"].format(
        n=len(sites), what=what, study=meta.get("study", ""), gain=f"{total:.0f}"
    )


def _footer(meta: dict, lang: str) -> str:
    return f"{scan_credits(meta, lang)}. {text(lang)['sites_footer']}. {date.today().isoformat()}."


def _note(layer: str, meta: dict, lang: str) -> str:
    """The note under the legend: the scan's (as under its own map), then the sites' own.

    The sites' own is the data audit's finding on their sub-indicator and what it means for
    the gains (``<layer>.audit_warning_<lang>`` in ``run_metadata``, written by the siting
    when the audit finds the input thin); '' when neither has anything to say.
    """
    own = meta.get(f"{layer}.audit_warning_{lang}", "")
    return "\n".join(n for n in (legend_note(meta, lang), own) if n)


def sites_png(
    scan: str | os.PathLike, layer: str, path: str | os.PathLike, *, lang: str = "nl"
) -> Path:
    """A static map (PNG or PDF): the scan's areas by class, the sites numbered by rank."""
    from .static_map import save_figures

    out = check_out(path, (".png", ".pdf"))
    return save_figures([sites_figure(scan, layer, lang=lang)], out)


def sites_figure(scan: str | os.PathLike, layer: str, *, lang: str = "nl"):
    """The figure :func:`sites_png` saves."""
    from matplotlib.lines import Line2D

    from .static_map import draw_classes, draw_context, panel, plan_page, sheet

    layers, meta = read_scan_for_maps(scan)
    sites = read_scan_layer(scan, layer)
    t = text(lang)
    # each site's gain listed under the legend, a line each (on the map, beside markers a
    # street apart, the numbers covered each other), after what the data leaves out
    gains = "\n".join(_gain(s, lang) for _, s in sites.iterrows())
    note = "\n".join(n for n in (_note(layer, meta, lang), gains) if n)
    page = plan_page(layers["areas"].total_bounds, note=note)
    fig, ax = sheet(page, _title(sites, layer, meta, lang))
    handles = draw_classes(ax, layers["areas"], lang) + draw_context(ax, layers, t)
    handles.append(
        Line2D([], [], marker="o", linestyle="", markersize=10, markerfacecolor=_SITE_COLOUR,
               markeredgecolor="white", label=t["site"])
    )  # fmt: skip
    sites.plot(ax=ax, color=_SITE_COLOUR, markersize=160, edgecolor="white", zorder=5)
    for _, s in sites.iterrows():
        xy = (s.geometry.x, s.geometry.y)
        ax.annotate(
            str(s["rank"]),
            xy,
            ha="center",
            va="center",
            color="white",
            fontsize=9,
            weight="bold",
            zorder=6,
        )
    panel(fig, page, handles, title=t["classes"], note=note, footer=_footer(meta, lang))
    return fig


def sites_html(
    scan: str | os.PathLike, layer: str, path: str | os.PathLike, *, lang: str = "nl"
) -> Path:
    """An interactive map (one self-contained HTML file) of the areas and the ranked sites.

    The areas as on the scan's web map (classes, grey states, tooltips, the same legend),
    the sites numbered by rank over them.
    """
    import folium

    from ..config import load_config
    from .web_map import area_layer, folium_map, legend_html, legend_row, save_html

    out = check_out(path, (".html",))
    t = text(lang)
    layers, meta = read_scan_for_maps(scan)
    sites = read_scan_layer(scan, layer).to_crs(4326)
    m = folium_map(layers["areas"].to_crs(4326).total_bounds)
    area_layer(m, layers["areas"], load_config(), lang)
    for _, s in sites.iterrows():
        folium.CircleMarker(
            [s.geometry.y, s.geometry.x],
            radius=10,
            color="white",
            fill=True,
            fill_color=_SITE_COLOUR,
            fill_opacity=0.95,
            tooltip=_gain(s, lang),
        ).add_to(m)
    title = _title(sites, layer, meta, lang)
    m.get_root().html.add_child(
        folium.Element(
            f"<div style='position:fixed;top:8px;left:60px;"
            f"z-index:1000;background:white;padding:4px'>{html.escape(title)}</div>"
        )
    )
    site_row = legend_row(f"background:{_SITE_COLOUR};border-radius:50%", t["site"])
    legend = legend_html(
        lang,
        html.escape(title),
        zones=False,
        note=html.escape(_note(layer, meta, lang)).replace("\n", "<br>"),
        sources=_footer(meta, lang),
        scan_layers=False,
        extra=site_row,
        square_m=meta.get("areas_square_m"),
    )

    m.get_root().html.add_child(folium.Element(legend))
    return save_html(m, out)
