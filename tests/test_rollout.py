"""Rollout clusters on a hand-built row of villages."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from shapely.geometry import Point, Polygon

from geo_dx.errors import ConfigError, InputError
from geo_dx.rollout import CLUSTER_COLUMNS, rollout_clusters

UTM = 32648


def _villages() -> gpd.GeoDataFrame:
    """Two groups: a, b, c 1 km apart in a row; d, e 1 km apart 20 km away; f has no gap."""
    x = [0, 1000, 2000, 20_000, 21_000, 500]
    return gpd.GeoDataFrame(
        {
            "village_id": list("abcdef"),
            "gap_class": ["no_fibre", "no_fibre_no_mobile", "no_mobile", "no_fibre_no_mobile",
                          "no_fibre_no_mobile", "none"],
            "population_used": [100.0, 200.0, 300.0, 50.0, 60.0, 1000.0],
            "rank": pd.array([5, 3, 4, 1, 2, pd.NA], dtype="Int64"),
            "score": [40.0, 60.0, 50.0, 90.0, 80.0, float("nan")],
        },
        geometry=[Point(500_000 + dx, 2_400_000) for dx in x],
        crs=UTM,
    )


def test_clusters_by_radius_numbered_by_best_rank() -> None:
    villages = _villages()
    ids, clusters = rollout_clusters(villages, radius_m=1500)
    # d, e hold ranks 1 and 2 -> cluster 1; a, b, c -> cluster 2; f has no gap
    assert ids.tolist()[:5] == [2, 2, 2, 1, 1]
    assert pd.isna(ids.iloc[5])
    assert list(clusters.columns) == [*CLUSTER_COLUMNS, "geometry"]
    row = clusters.set_index("cluster_id").loc[2]
    assert row["villages"] == 3
    assert row["village_ids"] == "a,b,c"
    assert row["population"] == 600.0
    assert (row["no_fibre"], row["no_mobile"], row["no_fibre_no_mobile"]) == (1, 1, 1)
    assert row["best_rank"] == 3
    assert row["mean_score"] == pytest.approx(50.0)
    assert clusters.crs == villages.crs
    assert all(isinstance(g, Polygon) for g in clusters.geometry)
    # outline covers every member village
    assert clusters.set_index("cluster_id").geometry.loc[2].contains(villages.geometry.iloc[1])


def test_radius_smaller_than_spacing_gives_single_villages() -> None:
    ids, clusters = rollout_clusters(_villages(), radius_m=900)
    assert ids.tolist()[:5] == [5, 3, 4, 1, 2]  # by rank
    assert len(clusters) == 5


def test_geographic_input_uses_great_circle_distance() -> None:
    villages = _villages().to_crs(4326)
    ids, _ = rollout_clusters(villages, radius_m=1010)
    assert ids.tolist()[:5] == [2, 2, 2, 1, 1]
    ids, _ = rollout_clusters(villages, radius_m=990)
    assert ids.nunique() == 5


def test_no_gap_villages_and_bad_input() -> None:
    villages = _villages().assign(gap_class="none")
    ids, clusters = rollout_clusters(villages, radius_m=1000)
    assert ids.isna().all() and clusters.empty
    with pytest.raises(ConfigError, match="cluster_radius_m was 0"):
        rollout_clusters(_villages(), radius_m=0)
    with pytest.raises(InputError, match="run find_gaps"):
        rollout_clusters(_villages().drop(columns="gap_class"), radius_m=1000)


def test_outlines_are_drawn_in_the_configured_crs():
    from geo_dx.rollout import HULL_BUFFER_M

    v = gpd.GeoDataFrame({"gap_class": ["no_mobile"], "village_id": ["a"]},
                         geometry=[Point(103.0, 21.4)], crs=4326)
    _, default = rollout_clusters(v, radius_m=3000)
    _, mercator = rollout_clusters(v, radius_m=3000, crs="EPSG:3857")
    true_m2 = np.pi * HULL_BUFFER_M ** 2
    # a buffer of 250 m in UTM is ~250 m on the ground; in Web Mercator 250 units are
    # 250 * cos(21.4°) m on the ground: the configured CRS is the one used
    assert default.to_crs(32648).area.iloc[0] == pytest.approx(true_m2, rel=0.01)
    assert mercator.to_crs(32648).area.iloc[0] == pytest.approx(
        true_m2 * np.cos(np.radians(21.4)) ** 2, rel=0.01)
