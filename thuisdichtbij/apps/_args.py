"""Argument types the command line shares: numbers that are finite, and output paths.

Each is an ``argparse`` ``type=``: argparse calls it while parsing, so a bad number or an
output path that cannot be written ends the run with exit code 2 and one line, before any
input is read. A new subcommand declares its outputs with these and gets the same checks.
"""

from __future__ import annotations

import argparse
import math
import os
from pathlib import Path

from ..errors import ThuisdichtbijError
from ..outputs.export import check_add_target, gpkg_layers
from ..outputs.paths import check_output

__all__ = [
    "finite",
    "positive",
    "share",
    "count",
    "new_file",
    "new_folder",
    "gpkg_to_update",
    "gpkg_new_or_update",
    "missing_extra",
]


def finite(text: str) -> float:
    """A finite number (``nan`` and ``inf`` are refused)."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
    if not math.isfinite(value):
        raise argparse.ArgumentTypeError(f"{text!r} is not a finite number")
    return value


def positive(text: str) -> float:
    """A finite number above 0 (a length, a limit)."""
    value = finite(text)
    if value <= 0:
        raise argparse.ArgumentTypeError(f"{text!r} must be more than 0")
    return value


def count(text: str) -> int:
    """A whole number of 1 or more (processes, workers)."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"{text!r} must be 1 or more")
    return value


def share(text: str) -> float:
    """A share between 0 and 1."""
    value = finite(text)
    if not 0 <= value <= 1:
        raise argparse.ArgumentTypeError(f"{text!r} must be between 0 and 1")
    return value


def _checked(check, text: str) -> Path:
    try:
        return check(text)
    except ThuisdichtbijError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def new_file(*suffixes: str):
    """An output file with one of ``suffixes`` in a folder that exists and may be written."""

    def parse(text: str) -> Path:
        return _checked(lambda t: check_output(t, what="output", suffixes=suffixes), text)

    parse.__name__ = "output file"
    return parse


def new_folder(text: str) -> Path:
    """An output folder: an existing one, or a new one, made with its parents.

    As ``mkdir -p`` would (``fetch --out studies/maastricht/`` in a fresh clone): the
    nearest folder that exists must take it.
    """

    def check(t: str) -> Path:
        given = Path(t)
        if given.exists() and not given.is_dir():
            raise ThuisdichtbijError(f"output: {given} is a file; give a folder")
        # a file, or a link to nothing, anywhere on the way (the folder itself included)
        for step in [*reversed(given.parents), given]:
            if os.path.lexists(step) and not step.is_dir():
                raise ThuisdichtbijError(
                    f"output: {step} is not a folder (a file, or a link to nothing); "
                    "choose another path"
                )
        # '..' folded as the file system will, through links: no stray folder is made
        out = Path(os.path.realpath(given))
        if out.is_dir():
            check_output(out / "study.yaml", what="output")
            return out
        first = out  # the outermost folder still to make
        while not first.parent.exists() and first.parent != first:
            first = first.parent
        check_output(first, what="output")
        return out

    return _checked(check, text)


def gpkg_to_update(text: str) -> Path:
    """An existing GeoPackage (a scan) that layers are added to."""
    return _checked(lambda t: check_add_target(t, what="scan"), text)


def gpkg_new_or_update(text: str) -> Path:
    """A GeoPackage to write, or an existing one (a scan) to add layers to."""

    def check(t: str) -> Path:
        out = check_output(t, what="output", suffixes=(".gpkg",))
        if out.exists():
            gpkg_layers(out)
        return out

    return _checked(check, text)


#: The optional parts, by the top-level module that needs them (as in pyproject.toml).
_EXTRAS = {
    "folium": "maps",
    "matplotlib": "maps",
    "rasterio": "maps",
    "fastapi": "serve",
    "uvicorn": "serve",
    "dask": "dask",
    "distributed": "dask",
    "osmnx": "osmnx",
}


def missing_extra(exc: ModuleNotFoundError) -> str | None:
    """One line naming the extra to install for a missing optional module, else ``None``."""
    module = (exc.name or "").split(".")[0]
    extra = _EXTRAS.get(module)
    if extra is None:
        return None
    return (
        f"this needs {module}, part of the optional '{extra}' extra; install it with: "
        f"pip install 'thuisdichtbij[{extra}]'"
    )
