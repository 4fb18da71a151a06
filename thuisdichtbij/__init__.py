"""thuisdichtbij: the open Thuis en dichtbij-scan.

For every dwelling: the walk to the amenities that let older people keep living at home,
a safety score, a total and a relative class 1-5; per area the dwelling-weighted mean.

>>> import thuisdichtbij
>>> result = thuisdichtbij.scan("maastricht")          # doctest: +SKIP
>>> result.to_gpkg("maastricht.gpkg")                   # doctest: +SKIP
"""

from .config import Config, load_config
from .engine.network import Network, build_network
from .engine.partition import Tiling
from .errors import (
    ConfigError,
    CRSError,
    InputError,
    InputFileNotFoundError,
    OutputError,
    ThuisdichtbijError,
)
from .outputs.export import write_gpkg
from .pipeline.national import NationalResult, scan_national
from .provenance import package_version as _package_version
from .scan import ScanResult, scan
from .study import Study, load_study, study_from_osm

__version__ = _package_version()

__all__ = [
    "scan",
    "ScanResult",
    "scan_national",
    "NationalResult",
    "Study",
    "load_study",
    "study_from_osm",
    "Config",
    "load_config",
    "Network",
    "build_network",
    "Tiling",
    "write_gpkg",
    "ThuisdichtbijError",
    "ConfigError",
    "InputError",
    "InputFileNotFoundError",
    "CRSError",
    "OutputError",
    "__version__",
]
