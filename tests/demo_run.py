"""The demo province as ``geo-dx run`` writes it, once per test session (field-loop tests)."""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import pytest

from geo_dx.cli import main


@pytest.fixture(scope="session")
def demo_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A finished demo run folder (read only: copy it before changing anything)."""
    out = tmp_path_factory.mktemp("field_loop") / "demo"
    assert main(["run", "--out", str(out), "-q"]) == 0
    return out


@pytest.fixture(scope="session")
def demo_villages(demo_run: Path) -> gpd.GeoDataFrame:
    return gpd.read_file(demo_run / "villages.gpkg", layer="villages")
