"""What every map shares: class colours, Dutch and English labels, the scan layers, safe writes."""

from __future__ import annotations

import os
from pathlib import Path

import pandas as pd

from .._text import decimal, words
from ..engine.aggregate import FULL_COVERAGE, INSUFFICIENT
from .paths import check_output, temporary

#: Classes 1-5, red (strongly below average) to green (strongly above).
CLASS_COLOURS = {1: "#d7191c", 2: "#fdae61", 3: "#ffffbf", 4: "#a6d96a", 5: "#1a9641"}
#: Class changes between two scans, -4 to +4: red down, grey unchanged, green up.
CHANGE_COLOURS = {
    -4: "#b2182b",
    -3: "#b2182b",
    -2: "#b2182b",
    -1: "#ef8a62",
    0: "#f7f7f7",
    1: "#67a9cf",
    2: "#2166ac",
    3: "#2166ac",
    4: "#2166ac",
}

#: The fair-share verdict (``vulnerable``: True, False, None for unknown) on every map of it:
#: the static map, the web map and the QGIS style. Vulnerable areas are hatched as well.
FAIRSHARE_STYLE = {
    True: {"fill": "#d6604d", "hatch": "///", "label": {"nl": "Kwetsbaar", "en": "Vulnerable"}},
    False: {
        "fill": "#f4f4f4",
        "hatch": None,
        "label": {"nl": "Niet kwetsbaar", "en": "Not vulnerable"},
    },
    None: {
        "fill": "#bdbdbd",
        "hatch": None,
        "label": {"nl": "Onbekend (score ontbreekt)", "en": "Unknown (score missing)"},
    },
}
#: The outline of the fair-share areas, and of the hatch, on the static map and in QGIS.
FAIRSHARE_EDGE = "#666666"
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
        "sensitivity": "Klasse niet robuust (aandeel woningen binnen 25 m van een grens)",
        "score": "Gemiddelde score",
        "dwellings": "Woningen",
        "dwellings_scored": "Woningen met score",
        "unscored_note": "{pct} van de woningen hier niet gescoord (te ver van een straat in de "
        "gegevens): de punten gelden alleen voor de rest",
        "suppressed": "Te weinig woningen (< 5)",
        "insufficient": "Onvoldoende gegevens",
        "note_head": "Let op, invoergegevens",
        "note_missing": "ontbreekt",
        "note_thin": "dun",
        "note_no_paths": "geen voetpaden: looproutes langer dan in werkelijkheid",
        "note_no_safety": "veiligheid niet meegeteld (geen Leefbaarometer-gegevens)",
        "note_thin_safety": "veiligheid voor een deel van de woningen niet meegeteld (geen "
        "Leefbaarometer-cijfer)",
        # a no-break space: the wrapped note never leaves "%" alone at a line's start
        "note_partial": "de gegevens bedekken {pct}\u00a0% van het studiegebied",
        "note_weights": "aantal woningen onbekend voor een deel van de punten (CBS geheim)",
        "note_few_paths": "weinig voetpaden: looproutes te lang",
        "scan_sources": "Bronnen: OpenStreetMap-bijdragers (ODbL), CBS, Leefbaarometer 3.0 (BZK)",
        "points": "gemiddelde punten",
        "weight": "gewicht",
        "profile": "Voorzieningen",
        "region": "gemiddelde van de regio (gewogen naar huishoudens)",
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
        "sheet_hatch": "Gearceerd: geen gegevens (geen voorziening van die soort in de invoer, "
        "geen Leefbaarometer-cijfer, of te veel woningen niet gescoord); lichtgrijs: te weinig "
        "woningen (< 5)",
        "no_safety_data": "geen Leefbaarometer-gegevens",
        "areas_and_grid": "postcodegebieden en raster",
        "areas_only": "postcodegebieden",
        "squares": "vierkanten van {m} m",
        "and_grid": "{what} en raster",
        "site": "Nieuwe locatie (nummer: rang)",
        "sites_title": "{n} nieuwe locatie(s) voor {what}, {study}: {gain} woningen in een "
        "betere afstandsband",
        "sites_footer": "Winst: woningen die een locatie in een betere afstandsband brengt, "
        "na de locaties die voor haar in de rangorde staan",
        "sites_tip": "{rank}: +{gain} woningen{street}",
        "tif_note": "{classes} per cel van {m} m: band 2 (score_class). Een cel zonder klasse "
        "is doorzichtig; band 3 (data_status) zegt waarom: 2 = {suppressed}, 3 = {insufficient} "
        "(de woningen liggen te ver van een straat in de gegevens: een gat in de gegevens, geen "
        "leeg land). Band 1 (score_mean): {score}.",
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
        "sensitivity": "Class not robust (share of dwellings within 25 m of an edge)",
        "score": "Mean score",
        "dwellings": "Dwellings",
        "dwellings_scored": "Dwellings scored",
        "unscored_note": "{pct} of the dwellings here not scored (too far from a street in the "
        "data): the points hold for the rest only",
        "suppressed": "Too few dwellings (< 5)",
        "insufficient": "Insufficient data",
        "note_head": "Mind the input data",
        "note_missing": "missing",
        "note_thin": "thin",
        "note_no_paths": "no footpaths: walks longer than in reality",
        "note_no_safety": "safety not counted (no Leefbaarometer data)",
        "note_thin_safety": "safety not counted for part of the dwellings (no Leefbaarometer "
        "figure)",
        "note_partial": "the data cover {pct}\u00a0% of the study area",
        "note_weights": "number of dwellings unknown for part of the points (CBS secret)",
        "note_few_paths": "few footpaths: walks come out too long",
        "scan_sources": "Sources: OpenStreetMap contributors (ODbL), CBS, Leefbaarometer 3.0 (BZK)",
        "points": "mean points",
        "weight": "weight",
        "profile": "Amenities",
        "region": "mean of the region (weighted by households)",
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
        "sheet_hatch": "Hatched: no data (no amenity of that kind in the input, no "
        "Leefbaarometer figure, or too many dwellings not scored); light grey: too few "
        "dwellings (< 5)",
        "no_safety_data": "no Leefbaarometer data",
        "areas_and_grid": "postcode areas and grid",
        "areas_only": "postcode areas",
        "squares": "squares of {m} m",
        "and_grid": "{what} and grid",
        "site": "New site (number: rank)",
        "sites_title": "{n} new site(s) for {what}, {study}: {gain} dwellings into a better "
        "distance band",
        "sites_footer": "Gains: dwellings moved into a better distance band by each site after "
        "those ranked before it",
        "sites_tip": "{rank}: +{gain} dwellings{street}",
        "tif_note": "{classes} per cell of {m} m: band 2 (score_class). A cell without a class "
        "is transparent; band 3 (data_status) says why: 2 = {suppressed}, 3 = {insufficient} "
        "(its dwellings lie too far from a street in the data: a gap in the data, not empty "
        "land). Band 1 (score_mean): {score}.",
    },
}


def text(lang: str) -> dict[str, str]:
    """The maps' words in ``lang`` (``"nl"`` or ``"en"``)."""
    return words(_TEXT, lang, what="maps")


def atomic_write(path: Path, write) -> Path:
    """Call ``write(tmp_path)`` and move the result to ``path``."""
    tmp = temporary(path, suffix=path.suffix)
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
    """A map file that can be written; see :func:`~thuisdichtbij.outputs.paths.check_output`."""
    return check_output(path, what="maps", suffixes=suffixes)


def flag_state(v) -> bool | None:
    """A nullable flag as True, False or None (unknown)."""
    return None if pd.isna(v) else bool(v)


SUPPRESSED = "#d9d9d9"
#: Areas and cells with ``data_status`` 'onvoldoende gegevens' (:data:`INSUFFICIENT`): grey,
#: hatched where possible.
INSUFFICIENT_COLOUR = "#969696"
#: How such areas are drawn: grey with a hatch, never a class colour.
INSUFFICIENT_STYLE = {"fill": INSUFFICIENT_COLOUR, "edge": "#333333", "hatch": "////"}
NETWORK_COLOUR = "#8c8c8c"
#: The maps' context (layer ``context`` of a scan): light blue water, light green green.
CONTEXT_COLOURS = {"water": "#a6cee3", "green": "#c7e9c0"}
ZONE_COLOUR = "#00441b"


def area_states(frame) -> list:
    """Per row: its class 1-5, ``"suppressed"`` (too few dwellings) or ``"insufficient"``.

    A row whose ``data_status`` says so, or without a class and not suppressed, has too
    little data to be classed (the audit's ``onvoldoende gegevens``), so it is never drawn
    as class 1.
    """
    supp = frame["suppressed"] if "suppressed" in frame else pd.Series(False, frame.index)
    status = frame["data_status"] if "data_status" in frame else pd.Series(None, frame.index)
    out = []
    for c, s, st in zip(frame["score_class"], supp, status, strict=True):
        if insufficient(st):
            out.append("insufficient")
        elif not pd.isna(c):
            out.append(int(c))
        else:
            out.append("suppressed" if flag_state(s) else "insufficient")
    return out


def state_fill(state) -> str:
    """The fill colour of a state of :func:`area_states`."""
    if state == "insufficient":
        return INSUFFICIENT_STYLE["fill"]
    return SUPPRESSED if state == "suppressed" else CLASS_COLOURS[state]


def state_label(state, lang: str) -> str:
    if isinstance(state, int):
        return class_labels(lang)[state]
    return text(lang)["suppressed" if state == "suppressed" else "insufficient"]


def insufficient(status) -> bool:
    """Whether a ``data_status`` value marks an area without a class for lack of data."""
    return isinstance(status, str) and status == INSUFFICIENT


def data_note(metadata: dict[str, str], lang: str) -> str:
    """The note under a map's legend naming missing and thin inputs ('' when all is well).

    Read from the scan's ``run_metadata`` audit keys (``audit_missing``, ``audit_thin``,
    ``audit_footpaths``, ``audit_safety``, ``audit_weights``) and ``data_coverage`` (the
    share of the study area within the data's reach); scans written before the audit have
    none and get no note.
    """
    from ..config import load_config

    t, cfg = text(lang), load_config()

    def names(key: str) -> str:
        ids = [i for i in metadata.get(key, "").split(", ") if i in cfg.indicator_ids]
        return ", ".join(indicator_label(cfg, i, lang) for i in ids)

    parts = [
        f"{t[f'note_{kind}']}: {found}"
        for kind, found in (("missing", names("audit_missing")), ("thin", names("audit_thin")))
        if found
    ]
    paths = {"ontbreekt": "note_no_paths", "dun": "note_few_paths"}
    if metadata.get("audit_footpaths") in paths:
        parts.append(t[paths[metadata["audit_footpaths"]]])
    # safety as the audit judged it (no finding when it is weighed 0); scans written before
    # that verdict: by the safety source
    safety = metadata.get("audit_safety")
    if safety is None and metadata.get("safety", "").startswith("no Leefbaarometer"):
        safety = "ontbreekt"
    if safety in ("ontbreekt", "dun"):
        parts.append(t["note_no_safety" if safety == "ontbreekt" else "note_thin_safety"])
    if metadata.get("audit_weights") == "dun":
        parts.append(t["note_weights"])
    share = float(metadata.get("data_coverage", 1.0))
    if share < FULL_COVERAGE:  # the extract ends inside the study area
        parts.append(t["note_partial"].format(pct=decimal(100 * share, ".0f", lang)))
    return f"{t['note_head']}: " + "; ".join(parts) + "." if parts else ""


def scan_credits(meta: dict, lang: str, *, keys: tuple[str, ...] = ("attribution",)) -> str:
    """The sources a map of a scan credits: the scan's ``attribution`` (its study's ``sources``).

    ``keys`` name the ``run_metadata`` entries that hold it (a diff has one per scan); a
    source both name is credited once. A scan without any (written before attribution)
    credits the sources a scan usually has.
    """
    named: list[str] = []
    for key in keys:
        for part in str(meta.get(key) or "").split("; "):
            if part and part not in named:
                named.append(part)
    return "; ".join(named) or text(lang)["scan_sources"]


def fairshare_credits(lang: str) -> str:
    """The sources line of the fair-share maps (static and web): the inputs, and the day made."""
    from datetime import date

    t = text(lang)
    return f"{t['sources']}. {t['made']} {date.today().isoformat()}."


def legend_note(meta: dict, lang: str) -> str:
    """The note under a map's legend: the scan's audit, or a note of its own.

    A ``legend_note_nl`` / ``legend_note_en`` / ``legend_note`` row in ``run_metadata``
    wins over the audit's :func:`data_note`; the map functions' ``note=`` wins over both.
    """
    own = meta.get(f"legend_note_{lang}") or meta.get("legend_note")
    return str(own) if own else data_note(meta, lang)


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
    for n in ("zones", "grid", "network"):
        layers[n] = read_scan_layer(scan, n) if n in names else None
    # water and green: the scan's context polygons, when its inputs had them
    context = read_scan_layer(scan, "context") if "context" in names else None
    for kind in CONTEXT_COLOURS:
        part = None if context is None else context[context["kind"] == kind]
        layers[kind] = part if part is not None and len(part) else None
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


def scan_title(meta: dict, lang: str) -> str:
    """The map title: the scan and its study, with the walking profile when the run used one."""
    profile = f" ({meta['profile']})" if meta.get("profile") else ""
    return f"{text(lang)['scan_title']}: {meta.get('study', '')}{profile}"


def scan_date(meta: dict) -> str:
    """The day the scan ran (the one date a map shows), or today when unknown."""
    from datetime import date

    return str(meta.get("finished_utc", ""))[:10] or date.today().isoformat()
