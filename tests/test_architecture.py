"""The package's layout keeps its rules (ARCHITECTURE.md): layers import only downward, no
import cycle, few modules at the top, none too long.

The imports are read from the source with `ast`; an import inside a function counts for the
layer rules (it is still a dependency) but not for cycles (Python resolves it at call time,
which is how the app factory and the CLI reach the blueprints above them).
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from functools import cache
from pathlib import Path

from tests.support import ROOT

PACKAGE = ROOT / "server" / "s22a"
# Lowest first. A module may import its own layer's modules and any lower layer's.
LAYERS: tuple[tuple[str, ...], ...] = (
    ("base",),  # the modules directly in s22a/: namespaces, resources, config, jsonld...
    ("store",),
    ("history", "reconcile"),
    ("ingest",),
    ("read", "sparql"),
    ("web",),
    ("views",),
    ("top",),  # the app factory, the command line
)
TOP = {"__init__", "__main__", "cli"}
MAX_TOP_MODULES = 12
MAX_LINES = 400


def module_name(path: Path) -> str:
    parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def layer_of(module: str) -> str:
    parts = module.split(".")
    if len(parts) == 1:
        return "top"  # the package itself: create_app
    if (PACKAGE / parts[1]).is_dir():
        return parts[1]  # a subpackage, or a module in one
    return "top" if parts[1] in TOP else "base"


def rank(layer: str) -> int:
    return next(i for i, names in enumerate(LAYERS) if layer in names)


@cache
def modules() -> dict[str, Path]:
    return {module_name(p): p for p in sorted(PACKAGE.rglob("*.py"))}


def imports(path: Path) -> Iterator[tuple[str, bool]]:
    """The s22a modules `path` imports, and whether each import is at module level."""
    tree = ast.parse(path.read_text())
    top_level = {id(node) for node in tree.body}
    known = modules()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            if not node.module.startswith("s22a"):
                continue
            for alias in node.names:  # `from s22a.x import y`: y may be a module
                full = f"{node.module}.{alias.name}"
                target = full if full in known else node.module
                yield target, id(node) in top_level
        elif isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.startswith("s22a"):
                    yield alias.name, id(node) in top_level
        elif isinstance(node, ast.ImportFrom) and node.level:
            raise AssertionError(f"{path}: use absolute imports (from s22a...)")


def test_layers_import_only_downward() -> None:
    wrong = []
    for module, path in modules().items():
        here = layer_of(module)
        for target, _ in imports(path):
            there = layer_of(target)
            if there == here or rank(there) < rank(here):
                continue
            wrong.append(f"{module} ({here}) imports {target} ({there})")
    assert wrong == []


def test_sibling_layers_do_not_import_each_other() -> None:
    siblings = [names for names in LAYERS if len(names) > 1]
    wrong = []
    for module, path in modules().items():
        here = layer_of(module)
        for names in siblings:
            if here in names:
                for target, _ in imports(path):
                    there = layer_of(target)
                    if there in names and there != here:
                        wrong.append(f"{module} imports {target}")
    assert wrong == []


def test_there_is_no_import_cycle() -> None:
    graph = {
        module: {target for target, top_level in imports(path) if top_level and target != module}
        for module, path in modules().items()
    }
    # A package's __init__ importing its own modules is how a package exports them: what
    # would be a cycle is a module importing its package back while the package imports it.
    state: dict[str, int] = {}
    cycles: list[list[str]] = []

    def visit(node: str, trail: list[str]) -> None:
        state[node] = 1
        for target in sorted(graph.get(node, ())):
            if state.get(target) == 1:
                cycles.append([*trail[trail.index(target) :], target])
            elif target not in state:
                visit(target, [*trail, target])
        state[node] = 2

    for module in sorted(graph):
        if module not in state:
            visit(module, [module])
    assert cycles == []


def test_few_modules_at_the_top_and_none_too_long() -> None:
    top = [p.name for p in PACKAGE.glob("*.py")]
    assert len(top) <= MAX_TOP_MODULES, sorted(top)
    long = {
        name: lines
        for name, path in modules().items()
        if (lines := len(path.read_text().splitlines())) > MAX_LINES
    }
    assert long == {}


def test_the_rules_are_not_empty() -> None:
    # The walk above really sees imports (a rule that finds nothing to check cannot fail).
    found = {target for path in modules().values() for target, _ in imports(path)}
    assert {"s22a.store", "s22a.ingest.gate", "s22a.web.conneg"} <= found
    assert layer_of("s22a.views.pages") == "views" and layer_of("s22a.config") == "base"
