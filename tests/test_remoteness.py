"""Travel time to service centres on hand-built DEMs with answers checkable by hand."""

from __future__ import annotations

import dataclasses
import warnings

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from affine import Affine
from pyproj import CRS
from shapely.geometry import LineString, Point, box

from geo_dx.config import RemotenessConfig
from geo_dx.dem import DemGrid
from geo_dx.errors import ConfigError, GeoDxWarning
from geo_dx.remoteness import (
    friction_h_per_m,
    service_centres,
    tobler_speed_kmh,
    travel_time_h,
)

UTM = 32648
CELL = 50.0
X0, Y0 = 500_000.0, 2_400_000.0  # top-left corner of every test DEM
ROWS, COLS = 40, 100  # 2 km x 5 km
ROW_Y = Y0 - 20.5 * CELL  # centre of row 20
VILLAGE_X = X0 + 10.5 * CELL  # centre of column 10
TOWN_X = X0 + 80.5 * CELL  # centre of column 80: 3.5 km east of the village


def _dem(elevation: np.ndarray) -> DemGrid:
    return DemGrid(elevation, Affine(CELL, 0, X0, 0, -CELL, Y0), CRS.from_epsg(UTM))


def _flat() -> DemGrid:
    return _dem(np.zeros((ROWS, COLS)))


def _ridge(height_m: float = 300.0, half_width_m: float = 600.0) -> DemGrid:
    """A north-south ridge across the whole grid, halfway between village and town.

    Both flanks rise ``height_m`` over ``half_width_m`` (slope 0.5 by default), so
    there is no way around it.
    """
    x = (np.arange(COLS) + 0.5) * CELL
    crest = (VILLAGE_X + TOWN_X) / 2 - X0
    profile = np.clip(height_m * (1 - np.abs(x - crest) / half_width_m), 0, None)
    return _dem(np.tile(profile, (ROWS, 1)))


def _village() -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(
        {"village_id": ["v1"]}, geometry=[Point(VILLAGE_X, ROW_Y)], crs=UTM
    )


def _town() -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame({"name": ["town"]}, geometry=[Point(TOWN_X, ROW_Y)], crs=UTM)


def _road() -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(geometry=[LineString([(VILLAGE_X, ROW_Y), (TOWN_X, ROW_Y)])], crs=UTM)


def _hours(**kwargs) -> float:
    return float(travel_time_h(_village(), towns=_town(), **kwargs)["travel_time_h"].iloc[0])


def test_tobler_speed_on_flat_and_slope() -> None:
    assert tobler_speed_kmh(np.array(0.0), flat_speed_kmh=4.0) == pytest.approx(4.0)
    # slope 0.5 up or down: 4 * exp(-1.75)
    assert tobler_speed_kmh(np.array([0.5, -0.5]), flat_speed_kmh=4.0) == pytest.approx(
        [4 * np.exp(-1.75)] * 2
    )


def test_flat_valley_is_distance_over_walking_speed() -> None:
    # 3.5 km along a row of flat cells at 4 km/h
    assert _hours(dem=_flat()) == pytest.approx(3.5 / 4.0, rel=1e-6)


def test_steep_ridge_takes_longer_than_flat_valley_of_same_length() -> None:
    flat = _hours(dem=_flat())
    ridge = _hours(dem=_ridge())
    # by hand: 1.2 km of slope 0.5 at 4*exp(-1.75) = 0.695 km/h (1.73 h) + 2.3 km flat (0.575 h)
    assert ridge > 2 * flat
    assert ridge == pytest.approx(1.2 / (4 * np.exp(-1.75)) + 2.3 / 4.0, rel=0.1)


def test_without_slope_the_ridge_costs_nothing_extra() -> None:
    config = RemotenessConfig(use_slope=False)
    assert _hours(dem=_ridge(), config=config) == pytest.approx(_hours(dem=_flat()), rel=1e-6)


def test_road_is_faster_even_over_the_ridge() -> None:
    on_road = _hours(dem=_ridge(), roads=_road())
    assert on_road < _hours(dem=_ridge())
    # 3.5 km at 30 km/h; road cells are not slowed by slope
    assert on_road == pytest.approx(3.5 / 30.0, rel=1e-6)
    assert _hours(dem=_flat(), roads=_road()) == pytest.approx(3.5 / 30.0, rel=1e-6)


def test_track_is_crossed_at_the_track_speed() -> None:
    # the same 3.5 km line, marked as a track (either column, any case): 15 km/h by default
    for column, value in (("highway", "track"), ("kind", "Track")):
        track = _road().assign(**{column: value})
        assert _hours(dem=_ridge(), roads=track) == pytest.approx(3.5 / 15.0, rel=1e-6)
    config = RemotenessConfig(track_speed_kmh=10.0)
    track = _road().assign(kind="track")
    assert _hours(dem=_flat(), roads=track, config=config) == pytest.approx(0.35, rel=1e-6)
    # a track slower than walking on the flat: the walker keeps walking speed
    slow = RemotenessConfig(track_speed_kmh=2.0)
    assert _hours(dem=_flat(), roads=track, config=slow) == pytest.approx(3.5 / 4.0, rel=1e-6)
    # where a road and a track share cells, the road's speed wins
    both = pd.concat([_road().assign(kind="main"), track], ignore_index=True)
    assert _hours(dem=_flat(), roads=both) == pytest.approx(3.5 / 30.0, rel=1e-6)
    with pytest.raises(ConfigError, match="track_speed_kmh was 0"):
        _hours(dem=_flat(), roads=track,
               config=dataclasses.replace(RemotenessConfig(), track_speed_kmh=0))


def test_path_goes_around_a_ridge_with_a_gap() -> None:
    dem = _ridge(height_m=600.0)
    gap = dem.elevation_m.copy()
    gap[:8, :] = 0.0  # a flat pass along the northern edge, 0.6 km north of the route
    through_pass = _hours(dem=_dem(gap))
    assert through_pass < _hours(dem=dem)
    # detour: at least the straight route, at most up, across and back at walking speed
    assert 3.5 / 4 < through_pass < (3.5 + 2 * 0.65) / 4 * 1.1


def test_nearest_of_several_centres_wins() -> None:
    towns = gpd.GeoDataFrame(
        geometry=[Point(TOWN_X, ROW_Y), Point(VILLAGE_X - 5 * CELL, ROW_Y)], crs=UTM
    )
    out = travel_time_h(_village(), dem=_flat(), towns=towns)
    assert out["travel_time_h"].iloc[0] == pytest.approx(0.25 / 4.0)
    assert out["distance_m"].iloc[0] == pytest.approx(250.0)


def test_elevation_and_method_recorded_and_inputs_reprojected() -> None:
    villages = _village().to_crs(4326)  # geographic input, DEM in UTM
    before = villages.copy()
    out = travel_time_h(villages, dem=_ridge(), towns=_town().to_crs(4326))
    assert out.index.equals(villages.index)
    assert out["remoteness_method"].iloc[0] == "terrain"
    assert out["elevation_m"].iloc[0] == pytest.approx(0.0, abs=1e-6)
    assert out["centre_kind"].tolist() == ["town"] * len(out)
    # halfway between the crest cell (300 m) and the next one (300 * (1 - 50 / 600) = 275 m)
    near_crest = gpd.GeoDataFrame(geometry=[Point(X0 + 46 * CELL, ROW_Y)], crs=UTM)
    crest = travel_time_h(near_crest, dem=_ridge(), towns=_town())
    assert crest["elevation_m"].iloc[0] == pytest.approx(287.5, rel=1e-6)
    assert villages.equals(before)


def test_without_dem_falls_back_to_straight_line() -> None:
    out = travel_time_h(_village(), towns=_town())
    assert out["remoteness_method"].iloc[0] == "straight_line"
    assert out["travel_time_h"].iloc[0] == pytest.approx(3.5 / 4.0)
    assert np.isnan(out["elevation_m"].iloc[0])


def test_village_outside_the_dem_gets_straight_line_with_warning() -> None:
    villages = gpd.GeoDataFrame(
        {"village_id": ["in", "out"]},
        geometry=[Point(VILLAGE_X, ROW_Y), Point(TOWN_X, ROW_Y - 20_000)],
        crs=UTM,
    )
    with pytest.warns(GeoDxWarning, match="1 of 2 villages lie outside the DEM"):
        out = travel_time_h(villages, dem=_flat(), towns=_town())
    assert list(out["remoteness_method"]) == ["terrain", "straight_line"]
    assert out["travel_time_h"].iloc[1] == pytest.approx(20.0 / 4.0)


def test_centres_from_commune_seats_then_representative_points() -> None:
    communes = gpd.GeoDataFrame(
        {"commune_id": ["c1"]},
        geometry=[box(TOWN_X - 100, ROW_Y - 100, TOWN_X + 100, ROW_Y + 100)],
        crs=UTM,
    )
    points, kind = service_centres(communes=communes)
    assert kind == "commune centre"
    assert points.iloc[0].within(communes.geometry.iloc[0])
    seat = gpd.GeoSeries([Point(VILLAGE_X + 1000, ROW_Y)], crs=UTM).to_crs(4326)
    with_seat = communes.assign(seat_lon=seat.x.to_numpy(), seat_lat=seat.y.to_numpy())
    points, kind = service_centres(communes=with_seat)
    assert kind == "commune seat"
    out = travel_time_h(_village(), dem=_flat(), communes=with_seat)
    assert out["travel_time_h"].iloc[0] == pytest.approx(1.0 / 4.0, rel=1e-3)
    # towns win over communes
    assert service_centres(towns=_town(), communes=with_seat)[1] == "town"


def test_no_centres_warns_and_leaves_travel_time_missing() -> None:
    with pytest.warns(GeoDxWarning, match="no service centres"):
        out = travel_time_h(_village(), dem=_flat())
    assert out["travel_time_h"].isna().all()


def test_friction_units_and_bad_speed() -> None:
    # hours per metre: 1 / (4 km/h * 1000 m/km)
    assert friction_h_per_m(_flat()) == pytest.approx(np.full((ROWS, COLS), 1 / 4000))
    with pytest.raises(ConfigError, match="walking_speed_kmh was 0"):
        travel_time_h(_village(), towns=_town(),
                      config=dataclasses.replace(RemotenessConfig(), walking_speed_kmh=0))


def test_crop_does_not_change_the_answer() -> None:
    # a big flat DEM around the same points: the cropped search gives the same time
    big = DemGrid(np.zeros((1000, 1000)), Affine(CELL, 0, X0 - 20_000, 0, -CELL, Y0 + 20_000),
                  CRS.from_epsg(UTM))
    with warnings.catch_warnings():
        warnings.simplefilter("error", GeoDxWarning)
        assert _hours(dem=big) == pytest.approx(_hours(dem=_flat()), rel=1e-6)


def test_straight_line_distance_is_measured_in_the_configured_crs():
    """``crs`` (``Config.crs``) decides the metric CRS; Web Mercator stretches by 1/cos(lat)."""
    village = gpd.GeoDataFrame(geometry=[Point(500_000, 2_370_000)], crs=32648).to_crs(4326)
    town = gpd.GeoDataFrame(geometry=[Point(504_000, 2_370_000)], crs=32648).to_crs(4326)
    utm = travel_time_h(village, towns=town)["distance_m"].iloc[0]
    mercator = travel_time_h(village, towns=town, crs="EPSG:3857")["distance_m"].iloc[0]
    lat = np.radians(village.geometry.y.iloc[0])
    assert utm == pytest.approx(4000, abs=1)
    assert mercator == pytest.approx(4000 / np.cos(lat), rel=2e-3)
