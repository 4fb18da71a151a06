"""Maps of what changed between two scans: areas coloured by their class change.

Takes a :class:`~thuisdichtbij.analyses.diff.ScanDiff` (its ``areas`` and ``metadata``);
optional like the other maps (``pip install 'thuisdichtbij[maps]'``).
"""

from __future__ import annotations

import os
from pathlib import Path

from ._mapkit import CHANGE_COLOURS, SUPPRESSED, check_out

__all__ = ["diff_html", "diff_png"]

_TEXT = {
    "nl": {
        "title": "Klasseverandering tussen twee scans",
        "own": "door eigen score",
        "edges": "door verschoven klassegrenzen",
        "none": "geen vergelijking (ontbreekt of te weinig woningen)",
        "change": "klasse",
        "score": "score",
        "why": "waarom",
        "dashed": "gestreept: alleen de klassegrenzen verschoven",
        "old": "oud",
        "new": "nieuw",
    },
    "en": {
        "title": "Class change between two scans",
        "own": "by its own score",
        "edges": "by moved class edges",
        "none": "not compared (missing or too few dwellings)",
        "change": "class",
        "score": "score",
        "why": "why",
        "dashed": "hatched: only the class edges moved",
        "old": "old",
        "new": "new",
    },
}


def _colour(change) -> str:
    if change is None or change != change:
        return SUPPRESSED
    return CHANGE_COLOURS[max(-4, min(4, int(change)))]


def _legend_rows(lang: str) -> list[tuple[str, str]]:
    rows = [(CHANGE_COLOURS[k], f"{_TEXT[lang]['change']} {k:+d}") for k in (-2, -1, 0, 1, 2)]
    rows[0] = (rows[0][0], rows[0][1] + " " + ("of meer" if lang == "nl" else "or more"))
    rows[-1] = (rows[-1][0], rows[-1][1] + " " + ("of meer" if lang == "nl" else "or more"))
    return rows + [(SUPPRESSED, _TEXT[lang]["none"])]


def _title(diff, lang: str) -> str:
    md = diff.metadata
    return f"{_TEXT[lang]['title']}: {md.get('diff_old', '')[:10]} -> {md.get('diff_new', '')[:10]}"


def diff_html(diff, path: str | os.PathLike, *, lang: str = "nl") -> Path:
    """An interactive map: areas by class change, tooltip with the split and the cause."""
    import folium

    from .web_map import _folium_map, _save_html

    t = _TEXT[lang]
    out = check_out(path, (".html",))
    areas = diff.areas.to_crs(4326)
    m = _folium_map(areas.total_bounds)
    shown = areas[
        ["area_id", "score_old", "score_new", "class_old", "class_new", "class_change"]
        + ["class_change_own", "class_change_edges", "cause", "geometry"]
    ].copy()
    for c in ("score_old", "score_new"):
        shown[c] = shown[c].round(2)
    for c in ("class_old", "class_new", "class_change", "class_change_own", "class_change_edges"):
        shown[c] = shown[c].astype(object).where(shown[c].notna(), None)
    folium.GeoJson(
        shown,
        name=t["title"],
        style_function=lambda f: {
            "fillColor": _colour(f["properties"]["class_change"]),
            "color": "#555555",
            "weight": 0.8,
            "fillOpacity": 0.7,
            "dashArray": "4 4"
            if f["properties"]["class_change_own"] == 0 and f["properties"]["class_change"]
            else None,
        },
        tooltip=folium.GeoJsonTooltip(
            ["area_id", "score_old", "score_new", "class_old", "class_new"]
            + ["class_change_own", "class_change_edges", "cause"],
            aliases=["", f"{t['score']} {t['old']}", f"{t['score']} {t['new']}", t["old"], t["new"]]
            + [t["own"], t["edges"], t["why"]],
        ),
    ).add_to(m)
    folium.LayerControl(collapsed=False).add_to(m)
    rows = "".join(
        f'<div><span style="display:inline-block;width:14px;height:14px;background:{c};'
        f'border:1px solid #555;margin-right:6px"></span>{label}</div>'
        for c, label in _legend_rows(lang)
    )
    rows += (
        '<div><span style="display:inline-block;width:14px;height:14px;'
        'border:1px dashed #555;margin-right:6px"></span>'
        f"{t['dashed'].replace('gestreept', 'gestippeld').replace('hatched', 'dashed')}</div>"
    )
    legend = (
        '<div id="legend" style="position:fixed;bottom:30px;right:10px;z-index:9999;'
        'background:white;padding:8px 10px;border:1px solid #999;font:13px sans-serif">'
        f"<b>{_title(diff, lang)}</b>{rows}</div>"
    )
    m.get_root().html.add_child(folium.Element(legend))
    return _save_html(m, out)


def diff_png(diff, path: str | os.PathLike, *, lang: str = "nl") -> Path:
    """A static map (PNG or PDF, A4 landscape) of the class changes.

    Areas are coloured by their class change and hatched where only the class edges moved.
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.patches import Patch

    from .static_map import _save_figure, _static_frame

    t = _TEXT[lang]
    out = check_out(path, (".png", ".pdf"))
    areas = diff.areas
    fig, ax = plt.subplots(figsize=(11.69, 8.27))
    areas.plot(
        ax=ax, color=[_colour(c) for c in areas["class_change"]], edgecolor="#666", linewidth=0.5
    )
    edges_only = areas[(areas["class_change_own"] == 0) & (areas["class_change"] != 0)]
    if len(edges_only):
        edges_only.plot(ax=ax, facecolor="none", edgecolor="#333", hatch="///", linewidth=0)
    handles = [Patch(facecolor=c, edgecolor="#666", label=label) for c, label in _legend_rows(lang)]
    handles.append(Patch(facecolor="white", edgecolor="#333", hatch="///", label=t["dashed"]))
    ax.legend(handles=handles, loc="lower right", fontsize=9, frameon=True)
    _static_frame(ax, fig, _title(diff, lang), "thuisdichtbij diff")
    return _save_figure(fig, out)
