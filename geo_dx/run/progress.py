"""Stages of a run: elapsed time and peak memory of each, and an optional progress bar.

Library code marks its long steps with :func:`stage`; by itself that only logs the
stage's time at DEBUG level and records it where a caller asked (:func:`recording`,
used by ``benchmarks/bench_country.py``). Only the CLI turns on a progress bar
(:func:`progress_bar`), and only when standard error is a terminal: logs, tests and
pipes stay quiet.
"""

from __future__ import annotations

import logging
import resource
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any, TextIO

logger = logging.getLogger(__name__)


@dataclass
class StageRecord:
    """One finished stage: wall seconds and the process's peak resident memory after it."""

    name: str
    seconds: float
    peak_mb: float


@dataclass
class StageLog:
    """Stages recorded by :func:`recording`, in the order they finished."""

    records: list[StageRecord] = field(default_factory=list)

    def seconds(self) -> dict[str, float]:
        """Total seconds per stage name (a stage run twice adds up)."""
        out: dict[str, float] = {}
        for r in self.records:
            out[r.name] = out.get(r.name, 0.0) + r.seconds
        return out

    def peak_mb(self) -> dict[str, float]:
        """Highest peak resident memory (MB) seen at the end of each stage name."""
        out: dict[str, float] = {}
        for r in self.records:
            out[r.name] = max(out.get(r.name, 0.0), r.peak_mb)
        return out


_log: ContextVar[StageLog | None] = ContextVar("geo_dx_stage_log", default=None)
_bar: ContextVar[Any] = ContextVar("geo_dx_progress_bar", default=None)


def peak_rss_mb() -> float:
    """Peak resident memory of this process so far, in MB (Linux and macOS)."""
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / (1 << 20) if sys.platform == "darwin" else peak / 1024


@contextmanager
def stage(name: str) -> Iterator[None]:
    """
    Mark a long step: time it, record it, and show it on the progress bar when one is on.

    Examples
    --------
    >>> with recording() as log:
    ...     with stage("gaps"):
    ...         pass
    >>> [r.name for r in log.records]
    ['gaps']
    """
    bar = _bar.get()
    if bar is not None:
        bar.set_description_str(name)
    start = time.perf_counter()
    try:
        yield
    finally:
        seconds = time.perf_counter() - start
        record = StageRecord(name, seconds, peak_rss_mb())
        log = _log.get()
        if log is not None:
            log.records.append(record)
        if bar is not None:
            bar.update(1)
        logger.debug("stage %s: %.2f s, peak %.0f MB", name, seconds, record.peak_mb)


@contextmanager
def recording() -> Iterator[StageLog]:
    """Collect every :func:`stage` finished inside the block."""
    log = StageLog()
    token = _log.set(log)
    try:
        yield log
    finally:
        _log.reset(token)


@contextmanager
def progress_bar(
    total: int, *, stream: TextIO | None = None, enabled: bool | None = None,
    factory: Callable[..., Any] | None = None,
) -> Iterator[Any]:
    """
    A bar over the run's stages with elapsed time, shown only on a terminal.

    Parameters
    ----------
    total
        Number of stages expected (the bar tolerates more or fewer).
    stream
        Where the bar draws; default standard error.
    enabled
        Force on or off; default: on only when ``stream`` is a terminal.
    factory
        The bar class (default ``tqdm.tqdm``); tests pass their own.

    Yields
    ------
    The bar, or None when it is off (then nothing is drawn).
    """
    stream = stream if stream is not None else sys.stderr
    on = enabled if enabled is not None else bool(getattr(stream, "isatty", lambda: False)())
    if not on:
        yield None
        return
    if factory is None:
        factory = _quiet_tqdm()
    bar = factory(total=total, file=stream, unit="stage", leave=False,
                  bar_format="{desc:<22} {bar} {n_fmt}/{total_fmt} [{elapsed}]")
    token = _bar.set(bar)
    try:
        yield bar
    finally:
        _bar.reset(token)
        bar.close()


def _quiet_tqdm() -> type:
    """tqdm without its monitor thread: forking with a thread running can deadlock, so
    :func:`geo_dx.forked.fork_map` would write the maps in one process on a terminal."""
    from tqdm import tqdm

    class Bar(tqdm):  # type: ignore[misc]
        monitor_interval = 0

    return Bar
