"""Tests for geo_dx.config: defaults, TOML files, --weights; the whole configuration is
validated at load time, naming the file, the key and the value."""

from __future__ import annotations

import pytest

from geo_dx.config import Config, config_from_dict, load_config, with_weights
from geo_dx.config_checks import check_crs
from geo_dx.errors import ConfigError, InputError
from geo_dx.schema import COMPONENTS, GAP_CLASSES, TECHNOLOGIES
from geo_dx.spatial import check_crs_covers
from tests.conftest import make_villages


def load(tmp_path, text: str, *, encoding: str = "utf-8", name: str = "geo_dx.toml"):
    path = tmp_path / name
    path.write_bytes(text.encode(encoding))
    return load_config(path)


@pytest.mark.parametrize(
    ("text", "key", "value"),
    [
        ("[terrain]\nk_factor = 0", "terrain.k_factor", "0"),
        ("[terrain]\nk_factor = -1.3", "terrain.k_factor", "-1.3"),
        ("[terrain]\nreceiver_height_m = -1.5", "terrain.receiver_height_m", "-1.5"),
        ("[terrain]\nantenna_height_m = -30", "terrain.antenna_height_m", "-30"),
        ("[scoring]\nsensitivity_draws = -5", "scoring.sensitivity_draws", "-5"),
        ("[scoring]\nsensitivity_draws = 1e8", "scoring.sensitivity_draws", "100000000"),
        ("[scoring]\ntop_n = -1", "scoring.top_n", "-1"),
        ("[scoring]\nhousehold_size = -4.5", "scoring.household_size", "-4.5"),
        ("[scoring]\nhousehold_size = 0", "scoring.household_size", "0"),
        ("[scoring]\nseed = -1", "scoring.seed", "-1"),
        ("[scoring.severity]\nno_mobile = -0.7", "scoring.severity.no_mobile", "-0.7"),
        ("[scoring.severity]\nno_mobile = 7", "scoring.severity.no_mobile", "7"),
        ("[scoring]\ncluster_radius_m = 0", "scoring.cluster_radius_m", "0"),
        ("[remoteness]\nwalking_speed_kmh = 0", "remoteness.walking_speed_kmh", "0"),
        ("[measured]\nmin_tests = -3", "measured.min_tests", "-3"),
        ("assign_max_distance_m = -1", "assign_max_distance_m", "-1"),
    ],
)
def test_impossible_values_name_file_key_value_and_range(tmp_path, text, key, value):
    with pytest.raises(ConfigError) as err:
        load(tmp_path, text)
    message = str(err.value)
    assert message.startswith(str(tmp_path / "geo_dx.toml") + ": ")
    assert f"{key} = {value} is" in message and "allowed: " in message


@pytest.mark.parametrize(
    "text",
    [
        "[coverage.max_range_m]\n\"4g\" = nan",
        "[coverage.default_range_m]\nfibre = inf",
        "assign_max_distance_m = nan",
        "[terrain]\nclearance_m = nan",
        "[scoring.weights]\nethnic = nan",
    ],
)
def test_nan_and_infinity_are_refused(tmp_path, text):
    with pytest.raises(ConfigError, match="give a finite number"):
        load(tmp_path, text)


def test_whole_numbers_are_not_truncated(tmp_path):
    with pytest.raises(ConfigError, match="scoring.top_n must be a whole number, got 2.5"):
        load(tmp_path, "[scoring]\ntop_n = 2.5")
    assert load(tmp_path, "[scoring]\ntop_n = 30.0").scoring.top_n == 30


def test_sane_values_load(tmp_path):
    config = load(tmp_path, "[terrain]\nk_factor = 1.0\nreceiver_height_m = 0\n"
                            "[scoring]\nsensitivity_draws = 0\nseed = 0\n")
    assert (config.terrain.k_factor, config.scoring.sensitivity_draws) == (1.0, 0)


@pytest.mark.parametrize(
    ("crs", "message"),
    [
        ("EPSG:4326", "crs = 'EPSG:4326' is geographic (degrees)"),
        ("EPSG:99999", "crs = 'EPSG:99999' is not a CRS pyproj understands"),
        ("UTM 48N", "crs = 'UTM 48N' is not a CRS pyproj understands"),
        ("EPSG:2263", "measures in US survey foot, not metres"),
    ],
)
def test_crs_must_parse_and_be_projected_in_metres(tmp_path, crs, message):
    with pytest.raises(ConfigError) as err:
        load(tmp_path, f'crs = "{crs}"')
    assert message in str(err.value)


def test_crs_must_cover_the_data():
    villages = make_villages([(0, 0), (20_000, 20_000)])  # near 103.0°E, 21.3°N
    check_crs_covers("EPSG:32648", villages)
    check_crs_covers("EPSG:3405", villages)  # VN-2000 / UTM zone 48N
    with pytest.raises(InputError, match=r"'EPSG:32631' .*is for lon 0\.\.6.* use "
                                         r"crs = \"EPSG:32648\""):
        check_crs_covers("EPSG:32631", villages)
    with pytest.raises(InputError, match="EPSG:32648"):
        check_crs_covers("EPSG:32645", villages)  # 9° west: too far


def test_cp1258_is_refused_and_a_bom_is_accepted(tmp_path):
    text = '[columns.villages]\n"Tên bản" = "village_name"\n'
    legacy = '[columns.villages]\n"Tên ba\u0309n" = "village_name"\n'  # cp1258 has no ả
    with pytest.raises(ConfigError, match="not UTF-8 .*save it as UTF-8"):
        load(tmp_path, legacy, encoding="cp1258")
    config = load(tmp_path, text, encoding="utf-8-sig")
    assert dict(config.columns.villages) == {"Tên bản": "village_name"}


def test_a_folder_as_config_is_one_clear_error(tmp_path):
    with pytest.raises(ConfigError, match="is a folder; --config needs a .toml file"):
        load_config(tmp_path)


def test_two_columns_mapped_onto_one_are_refused(tmp_path):
    with pytest.raises(ConfigError, match="maps 'ten', 'name' all onto 'village_name'"):
        load(tmp_path, '[columns.villages]\nten = "village_name"\nname = "village_name"\n')


def test_check_crs_returns_the_parsed_crs():
    assert check_crs("EPSG:32648").to_epsg() == 32648


def test_weights_override_refuses_nan():
    with pytest.raises(ConfigError, match="--weights: scoring.weights.ethnic"):
        with_weights(Config(), "ethnic=nan")


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


def test_a_config_built_in_python_is_checked_like_a_toml_file(tmp_path):
    import dataclasses

    from geo_dx.config import TerrainConfig

    with pytest.raises(ConfigError, match=r"^Config: crs = 'EPSG:4326' is geographic"):
        Config(crs="EPSG:4326")
    with pytest.raises(ConfigError, match=r"^Config: terrain.antenna_height_m = 100000 is out "
                                          r"of range; allowed: >= 0 and <= 1000"):
        Config(terrain=TerrainConfig(antenna_height_m=100_000.0))
    with pytest.raises(ConfigError, match="crs = 'EPSG:4326' is geographic"):
        dataclasses.replace(Config(), crs="EPSG:4326")
    # the TOML path runs the same check and names the file
    with pytest.raises(ConfigError, match=r"geo_dx\.toml: crs = 'EPSG:4326' is geographic"):
        load(tmp_path, 'crs = "EPSG:4326"')
    assert Config(crs="EPSG:32648").crs == "EPSG:32648"
