"""Run configuration: frozen dataclasses with documented defaults, read from TOML.

Every option has a default, so ``Config()`` is a complete configuration. A TOML file
only needs the values it changes::

    crs = "EPSG:32648"

    [columns.communes]          # your column = geo_dx column
    GID_3 = "commune_id"
    NAME_3 = "commune_name"

    [coverage.default_range_m]
    "4g" = 3000

    [scoring.weights]
    ethnic = 0.4

Unknown tables or keys are errors that list what is allowed.
"""

from __future__ import annotations

import dataclasses
import math
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from pathlib import Path
from types import MappingProxyType
from typing import Any

from geo_dx.config_checks import building, check_built
from geo_dx.errors import ConfigError
from geo_dx.i18n import DEFAULT_LANGUAGE
from geo_dx.schema import COMPONENTS, GAP_CLASSES, TECHNOLOGIES


def _frozen(mapping: Mapping[str, Any]) -> Mapping[str, Any]:
    return MappingProxyType(dict(mapping))


def _table(values: Mapping[str, Any] | None = None) -> Any:
    """A read-only ``{name: value}`` default of a dataclass field (a fresh one per instance).

    Examples
    --------
    >>> @dataclass(frozen=True)
    ... class Ranges:
    ...     range_m: Mapping[str, float] = _table({"fibre": 1500.0})
    >>> dict(Ranges().range_m)
    {'fibre': 1500.0}
    """
    return field(default_factory=lambda: _frozen(values or {}))


@dataclass(frozen=True)
class ColumnsConfig:
    """Column renames applied when reading each layer: ``{your_column: geo_dx_column}``."""

    communes: Mapping[str, str] = _table()
    villages: Mapping[str, str] = _table()
    coverage: Mapping[str, str] = _table()


@dataclass(frozen=True)
class CoverageConfig:
    """How far a coverage point reaches.

    A point reaches ``range_m`` when it has one, else ``default_range_m`` of its
    technology (``measurement_range_m`` for rows of kind ``measurement``); either way
    capped at ``max_range_m`` of its technology.
    """

    default_range_m: Mapping[str, float] = _table(
        {"fibre": 1500.0, "5g": 1000.0, "4g": 4000.0, "3g": 5000.0, "2g": 8000.0}
    )
    max_range_m: Mapping[str, float] = _table(
        {"fibre": 3000.0, "5g": 5000.0, "4g": 15000.0, "3g": 20000.0, "2g": 35000.0}
    )
    measurement_range_m: float = 300.0


@dataclass(frozen=True)
class TerrainConfig:
    """Line-of-sight model for mobile sites over a DEM.

    ``model`` is ``"auto"`` (terrain when a DEM is given, else radius), ``"radius"``,
    ``"terrain"`` (line of sight) or ``"itm"`` (predicted signal strength with the
    Longley-Rice model, options in :class:`SignalConfig`). ``calibrate`` shifts the ITM
    prediction by the offset fitted on measured signal (``rsrp_dbm``) near sites.
    """

    model: str = "auto"
    antenna_height_m: float = 30.0
    receiver_height_m: float = 1.5
    clearance_m: float = 0.0
    k_factor: float = 4.0 / 3.0
    sample_step_m: float | None = None
    calibrate: bool = False


#: Mobile technologies with a signal model.
SIGNAL_TECHNOLOGIES: tuple[str, ...] = ("5g", "4g", "3g", "2g")
#: Slope classes of off-road fibre, gentlest first (``[plan] offroad_slope_*``).
SLOPE_CLASSES: tuple[str, ...] = ("flat", "rolling", "steep", "very_steep")


@dataclass(frozen=True)
class SignalConfig:
    """Predicted signal strength with ITM (``[terrain] model = "itm"``).

    Received power = ``eirp_dbm`` of the site's technology (or the site's own
    ``eirp_dbm``) - ITM basic transmission loss; a village is covered when it is at
    least ``threshold_dbm``. The EIRP and threshold are of the quantity phones report:
    for 4g/5g the reference signal per resource element (RSRP: 46 dBm over 1200
    subcarriers + 17 dBi - 3 dB feeder ≈ 30 dBm; threshold -110 dBm), for 3g the pilot
    (RSCP: 33 dBm + 14 dB ≈ 47 dBm; -100 dBm), for 2g the BCCH carrier (-100 dBm).
    Reliabilities are per cent of time, locations and situations in which the
    predicted signal is reached (ITM broadcast mode).
    """

    frequency_mhz: Mapping[str, float] = _table(
        {"5g": 3500.0, "4g": 1800.0, "3g": 2100.0, "2g": 900.0}
    )
    eirp_dbm: Mapping[str, float] = _table({"5g": 30.0, "4g": 30.0, "3g": 47.0, "2g": 57.0})
    threshold_dbm: Mapping[str, float] = _table(
        {"5g": -110.0, "4g": -110.0, "3g": -100.0, "2g": -100.0}
    )
    polarisation: str = "vertical"
    climate: str = "continental_subtropical"
    surface_refractivity_n: float = 320.0
    permittivity: float = 15.0
    conductivity_s_m: float = 0.005
    time_pct: float = 50.0
    location_pct: float = 90.0
    situation_pct: float = 90.0
    #: Share of calibration measurements held out to report honest errors.
    holdout_share: float = 0.3
    #: Measurements farther than this from every site of their technology are not used.
    calibration_max_distance_m: float = 15000.0
    #: An offset (per technology, and per operator) is fitted only from at least this many
    #: training measurements; with fewer, no offset and a warning. Single measurements
    #: scatter around the median by several dB (ITM's location variability, 8-10 dB in
    #: hills), so the mean of n points is within about 9/sqrt(n) dB: 2 dB at 20.
    calibration_min_measurements: int = 20
    seed: int = 20251123
    #: Cell size of the predicted signal raster (rounded to whole DEM cells).
    raster_cell_m: float = 500.0


@dataclass(frozen=True)
class MeasuredConfig:
    """Thresholds for measured speed tiles (Ookla open-data layout)."""

    mobile_min_down_kbps: float = 5000.0
    mobile_min_up_kbps: float = 1000.0
    fixed_min_down_kbps: float = 25000.0
    fixed_min_up_kbps: float = 3000.0
    min_tests: int = 3
    fixed_counts_as_fibre: bool = True
    #: A village declared covered is disputed by at least ``dispute_min_tests`` weak or
    #: no-service measurements within ``dispute_radius_m``, on at least
    #: ``dispute_min_days`` distinct days (measurement points of kind ``measurement``).
    dispute_min_tests: int = 3
    dispute_min_days: int = 2
    dispute_radius_m: float = 1000.0
    disputed_counts_as_gap: bool = True


@dataclass(frozen=True)
class RemotenessConfig:
    """Travel-time model to the nearest service centre."""

    walking_speed_kmh: float = 4.0
    road_speed_kmh: float = 30.0
    #: Speed on roads whose ``highway`` or ``kind`` is ``"track"`` (unpaved access tracks
    #: to the villages, OpenStreetMap's ``highway=track``): a motorbike on a dirt track.
    track_speed_kmh: float = 15.0
    #: Tobler's hiking function is applied to walking speed by slope.
    use_slope: bool = True
    #: Straight-line fallback speed when there is no DEM.
    straight_line_speed_kmh: float = 4.0


@dataclass(frozen=True)
class ScoringConfig:
    """Priority score: weights, gap severity and robustness checks."""

    weights: Mapping[str, float] = _table(
        {"ethnic": 0.30, "remoteness": 0.30, "severity": 0.20, "people": 0.15, "poverty": 0.05}
    )
    severity: Mapping[str, float] = _table(
        {"no_fibre_no_mobile": 1.0, "no_mobile": 0.7, "no_fibre": 0.5, "none": 0.0}
    )
    normalisation: str = "percentile"
    especially_difficult_bonus: float = 0.2
    household_size: float = 4.5
    sensitivity_draws: int = 300
    sensitivity_concentration: float = 50.0
    seed: int = 20250701
    top_n: int = 20
    cluster_radius_m: float = 3000.0


@dataclass(frozen=True)
class PlanCostsConfig:
    """Indicative unit costs in VND for the investment plan (replace with the province's own).

    Orders of magnitude from published international ranges for rural networks (GSMA and
    ITU/Giga rural coverage cost studies) converted at about 25,000 VND per US dollar;
    they are NOT Vietnamese tender prices. See docs/investment-plan.md, "Unit costs".
    """

    #: A new 4G macro site: tower, 4G equipment, power (solar/diesel), backhaul link.
    new_site_vnd: float = 2.5e9
    #: Upgrading an existing 2G/3G site to 4G (radio and antennas on the existing tower).
    upgrade_vnd: float = 0.5e9
    #: A small cell (low mast, a village's own 4G cell).
    small_cell_vnd: float = 0.4e9
    #: Fibre laid along a road (aerial on poles or in the verge), per km.
    fibre_road_per_km_vnd: float = 0.15e9
    #: Fibre laid off-road (new poles or trenching across terrain), per km.
    fibre_offroad_per_km_vnd: float = 0.4e9
    #: Fibre drop per village: splitter cabinet, OLT port and the village's access point.
    drop_per_village_vnd: float = 0.1e9
    #: Microwave backhaul: a pair of radios and dishes for one line-of-sight hop.
    microwave_link_vnd: float = 0.3e9
    #: Satellite (VSAT/LEO) backhaul of a site: terminal and installation.
    satellite_backhaul_vnd: float = 0.15e9
    #: Satellite community access for a village: terminal, Wi-Fi hotspot, installation.
    satellite_access_vnd: float = 0.05e9
    #: Connecting a site to the grid (when within plan.max_grid_distance_m of a line).
    grid_connection_vnd: float = 0.1e9
    #: Solar panels, battery bank and controller for a site far from the grid.
    solar_power_vnd: float = 0.4e9
    #: Yearly operating cost of a new site: maintenance, land, security (power apart).
    site_opex_vnd_per_year: float = 0.12e9
    #: Yearly operating cost added by upgrading an existing site to 4G.
    upgrade_opex_vnd_per_year: float = 0.04e9
    #: Yearly electricity bill of a grid-powered site.
    grid_power_opex_vnd_per_year: float = 0.036e9
    #: Yearly upkeep of a solar site's power (cleaning, battery wear).
    solar_opex_vnd_per_year: float = 0.03e9
    #: Yearly upkeep of a microwave hop.
    microwave_opex_vnd_per_year: float = 0.01e9
    #: Monthly fee of satellite backhaul for a site.
    satellite_backhaul_vnd_per_month: float = 0.02e9
    #: Monthly fee of a village's satellite access (VNPT Vinasat quotes ~2.1 M VND for
    #: 4 Mbps / 384 kbps).
    satellite_access_vnd_per_month: float = 2.1e6
    #: Yearly upkeep of laid fibre, per km.
    fibre_opex_vnd_per_km_year: float = 3e6


@dataclass(frozen=True)
class PlanConfig:
    """The investment plan: candidates, fibre routes, objective and solver.

    ``weight`` is what a newly served village is worth: ``"priority"`` (its priority
    score), ``"population"``, ``"ethnic_population"`` or ``"count"``. ``generate`` says
    when geo_dx proposes its own mobile candidates: ``"auto"`` (only when no candidate
    file is given), ``"always"`` (in addition to the file) or ``"never"``.
    """

    weight: str = "priority"
    generate: str = "auto"
    #: Generated hill-top candidates are at least this far apart.
    candidate_spacing_m: float = 500.0
    #: At most this many generated hill-top candidates (highest first).
    max_peak_candidates: int = 20000
    small_cell_range_m: float = 1000.0
    small_cell_antenna_height_m: float = 12.0
    #: Without a roads layer, fibre routes are straight lines times this factor.
    detour_factor: float = 1.3
    #: Villages farther than this (route length) from the fibre network are not planned.
    max_fibre_route_km: float = 60.0
    #: Fibre leaves the road only to join a fibre node to the road and for the last link
    #: to a village, each off-road stretch at most this long; a village farther from every
    #: road and fibre node gets no fibre route (satellite, microwave or other).
    max_offroad_km: float = 5.0
    #: Slope classes of off-road fibre: the slope (rise over run, per cent) from which each
    #: class starts; the slope is read from the DEM along the straight line.
    offroad_slope_from_pct: Mapping[str, float] = _table(
        {"flat": 0.0, "rolling": 10.0, "steep": 25.0, "very_steep": 45.0}
    )
    #: Off-road cost per km (``costs.fibre_offroad_per_km_vnd``) times this, per slope
    #: class (indicative: steeper ground needs more labour, poles and erosion protection).
    offroad_slope_factor: Mapping[str, float] = _table(
        {"flat": 1.0, "rolling": 1.5, "steep": 2.5, "very_steep": 4.0}
    )
    #: Time limit of the exact solver (seconds) per solve; the best answer found is kept.
    time_limit_s: float = 30.0
    #: Budgets in the budget curve (evenly spaced up to the cost of closing every gap).
    curve_steps: int = 10
    #: Candidate ids that must be built / must not be built.
    must: tuple[str, ...] = ()
    exclude: tuple[str, ...] = ()
    #: Years over which operating costs count (net present cost, ``npv_cost_vnd``).
    horizon_years: int = 10
    #: Yearly discount rate of operating costs (a share: 0.08 is 8 %).
    discount_rate: float = 0.08
    #: What the budget pays for: ``"capex"`` (the investment line) or ``"npv"`` (capital
    #: plus discounted operating costs over ``horizon_years``).
    budget_basis: str = "capex"
    #: Follow the public telecom fund's rule: plan mobile sites only for villages with grid
    #: electricity (a village without is answered, not planned).
    require_grid_power: bool = False
    #: A site farther than this from a power line gets solar power instead of the grid.
    max_grid_distance_m: float = 2000.0
    #: A village within this distance of a power line has grid power (when its own
    #: ``has_grid_power`` is blank).
    grid_village_distance_m: float = 1000.0
    #: Longest microwave backhaul hop (line of sight checked on the DEM).
    microwave_max_hop_km: float = 20.0
    #: A new site farther than this (straight line) from a fibre node has no fibre backhaul.
    fibre_backhaul_max_km: float = 10.0
    #: What satellite access is worth against 4G coverage of the same village (0-1).
    satellite_access_weight: float = 0.3
    #: Budget per year (``{2026: 10e9, 2027: 10e9}``): a year-by-year schedule.
    yearly_budgets: Mapping[str, float] = _table()
    costs: PlanCostsConfig = field(default_factory=PlanCostsConfig)


@dataclass(frozen=True)
class TargetsConfig:
    """The province's targets, as shares (0-1), that the official indicators are measured
    against (:mod:`geo_dx.indicators`); the defaults are the national programmes' 100 %."""

    #: Share of villages (thôn, bản) with a mobile signal.
    signal_village_share: float = 1.0
    #: Share of villages with mobile broadband (3G/4G).
    mobile_broadband_village_share: float = 1.0
    #: Share of villages with fixed broadband (fibre).
    fibre_village_share: float = 1.0
    #: Share of communes (xã, phường) with fibre and 4G in every village.
    fibre_4g_commune_share: float = 1.0


@dataclass(frozen=True)
class Config:
    """
    Everything a run can be told; ``Config()`` is the documented default.

    Every value is checked as the configuration is built, from TOML or in Python
    (:mod:`geo_dx.config_checks`).

    Examples
    --------
    >>> Config(crs="EPSG:4326")
    Traceback (most recent call last):
    ...
    geo_dx.errors.ConfigError: Config: crs = 'EPSG:4326' is geographic (degrees) but ...
    """

    #: Language of what people read (maps, reasons, workbook, console): "vi" or "en".
    language: str = DEFAULT_LANGUAGE
    #: Projected CRS for distances; ``None`` estimates the UTM zone from the data.
    crs: str | None = None
    #: A village outside every commune joins the nearest one within this distance.
    assign_max_distance_m: float = 1000.0
    columns: ColumnsConfig = field(default_factory=ColumnsConfig)
    coverage: CoverageConfig = field(default_factory=CoverageConfig)
    terrain: TerrainConfig = field(default_factory=TerrainConfig)
    measured: MeasuredConfig = field(default_factory=MeasuredConfig)
    signal: SignalConfig = field(default_factory=SignalConfig)
    remoteness: RemotenessConfig = field(default_factory=RemotenessConfig)
    scoring: ScoringConfig = field(default_factory=ScoringConfig)
    plan: PlanConfig = field(default_factory=PlanConfig)
    targets: TargetsConfig = field(default_factory=TargetsConfig)

    def __post_init__(self) -> None:
        # one check for every way a Config is made: TOML, --weights, Python, replace()
        check_built(self)


def load_config(path: str | Path | None) -> Config:
    """
    Read a TOML configuration file.

    Parameters
    ----------
    path
        A ``.toml`` file, or ``None`` for the defaults.

    Returns
    -------
    Config

    Examples
    --------
    >>> load_config(None).coverage.max_range_m["4g"]
    15000.0
    """
    if path is None:
        return Config()
    path = Path(path)
    try:
        raw = path.read_bytes()
    except FileNotFoundError as err:
        raise ConfigError(f"{path}: config file not found; check the --config path") from err
    except IsADirectoryError as err:
        raise ConfigError(f"{path}: is a folder; --config needs a .toml file") from err
    except OSError as err:
        raise ConfigError(f"{path}: cannot read the config file ({err.strerror or err})") from err
    try:
        text = raw.decode("utf-8-sig")  # a UTF-8 byte-order mark (Notepad) is fine
    except UnicodeDecodeError as err:
        raise ConfigError(
            f"{path}: the config file is not UTF-8 (byte {err.start}: "
            f"{raw[err.start:err.start + 1]!r}; Windows-1258 or another legacy encoding?); "
            "save it as UTF-8"
        ) from err
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as err:
        raise ConfigError(f"{path}: not valid TOML ({err}); fix the syntax at that line") from err
    return config_from_dict(data, source=str(path))


def config_from_dict(data: Mapping[str, Any], *, source: str = "config") -> Config:
    """Build a :class:`Config` from nested dicts (as read from TOML), validating keys."""
    with building(source):
        return _build(Config, data, source, "")


def with_weights(config: Config, spec: str) -> Config:
    """
    Override scoring weights from a ``name=value,name=value`` string (the CLI's ``--weights``).

    Names not given keep their configured weight. Unknown names and negative or
    non-numeric values raise :class:`ConfigError`.

    Examples
    --------
    >>> with_weights(Config(), "ethnic=0.5").scoring.weights["ethnic"]
    0.5
    """
    weights = dict(config.scoring.weights)
    for part in filter(None, (p.strip() for p in spec.split(","))):
        name, sep, value = part.partition("=")
        name = name.strip()
        if not sep:
            raise ConfigError(f"--weights: {part!r} is not name=value; e.g. ethnic=0.5")
        if name not in COMPONENTS:
            raise ConfigError(
                f"--weights: unknown component {name!r}; allowed: {', '.join(COMPONENTS)}"
            )
        try:
            weights[name] = float(value)
        except ValueError as err:
            raise ConfigError(f"--weights: {name}={value!r} is not a number") from err
    scoring = dataclasses.replace(config.scoring, weights=_frozen(weights))
    with building("--weights"):
        return dataclasses.replace(config, scoring=scoring)


_MAPPING_KEYS = {
    "columns": None,
    "default_range_m": TECHNOLOGIES,
    "max_range_m": TECHNOLOGIES,
    "frequency_mhz": SIGNAL_TECHNOLOGIES,
    "eirp_dbm": SIGNAL_TECHNOLOGIES,
    "threshold_dbm": SIGNAL_TECHNOLOGIES,
    "weights": COMPONENTS,
    "severity": GAP_CLASSES,
    "offroad_slope_from_pct": SLOPE_CLASSES,
    "offroad_slope_factor": SLOPE_CLASSES,
}


def _build(cls: type, data: Mapping[str, Any], source: str, prefix: str) -> Any:
    if not isinstance(data, Mapping):
        raise ConfigError(f"{source}: [{prefix.rstrip('.')}] must be a table, got {data!r}")
    allowed = {f.name: f for f in fields(cls)}
    unknown = sorted(set(data) - set(allowed))
    if unknown:
        raise ConfigError(
            f"{source}: unknown key {prefix}{unknown[0]!r}; allowed: {', '.join(allowed)}"
        )
    defaults = cls()
    kwargs: dict[str, Any] = {}
    for name, value in data.items():
        current = getattr(defaults, name)
        where = f"{prefix}{name}"
        if dataclasses.is_dataclass(current):
            kwargs[name] = _build(type(current), value, source, where + ".")
        elif isinstance(current, Mapping):
            kwargs[name] = _merge_mapping(current, value, source, where)
        else:
            kwargs[name] = _coerce(current, value, source, where)
    return cls(**kwargs)


def _merge_mapping(current: Mapping[str, Any], value: Any, source: str, where: str) -> Any:
    if not isinstance(value, Mapping):
        raise ConfigError(f"{source}: {where} must be a table, got {value!r}")
    key = where.rsplit(".", 1)[-1]
    allowed = _MAPPING_KEYS.get(key, _MAPPING_KEYS["columns"] if "columns" in where else None)
    merged = dict(current)
    for k, v in value.items():
        if allowed is not None and k not in allowed:
            raise ConfigError(
                f"{source}: unknown key {where}.{k!r}; allowed: {', '.join(allowed)}"
            )
        if "columns" in where:
            if not isinstance(v, str):
                raise ConfigError(f"{source}: {where}.{k} must be a column name, got {v!r}")
            merged[k] = v
        else:
            merged[k] = _coerce(0.0, v, source, f"{where}.{k}")
    return _frozen(merged)


def _coerce(current: Any, value: Any, source: str, where: str) -> Any:
    if isinstance(current, tuple):
        if not isinstance(value, list) or not all(isinstance(v, str | int) for v in value):
            raise ConfigError(f"{source}: {where} must be a list of ids, e.g. [\"C1\"], "
                              f"got {value!r}")
        return tuple(str(v) for v in value)
    if isinstance(current, bool):
        if not isinstance(value, bool):
            raise ConfigError(f"{source}: {where} must be true or false, got {value!r}")
        return value
    if isinstance(current, int | float) or current is None and where.endswith("_m"):
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise ConfigError(f"{source}: {where} must be a number, got {value!r}")
        if not math.isfinite(value):
            raise ConfigError(f"{source}: {where} was {value!r}; give a finite number")
        if isinstance(current, int):
            if float(value) != int(value):
                raise ConfigError(f"{source}: {where} must be a whole number, got {value!r}")
            return int(value)
        return float(value)
    if isinstance(current, str) or current is None:
        if not isinstance(value, str):
            raise ConfigError(f"{source}: {where} must be a string, got {value!r}")
        return value
    return value
