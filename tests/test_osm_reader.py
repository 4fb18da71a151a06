"""The one-pass OSM reader on the real Delft and Amsterdam extracts, against expectations
built independently with plain pyosmium loops (no reader code): which objects are
dwellings and amenities, and how long the highway ways are."""

import math

import numpy as np
import osmium
import pytest

from thuisdichtbij import load_config
from thuisdichtbij.crs import RD_NEW
from thuisdichtbij.sources.amenities import read_amenities
from thuisdichtbij.sources.osm import read_osm
from thuisdichtbij.sources.tags import needed_keys, rule_starts

EXTRACTS = ["delft-tudelft.osm.pbf", "amsterdam-centrum.osm.pbf"]
EARTH_RADIUS_M = 6_371_008.8


def _haversine_m(lon1, lat1, lon2, lat2):
    p1, p2 = np.radians(lat1), np.radians(lat2)
    dp, dl = p2 - p1, np.radians(lon2) - np.radians(lon1)
    a = np.sin(dp / 2) ** 2 + np.cos(p1) * np.cos(p2) * np.sin(dl / 2) ** 2
    return 2 * EARTH_RADIUS_M * np.arcsin(np.sqrt(a))


def _rule_hits(tags, rule):
    return all(k in tags and (vals is None or tags[k] in vals) for k, vals in rule)


def _expected(path, indicators):
    """Everything the reader should find, by walking the file object by object."""
    locs, addr, highway_m, highway_segments = {}, set(), {}, {}
    amen = {ind.id: set() for ind in indicators}
    for rel in osmium.FileProcessor(str(path), osmium.osm.RELATION):
        tags = dict(rel.tags)
        if tags.get("type") == "multipolygon":
            for ind in indicators:
                if any(_rule_hits(tags, r) for r in ind.osm_rules):
                    amen[ind.id].add(f"relation/{rel.id}")
    for obj in osmium.FileProcessor(str(path), osmium.osm.NODE | osmium.osm.WAY):
        tags = dict(obj.tags)
        if obj.is_node():
            locs[obj.id] = (obj.location.lon, obj.location.lat)
            kind = "node"
        else:
            kind = "way"
            xy = [locs[n.ref] for n in obj.nodes if n.ref in locs]
            if "highway" in tags and len(xy) >= 2:
                xy = np.array(xy)
                highway_m[obj.id] = float(
                    _haversine_m(xy[:-1, 0], xy[:-1, 1], xy[1:, 0], xy[1:, 1]).sum()
                )
                highway_segments[obj.id] = len(xy) - 1
        if "addr:housenumber" in tags:
            addr.add(f"{kind}/{obj.id}")
        for ind in indicators:
            if any(_rule_hits(tags, r) for r in ind.osm_rules):
                amen[ind.id].add(f"{kind}/{obj.id}")
    return addr, amen, highway_m, highway_segments


@pytest.fixture(scope="module", params=EXTRACTS)
def extract(request, data_dir):
    path = data_dir / "osm" / request.param
    cfg = load_config()
    ext = read_osm(
        path,
        feature_keys=needed_keys(cfg.indicators),
        feature_prefilter=rule_starts(cfg.indicators),
    )
    return path, cfg, ext, _expected(path, cfg.indicators)


def test_dwellings_are_every_addressed_node_and_way(extract):
    _, _, ext, (addr, _, _, _) = extract
    assert ext.dwellings_how == "OSM address points (addr:housenumber)"
    assert len(ext.dwellings) == len(addr)
    assert set(ext.dwellings["dwelling_id"]) == addr
    assert (ext.dwellings.geometry.geom_type == "Point").all()


def test_amenities_by_source_id(extract):
    path, cfg, ext, (_, amen, _, _) = extract
    got = read_amenities([{"file": path}], cfg, crs=RD_NEW, osm=ext)
    for ind in cfg.indicators:
        ids = set(got.loc[got["indicator"] == ind.id, "source_id"])
        assert ids == amen[ind.id], ind.id
    # the same amenities when the file is read on its own, without the prefilter
    alone = read_amenities([{"file": path}], cfg, crs=RD_NEW)
    assert sorted(zip(alone["indicator"], alone["source_id"])) == sorted(
        zip(got["indicator"], got["source_id"])
    )


def test_highway_ways_split_into_segments_of_the_same_length(extract):
    _, _, ext, (_, _, highway_m, highway_segments) = extract
    ways = ext.ways
    assert set(ways["id"]) == set(highway_m)
    counts = ways.groupby("id").size()
    assert all(counts[w] == n for w, n in highway_segments.items())
    xy = np.stack([np.asarray(g.coords) for g in ways.geometry])  # (n, 2, 2): two points each
    seg_m = _haversine_m(xy[:, 0, 0], xy[:, 0, 1], xy[:, 1, 0], xy[:, 1, 1])
    total = {}
    for w, m in zip(ways["id"].to_numpy(), seg_m):
        total[w] = total.get(w, 0.0) + m
    assert sum(total.values()) == pytest.approx(sum(highway_m.values()), rel=1e-9)
    assert all(math.isclose(total[w], m, rel_tol=1e-9, abs_tol=1e-6) for w, m in highway_m.items())


def test_rule_starts_keeps_the_first_key_of_every_rule():
    cfg = load_config()
    starts = rule_starts(cfg.indicators)
    assert starts["public_transport"] == {"platform"}  # platform AND bus=yes
    assert starts["highway"] == {"bus_stop"}
    assert {"pharmacy", "doctors", "community_centre"} <= starts["amenity"]
    assert "bus" not in starts and "social_facility" not in starts  # never a rule's first key
