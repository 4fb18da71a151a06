"""Where a result came from: input file hashes, config hash, versions, time."""

from __future__ import annotations

import hashlib
import os
import platform
from datetime import datetime, timezone
from importlib import metadata
from pathlib import Path

__all__ = ["file_sha256", "package_version", "library_versions", "utc_now"]


def file_sha256(path: str | os.PathLike, *, chunk: int = 1 << 20) -> str:
    """SHA-256 of a file's bytes."""
    h = hashlib.sha256()
    with open(path, "rb") as f:
        while block := f.read(chunk):
            h.update(block)
    return h.hexdigest()


def package_version() -> str:
    """Installed version of thuisdichtbij (``unknown`` when run from an uninstalled tree)."""
    try:
        return metadata.version("thuisdichtbij")
    except metadata.PackageNotFoundError:
        return "unknown"


def library_versions() -> str:
    """Versions of Python and the libraries that shape the result, as one line."""
    parts = [f"python {platform.python_version()}"]
    for name in ("numpy", "scipy", "shapely", "pyproj", "geopandas", "pyogrio", "osmium"):
        try:
            parts.append(f"{name} {metadata.version(name)}")
        except metadata.PackageNotFoundError:
            pass
    return ", ".join(parts)


def utc_now() -> str:
    """The current time in UTC, ISO 8601, to the second."""
    return datetime.now(timezone.utc).replace(microsecond=0).isoformat()


def describe_file(path: Path) -> dict[str, str]:
    """Name, size and hash of an input file."""
    return {"name": path.name, "bytes": str(path.stat().st_size), "sha256": file_sha256(path)}
