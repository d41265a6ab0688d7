"""Coverage evidence: which villages a set of coverage points (or other evidence) reaches."""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

#: Evidence sources, strongest first: when several cover a village the first wins.
SOURCES: tuple[str, ...] = ("measured", "modelled", "declared")


@dataclass(frozen=True)
class Evidence:
    """
    Per-village coverage evidence that is not a coverage point (a raster, speed tiles).

    Attributes
    ----------
    technology_class
        ``"fibre"`` or ``"mobile"`` (mobile broadband).
    covered
        Boolean Series aligned to the villages' index: True where this evidence says covered.
    source
        ``"measured"``, ``"modelled"`` or ``"declared"``.
    label
        Short human name for summaries, e.g. ``"ookla mobile tiles"``.
    covered_share
        Optional Series (0-1) of each polygon village's covered area share.
    """

    technology_class: str
    covered: pd.Series
    source: str
    label: str
    covered_share: pd.Series | None = None
