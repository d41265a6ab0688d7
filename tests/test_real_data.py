"""Real commune boundaries from ../shared/data, read through the column mapping.

Skips with a reason when ../shared/data is absent. Nothing here is copied into the repo.
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest

from geo_dx.config import config_from_dict
from geo_dx.gaps import find_gaps
from geo_dx.io import read_communes
from geo_dx.schema import validate_coverage, validate_villages

GADM = config_from_dict({"columns": {"communes": {"GID_3": "commune_id", "NAME_3": "commune_name",
                                                  "NEW_PROVINCE": "province"}}})
GISVN_2025 = config_from_dict({"columns": {"communes": {"commune_code": "commune_id",
                                                        "province_name": "province"}}})


@pytest.mark.parametrize(
    ("name", "config", "count"),
    [
        ("gadm41_vnm_l3_dien_bien.geojson", GADM, 130),
        ("gadm41_vnm_l3_son_la.geojson", GADM, 204),
        ("dien_bien_communes_2025_gisvn.geojson", GISVN_2025, 45),
    ],
)
def test_real_communes_load_through_the_mapping(shared_data, name, config, count):
    communes = read_communes(shared_data / "admin_boundaries" / name, config=config)
    assert len(communes) == count
    assert communes["commune_id"].is_unique
    assert communes.geometry.is_valid.all()
    assert communes.crs.to_epsg() == 4326


def test_2025_communes_keep_codes_and_population(shared_data):
    communes = read_communes(
        shared_data / "admin_boundaries" / "dien_bien_communes_2025_gisvn.geojson",
        config=GISVN_2025,
    )
    assert "03301" in set(communes["commune_id"])  # leading zero kept (Búng Lao)
    assert communes["population"].sum() == 673_091


def test_gap_analysis_on_villages_generated_inside_real_communes(shared_data):
    communes = read_communes(
        shared_data / "admin_boundaries" / "gadm41_vnm_l3_dien_bien.geojson", config=GADM
    )
    rng = np.random.default_rng(7)
    utm = communes.estimate_utm_crs()
    seeds = communes.to_crs(utm).geometry.representative_point()
    # three villages per commune, within ~300 m of a point inside it; no commune_id given
    xy = np.repeat(np.c_[seeds.x, seeds.y], 3, axis=0) + rng.normal(0, 100, (3 * len(seeds), 2))
    home = np.repeat(communes["commune_id"].to_numpy(), 3)
    villages = validate_villages(gpd.GeoDataFrame(
        {"village_id": [f"V{i}" for i in range(len(xy))], "village_name": "bản"},
        geometry=gpd.points_from_xy(xy[:, 0], xy[:, 1]), crs=utm,
    ).to_crs(4326))
    sites_xy = xy[::5] + rng.normal(0, 2000, (len(xy[::5]), 2))
    coverage = validate_coverage(gpd.GeoDataFrame(
        {"technology": rng.choice(["4g", "fibre", "2g"], len(sites_xy)),
         "range_m": rng.uniform(500, 2900, len(sites_xy))},
        geometry=gpd.points_from_xy(sites_xy[:, 0], sites_xy[:, 1]), crs=utm,
    ))
    gaps = find_gaps(villages, coverage, communes=communes)
    inside = gaps["commune_id"].to_numpy() == home
    assert inside.mean() > 0.97  # a few jittered points may cross a boundary
    assert gaps["commune_id"].notna().all()
    # brute-force check of the rule in the same UTM zone
    v = np.c_[gaps.to_crs(utm).geometry.x, gaps.to_crs(utm).geometry.y]
    d = np.hypot(v[:, None, 0] - sites_xy[None, :, 0], v[:, None, 1] - sites_xy[None, :, 1])
    reach = coverage["range_m"].to_numpy()
    for tech, column in (("fibre", "has_fibre"), ("4g", "has_mobile_broadband")):
        mask = coverage["technology"].to_numpy() == tech
        expected = (d[:, mask] <= reach[mask]).any(axis=1)
        assert np.array_equal(gaps[column].to_numpy(), expected)
    assert set(pd.unique(gaps["gap_class"])) <= {"none", "no_fibre", "no_mobile",
                                                 "no_fibre_no_mobile"}
