"""Running the command line inside the tests, the way every CLI test does."""

from __future__ import annotations

from click.testing import CliRunner

from incentive.cli import main


def invoke(*args: str, input: str | None = None) -> tuple[int, str]:
    """Exit code and output (standard output and error) of `incentive ARGS`.

    An exception inside a command is raised here, not turned into an exit code,
    and no traceback may reach the output: operators never see one."""
    result = CliRunner().invoke(main, list(args), input=input, catch_exceptions=False)
    assert "Traceback" not in result.output
    return result.exit_code, result.output
