"""Labels on a static map that overlap neither each other nor the map's frame.

A greedy placement, largest shape first: each label tries its anchor, then points on rings
around it (8 directions, growing radii); the first spot whose box lies inside the axes and
clear of every placed box wins, and a thin leader line joins a moved label to its anchor.
Deterministic, and checked by measuring the drawn boxes (``tests/test_maps.py``).
"""

from __future__ import annotations

#: Offsets tried, in points: the anchor itself, then 8 directions on growing rings.
_DIRECTIONS = ((0, 1), (1, 0), (0, -1), (-1, 0), (1, 1), (-1, 1), (1, -1), (-1, -1))
_RADII_PT = (12, 22, 34, 48, 64, 84, 108)
_PAD_PX = 3.0
LABEL_GID = "map-label"


def _offsets():
    yield 0.0, 0.0
    for r in _RADII_PT:
        for dx, dy in _DIRECTIONS:
            yield dx * r, dy * r


def _align(dx: float, dy: float) -> tuple[str, str]:
    ha = "center" if dx == 0 else ("left" if dx > 0 else "right")
    va = "center" if dy == 0 else ("bottom" if dy > 0 else "top")
    return ha, va


def _fits(box, frame, placed) -> bool:
    inside = box.x0 >= frame.x0 and box.x1 <= frame.x1 and box.y0 >= frame.y0
    if not (inside and box.y1 <= frame.y1):
        return False
    return not any(box.overlaps(p) for p in placed)


def place_labels(ax, anchors, texts, *, colour: str, size: float = 7.5) -> list:
    """Write ``texts`` near ``anchors`` (data coordinates), without overlaps.

    Returns the text artists (``gid`` :data:`LABEL_GID`). A label that finds no free spot
    within the largest ring is left out rather than drawn over another.
    """
    from matplotlib.transforms import offset_copy

    fig = ax.figure
    renderer = fig.canvas.get_renderer()
    frame = ax.get_window_extent(renderer)
    placed, artists = [], []
    for (x, y), label in zip(anchors, texts, strict=True):
        for dx, dy in _offsets():
            ha, va = _align(dx, dy)
            tr = offset_copy(ax.transData, fig=fig, x=dx, y=dy, units="points")
            art = ax.text(
                x,
                y,
                label,
                transform=tr,
                ha=ha,
                va=va,
                fontsize=size,
                color=colour,
                weight="bold",
                gid=LABEL_GID,
                zorder=6,
                clip_on=False,
            )
            box = art.get_window_extent(renderer).padded(_PAD_PX)
            if _fits(box, frame, placed):
                break
            art.remove()
        else:
            continue
        art.set_bbox({"facecolor": "white", "alpha": 0.8, "edgecolor": "none", "pad": 1.0})
        if dx or dy:
            _leader(ax, (x, y), (dx, dy), colour)
        placed.append(box)
        artists.append(art)
    return artists


def _leader(ax, anchor, offset_pt, colour: str) -> None:
    ax.annotate(
        "",
        xy=anchor,
        xytext=offset_pt,
        textcoords="offset points",
        zorder=5,
        arrowprops={"arrowstyle": "-", "color": colour, "lw": 0.7, "shrinkA": 0, "shrinkB": 0},
    )
