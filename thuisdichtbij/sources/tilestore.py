"""A tiled store of an OSM extract: GeoParquet files per square tile, for national scans.

One pass over the ``.osm.pbf`` (:func:`~thuisdichtbij.sources.osm.read_osm`) gives the
walkable-way candidates (two-point segments with the tags the network builder reads), the
amenity candidates and the dwelling points; they are reprojected once to the store's CRS
(RD New) and written per tile of ``tile_m`` metres:

- ``ways`` and ``features``: every segment and point that meets the tile grown by
  ``halo_m`` on each side, so a tile alone holds everything a dwelling in it can walk to;
- ``dwellings``: the points inside the tile itself (``x0 <= x < x0 + tile_m``, same for y),
  so each dwelling belongs to one tile.

The layout is ``store.json`` (tile size, halo, CRS, the keys the features were read with,
the tiles) and ``tiles/<ix>_<iy>/<layer>.parquet``: a task reads exactly its own files.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

import geopandas as gpd
import numpy as np
import shapely

from ..crs import to_metric
from ..errors import InputError, OutputError
from .osm import OsmExtract, read_osm

log = logging.getLogger(__name__)

__all__ = ["TileStore", "convert_pbf", "write_store", "open_store", "STORE_CRS"]

#: The CRS of every store: RD New, the Netherlands' metric CRS.
STORE_CRS = "EPSG:28992"
MANIFEST = "store.json"
LAYERS = ("ways", "features", "dwellings")
_FORMAT = 1

Tile = tuple[int, int]


@dataclass(frozen=True)
class TileStore:
    """An opened store: where it is, how it is cut, and what it was read with."""

    path: Path
    tile_m: float
    halo_m: float
    crs: str
    source: str
    feature_keys: tuple[str, ...]
    feature_prefilter: Mapping[str, tuple[str, ...] | None]
    dwellings_how: str
    tiles: tuple[Tile, ...]

    def box(self, tile: Tile, *, halo: bool = True) -> tuple[float, float, float, float]:
        """The tile's square ``(xmin, ymin, xmax, ymax)``, grown by the halo unless asked not to."""
        h = self.halo_m if halo else 0.0
        x0, y0 = tile[0] * self.tile_m, tile[1] * self.tile_m
        return (x0 - h, y0 - h, x0 + self.tile_m + h, y0 + self.tile_m + h)

    def read_tile(self, tile: Tile) -> OsmExtract:
        """The tile's layers, as the one-pass reader hands them over (but in the store CRS)."""
        folder = self.path / "tiles" / _tile_name(tile)
        if not folder.is_dir():
            raise InputError(f"tile store: {self.path} has no tile {_tile_name(tile)}")
        layers = {name: gpd.read_parquet(folder / f"{name}.parquet") for name in LAYERS}
        return OsmExtract(path=Path(self.source), dwellings_how=self.dwellings_how, **layers)


def _tile_name(tile: Tile) -> str:
    return f"{tile[0]}_{tile[1]}"


def convert_pbf(
    pbf: str | os.PathLike,
    out: str | os.PathLike,
    *,
    feature_keys: tuple[str, ...],
    feature_prefilter: Mapping[str, frozenset[str] | None] | None,
    tile_m: float = 10_000.0,
    halo_m: float = 1_500.0,
    chunk_ways: int = 100_000,
    overwrite: bool = False,
) -> TileStore:
    """Convert an extract into a tile store in one pass over the file (see the module).

    The ways are cut into tiles and written while the file is read, ``chunk_ways`` at a
    time, so memory holds the points (amenity candidates, dwellings) and one chunk of
    ways, never the country's streets.
    """
    writer = _StoreWriter(out, tile_m=tile_m, halo_m=halo_m, overwrite=overwrite)
    try:
        ext = read_osm(
            pbf,
            feature_keys=feature_keys,
            feature_prefilter=feature_prefilter,
            on_ways=writer.add_ways,
            chunk_ways=chunk_ways,
        )
        return writer.finish(
            features=ext.features,
            dwellings=ext.dwellings,
            source=Path(pbf).name,
            dwellings_how=ext.dwellings_how,
            feature_keys=feature_keys,
            feature_prefilter=feature_prefilter,
        )
    finally:
        writer.discard()


def _check_target(out: str | os.PathLike, *, overwrite: bool) -> Path:
    target = Path(out)
    if target.exists() and not (target / MANIFEST).exists() and any(target.iterdir()):
        raise OutputError(
            f"tile store: {target} exists and is not a tile store; choose an empty or new folder"
        )
    if (target / MANIFEST).exists() and not overwrite:
        raise OutputError(f"tile store: {target} already holds a store; pass --overwrite")
    return target


def write_store(
    out: str | os.PathLike,
    *,
    ways: gpd.GeoDataFrame | Iterable[gpd.GeoDataFrame],
    features: gpd.GeoDataFrame,
    dwellings: gpd.GeoDataFrame,
    source: str,
    dwellings_how: str,
    feature_keys: tuple[str, ...],
    feature_prefilter: Mapping[str, frozenset[str] | None] | None,
    tile_m: float = 10_000.0,
    halo_m: float = 1_500.0,
    overwrite: bool = False,
) -> TileStore:
    """Cut the three layers into tiles and write them, atomically (a new folder moved in place).

    The layers may be in any CRS; they are reprojected to :data:`STORE_CRS`. ``ways`` may
    come in pieces (any iterable of frames), each cut and written before the next is taken.
    """
    writer = _StoreWriter(out, tile_m=tile_m, halo_m=halo_m, overwrite=overwrite)
    try:
        for chunk in [ways] if isinstance(ways, gpd.GeoDataFrame) else ways:
            writer.add_ways(chunk)
        return writer.finish(
            features=features,
            dwellings=dwellings,
            source=source,
            dwellings_how=dwellings_how,
            feature_keys=feature_keys,
            feature_prefilter=feature_prefilter,
        )
    finally:
        writer.discard()


class _StoreWriter:
    """Writes a store into a temporary folder: ways chunk by chunk, then the points.

    Each chunk of ways goes to ``ways-<chunk>.parquet`` in every tile it meets; ``finish``
    joins a tile's chunks (in chunk order, so rows keep the reader's order) into
    ``ways.parquet``, writes the points, the manifest, and moves the folder into place.
    """

    def __init__(self, out, *, tile_m: float, halo_m: float, overwrite: bool) -> None:
        if not (1 <= tile_m <= 1e6 and 0 <= halo_m <= 1e5):
            raise InputError(
                f"tile store: the tile size must lie between 1 m and 1,000 km and the halo "
                f"between 0 and 100 km, got {tile_m!r} and {halo_m!r} m"
            )
        self.target = _check_target(out, overwrite=overwrite)
        self.tile_m, self.halo_m = float(tile_m), float(halo_m)
        self.tmp = self.target.with_name(f".{self.target.name}.part")
        shutil.rmtree(self.tmp, ignore_errors=True)
        self.chunks, self.n_ways = 0, 0
        self.way_tiles: set[Tile] = set()
        self.empty_ways: gpd.GeoDataFrame | None = None

    def folder(self, tile: Tile) -> Path:
        """The tile's folder in the temporary store (made when missing)."""
        folder = self.tmp / "tiles" / _tile_name(tile)
        folder.mkdir(parents=True, exist_ok=True)
        return folder

    def add_ways(self, ways: gpd.GeoDataFrame) -> None:
        """Cut a chunk of way segments into tiles and write each tile's part."""
        ways = to_metric(ways, STORE_CRS)
        if self.empty_ways is None:
            self.empty_ways = ways.iloc[:0]
        for tile, rows in _by_tile(ways, self.tile_m, self.halo_m).items():
            part = ways.iloc[rows].reset_index(drop=True)
            part.to_parquet(self.folder(tile) / f"ways-{self.chunks:06d}.parquet")
            self.way_tiles.add(tile)
        self.chunks += 1
        self.n_ways += len(ways)

    def finish(
        self, *, features, dwellings, source, dwellings_how, feature_keys, feature_prefilter
    ):
        """Write the points and the manifest; move the store into place."""
        points = {
            "features": to_metric(features, STORE_CRS),
            "dwellings": to_metric(dwellings, STORE_CRS),
        }
        parts = {
            "features": _by_tile(points["features"], self.tile_m, self.halo_m),
            "dwellings": _by_tile(points["dwellings"], self.tile_m, None),
        }
        tiles = sorted(self.way_tiles.union(*parts.values()))  # dwellings, and no street
        for tile in tiles:
            folder = self.folder(tile)
            self._join_ways(folder)
            for name, frame in points.items():
                rows = parts[name].get(tile, np.empty(0, dtype=np.int64))
                frame.iloc[rows].reset_index(drop=True).to_parquet(folder / f"{name}.parquet")
        manifest = {
            "format": _FORMAT,
            "tile_m": self.tile_m,
            "halo_m": self.halo_m,
            "crs": STORE_CRS,
            "source": source,
            "feature_keys": list(feature_keys),
            "feature_prefilter": _prefilter_json(feature_prefilter),
            "dwellings_how": dwellings_how,
            "tiles": [list(t) for t in tiles],
            "counts": {"ways": self.n_ways, **{n: int(len(f)) for n, f in points.items()}},
        }
        self.tmp.mkdir(parents=True, exist_ok=True)
        (self.tmp / MANIFEST).write_text(json.dumps(manifest, indent=1))
        # the old store is moved aside, not removed, until the new one is in its place: a
        # kill in between leaves one whole store at --out or beside it, never none
        old = self.target.with_name(f".{self.target.name}.old")
        shutil.rmtree(old, ignore_errors=True)
        if self.target.exists():
            os.replace(self.target, old)
        os.replace(self.tmp, self.target)
        shutil.rmtree(old, ignore_errors=True)
        log.info(
            "tile store: %d tiles of %g m (halo %g m) in %s",
            len(tiles),
            self.tile_m,
            self.halo_m,
            self.target,
        )
        return open_store(self.target)

    def _join_ways(self, folder: Path) -> None:
        """One ``ways.parquet`` from the tile's chunk files, in chunk order."""
        files = sorted(folder.glob("ways-*.parquet"))
        if len(files) == 1:
            os.replace(files[0], folder / "ways.parquet")
            return
        if files:
            _concat_parquet(files, folder / "ways.parquet")
        else:
            self.empty_ways.to_parquet(folder / "ways.parquet")
        for f in files:
            f.unlink()

    def discard(self) -> None:
        """Remove the temporary folder (after a failure; a finished store was moved away)."""
        shutil.rmtree(self.tmp, ignore_errors=True)


def _concat_parquet(files: list[Path], out: Path) -> None:
    """GeoParquet files of one layout joined in order, as Arrow tables (no geometry decoded).

    The GeoParquet metadata is the first file's with the bounding boxes and geometry types
    of all of them (pyarrow gives the joined rows a fresh index, as pandas' note of the
    first file's index no longer fits their number).
    """
    import pyarrow as pa
    import pyarrow.parquet as pq

    tables = [pq.read_table(f) for f in files]
    meta = dict(tables[0].schema.metadata)
    geo = [json.loads(t.schema.metadata[b"geo"]) for t in tables]
    merged = geo[0]
    for name, column in merged["columns"].items():
        boxes = np.array([g["columns"][name].get("bbox", [np.nan] * 4) for g in geo], float)
        if np.isnan(boxes).any():
            column.pop("bbox", None)
        else:
            column["bbox"] = [*boxes[:, :2].min(axis=0), *boxes[:, 2:].max(axis=0)]
        types = {t for g in geo for t in g["columns"][name].get("geometry_types", [])}
        column["geometry_types"] = sorted(types)
    meta[b"geo"] = json.dumps(merged).encode()
    table = pa.concat_tables(tables, promote_options="permissive")
    pq.write_table(table.replace_schema_metadata(meta), out)


def _prefilter_json(prefilter) -> dict | None:
    if prefilter is None:
        return None
    return {k: (None if v is None else sorted(v)) for k, v in sorted(prefilter.items())}


def _by_tile(gdf: gpd.GeoDataFrame, tile_m: float, halo_m: float | None) -> dict[Tile, np.ndarray]:
    """Row positions per tile: those meeting the tile plus halo, or (no halo) inside the tile.

    Candidates come from each row's bounds (a segment may meet up to four grown tiles), then
    an exact ``intersects`` with the grown square keeps those that really meet it.
    """
    geoms = gdf.geometry.to_numpy()
    if halo_m is None:
        ij = np.floor(shapely.get_coordinates(geoms) / tile_m).astype(np.int64)
        return _group(np.arange(len(gdf)), ij)
    b = shapely.bounds(geoms)
    lo = np.ceil((b[:, :2] - halo_m) / tile_m - 1).astype(np.int64)
    hi = np.floor((b[:, 2:] + halo_m) / tile_m).astype(np.int64)
    rows, ij = [], []
    for dx in range(int((hi - lo)[:, 0].max(initial=0)) + 1):
        for dy in range(int((hi - lo)[:, 1].max(initial=0)) + 1):
            cand = np.flatnonzero((lo[:, 0] + dx <= hi[:, 0]) & (lo[:, 1] + dy <= hi[:, 1]))
            rows.append(cand)
            ij.append(lo[cand] + [dx, dy])
    candidates = _group(np.concatenate(rows), np.concatenate(ij))
    out = {}
    for (i, j), cand in candidates.items():  # one square per tile, not one per candidate
        x0, y0 = i * tile_m - halo_m, j * tile_m - halo_m
        grown = shapely.box(x0, y0, x0 + tile_m + 2 * halo_m, y0 + tile_m + 2 * halo_m)
        shapely.prepare(grown)
        meets = cand[shapely.intersects(grown, geoms[cand])]
        if len(meets):
            out[(i, j)] = meets
    return out


def _group(rows: np.ndarray, ij: np.ndarray) -> dict[Tile, np.ndarray]:
    """Row positions per tile key, each list in row order."""
    if not len(rows):
        return {}
    order = np.lexsort((rows, ij[:, 1], ij[:, 0]))
    rows, ij = rows[order], ij[order]
    keys, start = np.unique(ij, axis=0, return_index=True)
    bounds = [*start[1:], len(rows)]
    return {(int(k[0]), int(k[1])): rows[s:e] for k, s, e in zip(keys, start, bounds)}


def open_store(path: str | os.PathLike) -> TileStore:
    """Open a store written by :func:`write_store`; a one-line error when it is none."""
    p = Path(path)
    try:
        m = json.loads((p / MANIFEST).read_text())
    except OSError:  # missing, a file instead of a folder, not readable
        raise InputError(
            f"tile store: {p} has no readable {MANIFEST}; make a store first with: "
            "thuisdichtbij tiles EXTRACT.osm.pbf --out FOLDER"
        ) from None
    except ValueError as exc:
        raise InputError(f"tile store: {p / MANIFEST} is damaged ({exc}); convert again") from exc
    if m.get("format") != _FORMAT:
        raise InputError(
            f"tile store: {p} has format {m.get('format')!r}, this version reads {_FORMAT}; "
            "convert the extract again"
        )
    pre = m["feature_prefilter"]
    return TileStore(
        path=p,
        tile_m=float(m["tile_m"]),
        halo_m=float(m["halo_m"]),
        crs=m["crs"],
        source=m["source"],
        feature_keys=tuple(m["feature_keys"]),
        feature_prefilter=None
        if pre is None
        else {k: (None if v is None else tuple(v)) for k, v in pre.items()},
        dwellings_how=m["dwellings_how"],
        tiles=tuple((int(a), int(b)) for a, b in m["tiles"]),
    )
