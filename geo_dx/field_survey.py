"""Field survey answers: the form's questions, and ODK Central / KoboToolbox exports read back.

The field form (written by :mod:`geo_dx.run.survey`) asks, per village visit: the
village (a choice list of the commune's villages), a GPS point at the village centre,
grid power and households, a photo and notes, and a repeat group ``test`` with one
speed test per SIM: operator, the network the phone shows, signal (dBm) and the speed
test's download and upload (Mbps). :data:`FORM` names those fields once.

:func:`read_survey` reads the CSV export of the form as the servers write it:

- **ODK Central** (and Briefcase): ``SubmissionDate``, groups joined by ``-``
  (``place-gps-Latitude``), the GPS split in ``-Latitude/-Longitude/-Altitude/-Accuracy``,
  ``KEY``; each repeat group in a file beside it, ``FORM-test.csv``, linked by
  ``PARENT_KEY`` (a ``.zip`` of the export is read as is);
- **KoboToolbox**: ``_submission_time``, groups joined by ``/`` (``place/village``), the
  GPS in ``_gps_latitude`` ... ``_gps_precision``, ``_index``, ``;`` or ``,``; the repeat
  group in a sheet (``.xlsx`` export) or a file ``FORM-test.csv`` linked by
  ``_parent_index``.

Each speed test becomes a measurement (a coverage point of kind ``measurement``:
``technology``, ``operator``, ``rsrp_dbm``, ``download_kbps``, ``upload_kbps``,
``measured_at``), each visit's power and households a village attribute. A row that
cannot be read whole (no GPS, GPS accuracy worse than ``max_accuracy_m``, a village id
not in the run, an impossible value) is **rejected with its reason**, never dropped
silently and never half read: a visit with a bad GPS point loses its tests too.
"""

from __future__ import annotations

import logging
import math
import re
import tempfile
import warnings
import zipfile
from collections.abc import Collection
from dataclasses import dataclass
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd

from geo_dx.errors import GeoDxWarning, InputError
from geo_dx.i18n import DEFAULT_LANGUAGE, Translator, translator
from geo_dx.io import read_table
from geo_dx.names import COMMUNE_PREFIXES, name_keys, plain
from geo_dx.schema import COVERAGE, validate_coverage
from geo_dx.tables import sheet_names

logger = logging.getLogger(__name__)

__all__ = ["FORM", "NETWORKS", "OPERATORS", "SurveyImport", "is_survey_export",
           "read_commune_map", "read_survey", "read_survey_coverage"]

#: Field names of the survey form (XLSForm ``name`` column), in one place.
FORM = {
    "group": "place", "village": "village", "gps": "gps", "grid_power": "grid_power",
    "households": "households", "photo": "photo", "notes": "notes", "repeat": "test",
    "operator": "operator", "network": "network", "signal_dbm": "signal_dbm",
    "download_mbps": "download_mbps", "upload_mbps": "upload_mbps",
}
#: Operator choices (name → label).
OPERATORS: dict[str, str] = {"viettel": "Viettel", "vnpt": "VNPT (VinaPhone)",
                             "mobifone": "MobiFone", "vietnamobile": "Vietnamobile",
                             "other": "Other"}
#: Networks a phone shows (choice names), and the technology each measurement records.
NETWORKS: dict[str, str] = {"4g": "4g", "3g": "3g", "2g": "2g", "none": "none"}
#: GPS points less accurate than this (metres) are rejected.
MAX_ACCURACY_M = 50.0
#: Plausible ranges of the answers; outside them a row is rejected.
RANGES = {"signal_dbm": (-160.0, -20.0), "download_mbps": (0.0, 10_000.0),
          "upload_mbps": (0.0, 10_000.0), "households": (0.0, 100_000.0)}

_SUBMITTED = ("submissiondate", "submission_time")
_STARTED = ("start",)
_KEY = ("key", "uuid", "index")
_PARENT = ("parent_key", "parent_index")
_GPS_PARTS = {"latitude": "lat", "longitude": "lon", "altitude": "alt", "accuracy": "acc",
              "precision": "acc"}


@dataclass(frozen=True)
class SurveyImport:
    """What a survey export holds: measurements, village attributes, rejected rows."""

    #: One point per speed test (EPSG:4326), coverage columns plus ``village_id``.
    measurements: gpd.GeoDataFrame
    #: One row per visit: ``village_id``, ``grid_power``, ``households``, ``measured_at``.
    attributes: pd.DataFrame
    #: ``file``, ``row`` (1-based data row), ``submission``, ``village_id``, ``reason``.
    rejected: pd.DataFrame


def _field(column: str) -> str:
    """
    A column's field, without group prefixes: ``place-gps-Latitude`` → ``gps_latitude``,
    ``_place/gps_latitude`` → ``gps_latitude``, ``place/village`` → ``village``.
    """
    parts = [p.strip("_").lower() for p in re.split(r"[/\-.:]", column) if p.strip("_")]
    if not parts:
        return ""
    if len(parts) >= 2 and parts[-1] in _GPS_PARTS:
        return f"{parts[-2]}_{parts[-1]}"
    return parts[-1]


def _column(frame: pd.DataFrame, names: Collection[str]) -> str | None:
    for col in frame.columns:
        if _field(col) in names:
            return col
    return None


def is_survey_export(path: str | Path) -> bool:
    """
    Whether ``path`` is an ODK Central or KoboToolbox export of the field form.

    Examples
    --------
    >>> is_survey_export("data/coverage/mobile_sites.gpkg")
    False
    """
    path = Path(path)
    if path.suffix.lower() == ".zip":
        return True
    if path.suffix.lower() not in (".csv", ".xlsx") or not path.is_file():
        return False
    try:
        header = read_table(path).columns
    except InputError:
        return False
    fields = {_field(c) for c in header}
    return FORM["village"] in fields and f"{FORM['gps']}_latitude" in fields | {
        f"{FORM['gps']}_latitude" for c in header if _field(c) == FORM["gps"]}


def _tables(path: Path) -> tuple[pd.DataFrame, pd.DataFrame | None]:
    """The export's submissions and its ``test`` repeat rows (None if it has none)."""
    suffix = path.suffix.lower()
    repeat = FORM["repeat"]
    if suffix == ".zip":
        with zipfile.ZipFile(path) as archive, tempfile.TemporaryDirectory() as folder:
            names = [n for n in archive.namelist() if n.lower().endswith(".csv")]
            main = [n for n in names if not re.search(rf"-{repeat}(~\d+)?\.csv$", n)]
            if len(main) != 1:
                raise InputError(f"{path}: expected one submissions CSV in the zip, found "
                                 f"{len(main)} ({', '.join(main[:5])})")
            archive.extractall(folder, members=names)
            first = Path(folder) / main[0]
            submissions, tests = read_table(first), _sibling(first)
        return submissions, tests
    submissions = read_table(path)
    tests = _sibling(path)
    if tests is None and suffix == ".xlsx" and repeat in sheet_names(path):
        tests = read_table(path, sheet=repeat)
    return submissions, tests


def _sibling(path: Path) -> pd.DataFrame | None:
    beside = path.with_name(f"{path.stem}-{FORM['repeat']}{path.suffix}")
    return read_table(beside) if beside.is_file() else None


def _number(text: object) -> float | None:
    """A cell as a number (decimal comma accepted), None when blank, NaN when not a number."""
    cell = str(text).strip() if text is not None else ""
    if not cell:
        return None
    try:
        return float(cell.replace(",", "."))
    except ValueError:
        return math.nan


def read_survey(
    path: str | Path,
    *,
    village_ids: Collection[str] | None = None,
    max_accuracy_m: float = MAX_ACCURACY_M,
    language: str = DEFAULT_LANGUAGE,
) -> SurveyImport:
    """
    Read an ODK Central or KoboToolbox export of the field form (see the module docstring).

    Parameters
    ----------
    path
        The submissions CSV (its repeat file beside it), a Kobo ``.xlsx`` export or an
        ODK Central ``.zip``.
    village_ids
        The run's village ids: answers naming another id are rejected.
    max_accuracy_m
        GPS points less accurate than this are rejected.
    language
        Language of the reasons rows are rejected for.

    Examples
    --------
    >>> import tempfile
    >>> with tempfile.TemporaryDirectory() as folder:
    ...     main = Path(folder) / "f.csv"
    ...     _ = main.write_text("SubmissionDate,place-village,place-gps-Latitude,"
    ...         "place-gps-Longitude,place-gps-Accuracy,grid_power,households,KEY\\n"
    ...         "2025-03-01T08:00:00Z,V1,21.5,103.2,5,yes,40,uuid:a\\n"
    ...         "2025-03-01T09:00:00Z,V2,,,,no,12,uuid:b\\n")
    ...     _ = (Path(folder) / "f-test.csv").write_text(
    ...         "operator,network,signal_dbm,download_mbps,upload_mbps,PARENT_KEY,KEY\\n"
    ...         "viettel,4g,-112,1.5,0.4,uuid:a,uuid:a/test[1]\\n")
    ...     got = read_survey(main, village_ids={"V1", "V2"}, language="en")
    ...     in_vietnamese = read_survey(main, language="vi")
    >>> got.measurements[["village_id", "technology", "rsrp_dbm", "download_kbps"]].values.tolist()
    [['V1', '4g', -112.0, 1500.0]]
    >>> got.rejected["reason"].tolist()
    ['no GPS point']
    >>> in_vietnamese.rejected["reason"].tolist()
    ['không có điểm GPS']
    """
    path = Path(path)
    if not path.is_file():
        raise InputError(f"{path}: file not found; check the path")
    submissions, tests = _tables(path)
    village = _column(submissions, (FORM["village"],))
    if village is None:
        raise InputError(f"{path}: no '{FORM['village']}' column; is this the export of a "
                         "geo-dx survey form (geo-dx survey)?")
    tr = translator(language)
    visits, rejected = _visits(submissions, path, village, village_ids, max_accuracy_m, tr)
    measurements, more = _tests(tests, visits, path, tr)
    attributes = visits.loc[visits["ok"], ["submission", "village_id", "grid_power",
                                           "households", "measured_at"]]
    rejected = pd.DataFrame(rejected + more,
                            columns=["file", "row", "submission", "village_id", "reason"])
    if not rejected.empty:
        logger.info("%s: %d row(s) rejected", path, len(rejected))
    return SurveyImport(measurements=measurements, attributes=attributes.reset_index(drop=True),
                        rejected=rejected)


def _visits(submissions: pd.DataFrame, path: Path, village: str,
            village_ids: Collection[str] | None, max_accuracy_m: float, tr: Translator
            ) -> tuple[pd.DataFrame, list[tuple]]:
    """One row per submission: where, when, power, households, and whether it is usable."""
    gps = {part: _column(submissions, tuple(f"{FORM['gps']}_{name}" for name, p in
                                            _GPS_PARTS.items() if p == part))
           for part in ("lat", "lon", "acc")}
    whole = _column(submissions, (FORM["gps"],))
    key = _column(submissions, _KEY)
    when = _column(submissions, _STARTED) or _column(submissions, _SUBMITTED)
    power = _column(submissions, (FORM["grid_power"],))
    homes = _column(submissions, (FORM["households"],))
    known = set(map(str, village_ids)) if village_ids is not None else None
    _ = tr.gettext
    rows, rejected = [], []
    for i, r in enumerate(submissions.to_dict("records")):
        lat, lon, acc = (_number(r[gps[p]]) if gps[p] else None for p in ("lat", "lon", "acc"))
        if lat is None and whole and str(r[whole]).strip():  # "lat lon alt acc" in one cell
            parts = [_number(p) for p in str(r[whole]).split()] + [None] * 4
            lat, lon, acc = parts[0], parts[1], parts[3]
        vid = str(r[village]).strip()
        households = _number(r[homes]) if homes else None
        reason = None
        if lat is None or lon is None:
            reason = _("no GPS point")
        elif not (-90 <= lat <= 90 and -180 <= lon <= 180):  # NaN fails too
            reason = _("GPS point not on the Earth ({lat}, {lon})", lat=lat, lon=lon)
        elif acc is not None and not acc <= max_accuracy_m:
            reason = _("GPS accuracy {accuracy} m is worse than {limit} m",
                       accuracy=f"{acc:g}", limit=f"{max_accuracy_m:g}")
        elif not vid:
            reason = _("no village chosen")
        elif known is not None and vid not in known:
            reason = _("village id {village_id} is not in the run", village_id=repr(vid))
        elif households is not None and not (RANGES["households"][0] <= households
                                             <= RANGES["households"][1]
                                             and float(households).is_integer()):
            reason = _("households {value} is not a whole number of households",
                       value=repr(r[homes]))
        submission = str(r[key]).strip() if key else str(i + 1)
        if reason:
            rejected.append((path.name, i + 1, submission, vid or None, reason))
        rows.append({"submission": submission, "index": str(r.get("_index", i + 1)),
                     "village_id": vid or None, "lat": lat, "lon": lon, "ok": reason is None,
                     "measured_at": _timestamp(r[when]) if when else pd.NaT,
                     "grid_power": _yes_no(r[power]) if power else None,
                     "households": households})
    return pd.DataFrame(rows), rejected


def _yes_no(value: object) -> bool | None:
    text = plain(str(value).strip())
    if text in ("yes", "co", "1", "true"):
        return True
    if text in ("no", "khong", "0", "false"):
        return False
    return None


def _timestamp(value: object) -> pd.Timestamp:
    text = str(value).strip()
    if not text:
        return pd.NaT
    try:
        return pd.Timestamp(text)
    except ValueError:
        return pd.NaT


def _tests(tests: pd.DataFrame | None, visits: pd.DataFrame, path: Path, tr: Translator
           ) -> tuple[gpd.GeoDataFrame, list[tuple]]:
    """One measurement per speed test of a usable visit; the others rejected with a reason."""
    empty = gpd.GeoDataFrame({c: [] for c in _MEASUREMENT_COLUMNS}, geometry=[], crs=4326)
    if tests is None or tests.empty:
        return empty, []
    parent = _column(tests, _PARENT)
    if parent is None:
        raise InputError(f"{path}: the '{FORM['repeat']}' rows have no PARENT_KEY or "
                         "_parent_index column linking them to their submission")
    link = "index" if _field(parent) == "parent_index" else "submission"
    by_parent = {v[link]: v for v in visits.to_dict("records")}
    columns = {name: _column(tests, (FORM[name],)) for name in
               ("operator", "network", "signal_dbm", "download_mbps", "upload_mbps")}
    rows, rejected = [], []
    _ = tr.gettext
    for i, r in enumerate(tests.to_dict("records")):
        owner = str(r[parent]).strip()
        where = f"{FORM['repeat']} {i + 1}"
        if owner not in by_parent:
            rejected.append((path.name, where, owner, None,
                             _("its submission is not in the export")))
            continue
        visit = by_parent[owner]
        if not visit["ok"]:
            rejected.append((path.name, where, visit["submission"], visit["village_id"],
                             _("its visit was rejected")))
            continue
        values = {name: _number(r[col]) if col else None for name, col in columns.items()
                  if name not in ("operator", "network")}
        bad = [_("{field} {value} is outside {low}..{high}", field=name,
                 value=repr(r[columns[name]]), low=f"{RANGES[name][0]:g}",
                 high=f"{RANGES[name][1]:g}")
               for name, v in values.items() if v is not None
               and not RANGES[name][0] <= v <= RANGES[name][1]]
        network = plain(str(r[columns["network"]]).strip()) if columns["network"] else ""
        if network not in NETWORKS:
            bad.append(_("network {value} is none of {allowed}", value=repr(network),
                         allowed=", ".join(NETWORKS)))
        if bad:
            rejected.append((path.name, where, visit["submission"], visit["village_id"],
                             "; ".join(bad)))
            continue
        rows.append(_measurement(values, network, r, columns, visit))
    if not rows:
        return empty, rejected
    frame = pd.DataFrame(rows)
    points = gpd.points_from_xy(frame.pop("lon"), frame.pop("lat"))
    return gpd.GeoDataFrame(frame, geometry=points, crs=4326), rejected


_MEASUREMENT_COLUMNS = ("village_id", "submission", "technology", "kind", "source", "operator",
                        "network_shown", "rsrp_dbm", "download_kbps", "upload_kbps",
                        "measured_at")


def _measurement(values: dict, network: str, row: dict, columns: dict, visit: dict) -> dict:
    """A speed test as a coverage point: a phone showing 2G or nothing has no broadband."""
    no_broadband = network in ("2g", "none")
    down, up = values["download_mbps"], values["upload_mbps"]
    operator = str(row[columns["operator"]]).strip() if columns["operator"] else ""
    return {
        "village_id": visit["village_id"], "submission": visit["submission"],
        "technology": "4g" if no_broadband else NETWORKS[network],
        "kind": "measurement", "source": "measured",
        "operator": OPERATORS.get(plain(operator), operator) or None,
        "network_shown": network,
        "rsrp_dbm": np.nan if no_broadband or values["signal_dbm"] is None
        else values["signal_dbm"],
        "download_kbps": 0.0 if no_broadband and down is None
        else (down * 1000 if down is not None else np.nan),
        "upload_kbps": 0.0 if no_broadband and up is None
        else (up * 1000 if up is not None else np.nan),
        "measured_at": visit["measured_at"].isoformat() if pd.notna(visit["measured_at"])
        else None,
        "lat": visit["lat"], "lon": visit["lon"],
    }


def read_survey_coverage(path: str | Path, *, max_accuracy_m: float = MAX_ACCURACY_M
                         ) -> gpd.GeoDataFrame:
    """
    A survey export as a validated coverage layer for a run (``--coverage EXPORT.csv``).

    Rejected rows are named, with their reasons, in one warning (counted in the run's
    summary).
    """
    survey = read_survey(path, max_accuracy_m=max_accuracy_m, language="en")
    if not survey.rejected.empty:
        listed = "; ".join(f"{r.row}: {r.reason}" for r in survey.rejected.head(10).itertuples())
        more = len(survey.rejected) - 10
        warnings.warn(f"{path}: {len(survey.rejected)} survey row(s) not read ({listed}"
                      f"{f'; and {more} more' if more > 0 else ''}); geo-dx import-survey "
                      "lists them all", GeoDxWarning, stacklevel=2)
    if survey.measurements.empty:
        raise InputError(f"{path}: the survey export holds no usable speed test")
    keep = [c for c in survey.measurements.columns if c in COVERAGE.known or c == "geometry"]
    layer = validate_coverage(survey.measurements[keep], source=str(path))
    layer["file"] = Path(path).name
    return layer


def read_commune_map(path: str | Path, communes: pd.DataFrame) -> dict[str, tuple[str, ...]]:
    """
    The 2025 merger table: old commune name → the run's commune ids it became.

    A table (``.csv``, ``.xlsx``) with a column of old names (``old_commune``, ``xa_cu``,
    ``ten_xa_cu``) and one naming the new commune by id or name (``new_commune_id``,
    ``new_commune``, ``xa_moi``, ``ma_xa_moi``); an old commune split between new ones
    takes one row per new commune.

    Examples
    --------
    >>> import tempfile
    >>> communes = pd.DataFrame({"commune_id": ["SYN04"], "commune_name": ["Xã Sín Lịch"]})
    >>> with tempfile.TemporaryDirectory() as folder:
    ...     path = Path(folder) / "map.csv"
    ...     _ = path.write_text("xa_cu,xa_moi\\nXã Nậm Chà,Xã Sín Lịch\\n", encoding="utf-8")
    ...     read_commune_map(path, communes)
    {'Xã Nậm Chà': ('SYN04',)}
    """
    table = read_table(path)
    old = next((c for c in table.columns if plain(c).replace(" ", "_") in
                ("old_commune", "old_commune_name", "xa_cu", "ten_xa_cu")), None)
    new = next((c for c in table.columns if plain(c).replace(" ", "_") in
                ("new_commune_id", "new_commune", "new_commune_name", "xa_moi", "ma_xa_moi",
                 "ten_xa_moi")), None)
    if old is None or new is None:
        raise InputError(f"{path}: needs a column of old commune names (old_commune or xa_cu) "
                         "and one of new communes (new_commune_id, new_commune or xa_moi); "
                         f"its columns: {', '.join(table.columns)}")
    by_id = set(communes["commune_id"].astype(str))
    by_name: dict[str, set[str]] = {}
    for cid, name in zip(communes["commune_id"].astype(str), communes["commune_name"],
                         strict=True):
        for k in name_keys(name, prefixes=COMMUNE_PREFIXES):
            by_name.setdefault(plain(k), set()).add(cid)
    mapping: dict[str, set[str]] = {}
    for i, (o, n) in enumerate(zip(table[old], table[new], strict=True)):
        if not str(o).strip():
            continue
        ids = {n} if n in by_id else set().union(*(
            by_name.get(plain(k), set()) for k in name_keys(n, prefixes=COMMUNE_PREFIXES)))
        if len(ids) != 1:
            raise InputError(f"{path}: row {i + 1}: new commune {n!r} is "
                             f"{'not in the run' if not ids else 'several communes'}; give its "
                             "commune_id")
        mapping.setdefault(str(o).strip(), set()).update(ids)
    return {k: tuple(sorted(v)) for k, v in mapping.items()}

