"""Find a spot in a scan by text: a PC6 postcode the scan has, or a street name.

The planner page's search box: ``6211AL`` or ``6211 al`` finds the postcode's point, and
``Markt`` or ``markt`` finds the streets whose name contains it (each at the middle of its
middle stretch). Only what the scan holds is found; nothing is looked up elsewhere.
"""

from __future__ import annotations

import re
from typing import Any

import numpy as np

__all__ = ["find_places"]

_PC6_START = re.compile(r"^\d{4}\s*[A-Za-z]{0,2}$")


def _point_json(ctx, geom, label: str, kind: str) -> dict[str, Any]:
    lon, lat = ctx.to_wgs84.transform(geom.x, geom.y)
    return {"label": label, "kind": kind, "lat": round(lat, 6), "lon": round(lon, 6)}


def find_places(ctx, query: str, *, limit: int = 8) -> list[dict[str, Any]]:
    """Up to ``limit`` places matching ``query``: PC6 postcodes, or streets (exact name first)."""
    q = " ".join(str(query).split())
    if not q:
        return []
    if _PC6_START.match(q):
        key = q.replace(" ", "").upper()
        hits = sorted(pc for pc in ctx.postcodes if pc.startswith(key))[:limit]
        return [_point_json(ctx, ctx.postcodes[pc], pc, "postcode") for pc in hits]
    names = np.asarray(ctx.network.edge_name, dtype=object)
    wanted = q.lower()
    found = {str(n) for n in set(names) if n and wanted in str(n).lower()}
    # the exact name first, then names that start with the text, then the rest, A to Z
    matched = sorted(
        found, key=lambda n: (n.lower() != wanted, not n.lower().startswith(wanted), n)
    )
    out = []
    for name in matched[:limit]:
        edges = np.flatnonzero(names == name)
        mid = ctx.network.edge_geometry[edges[len(edges) // 2]]
        out.append(_point_json(ctx, mid.interpolate(0.5, normalized=True), name, "street"))
    return out
