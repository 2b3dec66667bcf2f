"""Start-up (issue 14): `incentive check` imports only what checking needs, and the
public API stays whole although `import incentive` imports next to nothing.

No timings here (they belong to bench/run.py --startup): these tests pin what makes
start-up fast, so that a stray import does not quietly undo it."""

from __future__ import annotations

import importlib
import os
import subprocess
import sys
from pathlib import Path

import pytest

import incentive

ROOT = Path(__file__).resolve().parent.parent

# Run the command in a fresh interpreter and list the modules it imported.
_PROBE = """
import sys
from incentive.cli import main
try:
    main(sys.argv[1:])
except SystemExit:
    pass
print("-- modules --")
print("\\n".join(sorted(sys.modules)))
"""

# What `check` must not import: the engine and everything only running a scheme needs.
NOT_FOR_CHECK = (
    "incentive.analysis",
    "incentive.budgets",
    "incentive.cases",
    "incentive.engine",
    "incentive.events",
    "incentive.html_compare",
    "incentive.html_report",
    "incentive.ledger",
    "incentive.population",
    "incentive.ranks",
    "incentive.records",
    "incentive.report",
    "incentive.roster",
    "incentive.rules",
    "incentive.simulation",
    "pydantic",
    "pydantic_core",
    "rich",
    "yaml",
)


def _imported_by(*args: str) -> set[str]:
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")]),
    }
    run = subprocess.run(
        [sys.executable, "-c", _PROBE, *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert "-- modules --" in run.stdout, run.stderr
    return set(run.stdout.split("-- modules --\n", 1)[1].split())


def test_check_imports_no_engine_pydantic_yaml_or_rich() -> None:
    modules = _imported_by("check", "schemes/writing_camp.incentive")
    assert "incentive.checker" in modules  # the probe really checked
    assert sorted(set(NOT_FOR_CHECK) & modules) == []


def test_check_of_an_invalid_scheme_imports_no_more() -> None:
    modules = _imported_by("check", "tests/golden/limits_and_caps/events.jsonl")
    assert "incentive.parser" in modules
    assert sorted(set(NOT_FOR_CHECK) & modules) == []


def test_help_imports_neither_the_checker_nor_lark() -> None:
    modules = _imported_by("--help")
    assert "incentive.cli" in modules
    assert sorted({"incentive.checker", "incentive.parser", "lark", *NOT_FOR_CHECK} & modules) == []


@pytest.mark.parametrize("name", incentive.__all__)
def test_every_public_name_imports(name: str) -> None:
    namespace: dict[str, object] = {}
    exec(f"from incentive import {name}", namespace)
    value = namespace[name]
    assert value is getattr(incentive, name)
    assert name in dir(incentive)
    if name in incentive._LAZY:  # the very object of its own module
        assert value is getattr(importlib.import_module(incentive._LAZY[name]), name)


def test_unknown_names_still_raise_attribute_error() -> None:
    with pytest.raises(AttributeError, match="no_such_name"):
        _ = incentive.no_such_name  # type: ignore[attr-defined]
    with pytest.raises(ImportError):
        exec("from incentive import no_such_name", {})
