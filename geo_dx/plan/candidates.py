"""Mobile candidates for the investment plan, and which gap villages each would serve.

Candidates come from the user (``--candidates FILE``) or are generated:

- ``dem_peak``: local maxima of the DEM (hill and ridge tops) within reach of a village
  without mobile broadband, thinned so no two are closer than
  ``plan.candidate_spacing_m``;
- ``gap_village``: a mast in each village without mobile broadband;
- ``existing_2g_site`` / ``existing_3g_site``: upgrading an operator's existing 2G or
  3G site to 4G (infrastructure sharing is the cheapest fix). Under the gap rule a 3G
  site already gives broadband, so a 3G upgrade only counts where it reaches further.

A candidate is a 4G *site* (reach: its ``range_m``, else the 4G default, capped by the
4G maximum; small cells ``plan.small_cell_range_m``). Which villages it serves is not
decided here: :func:`as_coverage_sites` turns candidates into the coverage rows
:func:`geo_dx.find_gaps` would read, and :func:`geo_dx.signal.served.served_matrix` (the
gap rule's own owner) says whom they serve, under whatever model the gaps used.
"""

from __future__ import annotations

import logging
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from scipy.spatial import cKDTree

from geo_dx.communes import placed
from geo_dx.config import Config
from geo_dx.coverage import with_reach
from geo_dx.dem import DemGrid
from geo_dx.errors import InputError
from geo_dx.io import read_layer
from geo_dx.schema import validate_candidates
from geo_dx.spatial import check_extent, village_locations, working_crs

logger = logging.getLogger(__name__)

#: Columns of a prepared candidates layer, in order.
CANDIDATE_COLUMNS: tuple[str, ...] = (
    "candidate_id", "name", "kind", "generated_by", "site_ref", "operator",
    "antenna_height_m", "elevation_m", "reach_m", "cost_vnd",
)
#: How a candidate was generated (``user`` for candidates from a file).
GENERATED_BY: tuple[str, ...] = (
    "user", "dem_peak", "gap_village", "existing_2g_site", "existing_3g_site",
)


def read_candidates(
    path: str | Path, *, within: gpd.GeoDataFrame | None = None,
    within_source: str = "the communes",
) -> gpd.GeoDataFrame:
    """
    Read and validate a candidates file (any vector format, or CSV with lon/lat).

    With ``within``, the file is checked to lie over that layer as a coverage file is
    (:func:`geo_dx.spatial.check_extent`): candidates hundreds of km away are a shifted
    column or the wrong CRS, and would serve no village.

    Examples
    --------
    >>> import tempfile
    >>> path = Path(tempfile.mkdtemp()) / "candidates.csv"
    >>> _ = path.write_text("candidate_id,kind,lon,lat\\nA,Upgrade,103.0,21.4\\n")
    >>> read_candidates(path)[["candidate_id", "kind"]].to_numpy().tolist()
    [['A', 'upgrade']]
    """
    layer = validate_candidates(read_layer(path, role="candidates"), source=str(path))
    if within is not None:
        check_extent(layer, within, source=str(path), reference_source=within_source)
    return layer


def generate_candidates(
    villages: gpd.GeoDataFrame,
    *,
    coverage: gpd.GeoDataFrame | None = None,
    dem: DemGrid | None = None,
    config: Config | None = None,
    crs: object | None = None,
) -> gpd.GeoDataFrame:
    """
    Candidate sites for the villages without mobile broadband.

    Parameters
    ----------
    villages
        Villages with ``has_mobile_broadband`` (the output of ``find_gaps``).
    coverage
        Existing coverage points; their 2G and 3G sites become ``upgrade`` candidates.
    dem
        With a DEM, hill tops within 4G reach of a gap village become candidates.
    config
        ``plan.candidate_spacing_m``, ``plan.max_peak_candidates``, 4G reach.
    crs
        Metric CRS to work in (default: the DEM's, else the villages' UTM zone).

    Returns
    -------
    geopandas.GeoDataFrame
        ``candidate_id, name, kind, generated_by, operator, antenna_height_m, range_m``
        in the villages' CRS.

    Examples
    --------
    >>> from geo_dx import find_gaps, load_demo, read_dem
    >>> demo = load_demo()
    >>> gaps = find_gaps(demo.villages, demo.coverage, communes=demo.communes)
    >>> cands = generate_candidates(gaps, coverage=demo.coverage,
    ...                             dem=read_dem(demo.dem_path))
    >>> sorted(set(cands.generated_by))
    ['dem_peak', 'existing_2g_site', 'existing_3g_site', 'gap_village']
    >>> upgrades = (cands.generated_by == "existing_3g_site").sum()
    >>> bool(upgrades == (demo.coverage.technology == "3g").sum())  # every 3G site
    True
    """
    config = config or Config()
    work_crs = crs or (dem.crs if dem is not None else working_crs(villages, config.crs))
    # a misplaced village (location_issue) would put a mast where nobody lives
    gap = villages[~villages["has_mobile_broadband"].astype(bool) & placed(villages)]
    frames = []
    loc = village_locations(gap)
    frames.append(gpd.GeoDataFrame({
        "candidate_id": ("gen-village-" + gap["village_id"].astype(str)).to_numpy(),
        "name": gap["village_name"].astype(str).to_numpy() if "village_name" in gap else None,
        "kind": "new_site",
        "generated_by": "gap_village",
    }, geometry=loc.to_numpy(), crs=villages.crs).to_crs(work_crs))
    if coverage is not None and len(coverage):
        frames.append(_upgrade_candidates(coverage).to_crs(work_crs))
    if dem is not None and len(gap):
        reach = config.coverage.default_range_m.get("4g", 4000.0)
        reach = min(reach, config.coverage.max_range_m.get("4g", np.inf))
        gxy = shapely.get_coordinates(loc.to_crs(dem.crs).to_numpy())
        frames.append(_peak_candidates(dem, gxy, reach_m=reach,
                                       spacing_m=config.plan.candidate_spacing_m,
                                       max_n=config.plan.max_peak_candidates).to_crs(work_crs))
    frames = [f for f in frames if len(f)]
    if not frames:
        return _empty_candidates(villages.crs)
    out = gpd.GeoDataFrame(pd.concat(frames, ignore_index=True), geometry="geometry",
                           crs=work_crs).to_crs(villages.crs)
    logger.info("generated %d candidates: %s", len(out),
                out["generated_by"].value_counts().to_dict())
    return out


def prepare_candidates(candidates: gpd.GeoDataFrame, *, config: Config | None = None
                       ) -> gpd.GeoDataFrame:
    """
    Fill each candidate's reach, antenna height and cost from the config.

    Reach: ``range_m``, else the 4G default (small cells: ``plan.small_cell_range_m``),
    capped by the 4G maximum, exactly as :func:`geo_dx.coverage.with_reach` treats a
    4G site. Antenna: ``antenna_height_m``, else ``terrain.antenna_height_m`` (small
    cells: ``plan.small_cell_antenna_height_m``). Cost: ``cost_vnd``, else the
    configured unit cost of the candidate's kind.

    Examples
    --------
    >>> gdf = gpd.GeoDataFrame({"candidate_id": ["A", "B"], "kind": ["new_site", "small_cell"]},
    ...                        geometry=[shapely.Point(0, 0)] * 2, crs=32648)
    >>> prepare_candidates(gdf)[["reach_m", "cost_vnd"]].values.tolist()
    [[4000.0, 2500000000.0], [1000.0, 400000000.0]]
    """
    config = config or Config()
    plan = config.plan
    out = candidates.copy()
    for col in ("name", "operator", "site_ref"):
        if col not in out:
            out[col] = None
    if "elevation_m" not in out:
        out["elevation_m"] = np.nan
    if "generated_by" not in out:
        out["generated_by"] = "user"
    out["generated_by"] = out["generated_by"].fillna("user")
    small = (out["kind"] == "small_cell").to_numpy()
    rng = out["range_m"].astype(float) if "range_m" in out else pd.Series(np.nan, out.index)
    rng = rng.where(~small | rng.notna(), plan.small_cell_range_m)
    as_site = gpd.GeoDataFrame({"technology": "4g", "kind": "site", "range_m": rng.to_numpy()},
                               geometry=out.geometry.to_numpy(), crs=out.crs)
    out["reach_m"] = with_reach(as_site, config=config)["reach_m"].to_numpy()
    height = (out["antenna_height_m"].astype(float) if "antenna_height_m" in out
              else pd.Series(np.nan, out.index))
    default_height = np.where(small, plan.small_cell_antenna_height_m,
                              config.terrain.antenna_height_m)
    out["antenna_height_m"] = height.fillna(pd.Series(default_height, out.index))
    unit = out["kind"].map({"new_site": plan.costs.new_site_vnd,
                            "upgrade": plan.costs.upgrade_vnd,
                            "small_cell": plan.costs.small_cell_vnd}).astype(float)
    cost = out["cost_vnd"].astype(float) if "cost_vnd" in out else unit * np.nan
    out["cost_vnd"] = cost.fillna(unit)
    geom = out.geometry.name
    return out[[*CANDIDATE_COLUMNS, geom]].reset_index(drop=True)


def plan_candidates(
    villages: gpd.GeoDataFrame,
    candidates: gpd.GeoDataFrame | None,
    *,
    coverage: gpd.GeoDataFrame | None,
    dem: DemGrid | None,
    config: Config,
    crs: object,
) -> gpd.GeoDataFrame:
    """
    The candidates a plan chooses among, prepared: the given ones and, as
    ``plan.generate`` says, generated ones (:func:`generate_candidates`), less
    ``plan.exclude``. Duplicate ids and unknown or clashing ``plan.must``/``plan.exclude``
    ids are refused.

    Examples
    --------
    >>> import geo_dx
    >>> demo = geo_dx.load_demo()
    >>> gaps = geo_dx.find_gaps(demo.villages, demo.coverage, communes=demo.communes)
    >>> cands = plan_candidates(gaps, None, coverage=demo.coverage, dem=None,
    ...                         config=Config(), crs="EPSG:32648")
    >>> bool(cands["candidate_id"].str.startswith("gen-").all())
    True
    """
    frames = []
    if candidates is not None and len(candidates):
        frames.append(candidates.to_crs(villages.crs))
    generate = config.plan.generate
    if generate == "always" or (generate == "auto" and not frames):
        frames.append(generate_candidates(villages, coverage=coverage, dem=dem, config=config,
                                          crs=crs))
    frames = [f for f in frames if len(f)]
    if not frames:
        out = gpd.GeoDataFrame({"candidate_id": [], "kind": []}, geometry=[], crs=villages.crs)
    else:
        out = gpd.GeoDataFrame(pd.concat(frames, ignore_index=True), geometry="geometry",
                               crs=villages.crs)
    dup = out["candidate_id"].astype(str).duplicated()
    if dup.any():
        raise InputError(
            f"candidates: id {out['candidate_id'][dup].iloc[0]!r} is used twice (ids starting "
            "'gen-' are reserved for generated candidates); make candidate ids unique"
        )
    ids = set(out["candidate_id"].astype(str))
    for key in ("must", "exclude"):
        unknown = [c for c in getattr(config.plan, key) if c not in ids]
        if unknown:
            raise InputError(
                f"plan.{key}: unknown candidate id(s) {unknown[:5]}; use ids from the "
                "candidates file or the generated ones listed in plan.csv"
            )
    clash = set(config.plan.must) & set(config.plan.exclude)
    if clash:
        raise InputError(f"plan: candidate(s) {sorted(clash)[:5]} are both in must and exclude")
    out = out[~out["candidate_id"].astype(str).isin(config.plan.exclude)]
    if len(out):
        return prepare_candidates(out, config=config)
    return gpd.GeoDataFrame({c: [] for c in CANDIDATE_COLUMNS}, geometry=[], crs=villages.crs)


def as_coverage_sites(candidates: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """
    Prepared candidates as 4G coverage sites (to add to the coverage and re-run find_gaps).

    The candidate's reach goes in ``range_m`` and no ``reach_m`` column is added, so that
    ``find_gaps`` on the coverage with these rows appended derives every row's reach the
    same way (a partly filled ``reach_m`` column would leave the other rows without one).

    Examples
    --------
    >>> gdf = gpd.GeoDataFrame({"candidate_id": ["A"], "kind": ["new_site"]},
    ...                        geometry=[shapely.Point(0, 0)], crs=32648)
    >>> as_coverage_sites(prepare_candidates(gdf)).technology.tolist()
    ['4g']
    """
    return gpd.GeoDataFrame({
        "technology": "4g",
        "kind": "site",
        "source": "declared",
        "operator": candidates["operator"].to_numpy(),
        "range_m": candidates["reach_m"].to_numpy(dtype=float),
        "antenna_height_m": candidates["antenna_height_m"].to_numpy(dtype=float),
        "candidate_id": candidates["candidate_id"].to_numpy(),
    }, geometry=candidates.geometry.to_numpy(), crs=candidates.crs)


def _upgrade_candidates(coverage: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Existing 2G and 3G sites as upgrade candidates (keeping their antenna height), named
    by the input site's own id (:func:`point_refs`), never by a row number."""
    sites = coverage[coverage["technology"].isin(["2g", "3g"]) & (coverage["kind"] == "site")]
    height = (sites["antenna_height_m"].astype(float).to_numpy() if "antenna_height_m" in sites
              else np.full(len(sites), np.nan))
    operator = sites["operator"].to_numpy() if "operator" in sites else None
    refs = point_refs(sites)
    ids = pd.Series([f"gen-upgrade-{r}" for r in refs])
    twice = ids.duplicated(keep=False).to_numpy()  # one id for a 2G and a 3G row
    ids[twice] = ids[twice] + "-" + sites["technology"].astype(str).to_numpy()[twice]
    return gpd.GeoDataFrame({
        "candidate_id": ids.to_numpy(),
        "name": [f"upgrade {t} site {r}" for t, r in zip(sites["technology"], refs,
                                                        strict=True)],
        "kind": "upgrade",
        "generated_by": ("existing_" + sites["technology"].astype(str) + "_site").to_numpy(),
        "site_ref": refs,
        "operator": operator,
        "antenna_height_m": height,
    }, geometry=sites.geometry.to_numpy(), crs=coverage.crs)


def point_refs(points: gpd.GeoDataFrame) -> np.ndarray:
    """
    A stable reference for each coverage point, from the input, never a row number.

    The point's ``site_id`` (sites) or ``node_id`` (fibre nodes) when it has one, else its
    technology and WGS84 position (``4g@21.30546,102.85050``), which do not change when
    rows are added, removed or reordered.

    Examples
    --------
    >>> pts = gpd.GeoDataFrame({"technology": ["2g", "fibre"], "site_id": ["S1", None]},
    ...                        geometry=[shapely.Point(102.85, 21.3)] * 2, crs=4326)
    >>> point_refs(pts).tolist()
    ['S1', 'fibre@21.30000,102.85000']
    """
    ref = pd.Series([None] * len(points), index=points.index, dtype=object)
    for col in ("site_id", "node_id"):
        if col in points:
            given = points[col].map(lambda v: None if pd.isna(v) or str(v).strip() == ""
                                    else str(v).strip()).astype(object)
            ref = ref.where(ref.notna(), given)
    missing = ref.isna().to_numpy()
    if missing.any():
        wgs = points.geometry[missing].to_crs(4326)
        tech = (points["technology"].astype(str).to_numpy()[missing] if "technology" in points
                else np.full(int(missing.sum()), "point"))
        ref[missing] = [f"{t}@{y:.5f},{x:.5f}" for t, x, y in
                        zip(tech, wgs.x.to_numpy(), wgs.y.to_numpy(), strict=True)]
    return ref.astype(str).to_numpy()


def _peak_candidates(
    dem: DemGrid, gap_xy: np.ndarray, *, reach_m: float, spacing_m: float, max_n: int
) -> gpd.GeoDataFrame:
    """Local maxima of the DEM within reach of a gap village, thinned, highest first."""
    from scipy.ndimage import maximum_filter

    z = np.where(np.isnan(dem.elevation_m), -np.inf, dem.elevation_m)
    size = max(int(round(spacing_m / dem.cell_size_m)), 1) * 2 + 1
    peak = (z == maximum_filter(z, size=size, mode="nearest")) & np.isfinite(z)
    rows, cols = np.nonzero(peak)
    tf = dem.transform
    xy = np.column_stack([tf.c + (cols + 0.5) * tf.a, tf.f + (rows + 0.5) * tf.e])
    elevation = z[rows, cols]
    near, _ = cKDTree(gap_xy).query(xy, distance_upper_bound=reach_m)
    keep = np.isfinite(near)
    xy, elevation = xy[keep], elevation[keep]
    order = np.argsort(-elevation, kind="stable")
    xy, elevation = xy[order], elevation[order]
    chosen = _thin(xy, spacing_m)[:max_n]
    logger.info("DEM peaks: %d local maxima within reach of gap villages, %d after thinning",
                len(xy), len(chosen))
    return gpd.GeoDataFrame({
        "candidate_id": [f"gen-peak-{i + 1}" for i in range(len(chosen))],
        "name": [f"hill top {e:.0f} m" for e in elevation[chosen]],
        "kind": "new_site",
        "generated_by": "dem_peak",
        "elevation_m": elevation[chosen],
    }, geometry=shapely.points(xy[chosen]), crs=dem.crs)


def _thin(xy: np.ndarray, spacing_m: float) -> np.ndarray:
    """Indices of points kept in order, dropping any within ``spacing_m`` of a kept one."""
    if len(xy) == 0:
        return np.zeros(0, dtype=np.int64)
    neighbours = cKDTree(xy).query_ball_point(xy, r=spacing_m)
    removed = np.zeros(len(xy), dtype=bool)
    kept = []
    for i in range(len(xy)):
        if removed[i]:
            continue
        kept.append(i)
        removed[neighbours[i]] = True
    return np.asarray(kept, dtype=np.int64)


def _empty_candidates(crs: object) -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame({c: [] for c in ("candidate_id", "name", "kind", "generated_by")},
                            geometry=[], crs=crs)
