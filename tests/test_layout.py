"""Imports run one way, down the pipeline (docs/architecture.md, "Layers").

Every import between the package's modules, at the top of a module or inside a
function (imports for type checking only aside), goes from a layer to the same
or a lower one, and no modules import each other in a circle. The one import
upward is the facade that lets a checked `Program` run itself
(`program.evaluate()`, `program.session()`), made inside those two methods.

A package inside (`incentive/columnar/`) stands in its layer as one module, and
its own modules have an order of their own (`PACKAGES`): each imports only those
before it, so none import each other in a circle either.
"""

from __future__ import annotations

import ast
import re
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

# The modules of each package inside, bottom first: each imports only those before it.
PACKAGES: dict[str, list[str]] = {
    # the columnar plan (docs/architecture.md, "The columnar plan")
    "columnar": [
        "conditions",  # a rule's condition as a column expression
        "plan",  # whether a scheme takes the plan; the plan
        "reading",  # plain input, a block at a time, as dated events
        "chunks",  # what the stages share: a chunk, its carry, record rows, forms
        "awards",  # the stages...
        "steps",
        "streaks",
        "ranks",
        "closes",  # the interpreter's own closes (reads `ranks`' entries)
        "stages",  # which stages a chunk goes through, per member or across members
        "writing",  # budgets, balances, lines
        "workers",  # --jobs
        "running",  # run_columnar
        "__init__",  # what callers outside import
    ],
}


def _imports(path: Path, package: str = "incentive") -> set[str]:
    """The modules of `package` a module imports (the name after `package.`; a name
    imported from `package` itself as it is), type-checking-only imports aside.
    Relative imports count as the absolute ones they stand for."""
    found: set[str] = set()
    here = "incentive" if path.parent == PACKAGE else f"incentive.{path.parent.name}"

    def add(module: str, names: list[str]) -> None:
        if module.startswith(f"{package}."):
            found.add(module[len(package) + 1 :].split(".")[0])
        elif module == package:
            found.update(names)

    def visit(node: ast.AST) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.If) and "TYPE_CHECKING" in ast.unparse(child.test):
                continue
            if isinstance(child, ast.ImportFrom):
                module = child.module or ""
                if child.level:
                    base = here.rsplit(".", child.level - 1)[0] if child.level > 1 else here
                    module = f"{base}.{module}" if module else base
                add(module, [alias.name for alias in child.names])
            elif isinstance(child, ast.Import):
                for alias in child.names:
                    add(alias.name, ["__init__"])
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
    assert _circles(graph) == []


def _circles(graph: dict[str, set[str]]) -> list[str]:
    """The modules from which the imports lead back to themselves."""

    def reaches(start: str, goal: str, seen: set[str]) -> bool:
        for nxt in graph.get(start, ()):
            if nxt == goal or (nxt not in seen and not seen.add(nxt) and reaches(nxt, goal, seen)):
                return True
        return False

    return sorted(m for m in graph if reaches(m, m, set()))


def _inside(package: str) -> dict[str, set[str]]:
    """Each module of a package inside and the package's modules it imports (a name
    imported from the package itself, what its `__init__` exports: `__init__`)."""
    folder = PACKAGE / package
    graph = {}
    for path in sorted(folder.glob("*.py")):
        found = _imports(path, f"incentive.{package}")
        graph[path.stem] = {n if (folder / f"{n}.py").exists() else "__init__" for n in found}
    return graph


def test_every_module_of_a_package_has_a_place_in_its_order() -> None:
    assert {init.parent.name for init in PACKAGE.glob("*/__init__.py")} == set(PACKAGES)
    for package, order in PACKAGES.items():
        assert sorted(_inside(package)) == sorted(order), (
            f"a new module of {package} needs a place in PACKAGES (and the docs)"
        )


def test_a_packages_imports_run_down_its_order() -> None:
    upward = [
        f"{package}.{module} -> {target}"
        for package, order in PACKAGES.items()
        for module, targets in sorted(_inside(package).items())
        for target in sorted(targets)
        if order.index(target) >= order.index(module)
    ]
    assert upward == []


def test_no_module_of_a_package_imports_another_in_a_circle() -> None:
    for package in PACKAGES:
        assert _circles(_inside(package)) == [], package


def test_the_docs_layers_table_is_layers() -> None:
    """docs/architecture.md's "Layers" table names each layer's modules as LAYERS does
    (an audit found `jobs` missing from it)."""
    text = (PACKAGE.parent / "docs" / "architecture.md").read_text(encoding="utf-8")
    table = text.split("### Layers", 1)[1].split("\n\n")[2]
    modules = set(_units())
    documented: list[set[str]] = []
    for row in table.splitlines()[2:]:
        _, layer, cell, _ = row.split("|")  # | layer | modules |
        assert int(layer) == len(documented)
        names = set()
        for quoted in re.findall(r"`([^`]+)`", cell):
            found = re.fullmatch(r"incentive/(\w+)\.py", quoted)
            name = found.group(1) if found else quoted
            if name in modules:
                names.add(name)
        documented.append(names)
    assert documented == LAYERS
