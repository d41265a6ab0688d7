"""Generated candidate sites: DEM hill tops (thinned), masts in gap villages, 2G/3G upgrades."""

from __future__ import annotations

import numpy as np
from affine import Affine

from geo_dx.config import Config, PlanConfig
from geo_dx.dem import DemGrid
from geo_dx.plan.candidates import generate_candidates
from geo_dx.plan.model import plan
from tests.conftest import UTM48N, X0, Y0, make_coverage, make_villages

CELL_M = 100.0
N = 151  # 15.1 km square; the centre cell is (75, 75)
#: The DEM's north-west corner: the centre of cell (75, 75) is the point (X0, Y0).
ORIGIN = (X0 - 75.5 * CELL_M, Y0 + 75.5 * CELL_M)


def _cell_xy(row: int, col: int) -> tuple[float, float]:
    return ORIGIN[0] + (col + 0.5) * CELL_M, ORIGIN[1] - (row + 0.5) * CELL_M


def _dem() -> DemGrid:
    """
    A bowl (0.5 m per cell from the centre, so its only local maxima are on the rim, over
    7.5 km from the centre) with three hills: a 3 x 3 flat-topped plateau at 600 m 0.7 km
    north-east of the centre, a 500 m peak 2.5 km east, and a 700 m peak 5.5 km east,
    beyond the 4 km 4G reach of the village in the centre.
    """
    rows, cols = np.mgrid[0:N, 0:N]
    z = 0.5 * np.hypot(rows - 75, cols - 75)
    z[70:73, 80:83] = 600.0
    z[75, 100] = 500.0
    z[75, 130] = 700.0
    return DemGrid(z, Affine(CELL_M, 0, ORIGIN[0], 0, -CELL_M, ORIGIN[1]), UTM48N)


def _gaps():
    v = make_villages([(0, 0), (2_000, -3_000)], score=[50.0, 40.0])
    v["has_mobile_broadband"] = [False, True]
    v["has_fibre"] = True
    return v


def _coverage():
    # the 3G site is beyond 4G reach of V0 (5 km), the 4G site reaches only V1
    cov = make_coverage([("2g", 1_000, 0, np.nan), ("3g", 0, 5_000, np.nan),
                         ("4g", 2_000, -4_000, np.nan), ("fibre", 0, -1_000, np.nan)])
    cov["kind"] = ["site", "site", "site", "node"]
    return cov


def test_generated_candidates_say_how_they_were_made():
    cands = generate_candidates(_gaps(), coverage=_coverage(), dem=_dem(),
                                config=Config(plan=PlanConfig(candidate_spacing_m=500.0)))
    by = cands.set_index("candidate_id")
    # a mast in the one village without mobile broadband (not in the covered one)
    assert by.loc["gen-village-V0", "generated_by"] == "gap_village"
    assert by.loc["gen-village-V0", "kind"] == "new_site"
    assert (by.loc["gen-village-V0"].geometry.x, by.loc["gen-village-V0"].geometry.y) == (X0, Y0)
    assert "gen-village-V1" not in by.index
    # the existing 2G and 3G sites become upgrades; the 4G site and the fibre node do not
    upgrades = cands[cands["kind"] == "upgrade"]
    assert sorted(upgrades["generated_by"]) == ["existing_2g_site", "existing_3g_site"]
    assert sorted((g.x - X0, g.y - Y0) for g in upgrades.geometry) == [(0, 5_000), (1_000, 0)]
    # hill tops within reach of the gap village, highest first: the plateau's nine equal
    # cells are thinned to its first (north-west) cell; the 700 m peak is out of reach
    peaks = cands[cands["generated_by"] == "dem_peak"]
    assert peaks["candidate_id"].tolist() == ["gen-peak-1", "gen-peak-2"]
    assert peaks["elevation_m"].tolist() == [600.0, 500.0]
    assert [(g.x, g.y) for g in peaks.geometry] == [_cell_xy(70, 80), _cell_xy(75, 100)]
    assert len(cands) == 1 + 2 + 2
    assert set(cands["generated_by"]) == {"gap_village", "existing_2g_site",
                                          "existing_3g_site", "dem_peak"}


def test_peaks_closer_than_the_spacing_are_thinned_to_the_higher():
    dem = _dem()
    z = dem.elevation_m.copy()
    z[75, 106] = 450.0  # 600 m east of the 500 m peak: kept at a 500 m spacing
    spaced = generate_candidates(_gaps(), dem=DemGrid(z, dem.transform, dem.crs),
                                 config=Config(plan=PlanConfig(candidate_spacing_m=500.0)))
    assert sorted(spaced.loc[spaced["generated_by"] == "dem_peak", "elevation_m"]) == [
        450.0, 500.0, 600.0]
    # at a 700 m spacing the lower of the two is dropped (the local-maximum window and
    # the thinning both use the spacing)
    wide = generate_candidates(_gaps(), dem=DemGrid(z, dem.transform, dem.crs),
                               config=Config(plan=PlanConfig(candidate_spacing_m=700.0)))
    assert sorted(wide.loc[wide["generated_by"] == "dem_peak", "elevation_m"]) == [500.0, 600.0]


def test_no_dem_no_coverage_leaves_only_village_masts():
    cands = generate_candidates(_gaps())
    assert cands["generated_by"].tolist() == ["gap_village"]


def test_the_plan_reports_candidates_by_origin_and_says_how_each_item_was_made():
    result = plan(_gaps(), budget_vnd=0.5e9, coverage=_coverage(), dem=_dem(),
                  config=Config(plan=PlanConfig(weight="count")), curve=False)
    assert result.summary["candidates"]["considered"] == 5
    assert result.summary["candidates"]["by_origin"] == {
        "gap_village": 1, "existing_2g_site": 1, "existing_3g_site": 1, "dem_peak": 2}
    # 0.5 bn buys one upgrade (a new site costs 2.5 bn): the 2G site 1 km from the village
    assert result.items["kind"].tolist() == ["upgrade"]
    assert result.items["generated_by"].tolist() == ["existing_2g_site"]
    assert result.items["villages_served"].tolist() == ["V0"]
    assert result.items["cost_vnd"].tolist() == [0.5e9]
