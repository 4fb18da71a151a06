"""Process-wide settings changed while work runs, restored when the last such work ends.

Some settings belong to the whole process (GDAL's configuration, Python's garbage
collector), while the work that changes them may overlap in threads (the web server's).
A :class:`ProcessWide` changes its setting when the first holder enters, and restores what
was there before when the last one leaves, on an error too.
"""

from __future__ import annotations

import gc
import os
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any


class ProcessWide:
    """A setting ``change()`` makes (returning what was there) and ``restore(before)`` undoes."""

    def __init__(self, change: Callable[[], Any], restore: Callable[[Any], None]) -> None:
        self._change, self._restore = change, restore
        self._lock = threading.Lock()
        self._holders = 0
        self._before: Any = None
        _ALL.append(self)

    @contextmanager
    def held(self) -> Iterator[None]:
        """The setting changed while this (or any overlapping holder) runs."""
        with self._lock:
            # counted before the change: an interrupt between the two must not leave the
            # setting changed with no holder to restore it
            self._holders += 1
            if self._holders == 1:
                try:
                    self._before = self._change()
                except BaseException:
                    self._holders -= 1
                    raise
        try:
            yield
        finally:
            with self._lock:
                self._holders -= 1
                if self._holders == 0:
                    self._restore(self._before)

    def _after_fork(self) -> None:
        """In a forked child: its holders stay in the parent, so the setting is restored.

        A child forked while a thread of the parent holds the setting (or its lock) would
        otherwise keep it changed for good, or wait on the lock for ever.
        """
        self._lock = threading.Lock()
        if self._holders:
            self._holders = 0
            self._restore(self._before)


_ALL: list[ProcessWide] = []


def _after_fork_in_child() -> None:
    for setting in _ALL:
        setting._after_fork()


os.register_at_fork(after_in_child=_after_fork_in_child)


def _pause_gc() -> bool:
    enabled = gc.isenabled()
    gc.disable()
    return enabled


def _resume_gc(enabled: bool) -> None:
    if enabled:
        gc.enable()


#: Python's cyclic garbage collector paused. A scan makes a few hundred thousand small
#: objects (one tuple of tags per OSM object, the rows of its frames); each 700 of them
#: start a collection, and every so often a full one, which walks every object of the
#: process (pandas', GeoPandas' and shapely's too): on Aachen five full collections and
#: 700 smaller ones, 0.3 s of a 1.8 s scan. What a scan makes is freed when it is no
#: longer used (reference counting); the collector, back after the scan, finds the rest.
GC_PAUSED = ProcessWide(_pause_gc, _resume_gc)
