"""geo_dx: find villages without fibre or mobile broadband, rank them, and map them.

The public API for notebooks and scripts::

    import geo_dx
    demo = geo_dx.load_demo()
    gaps = geo_dx.find_gaps(demo.villages, demo.coverage, communes=demo.communes)
"""

from __future__ import annotations

from typing import Any

from geo_dx.config import Config, load_config
from geo_dx.errors import GeoDxError, GeoDxWarning, InputError
from geo_dx.gaps import find_gaps
from geo_dx.io import read_communes, read_coverage, read_villages

__version__ = "0.1.0"

__all__ = [
    "Config",
    "GeoDxError",
    "GeoDxWarning",
    "InputError",
    "find_gaps",
    "load_config",
    "load_demo",
    "read_communes",
    "read_coverage",
    "read_villages",
    "score",
]


def load_demo() -> Any:
    """Load the synthetic demo province (see :func:`geo_dx.demo.load_demo`)."""
    from geo_dx.demo import load_demo as _load_demo

    return _load_demo()


def score(gaps: Any, **kwargs: Any) -> Any:
    """Score and rank gap villages (see :func:`geo_dx.scoring.score`)."""
    from geo_dx.scoring import score as _score

    return _score(gaps, **kwargs)
