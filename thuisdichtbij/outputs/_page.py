"""The page of a static map: A4 in the orientation that gives the map the most paper.

The map frame fills the sheet; a panel beside it (landscape) or below it (portrait) holds
the legend, note, scale bar and north arrow, so nothing is drawn over the city.
"""

from __future__ import annotations

import textwrap
from dataclasses import dataclass

A4_IN = (11.69, 8.27)
_MARGIN_IN = 0.25
_TITLE_IN = 0.6
_FOOTER_IN = 0.35
_PANEL_IN = 2.7  # width of a side panel
_BOTTOM_PANEL_IN = 1.9  # height of a panel below the map
_TOOLS_IN = 1.9  # width of the scale bar and north arrow at the right of a panel below the map
#: Lines of note a panel below the map holds under a legend of five rows; a longer note
#: makes that panel taller (and the map smaller), so it never runs into the sources line.
_BOTTOM_NOTE_LINES = 3
NOTE_PT = 8  # size of the note's letters
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


def chars_in(width_in: float, points: float) -> int:
    """Characters of DejaVu Sans at ``points`` that fit ``width_in`` inches of a line.

    It averages about 0.55 em per character; 0.58 leaves a little over.
    """
    return int(width_in * 72 / (points * 0.58))


def note_width_in(side: str, panel_width_in: float) -> float:
    """The width the note under the legend has: beside the scale bar in a panel below."""
    return (panel_width_in if side == "right" else panel_width_in - _TOOLS_IN) - 0.15


def wrap_note(note: str, width_in: float, points: float = NOTE_PT) -> str:
    """The note wrapped to ``width_in`` inches of ``points`` letters, each of its lines apart."""
    chars = chars_in(width_in, points)
    return "\n".join(textwrap.fill(line, chars) for line in note.splitlines())


def plan_page(bounds, *, note: str = "") -> Page:
    """The A4 orientation and map frame that give the map the most paper.

    ``note`` is the text to go under the legend: below the map, a panel is made taller for
    the lines it takes beyond what the panel holds.
    """
    x0, y0, x1, y1 = bounds
    px, py = (x1 - x0) * _PAD, (y1 - y0) * _PAD
    extent = (x0 - px, y0 - py, x1 + px, y1 + py)
    options = [_layout(extent, A4_IN, "right"), _layout(extent, A4_IN[::-1], "bottom", note)]
    return max(options, key=lambda p: p.in_per_unit)


def _layout(extent, size_in, side: str, note: str = "") -> Page:
    w, h = size_in
    dx, dy = extent[2] - extent[0], extent[3] - extent[1]
    room = note_width_in(side, w - 2 * _MARGIN_IN)
    lines = len(wrap_note(note, room).splitlines()) if note else 0
    # matplotlib's line spacing: 1.2 times the letters' size
    extra_in = max(0, lines - _BOTTOM_NOTE_LINES) * NOTE_PT * 1.2 / 72
    bottom_in = _BOTTOM_PANEL_IN + extra_in
    avail_w = w - 2 * _MARGIN_IN - (_PANEL_IN + _MARGIN_IN if side == "right" else 0)
    avail_h = h - _TITLE_IN - _FOOTER_IN - (bottom_in if side == "bottom" else 0)
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
        panel = (_MARGIN_IN, _FOOTER_IN, w - 2 * _MARGIN_IN, bottom_in - 0.1)
    return Page(size_in, map_in, panel, full, side, scale)
