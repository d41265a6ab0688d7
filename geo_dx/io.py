"""Reading input layers (writing is in :mod:`geo_dx.atomic` and :mod:`geo_dx.report`)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio

from geo_dx.config import Config
from geo_dx.errors import InputError, MissingDependencyError
from geo_dx.schema import (
    rename_columns,
    validate_communes,
    validate_coverage,
    validate_villages,
)

# --------------------------------------------------------------------------- reading

_LON = ("lon", "longitude", "lng")
_LAT = ("lat", "latitude")
_PARQUET = (".parquet", ".geoparquet")


def read_communes(path: str | Path, *, config: Config | None = None) -> gpd.GeoDataFrame:
    """
    Read and validate a communes file (GeoPackage, GeoJSON, Shapefile, GeoParquet).

    Examples
    --------
    >>> communes = read_communes("data/boundaries/communes.gpkg")  # doctest: +SKIP
    """
    config = config or Config()
    return validate_communes(
        read_layer(path, role="communes"), source=str(path), columns=config.columns.communes
    )


def read_villages(path: str | Path, *, config: Config | None = None) -> gpd.GeoDataFrame:
    """Read and validate a villages file (points or polygons, or CSV with lon/lat)."""
    config = config or Config()
    return validate_villages(
        read_layer(path, columns=config.columns.villages, role="villages"),
        source=str(path),
        columns=config.columns.villages,
    )


def read_coverage(
    paths: str | Path | Sequence[str | Path], *, config: Config | None = None
) -> gpd.GeoDataFrame:
    """
    Read, validate and concatenate coverage point files (sites, nodes, measurements).

    An OpenCellID CSV export (``radio, lon, lat, range, ...``) loads as is.
    """
    config = config or Config()
    if isinstance(paths, str | Path):
        paths = [paths]
    if not paths:
        raise InputError("coverage: no coverage file given; pass at least one --coverage file")
    frames = []
    for path in paths:
        layer = validate_coverage(
            read_layer(path, columns=config.columns.coverage, role="coverage"),
            source=str(path),
            columns=config.columns.coverage,
        )
        layer["file"] = Path(path).name
        frames.append(layer)
    crs = frames[0].crs
    merged = pd.concat([f.to_crs(crs) for f in frames], ignore_index=True)
    return gpd.GeoDataFrame(merged, geometry="geometry", crs=crs)


def read_layer(
    path: str | Path, *, columns: Mapping[str, str] | None = None, role: str = "layer"
) -> gpd.GeoDataFrame:
    """
    Read any vector file GDAL reads, GeoParquet, or a CSV with lon/lat columns (EPSG:4326).

    Raises :class:`InputError` naming the file when it is missing, empty or unreadable.
    """
    path = Path(path)
    if not path.exists():
        raise InputError(f"{path}: file not found; check the path")
    if path.is_file() and path.stat().st_size == 0:
        raise InputError(f"{path}: the file is empty (0 bytes); give a file with features")
    suffix = path.suffix.lower()
    if suffix in (".csv", ".txt"):
        return _read_csv(path, columns or {}, role)
    if suffix in _PARQUET:
        try:
            return gpd.read_parquet(path)
        except ImportError as err:
            raise MissingDependencyError(
                f"{path}: reading GeoParquet needs pyarrow: pip install 'geo_dx[parquet]'"
            ) from err
        except (ValueError, OSError) as err:
            raise InputError(f"{path}: cannot read as GeoParquet ({err})") from err
    try:
        return pyogrio.read_dataframe(path)
    except (pyogrio.errors.DataSourceError, pyogrio.errors.DataLayerError, OSError) as err:
        raise InputError(
            f"{path}: cannot read this file ({_first_line(err)}); give a GeoPackage, GeoJSON, "
            "Shapefile, GeoParquet or CSV with lon/lat columns"
        ) from err


def _read_csv(path: Path, columns: Mapping[str, str], role: str) -> gpd.GeoDataFrame:
    try:
        frame = pd.read_csv(path, dtype=str, encoding="utf-8-sig", keep_default_na=False)
    except pd.errors.EmptyDataError as err:
        raise InputError(f"{path}: the CSV file is empty; give a header row and data") from err
    except (UnicodeDecodeError, pd.errors.ParserError) as err:
        raise InputError(
            f"{path}: cannot parse the CSV ({_first_line(err)}); save it as UTF-8 CSV"
        ) from err
    frame.columns = [str(c).strip() for c in frame.columns]
    frame = rename_columns(frame, columns, source=str(path), layer=role)
    lon = next((c for c in _LON if c in frame), None)
    lat = next((c for c in _LAT if c in frame), None)
    if lon is None or lat is None:
        which = "lon" if lon is None else "lat"
        raise InputError(
            f"{path}: column {which!r} is missing "
            f"(columns found: {', '.join(frame.columns[:15])}); "
            "a CSV needs lon and lat columns in EPSG:4326 (WGS84 degrees), or map yours in the "
            "config, e.g. [columns.villages] \"x\" = \"lon\""
        )
    xy = {}
    for col in (lon, lat):
        text = frame[col].str.strip()
        values = pd.to_numeric(text.str.replace(",", ".", regex=False), errors="coerce")
        bad = values.isna()
        if bad.any():
            rows = np.flatnonzero(bad.to_numpy())
            raise InputError(
                f"{path}: column {col!r} must be a number in decimal degrees, got "
                f"{frame[col].iloc[rows[0]]!r} at data row {rows[0] + 1} (line {rows[0] + 2})"
                f"{f' and {len(rows) - 1} more rows' if len(rows) > 1 else ''}; fix those cells"
            )
        xy[col] = values.to_numpy()
    geometry = gpd.points_from_xy(xy[lon], xy[lat])
    return gpd.GeoDataFrame(frame.drop(columns=[lon, lat]), geometry=geometry, crs=4326)


def _first_line(err: BaseException) -> str:
    return str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__
