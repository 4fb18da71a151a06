"""The score grid as a GeoTIFF (rasterio; optional: ``pip install 'thuisdichtbij[maps]'``).

Beside it goes its QGIS style (``grid.qml`` for ``grid.tif``), which QGIS loads when it
opens the raster: the class map in the colours of the other maps, not an RGB composite.
"""

from __future__ import annotations

import os
from pathlib import Path

from ._mapkit import area_states, atomic_write, check_out

__all__ = ["grid_tif", "grid_tif_outputs"]

#: Band 3's codes: a classed cell (any class 1-5), and the two states without a class.
_STATE_NAMES = {"klasse": 1, "te weinig woningen": 2, "onvoldoende gegevens": 3}
_STATE_CODES = {"suppressed": 2, "insufficient": 3}


def grid_tif_outputs(path: str | os.PathLike) -> tuple[Path, Path]:
    """The GeoTIFF at ``path`` and its QGIS style beside it (``.qml``), both checked writable.

    QGIS finds a raster's default style by its name: the file's suffix replaced by ``.qml``.
    """
    out = check_out(path, (".tif", ".tiff"))
    return out, check_out(out.with_suffix(".qml"), (".qml",))


def grid_tif(scan: str | os.PathLike, path: str | os.PathLike, *, lang: str = "nl") -> Path:
    """The score grid as a GeoTIFF: band 1 mean score, band 2 class, band 3 the cell's state.

    Band 3 tells the cells without a class apart: 1 classed, 2 too few dwellings (suppressed),
    3 onvoldoende gegevens (its dwellings lie beyond the snap limit: a gap in the data, not
    empty land). Cells without dwellings are nodata (-9999) in all three bands, so are the
    cells without a score or class in bands 1 and 2. One data type (float32) for all bands.
    Cells align with the grid's own multiples, in the scan's CRS.

    Beside it, the QGIS style (:func:`~.styles.grid_tif_qml`, labels in ``lang``) under the
    name of :func:`grid_tif_outputs`; an existing one is replaced only once the GeoTIFF is.
    Returns the GeoTIFF's path.
    """
    import numpy as np
    import rasterio
    from rasterio.transform import from_origin

    from .scanfile import read_metadata, read_scan_layer, require_layer

    out, style = grid_tif_outputs(path)
    require_layer(scan, "grid", what="maps")
    grid = read_scan_layer(scan, "grid")
    size = float(read_metadata(scan).get("grid_cell_m", 100))
    b = grid.geometry.bounds
    x0, y1 = b["minx"].min(), b["maxy"].max()
    cols = np.round((b["minx"] - x0) / size).astype(int).to_numpy()
    rows = np.round((y1 - b["maxy"]) / size).astype(int).to_numpy()
    shape = (rows.max() + 1, cols.max() + 1)
    score = np.full(shape, -9999.0, dtype="float32")
    klass = np.full(shape, -9999.0, dtype="float32")  # the file's one nodata value, both bands
    ok = grid["score_mean"].notna().to_numpy()
    score[rows[ok], cols[ok]] = grid["score_mean"].to_numpy()[ok]
    has = grid["score_class"].notna().to_numpy()
    klass[rows[has], cols[has]] = grid["score_class"].to_numpy()[has]
    state = np.full(shape, -9999.0, dtype="float32")
    state[rows, cols] = [_STATE_CODES.get(s, 1) for s in area_states(grid)]
    profile = {
        "driver": "GTiff",
        "height": shape[0],
        "width": shape[1],
        "count": 3,
        "dtype": "float32",
        "crs": grid.crs.to_wkt(),
        "transform": from_origin(x0, y1, size, size),
        "nodata": -9999.0,
        "compress": "deflate",
    }

    def write(p):
        with rasterio.open(p, "w", **profile) as dst:
            dst.write(score, 1)
            dst.write(klass, 2)
            dst.write(state, 3)
            dst.set_band_description(1, "score_mean")
            dst.set_band_description(2, "score_class")
            dst.set_band_description(3, "data_status")
            dst.update_tags(3, **{str(v): k for k, v in _STATE_NAMES.items()})

    _write_with_style(out, write, style, lang=lang, cell_m=size)
    return out


def _write_with_style(out: Path, write, style: Path, *, lang: str, cell_m: float) -> None:
    """The GeoTIFF (``write(path)``) and its style, each atomically, the style's first.

    A GeoTIFF that fails leaves the style the user had, and the new style takes its place
    right after the GeoTIFF.

    QGIS finds a vector file's default style by its name too: beside a GeoPackage of the
    same name (the scan's own: ``map scan.gpkg --tif scan.tif``) the notes would show on that
    file's layers without a style of their own (amenities, network; measured in QGIS 3.22).
    The renderer alone it does not apply to them, so there the style goes without notes.
    """
    from .styles import grid_tif_qml

    qml = grid_tif_qml(lang, cell_m=cell_m, notes=not out.with_suffix(".gpkg").exists())

    def write_style(p):
        p.write_text(qml, encoding="utf-8")
        atomic_write(out, write)

    atomic_write(style, write_style)
