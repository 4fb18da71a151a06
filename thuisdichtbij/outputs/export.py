"""Writing a scan to a GeoPackage: typed layers, a metadata table, written atomically."""

from __future__ import annotations

import logging
import os
import tempfile
from pathlib import Path

import pandas as pd
import pyogrio

from ..errors import InputError

log = logging.getLogger(__name__)

__all__ = ["write_gpkg", "write_layers", "add_layers", "LAYERS"]

#: Layer names of a scan GeoPackage.
LAYERS = (
    "dwellings",
    "areas",
    "amenities",
    "network",
    "grid",
    "safety_areas",
    "audit",
    "layer_styles",
    "run_metadata",
)

# GeoPackage 1.2 opens without warnings in QGIS 3.22 and older ArcGIS releases.
_DATASET_OPTIONS = {"VERSION": "1.2"}


def _for_gpkg(gdf: pd.DataFrame) -> pd.DataFrame:
    """Infinite distances (no amenity within reach) become NULL, as GeoPackage readers expect."""
    out = gdf.copy()
    for col in out.columns:
        if pd.api.types.is_float_dtype(out[col]):
            out[col] = out[col].where(~out[col].isin([float("inf"), float("-inf")]))
    return out


def write_gpkg(result, path: str | os.PathLike) -> Path:
    """Write a :class:`~thuisdichtbij.scan.ScanResult` to ``path``.

    Layers ``dwellings`` (points), ``areas`` (polygons), ``amenities`` (points), the
    walking ``network`` (lines: ``u``, ``v``, ``length_m``, ``name``), ``safety_areas``
    (polygons with their safety points, when the run had Leefbaarometer data), the table
    ``audit`` (the data audit) and the table ``run_metadata`` (``key``, ``value``); see
    :func:`write_layers`. ``NULL`` in
    ``dist_<id>`` means no amenity within the largest band.
    """
    layers = {
        "dwellings": result.dwellings,
        "areas": result.areas,
        "amenities": result.amenities,
        "network": result.network.edges_frame(),
    }
    if result.grid is not None:
        layers["grid"] = result.grid
    if result.safety_areas is not None:
        layers["safety_areas"] = result.safety_areas
    if getattr(result, "audit", None) is not None:
        layers["audit"] = result.audit
    from .styles import layer_styles

    layers["layer_styles"] = layer_styles(list(layers))
    return write_layers(path, layers, metadata=result.metadata)


def write_layers(
    path: str | os.PathLike, layers: dict[str, pd.DataFrame], *, metadata: dict[str, str]
) -> Path:
    """Write layers (GeoDataFrames) and tables (DataFrames) and ``run_metadata`` to a new file.

    The file is written next to ``path`` under a temporary name and moved into place when
    complete, so a failed write never leaves a broken file where a good one was.
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
    meta = pd.DataFrame({"key": list(metadata), "value": [str(v) for v in metadata.values()]})
    try:
        for i, (name, frame) in enumerate({**layers, "run_metadata": meta}.items()):
            pyogrio.write_dataframe(
                _for_gpkg(frame),
                tmp,
                layer=name,
                driver="GPKG",
                append=i > 0,
                dataset_options=_DATASET_OPTIONS if i == 0 else None,
                promote_to_multi=_polygons(frame),
            )
        os.replace(tmp, out)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    log.info("wrote %s", out)
    return out


def _polygons(frame: pd.DataFrame) -> bool:
    """True for a polygon layer: written as MultiPolygon, as GeoPackage readers prefer."""
    geom = getattr(frame, "geom_type", None)
    return geom is not None and bool(geom.str.contains("Polygon").any())


def add_layers(
    path: str | os.PathLike,
    layers: dict[str, pd.DataFrame],
    *,
    metadata: dict[str, str] | None = None,
) -> Path:
    """Add (or replace) layers and tables in an existing GeoPackage, atomically.

    The file is copied next to itself, changed, and moved back in place; ``metadata`` keys
    are added to (or replace those in) its ``run_metadata`` table.
    """
    import shutil

    target = Path(path)
    fd, tmp_name = tempfile.mkstemp(prefix=f".{target.stem}-", suffix=".gpkg", dir=target.parent)
    os.close(fd)
    tmp = Path(tmp_name)
    try:
        shutil.copyfile(target, tmp)
        existing = {str(n) for n in pyogrio.list_layers(tmp)[:, 0]}
        if metadata:
            old = (
                pyogrio.read_dataframe(tmp, layer="run_metadata")
                if "run_metadata" in existing
                else pd.DataFrame({"key": [], "value": []})
            )
            merged = dict(zip(old["key"], old["value"], strict=True))
            merged.update({k: str(v) for k, v in metadata.items()})
            layers = {
                **layers,
                "run_metadata": pd.DataFrame({"key": list(merged), "value": list(merged.values())}),
            }
        for name, frame in layers.items():
            pyogrio.write_dataframe(
                _for_gpkg(frame),
                tmp,
                layer=name,
                driver="GPKG",
                layer_options={"OVERWRITE": "YES"} if name in existing else None,
                promote_to_multi=_polygons(frame),
            )
        os.chmod(tmp, target.stat().st_mode)
        os.replace(tmp, target)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    log.info("updated %s: %s", target, ", ".join(layers))
    return target
