"""Layer contracts and their validation, in one place.

Every input layer passes through :func:`validate_communes`, :func:`validate_villages`
or :func:`validate_coverage` before any analysis. They return a clean copy with
canonical column names and dtypes, or raise :class:`~geo_dx.errors.InputError` with a
message that names the file, the column, the value received and the fix.
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from geo_dx.columns import fold, missing_columns_message, nfc, recognise
from geo_dx.errors import GeoDxWarning, InputError
from geo_dx.i18n import CODE_LABELS, N_
from geo_dx.spatial import check_geometry
from geo_dx.tables import (
    as_bool,
    as_choice,
    as_date,
    as_number,
    as_string,
    blank_to_missing,
    check_ids,
    describe_rows,
)

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
#: ITM climate codes (the [terrain] climate setting).
CLIMATES: dict[str, int] = {
    "equatorial": 1,
    "continental_subtropical": 2,
    "maritime_subtropical": 3,
    "desert": 4,
    "continental_temperate": 5,
    "maritime_temperate_land": 6,
    "maritime_temperate_sea": 7,
}
#: ITM modes of variability (``mdvar`` without the +10/+20 flags).
VARIABILITY_MODES: dict[str, int] = {"single": 0, "accidental": 1, "mobile": 2, "broadcast": 3}
#: ITM antenna polarisations.
POLARISATIONS: dict[str, int] = {"horizontal": 0, "vertical": 1}
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
    #: True/false columns where a blank cell (or ``unknown``) is not known, never false.
    maybe_booleans: tuple[str, ...] = ()
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
                 *self.maybe_booleans, *self.strings, *self.others, *self.aliases.values())
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
    maybe_booleans=("has_grid_power",),
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
#: Power lines (``--power``): where the grid is; no column is needed.
POWER_LINES = LayerSchema(name="power lines", required=(),
                          geometry_types=("LineString", "MultiLineString"))
#: Largest value of an input count column; the config's settings of the same quantity
#: share these caps (:data:`geo_dx.config_checks.BOUNDS`).
COLUMN_MAXIMA: Mapping[str, float] = MappingProxyType({
    "antenna_height_m": 1000.0,
    "range_m": 1e6,
    "download_kbps": 1e8,
    "upload_kbps": 1e8,
    "cost_vnd": 1e16,
})
#: Counts of people or households: whole numbers (a fraction is a misread number).
HEAD_COUNTS: tuple[str, ...] = ("population", "households")
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
    """
    Check and clean a villages layer (points or polygons); see :func:`validate_communes`.

    Villages stacked at one location (placeholder coordinates such as a commune centre,
    or rows copied many times) are kept, with one warning that counts them.
    """
    out = _validate(gdf, VILLAGES, source, columns)
    _warn_stacked(out, source)
    return out


def validate_power_lines(gdf: gpd.GeoDataFrame, *, source: str = "power lines"
                         ) -> gpd.GeoDataFrame:
    """
    Check and clean power lines (``--power``): lines with a CRS; any columns are kept.

    Examples
    --------
    >>> line = shapely.LineString([(103, 21), (103.1, 21)])
    >>> validate_power_lines(gpd.GeoDataFrame(geometry=[line], crs=4326)).geom_type.tolist()
    ['LineString']
    """
    return _validate(gdf, POWER_LINES, source, None)


def _warn_stacked(villages: gpd.GeoDataFrame, source: str) -> None:
    """Warn once when several villages share one location (exactly the same bounds)."""
    bounds = pd.DataFrame(shapely.bounds(villages.geometry.to_numpy()))
    stacked = bounds.duplicated(keep=False).to_numpy()  # hashed: fast on a million rows
    if not stacked.any():
        return
    _, first, counts = np.unique(bounds[stacked].to_numpy(), axis=0, return_index=True,
                                 return_counts=True)
    first = np.flatnonzero(stacked)[first]
    top = int(np.argmax(counts))
    where = villages.geometry.iloc[[first[top]]].to_crs(4326).representative_point().iloc[0]
    warnings.warn(
        f"{source}: {int(stacked.sum())} villages share {int((counts > 1).sum())} "
        f"location(s); the largest stack holds {int(counts[top])} villages at lon "
        f"{where.x:.5f}, lat {where.y:.5f} (e.g. "
        f"{villages['village_id'].iloc[first[top]]!r}); stacked villages are usually "
        "placeholder coordinates (a commune centre) or copied rows: check them",
        GeoDxWarning,
        stacklevel=3,
    )


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
    out["kind"] = as_choice(kind.fillna(pd.Series(default_kind, index=out.index)), KINDS,
                          source, "kind")
    src = out["source"] if "source" in out else pd.Series(np.nan, index=out.index, dtype=object)
    default_src = np.where(out["kind"] == "measurement", "measured", "declared")
    out["source"] = as_choice(src.fillna(pd.Series(default_src, index=out.index)), SOURCES,
                            source, "source")
    if "range_m" not in out:
        out["range_m"] = np.nan
    for col, (low, high) in SIGNAL_RANGES_DBM.items():
        if col in out:
            out[col] = as_number(out[col], source, col, minimum=low, maximum=high)
    if "measured_at" in out:
        out["measured_at"] = _not_future(as_date(out["measured_at"], source), source)
    return out


def _not_future(dates: pd.Series, source: str) -> pd.Series:
    """Refuse measurement dates after the run date (a day of margin for time zones)."""
    today = pd.Timestamp.now().normalize()
    late = dates.dt.normalize() > today + pd.Timedelta(days=1)
    if late.any():
        raise InputError(
            f"{source}: column 'measured_at' has {int(late.sum())} date(s) after the run date "
            f"{today:%Y-%m-%d} (e.g. {dates[late].iloc[0]:%Y-%m-%d} at {describe_rows(late)}); "
            "a measurement cannot come from the future: fix those dates (day and month "
            "swapped? a wrong year?) or leave them blank"
        )
    return dates


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
    blank = lowered.isna() | (lowered == "")
    if blank.any():
        raise InputError(
            f"{source}: column 'technology' is blank at {describe_rows(blank)}; give each "
            f"coverage point its technology ({', '.join(TECHNOLOGIES)}) or remove those rows"
        )
    bad = mapped.isna()
    if bad.any():
        rows = describe_rows(bad)
        received = sorted(set(values[bad].astype(str)))[:5]
        raise InputError(
            f"{source}: column 'technology' has unknown value(s) {received} at {rows}; "
            f"allowed (any case): {', '.join(sorted(TECHNOLOGY_ALIASES))}"
        )
    return mapped.astype(object)


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
    out = blank_to_missing(out, source=source)
    out = check_geometry(out, kinds=schema.geometry_types, layer=schema.name,
                         source=source)
    for col in schema.strings:
        if col in out:
            out[col] = as_string(out[col])
    if schema.id_column:
        check_ids(out, schema.id_column, source)
    for col in schema.counts:
        if col in out:
            out[col] = as_number(out[col], source, col, minimum=0.0,
                                 maximum=COLUMN_MAXIMA.get(col))
            if col in HEAD_COUNTS:
                _warn_fractional(out[col], source, col)
    for col in schema.fractions:
        if col in out:
            out[col] = as_number(out[col], source, col, minimum=0.0, maximum=1.0)
    for col in schema.booleans:
        if col in out:
            out[col] = as_bool(out[col], source, col)
    for col in schema.maybe_booleans:
        if col in out:
            out[col] = as_bool(out[col], source, col, blank_unknown=True)
    return out


def _warn_fractional(counts: pd.Series, source: str, column: str) -> None:
    """People and households are whole: a fraction is usually ``1.250`` read as 1.25."""
    fractional = (counts % 1 != 0) & counts.notna()
    if fractional.any():
        value = float(counts[fractional].iloc[0])
        warnings.warn(
            f"{source}: column {column!r} has fractional head counts ({value:g} at "
            f"{describe_rows(fractional)}); people and households are whole numbers: if "
            "the file writes thousands with '.' (1.250 for 1250) beside decimal points, "
            "remove that '.' (write 1250)",
            GeoDxWarning,
            stacklevel=4,
        )


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
    if not isinstance(layer, gpd.GeoDataFrame) or layer.empty or layer.crs is None:
        return False
    geoms = layer.geometry.to_numpy()
    # integer type ids and coordinate counts: no per-row strings on large layers
    if not (shapely.get_num_coordinates(geoms) > 0).all():  # missing or empty geometry
        return False
    if not np.isfinite(shapely.get_coordinates(geoms)).all():
        return False
    types = shapely.get_type_id(geoms)
    if kind == "coverage":
        allowed = {"technology": TECHNOLOGIES, "kind": KINDS, "source": SOURCES}
        return ("range_m" in layer and all(c in layer and layer[c].isin(v).all()
                                           for c, v in allowed.items())
                and bool((types == _TYPE_IDS["Point"]).all()))
    schema = VILLAGES
    return (all(c in layer for c in schema.required)
            and layer[schema.id_column].is_unique
            and bool(np.isin(types, [_TYPE_IDS[t] for t in schema.geometry_types]).all()))


#: shapely's integer geometry type ids.
_TYPE_IDS: Mapping[str, int] = MappingProxyType({"Point": 0, "Polygon": 3, "MultiPolygon": 6})


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
    out["kind"] = as_choice(kind.fillna("new_site"), CANDIDATE_KINDS, source, "kind")
    return out
