"""Reading input layers (writing is in :mod:`geo_dx.atomic` and :mod:`geo_dx.run.report`)."""

from __future__ import annotations

import csv
import re
import warnings
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio

if TYPE_CHECKING:
    from rasterio.io import DatasetReader

from geo_dx.columns import find_lon_lat, fold, nfc, recognise
from geo_dx.config import Config
from geo_dx.errors import GeoDxWarning, InputError, MissingDependencyError
from geo_dx.schema import (
    COMMUNES,
    COVERAGE,
    VILLAGES,
    rename_columns,
    validate_communes,
    validate_coverage,
    validate_villages,
)
from geo_dx.spatial import check_extent
from geo_dx.tables import cell_text, read_docx_table, sheet_names

# --------------------------------------------------------------------------- reading

_PARQUET = (".parquet", ".geoparquet")
_TABLES = (".csv", ".txt", ".tsv")
_EXCEL = (".xlsx", ".xlsm")
#: Layer names looked for in a multi-layer file, per role.
_ROLE_LAYERS: dict[str, tuple[str, ...]] = {
    "communes": ("communes", "commune", "xa"),
    "villages": ("villages", "village", "ban", "thon"),
    "coverage": ("coverage", "sites", "cells", "nodes"),
    "towns": ("towns", "centres", "centers"),
    "roads": ("roads", "duong"),
    "power": ("power_lines", "power", "duong_day_dien", "luoi_dien"),
}


def read_communes(path: str | Path, *, config: Config | None = None) -> gpd.GeoDataFrame:
    """
    Read and validate a communes file (GeoPackage, GeoJSON, Shapefile, GeoParquet).

    ``path`` may name a layer of a multi-layer file as ``FILE:LAYER``.

    Examples
    --------
    >>> from geo_dx.demo import demo_paths
    >>> communes = read_communes(demo_paths().communes)
    >>> communes.columns[:2].tolist(), communes.crs.to_epsg()
    (['commune_id', 'commune_name'], 4326)
    """
    config = config or Config()
    return validate_communes(
        read_layer(path, columns=config.columns.communes, role="communes"), source=str(path),
        columns=config.columns.communes,
    )


def read_villages(path: str | Path | gpd.GeoDataFrame, *,
                  config: Config | None = None) -> gpd.GeoDataFrame:
    """
    Read and validate villages (points or polygons, a CSV or Excel sheet with lon/lat).

    A GeoDataFrame already in memory (a notebook) is validated the same way, not read.

    Examples
    --------
    >>> import shapely
    >>> frame = gpd.GeoDataFrame({"village_id": ["a"], "village_name": ["Bản A"]},
    ...                          geometry=[shapely.Point(103.0, 21.4)], crs=4326)
    >>> read_villages(frame)["village_id"].tolist()
    ['a']
    """
    config = config or Config()
    if isinstance(path, gpd.GeoDataFrame):
        return validate_villages(path.copy(), source="villages (GeoDataFrame)",
                                 columns=config.columns.villages)
    if not isinstance(path, str | Path):
        raise InputError(f"read_villages: got a {type(path).__name__}; give a file path or a "
                         "GeoDataFrame")
    return validate_villages(
        read_layer(path, columns=config.columns.villages, role="villages"),
        source=str(path),
        columns=config.columns.villages,
    )


def read_coverage(
    paths: str | Path | Sequence[str | Path], *, config: Config | None = None,
    within: gpd.GeoDataFrame | None = None, within_source: str = "the communes",
) -> gpd.GeoDataFrame:
    """
    Read, validate and concatenate coverage point files (sites, nodes, measurements).

    An OpenCellID CSV export (``radio, lon, lat, range, ...``) loads as is; its rows
    with a radio geo_dx does not know (NB-IoT, ...) are skipped and counted. With
    ``within``, each file is checked on its own to lie over that layer (see
    :func:`geo_dx.spatial.check_extent`), even when two files share a name.
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
        if within is not None:
            check_extent(layer, within, source=str(path), reference_source=within_source)
        layer["file"] = Path(split_layer(path)[0]).name
        frames.append(layer)
    crs = frames[0].crs
    merged = gpd.GeoDataFrame(pd.concat([f.to_crs(crs) for f in frames], ignore_index=True),
                              geometry="geometry", crs=crs)
    return merged


def split_layer(path: str | Path) -> tuple[Path, str | None]:
    """
    Split ``FILE:LAYER`` into the file and the layer (or sheet) name.

    A path that exists as given is never split (so ``C:\\data\\v.gpkg`` stays whole).

    Examples
    --------
    >>> split_layer("inputs.gpkg:villages")
    (PosixPath('inputs.gpkg'), 'villages')
    >>> split_layer("villages.csv")
    (PosixPath('villages.csv'), None)
    """
    text = str(path)
    whole = Path(text)
    if whole.exists() or ":" not in text:
        return whole, None
    file, _, layer = text.rpartition(":")
    if not file or not layer or len(file) == 1:  # "C:" is a drive, not a file
        return whole, None
    return Path(file), layer


def read_layer(
    path: str | Path, *, columns: Mapping[str, str] | None = None, role: str = "layer"
) -> gpd.GeoDataFrame:
    """
    Read any vector file GDAL reads, GeoParquet, a CSV or an Excel sheet with lon/lat.

    Tables (CSV, ``.xlsx``) need longitude/latitude columns in EPSG:4326, recognised
    by name in any case and with or without accents (``lon``/``lat``, ``longitude``,
    ``x``/``y``, ``kinh_do``/``vi_do``, ``Kinh độ``/``Vĩ độ``). A CSV saved by
    Vietnamese-locale Excel (``;`` separator, decimal comma) is read as such.
    ``FILE:LAYER`` picks a layer of a multi-layer file (or a sheet of a workbook);
    without it a file with several layers (a workbook with several sheets holding data)
    is read by the layer named after ``role`` (``villages``, ``communes``, ...), else
    refused with the list of layers. A workbook's number cells are numbers; only its
    text cells are read by locale. See ``docs/inputs.md``.

    Raises :class:`InputError` naming the file when it is missing, a folder, empty,
    unreadable or ambiguous, when a header names a column twice, or when a workbook
    holds formulas saved without their values.
    """
    path, layer = split_layer(path)
    if not path.exists():
        raise InputError(f"{path}: file not found; check the path")
    if path.is_dir() and path.suffix.lower() != ".gdb":
        raise InputError(f"{path}: is a folder; give a file (e.g. {path}/villages.gpkg)")
    if path.is_file() and path.stat().st_size == 0:
        raise InputError(f"{path}: the file is empty (0 bytes); give a file with features")
    suffix = path.suffix.lower()
    if suffix in _TABLES:
        return _points_from_table(_read_csv(path), path, columns or {}, role)
    if suffix in _EXCEL:
        return _points_from_table(_read_excel(path, layer, role), path, columns or {},
                                     role)
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
        name = _choose_layer(path, layer, role)
        return pyogrio.read_dataframe(path, layer=name)
    except (pyogrio.errors.DataSourceError, pyogrio.errors.DataLayerError, OSError) as err:
        raise InputError(
            f"{path}: cannot read this file ({_first_line(err)}); give a GeoPackage, GeoJSON, "
            "Shapefile, GeoParquet or CSV with lon/lat columns"
        ) from err


def _choose_layer(path: Path, layer: str | None, role: str) -> str | int:
    """The layer to read: the one asked for, the only one, or the one named after the role."""
    listed = pyogrio.list_layers(path)
    names = [str(n) for n, geometry in listed if geometry is not None] or [
        str(n) for n, _ in listed]
    shown = ", ".join(names[:20]) + (" …" if len(names) > 20 else "")
    if layer is not None:
        if layer not in names:
            raise InputError(f"{path}: has no layer {layer!r}; its layers: {shown}")
        return layer
    if len(names) <= 1:
        return names[0] if names else 0
    wanted = _ROLE_LAYERS.get(role, (role,))
    by_fold = {fold(n): n for n in names}
    match = [by_fold[w] for w in wanted if w in by_fold]
    if match:
        return match[0]
    raise InputError(
        f"{path}: has {len(names)} layers ({shown}); say which holds the {role}, e.g. "
        f"--{role} {path}:{names[0]}"
    )


def read_table(path: str | Path, *, sheet: str | None = None) -> pd.DataFrame:
    """
    A table's cells as text: a CSV (UTF-8, ``,``/``;``/tab), an Excel sheet or a Word table.

    ``sheet``: an Excel sheet (default the first); a Word document's first table is read.
    Every cell is text (:func:`geo_dx.tables.cell_text`).

    Examples
    --------
    >>> import tempfile
    >>> with tempfile.TemporaryDirectory() as folder:
    ...     path = Path(folder) / "list.csv"
    ...     _ = path.write_text("Tên bản;Xã\\nBản Na;Xã Pá Khá\\n", encoding="utf-8")
    ...     read_table(path).to_dict("list")
    {'Tên bản': ['Bản Na'], 'Xã': ['Xã Pá Khá']}
    """
    path, layer = split_layer(path)
    sheet = sheet or layer
    if not path.is_file():
        raise InputError(f"{path}: file not found; check the path")
    suffix = path.suffix.lower()
    if suffix in _TABLES:
        frame = _read_csv(path)
    elif suffix in _EXCEL:
        frame = _read_excel(path, sheet or (sheet_names(path) or [None])[0], "table")
    elif suffix == ".docx":
        frame = read_docx_table(path)
    else:
        raise InputError(f"{path}: cannot read a {suffix or 'file without extension'} as a "
                         "table; give .xlsx, .csv or .docx")
    frame.columns = [str(c).strip() for c in frame.columns]
    for col in frame.columns:
        frame[col] = frame[col].map(cell_text)
    return frame


def _read_csv(path: Path) -> pd.DataFrame:
    try:
        with open(path, encoding="utf-8-sig") as handle:
            header = handle.readline()
    except UnicodeDecodeError as err:
        raise InputError(
            f"{path}: the CSV is not UTF-8 (Windows-1258 or another legacy encoding?); "
            "save it as UTF-8 CSV (Excel: 'CSV UTF-8')"
        ) from err
    sep = max((",", ";", "\t"), key=header.count)
    check_header(next(csv.reader([header], delimiter=sep), []), source=str(path))
    try:
        frame = pd.read_csv(path, dtype=str, encoding="utf-8-sig", keep_default_na=False,
                            sep=sep)
    except pd.errors.EmptyDataError as err:
        raise InputError(f"{path}: the CSV file is empty; give a header row and data") from err
    except (UnicodeDecodeError, pd.errors.ParserError) as err:
        raise InputError(
            f"{path}: cannot parse the CSV ({_first_line(err)}); save it as UTF-8 CSV"
        ) from err
    frame.attrs["separator"] = sep
    return frame


def _read_excel(path: Path, sheet: str | None, role: str) -> pd.DataFrame:
    """
    One sheet of a workbook as a table: typed numbers stay numbers, other cells are text.

    The sheet is the one asked for (``FILE:SHEET``), the only one holding data, or the
    one named after ``role``; else the workbook is refused with the list of its sheets.
    """
    try:
        import openpyxl
    except ImportError as err:  # a core dependency, but keep the message useful
        raise MissingDependencyError(f"{path}: reading .xlsx needs openpyxl: pip install "
                                     "openpyxl") from err
    try:
        book = openpyxl.load_workbook(path, read_only=True, data_only=True)
    except Exception as err:  # openpyxl raises zipfile/KeyError/InvalidFileException
        raise InputError(
            f"{path}: cannot read this Excel file ({_first_line(err)}); save it as .xlsx"
        ) from err
    try:
        name = _choose_sheet(path, book, sheet, role)
        rows = [list(r) for r in book[name].iter_rows(values_only=True)]
    finally:
        book.close()
    if any(v is None for r in rows for v in r):
        _refuse_uncached_formulas(path, name, rows)
    filled = [r for r in rows if any(_filled(v) for v in r)]
    if not filled:
        raise InputError(f"{path}: sheet {name!r} is empty; give a header row and data")
    header = [str(v).strip() if _filled(v) else f"column_{i + 1}"
              for i, v in enumerate(filled[0])]
    check_header(header, source=f"{path}, sheet {name!r}", spreadsheet=True)
    body = [[_cell(v) for v in r] for r in filled[1:]]
    return pd.DataFrame(body, columns=header, dtype=object)


def _choose_sheet(path: Path, book: object, sheet: str | None, role: str) -> str:
    """The GeoPackage layer rule applied to sheets (see :func:`_choose_layer`)."""
    names = list(book.sheetnames)
    if sheet is not None:
        if sheet not in names:
            raise InputError(f"{path}: has no sheet {sheet!r}; its sheets: {', '.join(names)}")
        return sheet
    with_data = [n for n in names
                 if any(_filled(v) for r in book[n].iter_rows(max_row=20, values_only=True)
                        for v in r)]
    if len(with_data) <= 1:
        return (with_data or names)[0]
    by_fold = {fold(n): n for n in with_data}
    match = [by_fold[w] for w in _ROLE_LAYERS.get(role, (role,)) if w in by_fold]
    if match:
        return match[0]
    raise InputError(
        f"{path}: has {len(with_data)} sheets with data ({', '.join(with_data)}) and none is "
        f"named {role!r}; say which holds the {role}, e.g. --{role} \"{path}:{with_data[0]}\" "
        f"(FILE:SHEET), or name that sheet {role!r}"
    )


def _refuse_uncached_formulas(path: Path, sheet: str, values: list[list[object]]) -> None:
    """Refuse formula cells saved without their computed value (workbooks written by scripts)."""
    import openpyxl
    from openpyxl.utils import get_column_letter

    book = openpyxl.load_workbook(path, read_only=True, data_only=False)
    try:
        formulas = book[sheet].iter_rows(values_only=True)
        cells = [
            (f"{get_column_letter(c + 1)}{r + 1}", text)
            for r, (row, saved) in enumerate(zip(formulas, values, strict=False))
            for c, text in enumerate(row)
            if isinstance(text, str) and text.startswith("=") and c < len(saved)
            and saved[c] is None
        ]
    finally:
        book.close()
    if cells:
        shown = ", ".join(ref for ref, _ in cells[:8]) + (" …" if len(cells) > 8 else "")
        raise InputError(
            f"{path}: sheet {sheet!r} has {len(cells)} formula cell(s) saved without their "
            f"values ({shown}; e.g. {cells[0][0]} is {cells[0][1][:40]!r}), as a workbook "
            "written by a script is; open it in Excel or LibreOffice and save it (that stores "
            "the values), or write the values instead of formulas"
        )


def check_header(header: Sequence[str], *, source: str, spreadsheet: bool = False) -> None:
    """
    Refuse a header naming one column twice (which of the two would be read?).

    Examples
    --------
    >>> check_header(["id", "lon", "lat", "lon"], source="v.csv")
    Traceback (most recent call last):
    ...
    geo_dx.errors.InputError: v.csv: the header names column 'lon' twice (columns 2 and 4); ...
    """
    seen: dict[str, int] = {}
    for i, name in enumerate(header):
        key = nfc(str(name).strip())
        if not key:
            continue  # blank header cells are named by position
        if key in seen:
            where = (f"{_letter(seen[key])} and {_letter(i)}" if spreadsheet
                     else f"{seen[key] + 1} and {i + 1}")
            raise InputError(
                f"{source}: the header names column {key!r} twice (columns {where}); rename "
                "or remove one of them"
            )
        seen[key] = i


def _letter(position: int) -> str:
    from openpyxl.utils import get_column_letter

    return get_column_letter(position + 1)


def _filled(value: object) -> bool:
    return value is not None and bool(str(value).strip())


def _cell(value: object) -> object:
    """A typed number stays a number (never read by locale); everything else is text."""
    if value is None:
        return ""
    if isinstance(value, int | float) and not isinstance(value, bool):
        return value
    return str(value)


def _points_from_table(
    frame: pd.DataFrame, path: Path, columns: Mapping[str, str], role: str
) -> gpd.GeoDataFrame:
    """Points from a table's longitude/latitude columns (EPSG:4326), numbers read per locale."""
    frame.columns = [str(c).strip() for c in frame.columns]
    frame = rename_columns(frame, columns, source=str(path), layer=role)
    frame = read_numbers(frame, source=str(path),
                         decimal_comma=frame.attrs.get("separator") == ";",
                         text_columns=_text_columns(frame, role))
    frame.attrs.pop("separator", None)  # read; metadata does not travel with the layer
    lon, lat = find_lon_lat(frame.columns)
    if lon is None or lat is None:
        which = "lon" if lon is None else "lat"
        raise InputError(
            f"{path}: column {which!r} is missing (no {'longitude' if lon is None else 'latitude'}"
            f" column among: {', '.join(frame.columns[:15])}); "
            "a table needs lon and lat columns in EPSG:4326 (WGS84 degrees), e.g. lon/lat, "
            "longitude/latitude, x/y, kinh_do/vi_do, or map yours in the config, e.g. "
            f"[columns.{role}] \"E\" = \"lon\""
        )
    xy = {}
    for col in (lon, lat):
        text = frame[col].astype(str).str.strip()
        values = pd.to_numeric(text, errors="coerce")
        bad = values.isna() | ~np.isfinite(values)
        if bad.any():
            rows = np.flatnonzero(bad.to_numpy())
            raise InputError(
                f"{path}: column {col!r} must be a number in decimal degrees, got "
                f"{frame[col].iloc[rows[0]]!r} at data row {rows[0] + 1} (line {rows[0] + 2})"
                f"{f' and {len(rows) - 1} more rows' if len(rows) > 1 else ''}; fix those cells"
            )
        xy[col] = values.to_numpy(dtype=float)
    geometry = gpd.points_from_xy(xy[lon], xy[lat])
    return gpd.GeoDataFrame(frame.drop(columns=[lon, lat]), geometry=geometry, crs=4326)


def _text_columns(frame: pd.DataFrame, role: str) -> list[str]:
    """Columns that hold text, not numbers (ids, names): never read as numbers."""
    strings = {"communes": COMMUNES, "villages": VILLAGES, "coverage": COVERAGE}.get(role)
    known = set(strings.strings) if strings else set()
    text = []
    for col in frame.columns:
        name = fold(col)
        target = recognise([col], role, strings.known if strings else ()).get(col, col)
        if target in known or name.endswith("id") or name.startswith(("ma_", "ten", "name")):
            text.append(col)
    return text


_THOUSANDS_DOT = re.compile(r"^[+-]?\d{1,3}(\.\d{3})+(,\d+)?$")
_DECIMAL_COMMA = re.compile(r"^[+-]?\d*,\d+$")
_DECIMAL_POINT = re.compile(r"^[+-]?\d*\.\d+$")
_PLAIN = re.compile(r"^[+-]?\d+$")


def read_numbers(
    frame: pd.DataFrame, *, source: str, decimal_comma: bool, text_columns: Sequence[str] = ()
) -> pd.DataFrame:
    """
    Rewrite a text table's numbers to one convention (``1250``, ``21.5``), per file.

    A file uses one decimal mark for every column. It is a decimal comma (Vietnamese
    locale: ``1.250`` is 1250, ``21,5`` is 21.5) when cells have a decimal comma, or when
    the separator is ``;`` (``decimal_comma``) and no cell has a decimal point; then a
    warning says so once. A file mixing decimal commas and decimal points, or a ``;`` file
    with decimal points and ``1.250``-like cells, is ambiguous and refused. Columns in
    ``text_columns`` and columns with any non-number cell are left alone. Typed numbers
    (an Excel number cell) are numbers already: only text cells are read by locale.

    Examples
    --------
    >>> frame = pd.DataFrame({"population": ["1.250", "80"], "lon": ["103,5", "103"]})
    >>> read_numbers(frame, source="v.csv", decimal_comma=True).to_dict("list")
    {'population': ['1250', '80'], 'lon': ['103.5', '103']}
    """
    numeric = {}
    for col in frame.columns:
        if col in text_columns:
            continue
        typed = frame[col].map(_is_number).to_numpy(dtype=bool)
        cells = frame[col].astype(str).str.strip().where(~typed, "")
        filled = cells[cells != ""]
        if (len(filled) or typed.any()) and filled.map(_looks_numeric).all():
            numeric[col] = cells  # only text cells: typed numbers are never read by locale
    if not numeric:
        return frame

    def first(pattern: re.Pattern[str], *, unless: re.Pattern[str] | None = None):
        for col, cells in numeric.items():
            for row, cell in enumerate(cells):
                if pattern.match(cell) and not (unless and unless.match(cell)):
                    return col, row, cell
        return None

    comma = first(_DECIMAL_COMMA)
    point = first(_DECIMAL_POINT, unless=_THOUSANDS_DOT)
    grouped = first(_THOUSANDS_DOT)
    if comma and point:
        raise InputError(
            f"{source}: numbers mix a decimal comma ({comma[2]!r} in column {comma[0]!r}, data "
            f"row {comma[1] + 1}) and a decimal point ({point[2]!r} in column {point[0]!r}, "
            f"data row {point[1] + 1}); use one convention for the whole file"
        )
    if decimal_comma and point and grouped:
        raise InputError(
            f"{source}: the file uses ';' (Vietnamese locale: '.' between thousands) but also "
            f"decimal points ({point[2]!r} in column {point[0]!r}); is {grouped[2]!r} in column "
            f"{grouped[0]!r} {grouped[2].replace('.', '')} or {grouped[2]}? Use one convention "
            "for the whole file"
        )
    if not (comma or (decimal_comma and not point)):
        return frame
    out = frame.copy()
    changed = False
    for col, cells in numeric.items():
        converted = cells.str.replace(".", "", regex=False).str.replace(",", ".", regex=False)
        changed |= bool((converted != cells).any())
        out[col] = converted.where(cells != "", frame[col])  # typed numbers and blanks kept
    if changed:
        warnings.warn(
            f"{source}: read numbers with a decimal comma and '.' between thousands "
            "(Vietnamese locale), e.g. 1.250 = 1250 and 21,5 = 21.5",
            GeoDxWarning,
            stacklevel=3,
        )
    out.attrs = dict(frame.attrs)
    return out


def _is_number(value: object) -> bool:
    return isinstance(value, int | float | np.number) and not isinstance(value, bool | np.bool_)


def _looks_numeric(cell: str) -> bool:
    return bool(_PLAIN.match(cell) or _DECIMAL_COMMA.match(cell) or _DECIMAL_POINT.match(cell)
                or _THOUSANDS_DOT.match(cell))


def _first_line(err: BaseException) -> str:
    return str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__


def open_raster(
    path: str | Path, *, what: str, crs_example: str = "EPSG:32648"
) -> DatasetReader:
    """
    Open a raster GDAL reads, or raise one :class:`InputError` naming the file.

    Missing, unreadable and CRS-less rasters are refused (a raster without a CRS cannot
    be placed). The caller closes the dataset (``with open_raster(...) as src``).

    Examples
    --------
    >>> open_raster("no/such.tif", what="DEM")
    Traceback (most recent call last):
    geo_dx.errors.InputError: no/such.tif: DEM not found; check the path
    """
    import rasterio
    from rasterio.errors import RasterioError

    path = Path(path)
    if not path.exists():
        raise InputError(f"{path}: {what} not found; check the path")
    try:
        src = rasterio.open(path)
    except RasterioError as err:
        raise InputError(f"{path}: cannot read the {what} ({err}); give a GeoTIFF") from err
    if src.crs is None:
        src.close()
        raise InputError(
            f"{path}: the {what} has no CRS; set one (e.g. gdal_edit.py -a_srs {crs_example} "
            f"{path})"
        )
    return src

