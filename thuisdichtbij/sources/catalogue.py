"""The catalogue of official sources (``data/sources.yaml``), loaded and checked."""

from __future__ import annotations

from pathlib import Path
from types import MappingProxyType

import yaml

from ..config import shipped_path
from ..errors import ConfigError

__all__ = ["load_catalogue", "REQUIRED_KEYS"]

REQUIRED_KEYS = ("title", "url", "format", "licence", "attribution", "cut")


def load_catalogue(path: str | Path | None = None) -> MappingProxyType:
    """The sources, by layer name; each with at least :data:`REQUIRED_KEYS`."""
    p = Path(path) if path else shipped_path("data") / "sources.yaml"
    raw = yaml.safe_load(p.read_text(encoding="utf-8"))
    for name, entry in raw.items():
        missing = [k for k in REQUIRED_KEYS if k not in entry]
        if missing:
            raise ConfigError(f"{p}: source '{name}' lacks {', '.join(missing)}")
    return MappingProxyType(raw)
