"""The package's layout: a flat core with four wings, imports one way, no module over 600 lines.

Data flows one way: inputs → coverage → ``signal/`` (what a site reaches) → gaps →
remoteness → scoring → ``plan/`` (what to build) → ``maps/`` (what a planner opens) →
``run/`` (a run folder and the files it writes), with the CLI on top.

The rules, as tests:

- the core keeps its flow order (:data:`CORE`): a core module imports only core modules
  before it, and ``signal/`` only from :data:`SIGNAL_AT` on;
- ``signal/`` imports the core before :data:`SIGNAL_AT` and ``signal/``;
- ``plan/`` imports the core and ``signal/``;
- ``maps/`` imports the core and ``signal/`` (and ``plan/`` only for type hints);
- ``run/`` imports anything but ``cli``; only ``cli`` and ``__init__`` import from ``run/``;
- no module imports another module's ``_private`` name.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "geo_dx"
WINGS: tuple[str, ...] = ("signal", "plan", "maps", "run")

#: The flat core in flow order (a core module may import earlier ones).
CORE: tuple[str, ...] = (
    "_version", "errors", "i18n", "columns", "names", "forked", "_least_cost_kernel", "least_cost",
    "tables", "spatial", "schema", "config_checks", "config", "atomic", "io", "field_survey", "dem",
    "coverage", "disputes", "communes", "zonal", "power", "evidence", "reasons",
    # signal/ sits here: the modules below may use what a site reaches
    "gaps", "partition", "remoteness", "scoring", "indicators", "rollout", "_demo_world",
    "demo",
    "cli", "__init__",
)
#: The first core module that may import ``signal/``.
SIGNAL_AT = "gaps"
ORDER: dict[str, int] = {m: i for i, m in enumerate(CORE)}

#: Which wings each wing may import at run time (the core is allowed as said above).
ALLOWED_WINGS: dict[str, set[str]] = {
    "signal": {"signal"},
    "plan": {"signal", "plan"},
    "maps": {"signal", "maps"},
    "run": {"signal", "plan", "maps", "run"},
}


def _modules() -> list[str]:
    """Every module as a dotted name below ``geo_dx`` (``gaps``, ``signal.served``)."""
    found = []
    for path in sorted(PACKAGE.rglob("*.py")):
        rel = path.relative_to(PACKAGE).with_suffix("")
        if rel.parts[0] not in WINGS and len(rel.parts) > 1:
            continue
        found.append(".".join(rel.parts))
    return found


def _path(module: str) -> Path:
    return PACKAGE.joinpath(*module.split(".")).with_suffix(".py")


def _exists(module: str) -> bool:
    return _path(module).exists() or (PACKAGE / module.replace(".", "/") / "__init__.py").exists()


def _type_checking_only(node: ast.AST) -> bool:
    test = getattr(node, "test", None)
    return isinstance(node, ast.If) and (
        (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING")
        or (isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING")
    )


def imports_of(source: str, *, package: str = "") -> dict[str, int]:
    """geo_dx modules ``source`` imports at run time, with the line of the first import.

    Names are dotted below ``geo_dx`` (``gaps``, ``signal.terrain``); a wing's package
    itself is ``signal.__init__``. Imports under ``if TYPE_CHECKING:`` are annotations only
    and are left out; ``from geo_dx import x`` counts as module ``x`` when it is one, else
    as ``__init__``; relative imports are resolved against ``package``.

    Examples
    --------
    >>> imports_of("from geo_dx.schema import GAPS\\nimport geo_dx.io\\n"
    ...            "from typing import TYPE_CHECKING\\n"
    ...            "if TYPE_CHECKING:\\n    from geo_dx.config import Config\\n"
    ...            "def f():\\n    from geo_dx import find_gaps\\n")
    {'schema': 1, 'io': 2, '__init__': 7}
    """
    return {name: line for name, (line, _) in _import_nodes(source, package=package).items()}


def _import_nodes(source: str, *, package: str = "") -> dict[str, tuple[int, list[str]]]:
    """Module imported -> (first line, names taken from it)."""
    found: dict[str, tuple[int, list[str]]] = {}
    skip: set[int] = set()
    tree = ast.parse(source)
    for node in ast.walk(tree):
        if _type_checking_only(node):
            skip.update(id(n) for n in ast.walk(node))
    for node in ast.walk(tree):
        if id(node) in skip:
            continue
        pairs: list[tuple[str, list[str]]] = []
        if isinstance(node, ast.ImportFrom):
            if node.level:
                base = ["geo_dx", *package.split(".")] if package else ["geo_dx"]
                base = base[: len(base) - node.level + 1]
                parts = base + (node.module.split(".") if node.module else [])
            elif node.module:
                parts = node.module.split(".")
            else:
                continue
            if parts[0] != "geo_dx":
                continue
            taken = [a.name for a in node.names]
            rest = ".".join(parts[1:])
            if rest and _path(rest).exists():
                pairs.append((rest, taken))
            else:
                for a in node.names:
                    sub = f"{rest}.{a.name}" if rest else a.name
                    if _path(sub).exists():
                        pairs.append((sub, []))
                    else:
                        pairs.append((f"{rest}.__init__" if rest else "__init__", [a.name]))
        elif isinstance(node, ast.Import):
            pairs = [(a.name.split(".", 1)[1], []) for a in node.names
                     if a.name.startswith("geo_dx.")]
        for name, taken in pairs:
            line, names = found.setdefault(name, (node.lineno, []))
            names.extend(taken)
    return dict(sorted(found.items(), key=lambda kv: kv[1][0]))


def test_imports_of_reads_top_level_lazy_package_and_wing_imports():
    source = ("from geo_dx.gaps import find_gaps\n"
              "def f():\n    import geo_dx.maps.write\n    from geo_dx import io, score\n"
              "from geo_dx.signal import terrain\nfrom geo_dx.plan.model import plan\n")
    assert imports_of(source) == {"gaps": 1, "maps.write": 3, "io": 4, "__init__": 4,
                                  "signal.terrain": 5, "plan.model": 6}


def _wing(module: str) -> str | None:
    head = module.split(".")[0]
    return head if head in WINGS and "." in module else None


def layout_violations(module: str, imported: str) -> str | None:
    """Why ``module`` may not import ``imported`` at run time, or None when it may.

    Examples
    --------
    >>> layout_violations("signal.terrain", "gaps")
    'signal/ imports only the core before gaps'
    >>> layout_violations("gaps", "signal.terrain") is None
    True
    """
    here, there = _wing(module), _wing(imported)
    if imported == module or imported.endswith(".__init__") and module.startswith(
            imported.rsplit(".", 1)[0] + "."):
        return None
    if there == "run" and here != "run" and module not in ("cli", "__init__"):
        return "only cli and __init__ import from run/"
    if imported == "cli":
        return "nothing imports the cli"
    if here is None:  # core
        if there is None:
            if ORDER.get(imported, len(ORDER)) > ORDER.get(module, len(ORDER)):
                return f"the core imports only modules before {module} in its flow"
            return None
        if there == "signal" and ORDER[module] >= ORDER[SIGNAL_AT]:
            return None
        if module in ("cli", "__init__"):
            return None
        return f"core module {module} may not import {there}/"
    if there is None:
        if here == "signal" and ORDER.get(imported, len(ORDER)) >= ORDER[SIGNAL_AT]:
            return f"signal/ imports only the core before {SIGNAL_AT}"
        if imported in ("cli", "__init__"):
            return f"{here}/ may not import the package's top"
        return None
    if there not in ALLOWED_WINGS[here]:
        return f"{here}/ may not import {there}/"
    return None


def test_every_core_module_has_a_place_in_the_flow():
    missing = [m for m in _modules() if _wing(m) is None and m not in ORDER]
    assert not missing, f"give these core modules a place in tests/test_layout.py CORE: {missing}"


@pytest.mark.parametrize("module", _modules())
def test_module_imports_follow_the_layout(module):
    package = module.rsplit(".", 1)[0] if "." in module else ""
    source = _path(module).read_text(encoding="utf-8")
    bad = {name: (line, why) for name, line in imports_of(source, package=package).items()
           if (why := layout_violations(module, name))}
    assert not bad, f"geo_dx/{module.replace('.', '/')}.py: " + "; ".join(
        f"imports {name} (line {line}): {why}" for name, (line, why) in bad.items())


def test_the_layout_check_catches_backwards_imports():
    """The check is not vacuous: each rule reports a backwards import."""
    assert layout_violations("schema", "coverage")
    assert layout_violations("coverage", "signal.terrain")
    assert layout_violations("signal.terrain", "plan.model")
    assert layout_violations("plan.model", "maps.write")
    assert layout_violations("maps.write", "run.report")
    assert layout_violations("gaps", "run.folder")
    assert layout_violations("partition", "maps.overview")
    assert layout_violations("run.pipeline", "gaps") is None
    assert layout_violations("plan.model", "signal.served") is None


@pytest.mark.parametrize("module", _modules())
def test_no_module_imports_another_modules_private_name(module):
    """A name starting with ``_`` stays in its module: two users mean it needs a public owner."""
    package = module.rsplit(".", 1)[0] if "." in module else ""
    source = _path(module).read_text(encoding="utf-8")
    private = {name: [n for n in names if n.startswith("_") and not n.startswith("__")]
               for name, (_, names) in _import_nodes(source, package=package).items()
               if name != module}
    tree = ast.parse(source)
    aliases = {a.asname or a.name.rsplit(".", 1)[-1]: a.name for n in ast.walk(tree)
               if isinstance(n, ast.ImportFrom | ast.Import) for a in n.names}
    for node in ast.walk(tree):
        if (isinstance(node, ast.Attribute) and node.attr.startswith("_")
                and not node.attr.startswith("__") and isinstance(node.value, ast.Name)
                and node.value.id in aliases and node.value.id not in ("self", "cls")
                and _exists(aliases[node.value.id].replace("geo_dx.", "")
                            if aliases[node.value.id].startswith("geo_dx.")
                            else aliases[node.value.id])):
            private.setdefault(node.value.id, []).append(node.attr)
    private = {k: v for k, v in private.items() if v}
    assert not private, f"geo_dx/{module.replace('.', '/')}.py uses private names: {private}"


def test_the_private_import_check_catches_one():
    nodes = _import_nodes("from geo_dx.gaps import _dem_grid, find_gaps\n")
    assert nodes["gaps"][1] == ["_dem_grid", "find_gaps"]


@pytest.mark.parametrize("module", _modules())
def test_no_module_over_600_lines(module):
    lines = _path(module).read_text(encoding="utf-8").count("\n")
    path = module.replace('.', '/')
    assert lines <= 600, f"geo_dx/{path}.py has {lines} lines; split it by concept"


def test_no_docstring_example_is_skipped():
    """Docstring examples run (on load_demo() or small data); none is skipped."""
    skipped = [f"{p.name}:{n}" for p in sorted(PACKAGE.rglob("*.py"))
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


def test_architecture_page_names_every_module():
    page = (PACKAGE.parent / "docs" / "architecture.md").read_text(encoding="utf-8")
    missing = [m for m in _modules() if not m.endswith("__init__")
               and f"`geo_dx/{m.replace('.', '/')}.py`" not in page]
    assert not missing, f"docs/architecture.md lacks: {missing}"


def test_lon_lat_for_display_has_one_owner():
    """Maps and pages put frames in longitude/latitude only through ``maps.payload.to_wgs84``
    (one policy for empty geometries and a missing CRS)."""
    import re

    owner = PACKAGE / "maps" / "payload.py"
    pattern = re.compile(r"\.(?:to_crs|set_crs)\(\s*(?:4326|['\"]EPSG:4326['\"])")
    found = []
    for path in sorted((PACKAGE / "maps").glob("*.py")):
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            code = line.split("#")[0]
            if pattern.search(code) and ">>>" not in code and path != owner:
                found.append(f"{path.relative_to(PACKAGE)}:{number}")
    assert found == [], "use geo_dx.maps.payload.to_wgs84 instead"
