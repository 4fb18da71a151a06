"""Partitioned scans: the snapping and distance work of a large study, tile by tile, on Dask.

The study is cut into square tiles by dwelling location. Each tile gets the network edges
within ``max_distance_m + max_snap_m`` of it and the amenities within ``max_distance_m``:

- a dwelling's own edge lies within the snap limit of it;
- a walk of at most ``max_distance_m`` (snap steps included) never leaves a circle of that
  radius around the dwelling, so every amenity it can reach lies within ``max_distance_m``
  of the tile, and every edge of the walk within that radius;
- such an amenity's nearest edge lies within the snap limit of the amenity, so inside the
  tile's edges too (with every equally near edge, in the same order, so ties go the same
  way).

So every dwelling gets exactly the distances a single-process scan gives it. The tiles are
built from the already built network (fragments were dropped on the whole), run with
:func:`thuisdichtbij.snap.snap_points` and
:func:`thuisdichtbij.distance.indicator_distances` like the scan itself, and merged by
dwelling, each dwelling belonging to one tile. Scoring and classes stay with the caller:
they are relative to the whole study.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from contextlib import contextmanager
from dataclasses import dataclass

import numpy as np
import shapely

from ..errors import ConfigError
from ..settings import THREADS_ENV
from .distance import indicator_distances
from .network import Network
from .rows import unique_rows
from .snap import snap_points

log = logging.getLogger(__name__)

__all__ = [
    "Tiling",
    "TileResult",
    "tiled_distances",
    "run_tile",
    "tile_of",
    "local_cluster",
    "dask_client",
]

#: Extra metres around each tile, against rounding at the very edge.
_MARGIN_M = 1.0


@dataclass(frozen=True)
class Tiling:
    """How to partition a scan: tile size, and where to run the tiles.

    ``scheduler`` is the address of a running Dask scheduler; without it a LocalCluster of
    ``workers`` processes is started for the run and closed after it.
    """

    tile_m: float = 5000.0
    workers: int = 2
    scheduler: str | None = None

    def __post_init__(self):
        if not self.tile_m > 0:
            raise ConfigError(f"tiles: the tile size must be positive, got {self.tile_m!r} m")
        if self.workers < 1:
            raise ConfigError(f"tiles: at least one worker is needed, got {self.workers!r}")


@dataclass(frozen=True)
class TileResult:
    """What one tile hands back, in the order of its dwellings."""

    snapped: np.ndarray
    snap_m: np.ndarray
    distances: Mapping[str, np.ndarray]


def tile_of(xy: np.ndarray, tile_m: float) -> np.ndarray:
    """Integer tile coordinates ``(ix, iy)`` of each point."""
    return np.floor(xy / tile_m).astype(np.int64)


def run_tile(
    arrays: Mapping[str, np.ndarray],
    dwellings_xy: np.ndarray,
    amenities_xy: np.ndarray,
    amenity_indicator: np.ndarray,
    indicator_ids: tuple[str, ...],
    max_snap_m: float,
    max_distance_m: float,
) -> TileResult:
    """Snap and measure one tile (runs in a worker)."""
    net = Network.from_array_dict(arrays)
    d = snap_points(shapely.points(dwellings_xy), net, max_snap_m=max_snap_m)
    a = snap_points(shapely.points(amenities_xy), net, max_snap_m=max_snap_m)
    dist = indicator_distances(
        net, d, a, amenity_indicator, indicator_ids, max_distance_m=max_distance_m
    )
    return TileResult(d.ok, d.snap_m, dist)


def _tiles(net, dwellings_xy, amenities_xy, amenity_indicator, *, tile_m, reach_m, snap_m):
    """Yield (dwelling positions, run_tile arguments) per non-empty tile."""
    tiles = tile_of(dwellings_xy, tile_m)
    keys, inverse = unique_rows(tiles)
    for k, (ix, iy) in enumerate(keys):
        pos = np.flatnonzero(inverse == k)
        x0, y0 = ix * tile_m, iy * tile_m
        edge_box = shapely.box(
            x0 - reach_m - snap_m - _MARGIN_M,
            y0 - reach_m - snap_m - _MARGIN_M,
            x0 + tile_m + reach_m + snap_m + _MARGIN_M,
            y0 + tile_m + reach_m + snap_m + _MARGIN_M,
        )
        edges = np.zeros(net.n_edges, dtype=bool)
        edges[net.tree.query(edge_box)] = True
        ax, ay = amenities_xy[:, 0], amenities_xy[:, 1]
        r = reach_m + _MARGIN_M
        near = (ax >= x0 - r) & (ax <= x0 + tile_m + r) & (ay >= y0 - r) & (ay <= y0 + tile_m + r)
        if not edges.any():
            yield pos, None
            continue
        yield (
            pos,
            (net.to_arrays(edges), dwellings_xy[pos], amenities_xy[near], amenity_indicator[near]),
        )


@contextmanager
def dask_client(tiling: Tiling):
    """A Dask client for the tiling's scheduler, else on a LocalCluster closed afterwards."""
    try:
        from dask.distributed import Client
    except ImportError as exc:
        raise ConfigError(
            "tiles: partitioned scans need Dask; install it with pip install 'thuisdichtbij[dask]'"
        ) from exc
    # Dask's own INFO lines (workers started, "Lost all workers" at closing) are not the
    # user's business: only its warnings pass, whatever level the command logs at.
    dask_log = logging.getLogger("distributed")
    level = dask_log.level
    dask_log.setLevel(max(logging.WARNING, level))
    cluster = None
    try:
        if tiling.scheduler:
            try:
                client = Client(tiling.scheduler)
            except (OSError, TimeoutError) as exc:
                raise ConfigError(
                    f"scheduler: cannot reach the Dask scheduler at {tiling.scheduler} "
                    f"({str(exc).splitlines()[0]}); start it, or leave out --scheduler to run "
                    "on local workers"
                ) from exc
        else:
            cluster = local_cluster(tiling.workers)
            client = Client(cluster)
        try:
            yield client
        finally:
            client.close()
            if cluster is not None:
                cluster.close()
    finally:
        dask_log.setLevel(level)


def local_cluster(workers: int, *, silence_logs: int = logging.WARNING, **kwargs):
    """A Dask LocalCluster of single-threaded worker processes, reachable on loopback only."""
    from dask.distributed import LocalCluster

    return LocalCluster(
        n_workers=workers,
        threads_per_worker=1,
        processes=True,
        host="127.0.0.1",
        # No dashboard; the scheduler's small HTTP server (health, metrics) always starts:
        # on a free port (never the fixed 8787, so two runs at once do not collide) and on
        # loopback only.
        dashboard_address="127.0.0.1:0",
        scheduler_kwargs={"dashboard": False},
        silence_logs=silence_logs,
        # one thread per worker process, the snap's queries too
        env={THREADS_ENV: "1"},
        **kwargs,
    )


def tiled_distances(
    net: Network,
    dwellings_xy: np.ndarray,
    amenities_xy: np.ndarray,
    amenity_indicator: np.ndarray,
    indicator_ids: tuple[str, ...],
    *,
    max_snap_m: float,
    max_distance_m: float,
    tiling: Tiling,
    progress: bool = False,
) -> TileResult:
    """Snapping and distances for all dwellings, tile by tile on Dask; merged in input order."""
    n = len(dwellings_xy)
    out = TileResult(
        np.zeros(n, dtype=bool),
        np.full(n, np.nan),
        {i: np.full(n, np.nan) for i in indicator_ids},
    )
    with dask_client(tiling) as client:
        from dask.distributed import as_completed

        futures = {}
        for pos, args in _tiles(
            net,
            dwellings_xy,
            amenities_xy,
            amenity_indicator,
            tile_m=tiling.tile_m,
            reach_m=max_distance_m,
            snap_m=max_snap_m,
        ):
            if args is None:
                continue  # no street near this tile: its dwellings stay unsnapped
            fut = client.submit(
                run_tile, *args, indicator_ids, max_snap_m, max_distance_m, pure=False
            )
            futures[fut] = pos
        log.info("tiles: %d of %g m on %s", len(futures), tiling.tile_m, client)
        done = as_completed(futures)
        if progress:
            from tqdm.auto import tqdm

            done = tqdm(done, total=len(futures), unit="tile", leave=False)
        for fut in done:
            res, pos = fut.result(), futures[fut]
            out.snapped[pos] = res.snapped
            out.snap_m[pos] = res.snap_m
            for ind in indicator_ids:
                out.distances[ind][pos] = res.distances[ind]
    return out
