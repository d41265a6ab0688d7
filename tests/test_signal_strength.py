"""The itm mobile model: predicted signal over hand-built DEMs, and its calibration."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import shapely
from affine import Affine
from pyproj import CRS

from geo_dx.config import Config, config_from_dict
from geo_dx.dem import DemGrid
from geo_dx.errors import GeoDxWarning, InputError
from geo_dx.gaps import find_gaps
from geo_dx.schema import validate_coverage, validate_villages
from geo_dx.signal.calibration import Calibration, fit_offsets
from geo_dx.signal.itm import TerrainProfiles, itm_loss_db
from geo_dx.signal.strength import (
    best_per_target,
    calibrate_signal,
    median_signal,
    pair_profiles,
    predict_pairs,
)
from tests.conftest import X0, Y0, make_coverage, make_villages

UTM48 = CRS.from_epsg(32648)
ITM = config_from_dict({"terrain": {"model": "itm"}})


def flat_dem(size_km: int = 30, z: float = 200.0) -> DemGrid:
    """A flat 100 m DEM over the test area (x, y offsets 0..size_km km)."""
    n = size_km * 10
    return DemGrid(np.full((n, n), z), Affine(100, 0, X0, 0, -100, Y0 + n * 100), UTM48)


def ridge_dem() -> DemGrid:
    """Flat at 200 m, with a 400 m north-south ridge at x = 10 km (east of the site)."""
    dem = flat_dem()
    x = X0 + (np.arange(dem.shape[1]) + 0.5) * 100
    z = dem.elevation_m + 400 * np.exp(-(((x - X0 - 10_000) / 300) ** 2))[None, :]
    return DemGrid(z, dem.transform, dem.crs)


def test_profiles_sample_the_dem_every_step_with_both_ends():
    dem = DemGrid(np.tile(np.arange(20.0), (5, 1)), Affine(100, 0, 0, 0, -100, 500), UTM48)
    p = pair_profiles(dem, np.array([[50.0, 250.0], [50.0, 250.0]]),
                      np.array([[1050.0, 250.0], [250.0, 250.0]]), step_m=100.0)
    # column index = elevation: samples at x = 50, 150, ... 1050 -> 0..10; and the
    # shortest profile still has two intervals
    assert p.elevation_m[p.offsets[0]:p.offsets[1]].tolist() == list(np.arange(11.0))
    assert p.elevation_m[p.offsets[1]:p.offsets[2]].tolist() == [0.0, 1.0, 2.0]
    assert p.distance_m.tolist() == [1000.0, 200.0]


def test_unknown_samples_are_interpolated_along_the_profile():
    z = np.tile(np.arange(20.0) * 10, (5, 1))
    z[:, 4:7] = np.nan  # a nodata hole across the path
    dem = DemGrid(z, Affine(100, 0, 0, 0, -100, 500), UTM48)
    p = pair_profiles(dem, np.array([[50.0, 250.0]]), np.array([[1050.0, 250.0]]), step_m=100)
    assert np.allclose(p.elevation_m, np.arange(11.0) * 10)


def test_signal_is_eirp_minus_itm_loss_on_flat_ground():
    dem = flat_dem()
    sites = np.array([[X0 + 1_000.0, Y0 + 15_000.0]])
    targets = np.array([[X0 + 1_000.0 + d, Y0 + 15_000.0] for d in (2_000.0, 5_000.0, 9_000.0)])
    pairs = predict_pairs(dem, sites, np.array(["4g"]), np.array([10_000.0]), targets,
                          signal=ITM.signal, terrain=ITM.terrain)
    # brute force: the same flat profiles through itm directly
    d = np.array([2_000.0, 5_000.0, 9_000.0])
    profiles = TerrainProfiles.from_list([np.full(int(x / 100) + 1, 200.0) for x in d], d)
    loss, _ = itm_loss_db(profiles, frequency_mhz=1800.0, tx_height_m=30.0, rx_height_m=1.5,
                          climate="continental_subtropical", surface_refractivity_n=320.0,
                          time_pct=50, location_pct=90, situation_pct=90)
    pairs = pairs.sort_values("distance_m")
    np.testing.assert_allclose(pairs["signal_dbm"], 30.0 - loss, atol=1e-6)
    np.testing.assert_allclose(pairs["margin_db"], 30.0 - loss + 110.0, atol=1e-6)
    assert pairs["signal_dbm"].is_monotonic_decreasing


def test_signal_drops_behind_a_ridge_and_the_village_is_not_covered():
    # site at x = 6 km; villages 4 km west (open) and 4 km east (behind the ridge at 10 km)
    villages = make_villages([(2_000, 15_000), (14_000, 15_000)])
    cov = make_coverage([("4g", 6_000, 15_000, 8_000.0)], kind=["site"], site_id=["S1"])
    out = find_gaps(validate_villages(villages), validate_coverage(cov), config=ITM,
                    dem=ridge_dem())
    open_, shadow = out["mobile_signal_dbm"].tolist()
    assert shadow < open_ - 20
    assert out["has_mobile_broadband"].tolist() == [True, False]
    assert out["has_mobile_broadband_radius"].tolist() == [True, True]
    assert out["has_mobile_broadband_terrain"].tolist() == [True, False]
    assert out["mobile_best_site"].tolist() == ["S1", "S1"]
    assert out["mobile_margin_db"].tolist() == pytest.approx(
        (out["mobile_signal_dbm"] + 110).tolist(), abs=0.11)
    assert out["mobile_confidence"].tolist() == ["modelled", "none"]


def test_site_eirp_override_and_threshold_decide_coverage():
    weak = config_from_dict({"terrain": {"model": "itm"}, "signal": {"eirp_dbm": {"4g": 0.0}}})
    villages = validate_villages(make_villages([(12_000, 15_000)]))
    site = [("4g", 6_000, 15_000, 8_000.0)]
    base = find_gaps(villages, validate_coverage(make_coverage(site)), config=weak,
                     dem=flat_dem())
    margin = float(base["mobile_margin_db"].iloc[0])
    assert margin < 0 and not bool(base["has_mobile_broadband"].iloc[0])
    # a site EIRP that makes up the missing margin covers the village; just short does not
    for extra, want in ((0.2, True), (-0.2, False)):
        own = validate_coverage(make_coverage(site, eirp_dbm=[-margin + extra]))
        out = find_gaps(villages, own, config=weak, dem=flat_dem())
        assert bool(out["has_mobile_broadband"].iloc[0]) is want
    # and so does a threshold lowered below the predicted signal
    low = config_from_dict({"terrain": {"model": "itm"},
                            "signal": {"eirp_dbm": {"4g": 0.0},
                                       "threshold_dbm": {"4g": -110.0 + margin - 0.2}}})
    out = find_gaps(villages, validate_coverage(make_coverage(site)), config=low, dem=flat_dem())
    assert bool(out["has_mobile_broadband"].iloc[0])


def test_best_site_is_the_largest_margin_across_technologies():
    pairs = pd.DataFrame({"site": [0, 1, 2], "target": [0, 0, 1],
                          "signal_dbm": [-105.0, -98.0, -90.0], "margin_db": [5.0, 2.0, -1.0]})
    best = best_per_target(pairs, 3)
    assert best["site"].tolist() == [0, 2, -1]
    assert best["signal_dbm"].iloc[0] == -105.0 and np.isnan(best["margin_db"].iloc[2])


def test_itm_needs_a_dem():
    villages = validate_villages(make_villages([(0, 0)]))
    cov = validate_coverage(make_coverage([("4g", 0, 0, 1000.0)]))
    with pytest.raises(InputError, match="terrain.model is 'itm' but no DEM"):
        find_gaps(villages, cov, config=ITM)


def test_config_rejects_bad_signal_options():
    with pytest.raises(InputError, match="signal.climate was 'tropical'"):
        config_from_dict({"signal": {"climate": "tropical"}})
    with pytest.raises(InputError, match="signal.location_pct"):
        config_from_dict({"signal": {"location_pct": 100}})
    with pytest.raises(InputError, match="unknown key 'signal.eirp_dbm.'fibre''|fibre"):
        config_from_dict({"signal": {"eirp_dbm": {"fibre": 10}}})


# -- calibration ----------------------------------------------------------------------


def test_fit_recovers_offsets_per_technology_and_operator_with_honest_holdout():
    rng = np.random.default_rng(5)
    n = 600
    pred = rng.uniform(-120, -70, n)
    tech = np.where(np.arange(n) % 2 == 0, "4g", "3g")
    op = np.where(np.arange(n) % 3 == 0, "VNPT", "Viettel")
    truth = {("4g", "VNPT"): -8.0, ("4g", "Viettel"): -2.0, ("3g", "VNPT"): 4.0,
             ("3g", "Viettel"): 1.0}
    shift = np.array([truth[(t, o)] for t, o in zip(tech, op, strict=True)])
    cal = fit_offsets(pred, pred + shift + rng.normal(0, 1.0, n), tech, op,
                      holdout_share=0.3, seed=1)
    for key, value in truth.items():
        assert cal.offsets_db[key] == pytest.approx(value, abs=0.3)
    report = cal.report
    assert report["before"]["n"] == 180 and report["n_train"] == 420
    assert report["after"]["rmse_db"] < 1.3 < report["before"]["rmse_db"]
    assert abs(report["after"]["mean_db"]) < 0.3


def test_unknown_group_falls_back_to_technology_then_zero():
    cal = Calibration({("4g", ""): -3.0, ("4g", "VNPT"): -5.0})
    assert cal.offset_for(np.array(["4g", "4g", "3g"]),
                          np.array(["VNPT", "Mobifone", "VNPT"])).tolist() == [-5.0, -3.0, 0.0]


def test_calibration_recovers_an_injected_offset_end_to_end():
    dem = ridge_dem()
    rng = np.random.default_rng(9)
    site = (6_000.0, 15_000.0)
    pts = [(site[0] + r * np.cos(a), site[1] + r * np.sin(a))
           for r, a in zip(rng.uniform(1_000, 7_000, 120), rng.uniform(0, 2 * np.pi, 120),
                           strict=True)]
    cov = validate_coverage(make_coverage([("4g", *site, 8_000.0)]))
    probe = predict_pairs(dem, np.array([[X0 + site[0], Y0 + site[1]]]), np.array(["4g"]),
                          np.array([8_000.0]),
                          np.array([[X0 + x, Y0 + y] for x, y in pts]),
                          terrain=ITM.terrain, signal=median_signal(ITM.signal)
                          ).sort_values("target")
    # phones report down to about -140 dBm: keep the points a phone could measure
    keep = (probe["signal_dbm"] > -130).to_numpy()
    pts = [p for p, k in zip(pts, keep, strict=True) if k]
    measured = probe["signal_dbm"].to_numpy()[keep] - 6.0 + rng.normal(0, 1.0, len(pts))
    assert len(pts) > 60
    meas = make_coverage([("4g", x, y, np.nan) for x, y in pts], kind=["measurement"] * len(pts),
                         rsrp_dbm=list(measured))
    both = validate_coverage(pd.concat([make_coverage([("4g", *site, 8_000.0)]), meas],
                                       ignore_index=True))
    cal = calibrate_signal(both, dem, config=ITM)
    assert cal.offsets_db[("4g", "")] == pytest.approx(-6.0, abs=0.4)
    assert cal.report["after"]["rmse_db"] < cal.report["before"]["rmse_db"]
    # applied, the offset shifts every village's predicted signal by exactly that much
    villages = validate_villages(make_villages([(2_000, 15_000), (9_000, 16_000)]))
    plain = find_gaps(villages, cov, config=ITM, dem=dem)
    shifted = find_gaps(villages, cov, config=ITM, dem=dem, calibration=cal)
    np.testing.assert_allclose(shifted["mobile_signal_dbm"] - plain["mobile_signal_dbm"],
                               cal.offsets_db[("4g", "")], atol=0.11)


def test_calibration_without_measurements_reports_nothing():
    cov = validate_coverage(make_coverage([("4g", 6_000, 15_000, 8_000.0)]))
    cal = calibrate_signal(cov, flat_dem(), config=Config())
    assert cal.offsets_db == {} and cal.report["n_measurements"] == 0


def test_measured_signal_columns_are_validated():
    cov = make_coverage([("4g", 0, 0, np.nan)], kind=["measurement"], signal_dbm=[-210.0])
    with pytest.raises(InputError, match=r"'rsrp_dbm' has value -210.*allowed -160..-20"):
        validate_coverage(cov)
    cov = make_coverage([("4g", 0, 0, np.nan)], kind=["measurement"], measured_at=["14/03/2025"])
    with pytest.raises(InputError, match="measured_at' must be an ISO date"):
        validate_coverage(cov)
    ok = validate_coverage(make_coverage([("4g", 0, 0, np.nan)], signal_dbm=[-99.0],
                                         measured_at=["2025-03-14T23:30:00+07:00"]))
    assert ok["rsrp_dbm"].tolist() == [-99.0]
    assert str(ok["measured_at"].iloc[0].date()) == "2025-03-14"  # local day kept
    assert shapely.get_coordinates(ok.geometry).shape == (1, 2)


def test_signal_grid_and_covered_mask_on_flat_ground():
    from geo_dx.signal.strength import signal_grid

    dem = flat_dem(size_km=10)
    cov = validate_coverage(make_coverage([("4g", 5_000, 5_000, 3_000.0)]))
    signal, tf, covered = signal_grid(dem, cov, config=ITM)
    assert signal.shape == (20, 20) and tf.a == 500.0  # 500 m cells over a 10 km DEM
    assert covered.shape == dem.shape
    centre = signal[9, 9]  # cell centre 250 m from the site
    assert np.isfinite(centre) and centre > signal[9, 14]  # 2.75 km away, still in reach
    assert np.isnan(signal[0, 0])  # beyond reach
    # the mask repeats each coarse cell's answer over its 5 x 5 DEM cells
    coarse = np.nan_to_num(signal, nan=-999) >= -110.0
    np.testing.assert_array_equal(covered, np.kron(coarse, np.ones((5, 5), dtype=bool)))


def test_a_whole_run_with_the_itm_model(tmp_path):
    from geo_dx.run.pipeline import analyse, demo_inputs, write

    result = analyse(demo_inputs(), config=ITM)
    models = result.summary["mobile_models"]
    assert models["active"] == "itm"
    counts = models["without_mobile_broadband"]
    assert counts["itm"] == result.summary["totals"]["without_mobile_broadband"]
    assert counts["radius"] <= counts["terrain"]  # line of sight only removes coverage
    assert set(models["changed_class"]) == {"radius_vs_terrain", "radius_vs_itm",
                                            "terrain_vs_itm"}
    assert result.summary["signal_calibration"]["n_measurements"] == 0
    assert result.summary["disputes"]["confidence"]["modelled"] > 0
    out = write(result, tmp_path / "run")
    import rasterio

    with rasterio.open(out / "signal_mobile_dbm.tif") as src:
        grid = src.read(1)
        assert src.tags(1)["units"] == "dBm"
    assert np.nanmax(grid) < 60 and np.nanmin(grid) > -300


def test_calibrate_true_in_the_config_applies_the_fitted_offset_in_a_run(tmp_path):
    import rasterio

    from geo_dx.run.pipeline import RunInputs, analyse
    from tests.conftest import make_communes

    dem = ridge_dem()
    with rasterio.open(tmp_path / "dem.tif", "w", driver="GTiff", height=dem.shape[0],
                       width=dem.shape[1], count=1, dtype="float32", crs=dem.crs,
                       transform=dem.transform) as dst:
        dst.write(dem.elevation_m.astype("float32"), 1)
    site = (6_000.0, 15_000.0)
    rng = np.random.default_rng(21)
    pts = [(site[0] + r * np.cos(a), site[1] + r * np.sin(a))
           for r, a in zip(rng.uniform(1_000, 3_500, 80), rng.uniform(0, 2 * np.pi, 80),
                           strict=True)]
    probe = predict_pairs(dem, np.array([[X0 + site[0], Y0 + site[1]]]), np.array(["4g"]),
                          np.array([8_000.0]), np.array([[X0 + x, Y0 + y] for x, y in pts]),
                          terrain=ITM.terrain, signal=median_signal(ITM.signal)
                          ).sort_values("target")
    assert len(probe) == len(pts)
    # measured 6 dB below the median prediction (1 dB noise)
    measured = probe["signal_dbm"].to_numpy() - 6.0 + rng.normal(0, 1.0, len(pts))
    coverage = pd.concat([
        make_coverage([("4g", *site, 8_000.0)], kind=["site"], rsrp_dbm=[np.nan]),
        make_coverage([("4g", x, y, np.nan) for x, y in pts], kind=["measurement"] * len(pts),
                      rsrp_dbm=list(measured)),
    ], ignore_index=True)
    coverage.to_file(tmp_path / "coverage.gpkg")
    make_communes().to_file(tmp_path / "communes.gpkg")
    make_villages([(2_000, 15_000), (4_000, 22_000), (9_000, 9_000)],
                  population=[100, 200, 300]).to_file(tmp_path / "villages.gpkg")
    inputs = RunInputs(communes=tmp_path / "communes.gpkg", villages=tmp_path / "villages.gpkg",
                       coverage=(tmp_path / "coverage.gpkg",), dem=tmp_path / "dem.tif")
    runs = {flag: analyse(inputs, config=config_from_dict(
        {"terrain": {"model": "itm", "calibrate": flag}})) for flag in (False, True)}
    reports = {flag: r.summary["signal_calibration"] for flag, r in runs.items()}
    assert reports[False]["applied"] is False and reports[True]["applied"] is True
    # fitted (and reported) either way, from the same 70/30 split
    assert reports[True]["n_train"] + reports[True]["before"]["n"] == len(pts)
    assert reports[True]["after"]["rmse_db"] < reports[True]["before"]["rmse_db"]
    assert reports[True]["before"]["mean_db"] == pytest.approx(-6.0, abs=0.6)
    assert abs(reports[True]["after"]["mean_db"]) < 0.6
    offset = next(iter(reports[True]["offsets_db"].values()))
    assert offset == pytest.approx(-6.0, abs=0.4)
    plain = runs[False].villages.set_index("village_id")["mobile_signal_dbm"]
    shifted = runs[True].villages.set_index("village_id")["mobile_signal_dbm"]
    np.testing.assert_allclose((shifted - plain.loc[shifted.index]).to_numpy(), offset,
                               atol=0.11)
    # one measurement: no offset, the run's summary counts the warning
    coverage.iloc[:2].to_file(tmp_path / "one.gpkg")
    one = analyse(RunInputs(communes=inputs.communes, villages=inputs.villages,
                            coverage=(tmp_path / "one.gpkg",), dem=inputs.dem),
                  config=config_from_dict({"terrain": {"model": "itm", "calibrate": True}}))
    assert one.summary["signal_calibration"]["offsets_db"] == {}
    assert any("calibration_min_measurements" in w for w in one.summary["warnings"])
    alone = one.villages.set_index("village_id")["mobile_signal_dbm"]
    np.testing.assert_allclose(alone.to_numpy(), plain.loc[alone.index].to_numpy())


def _around_the_site(n: int, seed: int, r_km: tuple[float, float] = (1.0, 7.0)):
    rng = np.random.default_rng(seed)
    site = (6_000.0, 15_000.0)
    pts = [(site[0] + r * np.cos(a), site[1] + r * np.sin(a))
           for r, a in zip(rng.uniform(r_km[0] * 1000, r_km[1] * 1000, n),
                           rng.uniform(0, 2 * np.pi, n), strict=True)]
    return site, pts, rng


def _predicted(dem, site, pts, signal):
    return predict_pairs(dem, np.array([[X0 + site[0], Y0 + site[1]]]), np.array(["4g"]),
                         np.array([8_000.0]), np.array([[X0 + x, Y0 + y] for x, y in pts]),
                         terrain=ITM.terrain, signal=signal).sort_values("target")


def test_an_offset_in_measurements_around_the_median_is_recovered_and_the_margin_stays():
    dem = ridge_dem()
    site, pts, rng = _around_the_site(500, seed=4)
    median = _predicted(dem, site, pts, median_signal(ITM.signal))
    reliable = _predicted(dem, site, pts, ITM.signal)  # 90 % of locations and situations
    keep = (median["signal_dbm"] > -125).to_numpy()  # what a phone can still measure
    pts = [p for p, k in zip(pts, keep, strict=True) if k]
    # single measurements scatter around the median (8 dB), 6 dB below it on average
    measured = median["signal_dbm"].to_numpy()[keep] - 6.0 + rng.normal(0, 8.0, len(pts))
    assert len(pts) > 300
    cov = validate_coverage(pd.concat([
        make_coverage([("4g", *site, 8_000.0)]),
        make_coverage([("4g", x, y, np.nan) for x, y in pts], kind=["measurement"] * len(pts),
                      rsrp_dbm=list(measured))], ignore_index=True))
    cal = calibrate_signal(cov, dem, config=ITM)
    assert cal.offsets_db[("4g", "")] == pytest.approx(-6.0, abs=1.5)
    # the 90/90 margin: the reliable prediction lies well below the median, and the report
    # says by how much
    margin = (median["signal_dbm"] - reliable["signal_dbm"]).to_numpy()[keep]
    assert margin.mean() > 10
    assert cal.report["margin_db"] == pytest.approx(margin.mean(), abs=0.01)
    # applied to villages, the offset moves the 90/90 prediction by -6 dB: the margin stays
    villages = validate_villages(make_villages([(2_000, 15_000), (9_000, 16_000)]))
    plain = find_gaps(villages, validate_coverage(make_coverage([("4g", *site, 8_000.0)])),
                      config=ITM, dem=dem)
    shifted = find_gaps(villages, validate_coverage(make_coverage([("4g", *site, 8_000.0)])),
                        config=ITM, dem=dem, calibration=cal)
    np.testing.assert_allclose(shifted["mobile_signal_dbm"] - plain["mobile_signal_dbm"],
                               cal.offsets_db[("4g", "")], atol=0.11)
    # decisions on the held-out points: the calibrated 90/90 prediction rarely promises
    # coverage that is not measured
    rows = cal.report["decisions"]["after"]
    assert [(r["technology"], r["operator"]) for r in rows] == [("4g", "")]
    row = rows[0]
    assert row["n"] == cal.report["n_held_out"] == cal.report["after"]["n"]
    assert (row["both_covered"] + row["measured_only"] + row["predicted_only"]
            + row["neither"]) == row["n"]
    assert row["predicted_only"] <= 0.05 * row["n"]
    assert row["both_covered"] > 0


def test_too_few_measurements_give_no_offset_a_warning_and_no_in_sample_error():
    dem = ridge_dem()
    site, pts, _ = _around_the_site(1, seed=2, r_km=(2.0, 3.0))
    median = _predicted(dem, site, pts, median_signal(ITM.signal))
    cov = validate_coverage(pd.concat([
        make_coverage([("4g", *site, 8_000.0)]),
        make_coverage([("4g", *pts[0], np.nan)], kind=["measurement"],
                      rsrp_dbm=[float(median["signal_dbm"].iloc[0]) - 8.8])],
        ignore_index=True))
    with pytest.warns(GeoDxWarning, match=r"calibration_min_measurements = 20 .* 4g \(1\)"):
        cal = calibrate_signal(cov, dem, config=ITM)
    assert cal.offsets_db == {}
    assert cal.offset_for(np.array(["4g"])).tolist() == [0.0]
    # one point cannot be both fitted and held out: no error is reported, not 0.0 dB
    assert cal.report["before"] == {"mean_db": None, "rmse_db": None, "n": 0}
    assert cal.report["after"]["rmse_db"] is None and cal.report["held_out"] is False
    assert cal.report["without_offset"] == {"4g": 1}
    # allowed by the configuration, the offset is fitted, but still no in-sample error
    one = config_from_dict({"terrain": {"model": "itm"},
                            "signal": {"calibration_min_measurements": 1}})
    fitted = calibrate_signal(cov, dem, config=one)
    assert fitted.offsets_db[("4g", "")] == pytest.approx(-8.8, abs=0.01)
    assert fitted.report["after"]["rmse_db"] is None
