"""The scan: from a study's inputs to a score for every dwelling and every area."""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass, field
from pathlib import Path

import geopandas as gpd
import pandas as pd

from ._process_wide import GC_PAUSED
from ._progress import Stages
from .analyses.audit import (
    audit_metadata,
    audit_table,
)
from .config import Config, load_config
from .engine.network import Network
from .engine.partition import Tiling
from .pipeline import compute, facts, inputs
from .study import Study

log = logging.getLogger(__name__)

__all__ = ["ScanResult", "scan", "STAGES"]

STAGES = [
    "read network",
    "build network",
    "read dwellings",
    "read amenities",
    "read areas",
    "snap",
    "distances",
    "score",
    "aggregate",
    "audit",
]


@dataclass
class ScanResult:
    """What a scan hands over to maps, zones and exports.

    Attributes
    ----------
    dwellings, areas, amenities
        GeoDataFrames in the study's metric CRS (field names as in the README).
    metadata
        Provenance and facts of the run, as text keys and values.
    network
        The walking network the distances were measured on.
    config
        The configuration the run used.
    safety_areas
        The Leefbaarometer areas around the study with their safety points (or None).
    grid
        The score grid (``cell_id``, ``n_dwellings``, ``score_mean``, ``suppressed``,
        ``unscored_share``, ``data_status``, ``score_class``) of ``config.grid_cell_m``
        squares.
    audit
        The data audit (see :func:`thuisdichtbij.analyses.audit.audit_table`).
    context
        Water and large green areas for the maps (``kind``, ``name``, ``source_id``), or
        None when the inputs have none (only an OSM extract carries them).
    """

    dwellings: gpd.GeoDataFrame
    areas: gpd.GeoDataFrame
    amenities: gpd.GeoDataFrame
    metadata: dict[str, str]
    network: Network = field(repr=False)
    config: Config = field(repr=False)
    safety_areas: gpd.GeoDataFrame | None = field(default=None, repr=False)
    grid: gpd.GeoDataFrame | None = field(default=None, repr=False)
    audit: pd.DataFrame | None = field(default=None, repr=False)
    context: gpd.GeoDataFrame | None = field(default=None, repr=False)

    def to_gpkg(
        self, path: str | os.PathLike, *, overwrite: bool = False, lang: str = "nl"
    ) -> Path:
        """Write the result to a GeoPackage, atomically; see ``export.write_gpkg``.

        ``lang`` is that of the QGIS styles' legend labels.
        """
        from .outputs.export import write_gpkg

        return write_gpkg(self, path, overwrite=overwrite, lang=lang)


def scan(
    study: Study | str | os.PathLike | None = None,
    *,
    osm: str | os.PathLike | None = None,
    config: Config | None = None,
    weights: str | os.PathLike | None = None,
    data_dir: str | os.PathLike | None = None,
    crs: str | None = None,
    cache: bool | str | os.PathLike = True,
    tiling: Tiling | None = None,
    progress: bool = False,
) -> ScanResult:
    """Scan a study area: walking distances, points, scores and classes per dwelling and area.

    Parameters
    ----------
    study
        A :class:`~thuisdichtbij.study.Study`, a study file, or a preset name
        (``"maastricht"``).
    osm
        Instead of a study: an ``.osm.pbf`` extract to take network, amenities and
        dwellings from.
    config
        The scientific configuration; default: ``weights`` (or the study's weights file)
        laid over the shipped defaults.
    weights
        A weights file, used when ``config`` is not given.
    data_dir
        Folder that relative paths in a study file resolve against.
    crs
        The metric CRS to measure in; default: the study's, else RD New inside the
        Netherlands and the UTM zone elsewhere.
    cache
        Reuse a built network from the cache folder (``True``: ``$THUISDICHTBIJ_CACHE`` or
        ``~/.cache/thuisdichtbij``; a path: that folder; ``False``: always build).
    tiling
        Run snapping and distances tile by tile on Dask (see :mod:`thuisdichtbij.partition`);
        the result is the same, dwelling for dwelling.
    progress
        Show a progress bar.

    Returns
    -------
    ScanResult
        Dwellings, areas and amenities in the metric CRS, with the run's metadata.
    """
    st = inputs.resolve_study(study, osm, data_dir)
    cfg = config or load_config(weights or st.weights)
    stages = Stages(STAGES, progress=progress)
    try:
        with GC_PAUSED.held():
            return _scan(st, cfg, crs, cache, tiling, stages)
    finally:
        stages.close()


def _scan(
    st: Study,
    cfg: Config,
    crs: str | None,
    cache: bool | str | os.PathLike,
    tiling: Tiling | None,
    stages: Stages,
) -> ScanResult:
    """The stages of a scan, in the order the progress bar names them."""
    meta = facts.run_facts(st, cfg)
    net, metric, area, meta["network_cache"], osm = inputs.study_network(
        st, cfg, crs, cache, stages, meta
    )
    where = inputs.Extent.of(st, net, area)
    with stages("read dwellings"):
        if osm is None:  # the network came from a file or the cache
            osm = inputs.osm_extract(st, cfg, ways=False)
        dw = inputs.study_dwellings(st, metric, area, meta, osm, where)
    with stages("read amenities"):
        amen = inputs.study_amenities(st, cfg, metric, where, meta, osm)
    with stages("read areas"):
        all_areas, areas = inputs.study_areas(st, cfg, metric, area, dw, meta, net, where)
        context = inputs.study_context(osm, cfg, metric, where, meta)
    with stages("snap"):
        a_snap, d_snap = compute.snap(net, amen, dw, areas, cfg, tiling)
    with stages("distances"):
        reach = compute.measure(net, dw, amen, a_snap, d_snap, cfg, tiling, stages, meta)
        compute.require_scored(dw, cfg, st)
    with stages("score"):
        edges_dw, safety_areas = compute.score(st, dw, all_areas, net, cfg, meta)
        compute.sensitivity(dw, reach, cfg, edges_dw)
    with stages("aggregate"):
        agg, grid, edges = compute.aggregate_scores(dw, areas, cfg)
    with stages("audit"):
        audit = audit_table(
            dw, amen, net, cfg, statuses={"areas": agg["data_status"], "grid": grid["data_status"]}
        )
    meta.update(facts.result_facts(st, cfg, net, metric, dw, amen, agg, [edges_dw, *edges], stages))
    meta.update(audit_metadata(audit))
    dw = dw.drop(columns=[c for c in ("postcode",) if c in dw and dw[c].isna().all()])
    return ScanResult(
        dwellings=compute.order_columns(dw, cfg),
        areas=agg,
        amenities=amen[
            ["indicator", "name", "kind", "source", "source_id", "snapped", "snap_m", "geometry"]
        ],
        metadata=meta,
        network=net,
        config=cfg,
        safety_areas=safety_areas,
        grid=grid,
        audit=audit,
        context=context,
    )
