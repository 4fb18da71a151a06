"""One municipality of a national scan, run in a Dask worker: classes and its outputs.

The tiles have measured every dwelling; here the dwellings of one municipality are taken
from the tiles that hold them, scored, classed against each other (classes are relative to
the study, as in a scan of that municipality alone) and written twice: as a partition of
the national GeoParquet (``dwellings/municipality=<id>/part-0.parquet``) and as the
municipality's GeoPackage (``gpkg/<id>.gpkg``, layers ``dwellings``, ``areas`` (the
dwelling-weighted means per area), ``grid``, ``amenities`` and the data audit ``audit``,
with the fields a scan writes, their QGIS styles in ``layer_styles`` as a scan's, and
``run_metadata``). The areas are those a scan of the municipality alone reports on: the
polygons of an areas file with half their surface or more in it, else the squares of
``aggregation.fallback_cell_m`` holding its dwellings.
"""

from __future__ import annotations

import json
import logging
import re
import time
from dataclasses import dataclass
from pathlib import Path
from types import SimpleNamespace

import geopandas as gpd
import numpy as np
import pandas as pd
import pyarrow.parquet as pq
import shapely

from ..analyses.audit import audit_metadata, audit_table
from ..config import Config
from ..crs import to_metric
from ..engine.aggregate import assign_areas
from ..outputs.export import write_layers
from ..outputs.styles import layer_styles
from ..sources.areas import area_frame
from . import compute, facts, inputs
from .tile_scan import AMENITY_COLUMNS, EDGE_KINDS, peak_rss_mb, read_in_box, write_parquet

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class MunicipalityJob:
    """One municipality: its id, its outline (WKB) and the tile files that can hold its data."""

    id: str
    outline_wkb: bytes
    dwelling_files: tuple[str, ...]
    amenity_files: tuple[str, ...]
    #: metres of walkable edge inside it, by kind (``tile_scan.EDGE_KINDS``)
    network_m: tuple[float, float, float] = (0.0, 0.0, 0.0)
    #: where the data around it reaches (the convex hull of its tiles' walking networks,
    #: WKB; None: nowhere)
    extent_wkb: bytes | None = None


def file_stem(municipality_id: str) -> str:
    """A file name for a municipality id (letters, digits, ``-`` and ``_`` kept)."""
    return re.sub(r"[^0-9A-Za-z_-]+", "_", municipality_id).strip("_") or "municipality"


def finish_municipality(
    job: MunicipalityJob,
    *,
    config: Config,
    out: str,
    crs: str,
    metadata: dict[str, str],
    areas: dict[str, str] | None = None,
    lang: str = "nl",
) -> dict[str, object]:
    """Score, class, aggregate and write one municipality; returns its counts, files and CPU.

    ``areas``: the area polygons' ``file`` and ``id_field`` (as a study's ``areas``), or
    None for squares; ``lang``: that of the QGIS styles' legend labels.
    """
    cpu = time.process_time()
    dw = _dwellings(job, crs)
    amen = _amenities(job, config, crs)
    reach = {ind: dw.pop(f"reach_{ind}").to_numpy() for ind in config.indicator_ids}
    safety = dw.pop("safety") if "safety" in dw else pd.Series(np.nan, index=dw.index)
    edges = compute.points_and_classes(dw, safety, config)
    compute.sensitivity(dw, reach, config, edges)
    agg, grid, (edges_ar, edges_gr) = compute.aggregate_scores(
        dw, _areas(job, dw, config, areas, crs), config
    )
    dw = dw.drop(columns=[c for c in ("postcode",) if c in dw and dw[c].isna().all()])
    dw = compute.order_columns(dw, config)
    stem = file_stem(job.id)
    part = Path(out) / "dwellings" / f"municipality={stem}" / "part-0.parquet"
    # the partition's folder name is the id made safe for a path: the id itself is a column
    write_parquet(dw.assign(municipality_id=job.id), part)
    statuses = {"areas": agg["data_status"], "grid": grid["data_status"]}
    audit = audit_table(dw, amen, _network_sums(job), config, statuses=statuses)
    meta = {
        **metadata,
        **audit_metadata(audit),
        "audit_network": "the walkable edges inside the municipality (a scan of it alone "
        "also counts those up to 750 m around it)",
        "study": job.id,
        "class_edges_dwellings": json.dumps([round(float(e), 4) for e in edges]),
        **facts.area_facts(config, agg, edges_ar, edges_gr),
        **inputs.areas_facts(areas, config),
        "n_dwellings": str(len(dw)),
        "n_scored": str(int(dw["snapped"].sum())),
        "data_coverage": f"{_covered(job):.4f}",
    }
    layers = {"dwellings": dw, "areas": agg, "grid": grid}
    layers.update(amenities=amen[[*AMENITY_COLUMNS, "geometry"]], audit=audit)
    layers["layer_styles"] = layer_styles(list(layers), lang=lang)  # a scan's QGIS styles
    (Path(out) / "gpkg").mkdir(parents=True, exist_ok=True)
    gpkg = write_layers(Path(out) / "gpkg" / f"{stem}.gpkg", layers, metadata=meta)
    return {
        "id": job.id,
        "dwellings": len(dw),
        "areas": len(agg),
        "parquet": str(part),
        "gpkg": str(gpkg),
        "peak_rss_mb": peak_rss_mb(),
        "cpu_s": time.process_time() - cpu,
        "data_coverage": float(meta["data_coverage"]),
        "audit_missing": meta["audit_missing"],
        "audit_thin": meta["audit_thin"],
        "audit_safety": meta["audit_safety"],
    }


def _areas(job: MunicipalityJob, dw, config: Config, spec, crs: str) -> gpd.GeoDataFrame:
    """The areas a scan of the municipality alone reports on; each dwelling's ``area_id``.

    As in that scan, a dwelling gets the id of a reported area only (``<NA>`` in a polygon
    less than half inside the municipality), whatever its tile gave it. The polygons are
    read through a bbox filter: only those near the municipality.
    """
    outline = gpd.GeoDataFrame(geometry=[shapely.from_wkb(job.outline_wkb)], crs=crs)
    polys = None
    if spec is not None:
        found = read_in_box(
            spec["file"], outline.total_bounds, crs, spec["id_field"], layer=spec.get("layer")
        )
        polys = to_metric(area_frame(found, id_field=spec["id_field"], path=spec["file"]), crs)
    areas = inputs.areas_in_study_area(polys, outline, dw, config, _extent(job))
    if areas.empty:  # a scan of it alone refuses; a national run goes on with the others
        log.warning(
            "areas: no polygon of %s lies half or more in municipality %s; its areas layer "
            "is empty",
            Path(spec["file"]).name,
            job.id,
        )
    dw["area_id"] = assign_areas(dw, areas)
    return areas


def _covered(job: MunicipalityJob) -> float:
    """The share of the municipality within the data's reach (its tiles' networks' hull)."""
    outline = shapely.from_wkb(job.outline_wkb)
    return inputs.covered_share(outline, _extent(job), what=f"municipality {job.id}")


def _extent(job: MunicipalityJob):
    """The data's reach around the municipality: its tiles' networks' hull (None: no edge)."""
    return None if job.extent_wkb is None else shapely.from_wkb(job.extent_wkb)


def _network_sums(job: MunicipalityJob) -> SimpleNamespace:
    """The municipality's network as the audit reads one: metres per edge kind."""
    return SimpleNamespace(
        edge_length_m=np.asarray(job.network_m, dtype=float), edge_kind=np.array(EDGE_KINDS)
    )


def _dwellings(job: MunicipalityJob, crs: str) -> gpd.GeoDataFrame:
    """The municipality's dwellings from its tiles, in a fixed order (by dwelling id)."""
    parts = []
    for f in job.dwelling_files:
        table = pq.read_table(f, filters=[("municipality", "==", job.id)])
        if table.num_rows:
            parts.append(gpd.GeoDataFrame.from_arrow(table))
    dw = pd.concat(parts, ignore_index=True).drop(columns=["municipality"])
    dw = dw.sort_values("dwelling_id", kind="stable").reset_index(drop=True)
    return gpd.GeoDataFrame(dw, geometry="geometry", crs=crs)


def _amenities(job: MunicipalityJob, config: Config, crs: str) -> gpd.GeoDataFrame:
    """The amenities within the walking reach of the municipality, as a scan of it keeps."""
    frames = [gpd.read_parquet(f) for f in job.amenity_files]
    amen = pd.concat(frames, ignore_index=True) if frames else None
    if amen is None or amen.empty:
        return gpd.GeoDataFrame(
            columns=[*AMENITY_COLUMNS, "geometry"], geometry="geometry", crs=crs
        )
    reach = shapely.from_wkb(job.outline_wkb).buffer(config.max_distance_m + config.max_snap_m)
    amen = gpd.GeoDataFrame(amen, geometry="geometry", crs=crs)
    return amen[amen.intersects(reach)].reset_index(drop=True)
