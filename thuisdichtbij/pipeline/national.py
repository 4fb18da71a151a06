"""The national scan: a tile store, one Dask task per tile, one per municipality.

Stages: check the inputs (the store fits the configuration, the halo covers a walk), scan
the tiles (:mod:`~thuisdichtbij.pipeline.tile_scan`: each reads only its own tile and
writes its measured dwellings), then finish each municipality
(:mod:`~thuisdichtbij.pipeline.municipalities`: scores and classes relative to the
municipality, a GeoParquet partition and a GeoPackage), all in parallel. Every dwelling
gets the distances a single scan gives it: the halo holds every street and amenity a walk
from the tile can use (see :mod:`thuisdichtbij.engine.partition` for the argument) and
more, so that street fragments cut at the halo's edge are dropped as they are in the whole.
"""

from __future__ import annotations

import logging
import os
import shutil
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import geopandas as gpd
import pyogrio
import shapely
from pyproj import CRS

from .._progress import Stages
from ..config import Config, load_config
from ..engine.partition import Tiling, dask_client
from ..engine.score import safety_points
from ..errors import ConfigError, InputError, OutputError
from ..provenance import library_versions, package_version, utc_now
from ..sources._io import check_layer, require_columns, require_file
from ..sources.leefbaarometer import read_leefbaarometer
from ..sources.tags import needed_keys, rule_starts
from ..sources.tilestore import TileStore, open_store
from .tile_scan import TileInputs, TileSummary, scan_tile

log = logging.getLogger(__name__)

__all__ = ["NationalResult", "scan_national", "required_halo_m", "STAGES"]

STAGES = ["check inputs", "scan tiles", "municipalities"]


@dataclass
class NationalResult:
    """What a national scan wrote, and how it went."""

    out: Path
    tiles: list[TileSummary]
    municipalities: list[dict[str, object]]
    outside: int
    timings: dict[str, float] = field(default_factory=dict)

    @property
    def dwellings(self) -> int:
        """Dwellings measured (in a municipality or not)."""
        return sum(t.dwellings for t in self.tiles)


def required_halo_m(cfg: Config) -> float:
    """The halo a tile needs: a walk and its snap steps, plus a whole street fragment.

    A fragment shorter than ``min_component_m`` is dropped; one cut at the halo's edge
    reaches at least that far beyond anything a tile's walks and snaps can use, so it is
    kept in the tile exactly when it is kept in the whole.
    """
    return cfg.max_distance_m + cfg.band_tolerance_m + cfg.max_snap_m + cfg.min_component_m


def require_halo(halo_m: float, cfg: Config, *, what: str) -> None:
    """Refuse a halo below :func:`required_halo_m`.

    ``tiles`` asks before it reads the country, ``scan-national`` of a store converted with
    one: the same rule, the same words.
    """
    need = required_halo_m(cfg)
    if halo_m < need:
        raise ConfigError(
            f"{what}: a halo of {halo_m:g} m is less than the {need:g} m a walk needs (band "
            f"{cfg.max_distance_m:g} + tolerance + snap + fragment); convert with --halo-m "
            f"{need:g} or more"
        )


def scan_national(
    store: str | os.PathLike,
    *,
    out: str | os.PathLike,
    municipalities: str | os.PathLike,
    municipality_field: str = "gemeente",
    bag: str | os.PathLike | None = None,
    bag_layer: str = "verblijfsobject",
    leefbaarometer: str | os.PathLike | None = None,
    safety_areas: str | os.PathLike | None = None,
    safety_area_field: str = "postcode",
    areas: str | os.PathLike | None = None,
    area_field: str = "postcode",
    area_layer: str | None = None,
    config: Config | None = None,
    tiling: Tiling | None = None,
    overwrite: bool = False,
    progress: bool = False,
    lang: str = "nl",
) -> NationalResult:
    """Scan every tile of a store and write the results per municipality (see the module).

    Parameters
    ----------
    store
        A tile store (:func:`thuisdichtbij.sources.tilestore.convert_pbf`).
    out
        The results folder: ``tiles/`` (measured dwellings and amenities per tile),
        ``dwellings/municipality=<id>/part-0.parquet`` (scored and classed, one partitioned
        GeoParquet dataset) and ``gpkg/<id>.gpkg``.
    municipalities, municipality_field
        Municipality polygons and their id column; classes are relative to each.
    bag, bag_layer
        A BAG GeoPackage (EPSG:28992): its dwellings, read per tile through a bbox filter,
        instead of the store's OSM address points.
    leefbaarometer, safety_areas, safety_area_field
        The Leefbaarometer table (per PC4 by default) and the polygons it is given for
        (e.g. the CBS PC4 areas, id column ``postcode``): safety points per dwelling, as a
        scan with ``leefbaarometer.areas`` gives them; without them safety is handled as
        ``safety.missing`` says.
    areas, area_field, area_layer
        Area polygons (e.g. the CBS PC4 areas, id column ``postcode``; the layer is needed
        when the file has several) for the
        dwelling-weighted means per area in each GeoPackage's ``areas`` layer, as a scan
        of the municipality with ``areas`` reports them: those with half their surface or
        more in it. Without them: squares of ``aggregation.fallback_cell_m``.
    config
        The scientific configuration (default: the shipped one); the store must have been
        converted for its indicators.
    tiling
        Where the tasks run (its ``workers`` or ``scheduler``; the tile size is the
        store's); without it, one after another in this process.
    lang
        The language of the GeoPackages' QGIS styles (legend labels), ``nl`` or ``en``.
    """
    cfg = config or load_config()
    stages = Stages(STAGES, progress=progress)
    target = Path(out)
    work = None
    try:
        with stages("check inputs"):
            points = _safety_points(cfg, leefbaarometer, safety_areas, safety_area_field)
            st = _check(
                store, out, municipalities, municipality_field, bag, bag_layer, cfg, overwrite
            )
            spec = _areas_spec(areas, area_field, area_layer)
        # Everything is written to a folder beside the target and moved in at the end, so a
        # failed or killed run leaves the earlier results whole and no half a country.
        work = _work_folder(target)
        inputs = TileInputs(
            store=str(st.path),
            config=cfg,
            municipalities=str(municipalities),
            municipality_field=municipality_field,
            out=str(work),
            bag=None if bag is None else str(bag),
            bag_layer=bag_layer,
            safety_points=points,
            safety_areas=None if safety_areas is None else str(safety_areas),
            safety_area_field=safety_area_field,
        )
        with _executor(tiling) as client:
            with stages("scan tiles"):
                tiles = _run(client, scan_tile, [(inputs, t) for t in st.tiles], progress)
            with stages("municipalities"):
                jobs = _jobs(tiles, st, municipalities, municipality_field)
                meta = _metadata(st, cfg, bag, leefbaarometer)
                args = [(j, cfg, str(work), st.crs, meta, spec, lang) for j in jobs]
                done = _run(client, _finish, args, progress)
        _move_in(work, target)
    finally:
        stages.close()
        if work is not None:
            shutil.rmtree(work, ignore_errors=True)
    for d in done:
        d.update({k: str(target / Path(d[k]).relative_to(work)) for k in ("parquet", "gpkg")})
    outside = sum(t.dwellings - sum(t.per_municipality.values()) for t in tiles)
    if outside:
        log.warning("%d dwelling(s) lie in no municipality and are in no output", outside)
    return NationalResult(target, tiles, done, outside, dict(stages.timings))


#: The folders a national run writes in its output folder.
OUTPUTS = ("tiles", "dwellings", "gpkg")


def _work_folder(target: Path) -> Path:
    """A fresh folder beside ``target`` (on the same disk), a stranded earlier one removed."""
    work = target.parent / f".{target.name}.part"
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    return work


def _move_in(work: Path, target: Path) -> None:
    """Replace the target's result folders by the new ones (other files there are kept)."""
    target.mkdir(parents=True, exist_ok=True)
    for sub in OUTPUTS:
        old, new = target / sub, work / sub
        trash = work / f"{sub}.old"
        if old.exists():
            os.replace(old, trash)
        if new.exists():
            os.replace(new, old)


def _finish(job, cfg, out, crs, meta, areas, lang):
    from .municipalities import finish_municipality

    return finish_municipality(
        job, config=cfg, out=out, crs=crs, metadata=meta, areas=areas, lang=lang
    )


@contextmanager
def _executor(tiling: Tiling | None):
    """A Dask client, or None: run the tasks here."""
    if tiling is None:
        yield None
        return
    with dask_client(tiling) as client:
        yield client


def _run(client, fn, arglist, progress: bool) -> list:
    """Run ``fn(*args)`` for every args (on Dask, or here); the results in the given order."""
    if client is None:
        if progress:
            from tqdm.auto import tqdm

            arglist = tqdm(arglist, unit="task", leave=False)
        return [fn(*args) for args in arglist]
    from dask.distributed import as_completed

    futures = [client.submit(fn, *args, pure=False) for args in arglist]
    if progress:
        from tqdm.auto import tqdm

        for _ in tqdm(as_completed(futures), total=len(futures), unit="task", leave=False):
            pass
    return client.gather(futures)


def _info(path, what: str, *, layer: str | None = None, how: str | None = None) -> dict:
    """A vector file's layer info (fields, crs); a one-line error when it cannot be read.

    With ``how`` (the option that names a layer) a file of several layers is refused
    unless one is named.
    """
    p = require_file(path, what)
    if how is not None:
        check_layer(p, layer, what=what, how=how)
    try:
        return pyogrio.read_info(path, layer=layer)
    except Exception as exc:  # pyogrio raises DataSourceError and friends from GDAL
        where = f"layer {layer!r} of {path}" if layer else str(path)
        raise InputError(
            f"{what}: cannot read {where} ({str(exc).splitlines()[0]}); give a GeoPackage"
            + (" with that layer" if layer else "")
        ) from exc


def _with_crs(path, what: str, *, layer: str | None = None, how: str | None = None) -> dict:
    """A polygon file's info; refused without a CRS (its tiles are found by coordinates)."""
    info = _info(path, what, layer=layer, how=how)
    if info["crs"] is None:
        raise InputError(
            f"{what}: {path} has no coordinate reference system; save it with one "
            "(CBS's and PDOK's files are in EPSG:28992)"
        )
    return info


def _check(store, out, municipalities, field_name, bag, bag_layer, cfg, overwrite) -> TileStore:
    """Refuse, in one line, a store that does not fit the configuration, or a used output."""
    st = open_store(store)
    keys, starts = needed_keys(cfg.indicators), rule_starts(cfg.indicators)
    pre = (
        None
        if starts is None
        else {k: None if v is None else tuple(sorted(v)) for k, v in starts.items()}
    )
    if set(keys) - set(st.feature_keys) or (pre is not None and pre != st.feature_prefilter):
        raise ConfigError(
            f"tile store: {st.path} was converted for other indicators than this configuration's; "
            "convert the extract again with the same --weights"
        )
    require_halo(st.halo_m, cfg, what=f"tile store {st.path}")
    fields = list(_with_crs(municipalities, "municipalities")["fields"])
    require_columns(
        gpd.GeoDataFrame(columns=fields), [field_name], what="municipalities", path=municipalities
    )
    if bag is not None:
        info = _info(bag, "BAG", layer=bag_layer)
        if info["crs"] is None or CRS(info["crs"]) != CRS(st.crs):
            raise InputError(
                f"BAG: layer {bag_layer!r} of {bag} is in {info['crs']}, the store in {st.crs}; "
                "the BAG GeoPackage from PDOK is in EPSG:28992"
            )
        require_columns(
            gpd.GeoDataFrame(columns=list(info["fields"])),
            ["identificatie", "gebruiksdoel", "status"],
            what="BAG",
            path=bag,
        )
    target = Path(out)
    if target.exists() and any(target.iterdir()) and not overwrite:
        raise OutputError(f"output: {target} is not empty; choose a new folder or pass --overwrite")
    return st


def _areas_spec(areas, field_name: str, layer: str | None) -> dict[str, str] | None:
    """The area polygons as a study's ``areas`` names them (None: squares), checked.

    Checked before the tiles are scanned: a wrong file found per municipality would come
    hours later, as a worker's traceback.
    """
    if areas is None:
        return None
    info = _with_crs(areas, "areas", layer=layer, how="--areas-layer")
    require_columns(
        gpd.GeoDataFrame(columns=list(info["fields"])), [field_name], what="areas", path=areas
    )
    kind = str(info.get("geometry_type") or "Unknown")
    if "Polygon" not in kind and not kind.startswith("Unknown"):
        raise InputError(f"areas: {areas} holds {kind} geometries; give the area polygons")
    return {"file": str(areas), "id_field": field_name, "layer": layer}


def _jobs(tiles: list[TileSummary], st: TileStore, municipalities, field_name) -> list:
    """A job per municipality that holds dwellings: its outline and the tiles it needs."""
    from .municipalities import MunicipalityJob

    tiles = [t for t in tiles if t.files is not None]
    ids = sorted({m for t in tiles for m in t.per_municipality})
    if not ids:
        return []
    polys = gpd.read_file(municipalities, columns=[field_name], engine="pyogrio")
    polys = polys.to_crs(st.crs)
    polys[field_name] = polys[field_name].astype("string")
    polys = polys[polys[field_name].isin(ids)].dissolve(by=field_name)
    reach = 1.0 + max(st.halo_m, 0.0)
    jobs = []
    for mid, geom in zip(polys.index, polys.geometry):
        x0, y0, x1, y1 = shapely.bounds(geom.buffer(reach))
        near = [t for t in tiles if _box_meets(st.box(t.tile, halo=False), (x0, y0, x1, y1))]
        jobs.append(
            MunicipalityJob(
                id=str(mid),
                outline_wkb=shapely.to_wkb(geom),
                dwelling_files=tuple(t.files[0] for t in tiles if mid in t.per_municipality),
                amenity_files=tuple(t.files[1] for t in near),
                network_m=tuple(
                    float(sum(t.network_m.get(str(mid), (0.0,) * 3)[k] for t in tiles))
                    for k in range(3)
                ),
                extent_wkb=_extent(near),
            )
        )
    return jobs


def _extent(tiles: list[TileSummary]) -> bytes | None:
    """The convex hull of the tiles' walking networks: where the data around them reaches."""
    hulls = [shapely.from_wkb(t.extent_wkb) for t in tiles if t.extent_wkb is not None]
    return shapely.to_wkb(shapely.union_all(hulls).convex_hull) if hulls else None


def _box_meets(a, b) -> bool:
    return a[0] <= b[2] and b[0] <= a[2] and a[1] <= b[3] and b[1] <= a[3]


def _safety_points(cfg: Config, table, areas, field_name) -> dict[str, float] | None:
    """Safety points per Leefbaarometer area, read once for all tiles (None without a table)."""
    if table is None:
        return None
    if areas is None:
        raise ConfigError(
            "leefbaarometer: the table is per area; give the polygons it is given for with "
            "--safety-areas (e.g. the CBS PC4 areas)"
        )
    fields = list(_with_crs(areas, "safety areas")["fields"])
    require_columns(gpd.GeoDataFrame(columns=fields), [field_name], what="safety areas", path=areas)
    s = cfg.safety
    levels = read_leefbaarometer(table, dimension=s.dimension, year=s.year, base_year=s.base_year)
    return {str(k): float(v) for k, v in safety_points(levels, s).items()}


def _metadata(st: TileStore, cfg: Config, bag, leefbaarometer) -> dict[str, str]:
    s = cfg.safety
    return {
        "package": "thuisdichtbij",
        "package_version": package_version(),
        "libraries": library_versions(),
        "started_utc": utc_now(),
        "config_hash": cfg.hash,
        "config": cfg.canonical_json,
        "run": "national (tiled)",
        "tile_store": f"{st.source}: tiles of {st.tile_m:g} m, halo {st.halo_m:g} m",
        "dwellings_source": f"BAG {Path(bag).name}" if bag else f"{st.source}: {st.dwellings_how}",
        "safety": (
            f"Leefbaarometer '{s.dimension}' {s.year}, development since {s.base_year}, "
            f"from {Path(leefbaarometer).name}"
            if leefbaarometer
            else f"no Leefbaarometer data; safety handled as '{s.missing}'"
        ),
        "crs": st.crs,
    }
