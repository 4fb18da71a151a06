"""The rollator profile: the ways it drops, what it cannot judge, the walks it lengthens."""

import json

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest

from thuisdichtbij import load_config, scan
from thuisdichtbij.apps.cli import main
from thuisdichtbij.engine.network import profile_audit, walkable
from thuisdichtbij.errors import ConfigError

from ._synthetic import write_study

ROLLATOR = {"network": {"profile": "rollator"}}


def test_rollator_rules_by_hand():
    rules = load_config(overrides=ROLLATOR).profile_rules
    edges = pd.DataFrame(
        {
            "highway": [
                "steps",
                "footway",
                "footway",
                "path",
                "residential",
                "footway",
                "motorway",
            ],
            "surface": ["paved", "gravel", None, "asphalt", "Asphalt", None, None],
            "smoothness": [None, None, "very_bad", "intermediate", None, None, None],
            "wheelchair": [None, None, None, None, "no", None, None],
        }
    )
    assert walkable(edges).tolist() == [True] * 6 + [False]
    assert walkable(edges, exclude=rules).tolist() == [
        False,
        False,
        False,
        True,
        False,
        True,
        False,
    ]
    audit = profile_audit(edges, rules)
    assert audit["ways"] == 6 and audit["dropped"] == 4
    assert audit["surface"] == {"dropped": 1, "untagged": 2}
    assert audit["smoothness"] == {"dropped": 1, "untagged": 4}
    assert audit["kerb"] == "no column"


def test_profile_must_exist_and_values_be_strings(tmp_path):
    with pytest.raises(ConfigError, match="'network.profile' is 'scooter'"):
        load_config(overrides={"network": {"profile": "scooter"}})
    p = tmp_path / "w.yaml"
    p.write_text("profiles: {strict: {wheelchair: [no]}}\nnetwork: {profile: strict}\n")
    with pytest.raises(ConfigError, match='write "no"'):
        load_config(p)


def test_rollator_scan_by_hand(tmp_path):
    """The side street's stretch from y=100 to y=200 is very bumpy (smoothness=horrible).

    Without it the side street above y=200 (with the footway: 700 m) hangs apart from the
    main street: D2 at (500, 300) keeps its GP (50 m) and bus stop (300 m) but can no longer
    reach the pharmacy (450 m: 1 pt) and the drugstore (400 m: 1 pt): 9.5 -> 7.5. D1, D3
    and D4 walk along the main street only and keep their scores.
    """
    study = write_study(tmp_path)
    streets = gpd.read_file(tmp_path / "streets.gpkg", layer="edges")
    y0 = streets.to_crs(28992).geometry.bounds["miny"] - 318000
    bumpy = (streets["name"] == "Zijstraat") & np.isclose(y0, 100, atol=0.01)
    assert bumpy.sum() == 1
    streets["smoothness"] = np.where(bumpy, "horrible", None)
    streets.to_file(tmp_path / "streets.gpkg", layer="edges")
    base = scan(study, data_dir=tmp_path).dwellings.set_index("dwelling_id")
    r = scan(study, data_dir=tmp_path, config=load_config(overrides=ROLLATOR))
    d = r.dwellings.set_index("dwelling_id")
    assert d.loc["D2", ["dist_gp", "dist_bus_stop"]].tolist() == pytest.approx([50, 300], abs=0.01)
    assert np.isinf(d.loc["D2", ["dist_pharmacy", "dist_drugstore"]].astype(float)).all()
    assert base.loc["D2", "score"] == 9.5 and d.loc["D2", "score"] == 7.5
    for dw in ("D1", "D3", "D4"):
        assert d.loc[dw, "score"] == base.loc[dw, "score"]
    md = r.metadata
    assert md["profile"] == "rollator"
    counts = json.loads(md["profile_counts"])
    assert counts["ways"] == 17 and counts["dropped"] == 1  # 18 ways, the motorway never walks
    assert counts["smoothness"] == {"dropped": 1, "untagged": 16}
    assert (
        "not judged, the input has no such tag or column: surface, wheelchair, kerb"
        in (md["profile_audit"])
    )


def test_cli_profile(tmp_path):
    study = write_study(tmp_path)
    out = tmp_path / "r.gpkg"
    args = ["scan", "--study", str(study), "--data-dir", str(tmp_path), "--out", str(out), "-q"]
    assert main([*args, "--profile", "rollator"]) == 0
    assert main([*args, "--profile", "scooter"]) == 2
