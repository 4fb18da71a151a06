"""The data audit on hand-made frames: counts, shares and verdicts computed on paper."""

import numpy as np
import pandas as pd
import pytest
import shapely

from thuisdichtbij.analyses.audit import (
    INSUFFICIENT,
    audit_metadata,
    audit_table,
    data_status,
    finding,
    unscored_share,
    warning_text,
)
from thuisdichtbij.config import INDICATOR_IDS, load_config
from thuisdichtbij.engine.network import (
    EDGE_FOOTPATH,
    EDGE_STREET,
    EDGE_UNKNOWN,
    Network,
    edge_kinds,
)
from thuisdichtbij.errors import ConfigError


def _network(kinds):
    # edges of 300 m and 100 m in a line
    xy = np.array([[0.0, 0.0], [300.0, 0.0], [400.0, 0.0]])
    return Network.from_arrays(
        crs="EPSG:28992",
        node_xy=xy,
        edge_u=np.array([0, 1]),
        edge_v=np.array([1, 2]),
        edge_length_m=np.array([300.0, 100.0]),
        edge_geometry=np.array(
            [shapely.LineString(xy[[0, 1]]), shapely.LineString(xy[[1, 2]])], dtype=object
        ),
        edge_name=np.array([None, None], dtype=object),
        edge_kind=None if kinds is None else np.array(kinds, dtype=np.int8),
    )


def _dwellings():
    # four points standing for 1000 dwellings: weights 400, 300, 200, 100; the last unscored
    d = pd.DataFrame(
        {
            "weight": [400.0, 300.0, 200.0, 100.0],
            "snapped": [True, True, True, False],
            "area_id": ["A", "A", "B", "B"],
        }
    )
    for ind in INDICATOR_IDS:
        d[f"dist_{ind}"] = [100.0, 250.0, 400.0, np.nan]
    d["dist_gp"] = [250.01, 600.0, np.inf, np.nan]
    # a Leefbaarometer figure for 400 + 200 of the 900 scored dwellings
    d["safety_pts"] = [4.0, np.nan, 3.0, np.nan]
    return d


def _amenities(counts):
    ind = [k for k, n in counts.items() for _ in range(n)]
    return pd.DataFrame({"indicator": ind, "snapped": True})


def test_edge_kinds():
    edges = pd.DataFrame({"highway": ["residential", "footway", None, " Steps ", "pedestrian"]})
    assert edge_kinds(edges).tolist() == [
        EDGE_STREET,
        EDGE_FOOTPATH,
        EDGE_UNKNOWN,
        EDGE_FOOTPATH,
        EDGE_STREET,
    ]
    assert edge_kinds(pd.DataFrame({"name": ["x"]})).tolist() == [EDGE_UNKNOWN]


def test_network_keeps_edge_kinds_through_arrays_and_subsets():
    net = _network([EDGE_STREET, EDGE_FOOTPATH])
    again = Network.from_array_dict(net.to_arrays())
    assert again.edge_kind.tolist() == [EDGE_STREET, EDGE_FOOTPATH]
    assert net.subset(np.array([False, True])).edge_kind.tolist() == [EDGE_FOOTPATH]
    old = {k: v for k, v in net.to_arrays().items() if k != "edge_kind"}
    assert Network.from_array_dict(old).edge_kind.tolist() == [EDGE_UNKNOWN] * 2


def test_unscored_share_and_status():
    d = _dwellings()
    share = unscored_share(d, d["area_id"])
    assert share["A"] == 0.0
    assert share["B"] == pytest.approx(100 / 300)
    status = data_status(share, load_config())
    assert status.tolist() == ["ok", INSUFFICIENT]
    # exactly at the limit is still ok
    at = data_status(pd.Series([0.2]), load_config())
    assert at.tolist() == ["ok"]


def test_audit_table_on_paper():
    cfg = load_config()
    counts = {ind: 1 for ind in INDICATOR_IDS} | {"physio": 0, "gp": 1, "bus_stop": 3}
    table = audit_table(
        _dwellings(),
        _amenities(counts),
        _network([EDGE_STREET, EDGE_FOOTPATH]),
        cfg,
        statuses={"areas": pd.Series(["ok", INSUFFICIENT])},
    ).set_index("item")
    # 1 GP for 1000 dwellings = 10 per 10,000 (reference 6.2: ok)
    assert table.loc["gp", "per_10k_dwellings"] == pytest.approx(10.0)
    assert table.loc["gp", "verdict"] == "ok"
    # shares of the 900 scored dwellings: GP at 250.01 m is not within 250 m
    assert table.loc["gp", "share_within_250m"] == 0.0
    assert table.loc["gp", "share_within_500m"] == pytest.approx(400 / 900, abs=1e-4)
    assert table.loc["pharmacy", "share_within_250m"] == pytest.approx(700 / 900, abs=1e-4)
    assert table.loc["physio", "verdict"] == "ontbreekt"
    assert table.loc["physio", "note"] == "geen fysiotherapeut in de invoergegevens"
    # physio reference 14.6: 10 per 10k would be ok; pharmacies 10 vs 2.4 ok; hairdresser
    # 10 vs 10 ok; bus stops 30 vs 20 ok
    assert table.loc["hairdresser", "verdict"] == "ok"
    assert table.loc["footpath_share", "value"] == pytest.approx(0.25)
    assert table.loc["footpath_share", "verdict"] == "ok"
    assert table.loc["m_per_dwelling", "value"] == pytest.approx(0.4)
    assert table.loc["unscored_share", "value"] == pytest.approx(0.1)
    assert table.loc["areas_insufficient", "value"] == 1
    # 600 of 900 scored dwellings have a safety figure: below 1 - 20 % unscored allowed
    assert table.loc["safety_share", "value"] == pytest.approx(600 / 900)
    assert table.loc["safety_share", "verdict"] == "dun"
    md = audit_metadata(table.reset_index())
    assert md["audit_safety"] == "dun"
    assert md["audit_missing"] == "physio"
    assert md["audit_thin"] == ""
    text = warning_text(table.reset_index(), config=cfg, lang="en")
    assert "physiotherapist [missing]" in text
    assert "areas [thin]: 1 of 2" in text
    # one item's line (the site advice says it): the block's own line, nothing for an ok one
    for lang in ("nl", "en"):
        block = warning_text(table.reset_index(), config=cfg, lang=lang).splitlines()
        line = finding(table.reset_index(), "physio", config=cfg, lang=lang)
        assert f"  {line}" in block
    assert finding(table.reset_index(), "gp", config=cfg) == ""
    assert (
        "safety [thin]: 33.3% of the dwellings without a Leefbaarometer figure: the scores "
        "count the distances only, scaled up to the same maximum"
    ) in text
    assert "ontbreekt" not in text and "WAARSCHUWING" not in text
    # Dutch by default: the same findings in Dutch words, no English left
    text = warning_text(table.reset_index(), config=cfg)
    assert text.startswith("WAARSCHUWING: de invoer beperkt")
    assert "fysiotherapeut [ontbreekt]: geen in de invoer" in text
    assert "gebieden [dun]: 1 van 2 hebben te weinig gegevens" in text
    assert "Lees lage scores voor fysiotherapeut als een gat in de gegevens" in text
    for english in ("WARNING", "dwellings", "none in the input", "areas", "Treat low"):
        assert english not in text


def test_no_safety_figure_at_all_is_said():
    cfg = load_config(overrides={"safety": {"missing": "neutral"}})
    d = _dwellings()
    d["safety_pts"] = np.nan  # a scan abroad, or without the Leefbaarometer file
    table = audit_table(d, _amenities({"gp": 1}), _network([EDGE_STREET, EDGE_FOOTPATH]), cfg)
    row = table.set_index("item").loc["safety_share"]
    assert row["value"] == 0 and row["verdict"] == "ontbreekt"
    assert row["note"] == "geen Leefbaarometer-gegevens: veiligheid telt als voldoende (3 punten)"
    text = warning_text(table, config=cfg, lang="en")
    assert "  safety [missing]: no Leefbaarometer data: safety counts as sufficient" in text
    # its own threshold: 2 in 3 with a figure is thin whatever the unscored share allows
    d["safety_pts"] = [4.0, np.nan, 3.0, np.nan]
    lax = load_config(overrides={"audit": {"max_unscored_share": 0.5}})
    table = audit_table(d, _amenities({"gp": 1}), _network([EDGE_STREET, EDGE_FOOTPATH]), lax)
    assert table.set_index("item").loc["safety_share", "verdict"] == "dun"
    # weighed 0 by the configuration, safety leaves nothing out: no finding
    cfg0 = load_config(overrides={"weights": {"safety": 0}})
    d["safety_pts"] = np.nan
    table = audit_table(d, _amenities({"gp": 1}), _network([EDGE_STREET, EDGE_FOOTPATH]), cfg0)
    assert table.set_index("item").loc["safety_share", "verdict"] == "ok"
    assert "safety" not in warning_text(table, config=cfg0, lang="en")


def test_thin_and_no_footpaths():
    cfg = load_config(overrides={"audit": {"reference_per_10k_dwellings": {"gp": 25.5}}})
    table = audit_table(
        _dwellings(), _amenities({"gp": 1}), _network([EDGE_STREET, EDGE_STREET]), cfg
    ).set_index("item")
    # 10 per 10k against half of 25.5: thin
    assert table.loc["gp", "verdict"] == "dun"
    assert table.loc["footpath_share", "value"] == 0.0
    assert table.loc["footpath_share", "verdict"] == "ontbreekt"
    en, nl = warning_text(table.reset_index(), lang="en"), warning_text(table.reset_index())
    assert "0.0% footpaths: no footpaths" in en
    assert "0,0% voetpaden: geen voetpaden, looproutes zijn langer" in nl
    # numbers as each language writes them: a decimal comma in Dutch
    assert "10.0 per 10,000 dwellings (reference 25.5)" in en
    assert "10,0 per 10.000 woningen (referentie 25,5)" in nl
    assert table.loc["gp", "note"].startswith(
        "1 in de invoer, 10,0 per 10.000 woningen; landelijk 25,5"
    )
    # an untagged network is not judged
    untagged = audit_table(_dwellings(), _amenities({"gp": 1}), _network(None), cfg)
    assert untagged.set_index("item").loc["footpath_share", "verdict"] == "ok"


def test_audit_config_is_checked():
    with pytest.raises(ConfigError, match="max_unscored_share"):
        load_config(overrides={"audit": {"max_unscored_share": 2}})
    with pytest.raises(ConfigError, match="reference_per_10k_dwellings.dentist"):
        load_config(overrides={"audit": {"reference_per_10k_dwellings": {"dentist": 1}}})
