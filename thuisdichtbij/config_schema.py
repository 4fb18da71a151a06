"""The configuration's schema: the sub-indicators and the immutable, validated sections.

:func:`thuisdichtbij.config.load_config` builds these; everything else reads them.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

SAFETY_ID = "safety"


#: The nine distance-based sub-indicators of the method, in the method's order.
INDICATOR_IDS = (
    "pharmacy",
    "gp",
    "physio",
    "community",
    "supermarket",
    "drugstore",
    "hairdresser",
    "culture",
    "bus_stop",
)


@dataclass(frozen=True)
class Band:
    """A distance band: a walk of at most ``max_m`` metres earns ``points``."""

    max_m: float
    points: float


@dataclass(frozen=True)
class Indicator:
    """What counts for one distance-based sub-indicator.

    ``osm_rules`` is a tuple of rules; a feature counts when it matches any rule. A rule is
    a tuple of ``(tag, values)``; all must match, ``values`` ``None`` meaning any value.
    """

    id: str
    group: str
    label_nl: str
    label_en: str
    osm_rules: tuple[tuple[tuple[str, tuple[str, ...] | None], ...], ...]
    table_categories: tuple[str, ...] = ()
    gtfs: bool = False
    plural_nl: str = ""
    plural_en: str = ""

    def count_text(self, n: int, lang: str = "nl") -> str:
        """``"1 apotheek"``, ``"2 apotheken"``."""
        one = self.label_nl if lang == "nl" else self.label_en
        many = (self.plural_nl if lang == "nl" else self.plural_en) or one
        return f"{n} {one if n == 1 else many}"


@dataclass(frozen=True)
class SafetyConfig:
    """How Leefbaarometer scores become safety points 1-5, and what to do without them."""

    dimension: str
    year: int
    base_year: int
    level_edges: tuple[float, ...]
    development_step: float
    missing: str


@dataclass(frozen=True)
class ZonesConfig:
    """How high-scoring grid cells become woonzorgzones."""

    min_class: int
    smoothing_cells: int
    diagonal: bool
    min_cells: int
    min_dwellings: float
    min_residents_65plus: float = 25.0


@dataclass(frozen=True)
class FairshareConfig:
    """How the fair-share check marks areas as already vulnerable."""

    reference: str
    lbm_measure: str
    lbm_year: int


@dataclass(frozen=True)
class AuditConfig:
    """Reference ranges of the data audit (see ``audit`` in ``config/weights.yaml``)."""

    max_unscored_share: float
    thin_below: float
    min_footpath_share: float
    reference_per_10k_dwellings: Mapping[str, float]


@dataclass(frozen=True)
class ContextConfig:
    """Which water and green areas a scan keeps for its maps (``context`` in the weights file)."""

    water_min_ha: float = 0.5
    green_min_ha: float = 1.0
    simplify_m: float = 2.0
    buffer_m: float = 500.0


@dataclass(frozen=True)
class Config:
    """The validated, immutable scientific configuration of a scan."""

    bands: tuple[Band, ...]
    weights: Mapping[str, float]
    indicators: tuple[Indicator, ...]
    safety: SafetyConfig
    classification_method: str
    stddev_edges: tuple[float, ...]
    max_snap_m: float
    min_component_m: float
    min_dwellings: int
    fallback_cell_m: float
    grid_cell_m: float
    zones: ZonesConfig
    fairshare: FairshareConfig
    audit: AuditConfig
    band_tolerance_m: float = 25.0
    context: ContextConfig = field(default_factory=ContextConfig)
    profile: str | None = None
    profile_rules: Mapping[str, tuple[str, ...]] = field(
        default_factory=lambda: MappingProxyType({})
    )
    sources: tuple[str, ...] = field(default=())
    canonical_json: str = field(default="{}", repr=False)

    @property
    def indicator_ids(self) -> tuple[str, ...]:
        """Ids of the distance-based sub-indicators, in order."""
        return tuple(ind.id for ind in self.indicators)

    @property
    def max_distance_m(self) -> float:
        """The largest band edge: beyond it a walk earns nothing and is not searched."""
        return max(b.max_m for b in self.bands)

    @property
    def max_band_points(self) -> float:
        """Points for the best band."""
        return max(b.points for b in self.bands)

    @property
    def max_distance_score(self) -> float:
        """Highest score the distance-based sub-indicators can give together."""
        return self.max_band_points * sum(self.weights[i] for i in self.indicator_ids)

    @property
    def max_score(self) -> float:
        """Highest total score (30.5 with the method's weights)."""
        return self.max_distance_score + 5 * self.weights[SAFETY_ID]

    @property
    def hash(self) -> str:
        """SHA-256 of the resolved configuration: equal configs give equal hashes."""
        return hashlib.sha256(self.canonical_json.encode()).hexdigest()

    def indicator(self, indicator_id: str) -> Indicator:
        """Return the definition of one sub-indicator."""
        for ind in self.indicators:
            if ind.id == indicator_id:
                return ind
        raise KeyError(indicator_id)
