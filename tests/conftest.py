"""Tiny hand-built layers in UTM 48N whose answers can be checked by hand.

Communes: a 3x3 grid of 10 km squares with its south-west corner at (500 000, 2 360 000).
"""

from __future__ import annotations

import os
from pathlib import Path

import geopandas as gpd
import numpy as np
import pytest
import shapely
from hypothesis import HealthCheck, settings

UTM48N = "EPSG:32648"
X0, Y0 = 500_000.0, 2_360_000.0
SHARED_DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data"
#: Fixtures of a finished demo run, shared by the field-loop tests (run once per session).
pytest_plugins = ["tests.demo_run"]


def make_communes() -> gpd.GeoDataFrame:
    cells = [
        (f"C{r}{c}", f"Xã Ô {r}{c}", shapely.box(X0 + c * 10_000, Y0 + r * 10_000,
                                               X0 + (c + 1) * 10_000, Y0 + (r + 1) * 10_000))
        for r in range(3)
        for c in range(3)
    ]
    ids, names, geoms = zip(*cells, strict=True)
    return gpd.GeoDataFrame({"commune_id": ids, "commune_name": names}, geometry=list(geoms),
                            crs=UTM48N)


def make_villages(xy: list[tuple[float, float]], **columns: list) -> gpd.GeoDataFrame:
    n = len(xy)
    data = {"village_id": [f"V{i}" for i in range(n)],
            "village_name": [f"Bản {i}" for i in range(n)]}
    data.update(columns)
    return gpd.GeoDataFrame(data, geometry=[shapely.Point(X0 + x, Y0 + y) for x, y in xy],
                            crs=UTM48N)


def make_coverage(rows: list[tuple[str, float, float, float]], **columns: list) -> gpd.GeoDataFrame:
    """rows: (technology, x offset, y offset, range_m or nan)."""
    tech, xs, ys, ranges = zip(*rows, strict=True)
    data = {"technology": list(tech), "range_m": list(ranges)}
    data.update(columns)
    return gpd.GeoDataFrame(
        data, geometry=[shapely.Point(X0 + x, Y0 + y) for x, y in zip(xs, ys, strict=True)],
        crs=UTM48N,
    )


@pytest.fixture
def communes() -> gpd.GeoDataFrame:
    return make_communes()


@pytest.fixture
def shared_data() -> Path:
    if not SHARED_DATA.is_dir():
        pytest.skip(f"real data not available: {SHARED_DATA} is absent (it sits beside the repo)")
    return SHARED_DATA


NAN = np.nan


# Hypothesis: derandomised in CI (CI=true), so the suite cannot fail by chance there; locally
# random (each run explores new examples; pytest --hypothesis-seed=N replays a run).
settings.register_profile("ci", derandomize=True, deadline=None, database=None,
                          print_blob=True, suppress_health_check=[HealthCheck.too_slow])
settings.register_profile("dev", deadline=None, print_blob=True,
                          suppress_health_check=[HealthCheck.too_slow])
settings.load_profile("ci" if os.environ.get("CI") else "dev")
