"""Tests for geo_dx.spatial: the village-location rule, the working CRS, extent checks.

``check_crs_covers`` is also exercised through the configuration in ``test_config`` and
``check_extent`` through the readers in ``test_io``.
"""

from __future__ import annotations

import geopandas as gpd
import pytest
import shapely

from geo_dx.errors import InputError
from geo_dx.spatial import check_crs_covers, utm_crs, village_locations, working_crs


def test_village_locations_keep_points_and_put_polygons_inside():
    geoms = [shapely.Point(1, 1), shapely.box(0, 0, 10, 1), shapely.Polygon(
        [(0, 0), (10, 0), (10, 10), (9, 10), (9, 1), (0, 1)])]  # an L: centroid outside
    v = gpd.GeoDataFrame(geometry=geoms, index=[5, 6, 7], crs=32648)
    loc = village_locations(v)
    assert loc.index.tolist() == [5, 6, 7] and loc.crs == v.crs
    assert loc.iloc[0].equals(geoms[0])
    assert all(p.within(g) for p, g in zip(loc.iloc[1:], geoms[1:], strict=True))


def test_working_crs_configured_else_projected_else_utm():
    lonlat = gpd.GeoSeries([shapely.Point(103.0, 21.4)], crs=4326)
    assert working_crs(lonlat).to_epsg() == 32648
    assert working_crs(lonlat.to_crs(32649)).to_epsg() == 32649  # already metric: kept
    assert working_crs(lonlat, "EPSG:3405").to_epsg() == 3405  # configured wins


def test_utm_zone_of_the_median_ignores_a_few_misplaced_villages():
    # 8 villages near 103 E (UTM 48N) and two at lon 0 (a typed -0): the zone stays 48N
    lon = [103.0 + 0.01 * i for i in range(8)] + [0.0, -0.0]
    pts = gpd.GeoSeries([shapely.Point(x, 21.4) for x in lon], crs=4326)
    assert utm_crs(pts).to_epsg() == 32648
    assert utm_crs(gpd.GeoSeries([shapely.Point(-70.0, -33.0)], crs=4326)).to_epsg() == 32719


def test_configured_crs_far_from_the_data_names_the_right_zone():
    villages = gpd.GeoSeries([shapely.Point(103.0, 21.4)], crs=4326)
    with pytest.raises(InputError, match=r"EPSG:32631.*use crs = \"EPSG:32648\""):
        working_crs(villages, "EPSG:32631")
    check_crs_covers("EPSG:32648", villages)  # the right zone passes
