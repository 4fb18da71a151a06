"""Process settings: where data is read from, how many threads. Science lives in config.py.

Settings are read when used (never at import time), so an environment variable set after
import still counts.
"""

from __future__ import annotations

import os
from pathlib import Path

#: Environment variable naming the folder that study files' relative paths resolve against.
DATA_DIR_ENV = "THUISDICHTBIJ_DATA"

#: Environment variable naming the cache folder (built networks).
CACHE_DIR_ENV = "THUISDICHTBIJ_CACHE"

#: Environment variable capping the threads one process uses (the snap's nearest-piece
#: query); Dask workers get 1, so tiles on all cores do not fight over them.
THREADS_ENV = "THUISDICHTBIJ_THREADS"

#: Used when neither ``--data-dir`` nor the environment variable is given: the offline
#: mirror next to a checkout (``../shared/data`` seen from the repository root).
DEFAULT_DATA_DIR = Path("../shared/data")


def data_dir(explicit: str | os.PathLike | None = None) -> Path:
    """Return the data folder: ``explicit``, else ``$THUISDICHTBIJ_DATA``, else the default."""
    if explicit is not None:
        return Path(explicit)
    env = os.environ.get(DATA_DIR_ENV)
    if env:
        return Path(env)
    return DEFAULT_DATA_DIR


def cache_dir(explicit: str | os.PathLike | None = None) -> Path:
    """Return the cache folder: ``explicit``, else ``$THUISDICHTBIJ_CACHE``, else the user cache.

    The user cache is ``$XDG_CACHE_HOME/thuisdichtbij`` (``~/.cache/thuisdichtbij``).
    """
    if explicit is not None:
        return Path(explicit)
    env = os.environ.get(CACHE_DIR_ENV)
    if env:
        return Path(env)
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "thuisdichtbij"


def threads() -> int:
    """Threads this process may use: ``$THUISDICHTBIJ_THREADS``, else the cores it may run on."""
    from .errors import ConfigError

    env = os.environ.get(THREADS_ENV, "").strip()
    if env:
        if not env.isdigit() or int(env) < 1:
            raise ConfigError(f"{THREADS_ENV}={env!r}: give a whole number of threads, 1 or more")
        return int(env)
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1
