"""A plan's budget: one amount shared by mobile and fibre, or one for each."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass

from geo_dx.errors import InputError


@dataclass(frozen=True)
class Budget:
    """
    One shared budget (``total_vnd``) or separate mobile and fibre budgets, in VND.

    Examples
    --------
    >>> Budget.parse("30e9")
    Budget(total_vnd=30000000000.0, mobile_vnd=None, fibre_vnd=None)
    >>> Budget.parse("mobile=20e9,fibre=10e9").fibre_vnd
    10000000000.0
    """

    total_vnd: float | None = None
    mobile_vnd: float | None = None
    fibre_vnd: float | None = None

    @classmethod
    def parse(cls, value: float | str | Mapping[str, float] | Budget) -> Budget:
        """A number, a ``{"mobile": .., "fibre": ..}`` mapping or ``"mobile=X,fibre=Y"``."""
        if isinstance(value, Budget):
            return value
        if isinstance(value, Mapping):
            parts = dict(value)
        elif isinstance(value, str) and "=" in value:
            parts = {}
            for part in filter(None, (p.strip() for p in value.split(","))):
                name, _, amount = part.partition("=")
                parts[name.strip()] = amount.strip()
        else:
            return cls(total_vnd=_amount(value, "budget"))
        unknown = sorted(set(parts) - {"mobile", "fibre"})
        if unknown or len(parts) != 2:
            raise InputError(
                f"budget: expected one amount (e.g. 30e9) or mobile=...,fibre=... (both), "
                f"got {value!r}"
            )
        return cls(mobile_vnd=_amount(parts["mobile"], "budget mobile"),
                   fibre_vnd=_amount(parts["fibre"], "budget fibre"))

    @property
    def shared(self) -> bool:
        """True for one budget shared by mobile and fibre."""
        return self.total_vnd is not None

    @property
    def total(self) -> float:
        """The whole amount available."""
        if self.shared:
            return float(self.total_vnd)  # type: ignore[arg-type]
        return float(self.mobile_vnd) + float(self.fibre_vnd)  # type: ignore[arg-type]

    def scaled(self, factor: float) -> Budget:
        """This budget times ``factor`` (each part)."""
        if self.shared:
            return Budget(total_vnd=self.total * factor)
        return Budget(mobile_vnd=self.mobile_vnd * factor,  # type: ignore[operator]
                      fibre_vnd=self.fibre_vnd * factor)  # type: ignore[operator]


def _amount(value: object, what: str) -> float:
    try:
        amount = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError) as err:
        raise InputError(f"{what}: {value!r} is not a number of VND; e.g. 30e9") from err
    if not math.isfinite(amount) or amount < 0:
        raise InputError(f"{what}: {value!r} must be a finite amount of VND >= 0; e.g. 30e9")
    return amount
