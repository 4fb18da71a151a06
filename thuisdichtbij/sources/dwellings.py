"""The dwellings to score: points, each standing for one or more dwellings (``weight``)."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd

from .._text import short_list
from ..errors import InputError
from ._io import require_columns
from .cbs import is_gpkg, read_cbs_pc6, read_cbs_pc6_polygons
from .points import read_points

log = logging.getLogger(__name__)

__all__ = ["read_dwellings"]


def read_dwellings(spec: Mapping[str, Any]) -> tuple[gpd.GeoDataFrame, dict]:
    """Read a dwelling point layer; returns it and facts for the run metadata.

    ``spec`` keys: ``file`` (points, a CSV with coordinates ``x``/``y`` in ``crs``, or an
    OpenStreetMap extract ``.osm.pbf``, whose address points are taken), ``layer``, ``id``
    (column with an id), ``weight`` (column with the number of dwellings a point stands for),
    or ``cbs_pc6`` (the CBS PC6 table, GeoPackage or CSV re-export).

    Which weight is used when:

    - ``weight``: the column, as given.
    - ``file`` and ``cbs_pc6``: the CBS dwelling count of each point's PC6 (column
      ``postcode``, default the ``id`` column), shared equally among the points of that PC6,
      so each PC6 counts CBS's dwellings however many points it has (one PC6 centroid: the
      whole count; ten OSM addresses: a tenth each). With the GeoPackage, a point without a
      postcode takes that of the PC6 polygon it lies in.
    - ``cbs_pc6`` alone (the GeoPackage): one point inside each PC6 polygon, weighted by its
      ``aantal_woningen``; for studies without dwelling points.
    - neither: 1 per point (BAG verblijfsobjecten are one dwelling each).

    The result has ``dwelling_id``, ``weight`` and ``postcode`` (when known). Points whose
    weight is 0 stand for no dwelling and are dropped; an unknown weight (a postcode the
    CBS table lacks, or a masked value) stays ``NaN`` and is reported.
    """
    if not spec.get("file"):
        out, facts = _pc6_polygon_points(spec)
    else:
        out, facts = _points(spec)
    zero = out["weight"] == 0
    if zero.any():
        log.info("dwellings: dropped %d point(s) that stand for 0 dwellings", int(zero.sum()))
        facts["points_without_dwellings_dropped"] = int(zero.sum())
        out = out[~zero]
    unknown = int(out["weight"].isna().sum())
    facts["points_with_unknown_weight"] = unknown
    if out.empty:
        raise InputError(f"dwellings: {spec.get('file') or spec['cbs_pc6']} holds no dwellings")
    return out.reset_index(drop=True), facts


def _read(spec: Mapping[str, Any]) -> tuple[gpd.GeoDataFrame, dict[str, Any]]:
    """The points of ``file`` with their columns; an OSM extract gives its address points."""
    path = Path(spec["file"])
    if path.name.lower().endswith(".pbf"):
        from .osm import read_osm_dwellings

        gdf, how = read_osm_dwellings(path)
        return gdf, {"dwellings_source": f"{path.name}: {how}"}
    gdf = read_points(
        path,
        what="dwellings",
        layer=spec.get("layer"),
        x=spec.get("x"),
        y=spec.get("y"),
        crs=spec.get("crs", "EPSG:4326"),
        dtype=str,
    )
    return gdf, {"dwellings_source": path.name}


def _points(spec: Mapping[str, Any]) -> tuple[gpd.GeoDataFrame, dict[str, Any]]:
    """Dwelling points from ``file``, weighted by a column, the CBS PC6 table, or 1."""
    path = Path(spec["file"])
    gdf, facts = _read(spec)
    osm = path.name.lower().endswith(".pbf")  # its address points carry these two columns
    id_col = spec.get("id") or ("dwelling_id" if osm else None)
    if id_col:
        require_columns(gdf, [id_col], what="dwellings", path=path)
        ids = gdf[id_col].astype("string").str.strip()
    else:
        ids = pd.Series(np.arange(len(gdf)).astype(str), index=gdf.index, dtype="string")
    out = gpd.GeoDataFrame({"dwelling_id": ids}, geometry=gdf.geometry, crs=gdf.crs)
    pc_col = spec.get("postcode") or ("postcode" if osm else id_col)
    if pc_col:
        require_columns(gdf, [pc_col], what="dwellings", path=path)
        out["postcode"] = gdf[pc_col].astype("string").str.replace(" ", "").str.upper()

    if spec.get("weight") and spec.get("cbs_pc6"):
        raise InputError(
            f"dwellings: {path} has both 'weight' and 'cbs_pc6'; give one source of weights"
        )
    if spec.get("weight"):
        col = spec["weight"]
        require_columns(gdf, [col], what="dwellings", path=path)
        out["weight"] = pd.to_numeric(gdf[col], errors="coerce").astype(float)
    elif spec.get("cbs_pc6"):
        out["weight"] = _cbs_weights(out, spec["cbs_pc6"], facts)
    else:
        out["weight"] = 1.0
    return out, facts


def _pc6_polygon_points(spec: Mapping[str, Any]) -> tuple[gpd.GeoDataFrame, dict[str, Any]]:
    """One point inside each polygon of the CBS PC6 GeoPackage, weighted by its dwellings."""
    table = Path(spec["cbs_pc6"])
    if not is_gpkg(table):
        raise InputError(
            f"dwellings: {table.name} is not the CBS PC6 GeoPackage, so it has no polygons to "
            "place dwellings in; give the points with 'file' (and keep 'cbs_pc6' for weights)"
        )
    pc6 = read_cbs_pc6_polygons(table, layer=spec.get("layer"))
    out = gpd.GeoDataFrame(
        {
            "dwelling_id": pd.array(pc6.index, dtype="string"),
            "postcode": pd.array(pc6.index, dtype="string"),
            "weight": pc6["dwellings"].to_numpy(),
        },
        geometry=pc6.geometry.representative_point().to_numpy(),
        crs=pc6.crs,
    )
    facts = {
        "dwellings_source": f"{table.name}: one point inside each PC6 polygon",
        "dwellings_weight_source": f"CBS PC6 dwellings, aantal_woningen ({table.name})",
        "postcodes_masked_in_cbs": pc6.attrs["masked"]["dwellings"],
    }
    return out, facts


def _postcodes(points: gpd.GeoDataFrame, table: Path, facts: dict[str, Any]) -> pd.Series:
    """The points' postcodes; with the PC6 GeoPackage, a missing one from the polygon."""
    if "postcode" in points:
        pcs = points["postcode"].replace("", pd.NA)
    else:
        pcs = pd.Series(pd.NA, index=points.index, dtype="string")
    if is_gpkg(table) and pcs.isna().any():
        polygons = read_cbs_pc6_polygons(table)
        lacking = points.loc[pcs.isna(), [points.geometry.name]].to_crs(polygons.crs)
        hits = gpd.sjoin(
            lacking, polygons[[polygons.geometry.name]].reset_index(), predicate="within"
        )
        hits = hits[~hits.index.duplicated(keep="first")]
        pcs.loc[hits.index] = hits["pc6"].astype("string")
        facts["postcodes_from_pc6_polygons"] = len(hits)
    if pcs.isna().all():
        raise InputError(
            "dwellings: weighting by the CBS PC6 table needs a postcode per point; name the "
            "column with 'postcode' (or 'id') in the study file, or give the CBS PC6 "
            "GeoPackage, whose polygons give one"
        )
    return pcs


def _cbs_weights(points: gpd.GeoDataFrame, table, facts: dict[str, Any]) -> pd.Series:
    """Dwellings per point: the CBS count of its PC6 shared among that PC6's points.

    Absent or masked postcodes stay unknown (``NaN``), never 0.
    """
    table = Path(table)
    postcodes = _postcodes(points, table, facts)
    points["postcode"] = postcodes
    cbs = read_cbs_pc6(table)
    per_pc6 = postcodes.value_counts()
    weight = (postcodes.map(cbs["dwellings"]) / postcodes.map(per_pc6)).astype(float)
    absent = sorted(set(postcodes.dropna()) - set(cbs.index))
    masked = postcodes.isin(cbs.index[cbs["dwellings"].isna()])
    facts["dwellings_weight_source"] = (
        f"CBS PC6 dwellings ({table.name}), shared among the points of each postcode"
    )
    facts["postcodes_not_in_cbs"] = len(absent)
    facts["postcodes_masked_in_cbs"] = int(masked.sum())
    facts["points_without_postcode"] = int(postcodes.isna().sum())
    unused = len(set(cbs.index) - set(postcodes.dropna()))
    facts["cbs_postcodes_without_point"] = unused
    if absent:
        log.warning(
            "dwellings: %d postcode(s) have no row in the CBS table, weight unknown: %s",
            len(absent),
            short_list(absent),
        )
    if unused:
        log.info("dwellings: %d CBS postcode(s) have no point to place them", unused)
    return weight
