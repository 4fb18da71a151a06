"""Which OSM areas are water or large green: the context a map draws under the classes.

Water: ``natural=water``, ``waterway=riverbank``, ``landuse=reservoir`` or ``basin``, and
anything with a ``water=*`` tag. Green: ``leisure=park``, ``landuse=forest``, ``grass``,
``meadow``, ``recreation_ground`` or ``cemetery``, and ``natural=wood``. Water wins when an
area carries both (a pond mapped with its park's tags).
"""

from __future__ import annotations

#: kind -> key -> the values that make it (None: any value).
CONTEXT_TAGS: dict[str, dict[str, frozenset[str] | None]] = {
    "water": {
        "natural": frozenset({"water"}),
        "waterway": frozenset({"riverbank"}),
        "landuse": frozenset({"reservoir", "basin"}),
        "water": None,
    },
    "green": {
        "leisure": frozenset({"park"}),
        "landuse": frozenset({"forest", "grass", "meadow", "recreation_ground", "cemetery"}),
        "natural": frozenset({"wood"}),
    },
}
#: Every key that can make an area water or green (for the reader's tag-key filter).
CONTEXT_KEYS = tuple(sorted({k for rules in CONTEXT_TAGS.values() for k in rules}))
CONTEXT_KINDS = tuple(CONTEXT_TAGS)


def context_kind(tags) -> str | None:
    """``"water"``, ``"green"`` or None for an area's tags (anything with ``.get(key)``)."""
    for kind, rules in CONTEXT_TAGS.items():
        for key, values in rules.items():
            value = tags.get(key)
            if value is not None and (values is None or value in values):
                return kind
    return None
