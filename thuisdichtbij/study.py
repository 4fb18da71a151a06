"""Study files: which data a scan reads, in ``config/studies/*.yaml``.

Relative data paths resolve against the data folder (``--data-dir``, the environment
variable ``THUISDICHTBIJ_DATA``, else ``../shared/data``); a relative ``weights`` path
resolves against the study file's own folder.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Any

import yaml

from .config import INDICATOR_IDS, shipped_path
from .config_checks import parse_yaml
from .errors import ConfigError, InputFileNotFoundError, reject_unknown_keys
from .settings import data_dir as _data_dir

__all__ = ["Study", "load_study", "study_from_osm", "preset_names"]

_TOP = {
    "name",
    "description",
    "crs",
    "osm",
    "network",
    "dwellings",
    "amenities",
    "areas",
    "study_area",
    "leefbaarometer",
    "weights",
    "fairshare",
    "data_dir",
    "sources",
    "validation",
}
_SECTION_KEYS = {
    "network": {"file", "layer"},
    "dwellings": {"file", "layer", "x", "y", "crs", "id", "weight", "cbs_pc6", "postcode"},
    "amenities": {
        "file",
        "format",
        "layer",
        "x",
        "y",
        "crs",
        "category",
        "name",
        "id",
        "indicator",
    },
    "areas": {"file", "layer", "id_field", "year"},
    "study_area": {"file", "layer", "id_field", "ids"},
    "leefbaarometer": {"file", "id_column", "areas"},
    "municipalities": {"file", "layer", "id_field", "ids"},
    "ses_woa": {"file", "id_column", "year"},
    "cbs": {"file", "table", "titles"},
    "buurten": {"file", "layer", "id_field"},
}
_FAIRSHARE_KEYS = {"municipalities", "ses_woa", "areas", "leefbaarometer", "levels"}
_FILE_KEYS = ("file", "cbs_pc6")
#: How every map and metadata credits OpenStreetMap data.
OSM_ATTRIBUTION = "© OpenStreetMap-bijdragers (ODbL 1.0)"
AMENITY_FORMATS = ("osm", "osm_tags", "gtfs", "table", "points")


@dataclass(frozen=True)
class Study:
    """The inputs of one scan. Paths are resolved; sections are read-only mappings."""

    name: str
    crs: str | None = None
    osm: Path | None = None
    network: Mapping[str, Any] | None = None
    dwellings: Mapping[str, Any] | None = None
    amenities: tuple[Mapping[str, Any], ...] = ()
    areas: Mapping[str, Any] | None = None
    study_area: Mapping[str, Any] | None = None
    leefbaarometer: Mapping[str, Any] | None = None
    weights: Path | None = None
    fairshare: Mapping[str, Any] | None = None
    validation: Mapping[str, Any] | None = None
    sources: Mapping[str, Any] | None = field(default=None, compare=False)
    source: Path | None = field(default=None, compare=False)

    def input_files(self) -> list[Path]:
        """Every file this study reads, for provenance."""
        files: list[Path] = []
        if self.osm:
            files.append(self.osm)
        fs = self.fairshare or {}
        fair = tuple(v for k, v in fs.items() if k != "levels")
        for level in (fs.get("levels") or {}).values():
            fair += tuple(level.values())
        for sec in (
            self.network,
            self.dwellings,
            self.areas,
            self.study_area,
            self.leefbaarometer,
            *fair,
        ):
            if sec:
                files += [sec[k] for k in _FILE_KEYS if sec.get(k)]
                if isinstance(sec.get("areas"), Mapping):
                    files.append(sec["areas"]["file"])
        files += [a["file"] for a in self.amenities]
        seen, out = set(), []
        for f in files:
            if f not in seen:
                seen.add(f)
                out.append(f)
        return out


def preset_names() -> list[str]:
    """Names of the study presets shipped with the package."""
    return sorted(p.stem for p in (shipped_path("config") / "studies").glob("*.yaml"))


def _resolve(value: Any, base: Path, where: str) -> Path:
    if not isinstance(value, (str, os.PathLike)) or not str(value):
        raise ConfigError(f"{where} must be a file path, got {value!r}")
    p = Path(os.path.expanduser(str(value)))
    return p if p.is_absolute() else base / p


def _section(raw: Any, name: str, base: Path, where: str) -> MappingProxyType:
    if isinstance(raw, (str, os.PathLike)):
        raw = {"file": raw}
    if not isinstance(raw, Mapping):
        raise ConfigError(f"{where}: '{name}' must be a mapping (file: ..., ...) or a path")
    allowed = _SECTION_KEYS[name]
    reject_unknown_keys(raw, allowed, where=where, prefix=f"{name}.")
    if name == "dwellings" and "file" not in raw and "cbs_pc6" in raw:
        # No dwelling points: one point inside each polygon of the CBS PC6 GeoPackage.
        if not str(raw["cbs_pc6"]).lower().endswith(".gpkg"):
            raise ConfigError(
                f"{where}: 'dwellings.cbs_pc6' without 'file' must be the CBS PC6 GeoPackage "
                f"(its polygons place the dwellings), got {raw['cbs_pc6']!r}; give the "
                "dwelling points with 'file'"
            )
    elif "file" not in raw:
        raise ConfigError(f"{where}: '{name}' needs a 'file'")
    out = dict(raw)
    for key in (k for k in _FILE_KEYS if k in out):
        out[key] = _resolve(out[key], base, f"{where}: '{name}.{key}'")
    if name == "leefbaarometer" and "areas" in out:
        out["areas"] = _section(out["areas"], "areas", base, where)
    if name in ("areas", "study_area", "municipalities", "buurten") and "id_field" not in out:
        raise ConfigError(f"{where}: '{name}' needs 'id_field', the column with the area ids")
    if name in ("study_area", "municipalities"):
        ids = out.get("ids")
        if not isinstance(ids, list) or not ids:
            raise ConfigError(f"{where}: '{name}.ids' must list the ids to keep, e.g. [Maastricht]")
        out["ids"] = tuple(str(i) for i in ids)
    if name == "amenities":
        fmt = out.get("format")
        if fmt is not None and fmt not in AMENITY_FORMATS:
            raise ConfigError(
                f"{where}: amenity format {fmt!r} is not known; use one of "
                f"{', '.join(AMENITY_FORMATS)}"
            )
        ind = out.get("indicator")
        if ind is not None and ind not in INDICATOR_IDS:
            raise ConfigError(
                f"{where}: amenities from {Path(out['file']).name} name the unknown indicator "
                f"{ind!r}; use one of {', '.join(INDICATOR_IDS)}"
            )
    return MappingProxyType(out)


def load_study(study: str | os.PathLike, *, data_dir: str | os.PathLike | None = None) -> Study:
    """Load a study file, or a shipped preset by name (``maastricht``, ``delft``, ...)."""
    path = Path(study)
    if not path.is_file() and not path.suffix:
        shipped = shipped_path("config") / "studies" / f"{study}.yaml"
        if shipped.is_file():
            path = shipped
    if not path.is_file():
        raise InputFileNotFoundError(
            f"study file {study} does not exist; give a path to a .yaml file or one of the "
            f"presets: {', '.join(preset_names())}"
        )
    try:
        raw = parse_yaml(path.read_text(encoding="utf-8"))
    except (yaml.YAMLError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path}: not valid YAML ({str(exc).splitlines()[0]})") from exc
    if not isinstance(raw, Mapping):
        raise ConfigError(f"{path}: expected a mapping with keys like name, osm, network, ...")
    reject_unknown_keys(raw, _TOP, where=str(path))
    # A study may say where its data lies, relative to itself (fetch writes data_dir: .).
    if raw.get("data_dir") is not None and data_dir is None:
        base = (path.parent / str(raw["data_dir"])).resolve()
    else:
        base = _data_dir(data_dir)
    where = str(path)
    amen_raw = raw.get("amenities") or []
    if not isinstance(amen_raw, list):
        raise ConfigError(f"{where}: 'amenities' must be a list of sources")
    return Study(
        name=str(raw.get("name") or path.stem),
        crs=str(raw["crs"]) if raw.get("crs") else None,
        osm=_resolve(raw["osm"], base, f"{where}: 'osm'") if raw.get("osm") else None,
        network=_section(raw["network"], "network", base, where) if raw.get("network") else None,
        dwellings=(
            _section(raw["dwellings"], "dwellings", base, where) if raw.get("dwellings") else None
        ),
        amenities=tuple(_section(a, "amenities", base, where) for a in amen_raw),
        areas=_section(raw["areas"], "areas", base, where) if raw.get("areas") else None,
        study_area=(
            _section(raw["study_area"], "study_area", base, where)
            if raw.get("study_area")
            else None
        ),
        leefbaarometer=(
            _section(raw["leefbaarometer"], "leefbaarometer", base, where)
            if raw.get("leefbaarometer")
            else None
        ),
        weights=_resolve(raw["weights"], path.parent, f"{where}: 'weights'")
        if raw.get("weights")
        else None,
        fairshare=_fairshare(raw.get("fairshare"), base, where),
        validation=_validation(raw.get("validation"), base, where),
        sources=MappingProxyType(dict(raw["sources"])) if raw.get("sources") else None,
        source=path,
    )


def _fairshare(raw: Any, base: Path, where: str) -> MappingProxyType | None:
    if raw is None:
        return None
    if not isinstance(raw, Mapping):
        raise ConfigError(f"{where}: 'fairshare' must be a mapping (ses_woa: ..., ...)")
    reject_unknown_keys(raw, _FAIRSHARE_KEYS, where=where, prefix="fairshare.")
    levels = raw.get("levels")
    if "ses_woa" not in raw and not levels:
        raise ConfigError(f"{where}: 'fairshare' needs 'ses_woa', the CBS SES-WOA table per area")
    out = {k: _section(v, k, base, where) for k, v in raw.items() if k != "levels"}
    if levels is not None:
        # Named levels (e.g. buurt, as fetch writes), each a fair-share section of its own;
        # keys not given in a level come from the section around it.
        if not isinstance(levels, Mapping) or not levels:
            raise ConfigError(f"{where}: 'fairshare.levels' must map level names to sections")
        shared = {k: v for k, v in raw.items() if k != "levels"}
        out["levels"] = MappingProxyType(
            {
                str(name): _fairshare({**shared, **(level or {})}, base, f"{where} (level {name})")
                for name, level in levels.items()
            }
        )
    return MappingProxyType(out)


def _validation(raw: Any, base: Path, where: str) -> MappingProxyType | None:
    """The CBS table and buurt polygons ``thuisdichtbij validate`` holds a scan against."""
    if raw is None:
        return None
    if not isinstance(raw, Mapping) or set(raw) != {"cbs", "buurten"}:
        raise ConfigError(
            f"{where}: 'validation' must have exactly 'cbs' (the CBS proximity table) and "
            "'buurten' (their polygons), as fetch --with-validation writes"
        )
    return MappingProxyType({k: _section(v, k, base, where) for k, v in raw.items()})


def study_from_osm(osm: str | os.PathLike, *, name: str | None = None) -> Study:
    """A study that takes network, amenities and dwellings from one OSM extract."""
    p = Path(osm)
    return Study(
        name=name or p.name.split(".")[0],
        osm=p,
        sources={"osm": {"attribution": OSM_ATTRIBUTION}},
    )
