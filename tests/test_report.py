"""Outputs: formula neutralising, priority order, atomic writes."""

from __future__ import annotations

import geopandas as gpd
import pandas as pd
import pytest
import shapely

from geo_dx.communes import summarise_communes
from geo_dx.errors import GeoDxError
from geo_dx.run.report import neutralise_formulas, priority_table
from tests.conftest import make_communes


@pytest.mark.parametrize("text", ["=1+1", "+1", "-2", "@SUM(A1)", "\tx", "\rx"])
def test_formula_starts_are_neutralised(text):
    out = neutralise_formulas(pd.DataFrame({"name": [text], "n": [-5]}))
    assert out["name"].iloc[0] == "'" + text
    assert out["n"].iloc[0] == -5  # numbers untouched


def test_plain_text_is_untouched():
    names = ["Bản Nà Sáy", "Tiểu khu 3", "a=b"]
    assert neutralise_formulas(pd.DataFrame({"name": names}))["name"].tolist() == names


def make_gaps() -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(
        {
            "village_id": ["a", "b", "c"],
            "village_name": ["A", "B", "C"],
            "commune_id": ["C00", "C00", "C11"],
            "has_fibre": [True, False, False],
            "has_mobile_broadband": [True, True, False],
            "gap_class": ["none", "no_fibre", "no_fibre_no_mobile"],
            "score": [float("nan"), 40.0, 90.0],
            "rank": [float("nan"), 2, 1],
        },
        geometry=[shapely.Point(500_500, 2_360_500), shapely.Point(501_000, 2_361_000),
                  shapely.Point(515_000, 2_375_000)],
        crs=32648,
    )


def test_priority_table_only_gaps_in_rank_order_with_wgs84_coordinates():
    table = priority_table(make_gaps())
    assert table["village_id"].tolist() == ["c", "b"]
    assert table["rank"].tolist() == [1, 2]
    assert table["lon"].iloc[0] == pytest.approx(105.1448, abs=1e-3)  # UTM 48N x 515 km
    assert table["lat"].iloc[0] == pytest.approx(21.4775, abs=1e-3)


def test_commune_counts_worst_first():
    counts = summarise_communes(make_gaps(), make_communes())
    first = counts.iloc[0]
    assert (first["commune_id"], first["villages"], first["without_both"]) == ("C11", 1, 1)
    c00 = counts.set_index("commune_id").loc["C00"]
    assert (c00["villages"], c00["without_fibre"], c00["without_mobile_broadband"]) == (2, 1, 0)


def test_failed_write_leaves_the_folder_as_it_was(tmp_path):
    from tests.test_folder import tree, write

    out = write(tmp_path / "run")
    before = tree(out)

    def broken_map(staging):
        (staging / "map.html").write_text("half", encoding="utf-8")
        raise GeoDxError("map failed")

    with pytest.raises(GeoDxError, match="map failed"):
        write(out, broken_map)
    assert tree(out) == before
    assert [p.name for p in tmp_path.iterdir()] == ["run"]
    write(out)
    assert (out / "priority.csv").read_text(encoding="utf-8-sig").startswith("rank,village_id")
