"""Layer contracts and their validation, in one place.

Every input layer passes through :func:`validate_communes`, :func:`validate_villages`
or :func:`validate_coverage` before any analysis. They return a clean copy with
canonical column names and dtypes, or raise :class:`~geo_dx.errors.InputError` with a
message that names the file, the column, the value received and the fix.
"""

from __future__ import annotations

import re
import warnings
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from pyproj import CRS

from geo_dx.columns import fold, missing_columns_message, nfc, recognise
from geo_dx.errors import GeoDxWarning, InputError
from geo_dx.i18n import CODE_LABELS, N_

#: Technologies geo_dx knows, best first within each class.
TECHNOLOGIES: tuple[str, ...] = ("fibre", "5g", "4g", "3g", "2g")
#: Technologies that count as mobile broadband (2g does not).
MOBILE_BROADBAND: tuple[str, ...] = ("5g", "4g", "3g")
#: Mobile technologies, best first.
MOBILE_ORDER: tuple[str, ...] = ("5g", "4g", "3g", "2g")
#: Lower-case spellings accepted for each technology (points and rasters alike).
TECHNOLOGY_ALIASES: Mapping[str, str] = MappingProxyType({
    **{t: t for t in TECHNOLOGIES},
    "fiber": "fibre",
    "ftth": "fibre",
    "gpon": "fibre",
    "nr": "5g",
    "lte": "4g",
    "umts": "3g",
    "hspa": "3g",
    "wcdma": "3g",
    "cdma": "3g",
    "gsm": "2g",
})
#: Evidence sources, strongest first: when several cover a village the first wins.
SOURCES: tuple[str, ...] = ("measured", "modelled", "declared")
#: Scoring components, in the order they appear in outputs.
COMPONENTS: tuple[str, ...] = ("severity", "remoteness", "ethnic", "people", "poverty")
#: Mean Earth radius (IUGG), metres: great-circle distances and the radio horizon.
EARTH_RADIUS_M = 6_371_000.0
KINDS: tuple[str, ...] = ("site", "node", "measurement")
#: Values of ``gap_class``, worst first.
GAP_CLASSES: tuple[str, ...] = ("no_fibre_no_mobile", "no_mobile", "no_fibre", "none")
#: Gap classes that are a gap (every class but ``none``), worst first.
GAPS: tuple[str, ...] = GAP_CLASSES[:-1]
#: Legend label of each gap class (English msgids; translate with ``Translator.label``).
GAP_LABELS: Mapping[str, str] = CODE_LABELS["gap_class"]
#: Colour of each gap class on maps (Okabe-Ito palette, safe for colour-blind readers).
GAP_COLOURS: Mapping[str, str] = MappingProxyType({
    "no_fibre_no_mobile": "#D55E00",
    "no_mobile": "#CC79A7",
    "no_fibre": "#E69F00",
    "none": "#009E73",
})
#: Bins of a commune's ``gap_share`` (share of villages with a gap) on maps and in QGIS.
SHARE_BINS: tuple[float, ...] = (0.0, 0.2, 0.4, 0.6, 0.8, 1.0)
#: Fill colour of each bin (light = few gaps).
SHARE_COLOURS: tuple[str, ...] = ("#f1eef6", "#d0d1e6", "#a6bddb", "#74a9cf", "#2b8cbe")
#: Map class of villages whose declared coverage measurements dispute (see disputes.py):
#: drawn in its own colour whatever their gap class, listed after the gap classes.
DISPUTED_CLASS = "disputed"
DISPUTED_LABEL = N_("Disputed: declared covered, measured weak or no service")
DISPUTED_COLOUR = "#000000"


def village_locations(villages: gpd.GeoDataFrame) -> gpd.GeoSeries:
    """
    Each village's location: its point, or for a polygon its ``representative_point()``.

    Every module that needs a village as a point uses this one rule.

    Examples
    --------
    >>> v = gpd.GeoDataFrame(geometry=[shapely.box(0, 0, 2, 2), shapely.Point(5, 5)],
    ...                      crs=32648)
    >>> loc = village_locations(v)
    >>> bool(loc.iloc[0].within(shapely.box(0, 0, 2, 2))), loc.iloc[1].wkt
    (True, 'POINT (5 5)')
    """
    geom = villages.geometry
    is_point = (geom.geom_type == "Point").to_numpy()
    if is_point.all():
        return geom
    return gpd.GeoSeries(
        np.where(is_point, geom.to_numpy(), geom.representative_point().to_numpy()),
        index=villages.index,
        crs=villages.crs,
    )


def working_crs(frame: gpd.GeoDataFrame | gpd.GeoSeries, crs: object | None = None) -> CRS:
    """
    The projected CRS distances are measured in: ``crs`` when configured, else the data's
    own CRS when it is projected, else the UTM zone estimated from the data.

    Examples
    --------
    >>> pts = gpd.GeoSeries([shapely.Point(103.0, 21.4)], crs=4326)
    >>> working_crs(pts).to_epsg(), working_crs(pts, "EPSG:3405").to_epsg()
    (32648, 3405)
    """
    if crs:
        check_crs_covers(crs, frame, source="the data")  # a wrong UTM zone distorts distances
        return CRS.from_user_input(crs)
    own = CRS.from_user_input(frame.crs) if frame.crs is not None else None
    if own is not None and own.is_projected:
        return own
    return utm_crs(frame)


def utm_crs(frame: gpd.GeoDataFrame | gpd.GeoSeries) -> CRS:
    """
    The WGS 84 UTM zone of the data's median location (a few misplaced features, say a
    longitude typed ``-0``, do not move it, unlike the centre of the bounds).

    Examples
    --------
    >>> pts = gpd.GeoSeries([shapely.Point(103.0, 21.4), shapely.Point(103.2, 21.5),
    ...                      shapely.Point(0.0, 21.4)], crs=4326)
    >>> utm_crs(pts).to_epsg()
    32648
    """
    geometry = frame if isinstance(frame, gpd.GeoSeries) else frame.geometry
    lon, lat = _median_lon_lat(geometry)
    if not (np.isfinite(lon) and np.isfinite(lat)):
        return CRS.from_user_input(frame.estimate_utm_crs())
    zone = int((lon + 180.0) // 6.0) % 60 + 1
    return CRS.from_epsg((32600 if lat >= 0 else 32700) + zone)


def _median_lon_lat(geometry: gpd.GeoSeries) -> tuple[float, float]:
    bounds = geometry.to_crs(4326).bounds
    with np.errstate(all="ignore"):
        lon = (bounds["minx"] + bounds["maxx"]).to_numpy(dtype=float) / 2
        lat = (bounds["miny"] + bounds["maxy"]).to_numpy(dtype=float) / 2
    keep = np.isfinite(lon) & np.isfinite(lat)
    if not keep.any():
        return np.nan, np.nan
    return float(np.median(lon[keep])), float(np.median(lat[keep]))


_TRUE = {"true", "t", "yes", "y", "1", "có", "co", "x"}
_FALSE = {"false", "f", "no", "n", "0", "không", "khong", ""}


@dataclass(frozen=True)
class LayerSchema:
    """What one layer must and may hold."""

    name: str
    required: tuple[str, ...]
    geometry_types: tuple[str, ...]
    id_column: str | None = None
    fractions: tuple[str, ...] = ()
    counts: tuple[str, ...] = ()
    booleans: tuple[str, ...] = ()
    strings: tuple[str, ...] = ()
    #: Other optional columns with a meaning (not converted here).
    others: tuple[str, ...] = ()
    #: Other spellings recognised (any case, with or without accents) when the canonical
    #: column is absent; see also :data:`geo_dx.columns.ALIASES`.
    aliases: Mapping[str, str] = field(default_factory=dict)

    @property
    def known(self) -> tuple[str, ...]:
        """Every column this layer gives a meaning to."""
        names = (*self.required, *self.fractions, *self.counts, *self.booleans,
                 *self.strings, *self.others, *self.aliases.values())
        return tuple(dict.fromkeys(names))


COMMUNES = LayerSchema(
    name="communes",
    required=("commune_id", "commune_name"),
    geometry_types=("Polygon", "MultiPolygon"),
    id_column="commune_id",
    fractions=("ethnic_minority_share", "poverty_rate"),
    counts=("population",),
    strings=("commune_id", "commune_name", "province"),
    others=("seat_lon", "seat_lat"),
)
VILLAGES = LayerSchema(
    name="villages",
    required=("village_id", "village_name"),
    geometry_types=("Point", "Polygon", "MultiPolygon"),
    id_column="village_id",
    fractions=("ethnic_minority_share", "poverty_rate"),
    counts=("population", "households"),
    booleans=("especially_difficult",),
    strings=("village_id", "village_name", "commune_id"),
)
COVERAGE = LayerSchema(
    name="coverage",
    required=("technology",),
    geometry_types=("Point",),
    counts=("range_m", "antenna_height_m", "download_kbps", "upload_kbps"),
    strings=("technology", "operator", "kind", "source"),
    others=("rsrp_dbm", "eirp_dbm", "measured_at"),
    # An OpenCellID export loads as is; measured signal may be called signal_dbm.
    aliases={"radio": "technology", "range": "range_m", "signal_dbm": "rsrp_dbm"},
)
#: Plausible ranges of the coverage layer's radio columns (dBm).
SIGNAL_RANGES_DBM: Mapping[str, tuple[float, float]] = MappingProxyType({
    "rsrp_dbm": (-160.0, -20.0),
    "eirp_dbm": (-30.0, 100.0),
})


def validate_communes(
    gdf: gpd.GeoDataFrame, *, source: str = "communes", columns: Mapping[str, str] | None = None
) -> gpd.GeoDataFrame:
    """
    Check and clean a communes layer.

    Parameters
    ----------
    gdf
        Communes as read from a file.
    source
        File name (or label) used in messages.
    columns
        Renames ``{your_column: geo_dx_column}`` applied first.

    Returns
    -------
    geopandas.GeoDataFrame
        A copy with canonical columns, string ids and valid polygons.

    Examples
    --------
    >>> from shapely import box
    >>> gdf = gpd.GeoDataFrame({"GID_3": [1], "NAME_3": ["Mường Phăng"]},
    ...                        geometry=[box(103, 21, 103.1, 21.1)], crs="EPSG:4326")
    >>> mapping = {"GID_3": "commune_id", "NAME_3": "commune_name"}
    >>> validate_communes(gdf, columns=mapping).commune_id.tolist()
    ['1']
    """
    return _validate(gdf, COMMUNES, source, columns)


def validate_villages(
    gdf: gpd.GeoDataFrame, *, source: str = "villages", columns: Mapping[str, str] | None = None
) -> gpd.GeoDataFrame:
    """Check and clean a villages layer (points or polygons); see :func:`validate_communes`."""
    return _validate(gdf, VILLAGES, source, columns)


def validate_coverage(
    gdf: gpd.GeoDataFrame, *, source: str = "coverage", columns: Mapping[str, str] | None = None
) -> gpd.GeoDataFrame:
    """
    Check and clean coverage points; normalise technology aliases, fill kind and source.

    ``kind`` defaults to ``node`` for fibre and ``site`` otherwise; ``source`` defaults
    to ``measured`` for measurements and ``declared`` otherwise.
    """
    out = _validate(_skip_other_radios(gdf, source, columns), COVERAGE, source, columns)
    out["technology"] = normalise_technology(out["technology"], source=source)
    kind = out["kind"] if "kind" in out else pd.Series(np.nan, index=out.index, dtype=object)
    default_kind = np.where(out["technology"] == "fibre", "node", "site")
    out["kind"] = _choice(kind.fillna(pd.Series(default_kind, index=out.index)), KINDS,
                          source, "kind")
    src = out["source"] if "source" in out else pd.Series(np.nan, index=out.index, dtype=object)
    default_src = np.where(out["kind"] == "measurement", "measured", "declared")
    out["source"] = _choice(src.fillna(pd.Series(default_src, index=out.index)), SOURCES,
                            source, "source")
    if "range_m" not in out:
        out["range_m"] = np.nan
    for col, (low, high) in SIGNAL_RANGES_DBM.items():
        if col in out:
            out[col] = _as_number(out[col], source, col, minimum=low, maximum=high)
    if "measured_at" in out:
        out["measured_at"] = _as_date(out["measured_at"], source)
    return out


def _skip_other_radios(
    gdf: gpd.GeoDataFrame, source: str, columns: Mapping[str, str] | None
) -> gpd.GeoDataFrame:
    """
    Drop OpenCellID rows whose ``radio`` is not a technology geo_dx knows (NBIOT, ...).

    Only for a ``radio`` column (an OpenCellID export); a ``technology`` column with an
    unknown value stays an error. The skipped rows are counted in a warning.
    """
    if not isinstance(gdf, gpd.GeoDataFrame) or gdf.empty:
        return gdf
    named = rename_columns(gdf, columns, source=source, layer="coverage")
    if any(fold(c) == "technology" for c in named.columns):
        return gdf
    radio = next((c for c in named.columns if fold(c) == "radio"), None)
    if radio is None:
        return gdf
    values = named[radio].astype("string").str.strip().str.lower()
    other = ~values.isin(list(TECHNOLOGY_ALIASES)).fillna(False).to_numpy(dtype=bool)
    if not other.any():
        return gdf
    if other.all():
        raise InputError(
            f"{source}: no row has a radio geo_dx knows (got {sorted(set(values.dropna()))[:5]}); "
            f"allowed (any case): {', '.join(sorted(TECHNOLOGY_ALIASES))}"
        )
    counts = named.loc[other, radio].astype(str).value_counts()
    warnings.warn(
        f"{source}: skipped {int(other.sum())} OpenCellID row(s) with a radio that is not "
        f"fibre/2G-5G ({', '.join(f'{k}: {v}' for k, v in counts.items())})",
        GeoDxWarning,
        stacklevel=4,
    )
    return gdf.loc[~other]


def _as_date(series: pd.Series, source: str) -> pd.Series:
    """ISO dates or date-times, kept in local wall-clock time (an offset is ignored, so
    distinct days are the days the testers lived)."""
    text = series.map(lambda v: v if v is None or isinstance(v, float)
                      else re.sub(r"(Z|[+-]\d\d:?\d\d)$", "", str(v).strip()))
    parsed = pd.to_datetime(text, errors="coerce", format="ISO8601")
    bad = parsed.isna() & series.notna()
    if bad.any():
        raise InputError(
            f"{source}: column 'measured_at' must be an ISO date or date-time "
            f"(2025-03-14 or 2025-03-14T08:30:00), got {series[bad].iloc[0]!r} at {_rows(bad)}"
        )
    return parsed


def normalise_technology(values: pd.Series, *, source: str = "coverage") -> pd.Series:
    """
    Map technology spellings (case-insensitive, with aliases) to fibre/5g/4g/3g/2g.

    Examples
    --------
    >>> normalise_technology(pd.Series(["LTE", "GSM", "ftth"])).tolist()
    ['4g', '2g', 'fibre']
    """
    lowered = values.astype("string").str.strip().str.lower()
    mapped = lowered.map(TECHNOLOGY_ALIASES)
    bad = mapped.isna()
    if bad.any():
        rows = _rows(bad)
        received = sorted(set(values[bad].astype(str)))[:5]
        raise InputError(
            f"{source}: column 'technology' has unknown value(s) {received} at {rows}; "
            f"allowed (any case): {', '.join(sorted(TECHNOLOGY_ALIASES))}"
        )
    return mapped.astype(object)


def check_extent(
    layer: gpd.GeoDataFrame,
    reference: gpd.GeoDataFrame,
    *,
    source: str,
    reference_source: str,
    tolerance_m: float = 50_000.0,
) -> None:
    """
    Raise if most of ``layer`` lies far outside the extent of ``reference``.

    That is almost always swapped lon/lat columns or the wrong CRS, so the message
    says which when swapping the coordinates would bring the layer inside.
    """
    if layer.empty or reference.empty:
        return
    ref = reference.to_crs(4326)
    pts = layer.geometry.to_crs(4326).representative_point()
    minx, miny, maxx, maxy = ref.total_bounds
    pad = tolerance_m / 111_000.0
    x, y = pts.x.to_numpy(), pts.y.to_numpy()

    def inside(xs: np.ndarray, ys: np.ndarray) -> np.ndarray:
        return (xs >= minx - pad) & (xs <= maxx + pad) & (ys >= miny - pad) & (ys <= maxy + pad)

    outside = ~inside(x, y)
    if outside.mean() <= 0.5:
        return
    hint = (
        "the lon and lat columns look swapped; swap them"
        if inside(y, x).mean() > 0.5
        else "check the coordinates and the layer's CRS"
    )
    raise InputError(
        f"{source}: {outside.sum()} of {len(pts)} features lie more than "
        f"{tolerance_m / 1000:.0f} km outside {reference_source} "
        f"(lon {minx:.2f}..{maxx:.2f}, lat {miny:.2f}..{maxy:.2f}); "
        f"e.g. lon={x[outside][0]:.4f}, lat={y[outside][0]:.4f}: {hint}"
    )


def rename_columns(
    frame: pd.DataFrame, columns: Mapping[str, str] | None, *, source: str, layer: str
) -> pd.DataFrame:
    """
    Apply the config's ``{your_column: geo_dx_column}`` renames, refusing a clash.

    Mapping a column onto a name the file already has (``name = "village_name"`` when
    the file also has ``village_name``) would give two columns of one name, so it is
    an error naming both.

    Examples
    --------
    >>> rename_columns(pd.DataFrame({"ten": ["a"]}), {"ten": "village_name"},
    ...                source="v.csv", layer="villages").columns.tolist()
    ['village_name']
    """
    frame = frame.rename(columns={c: nfc(c) for c in frame.columns if nfc(c) != c})
    mapping = {nfc(k): v for k, v in (columns or {}).items()}
    mapping = {k: v for k, v in mapping.items() if k in frame.columns and k != v}
    for mine, theirs in mapping.items():
        if theirs in frame.columns and theirs not in mapping:
            raise InputError(
                f"{source}: the config maps column {mine!r} onto {theirs!r} "
                f"([columns.{layer}] \"{mine}\" = \"{theirs}\"), but the file already has a "
                f"column {theirs!r}; remove that mapping or rename one of the columns"
            )
    return frame.rename(columns=mapping)


def check_crs_covers(
    crs: object, layer: gpd.GeoDataFrame | gpd.GeoSeries, *, source: str = "villages",
    tolerance_deg: float = 3.0,
) -> None:
    """
    Raise if the configured working CRS is not meant for where ``layer`` lies.

    A CRS's area of use (e.g. lon 102..108 for UTM 48N) is widened by
    ``tolerance_deg``; a layer mostly outside it (a wrong UTM zone) would measure
    distorted distances, so the message names the zone of the data instead. A minority
    of features outside (misplaced villages) is left to the commune check.

    Examples
    --------
    >>> v = gpd.GeoDataFrame(geometry=[shapely.Point(103.0, 21.4)], crs=4326)
    >>> check_crs_covers("EPSG:32648", v)
    >>> check_crs_covers("EPSG:32631", v)
    Traceback (most recent call last):
    ...
    geo_dx.errors.InputError: config: crs = 'EPSG:32631' (WGS 84 / UTM zone 31N) is for ...
    """
    parsed = CRS.from_user_input(crs)
    area = parsed.area_of_use
    if area is None or layer.empty or layer.crs is None:
        return
    geometry = layer if isinstance(layer, gpd.GeoSeries) else layer.geometry
    bounds = geometry.to_crs(4326).bounds
    if not np.isfinite(bounds.to_numpy(dtype=float)).all():
        return  # broken coordinates are reported by the geometry checks
    t = tolerance_deg
    inside = ((bounds["minx"] >= area.west - t) & (bounds["maxx"] <= area.east + t)
              & (bounds["miny"] >= area.south - t) & (bounds["maxy"] <= area.north + t))
    if inside.mean() >= 0.5:
        return  # a few misplaced features are named by the commune check, not here
    minx, miny = bounds["minx"].quantile(0.05), bounds["miny"].quantile(0.05)
    maxx, maxy = bounds["maxx"].quantile(0.95), bounds["maxy"].quantile(0.95)
    suggestion = utm_crs(geometry)
    label = repr(crs) if isinstance(crs, str) else repr(parsed.to_string())
    raise InputError(
        f"config: crs = {label} ({parsed.name}) is for lon {area.west:g}..{area.east:g}, "
        f"lat {area.south:g}..{area.north:g}, but {source} lie at lon {minx:.2f}..{maxx:.2f}, "
        f"lat {miny:.2f}..{maxy:.2f}; distances there would be wrong: use "
        f"crs = \"EPSG:{suggestion.to_epsg()}\" ({suggestion.name}) or leave crs out"
    )


def _validate(
    gdf: gpd.GeoDataFrame, schema: LayerSchema, source: str, columns: Mapping[str, str] | None
) -> gpd.GeoDataFrame:
    if not isinstance(gdf, gpd.GeoDataFrame):
        raise InputError(f"{source}: expected a GeoDataFrame, got {type(gdf).__name__}")
    if len(gdf) == 0:
        raise InputError(
            f"{source}: the {schema.name} layer is empty; give a file with at least one feature"
        )
    out = rename_columns(gdf, columns, source=source, layer=schema.name)
    out = out.rename(columns=recognise(out.columns, schema.name, schema.known,
                                       aliases=schema.aliases))
    message = missing_columns_message(out, schema.required, schema.known, source=source,
                                      layer=schema.name)
    if message:
        raise InputError(message)
    if out.crs is None:
        raise InputError(
            f"{source}: the {schema.name} layer has no CRS; set one in the file "
            "(e.g. `ogr2ogr -a_srs EPSG:4326 fixed.gpkg input.gpkg`) or use a CSV with lon/lat "
            "columns in EPSG:4326"
        )
    out = out.copy()
    out = _blank_to_missing(out)
    out = _check_geometry(out, schema, source)
    for col in schema.strings:
        if col in out:
            out[col] = _as_string(out[col])
    if schema.id_column:
        _check_ids(out, schema.id_column, source)
    for col in schema.counts:
        if col in out:
            out[col] = _as_number(out[col], source, col, minimum=0.0)
    for col in schema.fractions:
        if col in out:
            out[col] = _as_number(out[col], source, col, minimum=0.0, maximum=1.0)
    for col in schema.booleans:
        if col in out:
            out[col] = _as_bool(out[col], source, col)
    return out


def conforms(layer: object, kind: str) -> bool:
    """
    Whether ``layer`` already meets the ``villages`` or ``coverage`` contract, as the
    validators leave it (a cheap check: public functions validate only what does not).

    Examples
    --------
    >>> raw = gpd.GeoDataFrame({"technology": ["LTE"]}, geometry=[shapely.Point(103, 21)],
    ...                        crs=4326)
    >>> conforms(raw, "coverage"), conforms(validate_coverage(raw), "coverage")
    (False, True)
    """
    if (not isinstance(layer, gpd.GeoDataFrame) or layer.empty or layer.crs is None
            or layer.geometry.isna().any() or layer.geometry.is_empty.any()):
        return False
    if not np.isfinite(shapely.get_coordinates(layer.geometry.to_numpy())).all():
        return False
    if kind == "coverage":
        allowed = {"technology": TECHNOLOGIES, "kind": KINDS, "source": SOURCES}
        return ("range_m" in layer and all(c in layer and layer[c].isin(v).all()
                                           for c, v in allowed.items())
                and bool((layer.geom_type == "Point").all()))
    schema = VILLAGES
    return (all(c in layer for c in schema.required)
            and layer[schema.id_column].is_unique
            and bool(layer.geom_type.isin(schema.geometry_types).all()))


def _blank_to_missing(gdf: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    for col in gdf.columns:
        if col == gdf.geometry.name:
            continue
        series = gdf[col]
        if series.dtype == object or pd.api.types.is_string_dtype(series):
            text = series.map(lambda v: nfc(v).strip() if isinstance(v, str) else v)
            gdf[col] = text.replace("", np.nan)
    return gdf


def _check_geometry(gdf: gpd.GeoDataFrame, schema: LayerSchema, source: str) -> gpd.GeoDataFrame:
    geom = gdf.geometry
    missing = geom.isna() | geom.is_empty
    if missing.any():
        raise InputError(
            f"{source}: {missing.sum()} {schema.name} feature(s) have no geometry "
            f"({_rows(missing)}); "
            "give every feature a geometry or remove those rows"
        )
    types = geom.geom_type
    wrong = ~types.isin(schema.geometry_types)
    if wrong.any():
        raise InputError(
            f"{source}: {schema.name} geometry must be {'/'.join(schema.geometry_types)}, got "
            f"{sorted(set(types[wrong]))} ({_rows(wrong)}); convert or remove those features"
        )
    _check_finite(geom, schema, source)
    if gdf.crs.is_geographic:
        b = geom.bounds
        bad = (b.minx < -180) | (b.maxx > 180) | (b.miny < -90) | (b.maxy > 90)
        if bad.any():
            swapped = ((b.miny >= -180) & (b.maxy <= 180) & (b.minx >= -90) & (b.maxx <= 90))[bad]
            fix = "lon and lat look swapped; swap them" if swapped.all() else "fix the coordinates"
            raise InputError(
                f"{source}: {bad.sum()} feature(s) have coordinates outside lon -180..180 / "
                f"lat -90..90 ({_rows(bad)}), e.g. {geom[bad].iloc[0].wkt[:60]}; {fix}"
            )
    invalid = ~geom.is_valid
    if invalid.any():
        repaired = shapely.make_valid(geom[invalid].to_numpy())
        if "Polygon" in schema.geometry_types:
            repaired = np.array([_polygonal(g) for g in repaired], dtype=object)
        gdf.loc[invalid, gdf.geometry.name] = repaired
        warnings.warn(
            f"{source}: repaired {invalid.sum()} invalid {schema.name} geometr"
            f"{'y' if invalid.sum() == 1 else 'ies'} with make_valid ({_rows(invalid)})",
            GeoDxWarning,
            stacklevel=4,
        )
    return gdf


def _check_finite(geom: gpd.GeoSeries, schema: LayerSchema, source: str) -> None:
    """Refuse NaN/infinite coordinates and projected coordinates far off the Earth."""
    coords, owner = shapely.get_coordinates(geom.to_numpy(), return_index=True)
    bad = np.zeros(len(geom), dtype=bool)
    bad[owner[~np.isfinite(coords).all(axis=1)]] = True
    what = "NaN or infinite coordinates"
    if not bad.any() and not geom.crs.is_geographic:
        lonlat = shapely.get_coordinates(
            geom.representative_point().to_crs(4326).to_numpy()
        )
        bad = ~(np.isfinite(lonlat).all(axis=1) & (np.abs(lonlat[:, 0]) <= 180)
                & (np.abs(lonlat[:, 1]) <= 90))
        what = f"coordinates that are not on the Earth in their CRS ({geom.crs.name})"
    if bad.any():
        example = geom[bad].iloc[0].wkt[:60]
        raise InputError(
            f"{source}: {int(bad.sum())} {schema.name} feature(s) have {what} "
            f"({_rows(bad)}), e.g. {example}; fix those coordinates or the layer's CRS"
        )


def _polygonal(geom: shapely.Geometry) -> shapely.Geometry:
    """Keep the polygonal part of a repaired geometry (make_valid can add lines)."""
    if geom.geom_type in ("Polygon", "MultiPolygon"):
        return geom
    parts = [g for g in shapely.get_parts(geom) if g.geom_type in ("Polygon", "MultiPolygon")]
    return shapely.union_all(parts) if parts else geom


def _check_ids(gdf: gpd.GeoDataFrame, column: str, source: str) -> None:
    ids = gdf[column]
    blank = ids.isna()
    if blank.any():
        raise InputError(
            f"{source}: column {column!r} is blank at {_rows(blank)}; every feature needs an id"
        )
    dup = ids.duplicated(keep=False)
    if dup.any():
        values = sorted(ids[dup].unique())
        shown = ", ".join(repr(v) for v in values[:5]) + (" …" if len(values) > 5 else "")
        raise InputError(
            f"{source}: column {column!r} has duplicate ids {shown} ({dup.sum()} rows); "
            "ids must be unique: fix or remove the duplicates"
        )


def _as_string(series: pd.Series) -> pd.Series:
    def one(v: object) -> object:
        if v is None or (isinstance(v, float) and np.isnan(v)):
            return np.nan
        if isinstance(v, float) and v.is_integer():
            return str(int(v))
        return str(v)

    return series.map(one).astype(object)


def _as_number(
    series: pd.Series, source: str, column: str, *, minimum: float | None = None,
    maximum: float | None = None,
) -> pd.Series:
    numbers = pd.to_numeric(series, errors="coerce").astype(float)
    bad = (numbers.isna() & series.notna()) | np.isinf(numbers)
    if bad.any():
        raise InputError(
            f"{source}: column {column!r} must be numeric, got {series[bad].iloc[0]!r} at "
            f"{_rows(bad)}; fix those cells or leave them blank"
        )
    low = (numbers < minimum) if minimum is not None else pd.Series(False, index=numbers.index)
    high = (numbers > maximum) if maximum is not None else pd.Series(False, index=numbers.index)
    if (low | high).any():
        allowed = f"{minimum:g}..{maximum:g}" if maximum is not None else f">= {minimum:g}"
        value = numbers[low | high].iloc[0]
        percent = maximum == 1.0 and value <= 100
        hint = "; it looks like a percentage: divide by 100" if percent else ""
        raise InputError(
            f"{source}: column {column!r} has value {value:g} at {_rows(low | high)}; "
            f"allowed {allowed}{hint}"
        )
    return numbers


def _as_bool(series: pd.Series, source: str, column: str) -> pd.Series:
    def one(v: object) -> object:
        if v is None or (isinstance(v, float) and np.isnan(v)):
            return False
        if isinstance(v, bool | np.bool_):
            return bool(v)
        text = str(v).strip().lower()
        if text.endswith(".0"):
            text = text[:-2]
        if text in _TRUE:
            return True
        if text in _FALSE:
            return False
        return None

    parsed = series.map(one)
    bad = parsed.isna()
    if bad.any():
        raise InputError(
            f"{source}: column {column!r} must be true/false, got {series[bad].iloc[0]!r} at "
            f"{_rows(bad)}; use true/false, yes/no or 1/0"
        )
    return parsed.astype(bool)


def _choice(series: pd.Series, allowed: tuple[str, ...], source: str, column: str) -> pd.Series:
    lowered = series.astype(str).str.strip().str.lower()
    bad = ~lowered.isin(allowed)
    if bad.any():
        raise InputError(
            f"{source}: column {column!r} has value {series[bad].iloc[0]!r} at {_rows(bad)}; "
            f"allowed: {', '.join(allowed)}"
        )
    return lowered.astype(object)


def _rows(mask: pd.Series | np.ndarray) -> str:
    """Describe the rows where ``mask`` is True as 1-based data rows, e.g. 'rows 3, 7'."""
    positions = np.flatnonzero(np.asarray(mask)) + 1
    shown = ", ".join(str(p) for p in positions[:5])
    more = f" and {len(positions) - 5} more" if len(positions) > 5 else ""
    return f"row{'s' if len(positions) > 1 else ''} {shown}{more}"


# --------------------------------------------------------------------------- plan candidates

#: Kinds of mobile investment a candidate can be.
CANDIDATE_KINDS: tuple[str, ...] = ("new_site", "upgrade", "small_cell")
CANDIDATES = LayerSchema(
    name="candidates",
    required=("candidate_id",),
    geometry_types=("Point",),
    id_column="candidate_id",
    counts=("antenna_height_m", "cost_vnd", "range_m"),
    strings=("candidate_id", "name", "kind", "operator"),
    aliases={"id": "candidate_id"},
)


def validate_candidates(
    gdf: gpd.GeoDataFrame, *, source: str = "candidates", columns: Mapping[str, str] | None = None
) -> gpd.GeoDataFrame:
    """
    Check and clean mobile candidate sites for the investment plan.

    Points with ``candidate_id``; optional ``name``, ``kind`` (``new_site``, ``upgrade``,
    ``small_cell``; default ``new_site``), ``antenna_height_m``, ``range_m``,
    ``cost_vnd`` (overrides the configured unit cost) and ``operator``.

    Examples
    --------
    >>> import shapely
    >>> gdf = gpd.GeoDataFrame({"candidate_id": ["A"], "kind": ["Small_Cell"]},
    ...                        geometry=[shapely.Point(103, 21)], crs=4326)
    >>> validate_candidates(gdf).kind.tolist()
    ['small_cell']
    """
    if not isinstance(gdf, gpd.GeoDataFrame) or gdf._geometry_column_name not in gdf:
        raise InputError(
            f"{source}: the candidates have no geometry; give points (GeoPackage, GeoJSON, "
            "Shapefile) or a CSV with lon and lat columns in EPSG:4326"
        )
    out = _validate(gdf, CANDIDATES, source, columns)
    kind = out["kind"] if "kind" in out else pd.Series(np.nan, index=out.index, dtype=object)
    out["kind"] = _choice(kind.fillna("new_site"), CANDIDATE_KINDS, source, "kind")
    return out
