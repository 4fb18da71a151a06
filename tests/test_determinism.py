"""The same inputs and config give byte-identical results."""

import pandas as pd
import pyogrio
import pytest

from thuisdichtbij import scan

# two whole scans: the everyday suite (-m 'not slow') leaves them to CI
pytestmark = pytest.mark.slow


def identical(a: pd.Series, b: pd.Series) -> bool:
    """Bit for bit for numbers, character for character for text."""
    if pd.api.types.is_numeric_dtype(a) or pd.api.types.is_bool_dtype(a):
        return a.dtype == b.dtype and a.to_numpy().tobytes() == b.to_numpy().tobytes()
    return a.astype(str).tolist() == b.astype(str).tolist()


def test_two_runs_give_identical_scores(data_dir, tmp_path):
    first = scan("maastricht", data_dir=data_dir, cache=False)
    second = scan("maastricht", data_dir=data_dir, cache=tmp_path / "cache")
    assert second.metadata["network_cache"] == "miss"
    third = scan("maastricht", data_dir=data_dir, cache=tmp_path / "cache")
    assert third.metadata["network_cache"] == "hit"
    for other in (second, third):
        for layer in ("dwellings", "areas", "amenities"):
            a, b = getattr(first, layer), getattr(other, layer)
            assert a.columns.tolist() == b.columns.tolist()
            assert a.geometry.to_wkb().tolist() == b.geometry.to_wkb().tolist()
            for col in a.columns.drop(a.geometry.name):
                assert identical(a[col], b[col]), (layer, col)
    pa = pyogrio.read_dataframe(first.to_gpkg(tmp_path / "a.gpkg"), layer="dwellings")
    pb = pyogrio.read_dataframe(third.to_gpkg(tmp_path / "b.gpkg"), layer="dwellings")
    for col in pa.columns.drop("geometry"):
        assert identical(pa[col], pb[col]), col
