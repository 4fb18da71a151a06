"""Loading and validating the weights file and the indicator definitions."""

import shutil

import pytest

from thuisdichtbij import ConfigError, InputFileNotFoundError, load_config
from thuisdichtbij.config import INDICATOR_IDS, default_indicators_dir

from ._reference import METHOD_SAFETY_WEIGHT, METHOD_WEIGHTS


def write(tmp_path, text, name="weights.yaml"):
    p = tmp_path / name
    p.write_text(text)
    return p


def test_defaults_follow_the_method():
    cfg = load_config()
    assert cfg.max_score == 30.5
    assert dict(cfg.weights) == {**METHOD_WEIGHTS, "safety": METHOD_SAFETY_WEIGHT}
    assert [(b.max_m, b.points) for b in cfg.bands] == [(250, 2), (500, 1)]
    assert cfg.indicator_ids == INDICATOR_IDS
    assert cfg.classification_method == "stddev"


def test_indicator_rules_are_loaded():
    cfg = load_config()
    rules = cfg.indicator("community").osm_rules
    assert (("amenity", ("community_centre",)),) in rules
    assert (
        ("amenity", ("social_facility",)),
        ("social_facility", ("day_care", "outreach", "group_home")),
    ) in rules
    assert cfg.indicator("bus_stop").gtfs


def test_user_file_changes_only_what_it_names(tmp_path):
    cfg = load_config(write(tmp_path, "weights:\n  gp: 4\n"))
    assert cfg.weights["gp"] == 4
    assert cfg.weights["supermarket"] == 3
    assert cfg.hash != load_config().hash
    assert load_config().hash == load_config().hash


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("weigths:\n  gp: 2\n", "unknown key 'weigths'"),
        ("weights:\n  dentist: 2\n", "unknown key 'weights.dentist'"),
        ("weights:\n  gp: -1\n", "'weights.gp' must be at least 0, got -1"),
        ("weights:\n  gp: lots\n", "'weights.gp' must be a number"),
        (
            "bands:\n  - {max_m: 500, points: 1}\n  - {max_m: 250, points: 2}\n",
            "bands must be increasing in max_m, got 500 then 250",
        ),
        (
            "bands:\n  - {max_m: 250, points: 1}\n  - {max_m: 500, points: 2}\n",
            "a farther band must earn fewer points",
        ),
        (
            "bands:\n  - {max: 250, points: 2}\n",
            "bands[0] must have exactly the keys max_m and points",
        ),
        (
            "classification:\n  method: jenks\n",
            "'classification.method' must be 'stddev' or 'quantile'",
        ),
        (
            "safety:\n  level_edges: [0.1, 0.0, 0.2, 0.3]\n",
            "'safety.level_edges' must be strictly increasing",
        ),
        ("safety:\n  missing: zero\n", "'safety.missing' must be 'rescale' or 'neutral'"),
        ("safety:\n  dimension: veiligheid\n", "'safety.dimension' must be one of"),
        ("weights: [1, 2]\n", "'weights' must be a mapping"),
        ("weights:\n  gp: [1\n", "not valid YAML"),
    ],
)
def test_bad_weights_file_names_file_key_and_fix(tmp_path, text, message):
    path = write(tmp_path, text)
    with pytest.raises(ConfigError) as err:
        load_config(path)
    assert message in str(err.value)
    assert str(path) in str(err.value)


def test_missing_weights_file():
    with pytest.raises(InputFileNotFoundError, match="does-not-exist.yaml does not exist"):
        load_config("does-not-exist.yaml")


@pytest.fixture()
def indicators(tmp_path):
    folder = tmp_path / "indicators"
    shutil.copytree(default_indicators_dir(), folder)
    return folder


def test_unknown_key_in_indicator_file(indicators):
    p = indicators / "gp.yaml"
    p.write_text(p.read_text() + "osm_tags: []\n")
    with pytest.raises(ConfigError, match=r"gp.yaml: unknown key 'osm_tags'; allowed keys are"):
        load_config(indicators_dir=indicators)


def test_bad_tag_value_in_indicator_file(indicators):
    (indicators / "gp.yaml").write_text("id: gp\nlabel_nl: huisarts\nosm:\n  - {amenity: {a: b}}\n")
    with pytest.raises(ConfigError, match=r"gp.yaml: osm\[0\].amenity must be a tag value"):
        load_config(indicators_dir=indicators)


def test_missing_indicator_definition(indicators):
    (indicators / "physio.yaml").unlink()
    with pytest.raises(ConfigError, match="no definition for sub-indicator\\(s\\) physio"):
        load_config(indicators_dir=indicators)


def test_unknown_indicator_id(indicators):
    (indicators / "dentist.yaml").write_text("id: dentist\nlabel_nl: tandarts\n")
    with pytest.raises(ConfigError, match="unknown sub-indicator id 'dentist'"):
        load_config(indicators_dir=indicators)


@pytest.mark.parametrize("key", ["grid_cell_m", "fallback_cell_m"])
def test_cells_under_100_m_are_refused(tmp_path, key):
    # cells are named in hectometres (E1760N3180): two 50 m cells would share one name
    f = tmp_path / "w.yaml"
    f.write_text(f"aggregation:\n  {key}: 50\n")
    with pytest.raises(ConfigError, match=f"aggregation.{key}' must be at least 100"):
        load_config(f)
    f.write_text(f"aggregation:\n  {key}: 250\n")
    assert getattr(load_config(f), key) == 250


def test_the_shipped_yaml_reads_the_same_through_libyaml():
    # configuration is read with libyaml's loader where PyYAML has it (ten times faster):
    # every shipped file (weights, studies, indicators, the source catalogue) gives what
    # PyYAML's own safe loader gives, value for value and type for type
    from pathlib import Path

    import yaml

    from thuisdichtbij.config import shipped_path
    from thuisdichtbij.config_checks import _YAML_LOADER, parse_yaml

    # libyaml's loader wherever PyYAML was built with it (its wheels are)
    assert _YAML_LOADER is (yaml.CSafeLoader if yaml.__with_libyaml__ else yaml.SafeLoader)

    files = sorted(Path(shipped_path("config")).rglob("*.yaml"))
    files += sorted(Path(default_indicators_dir()).glob("*.yaml"))
    files += sorted(Path(shipped_path("data")).glob("*.yaml"))
    assert len(files) >= 15
    for f in files:
        text = f.read_text(encoding="utf-8")
        ours, reference = parse_yaml(text), yaml.safe_load(text)
        assert ours == reference and repr(ours) == repr(reference), f
