"""Imports run one way, down the pipeline (docs/architecture.md, "Layers").

Every import between the package's modules, at the top of a module or inside a
function (imports for type checking only aside), goes from a layer to the same
or a lower one, and no modules import each other in a circle. The one import
upward is the facade that lets a checked `Program` run itself
(`program.evaluate()`, `program.session()`), made inside those two methods.
"""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parent.parent / "incentive"

LAYERS: list[set[str]] = [
    # language texts; cheap frozen dataclasses; lark's import; the parser's run time
    {"i18n", "frozen", "leanlark", "lalr"},
    {"diagnostics", "records", "reasons"},  # reasons: a record's reason in the language
    {"ast", "spelling"},
    {"parser", "formatter", "calendar", "expressions"},
    {"program", "events", "roster", "lalrgen"},  # the checked scheme; input; the tables' writer
    {"lints", "checker_ledger", "checker"},  # language -> program
    {
        "state",
        "intake",
        "rules",
        "ranks",
        "goals",
        "start_windows",
        "leagues",
        "budgets",
        "ledger",
        "spending",
        "reversals",
        "transfers",
        "catalogues",
    },  # engine stages
    {"codec", "processes"},  # the state as versioned JSON; `--jobs`' worker processes
    {"engine"},  # the reference interpreter
    # the compiled evaluator (on the interpreter's steps); the plan; the compiled split
    {"compiler", "columnar", "split"},
    {"runner", "store", "jobs"},  # choosing an evaluator; batch and bounded runs; stores;
    # the worker process of `run --jobs`
    {
        "analysis",
        "report",
        "simulation",
        "population",
        "cases",
        "html_report",
        "html_compare",
        "posts",
    },
    {"live"},  # a session kept in a store
    {"serve"},  # the HTTP service over a live session
    {"cli", "clihelp", "__init__", "__main__"},
]
FACADE = {("program", "runner")}  # Program.evaluate / Program.session


def _imports(path: Path) -> set[str]:
    """The package modules a module imports, type-checking-only imports aside."""
    found: set[str] = set()

    def visit(node: ast.AST) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.If) and "TYPE_CHECKING" in ast.unparse(child.test):
                continue
            if isinstance(child, ast.ImportFrom) and child.module:
                if child.module.startswith("incentive."):
                    found.add(child.module.split(".")[1])
                elif child.module == "incentive":
                    found.update(alias.name for alias in child.names)
            elif isinstance(child, ast.Import):
                found.update(
                    alias.name.split(".")[1]
                    for alias in child.names
                    if alias.name.startswith("incentive.")
                )
            visit(child)

    visit(ast.parse(path.read_text(encoding="utf-8")))
    return found


def _units() -> dict[str, list[Path]]:
    """Each module of the package and each package inside it (its files taken together),
    by name: `incentive.columnar.running` is part of `columnar`."""
    units = {path.stem: [path] for path in PACKAGE.glob("*.py")}
    for init in PACKAGE.glob("*/__init__.py"):
        units[init.parent.name] = sorted(init.parent.glob("*.py"))
    return units


def _layer_of() -> dict[str, int]:
    return {module: index for index, layer in enumerate(LAYERS) for module in layer}


def test_every_module_has_a_layer() -> None:
    assert set(_units()) == set(_layer_of()), "a new module needs a place in LAYERS (and the docs)"


def test_imports_run_down_the_layers() -> None:
    layer = _layer_of()
    upward = []
    for unit, paths in sorted(_units().items()):
        for path in paths:
            for target in _imports(path) & set(layer):
                if layer[target] > layer[unit] and (unit, target) not in FACADE:
                    upward.append(f"{unit} -> {target}")
    assert upward == []


def test_no_module_imports_another_in_a_circle() -> None:
    # a package's modules importing each other: no circle between layers
    graph = {unit: set().union(*map(_imports, paths)) - {unit} for unit, paths in _units().items()}
    for source, target in FACADE:
        graph[source].discard(target)

    def reaches(start: str, goal: str, seen: set[str]) -> bool:
        for nxt in graph.get(start, ()):
            if nxt == goal or (nxt not in seen and not seen.add(nxt) and reaches(nxt, goal, seen)):
                return True
        return False

    circles = sorted(m for m in graph if reaches(m, m, set()))
    assert circles == []
