"""Cell values of input tables: text, numbers, booleans, dates, choices and ids.

The layer validators (:mod:`geo_dx.schema`) convert each column with these; every
failure is one :class:`~geo_dx.errors.InputError` naming the file, the column, the value
received, the 1-based rows (:func:`describe_rows`) and the fix.
"""

from __future__ import annotations

import re
import warnings
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd

from geo_dx.columns import nfc
from geo_dx.errors import GeoDxWarning, InputError, MissingDependencyError

#: Spellings read as true / false (any case; Vietnamese "có" / "không" with or without accents).
TRUE_WORDS = frozenset({"true", "t", "yes", "y", "1", "có", "co", "x"})
FALSE_WORDS = frozenset({"false", "f", "no", "n", "0", "không", "khong", ""})
#: Words for "not known" in a column where a blank is unknown (``has_grid_power``).
UNKNOWN_WORDS = frozenset({"unknown", "?", "chưa rõ", "chua ro", "không rõ", "khong ro",
                           "chưa biết", "chua biet"})


def as_date(series: pd.Series, source: str) -> pd.Series:
    """ISO dates or date-times, kept in local wall-clock time (an offset is ignored, so
    distinct days are the days the testers lived)."""
    text = series.map(lambda v: v if v is None or isinstance(v, float)
                      else re.sub(r"(Z|[+-]\d\d:?\d\d)$", "", str(v).strip()))
    parsed = pd.to_datetime(text, errors="coerce", format="ISO8601")
    bad = parsed.isna() & series.notna()
    if bad.any():
        raise InputError(
            f"{source}: column 'measured_at' must be an ISO date or date-time "
            f"(2025-03-14 or 2025-03-14T08:30:00), got {shown(series[bad].iloc[0])} at "
            f"{describe_rows(bad)}"
        )
    return parsed


#: Control characters (C0 and C1, DEL): a NUL ends a name in a GeoPackage but not on a map.
CONTROL_CHARACTERS = re.compile(r"[\x00-\x1f\x7f-\x9f]")


def blank_to_missing(gdf: gpd.GeoDataFrame, *, source: str = "layer") -> gpd.GeoDataFrame:
    """
    Clean text cells in place (give a copy): Unicode NFC, control characters removed (tab
    and line breaks become spaces; one warning counts the cells), stripped, empty → NaN.

    Examples
    --------
    >>> import warnings
    >>> frame = gpd.GeoDataFrame({"name": ["Bản\\x00 Nà ", " "]}, geometry=[None, None])
    >>> with warnings.catch_warnings(record=True) as caught:
    ...     warnings.simplefilter("always")
    ...     blank_to_missing(frame, source="v.csv")["name"].tolist()
    ['Bản Nà', nan]
    >>> str(caught[0].message)[:62]
    'v.csv: removed control characters (NUL, line breaks, ...) from'
    """
    changed: dict[str, np.ndarray] = {}
    for col in gdf.columns:
        if col == gdf.geometry.name:
            continue
        series = gdf[col]
        if series.dtype == object or pd.api.types.is_string_dtype(series):
            dirty = _control_cells(series)
            text = series.map(lambda v: nfc(v).strip() if isinstance(v, str) else v)
            if dirty.any():
                changed[str(col)] = dirty
                text[dirty] = text[dirty].map(_clean_text)
            gdf[col] = text.replace("", np.nan)
    if changed:
        count = sum(int(mask.sum()) for mask in changed.values())
        col, mask = next(iter(changed.items()))
        warnings.warn(
            f"{source}: removed control characters (NUL, line breaks, ...) from {count} text "
            f"cell(s) (column {col!r} at {describe_rows(mask)}"
            f"{' and other columns' if len(changed) > 1 else ''}), so every output shows the "
            "same text",
            GeoDxWarning,
            stacklevel=4,
        )
    return gdf


def _control_cells(series: pd.Series) -> np.ndarray:
    """Which cells hold a control character (vectorised for string columns)."""
    if isinstance(series.dtype, pd.StringDtype):
        found = series.str.contains(CONTROL_CHARACTERS.pattern, regex=True)
        return found.fillna(False).to_numpy(dtype=bool)
    return series.map(lambda v: isinstance(v, str) and CONTROL_CHARACTERS.search(v) is not None
                      ).to_numpy(dtype=bool)


def _clean_text(value: str) -> str:
    spaced = re.sub(r"[\t\r\n]+", " ", value)
    return CONTROL_CHARACTERS.sub("", spaced).strip()


def shown(value: object) -> str:
    """
    A cell value as a message shows it: ``inf``, not ``np.float64(inf)``.

    Examples
    --------
    >>> shown(np.float64("inf")), shown("x"), shown(np.int64(3))
    ('inf', "'x'", '3')
    """
    return repr(value.item() if isinstance(value, np.generic) else value)


def check_ids(gdf: gpd.GeoDataFrame, column: str, source: str) -> None:
    """
    Raise unless every ``column`` value is present and unique.

    Examples
    --------
    >>> check_ids(pd.DataFrame({"village_id": ["V1", "V1"]}), "village_id", "v.csv")
    Traceback (most recent call last):
    ...
    geo_dx.errors.InputError: v.csv: column 'village_id' has duplicate ids 'V1' (2 rows); ...
    """
    ids = gdf[column]
    blank = ids.isna()
    if blank.any():
        raise InputError(
            f"{source}: column {column!r} is blank at {describe_rows(blank)}; every feature "
            "needs an id"
        )
    dup = ids.duplicated(keep=False)
    if dup.any():
        values = sorted(ids[dup].unique())
        shown = ", ".join(repr(v) for v in values[:5]) + (" …" if len(values) > 5 else "")
        raise InputError(
            f"{source}: column {column!r} has duplicate ids {shown} ({dup.sum()} rows); "
            "ids must be unique: fix or remove the duplicates"
        )


def as_string(series: pd.Series) -> pd.Series:
    """
    Text, with whole floats read back as integers (an id typed 12 in Excel reads 12.0).

    Examples
    --------
    >>> as_string(pd.Series([12.0, "A7", None])).tolist()
    ['12', 'A7', nan]
    """
    def one(v: object) -> object:
        if v is None or (isinstance(v, float) and np.isnan(v)):
            return np.nan
        if isinstance(v, float) and v.is_integer():
            return str(int(v))
        return str(v)

    return series.map(one).astype(object)


def as_number(
    series: pd.Series, source: str, column: str, *, minimum: float | None = None,
    maximum: float | None = None,
) -> pd.Series:
    """
    Finite numbers within ``minimum``..``maximum``; blank stays NaN.

    Examples
    --------
    >>> as_number(pd.Series(["0.4", None]), "v.csv", "poverty_rate", minimum=0.0,
    ...           maximum=1.0).tolist()
    [0.4, nan]
    >>> as_number(pd.Series([40]), "v.csv", "poverty_rate", minimum=0.0, maximum=1.0)
    Traceback (most recent call last):
    ...
    geo_dx.errors.InputError: v.csv: column 'poverty_rate' has value 40 at row 1; ...
    """
    numbers = pd.to_numeric(series, errors="coerce").astype(float)
    bad = (numbers.isna() & series.notna()) | np.isinf(numbers)
    if bad.any():
        raise InputError(
            f"{source}: column {column!r} must be numeric and finite, got "
            f"{shown(series[bad].iloc[0])} at {describe_rows(bad)}; fix those cells or leave "
            "them blank"
        )
    low = (numbers < minimum) if minimum is not None else pd.Series(False, index=numbers.index)
    high = (numbers > maximum) if maximum is not None else pd.Series(False, index=numbers.index)
    if (low | high).any():
        allowed = (f"{_number(minimum)}..{_number(maximum)}" if maximum is not None
                   else f">= {_number(minimum)}")
        value = numbers[low | high].iloc[0]
        percent = maximum == 1.0 and value <= 100
        hint = "; it looks like a percentage: divide by 100" if percent else ""
        raise InputError(
            f"{source}: column {column!r} has value {_number(value)} at "
            f"{describe_rows(low | high)}; "
            f"allowed {allowed}{hint}"
        )
    return numbers


def _number(value: float) -> str:
    """A number as people write it: 100000, not 1e+05; 0.35 stays 0.35."""
    whole = float(value).is_integer() and abs(value) < 1e16
    return f"{value:.0f}" if whole else f"{value:g}"


def as_bool(series: pd.Series, source: str, column: str, *,
            blank_unknown: bool = False) -> pd.Series:
    """
    True/false from :data:`TRUE_WORDS` / :data:`FALSE_WORDS` (any case); blank is false.

    With ``blank_unknown`` a blank cell or one of :data:`UNKNOWN_WORDS` (``unknown``,
    ``chưa rõ``) is unknown: ``pd.NA`` in a nullable ``boolean`` column.

    Examples
    --------
    >>> as_bool(pd.Series(["Có", "no", None, 1.0]), "v.csv", "especially_difficult").tolist()
    [True, False, False, True]
    >>> as_bool(pd.Series(["không", None, "Chưa rõ"]), "v.csv", "has_grid_power",
    ...         blank_unknown=True).tolist()
    [False, <NA>, <NA>]
    """
    def one(v: object) -> object:
        if v is None or v is pd.NA or (isinstance(v, float) and np.isnan(v)):
            return pd.NA if blank_unknown else False
        if isinstance(v, bool | np.bool_):
            return bool(v)
        text = str(v).strip().lower()
        if text.endswith(".0"):
            text = text[:-2]
        if text in TRUE_WORDS:
            return True
        if blank_unknown and (not text or text in UNKNOWN_WORDS):
            return pd.NA
        if text in FALSE_WORDS:
            return False
        return None

    parsed = series.map(one)
    bad = parsed.map(lambda v: v is None)
    if bad.any():
        raise InputError(
            f"{source}: column {column!r} must be true/false, got {shown(series[bad].iloc[0])} "
            f"at {describe_rows(bad)}; use true/false, yes/no or 1/0"
            + (" (blank or 'unknown' when not known)" if blank_unknown else "")
        )
    if blank_unknown:
        return parsed.astype("boolean")
    return parsed.astype(bool)


def as_choice(series: pd.Series, allowed: tuple[str, ...], source: str, column: str) -> pd.Series:
    """
    Lower-cased values that must be among ``allowed``.

    Examples
    --------
    >>> as_choice(pd.Series(["Site", "node"]), ("site", "node"), "c.csv", "kind").tolist()
    ['site', 'node']
    """
    lowered = series.astype(str).str.strip().str.lower()
    bad = ~lowered.isin(allowed)
    if bad.any():
        raise InputError(
            f"{source}: column {column!r} has value {shown(series[bad].iloc[0])} at "
            f"{describe_rows(bad)}; "
            f"allowed: {', '.join(allowed)}"
        )
    return lowered.astype(object)


def describe_rows(mask: pd.Series | np.ndarray) -> str:
    """
    Describe the rows where ``mask`` is True as 1-based data rows.

    Examples
    --------
    >>> describe_rows([False, False, True, False, False, False, True])
    'rows 3, 7'
    """
    positions = np.flatnonzero(np.asarray(mask)) + 1
    shown = ", ".join(str(p) for p in positions[:5])
    more = f" and {len(positions) - 5} more" if len(positions) > 5 else ""
    return f"row{'s' if len(positions) > 1 else ''} {shown}{more}"


def read_docx_table(path: Path) -> pd.DataFrame:
    """
    The first table of a Word ``.docx`` document as text cells, its first row the header.

    Merged cells repeat their text; empty rows are left out.
    """
    try:
        import docx
    except ImportError as err:
        raise MissingDependencyError(f"{path}: reading .docx needs python-docx: pip install "
                                     "python-docx") from err
    try:
        tables = docx.Document(str(path)).tables
    except Exception as err:  # python-docx raises zipfile/KeyError/ValueError
        first = str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__
        raise InputError(f"{path}: cannot read this Word file ({first}); save it as .docx"
                         ) from err
    if not tables:
        raise InputError(f"{path}: the document has no table; put the list in a Word table "
                         "(first row: the column names)")
    rows = [[cell.text.strip() for cell in row.cells] for row in tables[0].rows]
    rows = [r for r in rows if any(r)]
    if len(rows) < 2:
        raise InputError(f"{path}: the first table has no data rows under its header")
    width = max(len(r) for r in rows)
    rows = [r + [""] * (width - len(r)) for r in rows]
    header = [h or f"column_{i + 1}" for i, h in enumerate(rows[0])]
    return pd.DataFrame(rows[1:], columns=header, dtype=object)


def cell_text(value: object) -> str:
    """
    A table cell as text: NFC, stripped, a typed whole number without ``.0``.

    Examples
    --------
    >>> cell_text(12.0), cell_text(" Bản Na "), cell_text(None)
    ('12', 'Bản Na', '')
    """
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(nfc(value)).strip() if value is not None else ""


def sheet_names(path: Path) -> list[str]:
    """The sheets of a workbook, in order ([] when it cannot be opened: reading it says why)."""
    import openpyxl

    try:
        book = openpyxl.load_workbook(path, read_only=True)
    except Exception:  # openpyxl raises zipfile/KeyError/InvalidFileException
        return []
    try:
        return list(book.sheetnames)
    finally:
        book.close()
