"""The README and docs/ stay true: the two commands, the links, the default configuration."""

from __future__ import annotations

import dataclasses
import importlib
import re
import tomllib
from collections.abc import Mapping
from pathlib import Path

import pytest

from geo_dx.config import Config, config_from_dict

ROOT = Path(__file__).resolve().parents[1]
README = ROOT / "README.md"
DOCS = ROOT / "docs"

# [text](target) not preceded by "!" is a link; ![alt](target) an image: both must resolve.
LINK = re.compile(r"!?\[(?:[^\[\]]|\[[^\]]*\])*\]\(([^)\s]+)\)")
FENCE = re.compile(r"^```.*?^```", re.S | re.M)


def _pages() -> list[Path]:
    return [README, *sorted(DOCS.rglob("*.md"))]


def _code_block(text: str, after: str, language: str = "") -> str:
    """The first fenced block (of ``language``) after the heading ``after``."""
    start = text.index(after)
    match = re.search(rf"^```{language}\n(.*?)^```", text[start:], re.S | re.M)
    assert match, f"no ```{language} block after {after!r}"
    return match.group(1)


def _recipe(makefile: str, target: str) -> list[str]:
    """The command lines of a Makefile target."""
    lines = makefile.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith(f"{target}:"))
    recipe = []
    for line in lines[start + 1:]:
        if not line.startswith("\t"):
            break
        recipe.append(line.strip())
    return recipe


def slug(heading: str) -> str:
    """GitHub's anchor for a Markdown heading.

    Examples
    --------
    >>> slug("Unit costs (`[plan.costs]`, VND)")
    'unit-costs-plancosts-vnd'
    >>> slug("Predicted signal (`itm`)")
    'predicted-signal-itm'
    """
    text = heading.strip().lower()
    text = re.sub(r"[^\w\- ]", "", text)
    return text.replace(" ", "-")


def anchors(page: Path) -> set[str]:
    """Every heading anchor of a Markdown page (repeated headings get -1, -2, ...)."""
    text = FENCE.sub("", page.read_text(encoding="utf-8"))
    seen: dict[str, int] = {}
    out = set()
    for heading in re.findall(r"^#{1,6} +(.+?) *#*$", text, re.M):
        base = slug(heading)
        n = seen.get(base, 0)
        seen[base] = n + 1
        out.add(base if n == 0 else f"{base}-{n}")
    return out


def links(page: Path) -> list[str]:
    text = FENCE.sub("", page.read_text(encoding="utf-8"))
    text = re.sub(r"`[^`\n]*`", "", text)  # code spans are not links
    return LINK.findall(text)


def test_slug_and_anchors_follow_github(tmp_path: Path) -> None:
    page = tmp_path / "p.md"
    page.write_text("# Outputs: the run folder\n\n## A\n\n## A\n\n```\n# not a heading\n```\n"
                    "## Ý nghĩa các số liệu\n", encoding="utf-8")
    assert anchors(page) == {"outputs-the-run-folder", "a", "a-1", "ý-nghĩa-các-số-liệu"}
    page.write_text("[x](a.md#b) ![i](img/m.png) `[y](not-a-link.md)`\n```\n[z](no.md)\n```\n",
                    encoding="utf-8")
    assert links(page) == ["a.md#b", "img/m.png"]


@pytest.mark.parametrize("page", _pages(), ids=lambda p: str(p.relative_to(ROOT)))
def test_every_link_resolves(page: Path) -> None:
    broken = []
    for target in links(page):
        if re.match(r"[a-z]+:", target):  # http(s), mailto: the page itself says where
            continue
        path, _, anchor = target.partition("#")
        file = (page.parent / path).resolve() if path else page
        if not file.exists():
            broken.append(f"{target}: no file {file}")
        elif anchor and file.suffix == ".md" and anchor not in anchors(file):
            broken.append(f"{target}: no heading #{anchor} in {file.relative_to(ROOT)}")
    assert not broken, f"{page.relative_to(ROOT)}: " + "; ".join(broken)


def test_every_docs_page_is_in_the_index() -> None:
    index = (DOCS / "README.md").read_text(encoding="utf-8")
    listed = {(DOCS / target.partition("#")[0]).resolve() for target in links(DOCS / "README.md")}
    missing = [str(p.relative_to(DOCS)) for p in DOCS.rglob("*.md")
               if p.name != "README.md" and p.resolve() not in listed]
    assert not missing, f"add a line for {missing} to docs/README.md, the index of docs/"
    assert index.startswith("# ")


def test_readme_is_short() -> None:
    lines = README.read_text(encoding="utf-8").splitlines()
    assert len(lines) <= 300, f"README.md has {len(lines)} lines; move detail to docs/"


def test_readme_quick_start_is_the_two_make_targets() -> None:
    block = _code_block(README.read_text(encoding="utf-8"), "## Quick start", "sh")
    commands = [line.split("#")[0].strip() for line in block.splitlines() if line.strip()]
    assert commands == ["make demo", "make test"]
    makefile = (ROOT / "Makefile").read_text(encoding="utf-8")
    # What the README says each does.
    assert "`geo-dx run --budget 30e9`" in block
    assert _recipe(makefile, "demo") == ["$(BIN)/geo-dx run --budget 30e9"]
    test = _recipe(makefile, "test")
    assert "runs the linter (ruff)" in block
    assert test[0] == "$(BIN)/ruff check geo_dx tests benchmarks", "lint first, so CI fails on it"
    assert test[-1] == "$(BIN)/python -m pytest"
    # CI runs exactly the README's test command.
    ci = [line for line in (ROOT / ".ci" / "run").read_text(encoding="utf-8").splitlines()
          if line and not line.startswith("#")]
    assert ci[-1].endswith("make test") and ci[-1].split()[-2:] == ["make", "test"]


def test_readme_python_example_runs() -> None:
    code = _code_block(README.read_text(encoding="utf-8"), "## Python", "python")
    namespace: dict = {}
    exec(compile(code, "README.md", "exec"), namespace)  # noqa: S102 - our own README
    plan, gaps = namespace["plan"], namespace["gaps"]
    assert set(plan.items.columns) >= {"item_id", "cost_vnd", "villages_served"}
    assert 0 < plan.summary["cost_used_vnd"] <= 30e9
    assert len(gaps) == 1650


def test_configuration_reference_is_the_default_and_names_every_key() -> None:
    text = (DOCS / "configuration.md").read_text(encoding="utf-8")
    block = _code_block(text, "## Every key with its default", "toml")
    assert config_from_dict(tomllib.loads(block), source="docs/configuration.md") == Config()
    # Every key appears (set, or commented out where absent is the default).
    keys = set(re.findall(r"^#? *\"?([\w]+)\"? *=", block, re.M))
    tables = set(re.findall(r"^\[([\w.]+)\]", block, re.M))

    def missing(obj: object, prefix: str) -> list[str]:
        out = []
        for field in dataclasses.fields(obj):
            value = getattr(obj, field.name)
            name = f"{prefix}{field.name}"
            if dataclasses.is_dataclass(value):
                if not any(t == name or t.startswith(f"{name}.") for t in tables):
                    out.append(name)
                out += missing(value, f"{name}.")
            elif isinstance(value, Mapping):
                if name not in tables:
                    out.append(name)
            elif field.name not in keys:
                out.append(name)
        return out

    assert not missing(Config(), ""), f"docs/configuration.md lacks: {missing(Config(), '')}"


def test_every_geo_dx_name_and_path_in_the_docs_exists() -> None:
    """`geo_dx.x.y` names and `geo_dx/x.py` paths in README.md and docs/ stay true as code moves.

    (docs/architecture.md may name the owners a change is about to create; its module
    table is held to the code by tests/test_layout.py.)
    """
    missing = []
    for page in _pages():
        text = page.read_text(encoding="utf-8")
        for name in sorted(set(re.findall(r"`(geo_dx(?:\.\w+)+)", text))):
            parts = name.split(".")
            for i in range(len(parts), 0, -1):
                try:
                    obj = importlib.import_module(".".join(parts[:i]))
                except ImportError:
                    continue
                try:
                    for attribute in parts[i:]:
                        obj = getattr(obj, attribute)
                except AttributeError:
                    missing.append(f"{page.relative_to(ROOT)}: {name}")
                break
            else:
                missing.append(f"{page.relative_to(ROOT)}: {name}")
        if page.name == "architecture.md":
            continue
        for path in sorted(set(re.findall(r"`(geo_dx/[\w/.]+?)/?`", text))):
            if not (ROOT / path).exists():
                missing.append(f"{page.relative_to(ROOT)}: {path}")
    assert not missing, missing
