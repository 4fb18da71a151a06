"""On-disk cache of built walking networks, keyed by input file hashes and parameters.

A cached network is a ``.npz`` of plain arrays (no pickles): node coordinates, edge ends,
lengths, names and the edge coordinates. Loading rebuilds the routing graph and the
snapping index from them, which takes a fraction of reading and building. Any change of an
input file's bytes, of a parameter, or of this package's version gives another key, so a
stale network is never reused.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np

from ..provenance import file_sha256, package_version
from .network import Network

log = logging.getLogger(__name__)

__all__ = ["network_key", "load_network", "save_network"]

#: Bump when the way networks are built changes, to retire old cache entries.
NETWORK_FORMAT = 2


def network_key(files: list[Path], params: Mapping[str, Any]) -> str:
    """Key of a network built from ``files`` with ``params`` (anything JSON can write)."""
    payload = {
        "format": NETWORK_FORMAT,
        "package": package_version(),
        "files": [file_sha256(f) for f in files],
        "params": params,
    }
    text = json.dumps(payload, sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()


def _path(folder: Path, key: str) -> Path:
    return folder / f"network-{key[:32]}.npz"


def load_network(folder: Path, key: str) -> Network | None:
    """The cached network for ``key``, or ``None`` when there is none (or it is unreadable)."""
    path = _path(folder, key)
    if not path.is_file():
        return None
    try:
        with np.load(path, allow_pickle=False) as z:
            if str(z["key"]) != key:
                return None
            return Network.from_array_dict(z)
    except (OSError, ValueError, KeyError) as exc:
        log.warning("network cache: could not read %s (%s); building anew", path, exc)
        return None


def save_network(folder: Path, key: str, net: Network) -> Path | None:
    """Store ``net`` under ``key``, atomically; a cache that cannot be written is only logged."""
    try:
        folder.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=".network-", suffix=".npz", dir=folder)
    except OSError as exc:
        log.warning("network cache: could not write to %s (%s)", folder, exc)
        return None
    try:
        with os.fdopen(fd, "wb") as f:
            np.savez(f, key=np.array(key), **net.to_arrays())
        path = _path(folder, key)
        os.replace(tmp, path)
        return path
    except OSError as exc:
        Path(tmp).unlink(missing_ok=True)
        log.warning("network cache: could not write to %s (%s)", folder, exc)
        return None
