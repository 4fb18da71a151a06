"""The catalogue of official sources (``data/sources.yaml``), loaded and checked.

A user points ``fetch`` at a newer release with a file of their own laid over the shipped
one: per source, the keys it gives replace the shipped ones; new sources are added.
"""

from __future__ import annotations

import os
from pathlib import Path
from types import MappingProxyType

import yaml

from ..config import shipped_path
from ..config_checks import parse_yaml
from ..errors import ConfigError

__all__ = ["load_catalogue", "REQUIRED_KEYS"]

REQUIRED_KEYS = ("title", "url", "format", "licence", "attribution", "cut")


def _read(p: Path) -> dict:
    try:
        raw = parse_yaml(p.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise ConfigError(f"catalogue: {p} does not exist; check the path") from exc
    except (yaml.YAMLError, UnicodeDecodeError) as exc:
        raise ConfigError(f"catalogue: {p} is not valid YAML ({str(exc).splitlines()[0]})") from exc
    if not isinstance(raw, dict) or not all(isinstance(v, dict) for v in raw.values()):
        raise ConfigError(f"catalogue: {p} must map source names to mappings (url: ..., ...)")
    return raw


def load_catalogue(
    path: str | os.PathLike | None = None, *, overlay: str | os.PathLike | None = None
) -> MappingProxyType:
    """The sources, by layer name; each with at least :data:`REQUIRED_KEYS`.

    Parameters
    ----------
    path
        The catalogue (default: the shipped ``data/sources.yaml``).
    overlay
        A user's catalogue laid over it: per source, the keys it gives replace the shipped
        ones (e.g. only ``url`` for a newer release); new sources are added.
    """
    p = Path(path) if path else shipped_path("data") / "sources.yaml"
    raw = _read(p)
    if overlay is not None:
        for name, entry in _read(Path(overlay)).items():
            raw[name] = {**raw.get(name, {}), **entry}
    for name, entry in raw.items():
        missing = [k for k in REQUIRED_KEYS if k not in entry]
        if missing:
            raise ConfigError(f"{p}: source '{name}' lacks {', '.join(missing)}")
    return MappingProxyType(raw)
