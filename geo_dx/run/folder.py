"""A run folder: what it holds, its summary, writing it whole and reading it back.

The one owner of a finished run folder (``geo-dx run --out DIR``, rewritten by ``geo-dx
plan DIR`` and ``geo-dx map DIR``):

- :class:`RunSummary`: ``summary.json``, typed, read (:meth:`RunSummary.from_dict`) and
  written (:meth:`RunSummary.to_dict`) in one place. Its sections: who wrote the run
  (``generator``, ``run_id``), what it was (``title``, ``language``, ``crs``, ``inputs``),
  the gap ``analysis`` (:func:`geo_dx.run.report.build_summary`) and the ``plan``'s own
  summary (produced by :mod:`geo_dx.plan`).
- :data:`OUTPUT_PATTERNS`: every path geo_dx writes into a run folder.
- :func:`staged_run`: the whole folder written beside ``--out`` and swapped in with one
  rename. The previous run is renamed aside, the new folder renamed onto ``--out``, and
  only then the previous run removed. A failure before the swap leaves ``--out`` as it
  was; a failure during it puts the previous run back; a process killed between the two
  renames leaves the previous run aside, and the next ``geo-dx run``, ``plan`` or ``map``
  puts it back first (:func:`clean_stale`).
- :func:`read_run`: a finished run read back (files, summary, title, language, DEM path)
  with one error policy: anything missing or not written by geo_dx is an
  :class:`~geo_dx.errors.InputError` naming the file and saying "re-run ``geo-dx run``".

A folder is a previous geo_dx run only if its ``summary.json`` says geo_dx wrote it
(``generator`` ``geo_dx <version>``, a ``run_id`` in runs of this version) and every file
it lists (``outputs``) is a path geo_dx writes. A run replaces only those files: a
non-empty folder that is not a previous run is refused before the analysis, a user's
files and empty sub-folders are carried over into the new run, the folder keeps its
permissions, and an input file inside ``--out`` is refused.
"""

from __future__ import annotations

import contextlib
import errno
import fnmatch
import hashlib
import json
import logging
import os
import re
import shutil
import stat
import tempfile
import time
import uuid
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from geo_dx.errors import InputError, OutputError
from geo_dx.run.summary import RERUN as _RERUN
from geo_dx.run.summary import SUMMARY, RunSummary, json_value, written_by_geo_dx

if TYPE_CHECKING:
    import geopandas as gpd

    from geo_dx.dem import DemGrid

logger = logging.getLogger(__name__)

#: Every path geo_dx writes into a run folder (``*`` matches within one folder level).
OUTPUT_PATTERNS: tuple[str, ...] = (
    "summary.json", "villages.gpkg", "priority.csv", "priority.xlsx", "de_xuat_dau_tu.docx",
    "map.html",
    "index.html", "coverage_mobile.tif", "signal_mobile_dbm.tif", "plan.csv",
    "budget_curve.png", "assets/*.css", "assets/*.js", "communes/*.html", "areas/*.html",
)
#: Every folium page (and so every commune page geo_dx ever wrote) creates its map so.
_LEGACY_PAGE_MARK = b"L.map("
_STAGING = "geo_dx-staging"
_PREVIOUS = "geo_dx-previous"
#: Longest sibling name geo_dx makes beside ``--out``, without the name itself.
_SIBLING_EXTRA = len(f"..{_PREVIOUS}-4194304-") + 8
_OLD_STAGING_AGE_S = 3600.0


def is_output_path(rel: str) -> bool:
    """
    Whether ``rel`` (a relative POSIX path) is a path geo_dx writes into a run folder.

    Examples
    --------
    >>> is_output_path("communes/ban-phi-C01.html"), is_output_path("results.csv")
    (True, False)
    >>> is_output_path("communes/notes/a.html"), is_output_path("../map.html")
    (False, False)
    """
    parts = rel.split("/")
    if not rel or ".." in parts or rel.startswith("/"):
        return False
    return any(len(p := pattern.split("/")) == len(parts)
               and all(fnmatch.fnmatchcase(a, b) for a, b in zip(parts, p, strict=True))
               for pattern in OUTPUT_PATTERNS)


def read_summary_file(folder: str | Path) -> Any:
    """The parsed ``summary.json`` of ``folder``, or None when missing or not JSON."""
    try:
        return json.loads((Path(folder) / SUMMARY).read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError):
        return None


def run_outputs(folder: str | Path) -> set[str] | None:
    """
    The files (relative POSIX paths) a previous geo_dx run wrote into ``folder``.

    ``None`` when ``folder`` holds no geo_dx run: no ``summary.json`` written by geo_dx,
    or one listing a file geo_dx never writes. Runs older than the ``outputs`` list are
    recognised by their ``generator``: their files are those at paths geo_dx writes, and of
    the pages in sub-folders only maps (folium's) count as theirs.

    Examples
    --------
    >>> run_outputs(tempfile.mkdtemp()) is None
    True
    """
    folder = Path(folder)
    summary = read_summary_file(folder)
    if not written_by_geo_dx(summary):
        return None
    outputs = summary.get("outputs")
    if outputs is not None:
        if not isinstance(outputs, list) or not all(
                isinstance(p, str) and is_output_path(p) for p in outputs):
            return None
        return set(outputs)
    return _legacy_outputs(folder)


def _legacy_outputs(folder: Path) -> set[str]:
    """What a run of an older geo_dx (no ``outputs`` list) wrote: the files at paths geo_dx
    writes, of its sub-folders' pages only maps (folium's), never a note of the user's."""
    found = set()
    for path in folder.rglob("*"):
        rel = path.relative_to(folder).as_posix()
        if not is_output_path(rel) or path.is_symlink() or not path.is_file():
            continue
        if "/" in rel and rel.endswith(".html"):
            with contextlib.suppress(OSError):
                if _LEGACY_PAGE_MARK not in path.read_bytes():
                    continue
        found.add(rel)
    return found


def shown_outputs(outputs: Iterable[str]) -> list[str]:
    """
    The files of a run a console line names: those at the top of the folder, in the order
    of :data:`OUTPUT_PATTERNS` (maps first, the data files after them).

    Examples
    --------
    >>> shown_outputs(["summary.json", "communes/a.html", "villages.gpkg", "map.html"])
    ['map.html', 'villages.gpkg', 'summary.json']
    """
    top = {p for p in outputs if "/" not in p}
    first = ("map.html", "index.html", "priority.xlsx", "de_xuat_dau_tu.docx", "priority.csv",
             "plan.csv", "budget_curve.png", "villages.gpkg")
    order = [*first, *(p for p in OUTPUT_PATTERNS if p not in first)]
    return [p for p in order if p in top]


def run_stamp(folder: str | Path) -> str | None:
    """What identifies the run now in ``folder``: its run id, else a hash of its summary."""
    summary = read_summary_file(folder)
    if isinstance(summary, dict) and isinstance(summary.get("run_id"), str):
        return summary["run_id"]
    try:
        return hashlib.sha256((Path(folder) / SUMMARY).read_bytes()).hexdigest()
    except OSError:
        return None


def check_out_dir(out: str | Path, *, inputs: Iterable[str | Path] = ()) -> Path:
    """
    Check before the analysis that a run can be written to ``out``; return its resolved path.

    Refused (:class:`~geo_dx.errors.InputError`, one line naming ``--out`` and the fix):
    an existing file, a mount point (it cannot be swapped), a non-empty folder that is
    not a previous geo_dx run, a folder holding one of the ``inputs``, a name too long
    for the folders made beside it, and a parent folder that cannot be written.

    Examples
    --------
    >>> out = Path(tempfile.mkdtemp()) / "run"
    >>> check_out_dir(out) == out.resolve()
    True
    """
    given = Path(out)
    out = Path(os.path.realpath(given.expanduser()))
    if out.exists() and not out.is_dir():
        raise InputError(f"--out {given}: is an existing file, not a folder; give a folder "
                         "name (it is created if missing)")
    limit = _name_max(out.parent) - _SIBLING_EXTRA
    if len(os.fsencode(out.name)) > limit:
        raise InputError(f"--out {given}: the folder name is {len(os.fsencode(out.name))} bytes "
                         f"long; geo_dx writes the run beside it under a longer name, so give "
                         f"a name of at most {limit} bytes")
    for path in inputs:
        resolved = Path(os.path.realpath(Path(path).expanduser()))  # a symlink loop too
        if resolved == out or out in resolved.parents:
            raise InputError(f"--out {given}: holds the input {path}; a run replaces its output "
                             "folder, so give an --out folder that holds no input, e.g. "
                             "--out maps/run")
    if out.is_dir():
        if os.path.ismount(out):
            raise InputError(f"--out {given}: is a mount point, which cannot be replaced "
                             f"atomically; give a folder inside it, e.g. --out "
                             f"{given / 'geo_dx_run'}")
        if any(out.iterdir()) and run_outputs(out) is None:
            shown = ", ".join(sorted(p.name for p in out.iterdir())[:5])
            raise InputError(f"--out {given}: the folder is not empty ({shown}) and is not a "
                             "previous geo_dx run; give a new or empty folder, e.g. "
                             "--out maps/run")
    parent = _existing_parent(out)
    if not parent.is_dir():
        raise InputError(f"--out {given}: {parent} is a file, not a folder; give another --out")
    if not os.access(parent, os.W_OK | os.X_OK):
        raise InputError(f"--out {given}: cannot write in {parent} (read-only or no "
                         "permission); give a folder you can write to")
    return out


@contextlib.contextmanager
def staged_run(out: str | Path, *, inputs: Iterable[str | Path] = (),
               replaces: str | None = None, command: str = "geo-dx run") -> Iterator[Path]:
    """
    Yield an empty staging folder; when the block succeeds, make it ``out`` atomically.

    The staging folder is a hidden sibling of ``out`` (same filesystem). The block must
    write ``summary.json`` with an ``outputs`` list (see :func:`run_outputs`). After the
    block: files and empty folders of the previous run that it did not write are carried
    over, the folder's permissions kept, the previous run renamed aside, the staging
    folder renamed onto ``out``, and the previous run removed. With ``replaces`` (the
    :func:`run_stamp` of the run the block read), a folder another command rewrote in the
    meantime is refused under the lock. On any error ``out`` is left as it was and the
    staging folder removed; OS errors (disk full, read-only, a file in use) become
    :class:`~geo_dx.errors.OutputError`.

    Examples
    --------
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
            unknown = sorted(p for p in _written(staging) if not is_output_path(p))
            if unknown:  # a programming error: OUTPUT_PATTERNS must name every output
                raise RuntimeError(f"geo_dx wrote {unknown} into a run folder; add them to "
                                   "geo_dx.run.folder.OUTPUT_PATTERNS")
            with _lock(out):
                if replaces is not None and run_stamp(out) != replaces:
                    raise InputError(f"{given}: another geo-dx command rewrote this run while "
                                     f"`{command}` was working; nothing was written; run "
                                     f"`{command}` again")
                _swap(staging, out)
        except OSError as err:
            if isinstance(err, InputError | OutputError):
                raise
            raise _output_error(given, err) from err
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    logger.info("wrote %s", out)


def write_summary(staging: Path, summary: RunSummary) -> RunSummary:
    """Write ``summary.json`` last into ``staging``: a new run id and every file written."""
    written = sorted({*_written(staging), SUMMARY})
    final = replace(summary, run_id=uuid.uuid4().hex, outputs=tuple(written))
    (staging / SUMMARY).write_text(json.dumps(final.to_dict(), ensure_ascii=False, indent=2,
                                              default=json_value), encoding="utf-8")
    return final


def clean_stale(out: str | Path) -> list[Path]:
    """
    Remove staging folders of ``out`` left by killed runs; restore a lost previous run.

    Only hidden siblings named after ``out`` by geo_dx whose process is gone are touched.
    When ``out`` is missing and a previous run was set aside (a command killed during the
    swap), it is renamed back to ``out``. Returns the folders removed.
    """
    out = Path(out)
    removed: list[Path] = []
    if not out.parent.is_dir():
        return removed
    for kind in (_PREVIOUS, _STAGING):
        for path in sorted(out.parent.glob(f".{_glob_escape(out.name)}.{kind}-*")):
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
    for path in out.parent.glob(f".{_glob_escape(out.name)}.staging-*"):
        if path.is_dir() and time.time() - path.stat().st_mtime > _OLD_STAGING_AGE_S:
            shutil.rmtree(path, ignore_errors=True)
            removed.append(path)
    return removed


@dataclass(frozen=True)
class FinishedRun:
    """A run folder read back: its summary, the files it wrote, its GeoPackage layers."""

    folder: Path
    summary: RunSummary
    outputs: frozenset[str]
    #: :func:`run_stamp` when read: a command rewriting the folder refuses if it changed.
    stamp: str | None

    @property
    def gpkg(self) -> Path:
        return self.folder / "villages.gpkg"

    def has(self, rel: str) -> bool:
        """Whether the run wrote ``rel`` and it is still there."""
        return rel in self.outputs and (self.folder / rel).is_file()

    def layers(self, names: Iterable[str] = (), *,
               optional: Iterable[str] = ()) -> dict[str, gpd.GeoDataFrame]:
        """The GeoPackage layers ``names`` (refused when missing) and those of ``optional``
        that are there."""
        import geopandas as gpd
        import pyogrio

        names = list(names)
        try:
            present = {str(n) for n in pyogrio.list_layers(self.gpkg)[:, 0]}
            missing = sorted(set(names) - present)
            if missing:
                raise InputError(f"{self.gpkg}: layer(s) {missing} missing; {_RERUN}")
            return {n: gpd.read_file(self.gpkg, layer=n, engine="pyogrio")
                    for n in [*names, *(o for o in optional if o in present)]}
        except (OSError, ValueError, pyogrio.errors.DataSourceError) as err:
            if isinstance(err, InputError):
                raise
            raise InputError(f"{self.gpkg}: cannot read the run's layers ({err}); "
                             f"{_RERUN}") from err

    @property
    def dem_path(self) -> Path | None:
        """The DEM the run used (``inputs.dem``), or None."""
        dem = self.summary.inputs.get("dem")
        return Path(dem) if dem else None

    def dem(self, *, required: bool, crs: object | None = None) -> DemGrid | None:
        """The run's DEM; when it is gone: refused if ``required``, else None with a warning."""
        from geo_dx.dem import read_dem

        path = self.dem_path
        if path is None:
            return None
        if not path.exists():
            if required:
                raise InputError(f"{self.folder / SUMMARY}: the run's DEM {path} is gone; put "
                                 f"it back or {_RERUN}")
            logger.warning("DEM %s of the run is gone; the maps are drawn without relief", path)
            return None
        return read_dem(path, crs=crs) if crs is not None else read_dem(path)


def read_run(run_dir: str | Path) -> FinishedRun:
    """
    A finished run folder read back (restored first if a command was killed mid-swap).

    Refused (:class:`~geo_dx.errors.InputError`, naming the file and saying "re-run
    ``geo-dx run``"): a missing folder or ``villages.gpkg``, a ``summary.json`` geo_dx did
    not write or that lists a file geo_dx never writes, a malformed section. A missing
    title is the folder's name (with a warning); a missing language is Vietnamese.

    Examples
    --------
    >>> read_run("no/such/run")
    Traceback (most recent call last):
    ...
    geo_dx.errors.InputError: no/such/run: not found; run `geo-dx run` to write it first
    """
    folder = Path(run_dir)
    clean_stale(folder)
    if not folder.is_dir():
        raise InputError(f"{folder}: not found; run `geo-dx run` to write it first")
    if not (folder / "villages.gpkg").is_file():
        raise InputError(f"{folder / 'villages.gpkg'}: not found; {_RERUN} to write {folder}")
    source = folder / SUMMARY
    if not source.is_file():
        raise InputError(f"{source}: not found; {folder} is not a geo_dx run folder ({_RERUN})")
    data = read_summary_file(folder)
    if data is None:
        raise InputError(f"{source}: not readable JSON; {_RERUN}")
    summary = RunSummary.from_dict(data, source=str(source), fallback_title=folder.name)
    outputs = run_outputs(folder)
    if outputs is None:
        raise InputError(f"{source}: lists files geo_dx never writes, so {folder} is not "
                         f"taken for a geo_dx run; {_RERUN}")
    return FinishedRun(folder, summary, frozenset(outputs), run_stamp(folder))


def _swap(staging: Path, out: Path) -> None:
    """Make ``staging`` the new ``out``, keeping the previous run until the rename succeeded."""
    if not out.exists():
        os.chmod(staging, 0o777 & ~_umask())
        os.rename(staging, out)
        return
    previous_outputs = run_outputs(out)
    if previous_outputs is None:
        if any(out.iterdir()):
            raise InputError(f"--out {out}: the folder is no longer empty and is not a geo_dx "
                             "run; give a new or empty folder")
        previous_outputs = set()
    _carry_over(out, staging, previous_outputs)
    os.chmod(staging, stat.S_IMODE(out.stat().st_mode))
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
    """Copy files and folders a user added to the previous run into the new one."""
    new_outputs = _written(staging)
    files, folders = [], []
    for path in sorted(out.rglob("*")):
        rel = path.relative_to(out).as_posix()
        if path.is_dir() and not path.is_symlink():
            if not any(path.iterdir()):
                folders.append(rel)
        elif rel not in previous_outputs:
            if rel in new_outputs:
                raise InputError(f"--out {out}: {rel} was not written by geo_dx but the new run "
                                 "writes it; move it out of the folder")
            files.append(rel)
    needed = {str(p) for rel in [*files, *folders] for p in Path(rel).parents if str(p) != "."}
    needed |= set(folders)
    for rel in sorted(needed, key=lambda r: r.count("/")):  # parents first, with their mode
        if not (staging / rel).exists():
            (staging / rel).mkdir()
            shutil.copystat(out / rel, staging / rel)
    for rel in files:
        path, target = out / rel, staging / rel
        if path.is_symlink():
            os.symlink(os.readlink(path), target)
        else:
            shutil.copy2(path, target)


def _written(staging: Path) -> set[str]:
    return {p.relative_to(staging).as_posix() for p in staging.rglob("*") if not p.is_dir()}


@contextlib.contextmanager
def _lock(out: Path) -> Iterator[None]:
    """Serialise the swap between concurrent commands writing beside ``out`` (POSIX only)."""
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


def _umask() -> int:
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def _name_max(folder: Path) -> int:
    try:
        return os.pathconf(_existing_parent(folder / "x"), "PC_NAME_MAX")
    except (OSError, ValueError, AttributeError):
        return 255


def _glob_escape(name: str) -> str:
    return re.sub(r"([*?\[])", r"[\1]", name)


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


def _output_error(out: Path, err: OSError) -> OutputError:
    reason = {
        errno.ENOSPC: "the disk is full; free some space or give another --out",
        errno.EROFS: "the file system is read-only; give another --out",
        errno.EACCES: "permission denied; give a folder you can write to",
        errno.EPERM: "permission denied; give a folder you can write to",
        errno.EBUSY: "a file in it is in use (open in another program?); close it and re-run",
        errno.EXDEV: "it is on another file system than its staging folder; give another --out",
        errno.ENAMETOOLONG: "the name is too long; give a shorter --out",
    }.get(err.errno or -1, "close any program using it, or give another --out")
    where = f" ({err.filename})" if err.filename else ""
    return OutputError(f"--out {out}: could not write the run{where}: {err.strerror or err}; "
                       f"{reason}. The previous contents are unchanged")
