"""The ``geo-dx`` command line: ``run``, ``map`` and ``demo``.

Input mistakes print one line (``geo-dx: error: ...``) and exit with code 2.
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import logging
import os
import re
import sys
import tempfile
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any, NoReturn

from geo_dx.config import Config, load_config, with_weights
from geo_dx.errors import GeoDxError, InputError
from geo_dx.i18n import LANGUAGES, translator

EXIT_INPUT = 2
#: Stages a ``run`` marks (read, DEM, gaps, raster, travel, scoring, write, raster file, maps).
RUN_STAGES = 9


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``geo-dx`` command."""
    parser = _parser()
    args = parser.parse_args(_negative_values(sys.argv[1:] if argv is None else argv))
    logging.basicConfig(level=_log_level(args.verbose), format="%(levelname)s: %(message)s",
                        stream=sys.stderr)
    logging.captureWarnings(True)
    logging.getLogger("pyogrio").setLevel(logging.WARNING)
    try:
        return int(args.func(args) or 0)
    except GeoDxError as err:
        print(f"geo-dx: error: {err}", file=sys.stderr)
        return EXIT_INPUT
    except KeyboardInterrupt:
        print("geo-dx: interrupted; nothing was written", file=sys.stderr)
        return 130


#: Options whose value may be a negative number (argparse takes ``-5e9`` for an option).
_NUMBER_OPTIONS = ("--budget",)
_NEGATIVE = re.compile(r"^-(\d|\.\d)")


def _negative_values(argv: Sequence[str]) -> list[str]:
    """
    ``--budget -5e9`` as ``--budget=-5e9``, so the value is read (and refused) as a number.

    Examples
    --------
    >>> _negative_values(["plan", "--budget", "-5e9", "-q"])
    ['plan', '--budget=-5e9', '-q']
    """
    out: list[str] = []
    for arg in argv:
        if out and out[-1] in _NUMBER_OPTIONS and _NEGATIVE.match(arg):
            out[-1] = f"{out[-1]}={arg}"
        else:
            out.append(arg)
    return out


class _Parser(argparse.ArgumentParser):
    """Usage mistakes are one line too (``--lang fr`` lists the languages), exit code 2."""

    def error(self, message: str) -> NoReturn:
        self.exit(EXIT_INPUT, f"{self.prog}: error: {message}; see {self.prog} --help\n")


def _run(args: argparse.Namespace) -> int:
    from geo_dx.run.folder import check_out_dir
    from geo_dx.run.pipeline import RunInputs, analyse, demo_inputs, input_paths, write
    from geo_dx.run.report import format_summary

    config = _plan_options(load_config(args.config), args)
    if args.weights:
        config = with_weights(config, args.weights)
    if args.lang:
        config = dataclasses.replace(config, language=args.lang)
    _ = translator(config.language).gettext
    budget = _budget(args)
    given = [args.communes, args.villages, args.coverage]
    if not any(given):
        inputs = dataclasses.replace(demo_inputs(language=config.language), budget=budget,
                                     candidates=Path(args.candidates) if args.candidates else None,
                                     power=Path(args.power) if args.power else None)
        out = Path(args.out or "maps/demo")
    elif not all(given):
        raise InputError(
            "give --communes, --villages and --coverage together (or none of them to run the "
            "synthetic demo province)"
        )
    else:
        inputs = RunInputs(
            communes=Path(args.communes),
            villages=Path(args.villages),
            coverage=tuple(Path(p) for p in args.coverage),
            dem=Path(args.dem) if args.dem else None,
            towns=Path(args.towns) if args.towns else None,
            roads=Path(args.roads) if args.roads else None,
            power=Path(args.power) if args.power else None,
            coverage_raster=Path(args.coverage_raster) if args.coverage_raster else None,
            raster_technology=args.raster_technology,
            raster_threshold=args.raster_threshold,
            mobile_tiles=Path(args.mobile_tiles) if args.mobile_tiles else None,
            fixed_tiles=Path(args.fixed_tiles) if args.fixed_tiles else None,
            title=args.title or _("Connectivity gaps: {name}", name=Path(args.villages).stem),
            budget=budget,
            candidates=Path(args.candidates) if args.candidates else None,
        )
        out = Path(args.out or "maps/run")
    check_out_dir(out, inputs=input_paths(inputs))  # before the analysis, not after
    from geo_dx.run.progress import progress_bar

    with progress_bar(RUN_STAGES), solver_output():  # bar drawn only on a terminal
        result = analyse(inputs, config=config, partitions=args.partitions,
                         scheduler_address=args.scheduler)
        write(result, out)
    print(format_summary(result.summary, language=config.language))
    if result.plan is not None:
        from geo_dx.run.plan_outputs import format_plan

        print("\n" + format_plan(result.summary["plan"], language=config.language))
    print("\n" + _wrote(out, config.language))
    return 0


def _wrote(folder: Path, language: str) -> str:
    """The last line of a command that wrote a run folder: the folder and its main files."""
    from geo_dx.run.folder import run_outputs, shown_outputs

    files = ", ".join(shown_outputs(run_outputs(folder) or ()))
    return translator(language).gettext("wrote {folder}/ ({files})", folder=folder, files=files)


def _plan(args: argparse.Namespace) -> int:
    from geo_dx.run.folder import read_run
    from geo_dx.run.plan_outputs import format_plan, plan_run

    # without --config, the run's own gap rule (model, reach, signal) from its summary.json
    config = _plan_options(load_config(args.config), args) if args.config else None
    options = None if args.config else _plan_options(Config(), args).plan
    budget = _budget(args)
    if budget is None:
        raise InputError("geo-dx plan: give --budget, e.g. --budget 30e9 (VND) or "
                         "--budget mobile=20e9,fibre=10e9")
    with solver_output():
        result = plan_run(Path(args.run_dir), budget=budget, candidates=args.candidates,
                          config=config, plan_options=options)
    language = read_run(args.run_dir).summary.language  # the plan speaks the run's language
    print(format_plan(result.summary, language=language))
    print("\n" + _wrote(Path(args.run_dir), language))
    return 0


def _log_level(verbose: int | bool | None) -> int:
    """Warnings only by default; ``-v`` adds what a run does (INFO), ``-vv`` debug, ``-q``
    errors only."""
    if verbose is False:
        return logging.ERROR
    return {0: logging.WARNING, 1: logging.INFO}.get(int(verbose or 0), logging.DEBUG)


@contextlib.contextmanager
def solver_output() -> Iterator[None]:
    """
    Capture what compiled libraries print on the process's standard output (the HiGHS
    solver's banner and log) and log it at debug level, so the console shows only what
    geo_dx says.
    """
    sys.stdout.flush()
    try:
        saved = os.dup(1)
    except OSError:  # no file descriptor 1 (embedded interpreter): nothing to capture
        yield
        return
    with tempfile.TemporaryFile(mode="w+b") as sink:
        os.dup2(sink.fileno(), 1)
        try:
            yield
        finally:
            sys.stdout.flush()
            os.dup2(saved, 1)
            os.close(saved)
            sink.seek(0)
            text = sink.read().decode("utf-8", "replace").strip()
            if text:
                logging.getLogger("geo_dx.solver").debug("%s", text)


def _budget(args: argparse.Namespace) -> object | None:
    """The --budget value, checked (one clear line on a bad value)."""
    if args.budget is None:
        return None
    from geo_dx.plan.optimise import Budget
    from geo_dx.plan.schedule import yearly_budgets

    return yearly_budgets(args.budget) or Budget.parse(args.budget)


def _plan_options(config: Config, args: argparse.Namespace) -> Config:
    """--must / --exclude candidate ids override the config's plan pins."""
    changes = {}
    for key in ("must", "exclude"):
        value = getattr(args, key, None)
        if value:
            changes[key] = tuple(v.strip() for v in value.split(",") if v.strip())
    if not changes:
        return config
    return dataclasses.replace(config, plan=dataclasses.replace(config.plan, **changes))


def _map(args: argparse.Namespace) -> int:
    from geo_dx.run.writer import rebuild_maps

    paths = rebuild_maps(Path(args.run_dir), commune_id=args.commune)
    for path in paths:
        print(path)
    return 0


def _demo(args: argparse.Namespace) -> int:
    from geo_dx.demo import generate_demo

    if not args.regenerate:
        raise InputError("geo-dx demo: nothing to do; use --regenerate to rebuild the demo data")
    paths = generate_demo(Path(args.out) if args.out else None)
    print(f"regenerated the synthetic demo province in {Path(paths.communes).parents[1]}")
    return 0


_ATTRIBUTE = re.compile(r"^[a-z][a-z0-9_]{0,40}$")


def _compare_list(args: argparse.Namespace) -> int:
    from geo_dx.run.compare import compare_list, write_comparison
    from geo_dx.run.readback import read_run

    if args.attribute is not None and not _ATTRIBUTE.match(args.attribute):
        raise InputError(f"--as was {args.attribute!r}; give a column name in lower case "
                         "letters, digits and _, e.g. --as especially_difficult")
    run = read_run(args.run_dir)
    comparison = compare_list(run, args.list, sheet=args.sheet, village_col=args.village_col,
                              commune_col=args.commune_col, commune_map=args.commune_map,
                              resolved=args.resolved, gap=args.gap)
    paths = write_comparison(comparison, run, args.out or run.folder, attribute=args.attribute)
    tr = translator(run.language)
    t = comparison.totals
    print(tr.gettext("{rows} rows: {listed_gap} on the list and a gap, {listed_covered} on the "
                     "list but covered, {unmatched} not matched (to review: {review}); "
                     "{gap_not_listed} gaps not on the list",
                     rows=t["rows"], listed_gap=t["listed_gap"],
                     listed_covered=t["listed_covered"], unmatched=t["unmatched"],
                     review=t["ambiguous"] + t["not_found"], gap_not_listed=t["gap_not_listed"]))
    for path in paths:
        print(path)
    return 0


def _survey(args: argparse.Namespace) -> int:
    from geo_dx.run.readback import read_run
    from geo_dx.run.survey import write_survey

    run = read_run(args.run_dir)
    communes = [c.strip() for c in args.communes.split(",") if c.strip()] if args.communes \
        else None
    for path in write_survey(run, args.out, communes=communes):
        print(path)
    return 0


def _import_survey(args: argparse.Namespace) -> int:
    from geo_dx.run.readback import read_run
    from geo_dx.run.survey_import import import_survey

    run = read_run(args.run_dir)
    result, paths = import_survey(run, args.exports, out_dir=args.out,
                                  max_accuracy_m=args.max_accuracy)
    tr = translator(run.language)
    print(tr.gettext("{tests} speed tests and {visits} village visits read; {rejected} rows "
                     "not read (see survey_rejected.csv)", tests=len(result.measurements),
                     visits=len(result.attributes), rejected=len(result.rejected)))
    for path in paths:
        print(path)
    return 0


def _diff(args: argparse.Namespace) -> int:
    from geo_dx.run.diff import diff_runs, write_diff
    from geo_dx.run.readback import read_run

    before, after = read_run(args.run_a), read_run(args.run_b)
    diff = diff_runs(before, after)
    for path in write_diff(diff, before, after, args.out or after.folder):
        print(path)
    return 0


def _parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="geo-dx",
        description="Find villages without fibre or mobile broadband, rank them, map them.",
    )
    parser.set_defaults(verbose=0)
    sub = parser.add_subparsers(dest="command", required=True)

    run = sub.add_parser("run", help="run the gap analysis (no inputs: the synthetic demo)")
    run.add_argument("--communes", metavar="P", help="commune boundaries (any vector format)")
    run.add_argument("--villages", metavar="P", help="village points or polygons, or CSV lon/lat")
    run.add_argument("--coverage", metavar="P", nargs="+", action="extend",
                     help="coverage points: sites, fibre nodes, measurements, OpenCellID CSV")
    run.add_argument("--dem", metavar="FILE.tif", help="elevation model (terrain line of sight)")
    run.add_argument("--towns", metavar="P", help="service centres for travel time")
    run.add_argument("--roads", metavar="P", help="road lines for travel time")
    run.add_argument("--power", metavar="P",
                     help="power lines: villages without grid power are flagged; a new site far "
                          "from the grid gets solar power (geo-dx plan reuses the file)")
    run.add_argument("--coverage-raster", metavar="FILE.tif",
                     help="operator/planning coverage raster (signal in dBm or a 0/1 mask)")
    run.add_argument("--raster-technology", default="4g", metavar="TECH",
                     help="technology the coverage raster shows (default 4g)")
    run.add_argument("--raster-threshold", type=float, metavar="VALUE",
                     help="covered where the raster value >= VALUE, e.g. -105 (default: nonzero)")
    run.add_argument("--mobile-tiles", metavar="P", help="Ookla-layout mobile speed tiles")
    run.add_argument("--fixed-tiles", metavar="P", help="Ookla-layout fixed speed tiles")
    run.add_argument("--config", metavar="FILE.toml",
                     help="configuration (see docs/configuration.md)")
    run.add_argument("--weights", metavar="NAME=W,...",
                     help="override scoring weights, e.g. ethnic=0.5,remoteness=0.3")
    run.add_argument("--title", help="dataset title shown on the map and summary")
    _language(run)
    run.add_argument("--out", metavar="DIR", help="output folder (default maps/demo or maps/run)")
    run.add_argument("--partitions", type=int, metavar="N",
                     help="decide gaps over N spatial partitions in parallel with dask "
                          "(pip install 'geo_dx[scale]'); same result")
    run.add_argument("--scheduler", metavar="ADDRESS",
                     help="with --partitions: a running dask scheduler (default: a local "
                          "cluster on all cores)")
    _plan_arguments(run)
    _verbosity(run)
    run.set_defaults(func=_run)

    plan = _on_run_dir(sub, "plan", "plan investments on a finished run (no recomputing)")
    plan.add_argument("--config", metavar="FILE.toml", help="configuration ([plan], [plan.costs])")
    _plan_arguments(plan)
    _verbosity(plan)
    plan.set_defaults(func=_plan)

    rebuild = _on_run_dir(sub, "map", "rebuild maps from a finished run's outputs")
    rebuild.add_argument("--commune", metavar="ID", help="only this commune's map")
    _verbosity(rebuild)
    rebuild.set_defaults(func=_map)

    compare = _on_run_dir(sub, "compare-list",
                          "compare a province list (village and commune names) with a run",
                          required=True)
    compare.add_argument("list", metavar="LIST", help="the list: .xlsx, .csv or .docx (first "
                         "table)")
    compare.add_argument("--sheet", metavar="NAME", help="the Excel sheet (default the first)")
    compare.add_argument("--village-col", metavar="C", help="column of village names")
    compare.add_argument("--commune-col", metavar="C", help="column of commune names or ids")
    compare.add_argument("--commune-map", metavar="FILE",
                         help="old commune names -> new communes (2025 merger): columns "
                              "old_commune, new_commune_id")
    compare.add_argument("--resolved", metavar="REVIEW.xlsx",
                         help="the review sheet completed (village_id per list_row)")
    compare.add_argument("--gap", default="mobile", choices=("mobile", "fibre", "both", "any"),
                         help="which gap the list is about (default mobile: no 3G/4G)")
    compare.add_argument("--as", dest="attribute", metavar="COLUMN",
                         help="also write villages_COLUMN.gpkg: the run's villages with COLUMN "
                              "true for the listed ones, for the next run's --villages")
    compare.add_argument("--out", metavar="DIR", help="output folder (default RUN_DIR)")
    _verbosity(compare)
    compare.set_defaults(func=_compare_list)

    survey = _on_run_dir(sub, "survey", "field packs per commune: XLSForm (ODK/Kobo), A4 "
                         "checklist, villages to measure first", required=True)
    survey.add_argument("--communes", metavar="ID,...", help="only these communes (default all)")
    survey.add_argument("--out", metavar="DIR", required=True, help="folder for the packs")
    _verbosity(survey)
    survey.set_defaults(func=_survey)

    imported = _on_run_dir(sub, "import-survey", "read ODK Central / KoboToolbox exports of "
                           "the field form back: measurements, village attributes, bad rows",
                           required=True)
    imported.add_argument("exports", metavar="EXPORT", nargs="+",
                          help="submissions CSV (repeat file beside it), Kobo .xlsx or ODK .zip")
    imported.add_argument("--max-accuracy", type=float, default=50.0, metavar="M",
                          help="reject GPS points less accurate than M metres (default 50)")
    imported.add_argument("--out", metavar="DIR", help="output folder (default RUN_DIR)")
    _verbosity(imported)
    imported.set_defaults(func=_import_survey)

    diff = sub.add_parser("diff", help="what changed between two runs")
    diff.add_argument("run_a", metavar="RUN_A", help="the run before")
    diff.add_argument("run_b", metavar="RUN_B", help="the run after")
    diff.add_argument("--out", metavar="DIR", help="output folder (default RUN_B)")
    _verbosity(diff)
    diff.set_defaults(func=_diff)

    demo = sub.add_parser("demo", help="the synthetic demo province's data")
    demo.add_argument("--regenerate", action="store_true",
                      help="rebuild the demo data deterministically from its seed")
    demo.add_argument("--out", metavar="DIR", help="where to write (default: the repo's data/)")
    _verbosity(demo)
    demo.set_defaults(func=_demo)
    return parser


def _on_run_dir(sub: Any, name: str, help: str, *, required: bool = False
                ) -> argparse.ArgumentParser:
    """A subcommand that works on a finished run's output folder."""
    parser = sub.add_parser(name, help=help)
    if required:
        parser.add_argument("run_dir", help="a run's output folder")
    else:
        parser.add_argument("run_dir", nargs="?", default="maps/demo",
                            help="a run's output folder")
    return parser


def _language(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--lang", choices=LANGUAGES, default=None,
                        help="language of maps, reasons, workbook and console: vi (default, "
                        "or the config's language) or en")


def _plan_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--budget", metavar="VND",
                        help="investment budget in VND, e.g. 30e9, mobile=20e9,fibre=10e9, or per "
                             "year (a schedule): 2026=10e9,2027=10e9; "
                             "writes plan.csv, budget_curve.png and the plan layer")
    parser.add_argument("--candidates", metavar="P",
                        help="candidate sites (points: candidate_id, kind, cost_vnd, ...)")
    parser.add_argument("--must", metavar="ID,...", help="candidate ids that must be built")
    parser.add_argument("--exclude", metavar="ID,...", help="candidate ids never to build")


def _verbosity(parser: argparse.ArgumentParser) -> None:
    group = parser.add_mutually_exclusive_group()
    group.add_argument("-v", "--verbose", action="count", default=0,
                       help="say what the run does (-vv: debug messages, solver output)")
    group.add_argument("-q", "--quiet", dest="verbose", action="store_const", const=False,
                       help="only errors")


if __name__ == "__main__":
    raise SystemExit(main())
