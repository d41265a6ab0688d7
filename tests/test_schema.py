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
    i18n (the labels of its codes), columns (header recognition) and cells (cell values),
    which import at most errors and columns (the whole package: tests/test_layout.py)."""
    import ast
    import inspect

    from geo_dx import columns, i18n

    def imported(module):
        tree = ast.parse(inspect.getsource(module))
        return {node.module for node in ast.walk(tree)
                if isinstance(node, ast.ImportFrom) and node.module
                and node.module.startswith("geo_dx")}

    from geo_dx import tables as cells
    assert imported(schema) == {"geo_dx.errors", "geo_dx.i18n", "geo_dx.columns", "geo_dx.tables"}
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
