"""From a study to its inputs as plain frames, each checked against where the study lies.

The network (from the cache when it holds it), dwellings, amenities, areas, safety, and
the water and green a map draws as context.
"""

from __future__ import annotations

import json
import logging
import os
from dataclasses import dataclass
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from pyproj import CRS

from .._progress import Stages
from .._text import short_list
from ..config import Config
from ..crs import check_metric_crs, choose_metric_crs, to_metric
from ..engine.aggregate import (
    FULL_COVERAGE,
    MIN_DATA_COVERAGE,
    assign_areas,
    select_areas,
    square_cells,
)
from ..engine.cache import load_network, network_key, save_network
from ..engine.network import Network, build_network, profile_audit
from ..engine.score import (
    safety_points,
)
from ..errors import ConfigError, InputError
from ..settings import cache_dir
from ..sources._io import parse_crs, read_vector, require_columns, require_file, require_overlap
from ..sources.amenities import amenity_format, read_amenities
from ..sources.areas import area_ids, read_areas
from ..sources.dwellings import read_dwellings
from ..sources.leefbaarometer import read_leefbaarometer
from ..sources.osm import OsmExtract, read_osm
from ..sources.tags import needed_keys, rule_starts
from ..study import Study, load_study, study_from_osm

log = logging.getLogger(__name__)


def resolve_study(study, osm, data_dir) -> Study:
    """The study to scan: a Study, a study file or preset, or an OSM extract."""
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


def osm_extract(st: Study, cfg: Config, *, ways: bool) -> OsmExtract | None:
    """One pass over the study's extract for every layer the scan takes from it (or None).

    The water and green areas (the maps' context) always come along, so a scan whose
    network comes from the cache has them too.
    """
    if not st.osm:
        return None
    features = any(
        amenity_format(s) == "osm" and Path(s["file"]).resolve() == Path(st.osm).resolve()
        for s in _amenity_specs(st)
    )
    keys = needed_keys(cfg.indicators) if features else ()
    starts = rule_starts(cfg.indicators) if features else None
    return read_osm(
        st.osm,
        ways=ways,
        feature_keys=keys,
        feature_prefilter=starts,
        dwellings=not st.dwellings,
        context=True,
    )


def study_network(
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
            _check_crs(wanted, net)
            return net, net.crs, _study_area(st, net.crs), "hit", None
        osm = None
        if st.network:
            edges = read_vector(
                st.network["file"], what="street network", layer=st.network.get("layer")
            )
        else:
            osm = osm_extract(st, cfg, ways=True)
            edges = osm.ways
        if wanted is not None:  # before the network is built on it
            check_metric_crs(wanted, edges.total_bounds, edges.crs)
        metric = wanted or choose_metric_crs(edges)
        edges = to_metric(edges, metric)
        area = _study_area(st, metric)
        if area is not None:
            Extent(area.union_all(), "the study area", metric).require(
                edges, "street network", st.network["file"] if st.network else st.osm
            )
            # Keep the streets near the study area: people walk across its border.
            reach = area.union_all().buffer(cfg.max_distance_m + cfg.max_snap_m)
            shapely.prepare(reach)  # one polygon against every street: prepared once
            edges = edges[edges.intersects(reach)]
    with stages("build network"):
        if cfg.profile:
            meta.update(_audit_profile(edges, cfg))
        net = build_network(edges, min_component_m=cfg.min_component_m, exclude=cfg.profile_rules)
        if key:
            save_network(folder, key, net)
    return net, metric, area, "miss" if key else "off", osm


def _check_crs(wanted: CRS | None, net: Network) -> None:
    """A CRS the user gave, checked on a network from the cache (:func:`check_metric_crs`)."""
    if wanted is not None and net.n_nodes:
        xy = net.node_xy
        check_metric_crs(wanted, (*xy.min(axis=0), *xy.max(axis=0)), net.crs)


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


def study_safety(
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


@dataclass(frozen=True)
class Extent:
    """Where the study lies: its study area, else its walking network; inputs must meet it."""

    shape: shapely.Geometry
    name: str
    crs: CRS

    @classmethod
    def of(cls, st: Study, net: Network, area: gpd.GeoDataFrame | None) -> Extent:
        """The study area when there is one, else the network's bounding box."""
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


def study_amenities(
    st: Study, cfg: Config, metric: CRS, where: Extent, meta, osm: OsmExtract | None
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


def study_dwellings(
    st: Study,
    metric: CRS,
    area: gpd.GeoDataFrame | None,
    meta: dict[str, str],
    osm: OsmExtract | None,
    where: Extent,
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


def study_areas(
    st: Study,
    cfg: Config,
    metric: CRS,
    area: gpd.GeoDataFrame | None,
    dw: gpd.GeoDataFrame,
    meta: dict[str, str],
    net: Network,
    where: Extent,
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
    if area is not None:
        extent = net.extent()
        share = covered_share(area.union_all(), extent, what="study area")
        meta["data_coverage"] = f"{share:.4f}"
        areas = areas_in_study_area(all_areas, area, dw, cfg, extent)
    else:  # squares drawn around the dwellings, or the polygons holding them
        cells = square_cells(dw, size_m=cfg.fallback_cell_m) if all_areas is None else all_areas
        areas = _areas_in_data(cells, dw, net)
    _note_partly_covered(areas, meta)
    meta.update(areas_facts(st.areas, cfg))
    if areas.empty:
        raise InputError("areas: none of the area polygons lies in the study area")
    return all_areas, areas


def covered_share(outline, extent, *, what: str) -> float:
    """The share of ``outline`` within ``extent`` (0 without one), warned below full.

    ``what`` names the outline in the warning (a study area, a municipality), logged below
    :data:`FULL_COVERAGE`. Its areas less than half within the data get no class (their
    ``data_coverage``); those with half or more hold only the dwellings the data has
    there, and are classed on them.
    """
    share = 0.0
    if extent is not None and outline.area > 0:
        share = float(outline.intersection(extent).area / outline.area)
    if share < FULL_COVERAGE:
        log.warning(
            "%s: the data (the walking network's extent) covers %.0f%% of it; its areas less "
            "than half within the data get no class, those at its edge are averaged over the "
            "few dwellings there",
            what,
            100 * share,
        )
    return share


def areas_in_study_area(
    all_areas: gpd.GeoDataFrame | None,
    area: gpd.GeoDataFrame,
    dw: gpd.GeoDataFrame,
    cfg: Config,
    extent,
) -> gpd.GeoDataFrame:
    """The areas a scan with a study area reports on, with the share the data covers.

    The polygons of ``all_areas`` with half their surface or more in the study area;
    without polygons, the squares of ``cfg.fallback_cell_m`` holding the dwellings (which
    all lie in the study area). ``data_coverage`` is the share of each one's part in the
    study area that lies within ``extent``, the data's reach (:meth:`Network.extent`): a
    study area larger than its data (a municipality scanned with an extract of its centre)
    leaves the areas beyond the data without a class ('onvoldoende gegevens'), not with
    a verdict from the few dwellings there, as in a scan without a study area.
    """
    if all_areas is None:
        areas = square_cells(dw, size_m=cfg.fallback_cell_m)
    else:
        areas = select_areas(all_areas, study_area=area, dwellings=dw)
    areas["data_coverage"] = _coverage(areas.geometry.to_numpy(), extent, area.union_all())
    return areas


def _coverage(geom: np.ndarray, extent, within=None) -> np.ndarray:
    """The share of each polygon (of its part ``within``, when given) inside ``extent``.

    1 where the extent has no surface to measure by (no edge, or a network on one line:
    the plot check measures no edge there either); nothing is then known to be missing.
    """
    if extent is None or shapely.area(extent) == 0:
        return np.ones(len(geom))
    if within is not None:
        shapely.prepare(within)
        inside = shapely.covered_by(geom, within)  # most: spare the intersection
        geom = geom.copy()
        geom[~inside] = shapely.intersection(geom[~inside], within)
    total = shapely.area(geom)
    covered = shapely.area(shapely.intersection(geom, extent))
    return np.divide(covered, total, out=np.zeros(len(geom)), where=total > 0)


def areas_source(spec: dict | None, cfg: Config) -> str:
    """What the areas are, for the metadata: the file and its id field, or the squares."""
    if spec:
        return f"{Path(spec['file']).name} ({spec['id_field']})"
    return f"squares of {cfg.fallback_cell_m:g} m (no area polygons given)"


def areas_facts(spec: dict | None, cfg: Config) -> dict[str, str]:
    """``areas_source`` and, for squares, ``areas_square_m`` (what the maps' legends say)."""
    facts = {"areas_source": areas_source(spec, cfg)}
    if not spec:
        facts["areas_square_m"] = f"{cfg.fallback_cell_m:g}"
    return facts


def _areas_in_data(all_areas, dw, net: Network):
    """The areas holding dwellings, with the share of each that the data covers.

    For a scan without a study area (an OSM extract, a box): ``data_coverage`` is the
    share of each within the walking network's extent: an area the data covers only at
    its edge gets no class ('onvoldoende gegevens'), never a verdict from the few
    dwellings there.
    """
    areas = select_areas(all_areas, study_area=None, dwellings=dw)
    areas["data_coverage"] = _coverage(areas.geometry.to_numpy(), net.extent())
    return areas


def _note_partly_covered(areas: gpd.GeoDataFrame, meta: dict[str, str]) -> None:
    """Log the areas the data covers less than half of, and name them in the metadata."""
    partly = areas.loc[areas["data_coverage"] < MIN_DATA_COVERAGE, "area_id"].tolist()
    if partly:
        log.info(
            "areas: %d area(s) lie less than half within the data (the walking network's "
            "extent) and get no class: %s",
            len(partly),
            short_list(partly),
        )
        meta["areas_partly_covered"] = f"{len(partly)}: {short_list(partly)}"


def study_context(
    osm: OsmExtract | None, cfg: Config, metric: CRS, where: Extent, meta: dict[str, str]
) -> gpd.GeoDataFrame | None:
    """Water and large green around the study, for the maps; None when the inputs have none.

    Only an OSM extract carries them (street files and Overpass answers do not).
    """
    if osm is None or osm.context is None:
        return None
    c = cfg.context
    kept = large_context(
        to_metric(osm.context, metric),
        clip=shapely.box(*where.shape.bounds).buffer(c.buffer_m, join_style="mitre"),
        min_m2={"water": c.water_min_ha * 1e4, "green": c.green_min_ha * 1e4},
        simplify_m=c.simplify_m,
    )
    n = kept["kind"].value_counts()
    meta["context"] = (
        f"{n.get('water', 0)} water and {n.get('green', 0)} green areas from {osm.path.name} "
        f"(water from {c.water_min_ha:g} ha, green from {c.green_min_ha:g} ha, within "
        f"{c.buffer_m:g} m of the bounding box of {where.name})"
    )
    return kept


def large_context(
    frame: gpd.GeoDataFrame, *, clip, min_m2: dict[str, float], simplify_m: float
) -> gpd.GeoDataFrame:
    """The polygons of ``frame`` cut to ``clip`` whose area there is ``min_m2[kind]`` or more.

    Measured after the cut and before simplifying (by ``simplify_m``, keeping the
    topology); sorted green first, so that water is drawn over green.
    """
    geom = shapely.intersection(shapely.make_valid(frame.geometry.to_numpy()), clip)
    geom = np.array([_polygonal(g) for g in geom], dtype=object)
    limit = frame["kind"].map(min_m2).to_numpy(dtype=float)
    keep = shapely.area(geom) >= limit
    out = frame[keep].copy()
    out.geometry = shapely.simplify(geom[keep], simplify_m, preserve_topology=True)
    out = out[~out.geometry.is_empty]
    return out.sort_values(["kind", "source_id"]).reset_index(drop=True)


def _polygonal(g):
    """The polygons of a geometry (a cut can leave lines and points where edges touch)."""
    if g is None or shapely.get_type_id(g) in (3, 6):  # Polygon, MultiPolygon
        return g
    parts = [p for p in shapely.get_parts(g) if shapely.get_type_id(p) in (3, 6)]
    return shapely.union_all(parts) if parts else shapely.Polygon()
