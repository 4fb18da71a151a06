"""Small helpers for messages."""

from __future__ import annotations

from collections.abc import Iterable

from .errors import ConfigError


def short_list(values: Iterable, n: int = 10, *, lang: str = "en") -> str:
    """``"a, b, c and 12 more"`` (Dutch: ``"... en 12 meer"``): the first ``n``, sorted."""
    values = sorted(str(v) for v in values)
    words = ("en", "meer") if lang == "nl" else ("and", "more")
    more = f" {words[0]} {len(values) - n} {words[1]}" if len(values) > n else ""
    return ", ".join(values[:n]) + more


def label(value) -> str:
    """A name from a data field: ``6211.0`` (a number read as float) becomes ``"6211"``."""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if hasattr(value, "item"):  # numpy scalars
        return label(value.item())
    return str(value)


def decimal(value, spec: str, lang: str) -> str:
    """``value`` formatted by ``spec`` (``".1f"``, ``".1%"``, ``"g"``); a decimal comma in Dutch.

    Only for specs without a thousands separator: Dutch writes 10.000 for ten thousand.
    """
    text = format(value, spec)
    return text.replace(".", ",") if lang == "nl" else text


#: The languages every text a person reads comes in: Dutch (the default) and English.
LANGS = ("nl", "en")


def words(catalogue: dict[str, dict[str, str]], lang: str, *, what: str = "lang") -> dict:
    """The messages of ``catalogue`` (``{"nl": {id: text}, "en": {id: text}}``) in ``lang``.

    The one way thuisdichtbij keeps its Dutch and English texts: each module that writes
    for people holds such a catalogue and looks its language up here.
    """
    if lang not in catalogue:
        raise ConfigError(f"{what}: language {lang!r} is not available; use 'nl' or 'en'")
    return catalogue[lang]
