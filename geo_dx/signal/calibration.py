"""Calibrate predicted signal on measured signal: one offset per technology (and operator).

Single field measurements scatter around the *median* signal (ITM at 50 % of time,
locations and situations), not around the prediction at the configured reliabilities
(``signal.location_pct`` / ``situation_pct``, 90 % by default, which lies some 20 dB
below the median in hills). So each measurement point with ``rsrp_dbm`` is paired with
the median prediction at its location, and the offset of a group is the mean of
``measured - median`` over a training share of its points. The offset is then added to
the prediction at the configured reliabilities: the safety margin stays.

A group gets an offset only from at least ``signal.calibration_min_measurements``
training points; with fewer it gets none and a :class:`~geo_dx.errors.GeoDxWarning`
says so (a run counts it in its summary). Groups: ``(technology, operator)`` when the
measurement names an operator, else ``(technology, "")``; a group without an offset falls
back to its technology's, then to 0.

A held-out share (``signal.holdout_share``, drawn with ``signal.seed``) is never used to
fit, and every error is reported on it only: the median prediction's error in dB before
and after the offset, and the decisions: measured covered (measured at or above the
threshold) against predicted covered (the calibrated prediction at the configured
reliabilities at or above it), a confusion table per technology and operator.
"""

from __future__ import annotations

import logging
import warnings
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from geo_dx.config import SignalConfig
from geo_dx.errors import GeoDxWarning

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Calibration:
    """
    Fitted offsets (dB, added to predictions) and the held-out error report.

    ``offsets_db`` maps ``(technology, operator)`` (operator ``""``: all operators) to dB.
    """

    offsets_db: Mapping[tuple[str, str], float] = field(default_factory=dict)
    report: dict[str, Any] = field(default_factory=dict)

    def offset_for(self, technology: np.ndarray, operator: np.ndarray | None = None
                   ) -> np.ndarray:
        """
        The offset that applies to each (technology, operator).

        Examples
        --------
        >>> cal = Calibration({("4g", ""): -3.0, ("4g", "VNPT"): -5.0})
        >>> cal.offset_for(np.array(["4g", "4g", "3g"]), np.array(["VNPT", "Viettel", ""]))
        array([-5., -3.,  0.])
        """
        tech = np.asarray(technology).astype(str)
        op = (np.asarray(operator).astype(str) if operator is not None
              else np.full(len(tech), ""))
        return np.array([self.offsets_db.get((t, o), self.offsets_db.get((t, ""), 0.0))
                         for t, o in zip(tech, op, strict=True)], dtype=float)


def fit_offsets(
    median_dbm: np.ndarray,
    measured_dbm: np.ndarray,
    technology: np.ndarray,
    operator: np.ndarray | None = None,
    *,
    holdout_share: float = 0.3,
    seed: int = 0,
    min_measurements: int = SignalConfig.calibration_min_measurements,
    reliable_dbm: np.ndarray | None = None,
    threshold_dbm: np.ndarray | None = None,
) -> Calibration:
    """
    Fit per-group offsets against the median prediction on a training split; report
    errors and decisions on the held-out split only.

    Parameters
    ----------
    median_dbm, measured_dbm
        Per measurement: the median predicted signal and the measured one (dBm).
    technology, operator
        Per measurement: its group.
    holdout_share, seed
        Share of the points held out (drawn at random with ``seed``).
    min_measurements
        Training points a group needs for an offset.
    reliable_dbm, threshold_dbm
        Per measurement: the prediction at the configured reliabilities and the coverage
        threshold, for the margin (``margin_db``: median minus reliable, mean) and the
        decision tables; without them neither is reported.

    Returns
    -------
    Calibration
        ``report``: ``n_measurements``, ``n_train``, ``n_held_out``, ``offsets_db``,
        ``without_offset`` (groups with too few points: their count), ``margin_db``,
        ``before`` / ``after`` (``mean_db``, ``rmse_db``, ``n`` of measured minus median,
        held-out points; None without any) and ``decisions`` (``before`` / ``after``:
        rows per technology and operator).

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> median = rng.uniform(-120, -70, 400)
    >>> cal = fit_offsets(median, median - 6 + rng.normal(0, 1, 400), np.full(400, "4g"))
    >>> round(cal.offsets_db[("4g", "")])
    -6
    """
    pred = np.asarray(median_dbm, dtype=float)
    meas = np.asarray(measured_dbm, dtype=float)
    tech = np.asarray(technology).astype(str)
    op = np.asarray(operator).astype(str) if operator is not None else np.full(len(tech), "")
    op = np.where(pd.isna(op) | (op == "nan") | (op == "None"), "", op)
    reliable = (np.asarray(reliable_dbm, dtype=float) if reliable_dbm is not None
                else np.full(len(pred), np.nan))
    threshold = (np.asarray(threshold_dbm, dtype=float) if threshold_dbm is not None
                 else np.full(len(pred), np.nan))
    ok = np.isfinite(pred) & np.isfinite(meas)
    pred, meas, tech, op = pred[ok], meas[ok], tech[ok], op[ok]
    reliable, threshold = reliable[ok], threshold[ok]
    n = len(pred)
    held = np.zeros(n, dtype=bool)
    if holdout_share > 0 and n >= 2:
        order = np.random.default_rng(seed).permutation(n)
        held[order[: max(int(round(holdout_share * n)), 1)]] = True
    train = ~held
    residual = meas - pred
    offsets: dict[tuple[str, str], float] = {}
    too_few: dict[str, int] = {}
    for t in np.unique(tech):
        in_t = train & (tech == t)
        groups = [(t, "", in_t)] + [(t, o, in_t & (op == o)) for o in np.unique(op[tech == t])
                                     if o]
        for g_tech, g_op, rows in groups:
            if rows.sum() >= min_measurements:
                offsets[(g_tech, g_op)] = float(residual[rows].mean())
            else:
                too_few[f"{g_tech}/{g_op}" if g_op else g_tech] = int(rows.sum())
    if too_few:
        listed = ", ".join(f"{k} ({v})" for k, v in too_few.items())
        warnings.warn(
            f"signal calibration: fewer than signal.calibration_min_measurements = "
            f"{min_measurements} training measurements with rsrp_dbm for {listed}; no offset "
            "for them (an operator without one uses its technology's); add measurements or "
            "lower the minimum", GeoDxWarning, stacklevel=2)
    cal = Calibration(offsets)
    corrected = pred + cal.offset_for(tech, op)
    shift = corrected - pred
    margin = pred - reliable
    report = {
        "n_measurements": n,
        "n_train": int(train.sum()),
        "n_held_out": int(held.sum()),
        "min_measurements": int(min_measurements),
        "fitted_against": "median prediction (50 % of time, locations and situations)",
        "offsets_db": {f"{t}/{o}" if o else str(t): round(v, 2) for (t, o), v in offsets.items()},
        "without_offset": too_few,
        "margin_db": (round(float(np.nanmean(margin)), 2) if np.isfinite(margin).any()
                      else None),
        "before": _errors(meas[held] - pred[held]),
        "after": _errors(meas[held] - corrected[held]),
        "held_out": bool(held.any()),
    }
    if np.isfinite(reliable).any() and np.isfinite(threshold).any():
        measured_covered = meas >= threshold
        report["decisions"] = {
            "before": decision_table(measured_covered[held], reliable[held] >= threshold[held],
                                     tech[held], op[held]),
            "after": decision_table(measured_covered[held],
                                    reliable[held] + shift[held] >= threshold[held],
                                    tech[held], op[held]),
        }
    logger.info("calibration: %d measurements, offsets %s", n, report["offsets_db"])
    return Calibration(offsets, report)


def decision_table(measured_covered: np.ndarray, predicted_covered: np.ndarray,
                   technology: np.ndarray, operator: np.ndarray) -> list[dict[str, Any]]:
    """
    Measured covered against predicted covered, one row per technology and operator.

    ``measured_only``: covered as measured, not as predicted (coverage the margin leaves
    out); ``predicted_only``: predicted but not measured (a promise that does not hold).

    Examples
    --------
    >>> decision_table(np.array([True, True, False]), np.array([True, False, False]),
    ...                np.array(["4g"] * 3), np.array([""] * 3))[0]["measured_only"]
    1
    """
    frame = pd.DataFrame({"technology": technology, "operator": operator,
                          "m": np.asarray(measured_covered, dtype=bool),
                          "p": np.asarray(predicted_covered, dtype=bool)})
    rows = []
    for (t, o), g in frame.groupby(["technology", "operator"], sort=True):
        m, p = g["m"].to_numpy(), g["p"].to_numpy()
        rows.append({"technology": str(t), "operator": str(o), "n": len(g),
                     "both_covered": int((m & p).sum()), "measured_only": int((m & ~p).sum()),
                     "predicted_only": int((~m & p).sum()), "neither": int((~m & ~p).sum()),
                     "agree_share": round(float((m == p).mean()), 3)})
    return rows


def _errors(error: np.ndarray) -> dict[str, float | int | None]:
    if len(error) == 0:
        return {"mean_db": None, "rmse_db": None, "n": 0}
    return {"mean_db": round(float(error.mean()), 2),
            "rmse_db": round(float(np.sqrt(np.mean(error**2))), 2), "n": len(error)}
