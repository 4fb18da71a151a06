"""The exceptions thuisdichtbij raises on bad input.

Every message names what was wrong (the file, the argument, the value) and how to fix it.
Catch :class:`ThuisdichtbijError` to handle all of them.
"""

from __future__ import annotations

__all__ = [
    "ThuisdichtbijError",
    "ConfigError",
    "InputError",
    "InputFileNotFoundError",
    "CRSError",
    "OutputError",
]


class ThuisdichtbijError(Exception):
    """Base class of all errors raised by thuisdichtbij on bad input."""


class ConfigError(ThuisdichtbijError, ValueError):
    """A weights, indicator or study file is invalid."""


class InputError(ThuisdichtbijError, ValueError):
    """An input data set is unusable: wrong format, empty, missing a column."""


class InputFileNotFoundError(ThuisdichtbijError, FileNotFoundError):
    """An input file does not exist."""


class CRSError(InputError):
    """An input has no coordinate reference system, or one that cannot be used."""


class OutputError(ThuisdichtbijError, ValueError):
    """An output cannot be written where asked, or writing it would lose the user's data."""
