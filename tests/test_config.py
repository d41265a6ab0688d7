"""Tests for geo_dx.config: defaults, TOML files, nested tables, --weights."""

from __future__ import annotations

import pytest

from geo_dx.config import Config, config_from_dict, load_config, with_weights
from geo_dx.errors import ConfigError
from geo_dx.schema import COMPONENTS, GAP_CLASSES, TECHNOLOGIES


def test_defaults_are_the_documented_ones():
    config = Config()
    assert config.crs is None and config.assign_max_distance_m == 1000.0
    assert dict(config.coverage.default_range_m) == {
        "fibre": 1500.0, "5g": 1000.0, "4g": 4000.0, "3g": 5000.0, "2g": 8000.0}
    assert set(config.coverage.max_range_m) == set(TECHNOLOGIES)
    assert set(config.scoring.weights) == set(COMPONENTS)
    assert sum(config.scoring.weights.values()) == pytest.approx(1.0)
    assert set(config.scoring.severity) <= set(GAP_CLASSES)


def test_toml_file_overrides_only_what_it_names(tmp_path):
    path = tmp_path / "geo_dx.toml"
    path.write_text('crs = "EPSG:32648"\n[coverage.default_range_m]\n"4g" = 3000\n'
                    '[columns.communes]\nGID_3 = "commune_id"\n', encoding="utf-8")
    config = load_config(path)
    assert config.crs == "EPSG:32648"
    assert config.coverage.default_range_m["4g"] == 3000.0
    assert config.coverage.default_range_m["3g"] == 5000.0  # untouched default
    assert dict(config.columns.communes) == {"GID_3": "commune_id"}
    assert load_config(None) == Config()


@pytest.mark.parametrize(("data", "message"), [
    ({"colour": "red"}, "unknown key"),
    ({"coverage": {"default_range_m": {"6g": 10}}}, r"unknown key coverage\.default_range_m"),
    ({"coverage": {"default_range_m": {"4g": "far"}}}, "must be a number"),
    ({"scoring": {"weights": {"ethnic": -1}}}, "negative"),
    ({"terrain": {"model": "magic"}}, "terrain.model was 'magic'"),
    ({"scoring": {"normalisation": "zscore"}}, "normalisation was 'zscore'"),
    ({"columns": {"villages": {"ten": 5}}}, "must be a column name"),
])
def test_bad_values_name_the_key(data, message):
    with pytest.raises(ConfigError, match=message):
        config_from_dict(data, source="my.toml")


def test_missing_and_broken_files_name_the_file(tmp_path):
    with pytest.raises(ConfigError, match="nope.toml: config file not found"):
        load_config(tmp_path / "nope.toml")
    broken = tmp_path / "broken.toml"
    broken.write_text("crs = \n", encoding="utf-8")
    with pytest.raises(ConfigError, match="broken.toml: not valid TOML"):
        load_config(broken)


def test_with_weights_overrides_named_components_only():
    config = with_weights(Config(), "ethnic=0.5, remoteness=0")
    assert config.scoring.weights["ethnic"] == 0.5
    assert config.scoring.weights["remoteness"] == 0.0
    assert config.scoring.weights["people"] == Config().scoring.weights["people"]
    for spec, message in (("ethnic", "not name=value"), ("wealth=1", "unknown component"),
                          ("ethnic=lots", "not a number"), ("ethnic=-1", "negative")):
        with pytest.raises(ConfigError, match=message):
            with_weights(Config(), spec)


def test_config_is_frozen():
    with pytest.raises(AttributeError):
        Config().crs = "EPSG:4326"  # type: ignore[misc]
