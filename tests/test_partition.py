"""Partitioned gap decisions (dask) equal the single-process run."""

from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd
import pytest
from distributed import Client, LocalCluster

import geo_dx
from geo_dx.config import Config
from geo_dx.coverage import with_reach
from geo_dx.dem import read_dem
from geo_dx.errors import InputError
from geo_dx.gaps import find_gaps
from geo_dx.partition import (
    _dem_window,
    partition_margin_m,
    partitioned_gaps,
    village_partitions,
)


@pytest.fixture(scope="module")
def demo():
    return geo_dx.load_demo()


@pytest.fixture(scope="module")
def cluster():
    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                      dashboard_address=None) as cluster:
        yield cluster


def test_partitions_cover_every_village_once(demo):
    parts = village_partitions(demo.villages, demo.communes, partitions=5)
    together = np.sort(np.concatenate(parts))
    assert np.array_equal(together, np.arange(len(demo.villages)))
    assert len(parts) >= 5 and all(len(p) for p in parts)
    # neighbouring communes: each partition's communes are whole
    assigned = demo.villages["commune_id"].astype(str).to_numpy()
    owner = {c: k for k, p in enumerate(parts) for c in set(assigned[p])}
    assert all(owner[c] == k for k, p in enumerate(parts) for c in assigned[p])


@pytest.mark.parametrize("model", ["radius", "terrain"])
def test_partitioned_demo_equals_single_process(demo, cluster, model):
    config = Config()
    config = dataclasses.replace(config, crs="EPSG:32648",
                                 terrain=dataclasses.replace(config.terrain, model=model))
    dem = read_dem(demo.dem_path, crs="EPSG:32648") if model == "terrain" else None
    single = find_gaps(demo.villages, demo.coverage, communes=demo.communes, config=config,
                       dem=dem)
    parted = partitioned_gaps(demo.villages, demo.coverage, communes=demo.communes,
                              config=config, dem=dem, partitions=6,
                              scheduler_address=cluster.scheduler_address)
    assert list(parted.index) == list(single.index)
    assert list(parted.columns) == list(single.columns)
    pd.testing.assert_frame_equal(parted.drop(columns="geometry"),
                                  single.drop(columns="geometry"), check_exact=True)
    assert parted.geometry.equals(single.geometry) and parted.crs == single.crs
    assert (~single["has_mobile_broadband"]).sum() > 0 and (~single["has_fibre"]).sum() > 0


def test_villages_far_from_every_point_are_decided_with_every_point(demo, cluster):
    # keep one fibre node only: most villages' nearest fibre lies outside their partition
    cov = demo.coverage
    fibre = np.flatnonzero((cov["technology"] == "fibre").to_numpy())
    keep = np.ones(len(cov), dtype=bool)
    keep[fibre[1:]] = False
    cov = cov[keep]
    config = dataclasses.replace(Config(), crs="EPSG:32648")
    single = find_gaps(demo.villages, cov, communes=demo.communes, config=config)
    with Client(cluster) as client:
        parted = partitioned_gaps(demo.villages, cov, communes=demo.communes, config=config,
                                  partitions=4, scheduler_address=client.scheduler.address)
    assert (single["nearest_fibre_m"] > partition_margin_m(cov, config)).any()
    pd.testing.assert_frame_equal(parted.drop(columns="geometry"),
                                  single.drop(columns="geometry"), check_exact=True)


def test_dem_window_keeps_the_grid(demo):
    dem = read_dem(demo.dem_path, crs="EPSG:32648")
    x0, y0 = dem.transform * (100, 200)
    window = _dem_window(dem, (x0, y0 - 5000, x0 + 5000, y0))
    xy = np.array([[x0 + 1234.5, y0 - 2345.6], [x0 + 10, y0 - 10]])
    assert np.array_equal(window.sample(xy), dem.sample(xy))
    assert window.shape[0] < dem.shape[0] and window.cell_size_m == dem.cell_size_m


def test_margin_covers_reach_and_dispute_radius():
    cov = geo_dx.load_demo().coverage
    config = Config()
    cov = with_reach(cov, config=config)
    reach = cov["reach_m"].max()
    assert reach > config.measured.dispute_radius_m
    assert partition_margin_m(cov, config) == reach + 1000.0


def test_partitions_must_be_positive(demo):
    with pytest.raises(InputError, match="--partitions must be 1 or more, got 0"):
        partitioned_gaps(demo.villages, demo.coverage, communes=demo.communes, partitions=0)


def test_cli_run_with_partitions_equals_the_plain_run(tmp_path, cluster):
    from geo_dx.cli import main

    assert main(["run", "--out", str(tmp_path / "plain"), "-q"]) == 0
    assert main(["run", "--out", str(tmp_path / "parted"), "--partitions", "3",
                 "--scheduler", cluster.scheduler_address, "-q"]) == 0
    columns = ["village_id", "has_fibre", "has_mobile_broadband", "gap_class", "score",
               "nearest_fibre_m", "nearest_mobile_m", "mobile_source"]
    plain = pd.read_csv(tmp_path / "plain" / "priority.csv")
    parted = pd.read_csv(tmp_path / "parted" / "priority.csv")
    assert len(plain) > 0
    pd.testing.assert_frame_equal(plain[[c for c in columns if c in plain]],
                                  parted[[c for c in columns if c in plain]])
