"""Which closed OSM ways are areas (polygons) rather than lines.

The OSM wiki's list of polygon features
(https://wiki.openstreetmap.org/wiki/Overpass_turbo/Polygon_Features), the rule OSMnx and
pyrosm use: a closed way is an area unless tagged ``area=no``, when one of its tags is a
polygon feature: every value of the key (``all``), only the listed values (``pass``), or
every value but the listed ones (``block``).
"""

from __future__ import annotations

from collections.abc import Iterable

_ALL, _PASS, _BLOCK = "all", "pass", "block"

POLYGON_FEATURES: dict[str, tuple[str, frozenset[str]]] = {
    "aeroway": (_BLOCK, frozenset({"taxiway"})),
    "amenity": (_ALL, frozenset()),
    "area": (_ALL, frozenset()),
    "area:highway": (_ALL, frozenset()),
    "barrier": (_PASS, frozenset({"city_wall", "ditch", "hedge", "retaining_wall", "spikes"})),
    "boundary": (_ALL, frozenset()),
    "building": (_ALL, frozenset()),
    "building:part": (_ALL, frozenset()),
    "craft": (_ALL, frozenset()),
    "golf": (_ALL, frozenset()),
    "highway": (_PASS, frozenset({"elevator", "escape", "rest_area", "services"})),
    "historic": (_ALL, frozenset()),
    "indoor": (_ALL, frozenset()),
    "landuse": (_ALL, frozenset()),
    "leisure": (_ALL, frozenset()),
    "man_made": (_BLOCK, frozenset({"cutline", "embankment", "pipeline"})),
    "military": (_ALL, frozenset()),
    "natural": (_BLOCK, frozenset({"arete", "cliff", "coastline", "ridge", "tree_row"})),
    "office": (_ALL, frozenset()),
    "place": (_ALL, frozenset()),
    "power": (_PASS, frozenset({"generator", "plant", "substation", "transformer"})),
    "public_transport": (_ALL, frozenset()),
    "railway": (_PASS, frozenset({"platform", "roundhouse", "station", "turntable"})),
    "ruins": (_ALL, frozenset()),
    "shop": (_ALL, frozenset()),
    "tourism": (_ALL, frozenset()),
    "waterway": (_PASS, frozenset({"boatyard", "dam", "dock", "riverbank"})),
}


def is_area(tags: Iterable[tuple[str, str]]) -> bool:
    """Whether a closed way with these ``(key, value)`` tags is an area."""
    found = False
    for key, value in tags:
        if key == "area" and value == "no":
            return False
        feature = POLYGON_FEATURES.get(key)
        if feature is None or found:
            continue
        rule, values = feature
        found = rule == _ALL or (rule == _PASS) == (value in values)
    return found
