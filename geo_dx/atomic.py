"""Writing outputs so that a user's file is never lost and a run switches atomically.

Two levels:

- :func:`atomic_path` / :func:`write_text_atomic`: one file, written beside its target
  and moved onto it with one ``os.replace``.
- :func:`check_out_dir` and :func:`staged_run`: a whole run folder. The run is written
  into a new sibling folder of ``--out`` (same filesystem), then swapped in: the
  previous run is renamed aside, the new folder renamed onto ``--out``, and only then
  the previous run removed. A failure before the swap leaves ``--out`` as it was; a
  failure during it puts the previous run back. A run kills at any moment leaves
  either the previous run or the new one under ``--out`` plus hidden sibling folders
  that the next run cleans up (or restores, when ``--out`` itself is missing).

``summary.json`` of every run lists the files it wrote (``outputs``). A run replaces
only those: a non-empty folder that is not a previous geo_dx run is refused, files a
user added to a run folder are carried over into the new run, and an input file
inside ``--out`` is refused.
"""

from __future__ import annotations

import contextlib
import errno
import json
import logging
import os
import re
import shutil
import tempfile
import time
from collections.abc import Iterable, Iterator
from pathlib import Path

from geo_dx.errors import InputError, OutputError

logger = logging.getLogger(__name__)

#: Files a geo_dx run wrote before runs listed them in summary.json (``outputs``).
LEGACY_OUTPUTS: tuple[str, ...] = (
    "villages.gpkg",
    "priority.csv",
    "summary.json",
    "map.html",
    "index.html",
    "coverage_mobile.tif",
)
#: The summary file that marks a folder as a geo_dx run and lists its outputs.
SUMMARY = "summary.json"
_STAGING = "geo_dx-staging"
_PREVIOUS = "geo_dx-previous"
_OLD_STAGING_AGE_S = 3600.0


@contextlib.contextmanager
def atomic_path(path: str | Path) -> Iterator[Path]:
    """
    Yield a temporary path beside ``path``; move it onto ``path`` only if the block succeeds.

    Examples
    --------
    >>> import tempfile
    >>> target = Path(tempfile.mkdtemp()) / "out.txt"
    >>> with atomic_path(target) as tmp:
    ...     _ = tmp.write_text("done")
    >>> target.read_text()
    'done'
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.close(fd)
    tmp = Path(tmp_name)
    tmp.unlink()
    try:
        yield tmp
        os.replace(tmp, path)
    finally:
        if tmp.exists():
            tmp.unlink()


def write_text_atomic(path: str | Path, text: str, *, encoding: str = "utf-8") -> Path:
    """Write ``text`` to ``path`` atomically (readers never see a half-written file)."""
    with atomic_path(path) as tmp:
        tmp.write_text(text, encoding=encoding)
    return Path(path)


def run_outputs(folder: str | Path) -> set[str] | None:
    """
    The files (relative POSIX paths) a previous geo_dx run wrote into ``folder``.

    ``None`` when ``folder`` holds no geo_dx run (no ``summary.json`` written by geo_dx).
    Runs older than the ``outputs`` list are recognised by their ``generator`` and
    their known file names.

    Examples
    --------
    >>> import tempfile
    >>> run_outputs(tempfile.mkdtemp()) is None
    True
    """
    folder = Path(folder)
    try:
        summary = json.loads((folder / SUMMARY).read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError):
        return None
    if not isinstance(summary, dict):
        return None
    outputs = summary.get("outputs")
    if isinstance(outputs, list) and all(isinstance(p, str) for p in outputs):
        return {p for p in outputs if _safe_relative(p)}
    if str(summary.get("generator", "")).startswith("geo_dx"):
        legacy = {p for p in LEGACY_OUTPUTS if (folder / p).is_file()}
        communes = folder / "communes"
        if communes.is_dir():
            legacy |= {f"communes/{p.name}" for p in communes.glob("*.html")}
        return legacy
    return None


def check_out_dir(out: str | Path, *, inputs: Iterable[str | Path] = ()) -> Path:
    """
    Check before the analysis that a run can be written to ``out``; return its resolved path.

    Refused (:class:`~geo_dx.errors.InputError`, one line naming ``--out`` and the fix):
    an existing file, a mount point (it cannot be swapped), a non-empty folder that is
    not a previous geo_dx run, a folder holding one of the ``inputs``, and a parent
    folder that cannot be written.

    Examples
    --------
    >>> import tempfile
    >>> out = Path(tempfile.mkdtemp()) / "run"
    >>> check_out_dir(out) == out.resolve()
    True
    """
    given = Path(out)
    out = given.expanduser().resolve()
    if out.exists() and not out.is_dir():
        raise InputError(
            f"--out {given}: is an existing file, not a folder; give a folder name "
            "(it is created if missing)"
        )
    for path in inputs:
        resolved = Path(path).expanduser().resolve()
        if resolved == out or out in resolved.parents:
            raise InputError(
                f"--out {given}: holds the input {path}; a run replaces its output folder, "
                "so give an --out folder that holds no input, e.g. --out maps/run"
            )
    if out.is_dir():
        if os.path.ismount(out):
            raise InputError(
                f"--out {given}: is a mount point, which cannot be replaced atomically; "
                f"give a folder inside it, e.g. --out {given / 'geo_dx_run'}"
            )
        if any(out.iterdir()) and run_outputs(out) is None:
            shown = ", ".join(sorted(p.name for p in out.iterdir())[:5])
            raise InputError(
                f"--out {given}: the folder is not empty ({shown}) and is not a previous "
                "geo_dx run; give a new or empty folder, e.g. --out maps/run"
            )
    parent = _existing_parent(out)
    if not parent.is_dir():
        raise InputError(f"--out {given}: {parent} is a file, not a folder; give another --out")
    if not os.access(parent, os.W_OK | os.X_OK):
        raise InputError(
            f"--out {given}: cannot write in {parent} (read-only or no permission); "
            "give a folder you can write to"
        )
    return out


@contextlib.contextmanager
def staged_run(out: str | Path, *, inputs: Iterable[str | Path] = ()) -> Iterator[Path]:
    """
    Yield an empty staging folder; when the block succeeds, make it ``out`` atomically.

    The staging folder is a hidden sibling of ``out`` (same filesystem). The block must
    write ``summary.json`` with an ``outputs`` list (see :func:`run_outputs`). After the
    block: files of the previous run that it did not write are carried over, the
    previous run is renamed aside, the staging folder renamed onto ``out``, and the
    previous run removed. On any error ``out`` is left as it was and the staging folder
    removed; OS errors (disk full, read-only, a file in use) become
    :class:`~geo_dx.errors.OutputError`.

    Examples
    --------
    >>> import tempfile
    >>> out = Path(tempfile.mkdtemp()) / "run"
    >>> with staged_run(out) as staging:
    ...     _ = (staging / "summary.json").write_text('{"outputs": ["summary.json"]}')
    >>> sorted(p.name for p in out.iterdir())
    ['summary.json']
    """
    given = Path(out)
    out = check_out_dir(given, inputs=inputs)
    out.parent.mkdir(parents=True, exist_ok=True)
    clean_stale(out)
    try:
        staging = Path(tempfile.mkdtemp(prefix=_prefix(out, _STAGING), dir=out.parent))
    except OSError as err:
        raise _output_error(given, err) from err
    try:
        try:
            yield staging
            with _lock(out):
                _swap(staging, out)
        except OSError as err:
            if isinstance(err, InputError | OutputError):
                raise
            raise _output_error(given, err) from err
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    logger.info("wrote %s", out)


def clean_stale(out: str | Path) -> list[Path]:
    """
    Remove staging folders of ``out`` left by killed runs; restore a lost previous run.

    Only hidden siblings named after ``out`` by geo_dx whose process is gone are touched.
    When ``out`` is missing and a previous run was set aside (a run killed during the
    swap), it is renamed back to ``out``. Returns the folders removed.
    """
    out = Path(out)
    removed = []
    if not out.parent.is_dir():
        return removed
    for kind in (_PREVIOUS, _STAGING):
        for path in sorted(out.parent.glob(f".{glob_escape(out.name)}.{kind}-*")):
            pid = _pid_of(path)
            if pid is None or _alive(pid) or not path.is_dir():
                continue
            if kind == _PREVIOUS and not out.exists():
                os.rename(path, out)
                logger.warning("restored the previous run %s from %s", out, path.name)
                continue
            shutil.rmtree(path, ignore_errors=True)
            removed.append(path)
    # folders of geo_dx versions that did not record their process
    for path in out.parent.glob(f".{glob_escape(out.name)}.staging-*"):
        if path.is_dir() and time.time() - path.stat().st_mtime > _OLD_STAGING_AGE_S:
            shutil.rmtree(path, ignore_errors=True)
            removed.append(path)
    return removed


def glob_escape(name: str) -> str:
    """Escape glob metacharacters in a file name."""
    return re.sub(r"([*?\[])", r"[\1]", name)


def _swap(staging: Path, out: Path) -> None:
    """Make ``staging`` the new ``out``, keeping the previous run until the rename succeeded."""
    if not out.exists():
        os.rename(staging, out)
        return
    previous_outputs = run_outputs(out)
    if previous_outputs is None:
        if any(out.iterdir()):
            raise InputError(
                f"--out {out}: the folder is no longer empty and is not a geo_dx run; "
                "give a new or empty folder"
            )
        previous_outputs = set()
    _carry_over(out, staging, previous_outputs)
    aside = Path(tempfile.mkdtemp(prefix=_prefix(out, _PREVIOUS), dir=out.parent))
    aside.rmdir()
    os.rename(out, aside)
    try:
        os.rename(staging, out)
    except OSError:
        os.rename(aside, out)
        raise
    shutil.rmtree(aside, ignore_errors=True)


def _carry_over(out: Path, staging: Path, previous_outputs: set[str]) -> None:
    """Copy files a user added to the previous run folder into the new one (never lose them)."""
    new_outputs = _written(staging)
    for path in sorted(out.rglob("*")):
        rel = path.relative_to(out).as_posix()
        if path.is_dir() and not path.is_symlink() or rel in previous_outputs:
            continue
        if rel in new_outputs:
            raise InputError(
                f"--out {out}: {rel} was not written by geo_dx but the new run writes it; "
                "move it out of the folder"
            )
        target = staging / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        if path.is_symlink():
            os.symlink(os.readlink(path), target)
        else:
            shutil.copy2(path, target)


def _written(staging: Path) -> set[str]:
    return {p.relative_to(staging).as_posix() for p in staging.rglob("*") if not p.is_dir()}


@contextlib.contextmanager
def _lock(out: Path) -> Iterator[None]:
    """Serialise the swap between concurrent runs writing beside ``out`` (POSIX only)."""
    try:
        import fcntl
    except ImportError:  # Windows: no advisory lock; the renames still fail safely
        yield
        return
    fd = os.open(out.parent, os.O_RDONLY)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)  # releases the lock


def _prefix(out: Path, kind: str) -> str:
    return f".{out.name}.{kind}-{os.getpid()}-"


def _pid_of(path: Path) -> int | None:
    match = re.search(r"\.geo_dx-(?:staging|previous)-(\d+)-", path.name)
    return int(match.group(1)) if match else None


def _alive(pid: int) -> bool:
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _existing_parent(path: Path) -> Path:
    parent = path.parent
    while not parent.exists() and parent != parent.parent:
        parent = parent.parent
    return parent


def _safe_relative(rel: str) -> bool:
    parts = Path(rel).parts
    return bool(parts) and not Path(rel).is_absolute() and ".." not in parts


def _output_error(out: Path, err: OSError) -> OutputError:
    reason = {
        errno.ENOSPC: "the disk is full; free some space or give another --out",
        errno.EROFS: "the file system is read-only; give another --out",
        errno.EACCES: "permission denied; give a folder you can write to",
        errno.EPERM: "permission denied; give a folder you can write to",
        errno.EBUSY: "a file in it is in use (open in another program?); close it and re-run",
        errno.EXDEV: "it is on another file system than its staging folder; give another --out",
    }.get(err.errno or -1, "close any program using it, or give another --out")
    where = f" ({err.filename})" if err.filename else ""
    return OutputError(
        f"--out {out}: could not write the run{where}: {err.strerror or err}; {reason}. "
        "The previous contents are unchanged"
    )
