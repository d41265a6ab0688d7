"""The package's layout: imports follow the data flow, and no module grows past 600 lines.

Data flows one way (schema → io → coverage → gaps → remoteness → scoring → rollout →
plan → report/maps, with the pipeline and the CLI on top). :data:`FLOW` declares every
module's place; a module may import (at the top or inside a function) only modules
declared before it. A new module must be given its place here.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "geo_dx"

#: Every geo_dx module in flow order, grouped by stage (a module may import earlier ones).
FLOW: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("leaves", ("_version", "errors", "i18n", "columns", "_itm_kernel", "itm", "forked",
                "_least_cost_kernel", "least_cost")),
    ("contracts", ("cells", "schema", "spatial", "config_checks", "config")),
    ("io", ("atomic", "io", "dem", "relief")),
    ("coverage", ("coverage", "terrain", "viewshed", "calibration", "signal_strength",
                  "disputes", "communes", "zonal", "evidence")),
    ("gaps", ("gaps",)),
    ("remoteness", ("remoteness",)),
    ("scoring", ("reasons", "scoring", "blocking")),
    ("rollout", ("rollout",)),
    ("plan", ("optimise", "routes", "candidates", "plan_curve", "planning")),
    ("report/maps", ("qgis_style", "report", "workbook", "pages", "map_assets", "map_payload",
                     "map_raster", "map_context", "plan_map", "map_overview", "map_layers",
                     "maps",
                     "plan_report")),
    ("on top", ("_demo_world", "demo", "progress", "partition", "pipeline", "cli",
                "__init__")),
)
ORDER: dict[str, int] = {m: i for i, m in enumerate(m for _, ms in FLOW for m in ms)}


def _modules() -> list[str]:
    return sorted(p.stem for p in PACKAGE.glob("*.py"))


def _type_checking_only(node: ast.AST) -> bool:
    test = getattr(node, "test", None)
    return isinstance(node, ast.If) and (
        (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING")
        or (isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING")
    )


def imports_of(source: str) -> dict[str, int]:
    """geo_dx modules ``source`` imports at run time, with the line of the first import.

    Imports under ``if TYPE_CHECKING:`` are annotations only and are left out;
    ``from geo_dx import x`` counts as module ``x`` when it is one, else as the package.

    Examples
    --------
    >>> imports_of("from geo_dx.schema import GAPS\\nimport geo_dx.io\\n"
    ...            "from typing import TYPE_CHECKING\\n"
    ...            "if TYPE_CHECKING:\\n    from geo_dx.config import Config\\n"
    ...            "def f():\\n    from geo_dx import find_gaps\\n")
    {'schema': 1, 'io': 2, '__init__': 7}
    """
    found: dict[str, int] = {}
    skip: set[int] = set()
    tree = ast.parse(source)
    for node in ast.walk(tree):
        if _type_checking_only(node):
            skip.update(id(n) for n in ast.walk(node))
    for node in ast.walk(tree):
        if id(node) in skip:
            continue
        names: list[str] = []
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            parts = node.module.split(".")
            if parts[0] != "geo_dx":
                continue
            if len(parts) > 1:
                names = [parts[1]]
            else:
                names = [a.name if (PACKAGE / f"{a.name}.py").exists() else "__init__"
                         for a in node.names]
        elif isinstance(node, ast.Import):
            names = [a.name.split(".")[1] for a in node.names
                     if a.name.startswith("geo_dx.")]
        for name in names:
            found.setdefault(name, node.lineno)
    return dict(sorted(found.items(), key=lambda kv: kv[1]))


def test_imports_of_reads_top_level_lazy_and_package_imports():
    source = ("from geo_dx.gaps import find_gaps\n"
              "def f():\n    import geo_dx.maps\n    from geo_dx import io, score\n")
    assert imports_of(source) == {"gaps": 1, "maps": 3, "io": 4, "__init__": 4}


def test_every_module_has_a_place_in_the_flow():
    missing = [m for m in _modules() if m not in ORDER]
    assert not missing, f"give these modules a place in tests/test_layout.py FLOW: {missing}"


@pytest.mark.parametrize("module", _modules())
def test_module_imports_only_earlier_modules(module):
    if module not in ORDER:
        pytest.fail(f"{module} has no place in FLOW")
    source = (PACKAGE / f"{module}.py").read_text(encoding="utf-8")
    later = {name: line for name, line in imports_of(source).items()
             if name != module and ORDER.get(name, len(ORDER)) > ORDER[module]}
    assert not later, (
        f"geo_dx/{module}.py imports modules later in the flow: "
        + ", ".join(f"{name} (line {line})" for name, line in later.items())
    )


def test_the_flow_check_catches_a_backwards_import():
    """The check is not vacuous: schema importing coverage is reported."""
    later = {name for name in imports_of("from geo_dx.coverage import with_reach\n")
             if ORDER[name] > ORDER["schema"]}
    assert later == {"coverage"}


@pytest.mark.parametrize("module", _modules())
def test_no_module_over_600_lines(module):
    lines = (PACKAGE / f"{module}.py").read_text(encoding="utf-8").count("\n")
    assert lines <= 600, f"geo_dx/{module}.py has {lines} lines; split it by concept"


def test_no_docstring_example_is_skipped():
    """Docstring examples run (on load_demo() or small data); none is skipped."""
    skipped = [f"{p.name}:{n}" for p in sorted(PACKAGE.glob("*.py"))
               for n, line in enumerate(p.read_text(encoding="utf-8").splitlines(), 1)
               if "doctest: +SKIP" in line.replace("doctest:+SKIP", "doctest: +SKIP")]
    assert not skipped, f"skipped docstring examples: {skipped}"


def _notebook_code(path: Path) -> str:
    import json

    cells = json.loads(path.read_text(encoding="utf-8"))["cells"]
    return "\n".join("".join(c["source"]) for c in cells if c["cell_type"] == "code")


@pytest.mark.parametrize("notebook", sorted(p.name for p in (PACKAGE.parent / "notebooks")
                                            .glob("*.ipynb")))
def test_notebooks_use_only_the_public_api(notebook):
    """A notebook imports only ``geo_dx`` itself and uses names it exports."""
    import geo_dx

    code = _notebook_code(PACKAGE.parent / "notebooks" / notebook)
    lines = [ln for ln in code.splitlines() if not ln.lstrip().startswith(("%", "!"))]
    tree = ast.parse("\n".join(lines))
    submodules = [n.module for n in ast.walk(tree)
                  if isinstance(n, ast.ImportFrom) and (n.module or "").startswith("geo_dx")]
    submodules += [a.name for n in ast.walk(tree) if isinstance(n, ast.Import)
                   for a in n.names if a.name.startswith("geo_dx.")]
    assert not submodules, f"{notebook} imports {submodules}; use `import geo_dx` only"
    used = {n.attr for n in ast.walk(tree) if isinstance(n, ast.Attribute)
            and isinstance(n.value, ast.Name) and n.value.id == "geo_dx"}
    assert used, f"{notebook} does not use geo_dx"
    assert used <= set(geo_dx.__all__), f"{notebook} uses non-public {used - set(geo_dx.__all__)}"


def test_public_api_has_real_signatures():
    """Everything ``geo_dx`` exports is importable and no function hides its options
    behind ``*args`` / ``**kwargs``."""
    import inspect

    import geo_dx

    hidden = []
    for name in geo_dx.__all__:
        obj = getattr(geo_dx, name)
        if inspect.isfunction(obj):
            kinds = {p.kind for p in inspect.signature(obj).parameters.values()}
            if kinds & {inspect.Parameter.VAR_KEYWORD, inspect.Parameter.VAR_POSITIONAL}:
                hidden.append(name)
            assert obj.__doc__, f"geo_dx.{name} has no docstring"
    assert not hidden, f"public functions with *args/**kwargs: {hidden}"
    needed = {"read_communes", "read_villages", "read_coverage", "read_dem", "find_gaps",
              "travel_time_h", "score", "rollout_clusters", "summarise_communes", "plan",
              "write_priority_csv", "write_maps", "analyse", "write", "load_demo"}
    assert needed <= set(geo_dx.__all__)


def test_readme_layout_table_names_every_module():
    readme = (PACKAGE.parent / "README.md").read_text(encoding="utf-8")
    layout = readme[readme.index("## Layout"):]
    missing = [m for m in _modules() if f"`geo_dx/{m}.py`" not in layout]
    assert not missing, f"README layout table lacks: {missing}"
