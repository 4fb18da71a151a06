"""Writing a scan to a GeoPackage: typed layers, a metadata table, written atomically."""

from __future__ import annotations

import logging
import os
import tempfile
from pathlib import Path

import pandas as pd
import pyogrio

from .errors import InputError

log = logging.getLogger(__name__)

__all__ = ["write_gpkg", "LAYERS"]

#: Layer names of a scan GeoPackage.
LAYERS = ("dwellings", "areas", "amenities", "run_metadata")

# GeoPackage 1.2 opens without warnings in QGIS 3.22 and older ArcGIS releases.
_DATASET_OPTIONS = {"VERSION": "1.2"}


def _for_gpkg(gdf: pd.DataFrame) -> pd.DataFrame:
    """Infinite distances (no amenity within reach) become NULL, as GeoPackage readers expect."""
    out = gdf.copy()
    for col in out.columns:
        if pd.api.types.is_float_dtype(out[col]):
            out[col] = out[col].where(~out[col].isin([float("inf"), float("-inf")]))
        elif pd.api.types.is_bool_dtype(out[col]):
            out[col] = out[col].astype(bool)
    return out


def write_gpkg(result, path: str | os.PathLike) -> Path:
    """Write a :class:`~thuisdichtbij.scan.ScanResult` to ``path``.

    Layers ``dwellings`` (points), ``areas`` (polygons), ``amenities`` (points) and the
    table ``run_metadata`` (``key``, ``value``). The file is written next to ``path`` under
    a temporary name and moved into place when complete, so a failed write never leaves a
    broken file where a good one was. ``NULL`` in ``dist_<id>`` means no amenity within the
    largest band.
    """
    out = Path(path)
    if out.suffix.lower() != ".gpkg":
        raise InputError(f"output: {out} must end in .gpkg (a GeoPackage)")
    if not out.parent.exists():
        raise InputError(f"output: the folder {out.parent} does not exist; create it first")
    fd, tmp_name = tempfile.mkstemp(prefix=f".{out.stem}-", suffix=".gpkg", dir=out.parent)
    os.close(fd)
    tmp = Path(tmp_name)
    tmp.unlink()
    try:
        layers = [
            ("dwellings", result.dwellings),
            ("areas", result.areas),
            ("amenities", result.amenities),
        ]
        for i, (name, gdf) in enumerate(layers):
            pyogrio.write_dataframe(
                _for_gpkg(gdf),
                tmp,
                layer=name,
                driver="GPKG",
                append=i > 0,
                dataset_options=_DATASET_OPTIONS if i == 0 else None,
                promote_to_multi=name == "areas",
            )
        meta = pd.DataFrame(
            {"key": list(result.metadata), "value": [str(v) for v in result.metadata.values()]}
        )
        pyogrio.write_dataframe(meta, tmp, layer="run_metadata", driver="GPKG", append=True)
        os.replace(tmp, out)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    log.info("wrote %s", out)
    return out
