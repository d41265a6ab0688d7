"""Predicted mobile signal strength over terrain: ITM path loss from site to village.

The ``itm`` mobile model: for every site-village pair in reach (the same KD-tree pairs
the line-of-sight model checks), the terrain profile is sampled from the DEM every
``terrain.sample_step_m`` (default: the cell size), the Longley-Rice basic transmission
loss is computed (:mod:`geo_dx.signal.itm`), and the received power is

    signal_dbm = EIRP (site's ``eirp_dbm``, else ``signal.eirp_dbm[technology]``) - loss

taken at the configured time/location/situation reliabilities. A village is covered
by a site when ``signal_dbm >= signal.threshold_dbm[technology]``; its margin is the
difference. Unknown terrain never invents an obstacle: profile samples off the DEM
are interpolated from their known neighbours (flat ground when none is known).
"""

from __future__ import annotations

import dataclasses
import logging
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from affine import Affine
from pyproj import CRS

from geo_dx.config import Config, SignalConfig, TerrainConfig
from geo_dx.coverage import with_reach
from geo_dx.dem import DemGrid
from geo_dx.schema import MOBILE_BROADBAND
from geo_dx.signal.calibration import Calibration, fit_offsets
from geo_dx.signal.itm import TerrainProfiles, free_space_loss_db, itm_loss_db
from geo_dx.signal.terrain import pairs_in_reach

logger = logging.getLogger(__name__)

#: Pairs closer than this use free-space loss (ITM needs a profile; at this range the
#: antenna is overhead).
MIN_ITM_DISTANCE_M = 50.0
#: Samples per profile chunk (bounds memory when sampling the DEM).
_CHUNK_SAMPLES = 1 << 22


def pair_profiles(
    dem: DemGrid, from_xy: np.ndarray, to_xy: np.ndarray, *, step_m: float
) -> TerrainProfiles:
    """
    Terrain profiles along straight paths, sampled every ``step_m`` or a little less.

    Each profile has ``max(ceil(d / step_m), 2) + 1`` evenly spaced elevations, both ends
    included; the ends come from :meth:`geo_dx.dem.DemGrid.sample` with ``clamp=True``
    (nearest edge cell off the grid), interior samples bilinearly from the DEM. Unknown samples are
    interpolated along the profile; a profile with no known sample is flat at 0 m.

    Examples
    --------
    >>> from affine import Affine
    >>> from pyproj import CRS
    >>> ramp = DemGrid(np.tile(np.arange(10.0), (10, 1)), Affine(100, 0, 0, 0, -100, 1000),
    ...                CRS.from_epsg(32648))
    >>> p = pair_profiles(ramp, np.array([[50.0, 500.0]]), np.array([[850.0, 500.0]]),
    ...                   step_m=200.0)
    >>> p.elevation_m.tolist(), p.distance_m.tolist()
    ([0.0, 2.0, 4.0, 6.0, 8.0], [800.0])
    """
    a = np.asarray(from_xy, dtype=float).reshape(-1, 2)
    b = np.asarray(to_xy, dtype=float).reshape(-1, 2)
    distance = np.hypot(*(b - a).T)
    intervals = np.maximum(np.ceil(distance / step_m).astype(np.int64), 2)
    offsets = np.concatenate([[0], np.cumsum(intervals + 1)]).astype(np.int64)
    elevation = np.empty(int(offsets[-1]))
    start = 0
    while start < len(a):
        end = start + 1
        while end < len(a) and offsets[end + 1] - offsets[start] <= _CHUNK_SAMPLES:
            end += 1
        lo, hi = offsets[start], offsets[end]
        owner = np.repeat(np.arange(start, end), intervals[start:end] + 1)
        t = (np.arange(lo, hi) - offsets[owner]) / intervals[owner]
        xy = a[owner] + t[:, None] * (b[owner] - a[owner])
        elevation[lo:hi] = dem.sample(xy)
        start = end
    elevation[offsets[:-1]] = dem.sample(a, clamp=True)
    elevation[offsets[1:] - 1] = dem.sample(b, clamp=True)
    _fill_unknown(elevation, offsets)
    return TerrainProfiles(elevation, offsets, distance)


def _fill_unknown(elevation: np.ndarray, offsets: np.ndarray) -> None:
    """Interpolate NaN samples along their own profile, in place."""
    missing = np.isnan(elevation)
    if not missing.any():
        return
    owners = np.unique(np.searchsorted(offsets, np.flatnonzero(missing), side="right") - 1)
    for i in owners:
        z = elevation[offsets[i] : offsets[i + 1]]
        known = ~np.isnan(z)
        z[:] = np.interp(np.arange(len(z)), np.flatnonzero(known), z[known]) if known.any() else 0
    logger.info("signal: %d profiles had samples off the DEM or on nodata", len(owners))


def predict_pairs(
    dem: DemGrid,
    sites_xy: np.ndarray,
    technology: np.ndarray,
    reach_m: np.ndarray,
    targets_xy: np.ndarray,
    *,
    antenna_height_m: np.ndarray | float = np.nan,
    eirp_dbm: np.ndarray | float = np.nan,
    terrain: TerrainConfig | None = None,
    signal: SignalConfig | None = None,
) -> pd.DataFrame:
    """
    Predicted received power for every site-target pair within the site's reach.

    Parameters
    ----------
    dem
        Elevation grid; coordinates are in its CRS.
    sites_xy, technology, reach_m
        Per site: location, technology (``4g``...) and reach.
    targets_xy
        Receiver locations (villages, measurement points).
    antenna_height_m, eirp_dbm
        Per site (NaN: ``terrain.antenna_height_m`` / ``signal.eirp_dbm[technology]``).
    terrain, signal
        Receiver height, sample step; ITM options, EIRP and thresholds.

    Returns
    -------
    pandas.DataFrame
        One row per pair: ``site``, ``target`` (positions), ``distance_m``, ``loss_db``,
        ``signal_dbm``, ``margin_db`` and ITM's warning flag ``kwx``.

    Examples
    --------
    >>> from affine import Affine
    >>> from pyproj import CRS
    >>> flat = DemGrid(np.zeros((100, 100)), Affine(100, 0, 0, 0, -100, 10000),
    ...                CRS.from_epsg(32648))
    >>> pairs = predict_pairs(flat, np.array([[500.0, 5000.0]]), np.array(["4g"]),
    ...                       np.array([8000.0]), np.array([[2500.0, 5000.0],
    ...                                                     [8500.0, 5000.0]]))
    >>> bool(pairs.signal_dbm.is_monotonic_decreasing)
    True
    """
    terrain = terrain or TerrainConfig()
    signal = signal or SignalConfig()
    sites = np.asarray(sites_xy, dtype=float).reshape(-1, 2)
    targets = np.asarray(targets_xy, dtype=float).reshape(-1, 2)
    tech = np.asarray(technology).astype(str)
    n = len(sites)
    height = _fill(antenna_height_m, n, terrain.antenna_height_m)
    known = np.isin(tech, list(signal.frequency_mhz))
    site_idx, target_idx = pairs_in_reach(sites, np.where(known, reach_m, np.nan), targets)
    eirp = _fill(eirp_dbm, n, np.nan)
    eirp = np.where(np.isnan(eirp), [signal.eirp_dbm.get(t, np.nan) for t in tech], eirp)
    freq = np.array([signal.frequency_mhz.get(t, np.nan) for t in tech])
    threshold = np.array([signal.threshold_dbm.get(t, np.nan) for t in tech])
    distance = np.hypot(*(targets[target_idx] - sites[site_idx]).T)
    loss = free_space_loss_db(np.maximum(distance, 1.0), freq[site_idx])
    kwx = np.zeros(len(site_idx), dtype=np.int64)
    far = np.flatnonzero(distance >= MIN_ITM_DISTANCE_M)
    if len(far):
        step = terrain.sample_step_m if terrain.sample_step_m is not None else dem.cell_size_m
        profiles = pair_profiles(dem, sites[site_idx[far]], targets[target_idx[far]],
                                 step_m=step)
        loss[far], kwx[far] = itm_loss_db(
            profiles, frequency_mhz=freq[site_idx[far]], tx_height_m=height[site_idx[far]],
            rx_height_m=terrain.receiver_height_m, polarisation=signal.polarisation,
            permittivity=signal.permittivity, conductivity_s_m=signal.conductivity_s_m,
            surface_refractivity_n=signal.surface_refractivity_n, climate=signal.climate,
            mode="broadcast", time_pct=signal.time_pct, location_pct=signal.location_pct,
            situation_pct=signal.situation_pct,
        )
    received = eirp[site_idx] - loss
    logger.info("signal: %d site-target pairs in reach, %d at or above threshold; ITM flags "
                "%d as outside its validated range (kwx >= 3: steep or very close horizons, "
                "or under 1 km)", len(site_idx), int(np.sum(received >= threshold[site_idx])),
                int(np.sum(kwx >= 3)))
    return pd.DataFrame({
        "site": site_idx, "target": target_idx, "distance_m": distance, "loss_db": loss,
        "signal_dbm": received, "margin_db": received - threshold[site_idx], "kwx": kwx,
    })


def best_per_target(pairs: pd.DataFrame, n_targets: int) -> pd.DataFrame:
    """
    For each target, the pair with the largest margin over its technology's threshold.

    Returns a frame of ``n_targets`` rows (positions) with ``signal_dbm``, ``margin_db``
    and ``site`` (position; -1 and NaN where no site is in reach).

    Examples
    --------
    >>> pairs = pd.DataFrame({"site": [0, 1, 1], "target": [0, 0, 1],
    ...                       "signal_dbm": [-100.0, -95.0, -120.0],
    ...                       "margin_db": [10.0, 5.0, -10.0]})
    >>> best_per_target(pairs, 3).site.tolist()
    [0, 1, -1]
    """
    out = pd.DataFrame({"signal_dbm": np.full(n_targets, np.nan),
                        "margin_db": np.full(n_targets, np.nan),
                        "site": np.full(n_targets, -1, dtype=np.int64)})
    if len(pairs):
        best = pairs.sort_values(["target", "margin_db"], ascending=[True, False],
                                 kind="stable").drop_duplicates("target")
        rows = best["target"].to_numpy()
        out.loc[rows, "signal_dbm"] = best["signal_dbm"].to_numpy()
        out.loc[rows, "margin_db"] = best["margin_db"].to_numpy()
        out.loc[rows, "site"] = best["site"].to_numpy()
    return out


def _fill(value: np.ndarray | float, n: int, default: float) -> np.ndarray:
    arr = np.asarray(value, dtype=float)
    arr = np.full(n, float(arr)) if arr.ndim == 0 else arr.reshape(-1).copy()
    arr[np.isnan(arr)] = default
    return arr


def calibrate_signal(
    coverage: gpd.GeoDataFrame,
    dem: DemGrid,
    *,
    config: Config | None = None,
) -> Calibration:
    """
    Fit offsets between the median predicted and the measured signal (``rsrp_dbm``).

    Each measurement of a mobile technology with ``rsrp_dbm`` is paired with the best
    median signal (:func:`median_signal`) predicted at its location from the sites of its
    technology within ``signal.calibration_max_distance_m`` (and of its operator when
    both name one); the prediction at the configured reliabilities there feeds the
    margin and the decision tables. See :mod:`geo_dx.signal.calibration` for the fit, the
    minimum number of measurements and the held-out report.

    Examples
    --------
    Measurements 6 dB weaker than the median prediction give an offset of -6 dB:

    >>> from affine import Affine
    >>> from pyproj import CRS
    >>> flat = DemGrid(np.zeros((100, 100)), Affine(100, 0, 0, 0, -100, 10_000),
    ...                CRS.from_epsg(32648))
    >>> site = np.array([[5000.0, 5000.0]])
    >>> points = np.array([[5000.0 + d, 5000.0] for d in (500, 1000, 2000, 3000)])
    >>> pairs = predict_pairs(flat, site, np.array(["4g"]), np.array([15_000.0]), points,
    ...                       signal=median_signal(SignalConfig()))
    >>> measured = pairs.sort_values("target")["signal_dbm"].to_numpy() - 6.0
    >>> coverage = gpd.GeoDataFrame(
    ...     {"technology": ["4g"] * 5, "kind": ["site"] + ["measurement"] * 4,
    ...      "rsrp_dbm": [np.nan, *measured]},
    ...     geometry=shapely.points(np.vstack([site, points])), crs=32648)
    >>> from geo_dx.config import config_from_dict
    >>> few = config_from_dict({"signal": {"calibration_min_measurements": 2}})
    >>> round(calibrate_signal(coverage, flat, config=few).offsets_db[("4g", "")], 1)
    -6.0
    """
    config = config or Config()
    cov = coverage.to_crs(dem.crs)
    tech = cov["technology"].to_numpy().astype(str)
    operator = (cov["operator"].fillna("").astype(str).to_numpy() if "operator" in cov
                else np.full(len(cov), ""))
    is_site = (cov["kind"] == "site").to_numpy() & np.isin(tech, list(config.signal.frequency_mhz))
    rsrp = (cov["rsrp_dbm"].to_numpy(dtype=float) if "rsrp_dbm" in cov
            else np.full(len(cov), np.nan))
    is_meas = (cov["kind"] == "measurement").to_numpy() & np.isfinite(rsrp)
    sites, meas = np.flatnonzero(is_site), np.flatnonzero(is_meas)
    if len(sites) == 0 or len(meas) == 0:
        return fit_offsets(np.zeros(0), np.zeros(0), np.zeros(0, dtype=str))
    xy = shapely.get_coordinates(cov.geometry.to_numpy())
    eirp = (cov["eirp_dbm"].to_numpy(dtype=float)[sites] if "eirp_dbm" in cov
            else np.full(len(sites), np.nan))
    height = (cov["antenna_height_m"].to_numpy(dtype=float)[sites]
              if "antenna_height_m" in cov else np.full(len(sites), np.nan))
    median, reliable = (predict_pairs(
        dem, xy[sites], tech[sites],
        np.full(len(sites), config.signal.calibration_max_distance_m), xy[meas],
        antenna_height_m=height, eirp_dbm=eirp, terrain=config.terrain, signal=signal)
        for signal in (median_signal(config.signal), config.signal))
    s_tech, m_tech = tech[sites][median["site"]], tech[meas][median["target"]]
    s_op, m_op = operator[sites][median["site"]], operator[meas][median["target"]]
    same = (s_tech == m_tech) & ((s_op == m_op) | (s_op == "") | (m_op == ""))
    median["reliable_dbm"] = reliable["signal_dbm"].to_numpy()  # same pairs, same order
    best = best_per_target(median[same], len(meas))
    found = best["site"].to_numpy() >= 0
    reliable_dbm = np.full(len(meas), np.nan)
    chosen = median[same].set_index(["target", "site"])["reliable_dbm"]
    rows = np.flatnonzero(found)
    reliable_dbm[rows] = chosen.loc[list(zip(rows, best["site"].to_numpy()[rows],
                                             strict=True))].to_numpy()
    threshold = np.array([config.signal.threshold_dbm.get(t, np.nan) for t in tech[meas]])
    return fit_offsets(best["signal_dbm"].to_numpy()[found], rsrp[meas][found],
                       tech[meas][found], operator[meas][found],
                       holdout_share=config.signal.holdout_share, seed=config.signal.seed,
                       min_measurements=config.signal.calibration_min_measurements,
                       reliable_dbm=reliable_dbm[found], threshold_dbm=threshold[found])


def median_signal(signal: SignalConfig) -> SignalConfig:
    """
    The same signal options at 50 % of time, locations and situations: the median
    prediction, around which single measurements scatter.

    Examples
    --------
    >>> median_signal(SignalConfig()).location_pct
    50.0
    """
    return dataclasses.replace(signal, time_pct=50.0, location_pct=50.0, situation_pct=50.0)


def model_comparison(villages: pd.DataFrame, *, model: str) -> dict[str, object]:
    """
    Villages without mobile broadband under each mobile model computed in the run, and
    how many change class between them (before measurements dispute anything).

    Examples
    --------
    >>> v = pd.DataFrame({"has_mobile_broadband": [True, False, False],
    ...                   "has_mobile_broadband_radius": [True, True, True],
    ...                   "has_mobile_broadband_terrain": [True, True, False]})
    >>> model_comparison(v, model="itm")["changed_class"]
    {'radius_vs_terrain': 1, 'radius_vs_itm': 2, 'terrain_vs_itm': 1}
    """
    active = (villages["has_mobile_broadband_declared"] if "has_mobile_broadband_declared"
              in villages else villages["has_mobile_broadband"]).astype(bool)
    answers = {"radius": villages.get("has_mobile_broadband_radius"),
               "terrain": villages.get("has_mobile_broadband_terrain"), "itm": None}
    answers[model] = active
    answers = {k: v.astype(bool).to_numpy() for k, v in answers.items() if v is not None}
    names = [m for m in ("radius", "terrain", "itm") if m in answers]
    return {
        "active": model,
        "without_mobile_broadband": {m: int((~answers[m]).sum()) for m in names},
        "changed_class": {f"{a}_vs_{b}": int((answers[a] != answers[b]).sum())
                          for i, a in enumerate(names) for b in names[i + 1:]},
    }


def signal_grid(
    dem: DemGrid,
    coverage: gpd.GeoDataFrame,
    *,
    config: Config | None = None,
    calibration: Calibration | None = None,
) -> tuple[np.ndarray, Affine, np.ndarray]:
    """
    Predicted best mobile broadband signal (dBm) on a coarse grid, and the covered mask.

    The grid has cells of ``signal.raster_cell_m`` (a whole number of DEM cells, aligned
    with the DEM); each cell's centre is a receiver, reached by every 3g/4g/5g site within
    its reach. The mask is on the DEM grid (each DEM cell takes its coarse cell's answer),
    True where the best margin over the technology's threshold is >= 0.

    Returns
    -------
    tuple
        ``(signal_dbm, transform, covered)``: float32 grid (NaN: no site in reach), its
        affine transform, and a boolean mask of ``dem.shape``.
    """
    config = config or Config()
    factor = max(int(round(config.signal.raster_cell_m / dem.cell_size_m)), 1)
    rows = -(-dem.shape[0] // factor)
    cols = -(-dem.shape[1] // factor)
    src = dem.transform
    tf = Affine(src.a * factor, src.b, src.c, src.d, src.e * factor, src.f)
    cc, rr = np.meshgrid(np.arange(cols) + 0.5, np.arange(rows) + 0.5)
    x = (tf.c + tf.a * cc + tf.b * rr).ravel()
    y = (tf.f + tf.d * cc + tf.e * rr).ravel()
    cov = coverage if "reach_m" in coverage else with_reach(coverage, config=config)
    cov = cov.to_crs(dem.crs)
    sites = cov[(cov["kind"] == "site") & cov["technology"].isin(MOBILE_BROADBAND)]
    tech = sites["technology"].to_numpy().astype(str)
    pairs = predict_pairs(
        dem, shapely.get_coordinates(sites.geometry.to_numpy()), tech,
        sites["reach_m"].to_numpy(dtype=float), np.column_stack([x, y]),
        antenna_height_m=_column(sites, "antenna_height_m"),
        eirp_dbm=_column(sites, "eirp_dbm"), terrain=config.terrain, signal=config.signal,
    )
    if calibration is not None and len(pairs):
        operator = (sites["operator"].fillna("").astype(str).to_numpy() if "operator" in sites
                    else np.full(len(sites), ""))
        shift = calibration.offset_for(tech[pairs["site"]], operator[pairs["site"]])
        pairs = pairs.assign(signal_dbm=pairs["signal_dbm"] + shift,
                             margin_db=pairs["margin_db"] + shift)
    best = best_per_target(pairs, rows * cols)
    signal_dbm = best["signal_dbm"].to_numpy(dtype=np.float32).reshape(rows, cols)
    coarse = (best["margin_db"].to_numpy() >= 0).reshape(rows, cols)
    covered = np.repeat(np.repeat(coarse, factor, axis=0), factor, axis=1)
    logger.info("signal grid: %d x %d cells of %.0f m, %d covered", rows, cols,
                factor * dem.cell_size_m, int(coarse.sum()))
    return signal_dbm, tf, covered[: dem.shape[0], : dem.shape[1]]


def write_signal_raster(path: str | Path, signal_dbm: np.ndarray, transform: Affine,
                        crs: Any) -> Path:
    """Write a float32 GeoTIFF of predicted signal in dBm (NaN nodata)."""
    import rasterio

    path = Path(path)
    with rasterio.open(path, "w", driver="GTiff", height=signal_dbm.shape[0],
                       width=signal_dbm.shape[1], count=1, dtype="float32",
                       crs=CRS.from_user_input(crs).to_wkt(), transform=transform,
                       nodata=float("nan"), compress="deflate") as dst:
        dst.write(signal_dbm.astype(np.float32), 1)
        dst.update_tags(1, units="dBm", meaning="best predicted mobile broadband signal (ITM)")
    return path


def _column(frame: pd.DataFrame, name: str) -> np.ndarray:
    return (frame[name].to_numpy(dtype=float) if name in frame
            else np.full(len(frame), np.nan))
