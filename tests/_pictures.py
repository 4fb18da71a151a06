"""Reading what a map shows: the GeoJSON a folium page embeds, the colours of a PNG."""

import html as html_text
import json
import re

import numpy as np
import shapely
from scipy import ndimage

_FILL = r'return \{[^}]*"fillColor": "(#\w+)"'


def rgb(hex_colour):
    return tuple(int(hex_colour[i : i + 2], 16) for i in (1, 3, 5))


def embedded_layer(html, key):
    """The first GeoJSON layer of a folium page whose features have ``key``.

    Returns ``{value of key: (properties, fill colour as '#RRGGBB')}``, the fill colour as
    the page's style function gives it to that feature.
    """
    for m in re.finditer(r"(geo_json_\w+)_add\((\{)", html):
        name = m.group(1)
        data, _ = json.JSONDecoder().raw_decode(html, m.start(2))
        if not data["features"] or key not in data["features"][0]["properties"]:
            continue
        styler = html[html.index(f"{name}_styler(feature) {{") :]
        styler = styler[: styler.index("default:") + 200]
        fill = {}
        for case in re.finditer(r'((?:case "\d+":\s*)+)' + _FILL, styler):
            for fid in re.findall(r'case "(\d+)"', case.group(1)):
                fill[fid] = case.group(2)
        default = re.search(r"default:\s*" + _FILL, styler).group(1)
        return {
            f["properties"][key]: (f["properties"], fill.get(f["id"], default).upper())
            for f in data["features"]
        }
    raise AssertionError(f"no layer with '{key}' in the page")


def assert_png_fills(png, shapes, colours, palette):
    """Each shape's inner pixels have its colour (``colours``, one '#RRGGBB' per shape).

    Map coordinates become pixels by the extent of the patches (400 pixels or more) in any
    ``palette`` colour (north up, equal axes); labels, outlines and the legend hide some
    pixels, so each shape is judged by the colours at a grid of its inner points, 100 m
    apart. Returns how many shapes were large enough to judge.
    """
    from PIL import Image

    img = np.asarray(Image.open(png).convert("RGB"), dtype=int)
    palette = sorted({c.upper() for c in palette})
    masks = np.stack([(img == rgb(c)).all(axis=2) for c in palette])
    # The map's extent: patches of fill colour, not the legend's swatches or grey text.
    labels, _ = ndimage.label(masks.any(axis=0))
    sizes = np.bincount(labels.ravel())
    sizes[0] = 0
    coloured = sizes[labels] >= 400
    cols, rows = np.flatnonzero(coloured.any(axis=0)), np.flatnonzero(coloured.any(axis=1))
    x0, y0, x1, y1 = shapes.total_bounds
    scale = (cols[-1] - cols[0]) / (x1 - x0)
    ratio = (rows[-1] - rows[0]) / (y1 - y0) / scale
    assert abs(ratio - 1) < 0.01, "the coloured extent is not the shapes' extent"
    judged = 0
    for geom, colour in zip(shapes.geometry, colours):
        inner = geom.buffer(-100)
        if inner.is_empty:
            continue
        bx0, by0, bx1, by1 = inner.bounds
        xs, ys = np.meshgrid(np.arange(bx0, bx1, 100), np.arange(by0, by1, 100))
        inside = shapely.contains_xy(inner, xs.ravel(), ys.ravel())
        c = np.round(cols[0] + (xs.ravel()[inside] - x0) * scale).astype(int)
        r = np.round(rows[0] + (y1 - ys.ravel()[inside]) * scale).astype(int)
        votes = masks[:, r, c].sum(axis=1)
        if votes.sum() < 5:  # too small (or too covered) to judge at 100 m
            continue
        judged += 1
        want = palette.index(colour.upper()) if colour.upper() in palette else -1
        assert votes.argmax() == want, (colour, dict(zip(palette, votes)))
        assert votes[want] >= 0.9 * votes.sum(), (colour, dict(zip(palette, votes)))
    return judged


def shown_sources(page: str) -> str:
    """The sources line in a web map's legend (its ``#sources`` block), as a reader sees it."""
    m = re.search(r'<div id="sources"[^>]*>(.*?)</div>', page, re.S)
    return html_text.unescape(m.group(1)) if m else ""


def printed_sources(monkeypatch) -> list[str]:
    """A list that gets the sources line of every page a static map saves, unwrapped."""
    from thuisdichtbij.outputs import static_map

    got, save = [], static_map.save_figures

    def catch(figs, out):
        for fig in figs:
            got.extend(
                " ".join(t.get_text().split()) for t in fig.texts if t.get_gid() == "sources"
            )
        return save(figs, out)

    monkeypatch.setattr(static_map, "save_figures", catch)
    return got
