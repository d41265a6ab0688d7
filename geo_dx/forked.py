"""Work spread over the cores by forked processes that inherit the data they read.

:func:`fork_map` runs ``func(shared, job)`` for every job, in a pool of forked processes
(one per core) when there are enough jobs, else in turn in this process. The children
inherit ``shared`` (a national run's layers: hundreds of MB) instead of receiving a pickled
copy; only the jobs and the results cross between processes.
"""

from __future__ import annotations

import multiprocessing
import os
import threading
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

__all__ = ["fork_map", "usable_cores"]

J = TypeVar("J")
R = TypeVar("R")

_STATE: tuple[Callable[[Any, Any], Any], Any] | None = None


def usable_cores() -> int:
    """
    Cores this process may run on.

    Examples
    --------
    >>> usable_cores() >= 1
    True
    """
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else 1


def fork_map(func: Callable[[Any, J], R], shared: Any, jobs: Sequence[J], *,
             min_jobs: int = 48) -> list[R]:
    """
    ``[func(shared, job) for job in jobs]``, over forked processes from ``min_jobs`` jobs on.

    In turn when there are fewer jobs, one usable core, no ``fork`` start method (Windows,
    macOS default) or another thread running (forking a threaded process can deadlock).
    Results come back in the order of ``jobs``; an exception in a child is raised here.

    Examples
    --------
    >>> fork_map(lambda shared, job: shared + job, 10, [1, 2, 3], min_jobs=2)
    [11, 12, 13]
    """
    global _STATE
    workers = min(usable_cores(), max(1, len(jobs) // max(1, min_jobs // 2)))
    can_fork = ("fork" in multiprocessing.get_all_start_methods()
                and threading.active_count() == 1)
    if workers < 2 or len(jobs) < min_jobs or not can_fork:
        return [func(shared, job) for job in jobs]
    chunks = [list(jobs[k::workers]) for k in range(workers)]
    _STATE = (func, shared)
    try:
        with multiprocessing.get_context("fork").Pool(workers) as pool:
            done = pool.map(_run_chunk, chunks)
    finally:
        _STATE = None
    out: list[Any] = [None] * len(jobs)
    for k, part in enumerate(done):
        out[k::workers] = part
    return out


def _run_chunk(chunk: list[Any]) -> list[Any]:
    assert _STATE is not None, "set by fork_map before the pool forks"
    func, shared = _STATE
    return [func(shared, job) for job in chunk]
