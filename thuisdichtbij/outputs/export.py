"""Writing a scan to a GeoPackage: typed layers, a metadata table, written atomically."""

from __future__ import annotations

import logging
import os
import shutil
from contextlib import contextmanager
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import shapely

from .._process_wide import GC_PAUSED, ProcessWide
from ..errors import OutputError
from ..sources._io import POLYGON_TYPES
from .paths import check_output, clean_stale, target_lock, temporary

log = logging.getLogger(__name__)

__all__ = ["write_gpkg", "write_layers", "add_layers", "check_scan_target", "LAYERS"]

#: Layer names of a scan GeoPackage.
LAYERS = (
    "dwellings",
    "areas",
    "amenities",
    "network",
    "grid",
    "safety_areas",
    "context",
    "audit",
    "layer_styles",
    "run_metadata",
)

# GeoPackage 1.2 opens without warnings in QGIS 3.22 and older ArcGIS releases.
_DATASET_OPTIONS = {"VERSION": "1.2"}
# The SQLite application_id of a GeoPackage (1.0, 1.1, 1.2+), at byte 68 of the file.
_GPKG_IDS = (b"GP10", b"GP11", b"GPKG")


def _for_gpkg(gdf: pd.DataFrame) -> pd.DataFrame:
    """Infinite distances (no amenity within reach) become NULL, as GeoPackage readers expect."""
    nulled = {}
    for col in gdf.columns:
        if pd.api.types.is_float_dtype(gdf[col]):
            inf = np.isinf(gdf[col].to_numpy(dtype=float, na_value=np.nan))
            if inf.any():
                nulled[col] = gdf[col].where(~inf)
    return gdf.assign(**nulled) if nulled else gdf


_SYNC_KEY = "OGR_SQLITE_SYNCHRONOUS"


def _sync_off():
    before = pyogrio.get_gdal_config_option(_SYNC_KEY)
    pyogrio.set_gdal_config_options({_SYNC_KEY: "OFF"})
    return before


#: SQLite's sync off while any writer of this process (threads of the web server) writes.
_UNSYNCED = ProcessWide(
    _sync_off, lambda before: pyogrio.set_gdal_config_options({_SYNC_KEY: before})
)


@contextmanager
def _one_sync(path: Path):
    """Write a temporary GeoPackage without SQLite's sync after every layer; sync it once.

    SQLite syncs the file to disk at every commit, and every layer is a commit: on a busy
    disk that was most of the writing time. The file is a temporary one, moved into place
    only when whole, so one sync before the move keeps a crash from leaving a half file.
    GDAL's setting is process-wide: it is restored when the last writer of this process
    (threads of the web server) is done. The garbage collector rests meanwhile (see
    :data:`~thuisdichtbij._process_wide.GC_PAUSED`).
    """
    with _UNSYNCED.held(), GC_PAUSED.held():
        yield
    with open(path, "rb+") as f:
        os.fsync(f.fileno())


def move_into_place(tmp: Path, target: Path) -> None:
    """Move a whole temporary file over ``target`` and make the move itself durable.

    The rename is atomic; syncing the folder afterwards (where the system allows it) keeps
    a power cut from bringing the old file back after the command said it wrote the new.
    """
    os.replace(tmp, target)
    if not hasattr(os, "O_DIRECTORY"):  # Windows: a folder cannot be opened to sync it
        return
    fd = os.open(target.parent, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def gpkg_layers(path: Path, *, what: str = "output") -> list[str]:
    """Layer names of an existing GeoPackage; :class:`OutputError` when it is none."""
    try:
        with open(path, "rb") as f:
            head = f.read(72)
        if head[:16] != b"SQLite format 3\x00" or head[68:72] not in _GPKG_IDS:
            raise ValueError("no GeoPackage header")
        return [str(n) for n in pyogrio.list_layers(path)[:, 0]]
    except Exception as exc:  # pyogrio raises DataSourceError and friends from GDAL
        raise OutputError(
            f"{what}: {path} exists but is not a GeoPackage ({str(exc).splitlines()[0]}); "
            "choose another name, or move that file away"
        ) from exc


def check_scan_target(path: str | os.PathLike, *, overwrite: bool = False) -> Path:
    """Check that a scan may be written to ``path`` without losing anything.

    The path must be writable (:func:`~thuisdichtbij.outputs.paths.check_output`). An
    existing file is replaced only when it holds nothing but a scan's own layers, or when
    ``overwrite`` is true: layers that ``zones``, ``fairshare``, ``demand`` or
    ``compare-zones`` added are never dropped without being asked.
    """
    out = check_output(path, what="output", suffixes=(".gpkg",))
    if overwrite or not out.exists():
        return out
    try:
        have = gpkg_layers(out)
    except OutputError:
        return out  # not a GeoPackage: no layers to lose, replaced as before
    extra = [n for n in have if n not in LAYERS]
    if extra:
        raise OutputError(
            f"output: {out} holds layer(s) a scan does not write ({', '.join(extra)}); a new "
            "scan would drop them. Write to another file, or pass --overwrite "
            "(overwrite=True) to replace it"
        )
    return out


def write_gpkg(
    result, path: str | os.PathLike, *, overwrite: bool = False, lang: str = "nl"
) -> Path:
    """Write a :class:`~thuisdichtbij.scan.ScanResult` to ``path``.

    Layers ``dwellings`` (points), ``areas`` (polygons), ``amenities`` (points), the
    walking ``network`` (lines: ``u``, ``v``, ``length_m``, ``name``), ``safety_areas``
    (polygons with their safety points, when the run had Leefbaarometer data), ``context``
    (water and large green polygons, in every scan of an OSM extract, empty when it has
    none that are large enough: ``kind``, ``name``, ``source_id``), the table
    ``audit`` (the data audit) and the table ``run_metadata`` (``key``, ``value``); see
    :func:`write_layers`. ``NULL`` in ``dist_<id>`` means no amenity within the largest
    band. An existing file holding layers a scan does not write (zones, fairshare, ...) is
    refused unless ``overwrite``.
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
    if getattr(result, "context", None) is not None:  # a scan of an extract: maybe empty
        layers["context"] = result.context
    if getattr(result, "audit", None) is not None:
        layers["audit"] = result.audit
    from .styles import layer_styles

    layers["layer_styles"] = layer_styles(list(layers), lang=lang)
    return write_layers(
        path,
        layers,
        metadata=result.metadata,
        check=lambda out: check_scan_target(out, overwrite=overwrite),
    )


def write_layers(
    path: str | os.PathLike,
    layers: dict[str, pd.DataFrame],
    *,
    metadata: dict[str, str],
    check=None,
) -> Path:
    """Write layers (GeoDataFrames) and tables (DataFrames) and ``run_metadata`` to a new file.

    The file is written next to ``path`` under a temporary name and moved into place when
    complete, so a failed write never leaves a broken file where a good one was. Writers of
    one file take turns (a lock beside it); ``check(path)``, when given, runs under the lock
    just before the file is replaced.
    """
    out = check_output(path, what="output", suffixes=(".gpkg",))
    meta = pd.DataFrame({"key": list(metadata), "value": [str(v) for v in metadata.values()]})
    with target_lock(out):
        clean_stale(out)
        if check is not None:
            check(out)
        tmp = temporary(out)
        try:
            with _one_sync(tmp):
                for i, (name, frame) in enumerate({**layers, "run_metadata": meta}.items()):
                    _write(
                        frame,
                        tmp,
                        layer=name,
                        append=i > 0,
                        dataset_options=_DATASET_OPTIONS if i == 0 else None,
                        geometry_type=_EMPTY_AS.get(name) if len(frame) == 0 else None,
                    )
            move_into_place(tmp, out)
        except BaseException:
            tmp.unlink(missing_ok=True)
            raise
    log.info("wrote %s", out)
    return out


def _write(frame: pd.DataFrame, path: Path, **options) -> None:
    """One layer into a GeoPackage, through Arrow.

    GDAL's columnar writer: the same file, field for field, in 80 % of the time (Aachen's
    scan 0.63 s against 0.51 s).
    """
    pyogrio.write_dataframe(
        _for_gpkg(frame),
        path,
        driver="GPKG",
        promote_to_multi=_polygons(frame),
        use_arrow=True,
        **options,
    )


#: The geometry type of a layer that may be written empty (no geometry to tell it by).
_EMPTY_AS = {"context": "MultiPolygon", "areas": "MultiPolygon", "grid": "MultiPolygon"}


def _polygons(frame: pd.DataFrame) -> bool:
    """True for a polygon layer: written as MultiPolygon, as GeoPackage readers prefer."""
    if not isinstance(frame, gpd.GeoDataFrame) or frame.active_geometry_name is None:
        return False
    # by type id: pandas' string methods on the type names cost 50 ms on their first call
    return bool(np.isin(shapely.get_type_id(frame.geometry.to_numpy()), POLYGON_TYPES).any())


def check_add_target(path: str | os.PathLike, *, what: str = "output") -> Path:
    """Check that layers can be added to the existing GeoPackage ``path``."""
    target = check_output(path, what=what, suffixes=(".gpkg",))
    if not target.is_file():
        raise OutputError(f"{what}: {target} does not exist; write a scan there first")
    gpkg_layers(target, what=what)
    return target


def _merged_metadata(tmp: Path, existing: set[str], metadata: dict[str, str]) -> pd.DataFrame:
    old = (
        pyogrio.read_dataframe(tmp, layer="run_metadata")
        if "run_metadata" in existing
        else pd.DataFrame({"key": [], "value": []})
    )
    merged = dict(zip(old["key"], old["value"], strict=True))
    merged.update({k: str(v) for k, v in metadata.items()})
    return pd.DataFrame({"key": list(merged), "value": list(merged.values())})


def _merged_styles(tmp: Path, existing: set[str], styles: pd.DataFrame) -> pd.DataFrame:
    """The file's QGIS layer styles with ``styles`` in: a layer's new style replaces its old."""
    if "layer_styles" not in existing:
        return styles
    old = pyogrio.read_dataframe(tmp, layer="layer_styles")
    keep = old[~old["f_table_name"].isin(styles["f_table_name"])]
    if keep.empty:
        return styles
    return pd.concat([keep, styles], ignore_index=True) if len(styles) else keep


def _require_same_place(target: Path, existing: set[str], layers: dict[str, pd.DataFrame]):
    """Refuse to add map layers that lie wholly elsewhere than the file's own (another study)."""
    own = next((n for n in ("areas", "dwellings") if n in existing), None)
    new = {n: f for n, f in layers.items() if getattr(f, "crs", None) is not None and len(f)}
    if own is None or not new:
        return
    info = pyogrio.read_info(target, layer=own, force_total_bounds=True)
    if not info.get("crs") or info.get("total_bounds") is None:
        return
    ob = np.asarray(info["total_bounds"], dtype=float)
    for name, frame in new.items():
        b = np.asarray(frame.to_crs(info["crs"]).total_bounds, dtype=float)
        if b[0] > ob[2] or b[2] < ob[0] or b[1] > ob[3] or b[3] < ob[1]:
            raise OutputError(
                f"output: layer '{name}' (x {b[0]:.0f} to {b[2]:.0f}, y {b[1]:.0f} to "
                f"{b[3]:.0f}) lies wholly outside the '{own}' of {target.name} (x {ob[0]:.0f} "
                f"to {ob[2]:.0f}, y {ob[1]:.0f} to {ob[3]:.0f}): it belongs to another study "
                "area. Write it to a file of its own"
            )


def add_layers(
    path: str | os.PathLike,
    layers: dict[str, pd.DataFrame],
    *,
    metadata: dict[str, str] | None = None,
) -> Path:
    """Add (or replace) layers and tables in an existing GeoPackage, atomically.

    The file is copied next to itself, changed, and moved back in place; ``metadata`` keys
    are added to (or replace those in) its ``run_metadata`` table, and the rows of a
    ``layer_styles`` table among ``layers`` (:func:`~.styles.layer_styles`) to the file's:
    the styles of the layers it names are replaced, the others kept. The whole
    read-change-replace holds a lock on the file, so two commands adding layers to one
    GeoPackage at the same time both keep theirs, and their styles.
    """
    target = check_add_target(path)
    with target_lock(target):
        clean_stale(target)
        existing = set(gpkg_layers(target))
        _require_same_place(target, existing, layers)
        tmp = temporary(target)
        try:
            shutil.copyfile(target, tmp)
            if "layer_styles" in layers:
                styles = _merged_styles(tmp, existing, layers["layer_styles"])
                layers = {**layers, "layer_styles": styles}
            if metadata:
                layers = {**layers, "run_metadata": _merged_metadata(tmp, existing, metadata)}
            with _one_sync(tmp):
                for name, frame in layers.items():
                    _write(
                        frame,
                        tmp,
                        layer=name,
                        layer_options={"OVERWRITE": "YES"} if name in existing else None,
                    )
            os.chmod(tmp, target.stat().st_mode)
            move_into_place(tmp, target)
        except BaseException:
            tmp.unlink(missing_ok=True)
            raise
    log.info("updated %s: %s", target, ", ".join(layers))
    return target
