"""Reading and validating the configuration files, section by section (for ``config.py``).

Every number must be finite, every key known; a message names the file, the key, the value
and what is allowed.
"""

from __future__ import annotations

import copy
import math
from collections.abc import Mapping
from pathlib import Path
from types import MappingProxyType
from typing import Any

import yaml

from .config_schema import (
    INDICATOR_IDS,
    SAFETY_ID,
    AuditConfig,
    Band,
    Config,
    ContextConfig,
    FairshareConfig,
    Indicator,
    SafetyConfig,
    ZonesConfig,
)
from .errors import ConfigError, InputFileNotFoundError, reject_unknown_keys

SECTIONS = {
    "bands": None,
    "weights": set(INDICATOR_IDS) | {SAFETY_ID},
    "safety": {"dimension", "year", "base_year", "level_edges", "development_step", "missing"},
    "classification": {"method", "stddev_edges"},
    "snapping": {"max_snap_m"},
    "network": {"min_component_m", "profile"},
    "aggregation": {"min_dwellings", "fallback_cell_m", "grid_cell_m"},
    "zones": {
        "min_class",
        "smoothing_cells",
        "diagonal",
        "min_cells",
        "min_dwellings",
        "min_residents_65plus",
    },
    "fairshare": {"reference", "lbm_measure", "lbm_year"},
    "audit": {
        "max_unscored_share",
        "thin_below",
        "min_footpath_share",
        "reference_per_10k_dwellings",
    },
    "sensitivity": {"band_tolerance_m"},
    "context": {"water_min_ha", "green_min_ha", "simplify_m", "buffer_m"},
    "profiles": None,
}


_INDICATOR_KEYS = {
    "id",
    "group",
    "label_nl",
    "label_en",
    "plural_nl",
    "plural_en",
    "osm",
    "table_categories",
    "gtfs",
}


_SAFETY_DIMENSIONS = {"lbm", "afw", "fys", "onv", "soc", "vrz", "won"}


#: libyaml's loader when PyYAML was built with it (its wheels are): the same documents,
#: ten times faster than the pure-Python one (a scan reads ten configuration files).
_YAML_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def parse_yaml(text: str) -> Any:
    """``yaml.safe_load``, through libyaml when there is one."""
    return yaml.load(text, Loader=_YAML_LOADER)  # noqa: S506 - a safe loader


def read_yaml(path: Path) -> Any:
    """A YAML file's content, or a one-line error naming the file."""
    if not path.is_file():
        raise InputFileNotFoundError(f"configuration file {path} does not exist")
    try:
        return parse_yaml(path.read_text(encoding="utf-8"))
    except (yaml.YAMLError, UnicodeDecodeError) as exc:
        raise ConfigError(
            f"{path}: not valid YAML ({str(exc).splitlines()[0]}); check indentation and quoting"
        ) from exc


def merge_layers(base: dict, over: Mapping, path: Path) -> dict:
    """``over`` laid over ``base``, section by section; unknown keys are an error."""
    out = copy.deepcopy(base)
    for key, value in over.items():
        reject_unknown_keys([key], SECTIONS, where=str(path))
        allowed = SECTIONS[key]
        if allowed is not None:
            if not isinstance(value, Mapping):
                raise ConfigError(f"{path}: '{key}' must be a mapping of keys to values")
            reject_unknown_keys(value, allowed, where=str(path), prefix=f"{key}.")
            merged = dict(out.get(key, {}))
            for sub, v in value.items():
                old = merged.get(sub)
                # a nested mapping (audit.reference_per_10k_dwellings) is merged key by key
                both = isinstance(old, Mapping) and isinstance(v, Mapping)
                merged[sub] = {**old, **v} if both else v
            out[key] = merged
        else:
            out[key] = value
    return out


def _number(
    path: Path, key: str, value: Any, *, minimum: float | None = 0.0, positive: bool = False
) -> float:
    """A finite number; text that Python's ``float()`` reads (YAML's ``1e300``) counts too."""
    if isinstance(value, str):
        try:
            value = float(value)
        except ValueError:
            pass
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ConfigError(f"{path}: '{key}' must be a number, got {value!r}")
    if not math.isfinite(value):
        raise ConfigError(f"{path}: '{key}' must be a finite number, got {value!r}")
    if minimum is not None and value < minimum:
        raise ConfigError(f"{path}: '{key}' must be at least {minimum:g}, got {value!r}")
    if positive and value <= 0:
        raise ConfigError(f"{path}: '{key}' must be more than 0, got {value!r}")
    return float(value)


def _increasing(path: Path, key: str, values: Any) -> tuple[float, ...]:
    if not isinstance(values, list) or not values:
        raise ConfigError(f"{path}: '{key}' must be a non-empty list of numbers, got {values!r}")
    nums = tuple(_number(path, key, v, minimum=None) for v in values)
    if any(b <= a for a, b in zip(nums, nums[1:])):
        raise ConfigError(f"{path}: '{key}' must be strictly increasing, got {list(nums)}")
    return nums


def _bands(path: Path, raw: Any) -> tuple[Band, ...]:
    if not isinstance(raw, list) or not raw:
        raise ConfigError(f"{path}: 'bands' must be a list like [{{max_m: 250, points: 2}}, ...]")
    bands = []
    for i, item in enumerate(raw):
        if not isinstance(item, Mapping) or set(item) != {"max_m", "points"}:
            raise ConfigError(
                f"{path}: bands[{i}] must have exactly the keys max_m and points, got {item!r}"
            )
        bands.append(
            Band(
                _number(path, f"bands[{i}].max_m", item["max_m"]),
                _number(path, f"bands[{i}].points", item["points"]),
            )
        )
    for a, b in zip(bands, bands[1:]):
        if b.max_m <= a.max_m:
            raise ConfigError(
                f"{path}: bands must be increasing in max_m, got {a.max_m:g} then {b.max_m:g}; "
                "list the nearest band first"
            )
        if b.points >= a.points:
            raise ConfigError(
                f"{path}: a farther band must earn fewer points, got {a.points:g} within "
                f"{a.max_m:g} m then {b.points:g} within {b.max_m:g} m"
            )
    return tuple(bands)


def _rule_values(path: Path, where: str, value: Any) -> tuple[str, ...] | None:
    if value is True:
        return None
    if isinstance(value, (str, int, float)) and not isinstance(value, bool):
        return (str(value),)
    if isinstance(value, list) and value and all(isinstance(v, (str, int)) for v in value):
        return tuple(str(v) for v in value)
    raise ConfigError(
        f"{path}: {where} must be a tag value, a list of values or true, got {value!r}"
    )


def _indicator(path: Path) -> Indicator:
    raw = read_yaml(path)
    if not isinstance(raw, Mapping):
        raise ConfigError(f"{path}: expected a mapping with keys {sorted(_INDICATOR_KEYS)}")
    reject_unknown_keys(raw, _INDICATOR_KEYS, where=str(path))
    for key in ("id", "label_nl"):
        if not raw.get(key):
            raise ConfigError(f"{path}: the key '{key}' is required")
    if raw["id"] not in INDICATOR_IDS:
        raise ConfigError(
            f"{path}: unknown sub-indicator id '{raw['id']}'; use one of {', '.join(INDICATOR_IDS)}"
        )
    rules_raw = raw.get("osm") or []
    if not isinstance(rules_raw, list):
        raise ConfigError(f"{path}: 'osm' must be a list of tag rules like - {{amenity: pharmacy}}")
    rules = []
    for i, rule in enumerate(rules_raw):
        if not isinstance(rule, Mapping) or not rule:
            raise ConfigError(f"{path}: osm[{i}] must be a mapping of tag to value, got {rule!r}")
        rules.append(
            tuple((str(k), _rule_values(path, f"osm[{i}].{k}", v)) for k, v in rule.items())
        )
    cats = raw.get("table_categories") or []
    if not isinstance(cats, list):
        raise ConfigError(f"{path}: 'table_categories' must be a list of names")
    gtfs = raw.get("gtfs", False)
    if not isinstance(gtfs, bool):
        raise ConfigError(f"{path}: 'gtfs' must be true or false, got {gtfs!r}")
    return Indicator(
        id=raw["id"],
        group=str(raw.get("group", "")),
        label_nl=str(raw["label_nl"]),
        label_en=str(raw.get("label_en", raw["label_nl"])),
        osm_rules=tuple(rules),
        table_categories=tuple(str(c) for c in cats),
        gtfs=gtfs,
        plural_nl=str(raw.get("plural_nl", "")),
        plural_en=str(raw.get("plural_en", "")),
    )


def read_indicators(folder: Path) -> tuple[Indicator, ...]:
    """The definition of every sub-indicator from ``<id>.yaml`` files in ``folder``."""
    if not folder.is_dir():
        raise InputFileNotFoundError(f"indicator folder {folder} does not exist")
    found = {}
    for path in sorted(folder.glob("*.yaml")):
        ind = _indicator(path)
        if ind.id in found:
            raise ConfigError(f"{path}: sub-indicator '{ind.id}' is defined twice")
        found[ind.id] = ind
    missing = [i for i in INDICATOR_IDS if i not in found]
    if missing:
        raise ConfigError(
            f"{folder}: no definition for sub-indicator(s) {', '.join(missing)}; "
            "add a <id>.yaml file for each"
        )
    return tuple(found[i] for i in INDICATOR_IDS)


def build_config(raw: dict, path: Path, indicators: tuple[Indicator, ...]) -> Config:
    """The validated configuration, section by section."""
    c = raw["classification"]
    method, sd_edges = _classification(path, c)
    agg = raw["aggregation"]
    return Config(
        bands=_bands(path, raw["bands"]),
        weights=MappingProxyType(_weights(path, raw.get("weights", {}))),
        indicators=indicators,
        safety=_safety(path, raw["safety"]),
        classification_method=method,
        stddev_edges=sd_edges,
        max_snap_m=_number(
            path, "snapping.max_snap_m", raw["snapping"]["max_snap_m"], positive=True
        ),
        min_component_m=_number(path, "network.min_component_m", raw["network"]["min_component_m"]),
        min_dwellings=int(_number(path, "aggregation.min_dwellings", agg["min_dwellings"])),
        # Cells are named in hectometres as CBS does (E1760N3180): below 100 m two cells
        # would share a name, and a layer its rows.
        fallback_cell_m=_number(
            path, "aggregation.fallback_cell_m", agg["fallback_cell_m"], minimum=100
        ),
        grid_cell_m=_number(path, "aggregation.grid_cell_m", agg["grid_cell_m"], minimum=100),
        zones=_zones(path, raw["zones"]),
        fairshare=_fairshare(path, raw["fairshare"]),
        audit=_audit(path, raw.get("audit", {})),
        band_tolerance_m=_tolerance(path, raw),
        context=_context(path, raw.get("context") or {}),
        **_profile(path, raw),
    )


def _profile(path: Path, raw: dict) -> dict[str, Any]:
    """``network.profile`` and its rules from ``profiles``: tag -> values that exclude a way."""
    profiles = raw.get("profiles") or {}
    if not isinstance(profiles, Mapping):
        raise ConfigError(f"{path}: 'profiles' must map profile names to tag rules")
    name = raw["network"].get("profile")
    if name in (None, "", "none"):
        return {"profile": None}
    if name not in profiles:
        raise ConfigError(
            f"{path}: 'network.profile' is {name!r}, which 'profiles' does not define; "
            f"use one of {', '.join(sorted(profiles)) or '(none defined)'}"
        )
    rules = profiles[name]
    if not isinstance(rules, Mapping) or not rules:
        raise ConfigError(f"{path}: profiles.{name} must map tags to lists of values")
    out = {}
    for tag, values in rules.items():
        if not isinstance(values, list) or not all(isinstance(v, str) for v in values):
            raise ConfigError(
                f"{path}: profiles.{name}.{tag} must be a list of quoted tag values "
                f'(write "no", not no, which YAML reads as false), got {values!r}'
            )
        out[str(tag)] = tuple(v.lower() for v in values)
    return {"profile": str(name), "profile_rules": MappingProxyType(out)}


def _weights(path: Path, weights: dict) -> dict[str, float]:
    missing = [k for k in (*INDICATOR_IDS, SAFETY_ID) if k not in weights]
    if missing:
        raise ConfigError(
            f"{path}: no weight for {', '.join(missing)}; give every sub-indicator a weight "
            "(0 leaves it out)"
        )
    w = {k: _number(path, f"weights.{k}", weights[k]) for k in (*INDICATOR_IDS, SAFETY_ID)}
    if not any(w.values()):
        raise ConfigError(
            f"{path}: every weight is 0, so every dwelling would score 0 and the classes would "
            "mean nothing; give at least one sub-indicator a weight above 0"
        )
    return w


def _safety(path: Path, s: dict) -> SafetyConfig:
    if s.get("dimension") not in _SAFETY_DIMENSIONS:
        raise ConfigError(
            f"{path}: 'safety.dimension' must be one of {', '.join(sorted(_SAFETY_DIMENSIONS))}, "
            f"got {s.get('dimension')!r}"
        )
    edges = _increasing(path, "safety.level_edges", s.get("level_edges"))
    if len(edges) != 4:
        raise ConfigError(
            f"{path}: 'safety.level_edges' needs 4 edges (between the 5 classes), got {len(edges)}"
        )
    if s.get("missing") not in ("rescale", "neutral"):
        raise ConfigError(
            f"{path}: 'safety.missing' must be 'rescale' or 'neutral', got {s.get('missing')!r}"
        )
    year = int(_number(path, "safety.year", s.get("year")))
    base_year = int(_number(path, "safety.base_year", s.get("base_year")))
    if base_year > year:
        raise ConfigError(
            f"{path}: 'safety.base_year' ({base_year}) must not be after 'safety.year' ({year})"
        )
    return SafetyConfig(
        dimension=s["dimension"],
        year=year,
        base_year=base_year,
        level_edges=edges,
        development_step=_number(path, "safety.development_step", s.get("development_step")),
        missing=s["missing"],
    )


def _classification(path: Path, c: dict) -> tuple[str, tuple[float, ...]]:
    if c.get("method") not in ("stddev", "quantile"):
        raise ConfigError(
            f"{path}: 'classification.method' must be 'stddev' or 'quantile', "
            f"got {c.get('method')!r}"
        )
    sd_edges = _increasing(path, "classification.stddev_edges", c.get("stddev_edges"))
    if len(sd_edges) != 4:
        raise ConfigError(
            f"{path}: 'classification.stddev_edges' needs 4 edges (between the 5 classes), "
            f"got {len(sd_edges)}"
        )
    return c["method"], sd_edges


def _zones(path: Path, z: dict) -> ZonesConfig:
    if not isinstance(z.get("diagonal"), bool):
        raise ConfigError(
            f"{path}: 'zones.diagonal' must be true or false, got {z.get('diagonal')!r}"
        )
    min_class = int(_number(path, "zones.min_class", z.get("min_class"), minimum=1))
    if min_class > 5:
        raise ConfigError(f"{path}: 'zones.min_class' must be 1-5, got {min_class}")
    return ZonesConfig(
        min_class=min_class,
        smoothing_cells=int(_number(path, "zones.smoothing_cells", z.get("smoothing_cells"))),
        diagonal=z["diagonal"],
        min_cells=int(_number(path, "zones.min_cells", z.get("min_cells"), minimum=1)),
        min_dwellings=_number(path, "zones.min_dwellings", z.get("min_dwellings")),
        min_residents_65plus=_number(
            path, "zones.min_residents_65plus", z.get("min_residents_65plus", 25)
        ),
    )


def _fairshare(path: Path, f: dict) -> FairshareConfig:
    if f.get("reference") not in ("national", "region"):
        raise ConfigError(
            f"{path}: 'fairshare.reference' must be 'national' or 'region', "
            f"got {f.get('reference')!r}"
        )
    if f.get("lbm_measure") not in _SAFETY_DIMENSIONS - {"lbm"}:
        raise ConfigError(
            f"{path}: 'fairshare.lbm_measure' must be one of "
            f"{', '.join(sorted(_SAFETY_DIMENSIONS - {'lbm'}))}, got {f.get('lbm_measure')!r}"
        )
    return FairshareConfig(
        reference=f["reference"],
        lbm_measure=f["lbm_measure"],
        lbm_year=int(_number(path, "fairshare.lbm_year", f.get("lbm_year"))),
    )


def _share(path: Path, key: str, value: Any) -> float:
    x = _number(path, key, value)
    if x > 1:
        raise ConfigError(f"{path}: '{key}' is a share between 0 and 1, got {value!r}")
    return x


def _audit(path: Path, a: Mapping) -> AuditConfig:
    refs = a.get("reference_per_10k_dwellings")
    if not isinstance(refs, Mapping):
        raise ConfigError(
            f"{path}: 'audit.reference_per_10k_dwellings' must map sub-indicators to numbers"
        )
    unknown = sorted(set(refs) - set(INDICATOR_IDS))
    if unknown:
        raise ConfigError(
            f"{path}: unknown sub-indicator 'audit.reference_per_10k_dwellings.{unknown[0]}'; "
            f"use one of {', '.join(INDICATOR_IDS)}"
        )
    key = "audit.reference_per_10k_dwellings"
    return AuditConfig(
        max_unscored_share=_share(path, "audit.max_unscored_share", a.get("max_unscored_share")),
        thin_below=_share(path, "audit.thin_below", a.get("thin_below")),
        min_footpath_share=_share(path, "audit.min_footpath_share", a.get("min_footpath_share")),
        reference_per_10k_dwellings=MappingProxyType(
            {k: _number(path, f"{key}.{k}", v) for k, v in refs.items()}
        ),
    )


def _tolerance(path: Path, raw: dict) -> float:
    """``sensitivity.band_tolerance_m``: at least 0 and below the nearest band edge."""
    value = (raw.get("sensitivity") or {}).get("band_tolerance_m", 25.0)
    tol = _number(path, "sensitivity.band_tolerance_m", value)
    nearest = min(_number(path, "bands.max_m", b.get("max_m", 0)) for b in raw["bands"])
    if tol >= nearest:
        raise ConfigError(
            f"{path}: 'sensitivity.band_tolerance_m' must be less than the nearest band edge "
            f"({nearest:g} m), got {tol:g}"
        )
    return tol


def _context(path: Path, c: Mapping) -> ContextConfig:
    """``context``: sizes in hectares and lengths in metres, none below 0."""
    d = ContextConfig()
    return ContextConfig(
        **{k: _number(path, f"context.{k}", c.get(k, getattr(d, k))) for k in SECTIONS["context"]}
    )
