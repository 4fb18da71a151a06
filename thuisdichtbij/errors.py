"""The exceptions thuisdichtbij raises on bad input.

Every message names what was wrong (the file, the argument, the value) and how to fix it.
Catch :class:`ThuisdichtbijError` to handle all of them.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable

__all__ = [
    "ThuisdichtbijError",
    "ConfigError",
    "InputError",
    "InputFileNotFoundError",
    "CRSError",
    "OutputError",
]


class ThuisdichtbijError(Exception):
    """Base class of all errors raised by thuisdichtbij on bad input.

    The message is English; an error a person may meet on the Dutch planner page also
    carries its Dutch text (``nl=``), which :meth:`in_language` gives.
    """

    def __init__(self, *args, nl: str | None = None):
        super().__init__(*args)
        self.nl = nl

    def in_language(self, lang: str) -> str:
        """The message in ``lang`` (``"nl"`` or ``"en"``); English when it has no Dutch."""
        return self.nl if lang == "nl" and self.nl else str(self)


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


def reject_unknown_keys(
    keys: Iterable, allowed: Collection[str], *, where: str, prefix: str = ""
) -> None:
    """Raise :class:`ConfigError` naming the first key not in ``allowed``, and the allowed ones.

    ``where`` is the file (and section) read; ``prefix`` the section a key sits in
    (``"weights."``), so the message shows the key as the user would write it.
    """
    unknown = sorted(str(k) for k in keys if k not in allowed)
    if unknown:
        raise ConfigError(
            f"{where}: unknown key '{prefix}{unknown[0]}'; allowed keys are "
            f"{', '.join(sorted(allowed))}"
        )
