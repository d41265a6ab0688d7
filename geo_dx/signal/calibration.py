"""Calibrate predicted signal on measured signal: one offset per technology (and operator).

Measurement points with ``rsrp_dbm`` within reach of a site of their technology are
paired with the best signal predicted there (same operator when both name one). The
offset of a group is the mean of ``measured - predicted`` over a training share of its
points; a held-out share (``signal.holdout_share``, drawn with ``signal.seed``) reports
the error before and after applying it, so the improvement is not measured on the
points it was fitted to. Groups: ``(technology, operator)`` when the measurement names
an operator, else ``(technology, "")``; a group without training points falls back to
its technology's offset, then to 0.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

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
    predicted_dbm: np.ndarray,
    measured_dbm: np.ndarray,
    technology: np.ndarray,
    operator: np.ndarray | None = None,
    *,
    holdout_share: float = 0.3,
    seed: int = 0,
) -> Calibration:
    """
    Fit per-group offsets on a training split and report errors on the held-out split.

    Errors are ``measured - predicted``; the report gives ``mean_db``, ``rmse_db`` and
    ``n`` before and after calibration on the held-out points (all points when
    ``holdout_share`` is 0), and the number of training points.

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> pred = rng.uniform(-120, -70, 400)
    >>> cal = fit_offsets(pred, pred - 6 + rng.normal(0, 1, 400), np.full(400, "4g"))
    >>> round(cal.offsets_db[("4g", "")])
    -6
    """
    pred = np.asarray(predicted_dbm, dtype=float)
    meas = np.asarray(measured_dbm, dtype=float)
    tech = np.asarray(technology).astype(str)
    op = np.asarray(operator).astype(str) if operator is not None else np.full(len(tech), "")
    op = np.where(pd.isna(op) | (op == "nan") | (op == "None"), "", op)
    ok = np.isfinite(pred) & np.isfinite(meas)
    pred, meas, tech, op = pred[ok], meas[ok], tech[ok], op[ok]
    n = len(pred)
    held = np.zeros(n, dtype=bool)
    if holdout_share > 0 and n >= 2:
        order = np.random.default_rng(seed).permutation(n)
        held[order[: max(int(round(holdout_share * n)), 1)]] = True
    train = ~held if held.any() else np.ones(n, dtype=bool)
    residual = meas - pred
    offsets: dict[tuple[str, str], float] = {}
    for t in np.unique(tech[train]):
        in_t = train & (tech == t)
        offsets[(t, "")] = float(residual[in_t].mean())
        for o in np.unique(op[in_t]):
            if o:
                offsets[(t, o)] = float(residual[in_t & (op == o)].mean())
    cal = Calibration(offsets)
    test = held if held.any() else np.ones(n, dtype=bool)
    corrected = pred + cal.offset_for(tech, op)
    report = {
        "n_measurements": n,
        "n_train": int(train.sum()),
        "offsets_db": {f"{t}/{o}" if o else t: round(v, 2) for (t, o), v in offsets.items()},
        "before": _errors(meas[test] - pred[test]),
        "after": _errors(meas[test] - corrected[test]),
        "held_out": bool(held.any()),
    }
    logger.info("calibration: %d measurements, offsets %s", n, report["offsets_db"])
    return Calibration(offsets, report)


def _errors(error: np.ndarray) -> dict[str, float | int | None]:
    if len(error) == 0:
        return {"mean_db": None, "rmse_db": None, "n": 0}
    return {"mean_db": round(float(error.mean()), 2),
            "rmse_db": round(float(np.sqrt(np.mean(error**2))), 2), "n": len(error)}
