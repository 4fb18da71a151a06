"""The plot check as text for the terminal (Dutch or English)."""

from __future__ import annotations

from .._text import decimal
from ._console import say

__all__ = ["check_text"]


def check_text(r: dict, lang: str) -> str:
    t = say(lang)

    def g(v) -> str:  # a number as the language writes it (coordinates keep their point)
        return decimal(v, "g", lang)

    loc = r["location"]
    lines = [
        f"{t['at']} {loc['lat']:.5f}, {loc['lon']:.5f} ({loc['crs']} {loc['x']:.0f}, "
        f"{loc['y']:.0f}), {loc['snap_m']:.0f} {t['street']} ({loc['street'] or '-'}), "
        f"{t['area']} {loc['area_id'] or '-'}",
        f"{t['score']} {g(r['score'])} {t['of']} {g(r['max_score'])}: {t['class']} "
        f"{r['score_class']} ({r['class_label']}); {r['percentile']:.0f}% {t['lower']}",
        "",
        f"  {t['head'][0]:<38} {t['head'][1]:<40} {t['head'][2]:>10}  {t['head'][3]}",
    ]
    for row in r["indicators"]:
        name = row["nearest_name"] or (row["nearest_kind"] or "")
        if row["distance_m"] is None:
            thin = f" ({t['thin']})" if row.get("data") == "dun" else ""
            name = row.get("reach_note") or row.get("data_note") or t["none"]
            name, dist = name + thin, ""
        else:
            dist = f"{row['distance_m']:.0f} m"
        lines.append(
            f"  {row['label']:<38} {name[:40]:<40} {dist:>10}  "
            f"{g(row['points'])} x {g(row['weight'])} = {g(row['weighted'])}"
        )
    sa = r["safety"]
    pts = (
        f"{g(sa['points'])} x {g(sa['weight'])} = {g(sa['points'] * sa['weight'])}"
        if sa["points"] is not None
        else f"{t['missing']} ({sa['missing_handling']})"
    )
    lines.append(f"  {t['safety']:<38} {sa['area_id'] or '':<40} {'':>10}  {pts}")
    for note in r.get("data", {}).get("notes", []):
        lines.append(f"{t['data']}: {note}")
    for m in r["near_misses"]:
        lines.append(
            f"{t['near']}: {m['label']} ({m['nearest_name'] or '-'}) {m['distance_m']:.0f} m: "
            f"+{g(m['score_gain'])} {t['gain']} <= {g(m['band_m'])} m, {t['class_then']} "
            f"{m['class_if_reached']}"
        )
    lines.extend(_edge_lines(r.get("band_edges"), t, g))
    z = r["zone"]
    if z is None:
        lines.append(t["zone_none"])
    elif z["inside"]:
        lines.append(f"{t['zone_in']}: {z['name']}")
    elif z["walking_m_to_nearest"] is None:
        lines.append(f"{t['zone_out']} > {g(z['searched_m'])} m")
    else:
        lines.append(f"{t['zone_out']} {z['walking_m_to_nearest']:.0f} m")
    if r["fairshare"]:
        f = r["fairshare"]
        lines.append(f"{t['fair']} ({f['area_id']}): {f['reason']}")
    return "\n".join(lines)


def _edge_lines(b: dict | None, t: dict, g) -> list[str]:
    """The walks that lie within the band tolerance of an edge, and what that could change."""
    if not b or not b["near"]:
        return []
    lines = [
        f"{m['label']} ({m['nearest_name'] or '-'}) "
        + t["edge"].format(d=m["distance_m"], gap=m["gap_m"], edge=g(m["edge_m"]))
        for m in b["near"]
    ]
    lines.append(
        t["range"].format(
            tol=g(b["tolerance_m"]),
            lo=g(b["score_min"]),
            hi=g(b["score_max"]),
            clo=b["class_min"],
            chi=b["class_max"],
        )
    )
    return lines
