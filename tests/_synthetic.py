"""A small study written in the official formats, with distances that can be checked on paper.

Coordinates are RD New (EPSG:28992), relative to ORIGIN. Streets: a main street along the
x axis (0-1000 m, edges of 100 m), a side street up from x=500 (0-600 m), a footway from
(500, 600) to (800, 600), and a motorway 50 m south of the main street (not walkable).
"""

import json
from pathlib import Path

import geopandas as gpd
import pandas as pd
from pyproj import Transformer
from shapely import LineString, Point, box

ORIGIN = (176000.0, 318000.0)
RD = "EPSG:28992"
_TO_WGS84 = Transformer.from_crs(RD, 4326, always_xy=True)


def at(x, y):
    return ORIGIN[0] + x, ORIGIN[1] + y


def lonlat(x, y):
    return _TO_WGS84.transform(*at(x, y))


def write_network(folder: Path) -> Path:
    rows = [((x, 0), (x + 100, 0), "residential", "Hoofdstraat") for x in range(0, 1000, 100)]
    rows += [((500, y), (500, y + 100), "living_street", "Zijstraat") for y in range(0, 600, 100)]
    rows += [((500, 600), (800, 600), "footway", None)]
    rows += [((0, -50), (1000, -50), "motorway", "A2")]
    edges = gpd.GeoDataFrame(
        {
            "edge_id": [f"e{i}" for i in range(len(rows))],
            "highway": [r[2] for r in rows],
            "name": [r[3] for r in rows],
        },
        geometry=[LineString([at(*r[0]), at(*r[1])]) for r in rows],
        crs=RD,
    )
    path = folder / "streets.gpkg"
    edges.to_crs(4326).to_file(path, layer="edges")
    nodes = gpd.GeoDataFrame({"node_id": [1]}, geometry=[Point(lonlat(0, 0))], crs=4326)
    nodes.to_file(path, layer="nodes")
    return path


def write_dwellings(folder: Path) -> Path:
    pts = {
        "D1": ((100, 10), 10),
        "D2": ((500, 300), 3),
        "D3": ((900, 5), 4),
        "D4": ((100, -45), 2),  # 5 m from the motorway, 45 m from the main street
        "D5": ((2000, 2000), 1),  # far from every street
    }
    df = pd.DataFrame(
        {
            "id": list(pts),
            "x": [at(*p)[0] for p, _ in pts.values()],
            "y": [at(*p)[1] for p, _ in pts.values()],
            "aantal": [w for _, w in pts.values()],
        }
    )
    path = folder / "woningen.csv"
    df.to_csv(path, index=False)
    return path


def write_overpass_geojson(folder: Path) -> Path:
    def feat(osm_id, tags, geom):
        return {
            "type": "Feature",
            "properties": {"@id": osm_id, **tags},
            "geometry": geom,
            "id": osm_id,
        }

    square = box(*at(90, 15), *at(110, 25))
    square_ll = [list(lonlat(x - ORIGIN[0], y - ORIGIN[1])) for x, y in square.exterior.coords]
    fc = {
        "type": "FeatureCollection",
        "generator": "overpass-ide",
        "features": [
            feat(
                "node/1",
                {"amenity": "pharmacy", "name": "Apotheek Hoofdstraat"},
                {"type": "Point", "coordinates": list(lonlat(350, 0))},
            ),
            feat(
                "node/2",
                {"healthcare": "doctor", "name": "Huisarts Zijstraat"},
                {"type": "Point", "coordinates": list(lonlat(500, 250))},
            ),
            feat(
                "way/3",
                {"shop": "supermarket", "building": "retail", "name": "Buurtsuper"},
                {"type": "Polygon", "coordinates": [square_ll]},
            ),
            feat(
                "node/4",
                {"amenity": "bench"},
                {"type": "Point", "coordinates": list(lonlat(120, 0))},
            ),
        ],
    }
    path = folder / "osm-poi.geojson"
    path.write_text(json.dumps(fc))
    return path


def write_locatus_table(folder: Path) -> Path:
    df = pd.DataFrame(
        {
            "naam": ["Kapsalon Knip", "Drogisterij Hoek", "Bakker Brood"],
            "branche": ["Kapper", "drogisterij", "Bakker"],
            "X": [at(950, 0)[0], at(600, 0)[0], at(700, 0)[0]],
            "Y": [at(950, 0)[1], at(600, 0)[1], at(700, 0)[1]],
        }
    )
    path = folder / "locatus.csv"
    df.to_csv(path, index=False, sep=";")
    return path


def write_gtfs_stops(folder: Path) -> Path:
    stop_lon, stop_lat = lonlat(500, 600)
    st_lon, st_lat = lonlat(100, 0)
    df = pd.DataFrame(
        {
            "stop_id": ["s1", "station1"],
            "stop_name": ["Zijstraat eind", "Station"],
            "stop_lat": [stop_lat, st_lat],
            "stop_lon": [stop_lon, st_lon],
            "location_type": [0, 1],
            "parent_station": ["station1", ""],
        }
    )
    path = folder / "stops.txt"
    df.to_csv(path, index=False)
    return path


def write_areas(folder: Path) -> Path:
    areas = gpd.GeoDataFrame(
        {"postcode": [6211.0, 6212.0], "inwoners": [100.0, 50.0]},
        geometry=[box(*at(-100, -100), *at(450, 700)), box(*at(450, -100), *at(1100, 700))],
        crs=RD,
    )
    path = folder / "pc4.gpkg"
    areas.to_file(path, layer="geo_postcodes4")
    return path


def write_leefbaarometer(folder: Path) -> Path:
    text = "\n".join(
        [
            "PC4,jaar,lbm,afw,fys,onv,soc,vrz,won",
            "6211,2002,4.1,-0.04,NA,NA,NA,NA,NA",
            "6211,2014,4.1,-0.02,0.01,-0.02,0.0,0.1,0.0",
            "6211,2022,4.2,0.05,0.01,0.07,0.0,0.1,0.0",
            "6212,2014,4.1,0.0,0.01,0.03,0.0,0.1,0.0",
            "6212,2022,4.1,0.0,0.01,0.01,0.0,0.1,0.0",
        ]
    )
    path = folder / "leefbaarometer.csv"
    path.write_text(text + "\n")
    return path


def write_study(folder: Path, **extra) -> Path:
    """Write every input and a study file naming them; returns the study file."""
    write_network(folder)
    write_dwellings(folder)
    write_overpass_geojson(folder)
    write_locatus_table(folder)
    write_gtfs_stops(folder)
    write_areas(folder)
    write_leefbaarometer(folder)
    study = {
        "name": "Proefwijk",
        "crs": RD,
        "network": {"file": "streets.gpkg", "layer": "edges"},
        "dwellings": {
            "file": "woningen.csv",
            "x": "x",
            "y": "y",
            "crs": RD,
            "id": "id",
            "weight": "aantal",
        },
        "amenities": [
            {"file": "osm-poi.geojson"},
            {
                "file": "locatus.csv",
                "format": "table",
                "category": "branche",
                "name": "naam",
                "x": "X",
                "y": "Y",
                "crs": RD,
            },
            {"file": "stops.txt"},
        ],
        "areas": {"file": "pc4.gpkg", "id_field": "postcode"},
        "leefbaarometer": {"file": "leefbaarometer.csv"},
        **extra,
    }
    path = folder / "study.yaml"
    import yaml

    path.write_text(yaml.safe_dump(study, sort_keys=False))
    return path


def scan_with_zones(folder: Path) -> Path:
    """The small study scanned so that every cell may form a zone (3 zones), zones added."""
    from thuisdichtbij import load_config, scan
    from thuisdichtbij.analyses.zones import make_zones

    study = write_study(folder)
    cfg = load_config(
        overrides={
            "aggregation": {"min_dwellings": 1},
            "zones": {"min_class": 1, "min_cells": 1, "min_dwellings": 1, "smoothing_cells": 0},
        }
    )
    out = scan(study, data_dir=folder, config=cfg).to_gpkg(folder / "scan.gpkg")
    make_zones(out).to_gpkg(out)
    return out
