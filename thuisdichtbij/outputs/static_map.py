"""Static maps for reports (matplotlib): PNG or PDF on A4.

The scan map shows the classes over the walking network and the scan's outline, the
zones with labels that never overlap, and beside (or below) the map the legend, a note,
the scale bar and the north arrow, so nothing covers the city. A PDF has a second page:
one small map per sub-indicator's mean points, which answers "why is this area low?".

Optional (``pip install 'thuisdichtbij[maps]'``); matplotlib is imported only when a map is made.
"""

from __future__ import annotations

import os
import textwrap
from pathlib import Path

import geopandas as gpd

from .._text import decimal
from ._labels import place_labels
from ._mapkit import (
    CLASS_COLOURS,
    CONTEXT_COLOURS,
    FAIRSHARE_EDGE,
    FAIRSHARE_STYLE,
    INSUFFICIENT_STYLE,
    NETWORK_COLOUR,
    SUPPRESSED,
    ZONE_COLOUR,
    area_states,
    atomic_write,
    check_out,
    fairshare_credits,
    flag_state,
    insufficient,
    legend_note,
    read_scan_for_maps,
    scan_credits,
    scan_date,
    scan_title,
    state_label,
    text,
)
from ._page import A4_IN, NOTE_PT, chars_in, note_width_in, plan_page, wrap_note

__all__ = ["fairshare_png", "indicators_figure", "scan_figure", "scan_static"]


def _pyplot():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def sheet(page, title: str):
    """A figure of the page's size with the map frame in place and the title above it."""
    fig = _pyplot().figure(figsize=page.size_in)
    ax = fig.add_axes(page.frac(page.map_in))
    ax.set_axis_off()
    x0, y0, x1, y1 = page.extent
    ax.set_xlim(x0, x1)
    ax.set_ylim(y0, y1)
    ax.set_aspect("equal", adjustable="datalim")
    top = (page.map_in[1] + page.map_in[3]) / page.size_in[1]
    # one line at 15 pt when it fits over the map, else two or more at 12 pt
    size = 15 if len(title) <= chars_in(page.map_in[2], 15) else 12
    fig.text(
        page.map_in[0] / page.size_in[0],
        top + 0.012,
        textwrap.fill(title, chars_in(page.map_in[2], size)),
        fontsize=size,
        va="bottom",
        gid="title",
    )
    return fig, ax


def _fill_style(state) -> dict:
    if state == "insufficient":
        return {
            "facecolor": INSUFFICIENT_STYLE["fill"],
            "edgecolor": INSUFFICIENT_STYLE["edge"],
            "hatch": INSUFFICIENT_STYLE["hatch"],
        }
    colour = SUPPRESSED if state == "suppressed" else CLASS_COLOURS[state]
    return {"facecolor": colour, "edgecolor": "#666666"}


def draw_classes(ax, shapes, lang: str) -> list:
    """Fill shapes by class state; legend handles for the five classes and the states present."""
    from matplotlib.patches import Patch

    states = area_states(shapes)
    for state in dict.fromkeys(states):
        sel = shapes[[s == state for s in states]]
        sel.plot(ax=ax, linewidth=0.5, zorder=1, **_fill_style(state))
    shown = [*CLASS_COLOURS, *(s for s in ("insufficient", "suppressed") if s in states)]
    return [Patch(label=state_label(s, lang), **_fill_style(s)) for s in shown]


#: How the context is drawn over the class fill: nobody lives on water, so it covers the
#: classes in light blue; green is a light dotted texture that leaves the class colour seen
#: (and a light green fill under the classes, seen beyond the scanned areas).
_CONTEXT_STYLE = {
    "green": {"facecolor": "none", "edgecolor": "#74c476", "hatch": "...", "linewidth": 0},
    "water": {"facecolor": CONTEXT_COLOURS["water"], "edgecolor": "none", "linewidth": 0},
}


def draw_context(ax, layers: dict, t: dict) -> list:
    """Green and water, the walking network and the scan's outline, over the classes."""
    from matplotlib.lines import Line2D
    from matplotlib.patches import Patch

    handles = []
    for name, style in _CONTEXT_STYLE.items():
        if layers.get(name) is not None and len(layers[name]):
            if name == "green":
                layers[name].plot(ax=ax, zorder=0, color=CONTEXT_COLOURS[name], linewidth=0)
            layers[name].plot(ax=ax, zorder=2, gid=f"context-{name}", **style)
            swatch = {"facecolor": CONTEXT_COLOURS[name], "edgecolor": "#999999", "linewidth": 0.5}
            handles.append(Patch(label=t[name], hatch=style.get("hatch"), **swatch))
    net = layers.get("network")
    if net is not None and len(net):
        net.plot(ax=ax, color=NETWORK_COLOUR, linewidth=0.25, alpha=0.8, zorder=3)
        handles.append(Line2D([], [], color=NETWORK_COLOUR, linewidth=0.8, label=t["network"]))
    _outline(layers["areas"]).plot(ax=ax, color="#222222", linewidth=1.4, zorder=4)
    handles.append(Line2D([], [], color="#222222", linewidth=1.4, label=t["outline"]))
    return handles


def _outline(areas) -> gpd.GeoSeries:
    """The outer edge of the areas, without the slivers between neighbouring polygons."""
    edge = areas.geometry.union_all().buffer(5).buffer(-5)
    return gpd.GeoSeries([edge], crs=areas.crs).boundary


def _draw_zones(ax, zones, t: dict) -> list:
    """Zone outlines and their names, placed without overlaps (largest zone first)."""
    from matplotlib.patches import Patch

    zones.boundary.plot(ax=ax, color=ZONE_COLOUR, linewidth=1.8, zorder=5)
    order = zones.assign(_a=zones.area).sort_values("_a", ascending=False)
    anchors = [_anchor(g) for g in order.geometry]
    place_labels(ax, anchors, list(order["name"]), colour=ZONE_COLOUR)
    return [Patch(facecolor="none", edgecolor=ZONE_COLOUR, linewidth=1.8, label=t["zones"])]


def _anchor(geom) -> tuple[float, float]:
    parts = getattr(geom, "geoms", [geom])
    p = max(parts, key=lambda g: g.area).representative_point()
    return p.x, p.y


_NICE_M = (10, 20, 25, 50, 100, 200, 250, 500, 1000, 2000, 2500, 5000, 10000, 20000, 50000)
#: Paper the scale bar may take (inches): it stops short of the north arrow beside it.
_SCALE_BAR_MAX_IN = 1.5
#: Paper between the scale bar's start and the north arrow (inches).
_ARROW_OFFSET_IN = 1.7


def _nice_length(max_m: float) -> float:
    """The longest round length up to ``max_m`` (the shortest one when none fits)."""
    fits = [step for step in _NICE_M if step <= max_m]
    return float(fits[-1] if fits else _NICE_M[0])


def _scale_bar(fig, page, x_in: float, y_in: float) -> None:
    """A scale bar drawn on the paper beside the map, at the map's own scale."""
    from matplotlib.lines import Line2D

    length_m = _nice_length(_SCALE_BAR_MAX_IN / page.in_per_unit)
    w, h = page.size_in
    x1 = x_in + length_m * page.in_per_unit
    fig.add_artist(
        Line2D(
            [x_in / w, x1 / w],
            [y_in / h] * 2,
            color="black",
            lw=3,
            solid_capstyle="butt",
            transform=fig.transFigure,
            gid="scale-bar",
        )
    )
    label = f"{length_m / 1000:g} km" if length_m >= 1000 else f"{length_m:g} m"
    fig.text(
        (x_in + x1) / 2 / w,
        (y_in + 0.06) / h,
        label,
        ha="center",
        va="bottom",
        fontsize=8,
        gid="scale-bar",
    )


def _north_arrow(fig, page, x_in: float, y_in: float) -> None:
    w, h = page.size_in
    fig.text(
        x_in / w,
        (y_in + 0.5) / h,
        "N",
        ha="center",
        va="bottom",
        fontsize=11,
        fontweight="bold",
        gid="north-arrow",
    )
    arrow = _arrow(fig, x_in / w, y_in / h, 0.45 / h)
    arrow.set_gid("north-arrow")
    fig.patches.append(arrow)


def _arrow(fig, x: float, y: float, dy: float):
    from matplotlib.patches import FancyArrow

    return FancyArrow(
        x,
        y,
        0,
        dy,
        width=0.004,
        head_width=0.014,
        head_length=0.02,
        length_includes_head=True,
        color="black",
        transform=fig.transFigure,
    )


def panel(fig, page, handles: list, *, title: str, note: str, footer: str) -> None:
    """Legend and note at the top (or left) of the panel; scale bar and north arrow after."""
    px, py, pw, ph = page.panel_in
    w, h = page.size_in
    ncol = 1 if page.side == "right" else 2
    leg = fig.legend(
        handles=handles,
        loc="upper left",
        bbox_to_anchor=(px / w, (py + ph) / h),
        fontsize=8.5,
        title=title,
        title_fontsize=9,
        frameon=False,
        ncol=ncol,
        alignment="left",
    )
    renderer = fig.canvas.get_renderer()
    box = leg.get_window_extent(renderer).transformed(fig.dpi_scale_trans.inverted())
    note_xy = (px + 0.05, box.y0 - 0.05)
    tools = (px + 0.15, py + 0.25) if page.side == "right" else (px + pw - 1.9, py + 0.35)
    sources = _footer_text(fig, page.map_in[0] / w, 0.12 / h, footer)
    _scale_bar(fig, page, *tools)
    _north_arrow(fig, page, tools[0] + _ARROW_OFFSET_IN, tools[1] - 0.05)
    if note:
        # as wide as the panel leaves it: beside the scale bar when that sits to its right;
        # above the sources, and in a side panel above the scale bar and arrow under it too
        room = note_width_in(page.side, pw)
        below = [sources] + (_tools(fig) if page.side == "right" else [])
        floor = max(a.get_window_extent(renderer).y1 for a in below) + 0.05 * fig.dpi
        _note_text(fig, note, (note_xy[0] / w, note_xy[1] / h), room, floor)


def _tools(fig) -> list:
    """The scale bar's and north arrow's artists (lines, texts, the arrow)."""
    every = [*fig.texts, *fig.artists, *fig.patches]
    return [a for a in every if a.get_gid() in ("scale-bar", "north-arrow")]


#: Font sizes the note under the legend may take, largest first, to keep off the sources:
#: the page plan makes room for a long note (``plan_page(note=)``), and a legend taller
#: than it reckons with still shrinks the letters rather than cover the sources line.
_NOTE_POINTS = (NOTE_PT, 7.5, 7.0, 6.5, 6.0)


def _note_text(fig, note: str, xy: tuple[float, float], room_in: float, floor_px: float):
    """The note, wrapped to ``room_in`` inches, in the largest size that fits.

    It must end above ``floor_px``, the sources line's top: a long note ran into it on
    portrait pages. The smallest size is kept whatever it reaches.
    """
    renderer = fig.canvas.get_renderer()
    for points in _NOTE_POINTS:
        wrapped = wrap_note(note, room_in, points)
        text = fig.text(*xy, wrapped, fontsize=points, va="top", color="#333333")
        text.set_gid("legend-note")
        if text.get_window_extent(renderer).y0 >= floor_px or points == _NOTE_POINTS[-1]:
            return text
        text.remove()
    return None


def _footer_text(fig, x: float, y: float, footer: str):
    """The sources line at the foot of the page, wrapped so it never runs off the paper."""
    w_in = fig.get_size_inches()[0] * (1 - 2 * x)
    return fig.text(
        x,
        y,
        textwrap.fill(footer, chars_in(w_in, 7)),
        fontsize=7,
        color="#444444",
        va="bottom",
        gid="sources",
    )


def _footer(meta: dict, lang: str) -> str:
    version = meta.get("package_version", "")
    scan_of = text(lang)["scan_of"]
    return f"{scan_credits(meta, lang)}. {scan_of} {scan_date(meta)}, thuisdichtbij {version}."


def scan_figure(layers: dict, meta: dict, *, lang: str = "nl", note: str | None = None):
    """Page 1: the classes over the network and outline, zones, legend panel (a Figure)."""
    t = text(lang)
    areas = layers["areas"]
    note = legend_note(meta, lang) if note is None else note
    page = plan_page(areas.total_bounds, note=note)
    fig, ax = sheet(page, scan_title(meta, lang))
    handles = draw_classes(ax, areas, lang)
    handles += draw_context(ax, layers, t)
    zones = layers.get("zones")
    if zones is not None and len(zones):
        handles += _draw_zones(ax, zones, t)
    panel(fig, page, handles, title=t["classes"], note=note, footer=_footer(meta, lang))
    return fig


#: The Leefbaarometer's safety levels (points before weighting): 1 insufficient .. 5 excellent.
#: Its scale starts at 1, so the worst level is drawn red, as the distances' 0 is.
SAFETY_SCALE = (1.0, 5.0)


def _small_map(ax, areas, column: str, *, scale: tuple, title: str, empty: bool, outline):
    """One small multiple: areas by mean points, or hatched when the data has none.

    ``scale``: the lowest and the highest points there are (the colours' ends).
    """
    ax.set_axis_off()
    ax.set_aspect("equal")
    if empty:
        areas.plot(
            ax=ax,
            facecolor=INSUFFICIENT_STYLE["fill"],
            edgecolor=INSUFFICIENT_STYLE["edge"],
            hatch=INSUFFICIENT_STYLE["hatch"],
            linewidth=0.3,
        )
    else:
        # areas without enough data are hatched here too, as on page 1, never coloured; so
        # are those with dwellings but no value (no safety figure for their postcode)
        bad = areas[column].isna() & ~areas["suppressed"].astype(bool)
        if "data_status" in areas:
            bad |= areas["data_status"].map(insufficient).astype(bool)
        areas[~bad].plot(
            ax=ax,
            column=column,
            cmap="RdYlGn",
            vmin=scale[0],
            vmax=scale[1],
            edgecolor="#777777",
            linewidth=0.3,
            missing_kwds={"color": SUPPRESSED},
        )
        if bad.any():
            areas[bad].plot(
                ax=ax,
                facecolor=INSUFFICIENT_STYLE["fill"],
                edgecolor=INSUFFICIENT_STYLE["edge"],
                hatch=INSUFFICIENT_STYLE["hatch"],
                linewidth=0.3,
            )
    outline.plot(ax=ax, color="#222222", linewidth=0.8)
    ax.set_title(title, fontsize=8.5, loc="left")


def _sheet_panels(
    cfg, layers: dict, lang: str, meta: dict | None = None
) -> list[tuple[str, str, float, bool]]:
    """(column, title, top of scale, no data) per small map: each sub-indicator, then safety.

    A sub-indicator the audit found thin says so in its title ("7 in de gegevens, dun"): its
    red may be a gap in the data, not a fact about the neighbourhood.
    """
    from ._mapkit import indicator_plural

    t = text(lang)
    amen = layers.get("amenities")
    counts = amen["indicator"].value_counts() if amen is not None else {}
    thin = set((meta or {}).get("audit_thin", "").split(", "))
    panels = []
    for ind in cfg.indicator_ids:
        n = int(counts.get(ind, 0))
        title = f"{indicator_plural(cfg, ind, lang)}\n{n} {t['in_data']}"
        title += f", {t['note_thin']}" if ind in thin and n else ""
        panels.append((f"pts_{ind}", title, (0.0, cfg.max_band_points), n == 0))
    areas = layers["areas"]
    # no Leefbaarometer figure (a scan abroad, or without the file): a gap, never 0 points
    no_safety = "safety_pts" not in areas or bool(areas["safety_pts"].isna().all())
    second = t["no_safety_data"] if no_safety else "Leefbaarometer"
    panels.append(("safety_pts", f"{t['safety']}\n{second}", SAFETY_SCALE, no_safety))
    return panels


def indicators_figure(layers: dict, meta: dict, *, lang: str = "nl"):
    """Page 2: one small map per sub-indicator's mean points per area (a Figure)."""
    from ..config import load_config

    plt = _pyplot()
    t, cfg = text(lang), load_config()
    areas = layers["areas"]
    panels = _sheet_panels(cfg, layers, lang, meta)
    ncols = 5  # A4 landscape, two rows of five
    nrows = -(-len(panels) // ncols)
    fig, axes = plt.subplots(nrows, ncols, figsize=A4_IN)
    fig.subplots_adjust(left=0.02, right=0.98, top=0.9, bottom=0.17, wspace=0.05, hspace=0.25)
    outline = _outline(areas)
    flat = list(axes.flat)
    for ax, (col, title, scale, empty) in zip(flat, panels, strict=False):
        _small_map(ax, areas, col, scale=scale, title=title, empty=empty, outline=outline)
    for ax in flat[len(panels) :]:
        ax.set_axis_off()
    fig.suptitle(f"{t['sheet_title']} — {meta.get('study', '')}", x=0.02, ha="left", fontsize=13)
    _colour_bars(fig, t, cfg.max_band_points, safety=not panels[-1][3], lang=lang)
    fig.text(0.02, 0.05, t["sheet_hatch"], fontsize=8, color="#333333", gid="sheet-hatch")
    _footer_text(fig, 0.02, 0.015, _footer(meta, lang))
    return fig


def _colour_bars(fig, t: dict, max_points: float, *, safety: bool, lang: str) -> None:
    """The colour scales, ticks written as the language writes numbers.

    No safety scale when the scan has no safety figures: its map is hatched.
    """
    from matplotlib.cm import ScalarMappable
    from matplotlib.colors import Normalize
    from matplotlib.ticker import FuncFormatter

    bars = [((0.0, max_points), t["distance_pts"])]
    bars += [(SAFETY_SCALE, t["safety_pts"])] if safety else []
    for i, (scale, label) in enumerate(bars):
        cax = fig.add_axes([0.06 + 0.48 * i, 0.125, 0.38, 0.015])
        sm = ScalarMappable(norm=Normalize(*scale), cmap="RdYlGn")
        bar = fig.colorbar(sm, cax=cax, orientation="horizontal")
        bar.set_label(label, fontsize=8)
        bar.ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _: decimal(v, "g", lang)))


def save_figures(figs: list, out: Path) -> Path:
    """PNG: the first page; PDF: every page, in order."""
    plt = _pyplot()

    def write(p: Path) -> None:
        if out.suffix.lower() == ".png":
            figs[0].savefig(p, dpi=150, format="png")
            return
        from matplotlib.backends.backend_pdf import PdfPages

        with PdfPages(p) as pdf:
            for fig in figs:
                pdf.savefig(fig)

    try:
        return atomic_write(out, write)
    finally:
        for fig in figs:
            plt.close(fig)


def scan_static(
    scan: str | os.PathLike, path: str | os.PathLike, *, lang: str = "nl", note: str | None = None
) -> Path:
    """A static map of a scan, A4: PNG (the map) or PDF (the map and the indicator sheet).

    ``note`` (default: the scan's :func:`~thuisdichtbij.outputs._mapkit.legend_note`) is
    printed under the legend, e.g. which indicators' data is missing or thin.
    """
    text(lang)
    out = check_out(path, (".png", ".pdf"))
    layers, meta = read_scan_for_maps(scan)
    figs = [scan_figure(layers, meta, lang=lang, note=note)]
    if out.suffix.lower() == ".pdf":
        figs.append(indicators_figure(layers, meta, lang=lang))
    return save_figures(figs, out)


def fairshare_png(result, path: str | os.PathLike, *, lang: str = "nl", title: str = "") -> Path:
    """A static map (PNG or PDF, A4) of a fair-share result, for reports."""
    from matplotlib.lines import Line2D
    from matplotlib.patches import Patch

    t = text(lang)
    out = check_out(path, (".png", ".pdf"))
    areas: gpd.GeoDataFrame = result.areas
    page = plan_page(areas.total_bounds)
    fig, ax = sheet(page, title or f"{t['fs_title']} — {result.metadata.get('study', '')}")
    handles = []
    for state, st in FAIRSHARE_STYLE.items():
        style = {"facecolor": st["fill"], "edgecolor": FAIRSHARE_EDGE, "hatch": st["hatch"]}
        sel = areas[[flag_state(v) is state for v in areas["vulnerable"]]]
        if len(sel):
            sel.plot(ax=ax, linewidth=0.5, **style)
        handles.append(Patch(label=st["label"][lang], **style))
    if result.municipalities is not None:
        result.municipalities.boundary.plot(ax=ax, color="#111111", linewidth=1.6)
        names = result.municipalities
        place_labels(
            ax,
            [_anchor(g) for g in names.geometry],
            list(names["municipality"]),
            colour="#111111",
            size=9,
        )
        handles.append(Line2D([], [], color="#111111", linewidth=1.6, label=t["borders"]))
    ref = t.get(result.metadata.get("reference", ""), "")
    footer = fairshare_credits(lang)
    panel(fig, page, handles, title="", note=f"{t['reference']}: {ref}", footer=footer)
    return save_figures([fig], out)
