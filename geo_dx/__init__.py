"""geo_dx: find villages without fibre or mobile broadband, rank them, and map them.

The public API for notebooks and scripts::

    import geo_dx
    demo = geo_dx.load_demo()
    gaps = geo_dx.find_gaps(demo.villages, demo.coverage, communes=demo.communes)
    travel = geo_dx.travel_time_h(gaps, dem=demo.dem_path, towns=demo.towns,
                                  communes=demo.communes)
    scored = geo_dx.score(gaps, travel=travel, communes=demo.communes)
    ids, clusters = geo_dx.rollout_clusters(scored, radius_m=3000)
    table = geo_dx.summarise_communes(scored, demo.communes)
    result = geo_dx.plan(scored, budget_vnd=30e9, coverage=demo.coverage)
"""

from __future__ import annotations

from geo_dx._version import __version__
from geo_dx.communes import assign_communes, summarise_communes
from geo_dx.config import Config, config_from_dict, load_config, with_weights
from geo_dx.dem import read_dem
from geo_dx.demo import load_demo
from geo_dx.errors import GeoDxError, GeoDxWarning, InputError
from geo_dx.evidence import raster_evidence, read_speed_tiles, tile_evidence
from geo_dx.gaps import find_gaps
from geo_dx.io import read_communes, read_coverage, read_layer, read_villages
from geo_dx.maps.write import build_map, write_maps
from geo_dx.plan.model import PlanResult, plan
from geo_dx.remoteness import remoteness_summary, travel_time_h
from geo_dx.rollout import rollout_clusters
from geo_dx.run.pipeline import RunInputs, RunResult, analyse, write
from geo_dx.run.report import build_summary, format_summary, priority_table, write_priority_csv
from geo_dx.run.workbook import write_workbook
from geo_dx.run.writer import rebuild_maps
from geo_dx.scoring import score, score_summary
from geo_dx.spatial import check_extent

__all__ = [
    "Config",
    "GeoDxError",
    "GeoDxWarning",
    "InputError",
    "PlanResult",
    "RunInputs",
    "RunResult",
    "__version__",
    "analyse",
    "assign_communes",
    "build_map",
    "build_summary",
    "check_extent",
    "config_from_dict",
    "find_gaps",
    "format_summary",
    "load_config",
    "load_demo",
    "plan",
    "priority_table",
    "raster_evidence",
    "read_communes",
    "read_coverage",
    "read_dem",
    "read_layer",
    "read_speed_tiles",
    "read_villages",
    "rebuild_maps",
    "remoteness_summary",
    "rollout_clusters",
    "score",
    "score_summary",
    "summarise_communes",
    "tile_evidence",
    "travel_time_h",
    "with_weights",
    "write",
    "write_maps",
    "write_priority_csv",
    "write_workbook",
]
