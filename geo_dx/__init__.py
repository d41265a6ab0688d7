"""geo_dx: find villages without fibre or mobile broadband, rank them, and map them.

The public API for notebooks and scripts::

    import geo_dx
    demo = geo_dx.load_demo()
    gaps = geo_dx.find_gaps(demo.villages, demo.coverage, communes=demo.communes)
    scored = geo_dx.score(gaps, communes=demo.communes)
    table = geo_dx.summarise_communes(scored, demo.communes)
"""

from __future__ import annotations

from geo_dx._version import __version__
from geo_dx.communes import assign_communes, summarise_communes
from geo_dx.config import Config, load_config
from geo_dx.dem import read_dem
from geo_dx.demo import load_demo
from geo_dx.errors import GeoDxError, GeoDxWarning, InputError
from geo_dx.gaps import find_gaps
from geo_dx.io import read_communes, read_coverage, read_layer, read_villages
from geo_dx.maps import build_map, rebuild_maps, write_maps
from geo_dx.pipeline import RunInputs, RunResult, analyse, write
from geo_dx.remoteness import travel_time_h
from geo_dx.report import build_summary, format_summary, priority_table, write_priority_csv
from geo_dx.rollout import rollout_clusters
from geo_dx.scoring import score

__all__ = [
    "Config",
    "GeoDxError",
    "GeoDxWarning",
    "InputError",
    "RunInputs",
    "RunResult",
    "__version__",
    "analyse",
    "assign_communes",
    "build_map",
    "build_summary",
    "find_gaps",
    "format_summary",
    "load_config",
    "load_demo",
    "priority_table",
    "read_communes",
    "read_coverage",
    "read_dem",
    "read_layer",
    "read_villages",
    "rebuild_maps",
    "rollout_clusters",
    "score",
    "summarise_communes",
    "travel_time_h",
    "write",
    "write_maps",
    "write_priority_csv",
]
