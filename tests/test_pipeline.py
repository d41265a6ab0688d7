"""Tests for geo_dx.run.pipeline: the whole run on a tiny province, each step once, in order.

Communes: the 3x3 grid of ``conftest``; four villages; one 4G site and one fibre node;
a towns layer with one town.
"""

from __future__ import annotations

import json

import geopandas as gpd
import pandas as pd
import pytest
import shapely

from geo_dx.config import Config, with_weights
from geo_dx.run import pipeline
from geo_dx.run.pipeline import RunInputs, analyse, write
from tests.conftest import UTM48N, X0, Y0, make_communes, make_coverage, make_villages


@pytest.fixture
def inputs(tmp_path) -> RunInputs:
    make_communes().to_file(tmp_path / "communes.gpkg")
    v = make_villages([(1000, 1000), (5000, 5000), (15_000, 15_000), (25_000, 25_000)],
                      population=[100, 200, 300, 400],
                      ethnic_minority_share=[0.2, 0.9, 0.5, 1.0]).to_crs(4326)
    pd.DataFrame(v.drop(columns="geometry")).assign(lon=v.geometry.x, lat=v.geometry.y).to_csv(
        tmp_path / "villages.csv", index=False)
    make_coverage([("4g", 1000, 1200, 500.0), ("fibre", 5000, 5100, 500.0)]).to_file(
        tmp_path / "sites.gpkg")
    gpd.GeoDataFrame({"name": ["Town"]}, geometry=[shapely.Point(X0 + 2000, Y0 + 2000)],
                     crs=UTM48N).to_file(tmp_path / "towns.gpkg")
    return RunInputs(communes=tmp_path / "communes.gpkg", villages=tmp_path / "villages.csv",
                     coverage=(tmp_path / "sites.gpkg",), towns=tmp_path / "towns.gpkg",
                     title="Tiny (synthetic)")


def counting(monkeypatch, name):
    calls = []
    real = getattr(pipeline, name)

    def wrapper(*args, **kwargs):
        calls.append(name)
        return real(*args, **kwargs)

    monkeypatch.setattr(pipeline, name, wrapper)
    return calls


def test_each_step_runs_once(inputs, monkeypatch):
    calls = [counting(monkeypatch, n) for n in ("travel_time_h", "score", "rollout_clusters",
                                                 "normalised_weights", "build_summary")]
    analyse(inputs)
    assert [len(c) for c in calls] == [1, 1, 1, 1, 1]


def test_score_leaves_travel_and_clusters_to_the_pipeline():
    import ast
    import inspect

    from geo_dx import scoring

    tree = ast.parse(inspect.getsource(scoring))
    names = {alias.name for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)
             for alias in node.names}
    assert not names & {"travel_time_h", "rollout_clusters", "rollout"}


def test_result_by_hand(inputs):
    result = analyse(inputs)
    v = result.villages.set_index("village_id")
    # V0 (1 km, 1 km) is 200 m from the 4G site; V1 (5 km, 5 km) 100 m from the fibre node.
    assert v["gap_class"].tolist() == ["no_fibre", "no_mobile", "no_fibre_no_mobile",
                                       "no_fibre_no_mobile"]
    assert v["travel_time_h"].notna().all() and v["cluster_id"].notna().all()
    assert v.attrs == {} and result.villages.attrs == {}  # metadata lives in the summary
    summary = result.summary
    assert summary["mobile_model"] == "radius" and summary["synthetic"] is True
    assert summary["totals"]["villages"] == 4 and summary["totals"]["without_both"] == 2
    assert summary["scoring"]["remoteness"]["centres"] == "town"
    assert summary["scoring"]["remoteness"]["method"] == "straight_line"
    assert summary["scoring"]["ranked"] == 4
    assert summary["totals"]["warnings"] == len(summary["warnings"])
    assert [c["commune_id"] for c in summary["communes"]] == result.communes[
        "commune_id"].tolist()


def test_weights_that_do_not_sum_to_one_warn_once(inputs):
    config = with_weights(Config(), "ethnic=1,remoteness=1,people=0,poverty=0,severity=0")
    summary = analyse(inputs, config=config).summary
    scaled = [w for w in summary["warnings"] if "weights sum to" in w]
    assert len(scaled) == 1
    assert summary["scoring"]["weights"]["ethnic"] == 0.5


def test_write_puts_every_output_in_place(inputs, tmp_path):
    out = write(analyse(inputs), tmp_path / "run")
    names = sorted(p.name for p in out.iterdir())
    assert names == ["assets", "communes", "de_xuat_dau_tu.docx", "index.html", "map.html",
                     "priority.csv", "priority.xlsx", "summary.json", "villages.gpkg"]
    written = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    assert written["totals"]["villages"] == 4
    layers = gpd.list_layers(out / "villages.gpkg")["name"].tolist()
    assert sorted(layers) == ["clusters", "communes", "coverage", "layer_styles", "towns",
                              "villages"]


def _write_dem(path, cell_m: float = 50.0) -> None:
    """Hills over the 3x3 communes (30 km square) at ``cell_m``, in UTM 48N."""
    import numpy as np
    import rasterio
    from rasterio.transform import from_origin

    n = int(32_000 / cell_m)
    x = X0 - 1000 + (np.arange(n) + 0.5) * cell_m
    y = Y0 + 31_000 - (np.arange(n) + 0.5) * cell_m
    xx, yy = np.meshgrid(x, y)
    z = 600 + 400 * np.sin(xx / 2300.0) * np.cos(yy / 3100.0)
    with rasterio.open(path, "w", driver="GTiff", height=n, width=n, count=1,
                       dtype="float32", crs=UTM48N,
                       transform=from_origin(X0 - 1000, Y0 + 31_000, cell_m, cell_m)) as dst:
        dst.write(z.astype("float32"), 1)


def test_travel_time_does_not_depend_on_a_plan_following(inputs, tmp_path):
    import dataclasses

    _write_dem(tmp_path / "dem.tif")
    with_dem = dataclasses.replace(inputs, dem=tmp_path / "dem.tif")
    alone = analyse(with_dem)
    planned = analyse(dataclasses.replace(with_dem, budget=20e9))
    assert planned.plan is not None and alone.plan is None
    columns = ["village_id", "travel_time_h", "elevation_m", "score", "rank"]
    pd.testing.assert_frame_equal(pd.DataFrame(alone.villages[columns]),
                                  pd.DataFrame(planned.villages[columns]))
    assert alone.villages["travel_time_h"].notna().all()
    assert alone.summary["scoring"] == planned.summary["scoring"]
    # the overlay the rasters are drawn on is the 100 m grid in both runs
    assert alone.overlay.cell_size_m == planned.overlay.cell_size_m == 100.0


def test_the_steps_run_in_the_order_data_flows(inputs, monkeypatch):
    order = []
    for name in ("_read", "_decide", "_prioritise", "_plan"):
        real = getattr(pipeline, name)

        def spy(*args, _real=real, _name=name, **kwargs):
            order.append(_name)
            return _real(*args, **kwargs)

        monkeypatch.setattr(pipeline, name, spy)
    analyse(inputs)
    assert order == ["_read", "_decide", "_prioritise"]
    import dataclasses

    order.clear()
    analyse(dataclasses.replace(inputs, budget=5e9))
    assert order == ["_read", "_decide", "_prioritise", "_plan"]
