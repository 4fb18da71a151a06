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

from ..analyses.check import CheckContext, check, load_check, parse_location
from ..engine.score import CLASS_LABELS_EN, CLASS_LABELS_NL
from ..errors import ThuisdichtbijError
from ..outputs._mapkit import CLASS_COLOURS

__all__ = ["create_app", "run"]

_PAGE_TEXT = {
    "nl": {
        "title": "Thuis en dichtbij: plotcheck",
        "hint": "Klik op de kaart of typ coördinaten (breedte, lengte).",
        "go": "Check",
        "score": "Score",
        "class": "klasse",
        "lower": "van de woningen scoort lager",
        "nearest": "Dichtstbijzijnde",
        "walk": "Loopafstand",
        "points": "Punten",
        "none": "niets binnen bereik",
        "thin": "gegevens dun",
        "data": "Let op, invoergegevens",
        "safety": "veiligheid",
        "near": "Net buiten bereik",
        "reach": "Loopbereik",
        "areas": "Postcodegebieden (klasse)",
        "zones": "Woonzorgzones",
    },
    "en": {
        "title": "Thuis en dichtbij: plot check",
        "hint": "Click the map or type coordinates (latitude, longitude).",
        "go": "Check",
        "score": "Score",
        "class": "class",
        "lower": "of dwellings score lower",
        "nearest": "Nearest",
        "walk": "Walk",
        "points": "Points",
        "none": "nothing within reach",
        "thin": "thin data",
        "data": "Mind the input data",
        "safety": "safety",
        "near": "Just out of reach",
        "reach": "Walking reach",
        "areas": "Postcode areas (class)",
        "zones": "Housing-with-care zones",
    },
}

#: The page template; __NAMES__ are filled in per scan and language.
_PAGE = Path(__file__).parent.parent / "static" / "check.html"


def create_app(scan: str | os.PathLike | CheckContext, *, lang: str = "nl"):
    """The FastAPI app for one scan GeoPackage (loaded once, when the app is made)."""
    from fastapi import FastAPI, Query
    from fastapi.responses import HTMLResponse, JSONResponse
    from fastapi.staticfiles import StaticFiles

    ctx = scan if isinstance(scan, CheckContext) else load_check(scan)
    text = _PAGE_TEXT[lang]
    labels = CLASS_LABELS_NL if lang == "nl" else CLASS_LABELS_EN
    app = FastAPI(
        title="thuisdichtbij plot check",
        description="Score one location against a Thuis en dichtbij-scan, explained.",
    )

    @app.exception_handler(ThuisdichtbijError)
    async def _bad_input(request, exc: ThuisdichtbijError):
        return JSONResponse(status_code=422, content={"detail": str(exc)})

    areas_json = json.loads(ctx.areas.to_crs(4326).to_json(drop_id=True))
    zones_json = (
        json.loads(ctx.zones.to_crs(4326).to_json(drop_id=True))
        if ctx.zones is not None
        else {"type": "FeatureCollection", "features": []}
    )
    legend = "".join(
        f'<div><span style="background:{c}"></span>{k}: {labels[k]}</div>'
        for k, c in CLASS_COLOURS.items()
    )
    page = (
        _PAGE.read_text(encoding="utf-8")
        .replace("__LANG__", lang)
        .replace("__TITLE__", text["title"])
        .replace("__HINT__", text["hint"])
        .replace("__GO__", text["go"])
        .replace("__LEGEND__", legend)
        .replace("__TEXT__", json.dumps(text))
        .replace("__COLOURS__", json.dumps(CLASS_COLOURS))
    )

    app.mount("/static", StaticFiles(directory=_PAGE.parent), name="static")

    @app.get("/", response_class=HTMLResponse, summary="The plot-check web page")
    def index() -> str:
        return page

    @app.get("/api/check", summary="Check one location (WGS84 latitude and longitude)")
    def api_check(
        lat: float = Query(..., description="latitude, WGS84", examples=[50.8514]),
        lon: float = Query(..., description="longitude, WGS84", examples=[5.6910]),
    ) -> dict:
        return check(ctx, parse_location(ctx, lat=lat, lon=lon), lang=lang)

    @app.get("/api/areas", summary="The scan's areas with their mean score and class (GeoJSON)")
    def api_areas() -> dict:
        return areas_json

    @app.get("/api/zones", summary="The scan's housing-with-care zones, if any (GeoJSON)")
    def api_zones() -> dict:
        return zones_json

    return app


def run(scan: str | os.PathLike, *, host: str = "127.0.0.1", port: int = 8000, lang: str = "nl"):
    """Serve the web page until interrupted."""
    import uvicorn

    app = create_app(scan, lang=lang)
    print(f"thuisdichtbij: serving {scan} on http://{host}:{port} (Ctrl-C stops)", flush=True)
    uvicorn.run(app, host=host, port=port, log_level="warning")
