"""Maps of what changed between two scans: areas coloured by their class change.

Takes a :class:`~thuisdichtbij.analyses.diff.ScanDiff` (its ``areas`` and ``metadata``);
optional like the other maps (``pip install 'thuisdichtbij[maps]'``).
"""

from __future__ import annotations

import os
from html import escape
from pathlib import Path

import pandas as pd

from .._text import decimal
from ._mapkit import CHANGE_COLOURS, SUPPRESSED, check_out, scan_credits

__all__ = ["diff_html", "diff_png"]

_TEXT = {
    "nl": {
        "title": "Klasseverandering tussen twee scans",
        "own": "door eigen score",
        "edges": "door verschoven klassegrenzen",
        "none": "geen vergelijking (ontbreekt, te weinig woningen of onvoldoende gegevens)",
        "change": "klasse",
        "score": "score",
        "why": "waarom",
        "dashed": "gestreept: alleen de klassegrenzen verschoven",
        "old": "oud",
        "mean": "Gemiddelde score van het studiegebied",
        "footer": "thuisdichtbij diff: klassen zijn relatief; zie de tabel diff_areas",
        "new": "nieuw",
    },
    "en": {
        "title": "Class change between two scans",
        "own": "by its own score",
        "edges": "by moved class edges",
        "none": "not compared (missing, too few dwellings or too little data)",
        "change": "class",
        "score": "score",
        "why": "why",
        "dashed": "hatched: only the class edges moved",
        "old": "old",
        "mean": "Mean score of the study area",
        "footer": "thuisdichtbij diff: classes are relative; see the table diff_areas",
        "new": "new",
    },
}


def _colour(change) -> str:
    if pd.isna(change):
        return SUPPRESSED
    return CHANGE_COLOURS[max(-4, min(4, int(change)))]


def _legend_rows(lang: str) -> list[tuple[str, str]]:
    rows = [(CHANGE_COLOURS[k], f"{_TEXT[lang]['change']} {k:+d}") for k in (-2, -1, 0, 1, 2)]
    rows[0] = (rows[0][0], rows[0][1] + " " + ("of meer" if lang == "nl" else "or more"))
    rows[-1] = (rows[-1][0], rows[-1][1] + " " + ("of meer" if lang == "nl" else "or more"))
    return rows + [(SUPPRESSED, _TEXT[lang]["none"])]


def _sources(diff, lang: str) -> str:
    """The sources line: what the two scans credit, as their own maps do, and what to read."""
    sources = scan_credits(diff.metadata, lang, keys=("attribution_old", "attribution_new"))
    return f"{sources}. {_TEXT[lang]['footer']}."


def _title(diff, lang: str) -> str:
    md = diff.metadata
    return f"{_TEXT[lang]['title']}: {md.get('diff_old', '')[:10]} -> {md.get('diff_new', '')[:10]}"


def diff_html(diff, path: str | os.PathLike, *, lang: str = "nl") -> Path:
    """An interactive map: areas by class change, tooltip with the split and the cause."""
    import folium

    from .web_map import folium_map, save_html

    t = _TEXT[lang]
    out = check_out(path, (".html",))
    areas = diff.areas.to_crs(4326)
    m = folium_map(areas.total_bounds)
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
        "background:white;padding:8px 10px;border:1px solid #999;font:13px sans-serif;"
        'max-width:320px">'
        f"<b>{_title(diff, lang)}</b>{rows}"
        f'<div id="sources" style="margin-top:4px;color:#555">{escape(_sources(diff, lang))}</div>'
        "</div>"
    )
    m.get_root().html.add_child(folium.Element(legend))
    return save_html(m, out)


def mean_note(md: dict, lang: str) -> str:
    """The study's mean score before and after, as the console writes it (decimal comma)."""
    old, new = (decimal(float(md[k]), ".4f", lang) for k in ("study_mean_old", "study_mean_new"))
    return f"{_TEXT[lang]['mean']}: {old} -> {new}"


def diff_png(diff, path: str | os.PathLike, *, lang: str = "nl") -> Path:
    """A static map (PNG or PDF, A4) of the class changes, on the scan maps' page layout.

    Areas are coloured by their class change and hatched where only the class edges moved.
    """
    from matplotlib.patches import Patch

    from ._page import plan_page
    from .static_map import panel, save_figures, sheet

    t = _TEXT[lang]
    out = check_out(path, (".png", ".pdf"))
    areas = diff.areas
    page = plan_page(areas.total_bounds)
    fig, ax = sheet(page, _title(diff, lang))
    areas.plot(
        ax=ax, color=[_colour(c) for c in areas["class_change"]], edgecolor="#666", linewidth=0.5
    )
    own, change = areas["class_change_own"], areas["class_change"]
    edges_only = areas[((own == 0) & (change != 0)).fillna(False).astype(bool)]
    if len(edges_only):
        edges_only.plot(ax=ax, facecolor="none", edgecolor="#333", hatch="///", linewidth=0)
    handles = [Patch(facecolor=c, edgecolor="#666", label=label) for c, label in _legend_rows(lang)]
    handles.append(Patch(facecolor="white", edgecolor="#333", hatch="///", label=t["dashed"]))
    footer = _sources(diff, lang)
    panel(fig, page, handles, title=t["change"], note=mean_note(diff.metadata, lang), footer=footer)
    return save_figures([fig], out)
