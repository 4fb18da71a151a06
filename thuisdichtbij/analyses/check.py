"""The plot check: one location held against a scan, explained.

Loads what it needs from the scan GeoPackage once (:func:`load_check`); each further
:func:`check` snaps the location as the scan snaps dwellings, walks the network from it with
the same search the scan uses (:func:`thuisdichtbij.distance.node_distances`), and scores it
with the scan's own configuration and class edges.
"""

from __future__ import annotations

import json
import logging
import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
import shapely.geometry
from pyproj import CRS, Transformer
from shapely.ops import substring

from .._text import decimal
from ..config import SAFETY_ID, Config, run_config
from ..engine.aggregate import MIN_DATA_COVERAGE
from ..engine.distance import edge_distances, node_distances
from ..engine.network import Network, inside_extent_m
from ..engine.score import (
    CLASS_LABELS_EN,
    CLASS_LABELS_NL,
    band_points,
    band_sensitivity,
    classify,
    total_score,
)
from ..engine.snap import Snapped, snap_points
from ..errors import CRSError, InputError
from ..outputs.scanfile import read_metadata, read_scan_layer, require_layer
from .audit import INSUFFICIENT, MIN_SAFETY_SHARE

log = logging.getLogger(__name__)

__all__ = ["CheckContext", "load_check", "check", "parse_location", "NEAR_MISS_M"]

#: How far beyond a band edge an amenity still counts as "just out of reach".
NEAR_MISS_M = 100.0
#: Half-width of the walking-reach polygons around the reachable streets.
REACH_BUFFER_M = 25.0
_PC6 = re.compile(r"^\d{4}[A-Z]{2}$")


@dataclass
class CheckContext:
    """Everything a check needs from one scan GeoPackage, loaded once."""

    path: Path
    config: Config
    network: Network
    amenities: gpd.GeoDataFrame
    amenity_snap: Snapped
    areas: gpd.GeoDataFrame
    region: Any
    scores: np.ndarray
    cum_weight: np.ndarray
    class_edges: np.ndarray
    metadata: dict[str, str]
    safety_areas: gpd.GeoDataFrame | None = None
    zones: gpd.GeoDataFrame | None = None
    fairshare: gpd.GeoDataFrame | None = None
    postcodes: dict[str, Any] = field(default_factory=dict)
    #: The scan's audit verdict per sub-indicator (``ok``, ``dun``, ``ontbreekt``).
    verdicts: dict[str, str] = field(default_factory=dict)

    @property
    def crs(self) -> CRS:
        """The scan's metric CRS."""
        return self.network.crs

    def __post_init__(self):
        # where the data reaches, for the distance to its edge (see _data_edge_m)
        self.extent = self.network.extent()
        if self.extent is not None and self.extent.geom_type != "Polygon":
            self.extent = None
        # Building a transformer costs tens of milliseconds: once per scan, not per check.
        self.to_wgs84 = Transformer.from_crs(self.crs, 4326, always_xy=True)
        self.from_wgs84 = Transformer.from_crs(4326, self.crs, always_xy=True)
        # Which street nodes lie in (or within 1 m of) a zone: the walk to the nearest zone
        # is the walk to the first of them.
        self.node_in_zone = (
            shapely.dwithin(self.zones.union_all(), shapely.points(self.network.node_xy), 1.0)
            if self.zones is not None and len(self.zones)
            else np.zeros(self.network.n_nodes, dtype=bool)
        )

    def geojson(self, geom) -> dict:
        """A geometry in the scan's CRS as a GeoJSON Feature in WGS84."""

        def project(xy):
            lon, lat = self.to_wgs84.transform(xy[:, 0], xy[:, 1])
            return np.column_stack([lon, lat])

        return {
            "type": "Feature",
            "properties": {},
            "geometry": shapely.geometry.mapping(shapely.transform(geom, project)),
        }


def _network_from_layer(edges: gpd.GeoDataFrame, crs: CRS) -> Network:
    u = edges["u"].to_numpy(dtype=np.int64)
    v = edges["v"].to_numpy(dtype=np.int64)
    geom = edges.geometry.to_numpy()
    n = int(max(u.max(), v.max())) + 1
    node_xy = np.zeros((n, 2))
    node_xy[u] = shapely.get_coordinates(shapely.get_point(geom, 0))
    node_xy[v] = shapely.get_coordinates(shapely.get_point(geom, -1))
    names = edges["name"].to_numpy(dtype=object) if "name" in edges else np.full(len(u), None)
    return Network.from_arrays(
        crs=crs,
        node_xy=node_xy,
        edge_u=u,
        edge_v=v,
        edge_length_m=edges["length_m"].to_numpy(dtype=float),
        edge_geometry=geom,
        edge_name=np.array([x if isinstance(x, str) and x else None for x in names], dtype=object),
    )


def load_check(scan: str | os.PathLike) -> CheckContext:
    """Load a scan GeoPackage for checks of single locations."""
    path = Path(scan)
    names = require_layer(path, "network", what="scan GeoPackage")
    meta = read_metadata(path)
    cfg = run_config(meta)
    edges = read_scan_layer(path, "network")
    net = _network_from_layer(edges, CRS(edges.crs))
    amen = read_scan_layer(path, "amenities")
    amen_snap = snap_points(amen.geometry.to_numpy(), net, max_snap_m=cfg.max_snap_m)
    areas = read_scan_layer(path, "areas")
    dw = read_scan_layer(path, "dwellings")
    scored = dw[dw["snapped"].astype(bool) & dw["score"].notna() & dw["weight"].notna()]
    order = np.argsort(scored["score"].to_numpy(), kind="stable")
    scores = scored["score"].to_numpy()[order]
    cum = np.concatenate([[0.0], np.cumsum(scored["weight"].to_numpy()[order])])
    postcodes = {}
    for col in ("postcode", "dwelling_id"):
        if col in dw and dw[col].astype(str).str.match(_PC6).mean() > 0.9:
            first = dw.drop_duplicates(col)
            postcodes = dict(zip(first[col].astype(str), first.geometry, strict=True))
            break
    optional = {
        n: read_scan_layer(path, n) for n in ("safety_areas", "zones", "fairshare") if n in names
    }
    return CheckContext(
        path=path,
        config=cfg,
        network=net,
        amenities=amen,
        amenity_snap=amen_snap,
        areas=areas,
        region=areas.union_all().buffer(cfg.max_snap_m),
        scores=scores,
        cum_weight=cum,
        class_edges=np.asarray(json.loads(meta["class_edges_dwellings"]), dtype=float),
        metadata=meta,
        safety_areas=optional.get("safety_areas"),
        zones=optional.get("zones"),
        fairshare=optional.get("fairshare"),
        postcodes=postcodes,
        verdicts=_verdicts(meta, amen, cfg),
    )


def _verdicts(meta: dict[str, str], amenities: pd.DataFrame, cfg: Config) -> dict[str, str]:
    """The audit's verdict per sub-indicator.

    For scans written before the audit, only the empty ones are known (``ontbreekt``).
    """
    stored = json.loads(meta.get("audit_verdicts", "{}"))
    counts = amenities["indicator"].value_counts()
    return {
        ind: "ontbreekt" if counts.get(ind, 0) == 0 else stored.get(ind, "ok")
        for ind in cfg.indicator_ids
    }


_DATA_NOTES = {
    "nl": {
        "ontbreekt": "geen {label} in de invoergegevens",
        "dun": "de invoer heeft weinig {plural} ({n}): een verre afstand kan aan de gegevens "
        "liggen",
        "none": "niets binnen {m:g} m",
        "edge": "de gegevens (het wegennet) houden {d:.0f} m hiervandaan op: wat daarachter "
        "ligt telt niet mee, dus een lage score kan hier aan de gegevens liggen",
        "at_edge": "de gegevens (het wegennet) houden hier op: wat verderop ligt telt niet "
        "mee, dus een lage score kan hier aan de gegevens liggen",
        "area_gap": "gebied {area} heeft onvoldoende gegevens ({pct} van zijn woningen ligt "
        "te ver van een straat in de gegevens): geen klasse voor het gebied, en een lage "
        "score kan hier aan de gegevens liggen",
        "area_outside": "gebied {area} heeft onvoldoende gegevens (maar {pct} ervan ligt "
        "binnen de gegevens): geen klasse voor het gebied, en een lage score kan hier aan de "
        "gegevens liggen",
        "area_safety": "gebied {area} heeft onvoldoende gegevens (maar {pct} van zijn woningen "
        "heeft een Leefbaarometer-cijfer): geen klasse voor het gebied, en een lage score kan "
        "hier aan de gegevens liggen",
        "area_count": "gebied {area} heeft onvoldoende gegevens (het aantal woningen is "
        "onbekend: CBS geheim): geen klasse voor het gebied",
        "no_safety_here": "hier geen Leefbaarometer-cijfer ({how}): deze score en klasse zijn "
        "niet te vergelijken met die van woningen met een cijfer",
    },
    "en": {
        "ontbreekt": "no {label} in the input data",
        "dun": "the input holds few {plural} ({n}): a long distance may be a data gap",
        "none": "nothing within {m:g} m",
        "edge": "the data (the street network) ends {d:.0f} m from here: what lies beyond "
        "is not counted, so a low score here may be a gap in the data",
        "at_edge": "the data (the street network) ends here: what lies further on is not "
        "counted, so a low score here may be a gap in the data",
        "area_gap": "area {area} has too little data ({pct} of its dwellings lie too far from "
        "a street in the data): no class for the area, and a low score here may be a gap in "
        "the data",
        "area_outside": "area {area} has too little data (only {pct} of it lies within the "
        "data): no class for the area, and a low score here may be a gap in the data",
        "area_safety": "area {area} has too little data (only {pct} of its dwellings have a "
        "Leefbaarometer figure): no class for the area, and a low score here may be a gap in "
        "the data",
        "area_count": "area {area} has too little data (its number of dwellings is unknown: "
        "CBS secret): no class for the area",
        "no_safety_here": "no Leefbaarometer figure here ({how}): this score and class do not "
        "compare with those of dwellings that have one",
    },
}


_FOOTPATH_NOTE = {
    "ontbreekt": {
        "nl": "het netwerk heeft geen voetpaden: looproutes zijn langer dan in werkelijkheid",
        "en": "the network has no footpaths: walks are longer than in reality",
    },
    "dun": {
        "nl": "het netwerk heeft weinig voetpaden: looproutes vallen te lang uit",
        "en": "the network has few footpaths: walks come out too long",
    },
}


def _data_summary(
    ctx: CheckContext, rows: list[dict], point, lang: str, *, safety: float
) -> dict[str, Any]:
    """The data audit's verdicts that bear on this check, and the data's edge, with notes.

    ``safety``: the spot's safety points (NaN without a Leefbaarometer figure).
    """
    missing = [r["label"] for r in rows if r["data"] == "ontbreekt"]
    thin = [r["label"] for r in rows if r["data"] == "dun"]
    foot = ctx.metadata.get("audit_footpaths", "ok")
    edge_m = _data_edge_m(ctx, point)
    notes = []  # where the data ends first: it bears on every row of the table
    t = _DATA_NOTES[lang]
    if edge_m is not None:
        notes.append(t["at_edge"] if edge_m < 1 else t["edge"].format(d=edge_m))
    area = _within(ctx.areas, point)
    if area is not None and area.get("data_status") == INSUFFICIENT:
        notes.append(_area_gap(area, t, lang, ctx.config.audit.max_unscored_share))
    if np.isnan(safety) and ctx.metadata.get("audit_safety") in ("ok", "dun"):
        # the run has figures elsewhere: this score is not comparable with theirs
        notes.append(t["no_safety_here"].format(how=ctx.config.safety.missing))
    notes += [r["data_note"] for r in rows if r["data"] != "ok"]
    if foot in _FOOTPATH_NOTE:
        notes.append(_FOOTPATH_NOTE[foot][lang])
    return {"missing": missing, "thin": thin, "footpaths": foot, "edge_m": edge_m, "notes": notes}


def _area_gap(area, t: dict[str, str], lang: str, most_unscored: float) -> str:
    """Why the area holding the spot has no class (see ``pipeline.compute._classes``).

    The data covers too little of it, too many of its dwellings lie too far from a street,
    too few have a Leefbaarometer figure, or its number of dwellings is unknown.
    """

    def value(column: str) -> float | None:
        v = area.get(column)
        return None if v is None or pd.isna(v) else float(v)

    def pct(v: float) -> str:
        return decimal(v, ".0%", lang)

    covered, unscored, safety = (
        value(c) for c in ("data_coverage", "unscored_share", "safety_share")
    )
    if covered is not None and covered < MIN_DATA_COVERAGE:
        return t["area_outside"].format(area=area["area_id"], pct=pct(covered))
    if unscored is not None and unscored > most_unscored:
        return t["area_gap"].format(area=area["area_id"], pct=pct(unscored))
    if safety is not None and safety < MIN_SAFETY_SHARE:
        return t["area_safety"].format(area=area["area_id"], pct=pct(safety))
    if value("n_dwellings") is None:
        return t["area_count"].format(area=area["area_id"])
    return t["area_gap"].format(
        area=area["area_id"], pct="?" if unscored is None else pct(unscored)
    )


def _data_edge_m(ctx: CheckContext, point) -> float | None:
    """How far the data's edge lies, when it lies within the widest band (else None).

    The edge is that of the walking network's extent (:meth:`Network.extent`), the same
    yardstick as the scan's ``data_coverage``: amenities beyond it are not in the data, so
    a walk that would reach them is not counted. A spot on the edge or beyond it (within
    the snap limit of a street at the edge: farther ones are refused) gets 0. The hull is
    convex: where the data's real edge bends inwards, it lies nearer than said.
    """
    d = inside_extent_m(ctx.extent, point)
    if np.isnan(d):  # a network on one line has no outline to measure from
        return None
    return round(d, 1) if d < ctx.config.max_distance_m else None


def _data_note(ctx: CheckContext, ind: str, n: int, lang: str) -> str | None:
    """What the planner must know about the data behind one sub-indicator's answer."""
    t = _DATA_NOTES[lang]
    spec = ctx.config.indicator(ind)
    label = spec.label_nl if lang == "nl" else spec.label_en
    plural = (spec.plural_nl if lang == "nl" else spec.plural_en) or label
    verdict = ctx.verdicts.get(ind, "ok")
    if verdict == "ontbreekt":
        return t["ontbreekt"].format(label=label)
    if verdict == "dun":
        return t["dun"].format(plural=plural, n=n)
    return None


def parse_location(
    ctx: CheckContext,
    *,
    at: str | None = None,
    crs: str | None = None,
    lat: float | None = None,
    lon: float | None = None,
    postcode: str | None = None,
) -> shapely.Point:
    """A location in the scan's CRS.

    From ``at`` as ``"lat,lon"`` (WGS84) or ``"x,y"`` with ``crs``, from ``lat``/``lon``, or
    from a PC6 ``postcode`` known to the scan.
    """
    if postcode is not None:
        return _from_postcode(ctx, postcode)
    if at is not None:
        return _from_text(ctx, at, crs)
    if lat is None or lon is None or not (np.isfinite(lat) and np.isfinite(lon)):
        raise InputError(
            "location: give a location (lat and lon, x,y with a CRS, or a postcode)",
            nl="locatie: geef een locatie (breedte en lengte, x,y met een CRS, of een postcode)",
        )
    if not (-90 <= lat <= 90 and -180 <= lon <= 180):
        raise InputError(
            f"location: {_num(lat)}, {_num(lon)} is not a latitude, longitude (did you swap "
            "them, or mean projected coordinates with --crs?)",
            nl=f"locatie: {_num(lat)}, {_num(lon)} is geen breedte, lengte (verwisseld, of "
            "bedoelt u geprojecteerde coördinaten met --crs?)",
        )
    point = shapely.Point(*ctx.from_wgs84.transform(lon, lat))
    if not ctx.region.contains(point) and -90 <= lon <= 90:
        swapped = shapely.Point(*ctx.from_wgs84.transform(lat, lon))
        if ctx.region.contains(swapped):
            raise InputError(
                f"location: {_num(lat)}, {_num(lon)} lies outside the study area of "
                f"{ctx.path.name}, but {_num(lon)}, {_num(lat)} lies inside: latitude and "
                f"longitude are swapped; give latitude first ({_num(lon)},{_num(lat)})",
                nl=f"locatie: {_num(lat)}, {_num(lon)} ligt buiten het studiegebied van "
                f"{ctx.path.name}, maar {_num(lon)}, {_num(lat)} ligt erbinnen: breedte en "
                f"lengte zijn verwisseld; geef de breedte eerst ({_num(lon)},{_num(lat)})",
            )
    return point


def _from_postcode(ctx: CheckContext, postcode: str) -> shapely.Point:
    """The point of a PC6 ``postcode`` the scan has."""
    pc = postcode.replace(" ", "").upper()
    if not _PC6.match(pc):
        raise InputError(
            f"postcode: {postcode!r} is not a 6-character postcode like 6211AB",
            nl=f"postcode: {postcode!r} is geen postcode van 6 tekens zoals 6211AB",
        )
    if not ctx.postcodes:
        raise InputError(
            f"postcode: the scan {ctx.path.name} has no PC6 points; give coordinates with --at",
            nl=f"postcode: de scan {ctx.path.name} heeft geen PC6-punten; geef coördinaten",
        )
    if pc not in ctx.postcodes:
        raise InputError(
            f"postcode: {pc} is not among the scan's {len(ctx.postcodes)} postcodes",
            nl=f"postcode: {pc} hoort niet bij de {len(ctx.postcodes)} postcodes van de scan",
        )
    return ctx.postcodes[pc]


def _from_text(ctx: CheckContext, at: str, crs: str | None) -> shapely.Point:
    """``"lat,lon"`` (WGS84), or ``"x,y"`` in ``crs``, as a point in the scan's CRS."""
    parts = [p.strip() for p in str(at).split(",")]
    try:
        a, b = (float(p) for p in parts)
    except ValueError as exc:
        raise InputError(
            f"location: {at!r} is not two numbers; give 'lat,lon' (e.g. 50.8514,5.6910) or "
            "'x,y' with --crs",
            nl=f"locatie: {at!r} is geen twee getallen; geef 'breedte,lengte' (bijv. "
            "50.8514,5.6910) of 'x,y' met --crs",
        ) from exc
    if crs is None:
        return parse_location(ctx, lat=a, lon=b)
    try:
        src = CRS.from_user_input(crs)
    except Exception as exc:
        raise CRSError(
            f"crs: {crs!r} is not a coordinate reference system",
            nl=f"crs: {crs!r} is geen coördinatenstelsel",
        ) from exc
    to_scan = Transformer.from_crs(src, ctx.crs, always_xy=True)
    point = shapely.Point(*to_scan.transform(a, b))
    if not np.isfinite(shapely.get_coordinates(point)).all():  # PROJ's inf: out of range
        raise InputError(
            f"location: {_num(a)},{_num(b)} cannot be coordinates in {crs} (out of its range); "
            "give 'x,y' in the CRS they are in",
            nl=f"locatie: {_num(a)},{_num(b)} kunnen geen coördinaten in {crs} zijn (buiten "
            "het bereik); geef 'x,y' in het stelsel waarin ze staan",
        )
    if not ctx.region.contains(point) and ctx.region.contains(
        shapely.Point(*to_scan.transform(b, a))
    ):
        raise InputError(
            f"location: {_num(a)},{_num(b)} ({crs}) lies outside the study area of "
            f"{ctx.path.name}, but {_num(b)},{_num(a)} lies inside: x and y are swapped; "
            "give x (easting) first",
            nl=f"locatie: {_num(a)},{_num(b)} ({crs}) ligt buiten het studiegebied van "
            f"{ctx.path.name}, maar {_num(b)},{_num(a)} ligt erbinnen: x en y zijn "
            "verwisseld; geef x (oostwaarde) eerst",
        )
    return point


def _num(value: float) -> str:
    """A coordinate for a message: as given when ordinary, short when absurd (1e308)."""
    return f"{value:.7g}" if abs(value) < 1e9 else f"{value:.3g}"


def _reach(net: Network, here: Snapped, node_d: np.ndarray, limit: float, buffer_m: float):
    """The streets reachable within ``limit`` metres, buffered into a polygon."""
    du, dv = node_d[net.edge_u], node_d[net.edge_v]
    pieces = []
    for e in np.flatnonzero((du < limit) | (dv < limit)):
        g, length = net.edge_geometry[e], net.edge_length_m[e]
        a = max(0.0, limit - du[e]) if np.isfinite(du[e]) else 0.0
        b = max(0.0, limit - dv[e]) if np.isfinite(dv[e]) else 0.0
        if a + b >= length:
            pieces.append(g)
            continue
        if a > 0:
            pieces.append(substring(g, 0, a))
        if b > 0:
            pieces.append(substring(g, length - b, length))
    e0, pos, r = int(here.edge[0]), float(here.along_m[0]), limit - float(here.snap_m[0])
    if r > 0:
        length = net.edge_length_m[e0]
        pieces.append(substring(net.edge_geometry[e0], max(0.0, pos - r), min(length, pos + r)))
    if not pieces:
        return shapely.Polygon()
    # Joining the pieces into longer lines, buffering each and taking the union is far
    # faster than buffering them as one MultiLineString on dense footpath networks
    # (Aachen, 1,246 pieces: 35 ms against 1.5 s).
    lines = shapely.get_parts(shapely.line_merge(shapely.multilinestrings(pieces)))
    lines = shapely.simplify(lines, 2.0)  # a 25 m buffer does not need centimetre bends
    return shapely.union_all(shapely.buffer(lines, buffer_m, quad_segs=2))


def _within(layer: gpd.GeoDataFrame | None, point) -> pd.Series | None:
    if layer is None or layer.empty:
        return None
    hit = layer[layer.contains(point)]
    return None if hit.empty else hit.iloc[0]


def check(
    ctx: CheckContext,
    point: shapely.Point,
    *,
    near_miss_m: float = NEAR_MISS_M,
    reach_buffer_m: float = REACH_BUFFER_M,
    reach: bool = True,
    lang: str = "nl",
) -> dict[str, Any]:
    """Score one location (in the scan's CRS) and explain the score.

    Returns a JSON-ready dict: per sub-indicator the nearest amenity (name, kind, walking
    metres, points, weighted points), safety, total, class and percentile, near misses,
    zone, fair share, and (``reach``) the walking reach within each band as GeoJSON (WGS84);
    the reach polygons are most of a check's time on dense footpath networks.
    """
    cfg = ctx.config
    here = _snap_location(ctx, point)
    search = cfg.max_distance_m + near_miss_m
    node_d = node_distances(ctx.network, [here], max_distance_m=search)[0]
    # Walking distance from every amenity to the location: the scan's own combination step,
    # with the roles of dwelling and amenity swapped (walking is symmetric).
    amen_d = edge_distances(ctx.network, ctx.amenity_snap, here, node_d, search)
    rows = _indicator_rows(ctx, amen_d, lang)
    safety_row = _within(ctx.safety_areas, point)
    safety = np.nan if safety_row is None else float(safety_row["safety_pts"])
    pts = pd.DataFrame({f"pts_{r['indicator']}": [r["points"]] for r in rows})
    score = float(total_score(pts, pd.Series([safety]), cfg).iloc[0])
    cls = int(classify(pd.Series([score]), ctx.class_edges).iloc[0])
    total_w = ctx.cum_weight[-1]
    lower = ctx.cum_weight[np.searchsorted(ctx.scores, score, side="left")]
    reach_json = (
        {
            str(int(band.max_m)): ctx.geojson(
                _reach(ctx.network, here, node_d, band.max_m, reach_buffer_m)
            )
            for band in cfg.bands
        }
        if reach
        else None
    )
    return {
        "location": _location(ctx, point, here),
        "indicators": rows,
        "safety": {
            "points": None if np.isnan(safety) else safety,
            "weight": cfg.weights[SAFETY_ID],
            "area_id": None if safety_row is None else str(safety_row["area_id"]),
            "missing_handling": None if not np.isnan(safety) else cfg.safety.missing,
        },
        "score": round(score, 3),
        "max_score": cfg.max_score,
        "score_class": cls,
        "class_label": (CLASS_LABELS_NL if lang == "nl" else CLASS_LABELS_EN)[cls],
        "percentile": round(100 * float(lower / total_w), 1) if total_w else None,
        "near_misses": _near_misses(ctx, rows, score, near_miss_m),
        "band_edges": _band_edges(ctx, rows, safety),
        "zone": _zone(ctx, point, node_d, search),
        "fairshare": _fairshare(ctx, point),
        "reach": reach_json,
        "data": _data_summary(ctx, rows, point, lang, safety=safety),
        "scan": {"file": ctx.path.name, "config_hash": ctx.metadata.get("config_hash", "")},
    }


def _snap_location(ctx: CheckContext, point: shapely.Point) -> Snapped:
    """The location snapped as the scan snaps dwellings; an error outside the study area."""
    cfg = ctx.config
    if not ctx.region.contains(point):
        where = f"{_num(point.x)}, {_num(point.y)} ({ctx.crs.to_string()})"
        raise InputError(
            f"location: {where} lies outside the study area of {ctx.path.name}",
            nl=f"locatie: {where} ligt buiten het studiegebied van {ctx.path.name}",
        )
    here = snap_points(np.array([point]), ctx.network, max_snap_m=cfg.max_snap_m)
    if not here.ok[0] and ctx.extent is not None and not ctx.extent.covers(point):
        d = f"{ctx.extent.distance(point):.0f}"
        raise InputError(
            f"location: beyond the scan's data: its street network ends {d} m from here; the "
            "scan has nothing to say about this spot",
            nl=f"locatie: buiten de gegevens van de scan: het wegennet houdt {d} m hiervandaan "
            "op; de scan zegt niets over deze plek",
        )
    if not here.ok[0]:
        raise InputError(
            f"location: farther than {cfg.max_snap_m:g} m from any walkable street; the scan "
            "does not score such spots",
            nl=f"locatie: verder dan {cfg.max_snap_m:g} m van elke beloopbare straat; de scan "
            "scoort zulke plekken niet",
        )
    return here


def _indicator_rows(ctx: CheckContext, amen_d: np.ndarray, lang: str) -> list[dict[str, Any]]:
    """Per sub-indicator: the nearest amenity, its walking distance and the points it brings."""
    cfg = ctx.config
    indicator = ctx.amenities["indicator"].to_numpy()
    rows = []
    for ind in cfg.indicator_ids:
        cand = np.flatnonzero((indicator == ind) & np.isfinite(amen_d))
        nearest = cand[np.argmin(amen_d[cand])] if len(cand) else None
        dist = float(amen_d[nearest]) if nearest is not None else float("inf")
        scored = dist if dist <= cfg.max_distance_m else float("inf")
        p = float(band_points(np.array([scored]), cfg)[0])
        a = ctx.amenities.iloc[nearest] if nearest is not None else None
        ind_cfg = cfg.indicator(ind)
        n_in = int((indicator == ind).sum())
        rows.append(
            {
                "indicator": ind,
                "label": ind_cfg.label_nl if lang == "nl" else ind_cfg.label_en,
                "nearest_name": (None if a is None or pd.isna(a["name"]) else str(a["name"])),
                "nearest_kind": None if a is None else str(a.get("kind", "")),
                "distance_m": None if not np.isfinite(dist) else round(dist, 1),
                "points": p,
                "weight": cfg.weights[ind],
                "weighted": p * cfg.weights[ind],
                "n_amenities": n_in,
                "data": ctx.verdicts.get(ind, "ok"),
                "data_note": _data_note(ctx, ind, n_in, lang),
                "reach_note": None
                if p > 0 or ctx.verdicts.get(ind) == "ontbreekt"
                else _DATA_NOTES[lang]["none"].format(m=cfg.max_distance_m),
            }
        )
    return rows


def _band_edges(ctx: CheckContext, rows, safety: float) -> dict[str, Any]:
    """Walks within the band tolerance of an edge, and the score and class range they allow.

    Only valid when ``near_miss_m`` (the check's search beyond the bands) is at least the
    tolerance, as it is by default (100 m against 25 m).
    """
    cfg = ctx.config
    tol = cfg.band_tolerance_m
    dist = pd.DataFrame(
        {
            f"dist_{r['indicator']}": [np.inf if r["distance_m"] is None else r["distance_m"]]
            for r in rows
        }
    )
    sens = band_sensitivity(dist, pd.Series([safety]), cfg, class_edges=ctx.class_edges).iloc[0]
    near = []
    for r in rows:
        d = r["distance_m"]
        for band in cfg.bands if d is not None else ():
            if band.max_m - tol < d <= band.max_m + tol:
                near.append(
                    {
                        "indicator": r["indicator"],
                        "label": r["label"],
                        "nearest_name": r["nearest_name"],
                        "distance_m": d,
                        "edge_m": band.max_m,
                        "gap_m": round(abs(d - band.max_m), 1),
                    }
                )
    return {
        "tolerance_m": tol,
        "near": near,
        "score_min": float(sens["score_min"]),
        "score_max": float(sens["score_max"]),
        "class_min": int(sens["class_min"]),
        "class_max": int(sens["class_max"]),
    }


def _near_misses(ctx: CheckContext, rows, score: float, near_miss_m: float) -> list[dict]:
    """Amenities up to ``near_miss_m`` beyond a band edge: the points and class they would bring."""
    cfg, misses = ctx.config, []
    for row in rows:
        d = row["distance_m"]
        if d is None:
            continue
        for band in cfg.bands:
            if band.max_m < d <= band.max_m + near_miss_m and band.points > row["points"]:
                gain = (band.points - row["points"]) * cfg.weights[row["indicator"]]
                new_cls = int(classify(pd.Series([score + gain]), ctx.class_edges).iloc[0])
                misses.append(
                    {
                        "indicator": row["indicator"],
                        "label": row["label"],
                        "nearest_name": row["nearest_name"],
                        "distance_m": d,
                        "band_m": band.max_m,
                        "score_gain": gain,
                        "class_if_reached": new_cls,
                    }
                )
                break
    return misses


def _zone(ctx: CheckContext, point, node_d: np.ndarray, search: float) -> dict | None:
    """The woonzorgzone the location lies in, or the walk to the nearest one."""
    if ctx.zones is None:
        return None
    inside = _within(ctx.zones, point)
    if inside is not None:
        return {"inside": True, "zone_id": str(inside["zone_id"]), "name": str(inside["name"])}
    zone_d = node_d[ctx.node_in_zone]
    nearest = float(zone_d.min()) if zone_d.size else float("inf")
    return {
        "inside": False,
        # within the search radius; beyond it the walk is longer than that
        "walking_m_to_nearest": round(nearest, 1) if np.isfinite(nearest) else None,
        "searched_m": search,
    }


def _fairshare(ctx: CheckContext, point) -> dict | None:
    """The fair-share verdict of the area the location lies in (when the scan has one)."""
    row = _within(ctx.fairshare, point)
    if row is None:
        return None
    return {
        "area_id": str(row["area_id"]),
        "vulnerable": None if pd.isna(row["vulnerable"]) else bool(row["vulnerable"]),
        "reason": str(row["reason"]),
    }


def _location(ctx: CheckContext, point, here: Snapped) -> dict[str, Any]:
    """Where the location is: WGS84 and scan CRS, snap step, street and area."""
    lon, lat = ctx.to_wgs84.transform(point.x, point.y)
    area = _within(ctx.areas, point)
    return {
        "lat": round(lat, 6),
        "lon": round(lon, 6),
        "x": round(point.x, 1),
        "y": round(point.y, 1),
        "crs": ctx.crs.to_string(),
        "snap_m": round(float(here.snap_m[0]), 1),
        "street": ctx.network.edge_name[int(here.edge[0])],
        "area_id": None if area is None else str(area["area_id"]),
    }
