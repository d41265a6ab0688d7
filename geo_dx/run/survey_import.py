"""``geo-dx import-survey``: field survey exports read back into files the next run takes.

Writes ``survey_measurements.csv`` (one speed test a row, lon/lat, coverage columns: give
it to ``geo-dx run --coverage``), ``survey_villages.csv`` (grid power and households per
visited village) and ``survey_rejected.csv`` (every row not read, with its reason).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import geopandas as gpd
import pandas as pd

from geo_dx.field_survey import MAX_ACCURACY_M, SurveyImport, read_survey
from geo_dx.run.readback import LoadedRun, write_together
from geo_dx.run.report import write_csv

__all__ = ["import_survey"]


def import_survey(
    run: LoadedRun, exports: Sequence[str | Path], *, out_dir: str | Path | None = None,
    max_accuracy_m: float = MAX_ACCURACY_M,
) -> tuple[SurveyImport, list[Path]]:
    """Read every export (village ids checked against the run) and write the three files."""
    ids = set(run.villages["village_id"])
    parts = [read_survey(p, village_ids=ids, max_accuracy_m=max_accuracy_m,
                         language=run.language) for p in exports]
    measurements = gpd.GeoDataFrame(pd.concat([p.measurements for p in parts],
                                              ignore_index=True), geometry="geometry", crs=4326)
    merged = SurveyImport(
        measurements=measurements,
        attributes=pd.concat([p.attributes for p in parts], ignore_index=True),
        rejected=pd.concat([p.rejected for p in parts], ignore_index=True))
    table = pd.DataFrame(measurements.drop(columns="geometry"))
    table.insert(0, "lon", measurements.geometry.x.round(7))
    table.insert(1, "lat", measurements.geometry.y.round(7))
    out = Path(out_dir) if out_dir else run.folder
    files: dict[Path, Any] = {
        out / "survey_measurements.csv": lambda p: write_csv(p, table),
        out / "survey_villages.csv": lambda p: write_csv(p, merged.attributes),
        out / "survey_rejected.csv": lambda p: write_csv(p, merged.rejected),
    }
    return merged, write_together(files)
