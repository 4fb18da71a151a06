"""What a run is and what it found: the keys of the scan's ``run_metadata``."""

from __future__ import annotations

import json
import logging
from pathlib import Path

from ..config import Config
from ..engine.aggregate import suppressed_only
from ..provenance import describe_file, library_versions, package_version, utc_now
from ..study import Study

log = logging.getLogger(__name__)


def run_facts(st: Study, cfg: Config) -> dict[str, str]:
    """What the run is: package, libraries, study and configuration (metadata's first keys)."""
    meta: dict[str, str] = {
        "package": "thuisdichtbij",
        "package_version": package_version(),
        "libraries": library_versions(),
        "started_utc": utc_now(),
        "study": st.name,
        "study_file": str(st.source.name) if st.source else "",
        "config_hash": cfg.hash,
        "config_files": ", ".join(Path(s).name for s in cfg.sources),
        "config": cfg.canonical_json,
    }
    if st.sources:
        meta["attribution"] = "; ".join(
            str(v["attribution"])
            for v in st.sources.values()
            if isinstance(v, dict) and v.get("attribution")
        )
        meta["sources"] = json.dumps(dict(st.sources), sort_keys=True, default=str)
    if st.validation:  # where `thuisdichtbij validate` finds the CBS table and the buurten
        meta["validation_inputs"] = json.dumps(
            {k: dict(v) for k, v in st.validation.items()}, sort_keys=True, default=str
        )
    return meta


def result_facts(st, cfg, net, metric, dw, amen, agg, edges, stages) -> dict[str, str]:
    """What the run found, for the metadata (and a warning for unscored dwellings)."""
    edges_dw, edges_ar, edges_gr = edges
    unscored = int((~dw["snapped"]).sum())
    if unscored:
        log.warning(
            "%d dwelling point(s) lie farther than %g m from any walkable street and are not "
            "scored (column 'snapped' is false)",
            unscored,
            cfg.max_snap_m,
        )
    facts = {
        "crs": metric.to_string(),
        "network": f"{net.n_nodes} nodes, {net.n_edges} edges, {net.length_km:.1f} km",
        "dwelling_points": str(len(dw)),
        "dwellings": str(int(round(dw["weight"].sum()))),
        "dwelling_points_not_snapped": str(unscored),
        "amenities": json.dumps(amen["indicator"].value_counts().to_dict(), sort_keys=True),
        "amenities_not_snapped": str(int((~amen["snapped"]).sum())),
        "class_method": cfg.classification_method,
        "class_edges_dwellings": json.dumps([round(float(x), 4) for x in edges_dw]),
        **area_facts(cfg, agg, edges_ar, edges_gr),
        "max_score": f"{cfg.max_score:g}",
        "band_tolerance_m": f"{cfg.band_tolerance_m:g}",
        "dwellings_class_not_robust": str(
            int(round(dw.loc[dw["class_robust"].eq(False), "weight"].sum()))
        ),
        "weights": json.dumps(dict(cfg.weights)),
        "stage_seconds": json.dumps({k: round(v, 3) for k, v in stages.timings.items()}),
        "finished_utc": utc_now(),
    }
    for i, f in enumerate(st.input_files()):
        if f.is_file():
            d = describe_file(f)
            facts[f"input_{i + 1}"] = f"{d['name']} ({d['bytes']} bytes) sha256:{d['sha256']}"
    return facts


def area_facts(cfg: Config, agg, edges_ar, edges_gr) -> dict[str, str]:
    """The areas and the grid, for the metadata: counts, class edges and the cell size."""
    return {
        "areas": str(len(agg)),
        "areas_suppressed": str(int(suppressed_only(agg).sum())),
        "class_edges_areas": json.dumps([round(float(x), 4) for x in edges_ar]),
        "class_edges_grid": json.dumps([round(float(x), 4) for x in edges_gr]),
        "grid_cell_m": f"{cfg.grid_cell_m:g}",
    }
