"""The web API's answers and its one error model, as pydantic models for the OpenAPI page."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field

__all__ = ["Problem", "WhatifAnswer", "problem_text"]


class Problem(BaseModel):
    """A request the server cannot answer (HTTP 422): one line naming the value and the fix."""

    detail: str = Field(
        description="what is wrong, with the value and the fix",
        examples=["lat: Input should be less than or equal to 90 (got 95)"],
    )


class ScenarioEdit(BaseModel):
    """One amenity added (or removed) in the scenario."""

    edit: str = Field(description="add or remove")
    indicator: str = Field(description="the sub-indicator's id, e.g. gp")
    name: str
    id: str
    lat: float
    lon: float


class GroupChange(BaseModel):
    """An area's (or a zone's) mean score and class, before and after."""

    code: str = Field(description="the area's (or zone's) id, e.g. the PC4")
    mean_before: float | None
    mean_after: float | None
    class_before: int | None
    class_after: int | None


class BandChange(BaseModel):
    """Dwellings whose points for the edited sub-indicator go up or down."""

    dwellings_gaining: int | None
    dwellings_losing: int | None


class WhatifAnswer(BaseModel):
    """What changes, counted as ``thuisdichtbij whatif --json`` counts it."""

    scenario: list[ScenarioEdit]
    dwellings_gaining: int = Field(description="dwellings whose score goes up")
    dwellings_losing: int
    dwellings_class_up: int = Field(description="dwellings that move into a higher class")
    dwellings_class_down: int
    dwelling_points_changed: int = Field(description="dwelling points whose score changes")
    residents_65plus_gaining: int | None = Field(
        description="residents of 65+ whose score goes up; null: serve without --population"
    )
    residents_65plus_losing: int | None
    residents_65plus_class_up: int | None
    bands: dict[str, BandChange] = Field(description="per edited sub-indicator")
    classes: str = Field(description="classes stay on the base run's class edges")
    areas: list[GroupChange] = Field(description="the areas whose mean score changes")
    zones: list[GroupChange] | None = Field(description="every woonzorgzone; null: none")
    gaining: dict[str, Any] = Field(
        description="GeoJSON FeatureCollection (WGS84) of the dwelling points that gain"
    )


#: FastAPI's (pydantic's) validation errors in Dutch, by their type; ``{...}`` from its ctx.
_PROBLEMS_NL = {
    "missing": "ontbreekt",
    "float_parsing": "moet een getal zijn",
    "float_type": "moet een getal zijn",
    "finite_number": "moet een eindig getal zijn",
    "less_than_equal": "moet kleiner dan of gelijk aan {le} zijn",
    "greater_than_equal": "moet groter dan of gelijk aan {ge} zijn",
    "less_than": "moet kleiner dan {lt} zijn",
    "greater_than": "moet groter dan {gt} zijn",
    "literal_error": "moet {expected} zijn",
    "string_type": "moet tekst zijn",
    "string_too_long": "is te lang (hoogstens {max_length} tekens)",
}


def problem_text(errors: list[dict[str, Any]], *, lang: str = "en") -> str:
    """FastAPI's validation errors as one line: ``lat: Input should be ... (got 95)``.

    With ``lang="nl"`` in Dutch (``lat: moet kleiner dan of gelijk aan 90 zijn (gegeven:
    95)``), an error type without a Dutch text as pydantic words it.
    """
    parts = []
    for e in errors:
        where = ".".join(str(x) for x in e.get("loc", ()) if x not in ("query", "body"))
        msg = e.get("msg", "invalid")
        if lang == "nl" and e.get("type") in _PROBLEMS_NL:
            ctx = {
                k: f"{v:g}" if isinstance(v, float) else str(v).replace(" or ", " of ")
                for k, v in (e.get("ctx") or {}).items()
            }
            msg = _PROBLEMS_NL[e["type"]].format(**ctx)
        given = "gegeven:" if lang == "nl" else "got"
        got = f" ({given} {e['input']})" if e.get("input") is not None else ""
        parts.append(f"{where or ('verzoek' if lang == 'nl' else 'request')}: {msg}{got}")
    return "; ".join(parts)
