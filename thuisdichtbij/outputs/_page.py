"""The page of a static map: A4 in the orientation that gives the map the most paper.

The map frame fills the sheet; a panel beside it (landscape) or below it (portrait) holds
the legend, note, scale bar and north arrow, so nothing is drawn over the city.
"""

from __future__ import annotations

from dataclasses import dataclass

A4_IN = (11.69, 8.27)
_MARGIN_IN = 0.25
_TITLE_IN = 0.6
_FOOTER_IN = 0.35
_PANEL_IN = 2.7  # width of a side panel
_BOTTOM_PANEL_IN = 1.9  # height of a panel below the map
_PAD = 0.03  # share of the extent added around the shapes


@dataclass(frozen=True)
class Page:
    """Where things go, in inches from the lower left of the sheet."""

    size_in: tuple[float, float]
    map_in: tuple[float, float, float, float]  # x, y, width, height
    panel_in: tuple[float, float, float, float]
    extent: tuple[float, float, float, float]  # x0, y0, x1, y1 in map units
    side: str  # "right" or "bottom"
    in_per_unit: float  # inches of paper per map unit (metre)

    def frac(self, rect) -> list[float]:
        w, h = self.size_in
        return [rect[0] / w, rect[1] / h, rect[2] / w, rect[3] / h]


def plan_page(bounds) -> Page:
    """The A4 orientation and map frame that give the map the most paper."""
    x0, y0, x1, y1 = bounds
    px, py = (x1 - x0) * _PAD, (y1 - y0) * _PAD
    extent = (x0 - px, y0 - py, x1 + px, y1 + py)
    options = [_layout(extent, A4_IN, "right"), _layout(extent, A4_IN[::-1], "bottom")]
    return max(options, key=lambda p: p.in_per_unit)


def _layout(extent, size_in, side: str) -> Page:
    w, h = size_in
    dx, dy = extent[2] - extent[0], extent[3] - extent[1]
    avail_w = w - 2 * _MARGIN_IN - (_PANEL_IN + _MARGIN_IN if side == "right" else 0)
    avail_h = h - _TITLE_IN - _FOOTER_IN - (_BOTTOM_PANEL_IN if side == "bottom" else 0)
    scale = min(avail_w / dx, avail_h / dy)
    # widen or heighten the extent so the frame fills the space it has
    dx, dy = avail_w / scale, avail_h / scale
    cx, cy = (extent[0] + extent[2]) / 2, (extent[1] + extent[3]) / 2
    full = (cx - dx / 2, cy - dy / 2, cx + dx / 2, cy + dy / 2)
    top = h - _TITLE_IN
    map_in = (_MARGIN_IN, top - avail_h, avail_w, avail_h)
    if side == "right":
        panel = (w - _MARGIN_IN - _PANEL_IN, map_in[1], _PANEL_IN, avail_h)
    else:
        panel = (_MARGIN_IN, _FOOTER_IN, w - 2 * _MARGIN_IN, _BOTTOM_PANEL_IN - 0.1)
    return Page(size_in, map_in, panel, full, side, scale)
