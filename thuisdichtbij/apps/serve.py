"""A local web page for plot checks: FastAPI over :func:`thuisdichtbij.check.check`.

``thuisdichtbij serve --scan maastricht.gpkg`` serves, on http://127.0.0.1:8000, a Leaflet
page with the area choropleth (and zones, when the scan has them); clicking the map or
typing coordinates shows the check. ``GET /api/check?lat=..&lon=..`` answers in JSON;
``/docs`` has the OpenAPI documentation. Bad requests get HTTP 422 with a message; the
server keeps serving.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Literal

from .._text import LANGS
from ..analyses.check import CheckContext, check, load_check, parse_location
from ..analyses.places import find_places
from ..analyses.routes import walking_routes
from ..analyses.whatif import WhatifContext, load_whatif, parse_addition, whatif
from ..engine.score import CLASS_LABELS_EN, CLASS_LABELS_NL
from ..errors import ThuisdichtbijError
from ..outputs._mapkit import (
    CLASS_COLOURS,
    INDICATOR_STYLE,
    INSUFFICIENT_STYLE,
    ZONE_COLOUR,
    area_states,
    state_fill,
    state_label,
)
from ._console import say

__all__ = ["create_app", "run"]

_PAGE_TEXT = {
    "nl": {
        "title": "Thuis en dichtbij: plotcheck",
        "hint": "Klik op de kaart, of zoek een postcode (6211AL), een straat of coördinaten "
        "(breedte, lengte).",
        "placeholder": "6211AL, Markt of 50.8514, 5.6910",
        "go": "Check",
        "score": "Score",
        "class": "klasse",
        "lower": "van de woningen scoort lager",
        "nearest": "Dichtstbijzijnde",
        "walk": "Loopafstand",
        "points": "Punten",
        "none": "niets binnen {max_m} m",
        "thin": "gegevens dun",
        "data": "Let op, invoergegevens",
        "safety": "Veiligheid (Leefbaarometer)",
        "safety_area": "gebied {area}: {points} van 5 punten",
        "safety_none": "geen Leefbaarometer-score hier",
        "near": "Net buiten een nauwere afstandsband",
        "then_class": "dan klasse",
        "at_most": "bij hoogstens",
        "routes": "Looproute naar de dichtstbijzijnde",
        "beyond": "verder",
        "relative": "De klassen zijn relatief: ze vergelijken met de andere woningen in deze "
        "scan (de gemeente), niet met een landelijke norm.",
        "zone_in": "Ligt in woonzorgzone",
        "zone_near": "Buiten een woonzorgzone; de dichtstbijzijnde ligt {m} m lopen verderop.",
        "zone_far": "Buiten een woonzorgzone; geen binnen {m} m lopen.",
        "fairshare": "Fair share",
        "no_match": "Niets gevonden voor",
        "failed": "De check lukte niet",
        "print": "Afdrukken",
        "route": "Looproute",
        "sources": "Bronnen: OpenStreetMap-bijdragers (ODbL), CBS, Leefbaarometer 3.0 (BZK).",
        "reach": "Loopbereik",
        "areas": "Postcodegebieden (klasse)",
        "zones": "Woonzorgzones",
        "wi_ask": "Wat als hier een {kind} komt?",
        "wi_go": "Toon wat verandert",
        "wi_gain": "Woningen die erop vooruitgaan",
        "wi_class_up": "waarvan een klasse hoger",
        "wi_res": "65-plussers die erop vooruitgaan",
        "wi_res_none": "onbekend (start serve met --population)",
        "wi_areas": "Postcodegebieden waarvan het gemiddelde verandert",
        "wi_zones": "Woonzorgzones waarvan het gemiddelde verandert",
        "wi_area": "gebied",
        "wi_mean": "gemiddelde",
        "wi_none": "Geen woning gaat erop vooruit: binnen bereik is er al een, of er woont "
        "niemand binnen {max_m} m lopen.",
        "wi_classes": "De klassen blijven op de klassegrenzen van de scan; anders zou de "
        "relatieve klasse van iedereen verschuiven.",
        "wi_layer": "Woningen die vooruitgaan",
    },
    "en": {
        "title": "Thuis en dichtbij: plot check",
        "hint": "Click the map, or search a postcode (6211AL), a street or coordinates "
        "(latitude, longitude).",
        "placeholder": "6211AL, Markt or 50.8514, 5.6910",
        "go": "Check",
        "score": "Score",
        "class": "class",
        "lower": "of dwellings score lower",
        "nearest": "Nearest",
        "walk": "Walk",
        "points": "Points",
        "none": "nothing within {max_m} m",
        "thin": "thin data",
        "data": "Mind the input data",
        "safety": "Safety (Leefbaarometer)",
        "safety_area": "area {area}: {points} of 5 points",
        "safety_none": "no Leefbaarometer score here",
        "near": "Just beyond a nearer band",
        "then_class": "then class",
        "at_most": "within",
        "routes": "Walk to the nearest",
        "beyond": "farther",
        "relative": "Classes are relative: they compare with the other dwellings in this scan "
        "(the municipality), not with a national norm.",
        "zone_in": "Lies in the housing-with-care zone",
        "zone_near": "Outside a housing-with-care zone; the nearest is a {m} m walk away.",
        "zone_far": "Outside a housing-with-care zone; none within a {m} m walk.",
        "fairshare": "Fair share",
        "no_match": "Nothing found for",
        "failed": "The check failed",
        "print": "Print",
        "route": "Walking route",
        "sources": "Sources: OpenStreetMap contributors (ODbL), CBS, Leefbaarometer 3.0 (BZK).",
        "reach": "Walking reach",
        "areas": "Postcode areas (class)",
        "zones": "Housing-with-care zones",
        "wi_ask": "What if a {kind} opened here?",
        "wi_go": "Show what changes",
        "wi_gain": "Dwellings that gain",
        "wi_class_up": "of which a class higher",
        "wi_res": "Residents of 65+ who gain",
        "wi_res_none": "unknown (start serve with --population)",
        "wi_areas": "Postcode areas whose mean changes",
        "wi_zones": "Housing-with-care zones whose mean changes",
        "wi_area": "area",
        "wi_mean": "mean",
        "wi_none": "No dwelling gains: one is already within reach, or nobody lives within a "
        "{max_m} m walk.",
        "wi_classes": "Classes stay on the scan's class edges; otherwise everyone's relative "
        "class would shift.",
        "wi_layer": "Dwellings that gain",
    },
}

#: The legend swatch's edge per state without a class (dashed: as the area is drawn).
_EDGE = {
    "insufficient": f"border:1px dashed {INSUFFICIENT_STYLE['edge']}",
    "suppressed": "border:1px solid #555",
}

#: How far the page looks for the nearest amenity to draw (beyond the bands: a red line).
ROUTE_SEARCH_M = 2000.0

#: The page template; __NAMES__ are filled in per scan and language.
_PAGE = Path(__file__).parent.parent / "static" / "check.html"


def _page_html(ctx: CheckContext, lang: str) -> str:
    """The page template filled in for one scan and language."""
    text = dict(_PAGE_TEXT[lang])
    for key in ("none", "wi_none"):
        text[key] = text[key].format(max_m=f"{ctx.config.max_distance_m:g}")
    labels = CLASS_LABELS_NL if lang == "nl" else CLASS_LABELS_EN
    legend = "".join(
        f'<div><span style="background:{c}"></span>{k}: {labels[k]}</div>'
        for k, c in CLASS_COLOURS.items()
    )
    # an area without a class says why, in the legend too (as on the maps), never blank
    present = set(area_states(ctx.areas))
    legend += "".join(
        f'<div><span style="background:{state_fill(s)};{_EDGE[s]}"></span>'
        f"{state_label(s, lang)}</div>"
        for s in ("insufficient", "suppressed")
        if s in present
    )
    if ctx.zones is not None and len(ctx.zones):  # drawn as outlines over the areas
        swatch = f"background:none;border:3px solid {ZONE_COLOUR}"
        legend += f'<div><span style="{swatch}"></span>{text["zones"]}</div>'
    # the walks drawn to the nearest amenities, coloured by the band they fall in
    line = '<span style="background:{c};height:4px;vertical-align:middle"></span>'
    walks = [f"{line.format(c=c)}&le; {m} m" for m, c in _band_colours(ctx).items()]
    walks.append(f"{line.format(c=_BEYOND)}{text['beyond']}")
    legend += f'<div class="routes">{text["routes"]}: {" ".join(walks)}</div>'
    attribution = ctx.metadata.get("attribution")
    if attribution:  # the scan's own sources (GTFS stops, the Leefbaarometer release, ...)
        text["sources"] = f"{text['sources'].split(':')[0]}: {attribution}"
    return (
        _PAGE.read_text(encoding="utf-8")
        .replace("__LANG__", lang)
        .replace("__TITLE__", text["title"])
        .replace("__HINT__", text["hint"])
        .replace("__GO__", text["go"])
        .replace("__PLACEHOLDER__", text["placeholder"])
        .replace("__PRINT__", text["print"])
        .replace("__RELATIVE__", text["relative"])
        .replace("__SOURCES__", text["sources"])
        .replace("__LEGEND__", legend)
        .replace("__TEXT__", json.dumps(text))
        .replace("__COLOURS__", json.dumps(CLASS_COLOURS))
        .replace("__BANDS__", json.dumps(_band_colours(ctx)))
        .replace("__BEYOND__", _BEYOND)
        .replace("__ZONE__", ZONE_COLOUR)
        .replace("__INDICATORS__", json.dumps({k: v[0] for k, v in INDICATOR_STYLE.items()}))
    )


def create_app(
    scan: str | os.PathLike | CheckContext,
    *,
    lang: str = "nl",
    population: str | os.PathLike | None = None,
):
    """The FastAPI app for one scan GeoPackage (loaded once, when the app is made).

    ``population`` is the CBS PC6 table: with it the what-if counts residents of 65+.
    """
    from fastapi import FastAPI

    ctx = scan if isinstance(scan, CheckContext) else load_check(scan)
    app = FastAPI(
        title="thuisdichtbij plot check",
        description="Score one location against a Thuis en dichtbij-scan, explained, and "
        "see what changes when an amenity opens there. Every error is HTTP 422 with one "
        "line in `detail`.",
    )
    _add_error_handlers(app, lang)
    _add_page_routes(app, ctx, lang)
    _add_check_routes(app, ctx, lang)
    _add_whatif_route(app, load_whatif(ctx, population=population), lang)
    return app


def _errors() -> dict:
    """Every error the API answers, for the OpenAPI: HTTP 422 with one line in ``detail``."""
    from ._schema import Problem

    return {422: {"model": Problem, "description": "bad input: what is wrong and the fix"}}


def _add_error_handlers(app, lang: str) -> None:
    """Bad input of ours and FastAPI's own validation both answer 422 with a ``Problem``.

    In the request's ``lang`` when it names one of ours, else in the server's language.
    """
    from fastapi.exceptions import RequestValidationError
    from fastapi.responses import JSONResponse

    from ._schema import problem_text

    def asked(request) -> str:
        wanted = request.query_params.get("lang")
        return wanted if wanted in LANGS else lang

    @app.exception_handler(ThuisdichtbijError)
    async def _bad_input(request, exc: ThuisdichtbijError):
        detail = exc.in_language(asked(request))
        return JSONResponse(status_code=422, content={"detail": detail})

    @app.exception_handler(RequestValidationError)
    async def _bad_request(request, exc: RequestValidationError):
        detail = problem_text(exc.errors(), lang=asked(request))
        return JSONResponse(status_code=422, content={"detail": detail})


def _add_page_routes(app, ctx: CheckContext, lang: str) -> None:
    """The page, its static files, and the areas and zones it draws."""
    from fastapi.responses import HTMLResponse
    from fastapi.staticfiles import StaticFiles

    areas_json = json.loads(_areas_shown(ctx.areas, lang).to_json(drop_id=True))
    zones_json = (
        json.loads(ctx.zones.to_crs(4326).to_json(drop_id=True))
        if ctx.zones is not None
        else {"type": "FeatureCollection", "features": []}
    )
    page = _page_html(ctx, lang)
    app.mount("/static", StaticFiles(directory=_PAGE.parent), name="static")

    @app.get("/", response_class=HTMLResponse, summary="The plot-check web page")
    def index() -> str:
        return page

    @app.get("/api/areas", summary="The scan's areas with their mean score and class (GeoJSON)")
    def api_areas() -> dict:
        return areas_json

    @app.get("/api/zones", summary="The scan's housing-with-care zones, if any (GeoJSON)")
    def api_zones() -> dict:
        return zones_json


def _areas_shown(areas, lang: str):
    """The areas in WGS84 with ``state`` (class 1-5, insufficient, suppressed), ``fill``, ``label``.

    The page draws and names an area without a class as the maps do.
    """
    shown = areas.to_crs(4326)
    states = area_states(shown)
    shown["state"] = [str(s) for s in states]
    shown["fill"] = [state_fill(s) for s in states]
    shown["label"] = [state_label(s, lang) for s in states]
    return shown


def _lat(default):
    from fastapi import Query

    return Query(default, ge=-90, le=90, description="latitude, WGS84 degrees", examples=[50.8514])


def _lon(default):
    from fastapi import Query

    return Query(default, ge=-180, le=180, description="longitude, WGS84 degrees", examples=[5.691])


def _lang(default: str):
    from fastapi import Query

    return Query(
        None,
        description=f"language of the labels and the error messages (default {default})",
        examples=["en"],
    )


def _add_check_routes(app, ctx: CheckContext, lang: str) -> None:
    """The check of one location, and the search for postcodes and streets."""
    from fastapi import Query

    default = lang

    @app.get(
        "/api/check",
        summary="Check one location: latitude and longitude, or a postcode",
        responses=_errors(),
    )
    def api_check(
        lat: float | None = _lat(None),
        lon: float | None = _lon(None),
        postcode: str | None = Query(None, description="a PC6 the scan has", examples=["6211AL"]),
        lang: Literal["nl", "en"] | None = _lang(lang),
    ) -> dict:
        point = parse_location(ctx, lat=lat, lon=lon, postcode=postcode)
        result = check(ctx, point, lang=lang or default)
        result["routes"] = walking_routes(ctx, point, max_distance_m=ROUTE_SEARCH_M)
        return result

    @app.get(
        "/api/search",
        summary="Postcodes (PC6) and streets of the scan that match a text",
        responses=_errors(),
    )
    def api_search(
        q: str = Query(..., description="e.g. 6211AL or Markt"),
        lang: Literal["nl", "en"] | None = _lang(lang),
    ) -> list[dict]:
        return find_places(ctx, q)


def _add_whatif_route(app, wctx: WhatifContext, lang: str) -> None:
    """What changes when an amenity of a sub-indicator opens at a location."""
    from fastapi import Query

    from ._schema import WhatifAnswer

    kinds = ", ".join(f"{i.id} ({i.label_nl})" for i in wctx.config.indicators)

    @app.get(
        "/api/whatif",
        summary="What if an amenity opens here: the dwellings, residents and areas that gain",
        description="The same incremental what-if as `thuisdichtbij whatif --add "
        "KIND@LAT,LON --json`, with the gaining dwelling points as GeoJSON. Classes stay on "
        "the scan's class edges.",
        response_model=WhatifAnswer,
        responses=_errors(),
    )
    def api_whatif(
        lat: float = _lat(...),
        lon: float = _lon(...),
        indicator: str = Query(
            ..., description=f"the sub-indicator, by id or label: {kinds}", examples=["huisarts"]
        ),
        lang: Literal["nl", "en"] | None = _lang(lang),
    ) -> dict:
        added = parse_addition(wctx, f"{indicator}@{lat!r},{lon!r}")
        result = whatif(wctx, add=[added])
        gain = result.change[result.change["change"] == "gain"]
        keep = [c for c in _GAINING_FIELDS if c in gain.columns] + ["geometry"]
        gaining = json.loads(gain[keep].to_crs(4326).to_json(drop_id=True))
        return {**result.to_json(), "gaining": gaining}


#: The fields of each gaining dwelling point the page shows.
_GAINING_FIELDS = (
    "dwelling_id",
    "weight",
    "residents_65plus",
    "score_before",
    "score_after",
    "class_before",
    "class_after",
)


#: The colour of a walk beyond every band (as the page draws it).
_BEYOND = "#d7191c"


def _band_colours(ctx) -> dict[str, str]:
    """A line colour per distance band (nearest band green, the farthest orange)."""
    palette = ["#1a9641", "#a6d96a", "#fdae61", "#f46d43"]
    bands = sorted(b.max_m for b in ctx.config.bands)
    return {f"{m:g}": palette[min(i, len(palette) - 1)] for i, m in enumerate(bands)}


def run(
    scan: str | os.PathLike,
    *,
    host: str = "127.0.0.1",
    port: int = 8000,
    lang: str = "nl",
    population: str | os.PathLike | None = None,
):
    """Serve the web page until interrupted."""
    import uvicorn

    app = create_app(scan, lang=lang, population=population)
    print(say(lang)["serving"].format(scan=scan, host=host, port=port), flush=True)
    uvicorn.run(app, host=host, port=port, log_level="warning")
