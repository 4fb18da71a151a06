"""One tile of a national scan, run in a Dask worker: read the tile, measure, write its result.

The task reads only its tile of the store (ways and amenity candidates with the halo, the
dwellings inside the tile) or, with a BAG GeoPackage, the BAG dwellings inside the tile
through a bbox filter; builds the network, snaps, measures the walks and writes the
dwellings with their distances and municipality, and the tile's own amenities, to
GeoParquet. Points, scores and classes come later, per municipality
(:mod:`thuisdichtbij.pipeline.municipalities`): classes are relative to the study.
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import shapely
from pyproj import CRS, Transformer

from ..config import Config
from ..crs import to_metric
from ..engine.aggregate import assign_areas, square_cells
from ..engine.network import EDGE_FOOTPATH, EDGE_STREET, EDGE_UNKNOWN, build_network
from ..errors import InputError
from ..sources.amenities import read_amenities
from ..sources.areas import area_ids
from ..sources.bag import read_bag_gpkg
from ..sources.tilestore import TileStore, open_store
from . import compute

log = logging.getLogger(__name__)

#: Columns of a tile's amenities, as in a scan's amenities layer.
AMENITY_COLUMNS = ["indicator", "name", "kind", "source", "source_id", "snapped", "snap_m"]


@dataclass(frozen=True)
class TileInputs:
    """What every tile task is given (small: paths and the configuration)."""

    store: str
    config: Config
    municipalities: str
    municipality_field: str
    out: str
    bag: str | None = None
    bag_layer: str = "verblijfsobject"
    safety_points: Mapping[str, float] | None = None
    safety_areas: str | None = None
    safety_area_field: str = "postcode"


@dataclass
class TileSummary:
    """What a tile task hands back: counts per municipality, its files, and how it went.

    ``seconds``: wall seconds of ``read``, ``scan`` and ``write``, and the task's ``cpu``
    seconds; ``files`` is None for a tile that held nothing to write.
    """

    tile: tuple[int, int]
    dwellings: int
    per_municipality: dict[str, int]
    files: tuple[str, str] | None
    seconds: dict[str, float] = field(default_factory=dict)
    peak_rss_mb: float = float("nan")
    #: metres of the tile's own walkable edges per municipality, by edge kind (unknown,
    #: street, footpath: ``EDGE_KINDS``), for the audit's network rows
    network_m: dict[str, list[float]] = field(default_factory=dict)
    #: where the tile's data reaches: the convex hull of its walking network (WKB; None
    #: without one), to tell a municipality the data covers only in part
    extent_wkb: bytes | None = None


#: The edge kinds ``TileSummary.network_m`` counts, in its order.
EDGE_KINDS = (EDGE_UNKNOWN, EDGE_STREET, EDGE_FOOTPATH)


def tile_file(out: str | os.PathLike, tile: tuple[int, int], layer: str) -> Path:
    """Where a tile's result layer is written."""
    return Path(out) / "tiles" / f"{tile[0]}_{tile[1]}.{layer}.parquet"


def scan_tile(inputs: TileInputs, tile: tuple[int, int]) -> TileSummary:
    """Read, measure and write one tile (see the module).

    A tile with neither dwellings nor amenities of its own (the sea, a tile that only
    holds the halo of others) is read and left: nothing of it reaches any output.
    """
    seconds: dict[str, float] = {}
    cpu, clock = time.process_time(), time.perf_counter()
    store = open_store(inputs.store)
    cfg = inputs.config
    ext = store.read_tile(tile)
    dw = _dwellings(store, tile, ext.dwellings, inputs)
    amen = read_amenities([{"file": store.source}], cfg, crs=store.crs, osm=ext, empty_ok=True)
    own = _own(amen, store, tile)
    seconds["read"] = time.perf_counter() - clock
    if dw.empty and own.empty:
        seconds["cpu"] = time.process_time() - cpu
        return TileSummary(tile, 0, {}, None, seconds, peak_rss_mb())
    clock = time.perf_counter()
    reach, net = _measure(ext.ways, dw, amen, cfg)
    for ind in cfg.indicator_ids:
        dw[f"reach_{ind}"] = reach[ind]
    munis = _areas_in_tile(
        inputs.municipalities, inputs.municipality_field, store, tile, ids=_as_text
    )
    dw["municipality"] = _area_of(dw, munis).astype("string")
    network_m = _network_by_municipality(net, munis, store, tile)
    if inputs.safety_points is not None:
        dw["safety"] = _safety(dw, store, tile, inputs)
    seconds["scan"] = time.perf_counter() - clock
    clock = time.perf_counter()
    files = (tile_file(inputs.out, tile, "dwellings"), tile_file(inputs.out, tile, "amenities"))
    write_parquet(dw, files[0])
    # taken again: the amenities got their snap columns in _measure
    write_parquet(_own(amen, store, tile)[[*AMENITY_COLUMNS, "geometry"]], files[1])
    seconds["write"] = time.perf_counter() - clock
    seconds["cpu"] = time.process_time() - cpu
    counts = dw["municipality"].value_counts().to_dict()
    return TileSummary(
        tile=tile,
        dwellings=len(dw),
        per_municipality={str(k): int(v) for k, v in counts.items()},
        files=(str(files[0]), str(files[1])),
        seconds=seconds,
        peak_rss_mb=peak_rss_mb(),
        network_m=network_m,
        extent_wkb=None if net is None else shapely.to_wkb(net.extent()),
    )


def _measure(ways, dw, amen, cfg: Config):
    """Build the tile's network, snap and measure (as a scan does).

    A tile without a walkable street leaves its dwellings and amenities unsnapped. Returns
    the walks per sub-indicator and the network (None without a street).
    """
    cells = square_cells(dw, size_m=cfg.fallback_cell_m)
    try:
        net = build_network(ways, min_component_m=cfg.min_component_m, exclude=cfg.profile_rules)
    except InputError:  # no walkable street (left) in or near the tile
        net = None
    if net is not None:
        a_snap, d_snap = compute.snap(net, amen, dw, cells, cfg, None)
        return compute.measure(net, dw, amen, a_snap, d_snap, cfg, None, None, {}), net
    dw["area_id"] = assign_areas(dw, cells)
    for frame in (dw, amen):
        frame["snapped"] = False
        frame["snap_m"] = np.nan
    for ind in cfg.indicator_ids:
        dw[f"dist_{ind}"] = np.inf
    return {ind: np.full(len(dw), np.inf) for ind in cfg.indicator_ids}, None


def _own(gdf: gpd.GeoDataFrame, store: TileStore, tile) -> gpd.GeoDataFrame:
    """The rows whose point lies in the tile itself (lower edges in, upper edges out)."""
    xy = shapely.get_coordinates(gdf.geometry.to_numpy())
    ij = np.floor(xy / store.tile_m).astype(np.int64)
    return gdf[(ij[:, 0] == tile[0]) & (ij[:, 1] == tile[1])].reset_index(drop=True)


def _dwellings(store: TileStore, tile, from_store: gpd.GeoDataFrame, inputs: TileInputs):
    """The tile's dwellings: the BAG's through a bbox filter, else the store's (OSM) points."""
    if inputs.bag is None:
        dw = from_store.copy()
    else:
        bag = read_bag_gpkg(
            inputs.bag, layer=inputs.bag_layer, bbox=store.box(tile, halo=False), empty_ok=True
        )
        bag = _own(to_metric(bag, store.crs), store, tile)
        dw = gpd.GeoDataFrame(
            {"dwelling_id": bag["bag_id"], "postcode": bag.get("postcode", pd.NA)},
            geometry=bag.geometry.to_numpy(),
            crs=store.crs,
        )
    dw["weight"] = 1.0
    return dw


def _network_by_municipality(net, munis: gpd.GeoDataFrame, store: TileStore, tile) -> dict:
    """Metres of walkable edge per municipality and kind, each edge counted by one tile.

    An edge belongs to the tile and the municipality its midpoint lies in, so the tiles'
    sums add up to the network inside each municipality (a scan of it also walks the
    750 m around it: its audit counts those streets too).
    """
    if net is None or net.edge_kind is None:
        return {}
    mid = shapely.line_interpolate_point(net.edge_geometry, 0.5, normalized=True)
    edges = gpd.GeoDataFrame(
        {"length": net.edge_length_m, "kind": net.edge_kind}, geometry=mid, crs=store.crs
    )
    edges = _own(edges, store, tile)
    edges["municipality"] = _area_of(edges, munis)
    edges = edges.dropna(subset=["municipality"])
    sums = edges.groupby(["municipality", "kind"])["length"].sum()
    return {
        str(m): [float(sums.get((m, k), 0.0)) for k in EDGE_KINDS]
        for m in edges["municipality"].unique()
    }


def _as_text(values: pd.Series) -> pd.Series:
    """Municipality ids as the national run matches them (its jobs read them as text)."""
    return values.astype("string")


def _areas_in_tile(path, field_name: str, store: TileStore, tile, *, ids=area_ids):
    """The polygons of ``path`` meeting the tile, as ``area_id`` (``ids`` of the field)."""
    polys = read_in_box(path, store.box(tile, halo=False), store.crs, field_name)
    return gpd.GeoDataFrame(
        {"area_id": ids(polys[field_name]).to_numpy()},
        geometry=polys.geometry.to_numpy(),
        crs=polys.crs,
    )


def _area_of(points: gpd.GeoDataFrame, areas: gpd.GeoDataFrame) -> pd.Series:
    """The area each point lies in (missing outside them all)."""
    if areas.empty or points.empty:
        return pd.Series(pd.NA, index=points.index, dtype="object")
    return assign_areas(points, to_metric(areas, points.crs))


def _safety(dw: gpd.GeoDataFrame, store: TileStore, tile, inputs: TileInputs) -> pd.Series:
    """Safety points of the Leefbaarometer area each dwelling lies in (NaN outside them)."""
    zones = _areas_in_tile(inputs.safety_areas, inputs.safety_area_field, store, tile)
    return _area_of(dw, zones).map(dict(inputs.safety_points)).astype(float)


def read_in_box(path, box, crs, column: str, *, layer: str | None = None) -> gpd.GeoDataFrame:
    """The polygons of ``path`` that meet ``box`` (given in ``crs``), whatever CRS the file has.

    GDAL applies a bbox filter in the layer's own coordinates: the box is taken there first
    (its densified outline's bounds), else a file in WGS84 would match nothing at all.
    """
    layer_crs = pyogrio.read_info(path, layer=layer)["crs"]
    if layer_crs is not None and CRS(layer_crs) != CRS(crs):
        to_layer = Transformer.from_crs(crs, layer_crs, always_xy=True)
        box = to_layer.transform_bounds(*box, densify_pts=21)
    return gpd.read_file(path, bbox=tuple(box), columns=[column], layer=layer, engine="pyogrio")


def write_parquet(gdf: gpd.GeoDataFrame, path: Path) -> None:
    """Write GeoParquet under a temporary name, then move it into place."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.part")
    try:
        gdf.to_parquet(tmp)
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


def peak_rss_mb() -> float:
    """The peak resident memory of the running process so far, in MB (NaN where unknown).

    Read from ``VmHWM`` (Linux), which starts anew in a new process; ``ru_maxrss`` would
    carry the peak of the process a worker was started from.
    """
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return float("nan")
