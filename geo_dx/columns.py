"""Recognising the columns real files have: any case, with or without Vietnamese accents.

A header is compared by its *folded* form (:func:`fold`: Unicode NFC, lower case,
accents removed, ``đ`` → ``d``, spaces and dashes → ``_``), so ``Kinh độ``, ``KINH_DO``
and ``kinh do`` are one name. Canonical geo_dx columns are recognised whatever their
case (``Village_ID``), and common other names by their role (``ten_ban`` / ``Tên bản``
→ ``village_name``; ``Lon``/``longitude``/``x``/``kinh_do`` → longitude).
"""

from __future__ import annotations

import difflib
import unicodedata
from collections.abc import Iterable, Mapping

import pandas as pd

#: Folded header names read as the longitude / latitude of a table (CSV, Excel).
LON_NAMES: tuple[str, ...] = ("lon", "lng", "long", "longitude", "x", "kinh_do", "kinhdo")
LAT_NAMES: tuple[str, ...] = ("lat", "latitude", "y", "vi_do", "vido")

#: Other names (folded) recognised for geo_dx columns, per layer.
ALIASES: Mapping[str, Mapping[str, str]] = {
    "communes": {
        "ma_xa": "commune_id",
        "ten_xa": "commune_name",
        "tinh": "province",
        "dan_so": "population",
    },
    "villages": {
        "ma_ban": "village_id",
        "ma_thon": "village_id",
        "ten_ban": "village_name",
        "ten_thon": "village_name",
        "ma_xa": "commune_id",
        "dan_so": "population",
        "so_ho": "households",
        "dien_luoi": "has_grid_power",
        "co_dien_luoi": "has_grid_power",
        "grid_power": "has_grid_power",  # survey_villages.csv, a run's villages.gpkg
    },
    "coverage": {
        # An OpenCellID export loads as is.
        "radio": "technology",
        "range": "range_m",
        "nha_mang": "operator",
    },
}


def fold(name: object) -> str:
    """
    A header's comparable form: NFC, lower case, no accents, ``đ`` → ``d``, ``_`` separators.

    Examples
    --------
    >>> fold("Kinh độ"), fold(" Tên  bản "), fold("Village-ID")
    ('kinh_do', 'ten_ban', 'village_id')
    """
    text = unicodedata.normalize("NFD", str(name).strip().lower())
    text = "".join(c for c in text if not unicodedata.combining(c)).replace("đ", "d")
    return "_".join(text.replace("-", " ").replace("_", " ").split())


def nfc(name: object) -> object:
    """Unicode NFC form of a string (macOS files are often NFD); other values unchanged."""
    return unicodedata.normalize("NFC", name) if isinstance(name, str) else name


def recognise(
    columns: Iterable[object], layer: str, canonical: Iterable[str], *,
    aliases: Mapping[str, str] | None = None,
) -> dict[str, str]:
    """
    Renames ``{header: geo_dx column}`` for headers recognised by case, accents or alias.

    A canonical column already present is never replaced, and each geo_dx column is
    taken by at most one header (the first).

    Examples
    --------
    >>> recognise(["Tên bản", "Village_ID", "x"], "villages", ["village_id", "village_name"])
    {'Tên bản': 'village_name', 'Village_ID': 'village_id'}
    """
    headers = [c for c in columns if isinstance(c, str)]
    canonical = list(canonical)
    taken = {c for c in headers if c in canonical}
    by_fold = {fold(c): c for c in canonical}
    aliases = {**ALIASES.get(layer, {}), **{fold(k): v for k, v in (aliases or {}).items()}}
    renames: dict[str, str] = {}
    for header in headers:
        if header in canonical:
            continue
        key = fold(header)
        target = by_fold.get(key) or aliases.get(key)
        if target and target not in taken:
            renames[header] = target
            taken.add(target)
    return renames


def find_lon_lat(columns: Iterable[object]) -> tuple[str | None, str | None]:
    """
    The longitude and latitude headers of a table, by folded name (``x``/``y`` only together).

    Examples
    --------
    >>> find_lon_lat(["Tên", "Kinh độ", "Vĩ độ"])
    ('Kinh độ', 'Vĩ độ')
    >>> find_lon_lat(["X", "Y", "lat"])
    (None, 'lat')
    """
    headers = [c for c in columns if isinstance(c, str)]
    folded = {fold(c): c for c in reversed(headers)}

    def first(names: tuple[str, ...]) -> str | None:
        return next((folded[n] for n in names if n in folded), None)

    lon = first(tuple(n for n in LON_NAMES if n != "x"))
    lat = first(tuple(n for n in LAT_NAMES if n != "y"))
    if lon is None and lat is None and "x" in folded and "y" in folded:
        return folded["x"], folded["y"]
    return lon, lat


def missing_columns_message(
    frame: pd.DataFrame, required: Iterable[str], known: Iterable[str], *, source: str,
    layer: str,
) -> str | None:
    """
    One message naming every missing required column, or ``None`` when none is missing.

    "Did you mean" suggests only headers that are not already a geo_dx column (a column
    mapped to another role is never offered).
    """
    missing = [c for c in required if c not in frame.columns]
    if not missing:
        return None
    geometry = frame.geometry.name if hasattr(frame, "geometry") else None
    present = [str(c) for c in frame.columns if c != geometry]
    free = [c for c in present if c not in set(known)]
    hints = []
    for col in missing:
        close = difflib.get_close_matches(col, free, n=1, cutoff=0.6)
        if close:
            hints.append(f"did you mean {close[0]!r} for {col!r}?")
            free.remove(close[0])
    names = ", ".join(repr(c) for c in missing)
    plural = "s" if len(missing) > 1 else ""
    example = missing[0]
    return (
        f"{source}: required column{plural} {names} {'are' if plural else 'is'} missing "
        f"(columns found: {', '.join(present[:15])}{' …' if len(present) > 15 else ''}); "
        f"{' '.join(hints) + ' ' if hints else ''}rename {'them' if plural else 'it'} in the "
        f"file or map {'them' if plural else 'it'} in the config: "
        f"[columns.{layer}] \"<your column>\" = \"{example}\""
    )
