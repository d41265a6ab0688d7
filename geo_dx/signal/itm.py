"""Longley-Rice Irregular Terrain Model (ITM 1.2.2), point-to-point mode, for many profiles.

ITM predicts the basic transmission loss between two antennas over a terrain profile:
free-space loss plus the attenuation of line-of-sight, diffraction or troposcatter
propagation, taken at stated reliabilities of time, location and situation. This is
the NTIA/ITS reference algorithm (Hufford's), compiled with numba and run in parallel
over profiles; the pure-Python ``itmlogic`` package (MIT) is its test oracle, and the
NTIA published QKPFL test cases are reproduced in the tests.

Numba is an optional dependency: ``pip install 'geo_dx[signal]'``.

Inputs follow NTIA's ``point_to_point``: the surface refractivity is scaled by the
system elevation (mean elevation of the middle 80 % of the profile) unless given.
Variability modes (``mode``): ``single`` (one reliability, the situation's),
``accidental`` (time + situation), ``mobile`` (time and location together),
``broadcast`` (time, location and situation separately, the default here). The
reliability of a loss ``L`` is the share of times, locations and situations in which
the loss does not exceed ``L`` — higher reliability, higher loss.

ITM is defined for 20 MHz-20 GHz, 1-2000 km and antennas 0.5-3000 m high; outside
that, or on odd geometry, the warning flag ``kwx`` is raised (1 caution, 2 defaults
substituted, 3 a combination out of range, 4 out of range: results probably invalid).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from geo_dx.errors import InputError, MissingDependencyError
from geo_dx.schema import CLIMATES, POLARISATIONS, VARIABILITY_MODES


@dataclass(frozen=True)
class TerrainProfiles:
    """
    Many terrain profiles in one flat array (compressed rows).

    Profile ``i`` is ``elevation_m[offsets[i]:offsets[i + 1]]``: at least two evenly
    spaced elevations from the transmitter (first) to the receiver (last),
    ``distance_m[i]`` apart end to end.

    Examples
    --------
    >>> p = TerrainProfiles.from_list([np.zeros(11), np.zeros(21)], [5000.0, 10000.0])
    >>> p.offsets.tolist(), len(p)
    ([0, 11, 32], 2)
    """

    elevation_m: np.ndarray
    offsets: np.ndarray
    distance_m: np.ndarray

    def __len__(self) -> int:
        return len(self.distance_m)

    @classmethod
    def from_list(cls, profiles: list[np.ndarray], distance_m: np.ndarray | list[float]
                  ) -> TerrainProfiles:
        """Build from a list of elevation arrays and their end-to-end distances."""
        lengths = np.array([len(p) for p in profiles], dtype=np.int64)
        offsets = np.concatenate([[0], np.cumsum(lengths)]).astype(np.int64)
        flat = (np.concatenate([np.asarray(p, dtype=float) for p in profiles])
                if profiles else np.zeros(0))
        return cls(flat, offsets, np.asarray(distance_m, dtype=float).reshape(-1))


def itm_loss_db(
    profiles: TerrainProfiles,
    *,
    frequency_mhz: np.ndarray | float,
    tx_height_m: np.ndarray | float,
    rx_height_m: np.ndarray | float,
    polarisation: str = "vertical",
    permittivity: float = 15.0,
    conductivity_s_m: float = 0.005,
    surface_refractivity_n: float = 301.0,
    climate: str = "continental_temperate",
    mode: str = "broadcast",
    point_to_point: bool = False,
    time_pct: float = 50.0,
    location_pct: float = 50.0,
    situation_pct: float = 50.0,
    system_elevation_m: np.ndarray | float | None = None,
    itmlogic_compatible: bool = False,
) -> tuple[np.ndarray, np.ndarray]:
    """
    Basic transmission loss (dB) over each profile with ITM, and ITM's warning flags.

    Parameters
    ----------
    profiles
        Terrain profiles, transmitter first.
    frequency_mhz, tx_height_m, rx_height_m
        Carrier frequency and antenna heights above ground, scalars or one per profile.
    polarisation
        ``"vertical"`` or ``"horizontal"``.
    permittivity, conductivity_s_m
        Ground constants (average ground: 15 and 0.005 S/m).
    surface_refractivity_n
        Surface refractivity at sea level, N-units (301 temperate, 320-360 tropical).
    climate
        One of :data:`CLIMATES`.
    mode
        One of :data:`VARIABILITY_MODES`.
    point_to_point
        Add ITM's +10 flag: no location variability (the profile is taken as known).
    time_pct, location_pct, situation_pct
        Reliabilities in per cent (the loss is not exceeded in that share).
    system_elevation_m
        Scales the refractivity; ``None`` computes it from each profile (NTIA).
    itmlogic_compatible
        Reproduce itmlogic's two deviations from NTIA (see :mod:`geo_dx.signal._itm_kernel`);
        for testing against itmlogic only.

    Returns
    -------
    tuple of numpy.ndarray
        ``(loss_db, kwx)``, one per profile.

    Examples
    --------
    >>> p = TerrainProfiles.from_list([np.zeros(101)], [10_000.0])
    >>> loss, kwx = itm_loss_db(p, frequency_mhz=1800.0, tx_height_m=30.0, rx_height_m=1.5)
    >>> round(float(loss[0]), 1), int(kwx[0])  # free space would be 117.6 dB
    (127.8, 0)
    """
    kernel = _kernel()
    n = len(profiles)
    offsets = np.asarray(profiles.offsets, dtype=np.int64)
    elevation = np.ascontiguousarray(profiles.elevation_m, dtype=float)
    distance = np.asarray(profiles.distance_m, dtype=float)
    counts = np.diff(offsets)
    if len(offsets) != n + 1 or np.any(counts < 2):
        raise InputError("itm_loss_db: every profile needs at least two elevations")
    if not np.all(np.isfinite(elevation)):
        raise InputError("itm_loss_db: profiles hold NaN or infinite elevations; fill them first")
    if np.any(~(distance > 0)):
        raise InputError("itm_loss_db: profile distances must be > 0 m")
    freq = _per_profile(frequency_mhz, n, "frequency_mhz")
    hg0 = _per_profile(tx_height_m, n, "tx_height_m")
    hg1 = _per_profile(rx_height_m, n, "rx_height_m")
    zsys = (np.full(n, np.nan) if system_elevation_m is None
            else _per_profile(system_elevation_m, n, "system_elevation_m"))
    mdvar = _choice(mode, VARIABILITY_MODES, "mode") + (10 if point_to_point else 0)
    klim = _choice(climate, CLIMATES, "climate")
    ipol = _choice(polarisation, POLARISATIONS, "polarisation")
    deviates = []
    for name, pct in (("time_pct", time_pct), ("location_pct", location_pct),
                      ("situation_pct", situation_pct)):
        if not 0.0 < pct < 100.0:
            raise InputError(f"itm_loss_db: {name} was {pct!r}; give a percentage in (0, 100)")
        deviates.append(kernel.qerfi(pct / 100.0))
    loss = np.empty(n)
    kwx = np.empty(n, dtype=np.int64)
    if n:
        kernel.itm_many(elevation, offsets, distance / (counts - 1), hg0, hg1, freq, zsys,
                        float(surface_refractivity_n), float(permittivity),
                        float(conductivity_s_m), ipol, klim, mdvar, *deviates,
                        bool(itmlogic_compatible), loss, kwx)
    return loss, kwx


def free_space_loss_db(distance_m: np.ndarray | float, frequency_mhz: np.ndarray | float
                       ) -> np.ndarray:
    """
    Free-space basic transmission loss, ITM's formula ``20 log10(2 k d)``, ``k = f / 47.7``.

    Examples
    --------
    >>> round(float(free_space_loss_db(1000.0, 1800.0)), 2)
    97.56
    """
    wn = np.asarray(frequency_mhz, dtype=float) / 47.7
    return 20.0 * np.log10(2.0 * wn * np.asarray(distance_m, dtype=float))


def _kernel():  # noqa: ANN202 - a module
    try:
        from geo_dx.signal import _itm_kernel
    except ImportError as err:
        raise MissingDependencyError(
            "the ITM signal model needs numba; install it with "
            "pip install 'geo_dx[signal]' (or set terrain.model to 'terrain' or 'radius')"
        ) from err
    return _itm_kernel


def _choice(value: str, allowed: dict[str, int], name: str) -> int:
    if value not in allowed:
        raise InputError(f"itm_loss_db: {name} was {value!r}; allowed: {', '.join(allowed)}")
    return allowed[value]


def _per_profile(value: np.ndarray | float, n: int, name: str) -> np.ndarray:
    arr = np.asarray(value, dtype=float)
    arr = np.full(n, float(arr)) if arr.ndim == 0 else arr.reshape(-1)
    if len(arr) != n:
        raise InputError(f"itm_loss_db: {name} has {len(arr)} values for {n} profiles")
    return np.ascontiguousarray(arr)
