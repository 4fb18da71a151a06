"""Demand: how many residents of 65 and older live where the scan is weak (or strong).

Counts the CBS inhabitants aged 65+ per PC6 into the areas of a scan GeoPackage: per area
class, per area and per zone (when the scan has a ``zones`` layer). Masked CBS values are
unknown, counted and reported, never taken as zero.
"""

from __future__ import annotations

import logging
import os
import re
from dataclasses import dataclass, field
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd

from .._text import short_list
from ..errors import InputError
from ..outputs.scanfile import read_metadata, read_scan_layer, scan_layers
from ..provenance import describe_file, utc_now
from ..sources.cbs import is_gpkg, read_cbs_pc6
from ..sources.points import read_points
from .audit import INSUFFICIENT

log = logging.getLogger(__name__)

__all__ = ["DemandResult", "demand", "older_residents"]

_PC6 = re.compile(r"^\d{4}[A-Z]{2}$")


@dataclass
class DemandResult:
    """Tables of residents aged 65+: ``by_class``, ``by_area``, ``by_zone`` (or None)."""

    by_class: pd.DataFrame
    by_area: pd.DataFrame
    by_zone: pd.DataFrame | None
    metadata: dict[str, str] = field(default_factory=dict)

    @property
    def in_low_classes(self) -> int:
        """Residents of 65+ in areas of class 1 or 2."""
        rows = self.by_class[self.by_class["score_class"].isin(["1", "2"])]
        return int(rows["residents_65plus"].sum())

    @property
    def layer_names(self) -> list[str]:
        """The tables :meth:`to_gpkg` writes."""
        return list(self._layers())

    def _layers(self) -> dict:
        layers = {"demand_by_class": self.by_class, "demand_by_area": self.by_area}
        if self.by_zone is not None:
            layers["demand_by_zone"] = self.by_zone
        return layers

    def to_gpkg(self, path: str | os.PathLike) -> Path:
        """Add the tables to the scan GeoPackage (atomically)."""
        from ..outputs.export import add_layers

        return add_layers(
            path, self._layers(), metadata={f"demand.{k}": v for k, v in self.metadata.items()}
        )


def _pc6_points(scan_path, dwellings, points, population, crs) -> tuple[gpd.GeoDataFrame, str]:
    """One point per PC6: ``points``, else the scan's PC6 dwellings, else the PC6 polygons."""
    if points is not None:
        pts = read_points(points, what="PC6 points", dtype=str)
        names = ("zip", "pc6", "postcode", "postcode6")
        id_col = next((c for c in pts.columns if c.lower() in names), None)
        if id_col is None:
            raise InputError(
                f"PC6 points: {points} has no postcode column (Zip, pc6, postcode or "
                f"postcode6); its columns are {', '.join(map(str, pts.columns))}"
            )
        pc6 = pts[id_col].astype(str).str.replace(" ", "").str.upper()
        out = gpd.GeoDataFrame({"pc6": pc6}, geometry=pts.geometry, crs=pts.crs).to_crs(crs)
        inside = " (a point inside each polygon)" if is_gpkg(points) else ""
        return out.drop_duplicates("pc6"), Path(points).name + inside
    for col in ("postcode", "dwelling_id"):
        if col in dwellings and dwellings[col].astype(str).str.match(_PC6).mean() > 0.9:
            d = dwellings[dwellings[col].astype(str).str.match(_PC6)]
            out = gpd.GeoDataFrame({"pc6": d[col].astype(str)}, geometry=d.geometry, crs=crs)
            return out.drop_duplicates("pc6"), f"{Path(scan_path).name} dwellings ({col})"
    if is_gpkg(population):
        return _pc6_points(scan_path, dwellings, population, population, crs)
    raise InputError(
        f"demand: the dwellings of {Path(scan_path).name} are not PC6 points; give the PC6 "
        "points with --points (the CBS PC6 GeoPackage, or pc6-centroids.csv: Zip, Lat, Lon)"
    )


def older_residents(
    scan: str | os.PathLike,
    population: str | os.PathLike,
    *,
    points: str | os.PathLike | None = None,
) -> tuple[gpd.GeoDataFrame, dict[str, str]]:
    """PC6 points in the scan's CRS with ``residents_65plus`` (NaN where CBS masks it).

    Also the facts: where the points came from, the table, and the postcodes that did not
    match. CBS's PC6 table has no 75+ column (its age classes end at 65 and older).
    """
    dwellings = read_scan_layer(scan, "dwellings")
    cbs = read_cbs_pc6(population)
    pc6, source = _pc6_points(scan, dwellings, points, population, dwellings.crs)
    pc6 = pc6.reset_index(drop=True)
    pc6["residents_65plus"] = pc6["pc6"].map(cbs["age_65plus"]).astype(float)
    no_row = int((~pc6["pc6"].isin(cbs.index)).sum())
    facts = {
        "points": source,
        "population": describe_file(Path(population))["name"],
        "population_sha256": describe_file(Path(population))["sha256"],
        "pc6_masked_or_missing_65plus": str(int(pc6["residents_65plus"].isna().sum())),
        "pc6_points_not_in_cbs": str(no_row),
        "cbs_pc6_without_point": str(len(set(cbs.index) - set(pc6["pc6"]))),
        "age_75plus": "not in the CBS PC6 table (its age classes end at 65 and older)",
    }
    return pc6, facts


def demand(
    scan: str | os.PathLike,
    population: str | os.PathLike,
    *,
    points: str | os.PathLike | None = None,
) -> DemandResult:
    """Count residents aged 65+ per area class, per area and per zone of a scan GeoPackage.

    Parameters
    ----------
    scan
        A scan GeoPackage (``thuisdichtbij scan``).
    population
        The CBS PC6 table, as CBS publishes it.
    points
        PC6 points: CSV with Zip/Lat/Lon, a point layer, or the CBS PC6 GeoPackage (a
        point inside each polygon). Default: the scan's dwellings when they are PC6 points,
        else the polygons of ``population`` when it is the CBS PC6 GeoPackage.
    """
    names = scan_layers(scan)
    areas = read_scan_layer(scan, "areas")
    dwellings = read_scan_layer(scan, "dwellings")
    cbs = read_cbs_pc6(population)
    pc6, points_source = _pc6_points(scan, dwellings, points, population, areas.crs)
    joined, no_row, no_point = _place(pc6, areas, cbs)
    by_class = _by_class(joined)
    by_area = _by_area(joined, areas)
    by_zone = _by_zone(read_scan_layer(scan, "zones"), pc6, joined) if "zones" in names else None
    total = by_class["residents_65plus"].sum()
    lost = cbs.loc[no_point, "age_65plus"]
    meta = {
        "created_utc": utc_now(),
        "points": points_source,
        "population": describe_file(Path(population))["name"],
        "population_sha256": describe_file(Path(population))["sha256"],
        "residents_65plus_placed": str(int(total)),
        "residents_65plus_in_class_1_2": str(
            int(by_class.loc[by_class["score_class"].isin(["1", "2"]), "residents_65plus"].sum())
        ),
        "pc6_masked_65plus": str(int((joined["in_cbs"] & ~joined["known"]).sum())),
        # what the tables count as pc6_unknown: masked, or with no row in the CBS table
        "pc6_unknown": str(int((~joined["known"]).sum())),
        "pc6_points_not_in_cbs": f"{len(no_row)}: {short_list(no_row)}" if no_row else "0",
        "cbs_pc6_without_point": (
            f"{len(no_point)} ({int(lost.sum(skipna=True))} residents 65+): {short_list(no_point)}"
            if no_point
            else "0"
        ),
        "cbs_pc6_without_point_65plus": str(int(lost.sum(skipna=True))) if no_point else "0",
        "zones": "counted per zone" if by_zone is not None else "no zones layer in this scan",
        "scan_config_hash": read_metadata(scan).get("config_hash", ""),
    }
    return DemandResult(by_class, by_area, by_zone, meta)


def _place(pc6: gpd.GeoDataFrame, areas: gpd.GeoDataFrame, cbs: pd.DataFrame):
    """Each PC6 point in its area with its residents 65+; the postcodes that did not match."""
    joined = gpd.sjoin(
        pc6,
        areas[["area_id", "score_class", "suppressed", "geometry"]].assign(
            data_status=areas["data_status"] if "data_status" in areas else "ok"
        ),
        how="left",
        predicate="intersects",
    )
    joined = joined[~joined.index.duplicated(keep="first")]
    joined["residents_65plus"] = joined["pc6"].map(cbs["age_65plus"])
    joined["in_cbs"] = joined["pc6"].isin(cbs.index)
    no_row = sorted(joined.loc[~joined["in_cbs"], "pc6"])
    no_point = sorted(set(cbs.index) - set(joined["pc6"]))
    if no_row:
        log.warning(
            "demand: %d PC6 point(s) have no row in the CBS table: %s",
            len(no_row),
            short_list(no_row),
        )
    if no_point:
        log.warning(
            "demand: %d CBS postcode(s) have no point, their residents are not placed: %s",
            len(no_point),
            short_list(no_point),
        )
    joined["known"] = joined["in_cbs"] & joined["residents_65plus"].notna()

    def label(row) -> str:
        if pd.isna(row["area_id"]):
            return "outside"
        if bool(row["suppressed"]):
            return "suppressed"
        if row["data_status"] == INSUFFICIENT or pd.isna(row["score_class"]):
            return INSUFFICIENT  # no class for lack of data: not the same as suppressed
        return str(int(row["score_class"]))

    joined["class_label"] = joined.apply(label, axis=1)
    return joined, no_row, no_point


def _counts(groups) -> pd.DataFrame:
    return groups.agg(
        residents_65plus=("residents_65plus", "sum"),
        pc6=("pc6", "size"),
        pc6_unknown=("known", lambda k: int((~k).sum())),
    )


def _by_class(joined: gpd.GeoDataFrame) -> pd.DataFrame:
    """Residents 65+ per area class (and suppressed areas, and outside every area)."""
    order = ["1", "2", "3", "4", "5", INSUFFICIENT, "suppressed", "outside"]
    by_class = (
        _counts(joined.groupby("class_label"))
        .reindex(order)
        .fillna(0)
        .reset_index()
        .rename(columns={"class_label": "score_class"})
    )
    by_class["residents_65plus"] = by_class["residents_65plus"].round().astype("int64")
    for c in ("pc6", "pc6_unknown"):
        by_class[c] = by_class[c].astype("int64")
    total = by_class["residents_65plus"].sum()
    by_class["share"] = (by_class["residents_65plus"] / total).round(4) if total else np.nan
    return by_class


def _by_area(joined: gpd.GeoDataFrame, areas: gpd.GeoDataFrame) -> pd.DataFrame:
    """Residents 65+ per area of the scan, next to the area's score and class."""
    inside = joined[joined["area_id"].notna()]
    by_area = _counts(inside.groupby("area_id")).reset_index()
    by_area = areas[["area_id", "score_class", "score_mean", "n_dwellings"]].merge(
        by_area, on="area_id", how="left"
    )
    cols = ["residents_65plus", "pc6", "pc6_unknown"]
    by_area[cols] = by_area[cols].fillna(0).round().astype("int64")
    return by_area


def _by_zone(zones: gpd.GeoDataFrame, pc6: gpd.GeoDataFrame, joined) -> pd.DataFrame:
    """Residents 65+ per woonzorgzone."""
    zid = "zone_id" if "zone_id" in zones else zones.columns[0]
    zj = gpd.sjoin(pc6.assign(r=joined["residents_65plus"]), zones[[zid, "geometry"]], how="inner")
    by_zone = zj.groupby(zid).agg(residents_65plus=("r", "sum"), pc6=("pc6", "size")).reset_index()
    by_zone["residents_65plus"] = by_zone["residents_65plus"].round().astype("int64")
    return by_zone
