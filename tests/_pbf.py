"""Writing small OpenStreetMap PBF files for tests, with pyosmium."""

import osmium
from osmium.osm.mutable import Node, Relation, Way
from pyproj import Transformer

_META = {
    "version": 1,
    "timestamp": "2024-01-01T00:00:00Z",
    "changeset": 1,
    "uid": 1,
    "user": "test",
}
# Metres east/north of a point in Delft, to lon/lat.
_TO_LL = Transformer.from_crs(28992, 4326, always_xy=True)
ORIGIN = (85000.0, 445000.0)


def lonlat(x, y):
    return _TO_LL.transform(ORIGIN[0] + x, ORIGIN[1] + y)


class PBF:
    """Collects nodes (by metres from ORIGIN) and ways, then writes a .osm.pbf."""

    def __init__(self, origin=ORIGIN):
        self.origin = origin
        self.nodes, self.ways, self.relations = [], [], []
        self._next = 1

    def node(self, x, y, **tags):
        nid = self._next
        self._next += 1
        loc = _TO_LL.transform(self.origin[0] + x, self.origin[1] + y)
        self.nodes.append(Node(id=nid, location=loc, tags=tags, **_META))
        return nid

    def way(self, coords, **tags):
        ids = [self.node(x, y) for x, y in coords]
        if coords[0] == coords[-1]:
            ids[-1] = ids[0]
        wid = 1000 + len(self.ways)
        self.ways.append(Way(id=wid, nodes=ids, tags=tags, **_META))
        return wid

    def way_through(self, node_ids, **tags):
        wid = 1000 + len(self.ways)
        self.ways.append(Way(id=wid, nodes=node_ids, tags=tags, **_META))
        return wid

    def multipolygon(self, outers, inners=(), **tags):
        """A multipolygon relation of closed, untagged ways (rings of metre coordinates)."""
        members = [("w", self.way(r), "outer") for r in outers]
        members += [("w", self.way(r), "inner") for r in inners]
        rid = 5000 + len(self.relations)
        tags = {"type": "multipolygon", **tags}
        self.relations.append(Relation(id=rid, members=members, tags=tags, **_META))
        return rid

    def write(self, path):
        with osmium.SimpleWriter(str(path)) as w:
            for n in self.nodes:
                w.add_node(n)
            for way in self.ways:
                w.add_way(way)
            for rel in self.relations:
                w.add_relation(rel)
        return path
