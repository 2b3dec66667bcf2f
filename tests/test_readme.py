"""The README's commands work as written: the set-up section's dry run of the
writing camp, and every `incentive` line of the tour (the shop's 35-second
simulation is run by the docs tests, from docs/cli.md)."""

from __future__ import annotations

import re
import shlex
from pathlib import Path

import pytest
from click.testing import CliRunner

from incentive.cli import main as cli

ROOT = Path(__file__).resolve().parent.parent
README = (ROOT / "README.md").read_text(encoding="utf-8")


def _commands() -> list[str]:
    blocks = re.findall(r"```sh\n(.*?)```", README, re.S)
    lines = [line.split("  #")[0].strip() for block in blocks for line in block.splitlines()]
    return [line for line in lines if line.startswith("incentive ") and "shop" not in line]


def test_the_readme_starts_with_install_dry_run_and_test() -> None:
    setup = README[README.index("## Set up, run, test") : README.index("## A five-minute tour")]
    commands = re.findall(r"```sh\n(.*?)\n```", setup, re.S)
    assert commands[0] == "python3 -m pip install -e '.[dev]'"
    assert commands[1].startswith("incentive simulate schemes/writing_camp.incentive")
    assert commands[2] == "python3 -m pytest"
    assert (
        (ROOT / ".ci/run")
        .read_text(encoding="utf-8")
        .rstrip()
        .endswith("python3 -m pip install -e '.[dev]'\npython3 -m pytest")
    )


@pytest.mark.parametrize("command", _commands())
def test_a_readme_command_works(
    command: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(ROOT)
    args = shlex.split(command)[1:]
    if ">" in args:  # a redirect: the output is what is checked here
        args = args[: args.index(">")]
    args = [str(tmp_path / a) if a.endswith(".html") else a for a in args]
    result = CliRunner().invoke(cli, args)
    if result.exit_code == 1:  # run's way of saying some events were unusable (documented)
        assert args[0] == "run" and "could not be evaluated" in result.output, result.output
    else:
        assert result.exit_code == 0, f"{command}\n{result.output}"
    assert result.output.strip()
    if "simulate" in args:
        page = next(tmp_path.glob("*.html"))
        assert "21-day writing camp" in page.read_text(encoding="utf-8")
        assert "top class" in result.output and "class by points earned" in result.output
