"""Checks of a built :class:`~geo_dx.config.Config`, all in one place.

Every number within its range (:data:`BOUNDS`, :data:`MAPPING_BOUNDS`), every model or
option name known, column renames one-to-one and a usable working CRS; each failure is
one :class:`~geo_dx.errors.ConfigError` naming the key, the value and what is allowed.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import TYPE_CHECKING, Any

from pyproj import CRS
from pyproj.exceptions import CRSError

from geo_dx.errors import ConfigError
from geo_dx.i18n import LANGUAGES
from geo_dx.schema import CLIMATES, COLUMN_MAXIMA, POLARISATIONS

if TYPE_CHECKING:
    from geo_dx.config import Config, PlanConfig

#: The ``[targets]`` keys (shares, 0-1).
TARGET_KEYS: tuple[str, ...] = ("signal_village_share", "mobile_broadband_village_share",
                                "fibre_village_share", "fibre_4g_commune_share")
#: Allowed range of every numeric setting: (lowest, highest, lowest allowed itself).
BOUNDS: dict[str, tuple[float, float, bool]] = {
    "assign_max_distance_m": (0.0, 1e6, True),
    "coverage.measurement_range_m": (0.0, 1e6, True),
    "terrain.antenna_height_m": (0.0, COLUMN_MAXIMA["antenna_height_m"], True),
    "terrain.receiver_height_m": (0.0, 1000.0, True),
    "terrain.clearance_m": (0.0, 1000.0, True),
    "terrain.k_factor": (0.0, 100.0, False),
    "terrain.sample_step_m": (0.0, 1e5, False),
    "measured.mobile_min_down_kbps": (0.0, COLUMN_MAXIMA["download_kbps"], True),
    "measured.mobile_min_up_kbps": (0.0, COLUMN_MAXIMA["upload_kbps"], True),
    "measured.fixed_min_down_kbps": (0.0, COLUMN_MAXIMA["download_kbps"], True),
    "measured.fixed_min_up_kbps": (0.0, COLUMN_MAXIMA["upload_kbps"], True),
    "measured.min_tests": (0.0, 1e9, True),
    "measured.dispute_min_tests": (1.0, 1e9, True),
    "measured.dispute_min_days": (0.0, 1e6, True),
    "measured.dispute_radius_m": (0.0, 1e6, True),
    "signal.surface_refractivity_n": (250.0, 400.0, True),
    "signal.permittivity": (1.0, 100.0, True),
    "signal.conductivity_s_m": (0.0, 100.0, False),
    "signal.holdout_share": (0.0, 0.99, True),
    "signal.calibration_max_distance_m": (0.0, 1e6, False),
    "signal.calibration_min_measurements": (1.0, 1e9, True),
    "signal.raster_cell_m": (0.0, 1e5, False),
    "remoteness.walking_speed_kmh": (0.0, 1000.0, False),
    "remoteness.road_speed_kmh": (0.0, 1000.0, False),
    "remoteness.track_speed_kmh": (0.0, 1000.0, False),
    "remoteness.straight_line_speed_kmh": (0.0, 1000.0, False),
    "scoring.especially_difficult_bonus": (0.0, 1.0, True),
    "scoring.household_size": (0.0, 100.0, False),
    "scoring.sensitivity_draws": (0.0, 100_000.0, True),
    "scoring.sensitivity_concentration": (0.0, 1e6, False),
    "scoring.seed": (0.0, 2.0**32 - 1, True),
    "scoring.top_n": (0.0, 1e6, True),
    "scoring.cluster_radius_m": (0.0, 1e6, False),
    "plan.candidate_spacing_m": (0.0, 1e5, False),
    "plan.max_peak_candidates": (0.0, 1e7, True),
    "plan.small_cell_range_m": (0.0, 1e5, False),
    "plan.small_cell_antenna_height_m": (0.0, COLUMN_MAXIMA["antenna_height_m"], False),
    "plan.detour_factor": (1.0, 10.0, True),
    "plan.max_fibre_route_km": (0.0, 1e4, False),
    "plan.max_offroad_km": (0.0, 1e3, True),
    "plan.time_limit_s": (0.0, 1e5, False),
    "plan.curve_steps": (1.0, 1000.0, True),
    "plan.horizon_years": (1.0, 100.0, True),
    "plan.discount_rate": (0.0, 1.0, True),
    "plan.max_grid_distance_m": (0.0, 1e6, True),
    "plan.grid_village_distance_m": (0.0, 1e6, True),
    "plan.microwave_max_hop_km": (0.0, 1e3, True),
    "plan.fibre_backhaul_max_km": (0.0, 1e4, True),
    "plan.satellite_access_weight": (0.0, 1.0, True),
    **{f"targets.{name}": (0.0, 1.0, True) for name in TARGET_KEYS},
}
#: Allowed range of every value in a mapping setting.
MAPPING_BOUNDS: dict[str, tuple[float, float, bool]] = {
    "coverage.default_range_m": (0.0, COLUMN_MAXIMA["range_m"], True),
    "coverage.max_range_m": (0.0, COLUMN_MAXIMA["range_m"], True),
    "scoring.weights": (0.0, 1e6, True),
    "scoring.severity": (0.0, 1.0, True),
    "signal.frequency_mhz": (20.0, 20000.0, True),
    "signal.eirp_dbm": (-30.0, 100.0, True),
    "signal.threshold_dbm": (-160.0, -20.0, True),
    "plan.yearly_budgets": (0.0, 1e16, True),
    "plan.offroad_slope_from_pct": (0.0, 1e4, True),
    "plan.offroad_slope_factor": (0.0, 1e3, False),
}


def _bounded(value: Any, bounds: tuple[float, float, bool], source: str, key: str) -> None:
    low, high, low_ok = bounds
    ok = math.isfinite(value) and (value >= low if low_ok else value > low) and value <= high
    if not ok:
        allowed = f"{'>=' if low_ok else '>'} {_number(low)} and <= {_number(high)}"
        what = "negative" if value < 0 else "out of range"
        raise ConfigError(f"{source}: {key} = {_number(value)} is {what}; allowed: {allowed}")


def _number(value: float) -> str:
    return str(int(value)) if math.isfinite(value) and float(value).is_integer() else f"{value:g}"


#: What a configuration being built is called in messages: a TOML file, ``--weights``, or
#: ``Config`` for one built in Python.
_SOURCE: ContextVar[str] = ContextVar("config_source", default="Config")


@contextmanager
def building(source: str) -> Iterator[None]:
    """
    Name the configurations built in this block in their messages (``config.toml: ...``).

    Examples
    --------
    >>> from geo_dx.config import Config
    >>> with building("my.toml"):
    ...     Config(crs="EPSG:4326")
    Traceback (most recent call last):
    ...
    geo_dx.errors.ConfigError: my.toml: crs = 'EPSG:4326' is geographic (degrees) but ...
    """
    token = _SOURCE.set(source)
    try:
        yield
    finally:
        _SOURCE.reset(token)


def check_built(config: Config) -> None:
    """Every check of :func:`check_config`, on a :class:`Config` as it is built."""
    check_config(config, _SOURCE.get())


def check_config(config: Config, source: str) -> None:
    """Every value in range, known model names, a usable CRS: all checks in one place."""
    _check_targets(config, source)
    for key, bounds in BOUNDS.items():
        value = _get(config, key)
        if value is not None:
            _bounded(value, bounds, source, key)
    for key, bounds in MAPPING_BOUNDS.items():
        for name, value in _get(config, key).items():
            _bounded(value, bounds, source, f"{key}.{name}")
    if sum(config.scoring.weights.values()) <= 0:
        raise ConfigError(f"{source}: the scoring weights sum to 0; give at least one weight > 0")
    if config.terrain.model not in ("auto", "radius", "terrain", "itm"):
        raise ConfigError(
            f"{source}: terrain.model was {config.terrain.model!r}; "
            "allowed: 'auto', 'radius', 'terrain', 'itm'"
        )
    _check_signal(config, source)
    if config.scoring.normalisation not in ("percentile", "minmax"):
        raise ConfigError(
            f"{source}: scoring.normalisation was {config.scoring.normalisation!r}; "
            "allowed: 'percentile', 'minmax'"
        )
    if config.language not in LANGUAGES:
        raise ConfigError(
            f"{source}: language was {config.language!r}; allowed: "
            f"{', '.join(map(repr, LANGUAGES))}"
        )
    for layer in ("communes", "villages", "coverage"):
        mapping = getattr(config.columns, layer)
        targets = list(mapping.values())
        twice = sorted({t for t in targets if targets.count(t) > 1})
        if twice:
            sources = [k for k, v in mapping.items() if v == twice[0]]
            raise ConfigError(
                f"{source}: [columns.{layer}] maps {', '.join(map(repr, sources))} all onto "
                f"{twice[0]!r}; map one column onto each geo_dx column"
            )
    if config.crs:
        check_crs(config.crs, source=source)
    _check_plan(config.plan, source)


def _check_targets(config: Config, source: str) -> None:
    """Targets are shares: 0.8 for 80 % (a percentage given as 80 is told so)."""
    for name in TARGET_KEYS:
        value = getattr(config.targets, name)
        if math.isfinite(value) and 1 < value <= 100:
            raise ConfigError(f"{source}: targets.{name} = {_number(value)} looks like a "
                              f"percentage; give a share between 0 and 1, e.g. "
                              f"{_number(value / 100)} for {_number(value)} %")


def check_crs(crs: str, *, source: str = "config") -> CRS:
    """
    Parse the configured working CRS; it must be projected with metre units.

    Examples
    --------
    >>> check_crs("EPSG:32648").to_epsg()
    32648
    >>> check_crs("EPSG:4326")
    Traceback (most recent call last):
    ...
    geo_dx.errors.ConfigError: config: crs = 'EPSG:4326' is geographic (degrees) ...
    """
    try:
        parsed = CRS.from_user_input(crs)
    except CRSError as err:
        raise ConfigError(
            f"{source}: crs = {crs!r} is not a CRS pyproj understands; give an EPSG code of "
            "a projected CRS in metres, e.g. crs = \"EPSG:32648\" for UTM zone 48N (or leave "
            "it out to use the UTM zone of the data)"
        ) from err
    if not parsed.is_projected:
        raise ConfigError(
            f"{source}: crs = {crs!r} is geographic (degrees) but distances need metres; give "
            "a projected CRS, e.g. crs = \"EPSG:32648\" (UTM 48N), or leave it out"
        )
    units = {axis.unit_name for axis in parsed.axis_info}
    if not units <= {"metre", "meter"}:
        raise ConfigError(
            f"{source}: crs = {crs!r} measures in {', '.join(sorted(units))}, not metres; give "
            "a projected CRS in metres, e.g. crs = \"EPSG:32648\""
        )
    return parsed


def _get(config: Config, key: str) -> Any:
    value: Any = config
    for part in key.split("."):
        value = getattr(value, part)
    return value


def _check_signal(config: Config, source: str) -> None:
    sig = config.signal
    for key, allowed in (("climate", CLIMATES), ("polarisation", POLARISATIONS)):
        if getattr(sig, key) not in allowed:
            raise ConfigError(f"{source}: signal.{key} was {getattr(sig, key)!r}; "
                              f"allowed: {', '.join(allowed)}")
    for key in ("time_pct", "location_pct", "situation_pct"):
        if not 0 < getattr(sig, key) < 100:
            raise ConfigError(f"{source}: signal.{key} was {getattr(sig, key)!r}; "
                              "give a percentage strictly between 0 and 100")


#: Allowed values of ``plan.weight`` and ``plan.generate``.
PLAN_WEIGHTS: tuple[str, ...] = ("priority", "population", "ethnic_population", "count")
PLAN_GENERATE: tuple[str, ...] = ("auto", "always", "never")
#: Allowed values of ``plan.budget_basis``.
BUDGET_BASES: tuple[str, ...] = ("capex", "npv")


def _check_plan(plan: PlanConfig, source: str) -> None:
    """Known plan options (numbers are checked with the others, in ``BOUNDS``)."""
    if plan.weight not in PLAN_WEIGHTS:
        raise ConfigError(f"{source}: plan.weight was {plan.weight!r}; "
                          f"allowed: {', '.join(map(repr, PLAN_WEIGHTS))}")
    if plan.generate not in PLAN_GENERATE:
        raise ConfigError(f"{source}: plan.generate was {plan.generate!r}; "
                          f"allowed: {', '.join(map(repr, PLAN_GENERATE))}")
    if plan.budget_basis not in BUDGET_BASES:
        raise ConfigError(f"{source}: plan.budget_basis was {plan.budget_basis!r}; "
                          f"allowed: {', '.join(map(repr, BUDGET_BASES))}")
    for cost in dataclasses.fields(plan.costs):
        _bounded(getattr(plan.costs, cost.name), (0.0, COLUMN_MAXIMA["cost_vnd"], True), source,
                 f"plan.costs.{cost.name}")
    for year in plan.yearly_budgets:
        if not (str(year).isdigit() and 2000 <= int(year) <= 2100):
            raise ConfigError(f"{source}: plan.yearly_budgets has the key {year!r}; "
                              "give years such as 2026 = 10e9")
    classes = list(plan.offroad_slope_from_pct)  # gentlest first (config.SLOPE_CLASSES)
    starts = [plan.offroad_slope_from_pct[c] for c in classes]
    if starts[0] != 0 or any(b <= a for a, b in zip(starts, starts[1:], strict=False)):
        given = ", ".join(f"{c} = {_number(v)}" for c, v in zip(classes, starts, strict=True))
        raise ConfigError(
            f"{source}: plan.offroad_slope_from_pct must start at {classes[0]} = 0 and rise "
            f"from class to class; got {given}"
        )
