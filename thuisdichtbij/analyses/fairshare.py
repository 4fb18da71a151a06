"""The fair-share check: areas already vulnerable, to be spared more housing for vulnerable groups.

An area is vulnerable when BOTH its CBS SES-WOA score AND its Leefbaarometer score are below
the reference (Parkstad's regional vision). Needs no walking network.
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass, field
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd

from .._text import decimal, short_list
from ..config import Config, FairshareConfig, load_config
from ..crs import RD_NEW, to_metric
from ..engine.aggregate import select_areas
from ..errors import ConfigError, InputError
from ..provenance import describe_file, package_version, utc_now
from ..sources._io import read_vector, require_columns
from ..sources.areas import area_ids, read_areas
from ..sources.leefbaarometer import read_leefbaarometer
from ..sources.ses_woa import read_ses_woa
from ..study import Study, load_study

log = logging.getLogger(__name__)

__all__ = ["FairshareResult", "fairshare", "mark_vulnerable", "REASONS"]

#: Reasons in words, per language (the scores written with :func:`decimal`, as ``+.3f``).
REASONS = {
    "nl": {
        "both": "kwetsbaar: SES-WOA ({ses}) en Leefbaarometer ({lbm}) beide onder de "
        "referentie ({ses_ref} / {lbm_ref})",
        "ses_only": "niet kwetsbaar: alleen SES-WOA ({ses}) onder de referentie ({ses_ref})",
        "lbm_only": "niet kwetsbaar: alleen Leefbaarometer ({lbm}) onder de referentie ({lbm_ref})",
        "neither": "niet kwetsbaar: SES-WOA en Leefbaarometer op of boven de referentie",
        "no_ses": "onbekend: geen SES-WOA-score",
        "no_lbm": "onbekend: geen Leefbaarometer-score",
        "no_ses_lbm_ok": "niet kwetsbaar: Leefbaarometer ({lbm}) op of boven de referentie "
        "({lbm_ref}); geen SES-WOA-score nodig",
        "no_lbm_ses_ok": "niet kwetsbaar: SES-WOA ({ses}) op of boven de referentie "
        "({ses_ref}); geen Leefbaarometer-score nodig",
    },
    "en": {
        "both": "vulnerable: SES-WOA ({ses}) and Leefbaarometer ({lbm}) both below the "
        "reference ({ses_ref} / {lbm_ref})",
        "ses_only": "not vulnerable: only SES-WOA ({ses}) below the reference ({ses_ref})",
        "lbm_only": "not vulnerable: only Leefbaarometer ({lbm}) below the reference ({lbm_ref})",
        "neither": "not vulnerable: SES-WOA and Leefbaarometer at or above the reference",
        "no_ses": "unknown: no SES-WOA score",
        "no_lbm": "unknown: no Leefbaarometer score",
        "no_ses_lbm_ok": "not vulnerable: Leefbaarometer ({lbm}) at or above the reference "
        "({lbm_ref}); no SES-WOA score needed",
        "no_lbm_ses_ok": "not vulnerable: SES-WOA ({ses}) at or above the reference "
        "({ses_ref}); no Leefbaarometer score needed",
    },
}


@dataclass
class FairshareResult:
    """The ``fairshare`` layer, the per-municipality ``summary`` and the run's metadata.

    ``lang`` is the language of the reasons, and of the legend of the layer's QGIS style.
    """

    areas: gpd.GeoDataFrame
    summary: pd.DataFrame
    metadata: dict[str, str] = field(default_factory=dict)
    municipalities: gpd.GeoDataFrame | None = None
    lang: str = "nl"

    def to_gpkg(self, path: str | os.PathLike) -> Path:
        """Write to a new GeoPackage, or add the layers to an existing one (a scan).

        The ``fairshare`` layer's QGIS style goes into the file's ``layer_styles`` table
        (in an existing file, beside the styles of its other layers).
        """
        from ..outputs.export import add_layers, write_layers
        from ..outputs.styles import layer_styles

        layers = {
            "fairshare": self.areas,
            "fairshare_summary": self.summary,
            "layer_styles": layer_styles(["fairshare"], lang=self.lang),
        }
        if Path(path).exists():
            meta = {f"fairshare.{k}": v for k, v in self.metadata.items()}
            return add_layers(path, layers, metadata=meta)
        return write_layers(path, layers, metadata=self.metadata)


def mark_vulnerable(
    ses: pd.Series,
    lbm: pd.Series,
    households: pd.Series,
    cfg: FairshareConfig,
    *,
    lang: str = "nl",
) -> tuple[pd.Series, pd.Series, float, float]:
    """Flag areas whose SES-WOA AND Leefbaarometer scores are both below the reference.

    Returns the flags, the reasons in words, and the two reference values: 0 and 0 for
    ``national``; for ``region`` the household-weighted means over the areas that have the
    score. A flag is ``<NA>`` only where a missing score decides it: one known score at or
    above its reference settles "not vulnerable" whatever the other is.
    """
    if cfg.reference == "national":
        ses_ref = lbm_ref = 0.0
    else:
        ses_ref = _weighted_mean(ses, households)
        lbm_ref = _weighted_mean(lbm, households)
    # below the reference: True, False, or <NA> without a score; and-ed as three-valued
    # logic, so a known False settles it (pandas' boolean arrays follow Kleene's rules)
    ses_low = pd.array(ses < ses_ref, dtype="boolean")
    lbm_low = pd.array(lbm < lbm_ref, dtype="boolean")
    ses_low[ses.isna().to_numpy()] = pd.NA
    lbm_low[lbm.isna().to_numpy()] = pd.NA
    flag = pd.Series(ses_low & lbm_low, index=ses.index)
    words = REASONS[lang]
    reasons = []
    for s, b, sl, bl in zip(ses, lbm, ses_low, lbm_low, strict=True):
        key = (
            ("no_ses_lbm_ok" if bl is not pd.NA and not bl else "no_ses")
            if np.isnan(s)
            else ("no_lbm_ses_ok" if sl is not pd.NA and not sl else "no_lbm")
            if np.isnan(b)
            else "both"
            if sl and bl
            else "ses_only"
            if sl
            else "lbm_only"
            if bl
            else "neither"
        )
        scores = {"ses": s, "lbm": b, "ses_ref": ses_ref, "lbm_ref": lbm_ref}
        reasons.append(
            words[key].format(**{k: decimal(v, "+.3f", lang) for k, v in scores.items()})
        )
    return flag, pd.Series(reasons, index=ses.index, dtype="string"), ses_ref, lbm_ref


def _weighted_mean(values: pd.Series, weights: pd.Series) -> float:
    ok = values.notna() & weights.notna() & (weights > 0)
    if not ok.any():
        return float("nan")
    return float(np.average(values[ok], weights=weights[ok]))


def fairshare(
    study: Study | str | os.PathLike,
    *,
    config: Config | None = None,
    data_dir: str | os.PathLike | None = None,
    lang: str = "nl",
    level: str | None = None,
) -> FairshareResult:
    """Run the fair-share check for a study's ``fairshare`` section.

    ``level`` picks one of the section's named ``levels`` (``buurt`` in a fetched study);
    without it, the section itself, or its only level.

    The areas are the study's ``fairshare.areas`` (else its ``areas``), selected by the
    municipality polygons in ``fairshare.municipalities`` (else the study area): every
    area with at least half its surface in them, labelled with the municipality it
    overlaps most. Postcodes missing from a table are reported, never dropped silently.
    """
    st = study if isinstance(study, Study) else load_study(study, data_dir=data_dir)
    cfg = config or load_config(st.weights)
    specs = _specs(st, level)
    munis = _municipalities(specs["municipalities"], RD_NEW)
    areas = _areas_in(specs["areas"], munis, RD_NEW)
    f = cfg.fairshare
    ses = read_ses_woa(specs["ses_woa"]["file"], id_column=specs["ses_woa"].get("id_column", "pc4"))
    lbm = read_leefbaarometer(
        specs["leefbaarometer"]["file"],
        dimension=f.lbm_measure,
        year=f.lbm_year,
        base_year=f.lbm_year,
        id_column=specs["leefbaarometer"].get("id_column"),
    )["level"]
    gaps = _gaps(set(areas["area_id"]), ses, lbm)
    lbm_col = f"lbm_{f.lbm_measure}"
    out = areas[["area_id", "municipality", "geometry"]].copy()
    out["ses_woa"] = out["area_id"].map(ses["ses_woa_total"]).astype(float)
    out[lbm_col] = out["area_id"].map(lbm).astype(float)
    out["households"] = out["area_id"].map(ses["n_households"]).astype(float)
    out["vulnerable"], out["reason"], ses_ref, lbm_ref = mark_vulnerable(
        out["ses_woa"], out[lbm_col], out["households"], f, lang=lang
    )
    cols = ["area_id", "municipality", "ses_woa", lbm_col, "households", "vulnerable", "reason"]
    out = gpd.GeoDataFrame(out[[*cols, "geometry"]], geometry="geometry", crs=RD_NEW).sort_values(
        "area_id", ignore_index=True
    )
    meta = _metadata(st, f, specs, out, gaps, (ses_ref, lbm_ref))
    return FairshareResult(out, _summary(out), meta, munis, lang=lang)


def _specs(st: Study, level: str | None) -> dict[str, dict]:
    """The inputs of the fair-share check, from its section or the top of the study file."""
    fs = _level(st, level)
    specs = {
        "areas": fs.get("areas") or st.areas,
        "municipalities": fs.get("municipalities") or st.study_area,
        "leefbaarometer": fs.get("leefbaarometer") or st.leefbaarometer,
        "ses_woa": fs["ses_woa"],
    }
    for name, spec in specs.items():
        if not spec:
            raise ConfigError(
                f"study {st.name}: the fair-share check needs '{name}' (in 'fairshare' or at the "
                "top of the study file)"
            )
    return specs


def _municipalities(spec: dict, crs) -> gpd.GeoDataFrame:
    """The study's municipalities, one polygon each, column ``municipality``."""
    munis = read_vector(spec["file"], what="municipalities", layer=spec.get("layer"))
    require_columns(munis, [spec["id_field"]], what="municipalities", path=spec["file"])
    munis = to_metric(munis, crs)
    munis["municipality"] = area_ids(munis[spec["id_field"]])
    munis = munis[munis["municipality"].isin(spec["ids"])]
    missing = sorted(set(spec["ids"]) - set(munis["municipality"]))
    if missing:
        raise InputError(
            f"municipalities: {Path(spec['file']).name} has no {spec['id_field']} "
            f"{', '.join(missing)}; check the spelling in the study file"
        )
    return munis.dissolve("municipality").reset_index()[["municipality", "geometry"]]


def _areas_in(spec: dict, munis: gpd.GeoDataFrame, crs) -> gpd.GeoDataFrame:
    """Areas with half their surface or more in the municipalities, labelled by the largest."""
    all_areas = to_metric(
        read_areas(spec["file"], id_field=spec["id_field"], layer=spec.get("layer")), crs
    )
    areas = select_areas(all_areas, study_area=munis, dwellings=None)
    overlap = gpd.overlay(
        areas[["area_id", "geometry"]], munis, how="intersection", keep_geom_type=True
    )
    overlap["share"] = overlap.area
    best = overlap.sort_values(["area_id", "share"], ascending=[True, False]).drop_duplicates(
        "area_id"
    )
    areas["municipality"] = areas["area_id"].map(best.set_index("area_id")["municipality"])
    return areas


def _gaps(ids: set, ses: pd.DataFrame, lbm: pd.Series) -> dict[str, set]:
    """Areas missing from either table (reported), and SES-WOA rows outside the study."""
    gaps = {
        "SES-WOA": ids - set(ses.index),
        "Leefbaarometer": ids - set(lbm.index),
        "ses_outside": {i for i in ses.index if i not in ids},
    }
    for what in ("SES-WOA", "Leefbaarometer"):
        if gaps[what]:
            log.warning(
                "fairshare: %d area(s) have no row in the %s table: %s",
                len(gaps[what]),
                what,
                short_list(gaps[what]),
            )
    return gaps


def _metadata(st, f, specs, out, gaps, refs) -> dict[str, str]:
    """The run's facts: reference values, years (and whether they differ), gaps, inputs."""
    ses_ref, lbm_ref = refs
    lbm_col = f"lbm_{f.lbm_measure}"
    years = {"SES-WOA": specs["ses_woa"].get("year"), "Leefbaarometer": f.lbm_year}
    if specs["areas"].get("year"):
        years["areas"] = specs["areas"]["year"]
    known = {k: int(v) for k, v in years.items() if v is not None}
    not_in_ses, not_in_lbm = gaps["SES-WOA"], gaps["Leefbaarometer"]
    meta = {
        "package_version": package_version(),
        "created_utc": utc_now(),
        "study": st.name,
        "reference": f.reference,
        "reference_ses_woa": f"{ses_ref:.4f}",
        f"reference_{lbm_col}": f"{lbm_ref:.4f}",
        "lbm_measure": f"{f.lbm_measure} {f.lbm_year}",
        "years": ", ".join(f"{k} {v}" for k, v in known.items()),
        "year_mismatch": (
            "yes: " + ", ".join(f"{k} {v}" for k, v in known.items())
            if len(set(known.values())) > 1
            else "no"
        ),
        "areas": str(len(out)),
        "areas_vulnerable": str(int(out["vulnerable"].sum())),
        "areas_unknown": str(int(out["vulnerable"].isna().sum())),
        "areas_not_in_ses_woa": f"{len(not_in_ses)}: {short_list(not_in_ses)}"
        if not_in_ses
        else "0",
        "areas_not_in_leefbaarometer": (
            f"{len(not_in_lbm)}: {short_list(not_in_lbm)}" if not_in_lbm else "0"
        ),
        "ses_woa_rows_outside_study": str(len(gaps["ses_outside"])),
    }
    keys = ("areas", "municipalities", "leefbaarometer", "ses_woa")
    for i, key in enumerate(keys):
        d = describe_file(Path(specs[key]["file"]))
        meta[f"input_{i + 1}"] = f"{d['name']} ({d['bytes']} bytes) sha256:{d['sha256']}"
    return meta


def _level(st: Study, level: str | None):
    """The study's fair-share section, or its level ``level``."""
    fs = st.fairshare
    if not fs:
        raise ConfigError(
            f"study {st.name} has no 'fairshare' section; add one with at least ses_woa "
            "(see config/studies/parkstad.yaml), or fetch with --with-fairshare"
        )
    levels = fs.get("levels") or {}
    if level is None and "ses_woa" not in fs and len(levels) == 1:
        level = next(iter(levels))
    if level is None:
        if "ses_woa" not in fs:
            raise ConfigError(
                f"study {st.name}: choose a fair-share level with --level: {', '.join(levels)}"
            )
        return fs
    if level not in levels:
        raise ConfigError(
            f"study {st.name} has no fair-share level {level!r}; its levels are "
            f"{', '.join(levels) or 'none'}"
        )
    return levels[level]


def _summary(out: gpd.GeoDataFrame) -> pd.DataFrame:
    """Areas and households marked, per municipality, with a total row."""
    g = out.assign(
        v=out["vulnerable"].fillna(False).astype(bool),
        u=out["vulnerable"].isna(),
        hh=out["households"].fillna(0),
    )
    g["hh_v"] = g["hh"].where(g["v"], 0)
    rows = g.groupby("municipality").agg(
        areas=("area_id", "size"),
        areas_vulnerable=("v", "sum"),
        areas_unknown=("u", "sum"),
        households=("hh", "sum"),
        households_vulnerable=("hh_v", "sum"),
    )
    rows.loc["Totaal"] = rows.sum()
    rows = rows.reset_index()
    for c in rows.columns.drop("municipality"):
        rows[c] = rows[c].astype("int64")
    return rows
