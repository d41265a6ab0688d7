"""The synthetic demo province: contract of the committed data, calibration, determinism."""

from __future__ import annotations

import os
import shutil
import stat
import warnings
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import rasterio
import shapely
from scipy.spatial import cKDTree

import geo_dx
from geo_dx import _demo_world
from geo_dx import demo as demo_mod
from geo_dx.demo import (
    DEMO_PROVINCE,
    DEMO_TITLE,
    TARGET_WITHOUT_FIBRE,
    TARGET_WITHOUT_MOBILE,
    demo_paths,
    generate_demo,
    load_demo,
    paths_in,
)
from geo_dx.errors import InputError
from geo_dx.gaps import find_gaps
from geo_dx.io import read_communes, read_coverage, read_villages

REPO_DATA = Path(geo_dx.__file__).resolve().parents[1] / "data"
UTM = "EPSG:32648"


@pytest.fixture(scope="module")
def committed() -> demo_mod.Demo:
    paths = paths_in(REPO_DATA)
    if not all(p.is_file() for p in paths.all()):
        pytest.skip("the committed demo data is not in this checkout (installed from a wheel?)")
    return load_demo()


@pytest.fixture(scope="module")
def small(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A small demo (~5% of the full size) generated once for this module."""
    out = tmp_path_factory.mktemp("demo") / "small"
    generate_demo(out, size=0.05)
    return out


# --------------------------------------------------------------------- committed data


def test_demo_paths_prefers_the_repository_data(committed: demo_mod.Demo) -> None:
    assert demo_paths() == paths_in(REPO_DATA)


def test_committed_data_is_labelled_synthetic(committed: demo_mod.Demo) -> None:
    assert "synthetic" in committed.title.lower() and "not real" in committed.title.lower()
    assert committed.title == DEMO_TITLE
    assert (committed.communes["province"] == DEMO_PROVINCE).all()
    with rasterio.open(committed.dem_path) as src:
        assert src.tags()["TITLE"] == DEMO_TITLE


def test_committed_counts_area_and_ids(committed: demo_mod.Demo) -> None:
    communes, villages = committed.communes, committed.villages
    assert 1500 <= len(villages) <= 1800
    assert 40 <= len(communes) <= 50
    area_km2 = communes.to_crs(UTM).area.sum() / 1e6
    assert 9000 <= area_km2 <= 10_000
    assert villages["village_id"].is_unique and communes["commune_id"].is_unique
    assert communes["commune_id"].str.fullmatch(r"SYN\d{2}").all()
    assert set(communes.geom_type) == {"Polygon"}
    assert communes.crs.to_epsg() == 4326 and villages.crs.to_epsg() == 4326


def test_committed_communes_tile_the_province(committed: demo_mod.Demo) -> None:
    communes = committed.communes.to_crs(UTM)
    province = shapely.union_all(communes.geometry.values)
    # No overlaps: the parts add up to the whole. No gaps: the whole has no holes.
    assert communes.area.sum() == pytest.approx(province.area, rel=1e-6)
    assert province.geom_type == "Polygon" and len(province.interiors) == 0


def test_committed_villages_lie_in_their_communes(committed: demo_mod.Demo) -> None:
    villages = committed.villages.to_crs(UTM)
    communes = committed.communes.to_crs(UTM)
    province = shapely.union_all(communes.geometry.values)
    assert shapely.contains(province, villages.geometry.values).all()
    joined = gpd.sjoin(villages, communes[["commune_id", "geometry"]], predicate="within")
    given = joined["commune_id_left"].notna()
    assert (joined.loc[given, "commune_id_left"] == joined.loc[given, "commune_id_right"]).all()
    blank = villages["commune_id"].isna().mean()
    assert 0.01 <= blank <= 0.06, f"{blank:.1%} of villages have no commune_id"


def test_committed_village_attributes(committed: demo_mod.Demo) -> None:
    v = committed.villages
    for col in ("ethnic_minority_share", "poverty_rate"):
        assert v[col].between(0, 1).all()
    assert (v["population"] > 0).all() and (v["households"] > 0).all()
    assert (v["households"] < v["population"]).all()
    assert 0.10 <= v["especially_difficult"].mean() <= 0.20
    assert v["village_name"].str.match(r"(Bản|Thôn|Tổ dân phố|Tiểu khu) ").all()
    # the remotest 2.5 % have no grid power: higher up and more often especially difficult
    no_grid = ~v["has_grid_power"].astype(bool)
    assert v["has_grid_power"].notna().all() and no_grid.sum() == 42
    assert v.loc[no_grid, "especially_difficult"].mean() > 2 * v["especially_difficult"].mean()


def test_committed_coverage_layers(committed: demo_mod.Demo) -> None:
    cov = committed.coverage
    sites = cov[cov["kind"] == "site"]
    nodes = cov[cov["kind"] == "node"]
    assert set(sites["technology"]) == {"2g", "3g", "4g"}
    assert (sites["technology"] == "4g").mean() > 0.6
    assert set(nodes["technology"]) == {"fibre"}
    assert set(cov["source"]) == {"declared"}
    assert set(sites["operator"]) == {"Viettel", "VNPT", "MobiFone"}
    assert sites["antenna_height_m"].between(20, 45).all()
    assert 0.1 < sites["range_m"].notna().mean() < 0.9
    towns = committed.towns
    assert (towns["kind"] == "capital").sum() == 1
    assert set(towns["kind"]) == {"capital", "commune_seat"}
    assert set(committed.roads["kind"]) == {"main", "local", "track"}
    assert set(committed.roads.geom_type) == {"LineString"}


def _components(lines: gpd.GeoSeries) -> int:
    """Connected pieces of a road network whose roads meet only at shared vertices (the
    way geo_dx.plan.routes builds its graph), by union-find over vertex coordinates."""
    xy, owner = shapely.get_coordinates(lines.values, return_index=True)
    _, vertex = np.unique(np.round(xy, 1), axis=0, return_inverse=True)
    parent = list(range(vertex.max() + 1))

    def find(a: int) -> int:
        while parent[a] != a:
            parent[a] = parent[parent[a]]
            a = parent[a]
        return a

    for k in np.flatnonzero(owner[1:] == owner[:-1]):
        parent[find(int(vertex[k]))] = find(int(vertex[k + 1]))
    return len({find(int(v)) for v in vertex})


def test_committed_roads_reach_every_village_as_one_network(committed: demo_mod.Demo) -> None:
    roads = committed.roads.to_crs(UTM)
    villages = committed.villages.to_crs(UTM)
    gap_m = shapely.distance(villages.geometry.values, shapely.union_all(roads.geometry.values))
    # a track ends at its village; a village in a 400 m cell a road crosses has none
    assert gap_m.max() <= 300
    tracks = roads[roads["kind"] == "track"]
    ends = shapely.points(shapely.get_coordinates(shapely.get_point(tracks.geometry.values, -1)))
    assert shapely.distance(ends, shapely.union_all(villages.geometry.values)).max() < 0.01
    assert 0.2 < len(tracks) / len(villages) < 0.6
    assert _components(roads.geometry) == 1


def test_join_roads_gives_each_road_a_vertex_on_an_earlier_one() -> None:
    trunk = shapely.LineString([(0, 0), (1000, 0)])
    spur = shapely.LineString([(400, 60), (400, 500)])  # starts 60 m north of the trunk
    far = shapely.LineString([(600, 900), (1600, 900)])  # nearest earlier road: the spur
    roads = gpd.GeoDataFrame({"kind": ["main", "track", "track"]},
                             geometry=[trunk, spur, far], crs=UTM)
    joined = _demo_world.join_roads(roads)
    assert list(joined.geometry.iloc[0].coords) == [(0, 0), (400, 0), (1000, 0)]
    assert list(joined.geometry.iloc[1].coords) == [(400, 0), (400, 60), (400, 500)]
    assert list(joined.geometry.iloc[2].coords) == [(400, 500), (600, 900), (1600, 900)]
    assert _components(roads.geometry) == 3 and _components(joined.geometry) == 1
    assert list(roads.geometry.iloc[0].coords) == [(0, 0), (1000, 0)]  # input unchanged


def test_committed_dem(committed: demo_mod.Demo) -> None:
    with rasterio.open(committed.dem_path) as src:
        assert src.crs.to_epsg() == 32648
        assert src.res == (100.0, 100.0)
        assert src.compression.name.lower() == "deflate"
        assert src.profile["tiled"]
        z = src.read(1)
    assert 250 <= z.min() <= 400 and 2200 <= z.max() <= 2600


def test_committed_file_sizes() -> None:
    paths = paths_in(REPO_DATA)
    if not all(p.is_file() for p in paths.all()):
        pytest.skip("the committed demo data is not in this checkout")
    sizes = [p.stat().st_size for p in paths.all()]
    assert max(sizes) < 3_000_000 and sum(sizes) < 6_000_000


# ------------------------------------------------------------------------ calibration


def test_default_analysis_of_committed_demo_matches_dien_bien(committed: demo_mod.Demo) -> None:
    gaps = find_gaps(committed.villages, committed.coverage, communes=committed.communes,
                     dem=committed.dem_path)
    no_mobile = int((~gaps["has_mobile_broadband"]).sum())
    no_fibre = int((~gaps["has_fibre"]).sum())
    assert abs(no_mobile - TARGET_WITHOUT_MOBILE) <= 0.15 * TARGET_WITHOUT_MOBILE, no_mobile
    assert abs(no_fibre - TARGET_WITHOUT_FIBRE) <= 0.15 * TARGET_WITHOUT_FIBRE, no_fibre

    # Gaps sit in remote, high villages: higher and farther from towns than the rest.
    utm = gaps.to_crs(UTM)
    xy = np.c_[utm.geometry.x, utm.geometry.y]
    with rasterio.open(committed.dem_path) as src:
        elevation = np.array([v[0] for v in src.sample(xy)], dtype=float)
    towns = committed.towns.to_crs(UTM)
    to_town = cKDTree(np.c_[towns.geometry.x, towns.geometry.y]).query(xy)[0]
    for covered in (gaps["has_mobile_broadband"].to_numpy(), gaps["has_fibre"].to_numpy()):
        assert elevation[~covered].mean() > elevation[covered].mean() + 200
        assert to_town[~covered].mean() > to_town[covered].mean()
        assert gaps["ethnic_minority_share"][~covered].mean() > (
            gaps["ethnic_minority_share"][covered].mean()
        )


# ---------------------------------------------------------------- generator behaviour


def _frames(directory: Path) -> dict[str, object]:
    out: dict[str, object] = {}
    for path in paths_in(directory).all():
        if path.suffix == ".tif":
            with rasterio.open(path) as src:
                out[path.name] = (src.read(1), src.transform)
        else:
            out[path.name] = gpd.read_file(path)
    return out


def test_same_seed_gives_same_layers(small: Path, tmp_path: Path) -> None:
    generate_demo(tmp_path / "again", size=0.05)
    first, second = _frames(small), _frames(tmp_path / "again")
    assert first.keys() == second.keys()
    for name, frame in first.items():
        other = second[name]
        if isinstance(frame, gpd.GeoDataFrame):
            pd.testing.assert_frame_equal(pd.DataFrame(frame), pd.DataFrame(other))
        else:
            assert np.array_equal(frame[0], other[0]) and frame[1] == other[1]


def test_small_demo_is_calibrated_and_consistent(small: Path) -> None:
    paths = paths_in(small)
    villages = read_villages(paths.villages)
    communes = read_communes(paths.communes)
    coverage = read_coverage(list(paths.coverage))
    gaps = find_gaps(villages, coverage, communes=communes, dem=paths.dem)
    # size=0.05 scales the targets: 86 -> 4 and 261 -> 13, each within one village.
    assert abs(int((~gaps["has_mobile_broadband"]).sum()) - 4) <= 1
    assert abs(int((~gaps["has_fibre"]).sum()) - 13) <= 1
    area_km2 = communes.to_crs(UTM).area.sum() / 1e6
    assert area_km2 == pytest.approx(9500 * 0.05, rel=1e-6)
    assert villages["village_id"].is_unique


def test_other_seed_gives_other_layers() -> None:
    # Only the world (not the calibration) is needed to tell seeds apart.
    a = _demo_world.build_world(np.random.default_rng(1), 0.05)
    b = _demo_world.build_world(np.random.default_rng(2), 0.05)
    assert not a.outline.equals(b.outline)
    assert a.outline.area == pytest.approx(b.outline.area)


def test_failed_generation_leaves_existing_files_untouched(small: Path, tmp_path: Path,
                                                          monkeypatch) -> None:
    out = tmp_path / "data"
    shutil.copytree(small, out)  # a previous demo: regenerating into it is allowed
    before = _bytes(out)

    def broken(*args, **kwargs):
        raise RuntimeError("boom")

    monkeypatch.setattr(_demo_world, "make_roads", broken)
    with pytest.raises(RuntimeError, match="boom"):
        generate_demo(out, size=0.05)
    assert _bytes(out) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["data"]  # no temp dir left


def _bytes(folder: Path) -> dict[str, bytes]:
    return {p.relative_to(folder).as_posix(): p.read_bytes()
            for p in sorted(folder.rglob("*")) if p.is_file()}


@pytest.mark.parametrize("rel", ["boundaries/villages.gpkg", "terrain/dem.tif",
                                 "coverage/mobile_sites.gpkg"])
def test_regenerate_refuses_a_folder_holding_a_users_file(tmp_path: Path, capsys,
                                                          rel: str) -> None:
    from geo_dx.cli import main

    out = tmp_path / "project"
    (out / rel).parent.mkdir(parents=True)
    (out / rel).write_bytes(b"my own data")
    (out / "notes.txt").write_text("mine", encoding="utf-8")
    os.chmod(out, 0o750)
    before = (_bytes(out), stat.S_IMODE(out.stat().st_mode))
    assert main(["demo", "--regenerate", "--out", str(out)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and f"holds {rel} and is not a previous demo" in err[0]
    assert (_bytes(out), stat.S_IMODE(out.stat().st_mode)) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["project"]


def test_regenerate_refuses_a_demo_file_the_user_changed(small: Path, tmp_path: Path) -> None:
    out = tmp_path / "demo"
    shutil.copytree(small, out)
    (out / "boundaries" / "villages.gpkg").write_bytes(b"edited by hand")
    before = _bytes(out)
    with pytest.raises(InputError, match="villages.gpkg and changed since geo_dx generated"):
        generate_demo(out, size=0.05)
    assert _bytes(out) == before


def test_regenerating_a_previous_demo_says_no_internal_warning(small: Path, tmp_path: Path,
                                                               caplog) -> None:
    out = tmp_path / "demo"
    shutil.copytree(small, out)
    (out / "notes.txt").write_text("mine", encoding="utf-8")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        generate_demo(out, size=0.05)
    fibre = [w for w in caught if "without fibre" in str(w.message)]
    assert fibre == [] and not [r for r in caplog.records if "without fibre" in r.getMessage()]
    assert set(_bytes(out)) == set(_bytes(small)) | {"notes.txt"}
    assert _bytes(out)["notes.txt"] == b"mine"


def test_generate_rejects_bad_size(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="`size` was 0"):
        generate_demo(tmp_path, size=0)


def test_demo_paths_uses_cache_when_repo_data_missing(small: Path, tmp_path: Path,
                                                      monkeypatch) -> None:
    # A wheel install: no data/ beside the package.
    monkeypatch.setattr(demo_mod, "_REPO_DATA", tmp_path / "site-packages" / "data")
    cache = tmp_path / "cache"
    monkeypatch.setenv("GEO_DX_CACHE", str(cache))
    calls: list[Path] = []

    def fake_generate(out_dir, **kwargs):
        calls.append(Path(out_dir))
        import shutil

        shutil.copytree(small, out_dir)
        return paths_in(out_dir)

    monkeypatch.setattr(demo_mod, "generate_demo", fake_generate)
    first = demo_paths()
    assert calls == [cache] and first == paths_in(cache)
    assert demo_paths() == first and len(calls) == 1  # second call reuses the cache


def test_default_cache_dir_is_versioned(monkeypatch) -> None:
    monkeypatch.delenv("GEO_DX_CACHE", raising=False)
    path = demo_mod._cache_dir()
    assert path.parent == Path.home() / ".cache" / "geo_dx"
    assert path.name.startswith("demo-")
    assert os.sep not in path.name
