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
the tiles, how long the conversion took) and ``tiles/<ix>_<iy>/<layer>.parquet``: a task
reads exactly its own files.

A country is converted by several processes (``processes``): the node locations are
gathered once and shared, each process reads runs of the file's blocks and cuts their ways
into tiles, and the tiles are finished in parallel; the store is the one a single process
writes, layer for layer and row for row.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import sys
import time
from collections.abc import Iterable, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import NamedTuple

import geopandas as gpd
import numpy as np
import shapely

from ..crs import to_metric
from ..errors import InputError, OutputError, ThuisdichtbijError
from .osm import (
    OsmExtract,
    extract_from_runs,
    no_highways,
    node_locations,
    read_osm,
    read_relations,
    read_run,
)
from .pbf_blocks import pbf_runs

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
        return _square(tile, self.tile_m, self.halo_m if halo else 0.0)

    def read_tile(self, tile: Tile) -> OsmExtract:
        """The tile's layers, as the one-pass reader hands them over (but in the store CRS)."""
        folder = self.path / "tiles" / _tile_name(tile)
        if not folder.is_dir():
            raise InputError(f"tile store: {self.path} has no tile {_tile_name(tile)}")
        layers = {name: gpd.read_parquet(folder / f"{name}.parquet") for name in LAYERS}
        return OsmExtract(path=Path(self.source), dwellings_how=self.dwellings_how, **layers)


def _square(tile: Tile, tile_m: float, halo_m: float) -> tuple[float, float, float, float]:
    """A tile's square ``(xmin, ymin, xmax, ymax)`` grown by ``halo_m`` on each side."""
    x0, y0 = tile[0] * tile_m, tile[1] * tile_m
    return (x0 - halo_m, y0 - halo_m, x0 + tile_m + halo_m, y0 + tile_m + halo_m)


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
    processes: int = 1,
    progress: bool = False,
    overwrite: bool = False,
) -> TileStore:
    """Convert an extract into a tile store in one pass over the file (see the module).

    The ways are cut into tiles and written while the file is read, ``chunk_ways`` at a
    time, so memory holds the points (amenity candidates, dwellings) and one chunk of
    ways, never the country's streets. With ``processes`` > 1 the file is read by that many
    forked processes, each a run of its blocks at a time (:func:`_read_in_parts`), and the
    tiles are finished in parallel; the store is the same, layer for layer and row for
    row; ``progress`` shows a bar over the runs read.
    """
    if processes < 1:
        raise InputError(f"tile store: processes must be 1 or more, got {processes!r}")
    if processes > 1 and not _can_fork():
        log.warning("tile store: this system cannot fork processes; converting in one")
        processes = 1
    writer = _StoreWriter(out, tile_m=tile_m, halo_m=halo_m, overwrite=overwrite)
    clock = time.perf_counter()
    try:
        keys = tuple(dict.fromkeys(feature_keys))
        options = {"feature_keys": keys, "feature_prefilter": feature_prefilter}
        if processes > 1:
            ext = _read_in_parts(
                pbf, writer, processes, progress=progress, chunk_ways=chunk_ways, options=options
            )
        else:
            ext = read_osm(pbf, on_ways=writer.add_ways, chunk_ways=chunk_ways, **options)
            writer.seconds["read"] = time.perf_counter() - clock
        return writer.finish(
            features=ext.features,
            dwellings=ext.dwellings,
            source=Path(pbf).name,
            dwellings_how=ext.dwellings_how,
            processes=processes,
            **options,
        )
    finally:
        writer.discard()


#: What forked conversion workers inherit from the process that forks them: the store
#: writer, the shared node locations (a C++ index, not picklable) and the reading options.
_FORKED: dict = {}
#: Runs of blocks per process in a parallel conversion: several, so that the processes
#: finish together, and not many, as each run leaves its own part file in every tile its
#: ways meet (a PBF lists ways by id, not by place: on a country, nearly every tile)
RUNS_PER_PROCESS = 4


def _can_fork() -> bool:
    """Whether worker processes can be forked here: on Linux only.

    Windows has no fork, and on macOS forking a process that has loaded system frameworks
    is unsafe.
    """
    import multiprocessing

    return sys.platform.startswith("linux") and "fork" in multiprocessing.get_all_start_methods()


@contextmanager
def _forked_workers(processes: int, **inherit):
    """``processes`` forked worker processes that inherit ``inherit`` (see :data:`_FORKED`).

    A worker killed from outside (the out-of-memory killer, most likely) becomes a
    one-line error instead of a wait without end. On any error or interrupt in the parent
    the workers are killed at once (no worker writes into the store afterwards, and a
    second Ctrl-C cannot leave a wait on them); workers die with the parent (a ``kill``
    of it leaves none behind) and leave Ctrl-C to it.
    """
    import multiprocessing
    import warnings
    from concurrent.futures import ProcessPoolExecutor
    from concurrent.futures.process import BrokenProcessPool

    _FORKED.clear()
    _FORKED.update(inherit)
    context = multiprocessing.get_context("fork")
    pool = ProcessPoolExecutor(processes, mp_context=context, initializer=_worker_start)
    failed = False
    try:
        with warnings.catch_warnings():
            # Python 3.12+ warns of fork in a process with threads (pyarrow's, BLAS'): the
            # workers use none of the parent's locks before their own imports re-create them
            warnings.filterwarnings("ignore", "This process .* is multi-threaded", Warning)
            yield pool
    except BrokenProcessPool as exc:
        failed = True
        _kill_workers(pool)
        raise ThuisdichtbijError(
            "tile store: a conversion process died (out of memory?); try fewer --processes"
        ) from exc
    except BaseException:
        failed = True
        _kill_workers(pool)
        raise
    finally:
        try:
            pool.shutdown(wait=True, cancel_futures=True)
        except RuntimeError:
            # an interrupt that landed while the pool started its thread leaves one never
            # started ("cannot join thread before it is started"): the interrupt, not this
            # error, is what ends the run; nothing runs that could be waited for
            if not failed:
                raise
        finally:
            _FORKED.clear()


def _worker_start() -> None:
    """In each forked worker, first: die with the parent, and leave Ctrl-C to it."""
    import ctypes
    import signal

    signal.signal(signal.SIGINT, signal.SIG_IGN)
    pr_set_pdeathsig = 1  # prctl(2); workers are forked on Linux only (see _can_fork)
    ctypes.CDLL(None, use_errno=True).prctl(pr_set_pdeathsig, signal.SIGKILL)


def _kill_workers(pool) -> None:
    """Kill the pool's worker processes now (Python 3.14 has ``kill_workers``).

    The pool is told to shut down first, so that its manager thread takes the workers'
    deaths as the end of the work. A worker killed while it sent its result leaves half a
    message in the pool's result pipe, and the manager, reading it, would wait for the rest
    for ever: this process holds the pipe's writing end open too (it never writes). A
    manager still running once the workers are gone is in that read: this process's end is
    closed, so the read ends and the pool shuts down as broken. (One CI run stopped for good
    in this state: the parent idle, the killed workers unreaped.)
    """
    from multiprocessing.connection import wait

    processes = list((getattr(pool, "_processes", None) or {}).values())
    manager = getattr(pool, "_executor_manager_thread", None)
    writer = getattr(getattr(pool, "_result_queue", None), "_writer", None)
    started = manager is not None and manager.ident is not None
    if started:
        pool.shutdown(wait=False, cancel_futures=True)
    for process in processes:
        process.kill()
    gone = all(wait([process.sentinel], timeout=10) for process in processes)
    if not (gone and started and writer is not None):
        return
    manager.join(timeout=2)  # with its workers dead, a manager that is not stuck ends
    if manager.is_alive():
        # the broken pool fails its unfinished futures: not those cancelled already
        pending = getattr(manager, "pending_work_items", {})
        for work_id, item in list(pending.items()):
            if item.future.done():
                del pending[work_id]
        writer.close()
        manager.join(timeout=10)


class _Run(NamedTuple):
    """What a worker hands back for one run of blocks."""

    features: gpd.GeoDataFrame
    dwellings: gpd.GeoDataFrame
    way_tiles: set
    n_ways: int
    empty_ways: gpd.GeoDataFrame | None
    cpu_s: float


def _read_in_parts(
    pbf, writer: _StoreWriter, processes: int, *, progress: bool, chunk_ways: int, options: dict
) -> OsmExtract:
    """The pass of :func:`read_osm` by ``processes`` processes; the ways written as read.

    The node locations are gathered once, in C++, and inherited by the forked workers
    (one index for all, not one per process: a country has hundreds of millions of
    nodes). Each worker reads runs of the file's blocks (:data:`RUNS_PER_PROCESS` per
    process, taken as workers come free: a run of nodes takes a fraction of a run of
    ways' time), makes its features and dwellings points, and cuts its ways into the store
    as :meth:`_StoreWriter.add_ways` does, under its run's number so that each tile's ways
    keep file order; one worker also assembles the multipolygon relations, beside the runs
    (its time is recorded apart: it does not shrink with more processes).
    """
    clock = time.perf_counter()
    index = node_locations(pbf)
    header, runs = pbf_runs(pbf, RUNS_PER_PROCESS * processes)
    writer.seconds["index"] = time.perf_counter() - clock
    inherit = {"pbf": pbf, "header": header, "writer": writer, "index": index}
    inherit.update(options=options, chunk_ways=chunk_ways)
    with _forked_workers(processes, **inherit) as pool:
        relations = pool.submit(_read_relations_forked)
        parts = pool.map(_read_run_forked, list(enumerate(runs)))
        if progress:
            from tqdm.auto import tqdm

            parts = tqdm(parts, total=len(runs), unit="run", desc="tiles", leave=False)
        parts: list[_Run] = list(parts)
        writer.seconds["runs"] = time.perf_counter() - clock - writer.seconds["index"]
        relation_features, writer.seconds["relations"], relations_cpu = relations.result()
    writer.seconds["runs_cpu"] = sum(part.cpu_s for part in parts)
    writer.seconds["relations_cpu"] = relations_cpu
    for part in parts:
        writer.way_tiles |= part.way_tiles
        writer.n_ways += part.n_ways
        writer.empty_ways = part.empty_ways if writer.empty_ways is None else writer.empty_ways
    if not writer.n_ways:
        raise no_highways(pbf)
    log.info("tile store: %s read in %d runs by %d processes", Path(pbf).name, len(runs), processes)
    clock = time.perf_counter()
    points = [(part.features, part.dwellings) for part in parts]
    ext = extract_from_runs(pbf, points, relation_features)
    writer.seconds["merge"] = time.perf_counter() - clock
    return ext


def _read_run_forked(job) -> _Run:
    """In a forked worker: one run of blocks (see :func:`_read_in_parts`)."""
    run, blocks = job
    cpu = time.process_time()
    writer = _FORKED["writer"]
    writer.start_run(run)
    features, dwellings = read_run(
        _FORKED["pbf"],
        _FORKED["header"],
        blocks,
        _FORKED["index"],
        on_ways=writer.add_ways,
        chunk_ways=_FORKED["chunk_ways"],
        **_FORKED["options"],
    )
    return _Run(
        features,
        dwellings,
        writer.way_tiles,
        writer.n_ways,
        writer.empty_ways,
        time.process_time() - cpu,
    )


def _read_relations_forked():
    """In a forked worker: the multipolygon features, their wall and CPU seconds."""
    clock, cpu = time.perf_counter(), time.process_time()
    features = read_relations(_FORKED["pbf"], _FORKED["index"], **_FORKED["options"])
    return features, time.perf_counter() - clock, time.process_time() - cpu


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
        self.part, self.chunks, self.n_ways = 0, 0, 0  # part: the run of blocks read
        self.seconds: dict[str, float] = {}
        self.way_tiles: set[Tile] = set()
        self.empty_ways: gpd.GeoDataFrame | None = None

    def folder(self, tile: Tile) -> Path:
        """The tile's folder in the temporary store (made when missing)."""
        folder = self.tmp / "tiles" / _tile_name(tile)
        folder.mkdir(parents=True, exist_ok=True)
        return folder

    def start_run(self, run: int) -> None:
        """In a worker: the ways added next are run ``run``'s (its part files, its counts)."""
        self.part, self.chunks, self.way_tiles, self.n_ways = run, 0, set(), 0

    def add_ways(self, ways: gpd.GeoDataFrame) -> None:
        """Cut a chunk of way segments into tiles and write each tile's part."""
        ways = to_metric(ways, STORE_CRS)
        if self.empty_ways is None:
            self.empty_ways = ways.iloc[:0]
        for tile, rows in _by_tile(ways, self.tile_m, self.halo_m).items():
            part = ways.iloc[rows].reset_index(drop=True)
            name = f"ways-{self.part:05d}-{self.chunks:06d}.parquet"  # sorts in file order
            part.to_parquet(self.folder(tile) / name)
            self.way_tiles.add(tile)
        self.chunks += 1
        self.n_ways += len(ways)

    def finish(
        self,
        *,
        features,
        dwellings,
        source,
        dwellings_how,
        feature_keys,
        feature_prefilter,
        processes: int = 1,
    ):
        """Write the points and the manifest; move the store into place.

        With ``processes`` > 1 the tiles are written by that many forked workers.
        """
        clock = time.perf_counter()
        points = {
            "features": to_metric(features, STORE_CRS),
            "dwellings": to_metric(dwellings, STORE_CRS),
        }
        parts = {
            "features": _by_tile(points["features"], self.tile_m, self.halo_m),
            "dwellings": _by_tile(points["dwellings"], self.tile_m, None),
        }
        tiles = sorted(self.way_tiles.union(*parts.values()))  # dwellings, and no street
        self.seconds["cut"] = time.perf_counter() - clock
        if processes > 1 and len(tiles) > 1:
            with _forked_workers(processes, writer=self, points=points, parts=parts) as pool:
                size = max(1, len(tiles) // (RUNS_PER_PROCESS * processes))
                cpu = pool.map(_write_tile_forked, tiles, chunksize=size)
                self.seconds["tiles_cpu"] = sum(cpu)
        else:
            for tile in tiles:
                self.write_tile(tile, points, parts)
        self.seconds["tiles"] = time.perf_counter() - clock - self.seconds["cut"]
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
            # how long it took, and with how many processes (provenance, and the benchmark's)
            "conversion": {
                "processes": processes,
                **{f"{k}_s": round(v, 2) for k, v in self.seconds.items()},
            },
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

    def write_tile(self, tile: Tile, points: dict, parts: dict) -> None:
        """One tile's files: its ways joined, its features and dwellings."""
        folder = self.folder(tile)
        self._join_ways(folder)
        for name, frame in points.items():
            rows = parts[name].get(tile, np.empty(0, dtype=np.int64))
            frame.iloc[rows].reset_index(drop=True).to_parquet(folder / f"{name}.parquet")

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


def _write_tile_forked(tile: Tile) -> float:
    """In a forked worker: one tile of :meth:`_StoreWriter.finish`."""
    cpu = time.process_time()
    _FORKED["writer"].write_tile(tile, _FORKED["points"], _FORKED["parts"])
    return time.process_time() - cpu


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
    for tile, cand in candidates.items():  # one square per tile, not one per candidate
        grown = shapely.box(*_square(tile, tile_m, halo_m))
        shapely.prepare(grown)
        meets = cand[shapely.intersects(grown, geoms[cand])]
        if len(meets):
            out[tile] = meets
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
