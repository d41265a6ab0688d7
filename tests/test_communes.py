"""Communes: assigning villages, and the one per-commune table every output ranks by.

Communes are the 3x3 grid of 10 km squares of ``conftest`` (ids ``C<row><col>``).
"""

from __future__ import annotations

import json
import re
import warnings

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely

from geo_dx.communes import assign_communes, summarise_communes
from geo_dx.errors import GeoDxWarning
from geo_dx.run.pipeline import RunInputs, analyse, write
from geo_dx.run.report import format_summary
from geo_dx.spatial import village_locations
from tests.conftest import UTM48N, X0, Y0, make_communes, make_villages


def gaps_frame(rows: list[tuple[str, str]]) -> gpd.GeoDataFrame:
    """Villages from (commune_id, gap_class) pairs, each placed inside its commune."""
    has_fibre = {"none": True, "no_mobile": True, "no_fibre": False, "no_fibre_no_mobile": False}
    has_mobile = {"none": True, "no_mobile": False, "no_fibre": True, "no_fibre_no_mobile": False}
    xy = [(int(cid[2]) * 10_000 + 1000 + 100 * i, int(cid[1]) * 10_000 + 1000)
          for i, (cid, _) in enumerate(rows)]
    return make_villages(xy, commune_id=[c for c, _ in rows], gap_class=[g for _, g in rows],
                         has_fibre=[has_fibre[g] for _, g in rows],
                         has_mobile_broadband=[has_mobile[g] for _, g in rows])


def test_counts_by_hand():
    table = summarise_communes(
        gaps_frame([("C00", "none"), ("C00", "no_fibre"), ("C00", "no_mobile"),
                    ("C11", "no_fibre_no_mobile")]), make_communes()).set_index("commune_id")
    c00, c11 = table.loc["C00"], table.loc["C11"]
    assert (c00["villages"], c00["with_gap"], c00["without_fibre"]) == (3, 2, 1)
    assert (c00["without_mobile_broadband"], c00["without_both"]) == (1, 0)
    assert c00["gap_share"] == pytest.approx(2 / 3)
    assert (c11["villages"], c11["with_gap"], c11["without_both"], c11["gap_share"]) == (1, 1, 1, 1)


def test_tie_on_share_broken_by_without_both_then_id():
    # A = C00 with 2 x no_fibre, B = C01 with 1 x no_fibre_no_mobile: both share 1.0;
    # B has a village without both services, so B comes first.
    table = summarise_communes(gaps_frame([("C00", "no_fibre"), ("C00", "no_fibre"),
                                           ("C01", "no_fibre_no_mobile")]), make_communes())
    assert table["commune_id"].tolist()[:2] == ["C01", "C00"]
    # Communes without villages have no share (NaN, never 0%) and come last, by id.
    assert table["gap_share"].iloc[2:].isna().all()
    assert table["commune_id"].tolist()[2:] == sorted(table["commune_id"].tolist()[2:])


def test_empty_commune_is_not_zero_share():
    table = summarise_communes(gaps_frame([("C00", "none")]), make_communes())
    assert table["commune_id"].iloc[0] == "C00" and table["gap_share"].iloc[0] == 0.0
    assert np.isnan(table.set_index("commune_id").loc["C22", "gap_share"])


def test_inputs_not_mutated():
    gaps, communes = gaps_frame([("C00", "no_fibre")]), make_communes()
    before = gaps.copy(), communes.copy()
    summarise_communes(gaps, communes)
    pd.testing.assert_frame_equal(before[0], gaps)
    pd.testing.assert_frame_equal(before[1], communes)


def test_village_locations_points_and_polygons():
    villages = make_villages([(500, 500), (15_000, 15_000)])
    villages.loc[1, "geometry"] = shapely.box(X0 + 14_000, Y0 + 14_000, X0 + 16_000,
                                              Y0 + 16_000)
    loc = village_locations(villages)
    assert loc.iloc[0].equals(villages.geometry.iloc[0])
    assert loc.iloc[1].within(villages.geometry.iloc[1])
    assert loc.crs == villages.crs


def test_assign_communes_by_column_location_and_nearest():
    villages = make_villages(
        [(500, 500), (15_000, 15_000), (-400, 5_000), (-5_000, 5_000)],
        commune_id=["C22", None, None, None])
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", GeoDxWarning)
        out = assign_communes(villages, make_communes(), max_distance_m=1000)
    # Kept as given; inside C11; 400 m west of C00 (within 1 km); 5 km out: unassigned.
    assert out["commune_id"].tolist()[:3] == ["C22", "C11", "C00"]
    assert pd.isna(out["commune_id"].iloc[3])
    assert out["commune_name"].iloc[1] == "Xã Ô 11"
    assert any("1 village(s) lie more than 1000 m" in str(w.message) for w in caught)
    assert villages["commune_id"].isna().sum() == 3  # the input is untouched


def test_console_summary_index_and_maps_rank_communes_identically(tmp_path):
    """Commune A (2 x no_fibre) and B (1 x no_fibre_no_mobile): every output says B, A."""
    communes = gpd.GeoDataFrame(
        {"commune_id": ["A", "B"], "commune_name": ["Xã A", "Xã B"]},
        geometry=[shapely.box(X0, Y0, X0 + 10_000, Y0 + 10_000),
                  shapely.box(X0 + 10_000, Y0, X0 + 20_000, Y0 + 10_000)], crs=UTM48N)
    communes.to_file(tmp_path / "communes.gpkg")
    # A's villages sit next to a 4G site (mobile, no fibre); B's village has nothing near.
    villages = make_villages([(2_000, 5_000), (2_500, 5_000), (18_000, 5_000)],
                             population=[100, 200, 300]).to_crs(4326)
    pd.DataFrame(villages.drop(columns="geometry")).assign(
        lon=villages.geometry.x, lat=villages.geometry.y).to_csv(tmp_path / "villages.csv",
                                                                  index=False)
    site = gpd.GeoDataFrame({"technology": ["4g"], "range_m": [2000.0]},
                            geometry=[shapely.Point(X0 + 2_200, Y0 + 5_000)], crs=UTM48N)
    site.to_file(tmp_path / "sites.gpkg")
    inputs = RunInputs(communes=tmp_path / "communes.gpkg", villages=tmp_path / "villages.csv",
                       coverage=(tmp_path / "sites.gpkg",), title="Two communes")
    result = analyse(inputs)
    assert result.villages["gap_class"].tolist() == ["no_fibre", "no_fibre",
                                                     "no_fibre_no_mobile"]
    out = write(result, tmp_path / "run")

    console = format_summary(result.summary)
    assert console.index("Xã B") < console.index("Xã A")
    summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    assert [c["commune_id"] for c in summary["communes"]] == ["B", "A"]
    gpkg = gpd.read_file(out / "villages.gpkg", layer="communes")
    assert gpkg["commune_id"].tolist() == ["B", "A"]
    index = (out / "index.html").read_text(encoding="utf-8")
    # The commune table (after the top villages): name link, then the id.
    rows = re.findall(r'<a href="communes/[a-z0-9-]+-(\w+)\.html">[^<]*</a></td><td>(\w+)</td>',
                      index)
    assert rows == [("B", "B"), ("A", "A")]
    page = (out / "map.html").read_text(encoding="utf-8")
    ids = re.findall(r'"properties":\{"id":"(\w+)"', page)
    assert ids == ["B", "A"]


def test_console_tells_communes_that_share_a_name_apart_by_id():
    row = {"villages": 5, "without_mobile_broadband": 1, "without_fibre": 2, "without_both": 1}
    summary = {
        "title": "Country", "language": "en",
        "totals": {"villages": 15, "without_mobile_broadband": 3, "without_fibre": 6,
                   "without_both": 3, "unassigned": 0, "warnings": 0},
        "communes": [{"commune_id": "P01-7", "commune_name": "Xã Tân Lập", **row},
                     {"commune_id": "P02-7", "commune_name": "Xã Tân Lập", **row},
                     {"commune_id": "P02-9", "commune_name": "Xã Nà Tấu", **row}],
    }
    lines = format_summary(summary).splitlines()
    assert any(line.startswith("Xã Tân Lập (P01-7) ") for line in lines)
    assert any(line.startswith("Xã Tân Lập (P02-7) ") for line in lines)
    assert any(line.startswith("Xã Nà Tấu ") for line in lines)
    assert "P02-9" not in "\n".join(lines)
    # the one name shown once in the table is still repeated in the whole run: both show ids
    one = format_summary(summary, max_communes=1)
    assert "Xã Tân Lập (P01-7)" in one and "P02-7" not in one
