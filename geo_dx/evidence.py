"""Coverage evidence that is not a list of sites: coverage rasters and measured speed tiles.

Each function returns an :class:`~geo_dx.coverage.Evidence` aligned to the villages'
index, which :func:`geo_dx.find_gaps` combines with the coverage points. A village's
location is its point, or its polygon's ``representative_point()``.
"""

from __future__ import annotations

import logging
import warnings
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import rasterio
import shapely
from pyproj import CRS
from rasterio.windows import Window

from geo_dx.config import MeasuredConfig
from geo_dx.coverage import Evidence
from geo_dx.errors import GeoDxWarning, InputError
from geo_dx.io import open_raster
from geo_dx.schema import MOBILE_BROADBAND, SOURCES, TECHNOLOGY_ALIASES
from geo_dx.spatial import village_locations
from geo_dx.zonal import zonal_share

logger = logging.getLogger(__name__)

#: Columns a speed-tile layer must have (Ookla open-data names).
TILE_COLUMNS: tuple[str, ...] = ("avg_d_kbps", "avg_u_kbps", "tests")
#: Kinds of speed tiles.
TILE_KINDS: tuple[str, ...] = ("mobile", "fixed")


def raster_evidence(
    villages: gpd.GeoDataFrame,
    path: str | Path,
    *,
    technology: str,
    threshold: float | None = None,
    source: str = "modelled",
    band: int = 1,
) -> Evidence:
    """
    Villages covered according to a coverage raster from an operator or planning tool.

    A cell passes when its value is ``>= threshold`` (a signal raster in dBm, e.g.
    ``threshold=-105``), or, with ``threshold=None``, when it is nonzero (a 0/1 mask).
    Nodata cells never pass. Village coordinates are reprojected to the raster's CRS.
    A point village is covered when its cell passes. A polygon village is covered when
    the cell under its representative point passes or any cell whose centre is inside
    it passes (see :func:`geo_dx.zonal.zonal_share`).

    Parameters
    ----------
    villages
        Villages with a CRS (points or polygons).
    path
        Any single-band raster GDAL reads, with a CRS.
    technology
        ``"fibre"``, ``"5g"``, ``"4g"`` or ``"3g"``, with the same aliases as coverage points
        (:data:`geo_dx.schema.TECHNOLOGY_ALIASES`); ``2g`` is not broadband.
    threshold
        Lowest covered value; ``None`` for a 0/1 mask.
    source
        ``"modelled"`` (default, a planning-tool prediction), ``"measured"`` or ``"declared"``.
    band
        Raster band to read.

    Returns
    -------
    Evidence

    Examples
    --------
    >>> import tempfile
    >>> from rasterio.transform import from_origin
    >>> from shapely.geometry import Point
    >>> villages = gpd.GeoDataFrame(geometry=[Point(103.005, 21.395), Point(103.015, 21.395)],
    ...                             crs=4326)
    >>> tif = Path(tempfile.mkdtemp()) / "rsrp.tif"
    >>> with rasterio.open(tif, "w", driver="GTiff", width=2, height=1, count=1,
    ...                    dtype="float32", crs="EPSG:4326",
    ...                    transform=from_origin(103.0, 21.4, 0.01, 0.01)) as dst:
    ...     dst.write(np.array([[-90.0, -120.0]], dtype="float32"), 1)
    >>> ev = raster_evidence(villages, tif, technology="LTE", threshold=-105)
    >>> ev.covered.tolist(), ev.technology_class
    ([True, False], 'mobile')
    """
    path = Path(path)
    tech_class = _technology_class(technology, path)
    if source not in SOURCES:
        raise InputError(f"{path}: source was {source!r}; allowed: {', '.join(SOURCES)}")
    if villages.crs is None:
        raise InputError("villages have no CRS; set one before sampling a coverage raster")
    if threshold is not None and not np.isfinite(threshold):
        raise InputError(
            f"{path}: threshold was {threshold!r}; give a number (e.g. -105 for signal in dBm), "
            "or no threshold for a 0/1 mask"
        )
    with open_raster(path, what="coverage raster", crs_example="EPSG:4326") as src:
        if not 1 <= band <= src.count:
            raise InputError(f"{path}: band was {band}; the raster has bands 1..{src.count}")
        local = villages.to_crs(src.crs)
        _check_overlap(path, src, villages, local)
        points = village_locations(local)
        values = _sample_points(src, band, points)
        if threshold is None:
            _check_mask(src, band, path)
        covered = pd.Series(_passes(values, threshold), index=villages.index, dtype=bool)
        polygon = local.geom_type.isin(["Polygon", "MultiPolygon"])
        if polygon.any():

            def read(window: Window) -> np.ndarray:
                data = src.read(band, window=window, masked=True)
                return _passes(data.astype("float64").filled(np.nan), threshold)

            share = zonal_share(local.geometry[polygon], src.transform, src.shape, read)
            covered[share.index] |= share.to_numpy() > 0
    label = f"{technology} raster {path.name}"
    logger.info("%s: %d of %d villages covered", label, int(covered.sum()), len(covered))
    return Evidence(tech_class, covered, source, label)


def _technology_class(technology: str, path: Path) -> str:
    tech = TECHNOLOGY_ALIASES.get(str(technology).strip().lower())
    if tech == "fibre":
        return "fibre"
    if tech in MOBILE_BROADBAND:
        return "mobile"
    aliases = sorted(k for k, v in TECHNOLOGY_ALIASES.items() if v != "2g" and k != v)
    raise InputError(
        f"{path}: technology was {technology!r}; allowed: fibre, {', '.join(MOBILE_BROADBAND)} "
        f"(any case; aliases {', '.join(aliases)}); 2g is not broadband"
    )


def _check_overlap(
    path: Path, src: rasterio.io.DatasetReader, villages: gpd.GeoDataFrame, local: gpd.GeoDataFrame
) -> None:
    left, bottom, right, top = src.bounds
    minx, miny, maxx, maxy = local.total_bounds
    if np.all(np.isfinite([minx, miny, maxx, maxy])) and (
        minx <= right and maxx >= left and miny <= top and maxy >= bottom
    ):
        return
    vb = villages.total_bounds
    raise InputError(
        f"{path}: the coverage raster does not overlap the villages. Raster extent "
        f"({left:.6g}, {bottom:.6g}, {right:.6g}, {top:.6g}) in {CRS(src.crs).to_string()}; "
        f"villages extent ({vb[0]:.6g}, {vb[1]:.6g}, {vb[2]:.6g}, {vb[3]:.6g}) in "
        f"{CRS(villages.crs).to_string()}, i.e. ({minx:.6g}, {miny:.6g}, {maxx:.6g}, {maxy:.6g}) "
        "in the raster's CRS. Check that the raster's CRS is set correctly "
        "(gdalinfo; fix with gdal_edit.py -a_srs) and that it covers this province."
    )


def _sample_points(src: rasterio.io.DatasetReader, band: int, points: gpd.GeoSeries) -> np.ndarray:
    """Raster value at each point; NaN for nodata and for points off the raster."""
    xs = points.x.to_numpy()
    ys = points.y.to_numpy()
    values = np.full(len(points), np.nan)
    ok = np.isfinite(xs) & np.isfinite(ys)
    if not ok.any():
        return values
    rows, cols = rasterio.transform.rowcol(src.transform, xs[ok], ys[ok])
    rows, cols = np.asarray(rows), np.asarray(cols)
    inside = (rows >= 0) & (rows < src.height) & (cols >= 0) & (cols < src.width)
    out = np.full(int(ok.sum()), np.nan)
    pairs = zip(xs[ok][inside], ys[ok][inside], strict=True)
    sampled = [v[0] for v in src.sample(pairs, indexes=[band], masked=True)]
    out[inside] = [np.nan if np.ma.is_masked(v) else float(v) for v in sampled]
    values[ok] = out
    return values


def _passes(values: np.ndarray, threshold: float | None) -> np.ndarray:
    with np.errstate(invalid="ignore"):
        if threshold is None:
            return np.isfinite(values) & (values != 0)
        return np.isfinite(values) & (values >= threshold)


#: Cells read (at most, per side) to check that a raster without threshold is a 0/1 mask.
_MASK_CHECK_CELLS = 2048


def _check_mask(src: rasterio.io.DatasetReader, band: int, path: Path) -> None:
    """Refuse a raster used without threshold unless its values are 0 and 1 (or 0 and 255)."""
    shape = (min(src.height, _MASK_CHECK_CELLS), min(src.width, _MASK_CHECK_CELLS))
    data = src.read(band, out_shape=shape, masked=True)
    values = np.unique(np.asarray(data.compressed(), dtype="float64"))
    values = values[np.isfinite(values)]
    if set(values.tolist()) <= {0.0, 1.0} or set(values.tolist()) <= {0.0, 255.0}:
        return
    kind = ("look like signal strength" if values.min() < 0 else
            "look like elevation or another measure" if len(values) > 2 else "are not 0/1")
    raise InputError(
        f"{path}: values {values.min():g}..{values.max():g} ({len(values)} distinct) {kind}, "
        "not a 0/1 mask; give threshold (--raster-threshold, e.g. -105 for dBm), or a raster "
        "of 0 (not covered) and 1 (covered)"
    )


def read_speed_tiles(path: str | Path) -> gpd.GeoDataFrame:
    """
    Read measured speed tiles in the Ookla open-data layout.

    Tiles are polygons with ``avg_d_kbps``, ``avg_u_kbps`` and ``tests`` (``avg_lat_ms``,
    ``devices`` and ``quadkey`` are kept when present). Reads GeoParquet, Ookla's own
    Parquet files (tile polygons as WKT in a ``tile`` column, EPSG:4326 by Ookla's
    specification) and any vector format pyogrio reads (GeoPackage, GeoJSON, shapefile).

    Examples
    --------
    >>> import tempfile
    >>> from shapely.geometry import box
    >>> path = Path(tempfile.mkdtemp()) / "tiles.geojson"
    >>> gpd.GeoDataFrame({"avg_d_kbps": [22000], "avg_u_kbps": [6000], "tests": [14]},
    ...                  geometry=[box(103.0, 21.39, 103.0055, 21.3955)], crs=4326
    ...                  ).to_file(path)
    >>> tiles = read_speed_tiles(path)
    >>> tiles["avg_d_kbps"].tolist(), tiles.crs.to_epsg()
    ([22000], 4326)
    """
    path = Path(path)
    if not path.exists():
        raise InputError(f"{path}: speed tile file not found; check the path")
    try:
        if path.suffix.lower() in (".parquet", ".geoparquet"):
            tiles = _read_parquet_tiles(path)
        elif path.suffix.lower() in (".csv", ".txt"):
            frame = pd.read_csv(path, dtype=str, encoding="utf-8-sig", keep_default_na=False)
            tiles = _wkt_tiles(frame, path)
        else:
            tiles = gpd.read_file(path, engine="pyogrio")
    except (OSError, ValueError, RuntimeError, pd.errors.ParserError) as err:
        if isinstance(err, InputError):
            raise
        raise InputError(
            f"{path}: cannot read speed tiles ({_first_line(err)}); "
            "give GeoParquet, GeoPackage or a CSV with a WKT 'tile' column"
        ) from err
    missing = [c for c in TILE_COLUMNS if c not in tiles.columns]
    if missing:
        raise InputError(
            f"{path}: speed tiles lack column {missing[0]!r} "
            f"(have {', '.join(map(str, tiles.columns))}); "
            f"tiles need {', '.join(TILE_COLUMNS)} as in Ookla open data, rename yours with "
            "[columns] or export them with these names"
        )
    if tiles.crs is None:
        raise InputError(
            f"{path}: speed tiles have no CRS; set one (ogr2ogr -a_srs EPSG:4326 out.gpkg {path})"
        )
    for column in TILE_COLUMNS:
        try:
            tiles[column] = pd.to_numeric(tiles[column])
        except (TypeError, ValueError) as err:
            raise InputError(
                f"{path}: column {column!r} has non-numeric values ({err}); give numbers"
            ) from err
    logger.info("read %d speed tiles from %s", len(tiles), path)
    return tiles


def _read_parquet_tiles(path: Path) -> gpd.GeoDataFrame:
    try:
        return gpd.read_parquet(path)
    except ValueError:
        frame = pd.read_parquet(path)  # Ookla's files: plain Parquet, WKT in `tile`
    return _wkt_tiles(frame, path)


def _wkt_tiles(frame: pd.DataFrame, path: Path) -> gpd.GeoDataFrame:
    """Tiles from a table with Ookla's WKT ``tile`` column (EPSG:4326); bad WKT named by row."""
    if "tile" not in frame.columns:
        raise InputError(
            f"{path}: no geometry and no WKT 'tile' column (have "
            f"{', '.join(map(str, frame.columns[:15]))}); give GeoParquet, GeoPackage or "
            "Ookla's tile file"
        )
    text = frame["tile"].astype("string").str.strip()
    geometry = shapely.from_wkt(text.fillna("").to_numpy(dtype=object), on_invalid="ignore")
    bad = pd.isna(geometry) | text.isna().to_numpy() | (text == "").to_numpy()
    if bad.any():
        rows = np.flatnonzero(bad)
        raise InputError(
            f"{path}: column 'tile' has {len(rows)} value(s) that are not WKT polygons, e.g. "
            f"{str(frame['tile'].iloc[rows[0]])[:40]!r} at data row {rows[0] + 1}; fix or "
            "remove those rows"
        )
    return gpd.GeoDataFrame(frame.drop(columns="tile"), geometry=geometry, crs="EPSG:4326")


def tile_evidence(
    villages: gpd.GeoDataFrame,
    tiles: gpd.GeoDataFrame,
    *,
    kind: str,
    config: MeasuredConfig | None = None,
) -> Evidence:
    """
    Villages whose location lies in a measured speed tile fast enough to count.

    ``kind="mobile"``: tiles with ``avg_d_kbps >= mobile_min_down_kbps`` and
    ``avg_u_kbps >= mobile_min_up_kbps`` give mobile broadband. ``kind="fixed"``: the
    fixed thresholds; the evidence class is ``"fibre"`` when
    ``config.fixed_counts_as_fibre`` else ``"fixed"`` (which find_gaps does not count as
    fibre). Tiles with fewer than ``min_tests`` tests are ignored; their count is
    logged, warned (:class:`GeoDxWarning`) and given in the evidence label.

    Examples
    --------
    >>> from shapely.geometry import Point, box
    >>> tiles = gpd.GeoDataFrame({"avg_d_kbps": [22000, 900], "avg_u_kbps": [6000, 200],
    ...                           "tests": [14, 30]},
    ...                          geometry=[box(0, 0, 1, 1), box(1, 0, 2, 1)], crs=4326)
    >>> villages = gpd.GeoDataFrame(geometry=[Point(0.5, 0.5), Point(1.5, 0.5)], crs=4326)
    >>> tile_evidence(villages, tiles, kind="mobile").covered.tolist()
    [True, False]
    """
    config = config or MeasuredConfig()
    if kind not in TILE_KINDS:
        raise InputError(f"tile_evidence: kind was {kind!r}; allowed: {', '.join(TILE_KINDS)}")
    missing = [c for c in TILE_COLUMNS if c not in tiles.columns]
    if missing:
        raise InputError(f"speed tiles lack column {missing[0]!r}; read them with read_speed_tiles")
    if villages.crs is None or tiles.crs is None:
        raise InputError("villages and speed tiles both need a CRS; set them before joining")
    if kind == "mobile":
        down, up = config.mobile_min_down_kbps, config.mobile_min_up_kbps
        tech_class = "mobile"
    else:
        down, up = config.fixed_min_down_kbps, config.fixed_min_up_kbps
        tech_class = "fibre" if config.fixed_counts_as_fibre else "fixed"
    tests = pd.to_numeric(tiles["tests"], errors="coerce").fillna(0)
    trusted = tests >= config.min_tests
    ignored = int((~trusted).sum())
    fast = (
        trusted
        & (pd.to_numeric(tiles["avg_d_kbps"], errors="coerce") >= down)
        & (pd.to_numeric(tiles["avg_u_kbps"], errors="coerce") >= up)
    )
    label = f"measured {kind} tiles"
    if ignored:
        label += f" ({ignored} tiles with < {config.min_tests} tests ignored)"
        logger.info(
            "%s: %d tiles with fewer than %d tests ignored", kind, ignored, config.min_tests
        )
        warnings.warn(
            f"{ignored} {kind} speed tiles have fewer than {config.min_tests} tests and were "
            "ignored (measured.min_tests)",
            GeoDxWarning,
            stacklevel=2,
        )
    good = tiles.loc[fast, [tiles.geometry.name]].to_crs(villages.crs)
    locations = gpd.GeoDataFrame(geometry=village_locations(villages))
    joined = gpd.sjoin(locations, good, how="inner", predicate="intersects")
    covered = pd.Series(villages.index.isin(joined.index.unique()), index=villages.index)
    logger.info("%s: %d of %d villages covered", label, int(covered.sum()), len(covered))
    return Evidence(tech_class, covered, "measured", label)


def _first_line(err: BaseException) -> str:
    return str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__
