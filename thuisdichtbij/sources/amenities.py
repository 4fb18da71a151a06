"""The amenities layer: every point that counts for a sub-indicator, from every source.

A point that counts for two sub-indicators (a pharmacy that is also a drugstore) is listed
once per sub-indicator.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import geopandas as gpd
import pandas as pd
from pyproj import CRS

from ..config import Config
from ..crs import to_metric
from ..errors import ConfigError, InputError
from ._io import require_columns
from .gtfs import read_gtfs_stops
from .osm import OsmExtract, read_osm_features
from .points import read_points
from .tags import expand_tags, match, needed_keys, tag_columns

log = logging.getLogger(__name__)

__all__ = ["AMENITY_COLUMNS", "read_amenities", "amenity_format"]

AMENITY_COLUMNS = ["indicator", "name", "kind", "source", "source_id"]


def amenity_format(spec: Mapping[str, Any]) -> str:
    """The format of an amenity source: given, or told by the file name and keys."""
    if spec.get("format"):
        return str(spec["format"])
    path = Path(spec["file"])
    if path.name.endswith(".pbf"):
        return "osm"
    if path.name == "stops.txt":
        return "gtfs"
    if spec.get("category"):
        return "table"
    if spec.get("indicator"):
        return "points"
    return "osm_tags"


def _frame(gdf: gpd.GeoDataFrame, indicator: str, name, kind, source: str, source_id):
    return gpd.GeoDataFrame(
        {
            "indicator": indicator,
            "name": pd.Series(name, index=gdf.index).astype("string"),
            "kind": pd.Series(kind, index=gdf.index).astype("string"),
            "source": source,
            "source_id": pd.Series(source_id, index=gdf.index).astype("string"),
        },
        geometry=gdf.geometry,
        crs=gdf.crs,
    )


def _column(gdf: pd.DataFrame, name: str | None):
    if name and name in gdf.columns:
        return gdf[name]
    return None


def _tag_columns(config: Config, id_col: str | None) -> list[str]:
    """The columns :func:`_by_tags` looks at: the rules' keys, the ids, names and tags."""
    cols = [*needed_keys(config.indicators), *([id_col] if id_col else []), *_TAG_EXTRAS]
    return list(dict.fromkeys(cols))  # each once, in order


_TAG_EXTRAS = ("osm_id", "@id", "name", "tags")


def _by_tags(gdf: gpd.GeoDataFrame, config: Config, source: str, id_col: str | None):
    # only the columns looked at: an export with a column per tag copies hundreds otherwise
    keep = [c for c in gdf.columns if c in set(_tag_columns(config, id_col))]
    gdf = gdf[[*keep, gdf.geometry.name]].reset_index(drop=True)
    gdf = expand_tags(gdf, needed_keys(config.indicators))
    columns = tag_columns(gdf, needed_keys(config.indicators))
    ids = _column(gdf, id_col)
    if ids is None:
        ids = _column(gdf, "osm_id")
    if ids is None:
        ids = _column(gdf, "@id")
    if ids is None:
        ids = gdf.index.astype(str)
    names = _column(gdf, "name")
    parts = []
    for ind in config.indicators:
        mask, kind = match(gdf, ind, columns=columns)
        if mask.any():
            sub = gdf[mask]
            parts.append(
                _frame(
                    sub,
                    ind.id,
                    names[mask] if names is not None else None,
                    kind[mask],
                    source,
                    pd.Series(ids, index=gdf.index)[mask],
                )
            )
    return parts


def _by_category(gdf: gpd.GeoDataFrame, spec, config: Config, source: str, path: Path):
    col = spec["category"]
    require_columns(gdf, [col], what="amenities", path=path)
    cat = gdf[col].astype("string").str.strip().str.casefold()
    names, ids = _column(gdf, spec.get("name")), _column(gdf, spec.get("id"))
    parts = []
    for ind in config.indicators:
        wanted = {c.casefold() for c in ind.table_categories}
        mask = cat.isin(wanted).fillna(False).to_numpy()
        if mask.any():
            sub = gdf[mask]
            parts.append(
                _frame(
                    sub,
                    ind.id,
                    names[mask] if names is not None else None,
                    col + "=" + gdf.loc[mask, col].astype(str),
                    source,
                    ids[mask] if ids is not None else sub.index.astype(str),
                )
            )
    return parts


def _read_source(
    spec: Mapping[str, Any], config: Config, osm: OsmExtract | None
) -> list[gpd.GeoDataFrame]:
    path = Path(spec["file"])
    fmt = amenity_format(spec)
    source = path.name
    if fmt == "osm":
        if osm is not None and osm.features is not None and _same_file(osm.path, path):
            features = osm.features  # already read, in the scan's one pass over the extract
        else:
            features = read_osm_features(path, needed_keys(config.indicators))
        return _by_tags(features, config, source, None)
    if fmt == "gtfs":
        stops = read_gtfs_stops(path)
        targets = (
            [spec["indicator"]]
            if spec.get("indicator")
            else [i.id for i in config.indicators if i.gtfs]
        )
        return [
            _frame(stops, t, stops["name"], "gtfs stop", source, stops["stop_id"]) for t in targets
        ]
    gdf = read_points(
        path,
        what="amenities",
        layer=spec.get("layer"),
        x=spec.get("x"),
        y=spec.get("y"),
        crs=spec.get("crs", "EPSG:4326"),
        dtype=str,
        columns=_tag_columns(config, spec.get("id")) if fmt == "osm_tags" else None,
    )
    if fmt == "table":
        if not spec.get("category"):
            raise ConfigError(
                f"amenities: {path} has format 'table' but no 'category' column is named"
            )
        return _by_category(gdf, spec, config, source, path)
    if fmt == "points":
        ind = spec.get("indicator")
        if ind not in config.indicator_ids:
            raise ConfigError(
                f"amenities: {path} has format 'points' and needs 'indicator', one of "
                f"{', '.join(config.indicator_ids)}; got {ind!r}"
            )
        names, ids = _column(gdf, spec.get("name") or "name"), _column(gdf, spec.get("id"))
        return [
            _frame(
                gdf, ind, names, "points", source, ids if ids is not None else gdf.index.astype(str)
            )
        ]
    return _by_tags(gdf, config, source, spec.get("id"))


def _check_indicator(spec: Mapping[str, Any], config: Config) -> None:
    """An ``indicator:`` on a source of any format must name a known sub-indicator."""
    ind = spec.get("indicator")
    if ind is not None and ind not in config.indicator_ids:
        raise ConfigError(
            f"amenities: {Path(spec['file']).name} names the unknown indicator {ind!r}; use one "
            f"of {', '.join(config.indicator_ids)}"
        )


def _only(parts: list[gpd.GeoDataFrame], spec: Mapping[str, Any]) -> list[gpd.GeoDataFrame]:
    """With ``indicator:`` on a source of any format, keep that sub-indicator only."""
    ind = spec.get("indicator")
    return [p for p in parts if len(p) and (ind is None or (p["indicator"] == ind).all())]


def _same_file(a: Path, b: Path) -> bool:
    return a.resolve() == b.resolve()


def read_amenities(
    specs: list[Mapping[str, Any]],
    config: Config,
    *,
    crs: CRS,
    osm: OsmExtract | None = None,
    empty_ok: bool = False,
) -> gpd.GeoDataFrame:
    """Read every amenity source and keep the points that count, in the study CRS.

    Columns: ``indicator``, ``name``, ``kind`` (the tag or category that matched),
    ``source`` (file name) and ``source_id``. ``osm`` is an extract already read with
    the features of :func:`~thuisdichtbij.sources.tags.needed_keys`: an OSM source that
    is this file takes them from it instead of reading the file again. No amenity at all
    is an error unless ``empty_ok`` (a tile of a national scan may hold none).
    """
    parts = []
    for spec in specs:
        _check_indicator(spec, config)
        found = [to_metric(p, crs) for p in _only(_read_source(spec, config, osm), spec)]
        n = sum(len(p) for p in found)
        log.info("amenities: %d from %s", n, Path(spec["file"]).name)
        parts += found
    if not parts and empty_ok:
        cols = ["indicator", "name", "kind", "source", "source_id"]
        return gpd.GeoDataFrame(columns=[*cols, "geometry"], geometry="geometry", crs=crs)
    if not parts:
        raise InputError(
            "amenities: none of the sources holds a single amenity of any sub-indicator; check "
            "the files and the tag rules in indicators/"
        )
    out = pd.concat(parts, ignore_index=True)
    return gpd.GeoDataFrame(out, geometry="geometry", crs=crs)
