"""Scientific parameters: weights, bands, safety mapping, classes and indicator definitions.

Loaded once into an immutable, validated :class:`Config` and passed in explicitly. The
defaults ship with the package (``config/weights.yaml`` and ``indicators/*.yaml`` in the
repository). A user's weights file is laid over the defaults: it only needs the keys it
changes.
"""

from __future__ import annotations

import dataclasses
import json
import os
from collections.abc import Mapping
from importlib import resources
from pathlib import Path
from typing import Any

from .config_checks import SECTIONS, build_config, merge_layers, read_indicators, read_yaml
from .config_schema import (
    INDICATOR_IDS,
    SAFETY_ID,
    AuditConfig,
    Band,
    Config,
    FairshareConfig,
    Indicator,
    SafetyConfig,
    ZonesConfig,
)
from .errors import ConfigError

__all__ = [
    "Band",
    "Indicator",
    "SafetyConfig",
    "FairshareConfig",
    "ZonesConfig",
    "AuditConfig",
    "Config",
    "load_config",
    "config_from_json",
    "run_config",
    "default_weights_path",
    "shipped_path",
    "default_indicators_dir",
    "SAFETY_ID",
    "INDICATOR_IDS",
]


def shipped_path(name: str) -> Path:
    """Path of a top-level folder of the repository that ships with the package.

    An installed wheel holds ``config/`` and ``indicators/`` under
    ``thuisdichtbij/_defaults/``; a source checkout (or an editable install) has them
    next to the package.
    """
    packaged = Path(str(resources.files("thuisdichtbij"))) / "_defaults" / name
    if packaged.is_dir():
        return packaged
    return Path(__file__).resolve().parent.parent / name


def default_weights_path() -> Path:
    """Path of the ``weights.yaml`` shipped with the package."""
    return shipped_path("config") / "weights.yaml"


def default_indicators_dir() -> Path:
    """Folder of the indicator definitions shipped with the package."""
    return shipped_path("indicators")


def config_from_json(text: str) -> Config:
    """Rebuild the configuration a run stored in its metadata (``Config.canonical_json``).

    The scientific sections are laid over the shipped defaults; the indicator definitions
    are the shipped ones (a stored run's amenities are already classified).
    """
    try:
        raw = json.loads(text)
    except ValueError as exc:
        raise ConfigError(f"stored configuration is not valid JSON ({exc})") from exc
    return load_config(overrides={k: v for k, v in raw.items() if k in SECTIONS})


def run_config(metadata: dict[str, str]) -> Config:
    """The configuration a scan ran with, from its ``run_metadata`` (key ``config``).

    The shipped defaults for a scan that did not record it.
    """
    return config_from_json(metadata.get("config", "{}"))


def load_config(
    weights: str | os.PathLike | None = None,
    *,
    indicators_dir: str | os.PathLike | None = None,
    overrides: Mapping[str, Any] | None = None,
) -> Config:
    """Load and validate the scientific configuration.

    Parameters
    ----------
    weights
        A user's weights file, laid over the shipped ``config/weights.yaml``; ``None`` for
        the defaults.
    indicators_dir
        A folder of indicator definitions replacing the shipped ``indicators/``.
    overrides
        Sections laid over everything else, e.g. ``{"snapping": {"max_snap_m": 100}}``.

    Returns
    -------
    Config
        The immutable configuration; ``Config.hash`` identifies it in run metadata.
    """
    default = default_weights_path()
    raw = merge_layers({}, read_yaml(default) or {}, default)
    sources = [str(default)]
    if weights is not None:
        path = Path(weights)
        user = read_yaml(path)
        if not isinstance(user, Mapping):
            raise ConfigError(f"{path}: expected a mapping of sections (weights, bands, ...)")
        raw = merge_layers(raw, user, path)
        sources.append(str(path))
    else:
        path = default
    if overrides:
        raw = merge_layers(raw, overrides, Path("<overrides>"))
    ind_dir = Path(indicators_dir) if indicators_dir is not None else default_indicators_dir()
    indicators = read_indicators(ind_dir)
    cfg = build_config(raw, path, indicators)
    resolved = {
        **raw,
        "indicators": {
            i.id: {
                "osm": [[list(t) if isinstance(t, tuple) else t for t in r] for r in i.osm_rules],
                "table_categories": list(i.table_categories),
                "gtfs": i.gtfs,
            }
            for i in indicators
        },
    }
    canonical = json.dumps(resolved, sort_keys=True, separators=(",", ":"), default=str)
    return dataclasses.replace(cfg, sources=tuple(sources), canonical_json=canonical)
