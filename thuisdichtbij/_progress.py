"""Stage timing for long runs: a log line per stage, and a progress bar when asked."""

from __future__ import annotations

import logging
import time
from contextlib import contextmanager

log = logging.getLogger("thuisdichtbij")


class Stages:
    """Times named stages; ``timings`` maps stage name to seconds."""

    def __init__(self, names: list[str], *, progress: bool = False):
        self.timings: dict[str, float] = {}
        self.progress = progress
        self._bar = None
        if progress:
            from tqdm.auto import tqdm

            self._bar = tqdm(total=len(names), unit="stage", leave=False)

    @contextmanager
    def __call__(self, name: str):
        """Run one stage: ``with stages("network"): ...``."""
        if self._bar is not None:
            self._bar.set_description(name)
        start = time.perf_counter()
        yield
        took = time.perf_counter() - start
        self.timings[name] = took
        log.info("%s: %.2f s", name, took)
        if self._bar is not None:
            self._bar.update(1)

    def close(self) -> None:
        """Close the progress bar, if any."""
        if self._bar is not None:
            self._bar.close()
