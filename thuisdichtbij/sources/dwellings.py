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
from .cbs import read_cbs_pc6
from .points import read_points

log = logging.getLogger(__name__)

__all__ = ["read_dwellings"]


def read_dwellings(spec: Mapping[str, Any]) -> tuple[gpd.GeoDataFrame, dict]:
    """Read a dwelling point layer; returns it and facts for the run metadata.

    ``spec`` keys: ``file`` (points, or CSV with coordinates ``x``/``y`` in ``crs``),
    ``layer``, ``id`` (column with an id), ``weight`` (column with the number of dwellings a
    point stands for), or ``cbs_pc6`` (the CBS PC6 table: the weight is its dwelling count
    for the postcode in column ``postcode``, default the ``id`` column).

    The result has ``dwelling_id``, ``weight`` and ``postcode`` (when known). Points whose
    weight is 0 stand for no dwelling and are dropped; an unknown weight (a postcode the
    CBS table lacks, or a masked value) stays ``NaN`` and is reported.
    """
    path = Path(spec["file"])
    gdf = read_points(
        path,
        what="dwellings",
        layer=spec.get("layer"),
        x=spec.get("x"),
        y=spec.get("y"),
        crs=spec.get("crs", "EPSG:4326"),
        dtype=str,
    )
    facts: dict[str, Any] = {"dwellings_source": path.name}
    id_col = spec.get("id")
    if id_col:
        require_columns(gdf, [id_col], what="dwellings", path=path)
        ids = gdf[id_col].astype("string").str.strip()
    else:
        ids = pd.Series(np.arange(len(gdf)).astype(str), index=gdf.index, dtype="string")
    out = gpd.GeoDataFrame({"dwelling_id": ids}, geometry=gdf.geometry, crs=gdf.crs)
    pc_col = spec.get("postcode") or id_col
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
        if "postcode" not in out:
            raise InputError(
                "dwellings: weighting by the CBS PC6 table needs a postcode column; name it "
                "with 'postcode' (or 'id') in the study file"
            )
        out["weight"] = _cbs_weights(out["postcode"], spec["cbs_pc6"], facts)
    else:
        out["weight"] = 1.0
    zero = out["weight"] == 0
    if zero.any():
        log.info("dwellings: dropped %d point(s) that stand for 0 dwellings", int(zero.sum()))
        facts["points_without_dwellings_dropped"] = int(zero.sum())
        out = out[~zero]
    unknown = int(out["weight"].isna().sum())
    facts["points_with_unknown_weight"] = unknown
    if out.empty:
        raise InputError(f"dwellings: {path} holds no dwellings")
    return out.reset_index(drop=True), facts


def _cbs_weights(postcodes: pd.Series, table, facts: dict[str, Any]) -> pd.Series:
    """Dwellings per point from the CBS PC6 table; absent or masked postcodes stay unknown."""
    cbs = read_cbs_pc6(table)
    weight = postcodes.map(cbs["dwellings"]).astype(float)
    absent = sorted(set(postcodes.dropna()) - set(cbs.index))
    masked = postcodes.isin(cbs.index[cbs["dwellings"].isna()])
    facts["dwellings_weight_source"] = f"CBS PC6 dwellings ({Path(table).name})"
    facts["postcodes_not_in_cbs"] = len(absent)
    facts["postcodes_masked_in_cbs"] = int(masked.sum())
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
