"""The scan: from a study's inputs to a score for every dwelling and every area."""

from __future__ import annotations

import json
import logging
import os
from dataclasses import dataclass, field
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from pyproj import CRS

from ._progress import Stages
from ._text import short_list
from .analyses.audit import (
    INSUFFICIENT,
    OK,
    audit_metadata,
    audit_table,
    data_status,
    unscored_share,
)
from .config import Config, load_config
from .crs import choose_metric_crs, to_metric
from .engine.aggregate import (
    aggregate,
    assign_areas,
    cell_ids,
    score_grid,
    select_areas,
    square_cells,
)
from .engine.cache import load_network, network_key, save_network
from .engine.distance import indicator_distances
from .engine.network import Network, build_network, profile_audit
from .engine.partition import Tiling, tiled_distances
from .engine.score import (
    band_points,
    band_sensitivity,
    class_edges,
    classify,
    safety_points,
    total_score,
)
from .engine.snap import snap_points
from .errors import ConfigError, InputError
from .provenance import describe_file, library_versions, package_version, utc_now
from .settings import cache_dir
from .sources._io import parse_crs, read_vector, require_columns, require_file, require_overlap
from .sources.amenities import amenity_format, read_amenities
from .sources.areas import area_ids, read_areas
from .sources.dwellings import read_dwellings
from .sources.leefbaarometer import read_leefbaarometer
from .sources.osm import OsmExtract, read_osm
from .sources.tags import needed_keys, rule_starts
from .study import Study, load_study, study_from_osm

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

    def to_gpkg(self, path: str | os.PathLike, *, overwrite: bool = False) -> Path:
        """Write the result to a GeoPackage, atomically; see ``export.write_gpkg``."""
        from .outputs.export import write_gpkg

        return write_gpkg(self, path, overwrite=overwrite)


def _resolve_study(study, osm, data_dir) -> Study:
    if study is not None and osm is not None:
        raise ConfigError("give either a study or an OSM extract, not both")
    if study is not None:
        st = study if isinstance(study, Study) else load_study(study, data_dir=data_dir)
        if not st.osm and not st.network:
            raise ConfigError(
                f"study {st.name}: nothing to walk on; give 'osm' (an .osm.pbf) or 'network' "
                "(a street network file) in the study file"
            )
        return st
    if osm is not None:
        return study_from_osm(osm)
    raise ConfigError("nothing to scan: give a study file (--study) or an OSM extract (--osm)")


def _amenity_specs(st: Study) -> list:
    return list(st.amenities) or [{"file": st.osm}]


def _read_osm(st: Study, cfg: Config, *, ways: bool) -> OsmExtract | None:
    """One pass over the study's extract for every layer the scan takes from it (or None)."""
    if not st.osm:
        return None
    features = any(
        amenity_format(s) == "osm" and Path(s["file"]).resolve() == Path(st.osm).resolve()
        for s in _amenity_specs(st)
    )
    dwellings = not st.dwellings
    if not (ways or features or dwellings):
        return None
    keys = needed_keys(cfg.indicators) if features else ()
    starts = rule_starts(cfg.indicators) if features else None
    return read_osm(
        st.osm, ways=ways, feature_keys=keys, feature_prefilter=starts, dwellings=dwellings
    )


def _network(
    st: Study,
    cfg: Config,
    crs: str | None,
    cache: str | os.PathLike | bool,
    stages: Stages,
    meta: dict[str, str],
) -> tuple[Network, CRS, gpd.GeoDataFrame | None, str, OsmExtract | None]:
    """The walking network (from the cache when it holds it), its CRS and the study area.

    When the network comes from the study's OSM extract, the extract is read once with
    every layer the scan takes from it, and handed back too (else None). With a walking
    profile the network is always built, so that the run's metadata can say what the
    profile could judge (``profile_audit``).
    """
    wanted = parse_crs(crs or st.crs, "crs") if (crs or st.crs) else None
    if wanted is not None and wanted.is_geographic:
        raise InputError(
            f"crs: {wanted.to_string()} is geographic (degrees); give a metric CRS such as "
            "EPSG:28992"
        )
    folder = key = None
    if cache is not False and not cfg.profile:
        folder = cache_dir(None if cache is True else cache)
        source = [Path(st.network["file"]) if st.network else st.osm]
        area_file = [Path(st.study_area["file"])] if st.study_area else []
        require_file(source[0], "street network" if st.network else "OSM extract")
        for f in area_file:
            require_file(f, "study area")
        key = network_key(
            source + area_file,
            {
                "layer": st.network.get("layer") if st.network else None,
                "crs": wanted.to_wkt() if wanted else "auto",
                "study_area": dict(st.study_area or {}, file=None),
                "min_component_m": cfg.min_component_m,
                "border_m": cfg.max_distance_m + cfg.max_snap_m,
            },
        )
    with stages("read network"):
        net = load_network(folder, key) if key else None
        if net is not None:
            log.info("network: %d nodes, %d edges from the cache", net.n_nodes, net.n_edges)
            return net, net.crs, _study_area(st, net.crs), "hit", None
        osm = None
        if st.network:
            edges = read_vector(
                st.network["file"], what="street network", layer=st.network.get("layer")
            )
        else:
            osm = _read_osm(st, cfg, ways=True)
            edges = osm.ways
        metric = wanted or choose_metric_crs(edges)
        edges = to_metric(edges, metric)
        area = _study_area(st, metric)
        if area is not None:
            _Extent(area.union_all(), "the study area", metric).require(
                edges, "street network", st.network["file"] if st.network else st.osm
            )
            # Keep the streets near the study area: people walk across its border.
            reach = area.union_all().buffer(cfg.max_distance_m + cfg.max_snap_m)
            edges = edges[edges.intersects(reach)]
    with stages("build network"):
        if cfg.profile:
            meta.update(_audit_profile(edges, cfg))
        net = build_network(edges, min_component_m=cfg.min_component_m, exclude=cfg.profile_rules)
        if key:
            save_network(folder, key, net)
    return net, metric, area, "miss" if key else "off", osm


def _audit_profile(edges: gpd.GeoDataFrame, cfg: Config) -> dict[str, str]:
    """Log what the walking profile could judge; the facts go into the run's metadata."""
    audit = profile_audit(edges, cfg.profile_rules)
    blind = [
        t
        for t, v in audit.items()
        if v == "no column" or (isinstance(v, dict) and v["untagged"] == audit["ways"])
    ]
    sparse = [
        f"{t} on {v['untagged'] / audit['ways']:.0%}"
        for t, v in audit.items()
        if isinstance(v, dict) and audit["ways"]
    ]
    text = (
        f"profile {cfg.profile}: {audit['dropped']} of {audit['ways']} walkable street "
        f"segments left out; "
        f"untagged (kept as passable): {', '.join(sparse) or '-'}"
    )
    if blind:
        text += f"; not judged, the input has no such tag or column: {', '.join(blind)}"
        log.warning("%s", text)
    else:
        log.info("%s", text)
    return {"profile": cfg.profile, "profile_audit": text, "profile_counts": json.dumps(audit)}


def _study_area(study: Study, crs: CRS) -> gpd.GeoDataFrame | None:
    spec = study.study_area
    if not spec:
        return None
    gdf = read_vector(spec["file"], what="study area", layer=spec.get("layer"))
    require_columns(gdf, [spec["id_field"]], what="study area", path=spec["file"])
    ids = area_ids(gdf[spec["id_field"]])
    keep = ids.isin(spec["ids"])
    missing = sorted(set(spec["ids"]) - set(ids[keep]))
    if missing:
        raise InputError(
            f"study area: {Path(spec['file']).name} has no {spec['id_field']} "
            f"{', '.join(missing)}; check the spelling in 'study_area.ids'"
        )
    return to_metric(gdf[keep], crs)


def _safety(
    study: Study,
    dwellings: gpd.GeoDataFrame,
    all_areas: gpd.GeoDataFrame | None,
    config: Config,
    extent,
) -> tuple[pd.Series, dict[str, str], gpd.GeoDataFrame | None]:
    """Safety points per dwelling, facts for the metadata, and the areas they came from."""
    spec = study.leefbaarometer
    if not spec:
        return (
            pd.Series(np.nan, index=dwellings.index),
            {"safety": f"no Leefbaarometer data; safety handled as '{config.safety.missing}'"},
            None,
        )
    s = config.safety
    table = read_leefbaarometer(
        spec["file"],
        dimension=s.dimension,
        year=s.year,
        base_year=s.base_year,
        id_column=spec.get("id_column"),
    )
    zones = _safety_zones(spec, all_areas, dwellings.crs)
    area_of = assign_areas(dwellings, zones)
    pts = safety_points(table, s)
    per_dwelling = area_of.map(pts).astype(float)
    no_area = int(area_of.isna().sum())
    no_score = int((area_of.notna() & per_dwelling.isna()).sum())
    facts = {
        "safety": (
            f"Leefbaarometer '{s.dimension}' {s.year}, development since {s.base_year}, "
            f"from {Path(spec['file']).name}"
        ),
        "safety_points_missing": str(int(per_dwelling.isna().sum())),
        "safety_missing_handling": s.missing,
    }
    if no_area or no_score:
        log.warning(
            "safety: %d dwelling point(s) outside the Leefbaarometer areas, %d in areas without "
            "a score; handled as '%s'",
            no_area,
            no_score,
            s.missing,
        )
    return per_dwelling, facts, _safety_areas(zones, table, pts, extent)


def _safety_zones(spec: dict, all_areas: gpd.GeoDataFrame | None, crs) -> gpd.GeoDataFrame:
    """The polygons the Leefbaarometer table is given for: its own, else the study's areas."""
    if spec.get("areas"):
        a = spec["areas"]
        return to_metric(read_areas(a["file"], id_field=a["id_field"], layer=a.get("layer")), crs)
    if all_areas is not None:
        return all_areas
    raise ConfigError(
        "leefbaarometer: the table is per area but the study gives no area polygons; add "
        "'areas' to the study (e.g. the CBS PC4 areas) or 'leefbaarometer.areas'"
    )


def _safety_areas(zones, table, pts, extent) -> gpd.GeoDataFrame:
    """The Leefbaarometer areas around the study with their points (for checks of any spot)."""
    near = zones[zones.intersects(extent)]
    return gpd.GeoDataFrame(
        {
            "area_id": near["area_id"].to_numpy(),
            "lbm_level": near["area_id"].map(table["level"]).to_numpy(dtype=float),
            "lbm_base": near["area_id"].map(table["base"]).to_numpy(dtype=float),
            "safety_pts": near["area_id"].map(pts).to_numpy(dtype=float),
        },
        geometry=near.geometry.to_numpy(),
        crs=zones.crs,
    )


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
    st = _resolve_study(study, osm, data_dir)
    cfg = config or load_config(weights or st.weights)
    stages = Stages(STAGES, progress=progress)
    try:
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
    meta = _run_facts(st, cfg)
    net, metric, area, meta["network_cache"], osm = _network(st, cfg, crs, cache, stages, meta)
    where = _Extent.of(st, net, area)
    with stages("read dwellings"):
        if osm is None:  # the network came from a file or the cache
            osm = _read_osm(st, cfg, ways=False)
        dw = _read_dwellings(st, metric, area, meta, osm, where)
    with stages("read amenities"):
        amen = _read_amenities(st, cfg, metric, where, meta, osm)
    with stages("read areas"):
        all_areas, areas = _read_areas(st, cfg, metric, area, dw, meta, net, where)
    with stages("snap"):
        a_snap, d_snap = _snap(net, amen, dw, areas, cfg, tiling)
    with stages("distances"):
        reach = _measure(net, dw, amen, a_snap, d_snap, cfg, tiling, stages, meta)
        _require_scored(dw, cfg, st)
    with stages("score"):
        edges_dw, safety_areas = _score(st, dw, all_areas, net, cfg, meta)
        _sensitivity(dw, reach, cfg, edges_dw)
    with stages("aggregate"):
        agg, grid, edges = _aggregate(dw, areas, cfg)
    with stages("audit"):
        audit = audit_table(
            dw, amen, net, cfg, statuses={"areas": agg["data_status"], "grid": grid["data_status"]}
        )
    meta.update(_result_facts(st, cfg, net, metric, dw, amen, agg, [edges_dw, *edges], stages))
    meta.update(audit_metadata(audit))
    dw = dw.drop(columns=[c for c in ("postcode",) if c in dw and dw[c].isna().all()])
    return ScanResult(
        dwellings=_order(dw, cfg),
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
    )


@dataclass(frozen=True)
class _Extent:
    """Where the study lies: its study area, else its walking network; inputs must meet it."""

    shape: shapely.Geometry
    name: str
    crs: CRS

    @classmethod
    def of(cls, st: Study, net: Network, area: gpd.GeoDataFrame | None) -> _Extent:
        if area is not None:
            return cls(area.union_all(), "the study area", net.crs)
        xy = net.node_xy
        box = shapely.box(*xy.min(axis=0), *xy.max(axis=0))
        return cls(box, "the street network", net.crs)

    def require(self, gdf: gpd.GeoDataFrame, what: str, path: object) -> None:
        """Name the input that lies elsewhere, with its bounds, before the scan goes on."""
        require_overlap(
            gdf,
            what=what,
            path=path,
            area_bounds=self.shape.bounds,
            area_crs=self.crs,
            area_name=self.name,
        )


def _read_amenities(
    st: Study, cfg: Config, metric: CRS, where: _Extent, meta, osm: OsmExtract | None
) -> gpd.GeoDataFrame:
    """The amenities that can count: those within the study plus the walking reach.

    Farther ones (stops across the border) can be reached by no dwelling of the study; they
    are left out of the result, so "zoom to layer" shows the study, not half the country.
    """
    specs = _amenity_specs(st)
    amen = read_amenities(specs, cfg, crs=metric, osm=osm)
    where.require(amen, "amenities", ", ".join(Path(s["file"]).name for s in specs))
    reach = where.shape.buffer(cfg.max_distance_m + cfg.max_snap_m)
    near = amen.intersects(reach).to_numpy()
    if not near.all():
        log.info(
            "amenities: %d beyond %s plus %g m left out",
            int((~near).sum()),
            where.name,
            cfg.max_distance_m + cfg.max_snap_m,
        )
    meta["amenities_beyond_reach"] = str(int((~near).sum()))
    return amen[near].reset_index(drop=True)


def _require_scored(dw: gpd.GeoDataFrame, cfg: Config, st: Study) -> None:
    """A run that scores no dwelling is an error, never a written result."""
    if len(dw) and dw["snapped"].any():
        return
    raise InputError(
        f"dwellings: none of the {len(dw)} dwelling point(s) of {st.name} lies within "
        f"{cfg.max_snap_m:g} m of a walkable street, so nothing can be scored; check that the "
        "dwellings and the street network cover the same place (and their CRS)"
    )


def _run_facts(st: Study, cfg: Config) -> dict[str, str]:
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


def _read_dwellings(
    st: Study,
    metric: CRS,
    area: gpd.GeoDataFrame | None,
    meta: dict[str, str],
    osm: OsmExtract | None,
    where: _Extent,
) -> gpd.GeoDataFrame:
    """The study's dwellings (or the extract's address points) inside the study area."""
    if st.dwellings:
        dw, facts = read_dwellings(st.dwellings)
    elif osm is not None and osm.dwellings is not None:
        dw = osm.dwellings.copy()
        dw["weight"] = 1.0
        facts = {"dwellings_source": f"{st.osm.name}: {osm.dwellings_how}"}
    else:
        raise ConfigError("dwellings: the study gives neither 'dwellings' nor 'osm'")
    dw = to_metric(dw, metric)
    where.require(dw, "dwellings", st.dwellings["file"] if st.dwellings else st.osm)
    if area is not None:
        inside = dw.intersects(area.union_all())
        if (~inside).any():
            log.info("dwellings: %d point(s) outside the study area left out", int((~inside).sum()))
        dw = dw[inside].reset_index(drop=True)
    meta.update({k: str(v) for k, v in facts.items()})
    return dw


def _read_areas(
    st: Study,
    cfg: Config,
    metric: CRS,
    area: gpd.GeoDataFrame | None,
    dw: gpd.GeoDataFrame,
    meta: dict[str, str],
    net: Network,
    where: _Extent,
) -> tuple[gpd.GeoDataFrame | None, gpd.GeoDataFrame]:
    """All area polygons of the study's file, and those the scan reports on."""
    all_areas = None
    if st.areas:
        all_areas = to_metric(
            read_areas(
                st.areas["file"], id_field=st.areas["id_field"], layer=st.areas.get("layer")
            ),
            metric,
        )
        where.require(all_areas, "areas", st.areas["file"])
        areas = _areas_in_data(all_areas, area, dw, net, meta)
        meta["areas_source"] = f"{Path(st.areas['file']).name} ({st.areas['id_field']})"
    else:
        areas = square_cells(dw, size_m=cfg.fallback_cell_m)  # drawn around the dwellings
        if area is None:
            areas = _areas_in_data(areas, None, dw, net, meta)
        meta["areas_source"] = f"squares of {cfg.fallback_cell_m:g} m (no area polygons given)"
    if areas.empty:
        raise InputError("areas: none of the area polygons lies in the study area")
    return all_areas, areas


def _areas_in_data(all_areas, area, dw, net: Network, meta: dict[str, str]):
    """The areas the scan reports on, with the share of each that the data covers.

    With a study area: those with half their surface or more in it (coverage 1). Without
    one (an OSM extract, a box), the areas holding dwellings, and ``data_coverage`` is the
    share of each within the walking network's extent: an area the data covers only at its
    edge gets no class ('onvoldoende gegevens'), never a verdict from the few dwellings there.
    """
    if area is not None:
        areas = select_areas(all_areas, study_area=area, dwellings=dw)
        areas["data_coverage"] = 1.0
        return areas
    hull = shapely.convex_hull(shapely.multipoints(net.node_xy))
    areas = select_areas(all_areas, study_area=None, dwellings=dw)
    geom = areas.geometry.to_numpy()
    areas["data_coverage"] = shapely.area(shapely.intersection(geom, hull)) / shapely.area(geom)
    partly = areas.loc[areas["data_coverage"] < 0.5, "area_id"].tolist()
    if partly:
        log.info(
            "areas: %d area(s) lie less than half within the data (the walking network's "
            "extent) and get no class: %s",
            len(partly),
            short_list(partly),
        )
        meta["areas_partly_covered"] = f"{len(partly)}: {short_list(partly)}"
    return areas


def _snap(net, amen, dw, areas, cfg: Config, tiling: Tiling | None):
    """Snap amenities (and, without tiles, dwellings) to the network; give dwellings an area."""
    a_snap = snap_points(amen.geometry.to_numpy(), net, max_snap_m=cfg.max_snap_m)
    amen["snapped"] = a_snap.ok
    amen["snap_m"] = a_snap.snap_m
    dw["area_id"] = assign_areas(dw, areas)
    d_snap = None
    if tiling is None:
        d_snap = snap_points(dw.geometry.to_numpy(), net, max_snap_m=cfg.max_snap_m)
    return a_snap, d_snap


def _measure(net, dw, amen, a_snap, d_snap, cfg, tiling, stages, meta) -> dict[str, np.ndarray]:
    """Walking distances per sub-indicator into ``dw`` (``dist_*``, ``snapped``, ``snap_m``).

    Searched a tolerance beyond the largest band, for the band-edge sensitivity; returns
    those distances (``dist_*`` stops at the largest band).
    """
    indicator = amen["indicator"].to_numpy()
    search_m = cfg.max_distance_m + cfg.band_tolerance_m
    if tiling is None:
        dists = indicator_distances(
            net, d_snap, a_snap, indicator, cfg.indicator_ids, max_distance_m=search_m
        )
        snapped, snap_m = d_snap.ok, d_snap.snap_m
    else:
        tiled = tiled_distances(
            net,
            shapely.get_coordinates(dw.geometry.to_numpy()),
            shapely.get_coordinates(amen.geometry.to_numpy()),
            indicator,
            cfg.indicator_ids,
            max_snap_m=cfg.max_snap_m,
            max_distance_m=search_m,
            tiling=tiling,
            progress=stages.progress,
        )
        dists, snapped, snap_m = tiled.distances, tiled.snapped, tiled.snap_m
        meta["tiling"] = (
            f"tiles of {tiling.tile_m:g} m on "
            f"{tiling.scheduler or f'a local cluster of {tiling.workers} worker(s)'}"
        )
    dw["snapped"] = snapped
    dw["snap_m"] = snap_m
    for ind in cfg.indicator_ids:
        dw[f"dist_{ind}"] = np.where(dists[ind] > cfg.max_distance_m, np.inf, dists[ind])
    return dists


def _sensitivity(dw, reach: dict[str, np.ndarray], cfg: Config, edges_dw) -> None:
    """Band-edge sensitivity columns into ``dw`` (see ``score.band_sensitivity``)."""
    distances = pd.DataFrame({f"dist_{i}": reach[i] for i in cfg.indicator_ids}, index=dw.index)
    sens = band_sensitivity(distances, dw["safety_pts"], cfg, class_edges=edges_dw)
    dw[list(sens.columns)] = sens.where(dw["snapped"], axis=0)


def _score(st, dw, all_areas, net, cfg: Config, meta: dict[str, str]):
    """Points, safety, total and class per dwelling; returns the class edges and safety areas."""
    for ind in cfg.indicator_ids:
        dw[f"pts_{ind}"] = band_points(dw[f"dist_{ind}"].to_numpy(), cfg)
    extent = shapely.box(*net.edges_frame().total_bounds)
    safety, safety_facts, safety_areas = _safety(st, dw, all_areas, cfg, extent)
    meta.update(safety_facts)
    dw["safety_pts"] = safety.where(dw["snapped"])
    pts = dw[[f"pts_{i}" for i in cfg.indicator_ids]]
    dw["score"] = total_score(pts, safety, cfg).where(dw["snapped"])
    edges_dw = class_edges(dw["score"], dw["weight"], cfg)
    dw["score_class"] = classify(dw["score"], edges_dw)
    return edges_dw, safety_areas


def _aggregate(dw, areas, cfg: Config):
    """Dwelling-weighted means per area and per grid cell, each classed against its own means."""
    cols = [f"pts_{i}" for i in cfg.indicator_ids] + ["safety_pts"]
    dw["not_robust"] = (~dw["class_robust"]).astype(float)
    agg = aggregate(dw, areas, cfg, columns=[*cols, "not_robust"])
    coverage = agg["area_id"].map(areas.set_index("area_id").get("data_coverage", {}))
    edges_ar = _classes(agg, "area_id", unscored_share(dw, dw["area_id"]), cfg, coverage)
    agg["share_not_robust"] = agg.pop("not_robust")
    grid = score_grid(dw, cfg, columns=["not_robust"])
    cells = cell_ids(shapely.get_coordinates(dw.geometry.to_numpy()), cfg.grid_cell_m)
    edges_gr = _classes(grid, "cell_id", unscored_share(dw, cells), cfg)
    grid["share_not_robust"] = grid.pop("not_robust")
    return agg, grid, (edges_ar, edges_gr)


def _classes(
    layer: gpd.GeoDataFrame, key: str, share: pd.Series, cfg: Config, coverage=None
) -> np.ndarray:
    """Add ``unscored_share``, ``data_status`` and ``score_class`` to an area-like layer.

    Areas (or cells) with too many unscored dwellings, or less than half covered by the
    data, get no class and do not shape the class edges of the others; returns the edges.
    """
    layer["unscored_share"] = layer[key].map(share).astype(float)
    status = data_status(layer["unscored_share"], cfg)
    if coverage is not None:
        layer["data_coverage"] = coverage.astype(float).fillna(1.0).round(4).to_numpy()
        status = status.where(layer["data_coverage"].to_numpy() >= 0.5, INSUFFICIENT)
    layer["data_status"] = status.to_numpy()
    mean = layer["score_mean"].where(layer["data_status"] == OK)
    edges = class_edges(mean, layer["n_dwellings"].astype(float), cfg)
    layer["score_class"] = classify(mean, edges)
    return edges


def _result_facts(st, cfg, net, metric, dw, amen, agg, edges, stages) -> dict[str, str]:
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
        "areas": str(len(agg)),
        "areas_suppressed": str(int(agg["suppressed"].sum())),
        "class_method": cfg.classification_method,
        "class_edges_dwellings": json.dumps([round(float(x), 4) for x in edges_dw]),
        "class_edges_areas": json.dumps([round(float(x), 4) for x in edges_ar]),
        "class_edges_grid": json.dumps([round(float(x), 4) for x in edges_gr]),
        "grid_cell_m": f"{cfg.grid_cell_m:g}",
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


def _order(dw: gpd.GeoDataFrame, cfg: Config) -> gpd.GeoDataFrame:
    head = [
        c for c in ("dwelling_id", "postcode", "weight", "area_id", "snapped", "snap_m") if c in dw
    ]
    cols = (
        head
        + [f"dist_{i}" for i in cfg.indicator_ids]
        + [f"pts_{i}" for i in cfg.indicator_ids]
        + ["safety_pts", "score", "score_class"]
        + ["n_near_edge", "score_min", "score_max", "class_min", "class_max", "class_robust"]
        + [dw.geometry.name]
    )
    return dw[cols]
