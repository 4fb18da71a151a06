"""Output paths checked before any input is read, and the temporaries and locks beside them.

Every command asks :func:`check_output` about each file it will write before it reads
anything, so a path that cannot be written is reported in a second, not after the whole run.
Writers put their temporary files next to the target under a name :func:`temporary` makes
and :func:`clean_stale` recognises, and hold :func:`target_lock` while they replace it.
"""

from __future__ import annotations

import contextlib
import logging
import os
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

from ..errors import OutputError

log = logging.getLogger(__name__)

__all__ = ["check_output", "temporary", "clean_stale", "target_lock", "STALE_S"]

#: A temporary of an older release (no lock) is taken as stranded after this many seconds.
STALE_S = 3600.0
_TMP_TAG = ".tmp-"
_SIDECARS = ("", "-journal", "-wal", "-shm")


def check_output(path: str | os.PathLike, *, what: str, suffixes: tuple[str, ...] = ()) -> Path:
    """Return ``path`` when a file can be written there; else raise :class:`OutputError`.

    The folder must exist, be a folder and accept a new file (tried, not guessed from
    permission bits); the target must not be a folder; its suffix one of ``suffixes``.
    """
    out = Path(path)
    if suffixes and out.suffix.lower() not in suffixes:
        raise OutputError(f"{what}: {out} must end in {' or '.join(suffixes)}")
    if out.is_dir():
        raise OutputError(f"{what}: {out} is a folder; give a file name inside it")
    folder = out.parent
    if not folder.exists():
        raise OutputError(f"{what}: the folder {folder} does not exist; create it first")
    if not folder.is_dir():
        raise OutputError(f"{what}: {folder} is a file, not a folder; choose another path")
    try:
        # a probe, not a temporary: named so that a concurrent writer's clean_stale (which
        # removes every temporary of the target) leaves it alone
        fd, probe = tempfile.mkstemp(prefix=f".{out.name}.probe-", dir=folder)
        os.close(fd)
        os.unlink(probe)
    except OSError as exc:
        raise OutputError(
            f"{what}: cannot write in the folder {folder} ({exc.strerror or exc}); choose a "
            "folder you may write to"
        ) from exc
    if out.exists() and not os.access(out, os.W_OK):
        raise OutputError(f"{what}: {out} is read-only; choose another name")
    return out


def temporary(target: Path, suffix: str = ".gpkg") -> Path:
    """A new, not yet existing path next to ``target`` that :func:`clean_stale` recognises."""
    fd, name = tempfile.mkstemp(
        prefix=f".{target.name}{_TMP_TAG}", suffix=suffix, dir=target.parent
    )
    os.close(fd)
    tmp = Path(name)
    tmp.unlink()
    return tmp


def clean_stale(target: Path, *, older_than_s: float = 0.0) -> list[Path]:
    """Remove temporaries (and their SQLite journals) that a killed writer left next to ``target``.

    Call it while holding :func:`target_lock`: then no live writer of ``target`` has a
    temporary, so every one found is stranded. Temporaries of older releases
    (``.<stem>-XXXXXXXX.gpkg``, written without a lock) go only when older than
    :data:`STALE_S`.
    """
    now = time.time()
    ours = [(p, older_than_s) for p in target.parent.glob(f".{target.name}{_TMP_TAG}*")]
    older = [
        (p, STALE_S)
        for p in target.parent.glob(f".{target.stem}-????????.gpkg*")
        if any(p.name.endswith(".gpkg" + s) for s in _SIDECARS)
    ]
    # a write probe lives for microseconds; one a minute old was stranded by a kill
    probes = [(p, 60.0) for p in target.parent.glob(f".{target.name}.probe-*")]
    removed = []
    for p, age in ours + older + probes:
        with contextlib.suppress(OSError):
            if now - p.stat().st_mtime >= age:
                p.unlink()
                removed.append(p)
    if removed:
        log.info("removed %d stale temporary file(s) next to %s", len(removed), target)
    return removed


@contextlib.contextmanager
def target_lock(target: Path, *, timeout_s: float = 600.0) -> Iterator[None]:
    """Hold an exclusive lock on ``target`` (a hidden ``.<name>.lock`` beside it)."""
    from filelock import FileLock, Timeout

    lock = FileLock(str(target.parent / f".{target.name}.lock"), timeout=timeout_s)
    try:
        with lock:
            yield
    except Timeout as exc:
        raise OutputError(
            f"output: {target} is being written by another process for over {timeout_s:.0f} s; "
            f"wait for it, or remove {lock.lock_file} if no other thuisdichtbij runs"
        ) from exc
