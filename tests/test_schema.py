"""Tests for geo_dx.schema: the contracts (constants defined once), and layer validation.

Reading files is tested in ``test_io``; here the validators get in-memory layers.
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from hypothesis import given
from hypothesis import strategies as st

from geo_dx import schema
from geo_dx.errors import InputError
from geo_dx.schema import (
    GAP_CLASSES,
    GAP_COLOURS,
    GAP_LABELS,
    GAPS,
    MOBILE_BROADBAND,
    MOBILE_ORDER,
    TECHNOLOGIES,
    TECHNOLOGY_ALIASES,
    normalise_technology,
    validate_coverage,
    validate_villages,
)


def test_contract_constants_are_consistent():
    assert GAP_CLASSES[-1] == "none" and GAPS == GAP_CLASSES[:-1]
    assert list(GAP_LABELS) == list(GAP_CLASSES) == list(GAP_COLOURS)
    assert set(MOBILE_BROADBAND) < set(MOBILE_ORDER) < set(TECHNOLOGIES)
    assert set(TECHNOLOGY_ALIASES.values()) == set(TECHNOLOGIES)
    assert all(TECHNOLOGY_ALIASES[t] == t for t in TECHNOLOGIES)


def test_schema_imports_no_later_module():
    """schema is first in the flow: among geo_dx modules it imports only the leaves errors,
    i18n (the labels of its codes), columns (header recognition), cells (cell values) and
    spatial (the geometry rules), which import at most errors, columns and cells (the
    whole package: tests/test_layout.py)."""
    import ast
    import inspect

    from geo_dx import columns, i18n, spatial

    def imported(module):
        tree = ast.parse(inspect.getsource(module))
        return {node.module for node in ast.walk(tree)
                if isinstance(node, ast.ImportFrom) and node.module
                and node.module.startswith("geo_dx")}

    from geo_dx import tables as cells
    assert imported(schema) == {"geo_dx.errors", "geo_dx.i18n", "geo_dx.columns", "geo_dx.tables",
                                "geo_dx.spatial"}
    assert imported(spatial) == {"geo_dx.errors", "geo_dx.tables"}
    assert imported(i18n) == {"geo_dx.errors"}
    assert imported(columns) <= {"geo_dx.errors"}
    assert imported(cells) == {"geo_dx.errors", "geo_dx.columns"}


@given(st.sampled_from(sorted(TECHNOLOGY_ALIASES)), st.sampled_from([str.upper, str.title,
                                                                      lambda s: f"  {s} "]))
def test_every_alias_in_any_case_normalises(alias, spell):
    assert normalise_technology(pd.Series([spell(alias)])).tolist() == [TECHNOLOGY_ALIASES[alias]]


def test_unknown_technology_names_the_row_and_the_allowed_values():
    with pytest.raises(InputError, match=r"sites.csv: column 'technology' has unknown.*'wifi'"):
        normalise_technology(pd.Series(["4g", "wifi"]), source="sites.csv")


def test_validate_villages_cleans_a_copy():
    raw = gpd.GeoDataFrame(
        {"village_id": [1, 2], "village_name": ["Bản A", " "],
         "especially_difficult": ["có", "không"], "population": ["120", ""]},
        geometry=[shapely.Point(103.0, 21.4), shapely.Point(103.1, 21.5)], crs=4326)
    before = raw.copy()
    out = validate_villages(raw, source="v.gpkg")
    assert out["village_id"].tolist() == ["1", "2"]
    assert out["especially_difficult"].tolist() == [True, False]
    assert out["population"].iloc[0] == 120 and np.isnan(out["population"].iloc[1])
    pd.testing.assert_frame_equal(raw, before)


def test_validate_coverage_defaults_kind_and_source():
    raw = gpd.GeoDataFrame({"technology": ["LTE", "ftth"]},
                           geometry=[shapely.Point(103.0, 21.4)] * 2, crs=4326)
    out = validate_coverage(raw, source="c.gpkg")
    assert out["technology"].tolist() == ["4g", "fibre"]
    assert out["kind"].tolist() == ["site", "node"]
    assert out["source"].tolist() == ["declared", "declared"]


# --------------------------------------------------------------------- numbers that cannot be right

def _points(n, **columns):
    return gpd.GeoDataFrame(
        {"village_id": [f"V{i}" for i in range(n)], "village_name": [f"Bản {i}" for i in range(n)],
         **columns},
        geometry=[shapely.Point(103.0 + i * 0.01, 21.4) for i in range(n)], crs=4326)


def _sites(n, **columns):
    return gpd.GeoDataFrame({"technology": ["4g"] * n, **columns},
                            geometry=[shapely.Point(103.0 + i * 0.01, 21.4) for i in range(n)],
                            crs=4326)


def test_fractional_head_counts_warn():
    # "1.250" in a file whose coordinates use decimal points reads 1.25 people
    with pytest.warns(schema.GeoDxWarning, match=r"column 'population' has fractional head "
                                                 r"counts \(1\.25 at row 2\)"):
        out = validate_villages(_points(3, population=["80", "1.25", None]))
    assert out["population"].iloc[1] == 1.25  # kept as read: a warning, not a guess


def test_whole_head_counts_do_not_warn():
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        validate_villages(_points(2, population=[80.0, 1250.0], households=["20", None]))


@pytest.mark.parametrize(("column", "value"), [("antenna_height_m", 100_000.0),
                                               ("range_m", 5e6), ("download_kbps", 1e9)])
def test_input_columns_obey_the_configs_caps(column, value):
    cap = schema.COLUMN_MAXIMA[column]
    with pytest.raises(InputError, match=rf"column '{column}' has value {value:.0f} at row 2; "
                                         rf"allowed 0\.\.{cap:.0f}$"):
        validate_coverage(_sites(2, **{column: [30.0, value]}))
    assert validate_coverage(_sites(1, **{column: [cap]}))[column].iloc[0] == cap


def test_the_config_uses_the_same_caps():
    from geo_dx.config_checks import BOUNDS, MAPPING_BOUNDS

    assert BOUNDS["terrain.antenna_height_m"][1] == schema.COLUMN_MAXIMA["antenna_height_m"]
    assert MAPPING_BOUNDS["coverage.max_range_m"][1] == schema.COLUMN_MAXIMA["range_m"]


def test_candidate_antenna_height_is_capped_too():
    cands = gpd.GeoDataFrame({"candidate_id": ["A"], "antenna_height_m": [100_000.0]},
                             geometry=[shapely.Point(103, 21.4)], crs=4326)
    with pytest.raises(InputError, match="column 'antenna_height_m' has value 100000"):
        schema.validate_candidates(cands)


def test_measurements_dated_after_the_run_are_refused():
    future = (pd.Timestamp.now() + pd.Timedelta(days=30)).strftime("%Y-%m-%d")
    cov = _sites(3, kind=["measurement"] * 3, rsrp_dbm=[-120.0] * 3,
                 measured_at=["2025-03-14", future, "2025-03-15T08:00:00+07:00"])
    with pytest.raises(InputError, match=rf"'measured_at' has 1 date\(s\) after the run date "
                                         rf".*\(e\.g\. {future} at row 2\)"):
        validate_coverage(cov)
    tomorrow = (pd.Timestamp.now() + pd.Timedelta(days=1)).strftime("%Y-%m-%d")
    ok = validate_coverage(_sites(1, measured_at=[tomorrow]))  # time zones: a day of margin
    assert ok["measured_at"].iloc[0] == pd.Timestamp(tomorrow)


def test_control_characters_are_stripped_at_read_and_counted():
    with pytest.warns(schema.GeoDxWarning, match=r"removed control characters .* from 2 text "
                                                 r"cell\(s\) \(column 'village_name' at rows "
                                                 r"1, 3\)"):
        out = validate_villages(_points(3).assign(
            village_name=["Bản Nà\x00 Sáy", "Bản Huổi", "Bản\r\nMới\x07"]))
    # the GeoPackage (which would end the name at NUL) and the map now show the same text
    assert out["village_name"].tolist() == ["Bản Nà Sáy", "Bản Huổi", "Bản Mới"]


def test_villages_stacked_at_one_point_warn():
    stacked = _points(10_000).assign(geometry=shapely.Point(103.0, 21.4))
    stacked = pd.concat([stacked, _points(2).assign(village_id=["A", "B"])], ignore_index=True)
    stacked = gpd.GeoDataFrame(stacked, geometry="geometry", crs=4326)
    with pytest.warns(schema.GeoDxWarning, match=r"10001 villages share 1 location\(s\); the "
                                                 r"largest stack holds 10001 villages at lon "
                                                 r"103\.00000, lat 21\.40000 \(e\.g\. 'V0'\)"):
        validate_villages(stacked)


def test_blank_technology_is_named_plainly():
    cov = _sites(3, range_m=[1.0, 2.0, 3.0]).assign(technology=["4g", None, " "])
    with pytest.raises(InputError) as err:
        validate_coverage(cov)
    assert str(err.value) == ("coverage: column 'technology' is blank at rows 2, 3; give each "
                              "coverage point its technology (fibre, 5g, 4g, 3g, 2g) or remove "
                              "those rows")


def test_infinite_range_says_the_value_plainly():
    with pytest.raises(InputError) as err:
        validate_coverage(_sites(1, range_m=[np.float64("inf")]))
    assert "got inf at row 1" in str(err.value) and "np.float64" not in str(err.value)
