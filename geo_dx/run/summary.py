"""``summary.json`` of a run: :class:`RunSummary`, read and written in this one place.

Its sections: who wrote the run (``generator``, ``run_id``), what it was (``title``,
``language``, ``crs``, ``inputs``), the gap ``analysis``
(:func:`geo_dx.run.report.build_summary`) and the ``plan``'s own summary (produced by
:mod:`geo_dx.plan`). On disk it is one flat JSON object; read as a mapping,
:class:`RunSummary` is that object. Where it is written: :func:`geo_dx.run.folder.write_summary`.
"""

from __future__ import annotations

import re
import warnings
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np

from geo_dx._version import __version__
from geo_dx.errors import GeoDxWarning, InputError
from geo_dx.i18n import DEFAULT_LANGUAGE, LANGUAGES

#: The summary file that marks a folder as a geo_dx run and lists its outputs.
SUMMARY = "summary.json"
#: The fix every message about a broken or foreign run folder gives.
RERUN = "re-run `geo-dx run`"
#: Keys of summary.json that are not the gap analysis section.
_OWN_KEYS = ("title", "language", "generator", "run_id", "crs", "synthetic", "inputs", "plan",
             "outputs")
_GENERATOR = re.compile(r"geo_dx \d+(\.\d+)*\S*")
_RUN_ID = re.compile(r"[0-9a-f]{32}")

@dataclass(frozen=True)
class RunSummary(Mapping[str, Any]):
    """
    ``summary.json`` of a run, by section; read as a mapping it is the JSON document.

    Examples
    --------
    >>> s = RunSummary(title="Demo", analysis={"totals": {"villages": 3}})
    >>> s["totals"]["villages"], s["language"], s.generator.startswith("geo_dx ")
    (3, 'vi', True)
    >>> RunSummary.from_dict(s.to_dict()) == s
    True
    """

    title: str
    #: The gap analysis (:func:`geo_dx.run.report.build_summary`): totals, communes, ...
    analysis: Mapping[str, Any] = field(default_factory=dict)
    language: str = DEFAULT_LANGUAGE
    #: The run's input files (``communes``, ``villages``, ``coverage``, ``dem``, ...).
    inputs: Mapping[str, Any] = field(default_factory=dict)
    crs: str | None = None
    synthetic: bool = False
    #: The investment plan's own summary (:attr:`geo_dx.plan.model.PlanResult.summary`).
    plan: Mapping[str, Any] | None = None
    generator: str = f"geo_dx {__version__}"
    #: A new random id each time the folder is written (absent in runs of older versions).
    run_id: str | None = None
    outputs: tuple[str, ...] = ()

    @classmethod
    def from_dict(cls, data: Any, *, source: str = SUMMARY,
                  fallback_title: str | None = None) -> RunSummary:
        """The summary of a JSON document; a document geo_dx did not write is refused."""
        if not written_by_geo_dx(data):
            kind = type(data).__name__ if not isinstance(data, dict) else "object"
            raise InputError(f"{source}: not a geo_dx run summary (a JSON {kind} without "
                             f"'generator': 'geo_dx ...'); {RERUN}")
        title = data.get("title")
        if not isinstance(title, str) or not title.strip():
            if fallback_title is None:
                raise InputError(f"{source}: no 'title'; {RERUN}")
            warnings.warn(f"{source}: no 'title'; using the folder name {fallback_title!r}",
                          GeoDxWarning, stacklevel=2)
            title = fallback_title
        for key, kind in (("inputs", dict), ("plan", dict), ("outputs", list)):
            if data.get(key) is not None and not isinstance(data[key], kind):
                raise InputError(f"{source}: '{key}' is a JSON {type(data[key]).__name__}, "
                                 f"not an {'object' if kind is dict else 'array'}; {RERUN}")
        language = data.get("language")
        return cls(
            title=title,
            analysis={k: v for k, v in data.items() if k not in _OWN_KEYS},
            language=language if language in LANGUAGES else DEFAULT_LANGUAGE,
            inputs=dict(data.get("inputs") or {}),
            crs=str(data["crs"]) if data.get("crs") else None,
            synthetic=bool(data.get("synthetic", False)),
            plan=data.get("plan"),
            generator=str(data["generator"]),
            run_id=data.get("run_id") if isinstance(data.get("run_id"), str) else None,
            outputs=tuple(str(p) for p in data.get("outputs") or ()),
        )

    def to_dict(self) -> dict[str, Any]:
        """The JSON document (``summary.json``): one flat object."""
        document = {"title": self.title, **self.analysis, "synthetic": self.synthetic,
                    "language": self.language, "generator": self.generator,
                    "run_id": self.run_id, "crs": self.crs, "inputs": dict(self.inputs)}
        if self.plan is not None:
            document["plan"] = dict(self.plan)
        if self.outputs:
            document["outputs"] = list(self.outputs)
        return {k: v for k, v in document.items() if v is not None or k not in _OWN_KEYS}

    def with_plan(self, plan: Mapping[str, Any], *, candidates: str | Path | None) -> RunSummary:
        """This summary with the plan's section (and the candidates file it used)."""
        return replace(self, plan=dict(plan),
                       inputs={**self.inputs, "candidates": str(candidates) if candidates
                               else None})

    def __getitem__(self, key: str) -> Any:
        return self.to_dict()[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self.to_dict())

    def __len__(self) -> int:
        return len(self.to_dict())


def written_by_geo_dx(data: Any) -> bool:
    """
    Whether a parsed ``summary.json`` says geo_dx wrote it (generator, version, run id).

    Examples
    --------
    >>> written_by_geo_dx({"generator": "geo_dx 0.1.0", "run_id": 32 * "a"})
    True
    >>> written_by_geo_dx({"tool": "my-pipeline", "outputs": ["summary.json"]})
    False
    """
    if not isinstance(data, dict) or not _GENERATOR.fullmatch(str(data.get("generator", ""))):
        return False
    run_id = data.get("run_id")  # runs of older versions have none
    return run_id is None or (isinstance(run_id, str) and bool(_RUN_ID.fullmatch(run_id)))


def json_value(value: Any) -> Any:
    """
    JSON-friendly scalars (numpy numbers, NaN as null).

    Examples
    --------
    >>> json_value(np.int64(3)), json_value(float("nan"))
    (3, None)
    """
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and np.isnan(value):
        return None
    return value


