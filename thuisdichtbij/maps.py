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

__all__ = ["fairshare_html", "fairshare_png", "CLASS_COLOURS"]

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
        "region": "mean of the region (weighted by households)",
    },
}


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
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


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
    m = folium.Map(tiles="OpenStreetMap", control_scale=True)
    m.fit_bounds([[s, w], [n, e]])

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
        '<div id="legend" style="position:fixed;bottom:24px;left:24px;z-index:9999;'
        'background:white;padding:8px 10px;border:1px solid #999;font:13px sans-serif">'
        f"<b>{title}</b>{rows}"
        f'<div style="margin-top:4px;color:#555">{t["reference"]}: {ref}</div></div>'
    )
    m.get_root().html.add_child(folium.Element(legend))
    return _atomic_write(out, lambda p: m.save(str(p)))


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
        for _, row in result.municipalities.iterrows():
            pt = row.geometry.representative_point()
            ax.text(
                pt.x,
                pt.y,
                row["municipality"],
                fontsize=9,
                ha="center",
                weight="bold",
                bbox={"facecolor": "white", "alpha": 0.7, "edgecolor": "none", "pad": 1},
            )
    ax.set_axis_off()
    ax.set_aspect("equal")
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
    ax.set_title(
        title or f"{t['fs_title']} — {result.metadata.get('study', '')}", fontsize=15, loc="left"
    )
    width = ax.get_xlim()[1] - ax.get_xlim()[0]
    _scale_bar(ax, 1000 * max(1, round(width / 5000)))
    _north_arrow(ax)
    ref = t.get(result.metadata.get("reference", ""), "")
    fig.text(
        0.01,
        0.01,
        f"{t['sources']}. {t['reference']}: {ref}. {t['made']} {date.today().isoformat()}.",
        fontsize=7,
        color="#444444",
    )
    fig.tight_layout()
    try:
        return _atomic_write(out, lambda p: fig.savefig(p, dpi=150, format=out.suffix[1:]))
    finally:
        plt.close(fig)
