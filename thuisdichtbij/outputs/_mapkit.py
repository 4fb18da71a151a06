"""What every map shares: class colours, Dutch and English labels, the scan layers, safe writes."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import pandas as pd

from ..errors import ConfigError

#: Classes 1-5, red (strongly below average) to green (strongly above).
CLASS_COLOURS = {1: "#d7191c", 2: "#fdae61", 3: "#ffffbf", 4: "#a6d96a", 5: "#1a9641"}

FAIRSHARE_STYLE = {
    True: {"fill": "#d6604d", "label": {"nl": "Kwetsbaar", "en": "Vulnerable"}},
    False: {"fill": "#f4f4f4", "label": {"nl": "Niet kwetsbaar", "en": "Not vulnerable"}},
    None: {
        "fill": "#bdbdbd",
        "label": {"nl": "Onbekend (score ontbreekt)", "en": "Unknown (score missing)"},
    },
}
_TEXT = {
    "nl": {
        "fs_title": "Fair share: gebieden die al kwetsbaar zijn",
        "area": "Postcodegebied",
        "municipality": "Gemeente",
        "ses": "SES-WOA",
        "lbm": "Leefbaarometer",
        "reason": "Oordeel",
        "sources": "Bronnen: CBS SES-WOA, Leefbaarometer 3.0 (BZK), CBS postcodegebieden en "
        "gemeentegrenzen",
        "made": "Gemaakt met thuisdichtbij op",
        "borders": "Gemeentegrens",
        "reference": "Referentie",
        "national": "landelijk gemiddelde",
        "scan_title": "Thuis en dichtbij-scan",
        "classes": "Klasse (relatief)",
        "zones": "Woonzorgzones",
        "grid": "Scoreraster (100 m)",
        "score": "Gemiddelde score",
        "dwellings": "Woningen",
        "suppressed": "Te weinig woningen (< 5)",
        "insufficient": "Onvoldoende gegevens",
        "note_head": "Let op, invoergegevens",
        "note_missing": "ontbreekt",
        "note_thin": "dun",
        "note_no_paths": "geen voetpaden: looproutes langer dan in werkelijkheid",
        "note_few_paths": "weinig voetpaden: looproutes te lang",
        "scan_sources": "Bronnen: OpenStreetMap-bijdragers (ODbL), CBS, Leefbaarometer 3.0 (BZK)",
        "points": "gemiddelde punten",
        "profile": "Voorzieningen",
        "region": "gemiddelde van de regio (gewogen naar huishoudens)",
        "insufficient": "Onvoldoende gegevens",
        "network": "Straten en paden (loopnetwerk)",
        "outline": "Grens van het scangebied",
        "water": "Water",
        "green": "Groen",
        "in_data": "in de gegevens",
        "scan_of": "Scan van",
        "sheet_title": "Waarom scoort een gebied zo? Gemiddelde punten per voorziening",
        "distance_pts": "punten per voorziening (0 = niets binnen bereik)",
        "safety_pts": "punten voor veiligheid (Leefbaarometer)",
        "safety": "Veiligheid",
        "areas_and_grid": "postcodegebieden en raster",
    },
    "en": {
        "fs_title": "Fair share: areas that are already vulnerable",
        "area": "Postcode area",
        "municipality": "Municipality",
        "ses": "SES-WOA",
        "lbm": "Leefbaarometer",
        "reason": "Finding",
        "sources": "Sources: CBS SES-WOA, Leefbaarometer 3.0 (BZK), CBS postcode areas and "
        "municipalities",
        "made": "Made with thuisdichtbij on",
        "borders": "Municipal border",
        "reference": "Reference",
        "national": "national average",
        "scan_title": "Thuis en dichtbij scan",
        "classes": "Class (relative)",
        "zones": "Housing-with-care zones",
        "grid": "Score grid (100 m)",
        "score": "Mean score",
        "dwellings": "Dwellings",
        "suppressed": "Too few dwellings (< 5)",
        "insufficient": "Insufficient data",
        "note_head": "Mind the input data",
        "note_missing": "missing",
        "note_thin": "thin",
        "note_no_paths": "no footpaths: walks longer than in reality",
        "note_few_paths": "few footpaths: walks come out too long",
        "scan_sources": "Sources: OpenStreetMap contributors (ODbL), CBS, Leefbaarometer 3.0 (BZK)",
        "points": "mean points",
        "profile": "Amenities",
        "region": "mean of the region (weighted by households)",
        "insufficient": "Insufficient data",
        "network": "Streets and paths (walking network)",
        "outline": "Edge of the scanned area",
        "water": "Water",
        "green": "Green space",
        "in_data": "in the data",
        "scan_of": "Scan of",
        "sheet_title": "Why does an area score as it does? Mean points per amenity",
        "distance_pts": "points per amenity (0 = nothing within reach)",
        "safety_pts": "points for safety (Leefbaarometer)",
        "safety": "Safety",
        "areas_and_grid": "postcode areas and grid",
    },
}


def text(lang: str) -> dict[str, str]:
    if lang not in _TEXT:
        raise ConfigError(f"maps: language {lang!r} is not available; use 'nl' or 'en'")
    return _TEXT[lang]


def atomic_write(path: Path, write) -> Path:
    """Call ``write(tmp_path)`` and move the result to ``path``."""
    fd, tmp = tempfile.mkstemp(prefix=f".{path.stem}-", suffix=path.suffix, dir=path.parent or ".")
    os.close(fd)
    try:
        write(Path(tmp))
        os.chmod(tmp, 0o666 & ~_umask())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def check_out(path: str | os.PathLike, suffixes: tuple[str, ...]) -> Path:
    p = Path(path)
    if p.suffix.lower() not in suffixes:
        raise ConfigError(f"maps: {p} must end in {' or '.join(suffixes)}")
    if not p.parent.exists():
        raise ConfigError(f"maps: the folder {p.parent} does not exist; create it first")
    return p


def flag_state(v) -> bool | None:
    """A nullable flag as True, False or None (unknown)."""
    return None if pd.isna(v) else bool(v)


SUPPRESSED = "#d9d9d9"
#: Areas and cells without a class because too few of their dwellings could be scored
#: (``data_status`` from the audit): grey with a hatch, never a class colour.
INSUFFICIENT = {"fill": "#eeeeee", "edge": "#8c8c8c", "hatch": "////"}
NETWORK_COLOUR = "#8c8c8c"
ZONE_COLOUR = "#00441b"


def area_states(frame) -> list:
    """Per row: its class 1-5, ``"suppressed"`` (too few dwellings) or ``"insufficient"``.

    A row without a class that is not suppressed has too little data to be classed (the
    audit's ``onvoldoende gegevens``), whatever the reason, so it is never drawn as class 1.
    """
    supp = frame["suppressed"] if "suppressed" in frame else pd.Series(False, frame.index)
    out = []
    for c, s in zip(frame["score_class"], supp, strict=True):
        if not pd.isna(c):
            out.append(int(c))
        else:
            out.append("suppressed" if flag_state(s) else "insufficient")
    return out


def state_label(state, lang: str) -> str:
    if isinstance(state, int):
        return class_labels(lang)[state]
    return text(lang)["suppressed" if state == "suppressed" else "insufficient"]


def legend_note(meta: dict, lang: str) -> str:
    """The note under a map's legend: which indicators' data is missing or thin.

    The hook for the scan's audit: a ``legend_note_nl`` / ``legend_note_en`` (or
    ``legend_note``) row in ``run_metadata``; empty when the scan has none. The map
    functions take ``note=`` to override it.
    """
    return str(meta.get(f"legend_note_{lang}") or meta.get("legend_note") or "")


#: A colour and a two-letter code per sub-indicator, for the amenity markers.
INDICATOR_STYLE = {
    "pharmacy": ("#1b9e77", "Ap"),
    "gp": ("#d95f02", "Hu"),
    "physio": ("#7570b3", "Fy"),
    "community": ("#e7298a", "Bc"),
    "supermarket": ("#66a61e", "Su"),
    "drugstore": ("#e6ab02", "Dr"),
    "hairdresser": ("#a6761d", "Ka"),
    "culture": ("#1f78b4", "Cu"),
    "bus_stop": ("#444444", "Bh"),
}


def class_labels(lang: str) -> dict[int, str]:
    from ..engine.score import CLASS_LABELS_EN, CLASS_LABELS_NL

    return CLASS_LABELS_NL if lang == "nl" else CLASS_LABELS_EN


def read_scan_for_maps(scan):
    from .scanfile import read_metadata, read_scan_layer, scan_layers

    names = scan_layers(scan)
    layers = {n: read_scan_layer(scan, n) for n in ("areas", "amenities") if n in names}
    # network: the scan's streets; water, green: context polygons when a scan carries them
    for n in ("zones", "grid", "network", "water", "green"):
        layers[n] = read_scan_layer(scan, n) if n in names else None
    return layers, read_metadata(scan)


def indicator_label(cfg, key: str, lang: str) -> str:
    if key not in cfg.indicator_ids:
        return key  # safety
    ind = cfg.indicator(key)
    return ind.label_nl if lang == "nl" else ind.label_en


def indicator_plural(cfg, key: str, lang: str) -> str:
    """The sub-indicator's plural with a capital, for layer names ("Apotheken")."""
    ind = cfg.indicator(key)
    name = (ind.plural_nl if lang == "nl" else ind.plural_en) or indicator_label(cfg, key, lang)
    return name[:1].upper() + name[1:]


def scan_date(meta: dict) -> str:
    """The day the scan ran (the one date a map shows), or today when unknown."""
    from datetime import date

    return str(meta.get("finished_utc", ""))[:10] or date.today().isoformat()
