"""Static maps for reports (matplotlib): PNG or PDF, A4 landscape.

Optional (``pip install 'thuisdichtbij[maps]'``); matplotlib is imported only when a map is made.
"""

from __future__ import annotations

import os
from datetime import date
from pathlib import Path

import geopandas as gpd

from ._mapkit import (
    CLASS_COLOURS,
    FAIRSHARE_STYLE,
    INSUFFICIENT_COLOUR,
    SUPPRESSED,
    atomic_write,
    check_out,
    class_labels,
    data_note,
    flag_state,
    insufficient,
    read_scan_for_maps,
    text,
)

__all__ = ["fairshare_png", "scan_static"]


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

    t = text(lang)
    out = check_out(path, (".png", ".pdf"))
    areas: gpd.GeoDataFrame = result.areas
    fig, ax = plt.subplots(figsize=(11.69, 8.27))
    for state, st in FAIRSHARE_STYLE.items():
        sel = areas[[flag_state(v) is state for v in areas["vulnerable"]]]
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
        for s, st in FAIRSHARE_STYLE.items()
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
        return atomic_write(out, lambda p: fig.savefig(p, dpi=150, format=out.suffix[1:]))
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

    t, labels = text(lang), class_labels(lang)
    out = check_out(path, (".png", ".pdf"))
    layers, meta = read_scan_for_maps(scan)
    areas = layers["areas"]
    fig, ax = plt.subplots(figsize=(11.69, 8.27))
    cls = areas["score_class"]
    colours = [CLASS_COLOURS.get(int(c), SUPPRESSED) if c == c else SUPPRESSED for c in cls]
    areas.plot(ax=ax, color=colours, edgecolor="#666666", linewidth=0.5)
    handles = [
        Patch(facecolor=c, edgecolor="#666666", label=labels[k]) for k, c in CLASS_COLOURS.items()
    ]
    handles.append(Patch(facecolor=SUPPRESSED, edgecolor="#666666", label=t["suppressed"]))
    thin = areas[[insufficient(s) for s in areas.get("data_status", [None] * len(areas))]]
    if len(thin):
        style = {"facecolor": INSUFFICIENT_COLOUR, "edgecolor": "#333333", "hatch": "///"}
        thin.plot(ax=ax, linewidth=0.5, **style)
        handles.append(Patch(label=t["insufficient"], **style))
    zones = layers["zones"]
    if zones is not None and len(zones):
        zones.boundary.plot(ax=ax, color="#00441b", linewidth=2)
        _label_shapes(ax, zones, "name", colour="#00441b", size=7)
        handles.append(Patch(facecolor="none", edgecolor="#00441b", linewidth=2, label=t["zones"]))
    legend = ax.legend(
        handles=handles, loc="lower right", fontsize=9, title=t["classes"], frameon=True
    )
    note = data_note(meta, lang)
    if note:
        import textwrap

        ax.annotate(
            textwrap.fill(note, 60),
            xy=(1, 0),
            xycoords=legend,
            xytext=(0, -6),
            textcoords="offset points",
            ha="right",
            va="top",
            fontsize=7.5,
            color="#8a4b00",
        )
    title = f"{t['scan_title']}: {meta.get('study', '')}"
    when = meta.get("finished_utc", "")[:10]
    sources = meta.get("attribution") or t["scan_sources"]
    footer = (
        f"{sources}. Scan {when}, thuisdichtbij {meta.get('package_version', '')}; "
        f"{t['made']} {date.today().isoformat()}."
    )
    _static_frame(ax, fig, title, footer)
    return _save_figure(fig, out)
