"""Every example in docs/ is real: this module runs them.

Fenced blocks are recognised by their info string:

- ```` ```incentive ```` — a complete scheme: it parses and checks without
  errors (warnings are allowed) and is already in canonical form
  (`incentive.fmt(text) == text`).
- ```` ```incentive error=E0216 ```` — a scheme that must fail to parse or check
  with a diagnostic of that code. ```` ```incentive warning=W0301 ```` — a
  scheme that checks, is canonical, and gets that warning.
- ```` ```jsonl events ```` — events evaluated in one batch (`program.evaluate`)
  against the nearest valid `incentive` block above it in the same file. When
  the next block is ```` ```jsonl records ````, its lines must be exactly the
  records (`Record.to_json()`), then the final `balance` records
  (`INCENTIVE_UPDATE_GOLDEN=1` rewrites them; review the diff). Events are
  read as JSON Lines named `<input>`, so a broken line becomes a `bad_event`.
- ```` ```console ```` — commands run from the repository root. `$ incentive ...`
  runs the CLI in-process (click's CliRunner, stdout and stderr mixed as on a
  terminal); `$ cat FILE` prints a file. The lines up to the next `$` line are
  the output, compared with trailing spaces stripped; a line `...` stands for
  any number of lines. A command ending in `; echo $?` also prints its exit
  code. Use ```` ```sh ```` for commands that must not run.
  `INCENTIVE_UPDATE_GOLDEN=1` rewrites an output that differs (one with at most
  one `...` keeps as many first and last lines as it had; review the diff).
- ```` ```python ```` — run in order in one namespace per file, from the
  repository root; a failing `assert` fails the example. Line numbers in
  tracebacks are those of the Markdown file.

Pages in docs/zh/ are the Chinese docs: their `jsonl` blocks are evaluated and
their records written with the language set to Chinese (what `--lang zh` does);
their commands say `--lang zh` themselves, so what the reader types is what runs.

Any other block (`sh`, `json`, `text`, plain `jsonl`, ...) is prose. An unknown
attribute on a checked block (`incentive fragment`) is an error, so a typo never
switches a test off. Every other file in docs/ (examples) must be mentioned by a
page. Every scheme in schemes/ must check and be canonical.
"""

from __future__ import annotations

import contextlib
import difflib
import io
import os
import re
import shlex
import sys
import traceback
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

import incentive
from incentive import i18n
from incentive.cli import main as cli
from incentive.events import read_events

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs"
SCHEMES = ROOT / "schemes"

FENCE = re.compile(r"^(?P<indent>\s*)(?P<fence>`{3,}|~{3,})(?P<info>.*)$")
# language -> the flags and options its blocks may carry
CHECKED = {
    "incentive": (set(), {"error", "warning", "file"}),
    "jsonl": ({"events", "records"}, {"file"}),
    "console": (set(), set()),
    "python": (set(), set()),
}


@dataclass(frozen=True)
class Block:
    path: Path
    line: int  # 1-based line of the opening fence
    lang: str
    words: tuple[str, ...]  # the info string after the language: `events`, `error=E0216`
    text: str  # the content, each line ending in "\n"

    @property
    def where(self) -> str:
        return f"{_rel(self.path)}:{self.line}"

    @property
    def flags(self) -> set[str]:
        return {word for word in self.words if "=" not in word}

    @property
    def options(self) -> dict[str, str]:
        return dict(word.split("=", 1) for word in self.words if "=" in word)


def _rel(path: Path) -> str:
    return path.relative_to(ROOT).as_posix() if path.is_relative_to(ROOT) else str(path)


def read_blocks(path: Path) -> list[Block]:
    """The fenced blocks of a Markdown file (CommonMark fences, any indent)."""
    lines = path.read_text(encoding="utf-8").split("\n")
    blocks: list[Block] = []
    i = 0
    while i < len(lines):
        opening = FENCE.match(lines[i])
        if not opening or ("`" in opening["info"] and opening["fence"][0] == "`"):
            i += 1
            continue
        indent, fence = len(opening["indent"]), opening["fence"]
        words = opening["info"].split()
        body: list[str] = []
        j = i + 1
        while j < len(lines):
            closing = FENCE.match(lines[j])
            if (
                closing
                and closing["fence"][0] == fence[0]
                and len(closing["fence"]) >= len(fence)
                and not closing["info"].strip()
            ):
                break
            text = lines[j]
            body.append(text[min(indent, len(text) - len(text.lstrip(" "))) :])
            j += 1
        else:
            raise AssertionError(f"{_rel(path)}:{i + 1}: this code block is never closed")
        blocks.append(
            Block(
                path,
                i + 1,
                words[0] if words else "",
                tuple(words[1:]),
                "".join(line + "\n" for line in body),
            )
        )
        i = j + 1
    return blocks


# ---- one check per kind of block ------------------------------------------------------


def check_scheme(block: Block) -> None:
    expect = block.options
    if "error" in expect:
        code = expect["error"]
        assert code.startswith("E"), f"{block.where}: {code} is a warning: write warning={code}"
        try:
            incentive.compile(block.text, "example.incentive")
        except incentive.SchemeError as err:
            codes = [d.code for d in err.diagnostics]
            assert code in codes, f"{block.where}: expected {code}, got {codes}:\n{err.render()}"
            return
        raise AssertionError(f"{block.where}: expected error {code}, but the scheme checks")
    try:
        program = incentive.compile(block.text, "example.incentive")
    except incentive.SchemeError as err:
        raise AssertionError(f"{block.where}: the scheme does not check:\n{err.render()}") from None
    if "warning" in expect:
        codes = [d.code for d in program.warnings]
        want = expect["warning"]
        assert want in codes, f"{block.where}: expected {want}, got {codes}"
    canonical = incentive.fmt(block.text)
    assert canonical == block.text, f"{block.where}: not in canonical form:\n" + _diff(
        block.text.splitlines(), canonical.splitlines()
    )


def page_language(path: Path) -> str:
    """The language of a page: Chinese under docs/zh/, else English."""
    return "zh" if path.resolve().is_relative_to(DOCS / "zh") else "en"


def check_events(blocks: list[Block], index: int) -> None:
    with i18n.language(page_language(blocks[index].path)):
        _check_events(blocks, index)


def _check_events(blocks: list[Block], index: int) -> None:
    block = blocks[index]
    schemes = [b for b in blocks[:index] if b.lang == "incentive" and "error" not in b.options]
    assert schemes, f"{block.where}: no `incentive` block above these events"
    program = incentive.compile(schemes[-1].text, "example.incentive")
    result = program.evaluate(
        read_events(io.StringIO(block.text), program.calendar, "jsonl", "<input>")
    )
    actual = [r.to_json() for r in [*result.records, *result.session.balance_records()]]
    after = blocks[index + 1] if index + 1 < len(blocks) else None
    if after is not None and after.lang == "jsonl" and after.flags == {"records"}:
        expected = after.text.splitlines()
        if actual != expected and os.environ.get("INCENTIVE_UPDATE_GOLDEN"):
            _replace_block(after, "".join(line + "\n" for line in actual))
            return
        assert actual == expected, (
            f"{after.where}: the records differ from what {block.where} gives "
            f"with the scheme at line {schemes[-1].line}:\n" + _diff(expected, actual)
        )


def _replace_block(block: Block, text: str) -> None:
    """Rewrite a block's content in its file (INCENTIVE_UPDATE_GOLDEN=1, unindented blocks)."""
    # Earlier rewrites may have moved the block: find it again by its content.
    current = next(
        b
        for b in read_blocks(block.path)
        if (b.lang, b.words, b.text) == (block.lang, block.words, block.text)
    )
    lines = block.path.read_text(encoding="utf-8").split("\n")
    old = current.text.count("\n")
    lines[current.line : current.line + old] = text.rstrip("\n").split("\n")
    block.path.write_text("\n".join(lines), encoding="utf-8")


def check_console(block: Block, root: Path = ROOT) -> None:
    commands: list[tuple[str, list[str]]] = []
    for line in block.text.splitlines():
        if line.startswith("$ "):
            commands.append((line[2:], []))
        else:
            assert commands, f"{block.where}: a console block starts with a `$ ` command line"
            commands[-1][1].append(line.rstrip())
    update = bool(os.environ.get("INCENTIVE_UPDATE_GOLDEN"))
    written: list[str] = []
    changed = False
    for command, expected in commands:
        actual = run_command(command, root, block.where)
        while expected and not expected[-1]:
            expected.pop()
        if not lines_match(expected, actual) and update:
            renewed = _renewed_output(expected, actual)
            if renewed is not None:
                expected, changed = renewed, True
        assert lines_match(expected, actual), (
            f"{block.where}: `$ {command}` printed something else:\n" + _diff(expected, actual)
        )
        written.extend([f"$ {command}", *expected])
    if changed:
        _replace_block(block, "".join(line + "\n" for line in written))


def _renewed_output(expected: list[str], actual: list[str]) -> list[str] | None:
    """The output to write for INCENTIVE_UPDATE_GOLDEN=1: the actual lines, keeping the
    shape of an output with `...`: as many first and last lines as it shows around its
    gaps, and each run of lines between two gaps taken where the actual output is most
    like it (a reason reworded, the same record). None when a run has no likeness."""
    if "..." not in expected:
        return actual
    runs: list[list[str]] = [[]]
    for line in expected:
        if line == "...":
            runs.append([])
        else:
            runs[-1].append(line)
    head, *middle, tail = runs
    if len(head) + len(tail) > len(actual):
        return actual
    renewed = actual[: len(head)]
    cursor, end = len(head), len(actual) - len(tail)
    for run in middle:
        found = _most_alike(run, actual, cursor, end) if run else cursor
        if found is None:
            return None
        renewed += ["...", *actual[found : found + len(run)]]
        cursor = found + len(run)
    return [*renewed, "...", *actual[end:]]


def _most_alike(run: list[str], actual: list[str], start: int, end: int) -> int | None:
    """Where in actual[start:end] the lines most like `run` begin (at least 60% alike)."""
    starts = range(start, end - len(run) + 1)
    if not starts:
        return None
    # the first line narrows it down cheaply; the whole run decides among the closest
    first = sorted(starts, key=lambda i: -difflib.SequenceMatcher(None, run[0], actual[i]).ratio())
    text = "\n".join(run)
    best = max(
        first[:5],
        key=lambda i: difflib.SequenceMatcher(
            None, text, "\n".join(actual[i : i + len(run)])
        ).ratio(),
    )
    alike = difflib.SequenceMatcher(None, text, "\n".join(actual[best : best + len(run)]))
    return best if alike.ratio() >= 0.6 else None


class TerminalRunner(CliRunner):
    """CliRunner with stdout line-buffered, as on a terminal.

    The runner mixes stdout and stderr into one output in the order they reach it;
    a plain write to a block-buffered stdout would land after everything sent to
    stderr (the summary of `run` would come before its records).
    """

    @contextlib.contextmanager
    def isolation(self, *args: Any, **kwargs: Any) -> Iterator[Any]:
        with super().isolation(*args, **kwargs) as streams:
            sys.stdout.reconfigure(line_buffering=True)  # type: ignore[union-attr]
            yield streams


def run_command(command: str, root: Path, where: str) -> list[str]:
    """The output lines of one `$` line, run in-process from `root`."""
    show_code = command.endswith("; echo $?")
    words = shlex.split(command.removesuffix("; echo $?"))
    assert not set(words) & {"|", ">", "<", "&&", ";"}, f"{where}: no pipes or redirections"
    with contextlib.chdir(root):
        if words[:1] == ["cat"] and len(words) == 2:
            output, code = Path(words[1]).read_text(encoding="utf-8"), 0
        elif words[:1] == ["incentive"]:
            result = TerminalRunner().invoke(cli, words[1:], prog_name="incentive")
            if result.exception is not None and not isinstance(result.exception, SystemExit):
                detail = "".join(traceback.format_exception(result.exception))
                raise AssertionError(f"{where}: `$ {command}` crashed:\n{detail}")
            output, code = result.output, result.exit_code
        else:
            raise AssertionError(
                f"{where}: only `incentive` and `cat FILE` run in docs; "
                "use a ```sh block for other commands"
            )
    lines = [line.rstrip() for line in output.splitlines()]
    while lines and not lines[-1]:
        lines.pop()
    return [*lines, str(code)] if show_code else lines


def lines_match(expected: list[str], actual: list[str]) -> bool:
    """Line-by-line equality where an expected `...` line matches any run of lines."""
    if not expected:
        return not actual
    if expected[0] == "...":
        return any(lines_match(expected[1:], actual[i:]) for i in range(len(actual) + 1))
    return bool(actual) and expected[0] == actual[0] and lines_match(expected[1:], actual[1:])


def check_python(blocks: list[Block], index: int, root: Path = ROOT) -> None:
    """Run this file's python blocks up to this one, in one namespace."""
    namespace: dict[str, object] = {"__name__": "__doc_example__"}
    with contextlib.chdir(root):
        for block in blocks[: index + 1]:
            if block.lang != "python":
                continue
            # Pad with newlines so tracebacks give the line in the Markdown file.
            code = compile("\n" * block.line + block.text, str(block.path), "exec")
            try:
                exec(code, namespace)
            except Exception:
                raise AssertionError(
                    f"{block.where}: the example fails:\n" + traceback.format_exc()
                ) from None


def check_block(blocks: list[Block], index: int, root: Path = ROOT) -> None:
    block = blocks[index]
    if block.lang not in CHECKED or (block.lang == "jsonl" and not block.words):
        return
    flags, options = CHECKED[block.lang]
    unknown = sorted(block.flags - flags) + sorted(set(block.options) - options)
    assert not unknown, f"{block.where}: unknown {unknown} after ```{block.lang}"
    assert block.lang != "jsonl" or len(block.flags) == 1, (
        f"{block.where}: write `jsonl events` or `jsonl records`"
    )
    if "file" in block.options:
        shown = (root / block.options["file"]).read_text(encoding="utf-8")
        assert block.text == shown, f"{block.where}: differs from {block.options['file']}:\n" + (
            _diff(shown.splitlines(), block.text.splitlines())
        )
    if block.lang == "incentive":
        check_scheme(block)
    elif block.flags == {"records"}:
        before = blocks[index - 1] if index else None
        assert before is not None and before.lang == "jsonl" and before.flags == {"events"}, (
            f"{block.where}: a `jsonl records` block must come right after a `jsonl events` block"
        )
    elif block.lang == "jsonl":
        check_events(blocks, index)
    elif block.lang == "console":
        check_console(block, root)
    elif block.lang == "python":
        check_python(blocks, index, root)


def check_file(path: Path, root: Path = ROOT) -> None:
    """Every example of one Markdown file (what the tests below do, block by block)."""
    blocks = read_blocks(path)
    for index in range(len(blocks)):
        check_block(blocks, index, root)


def _diff(expected: list[str], actual: list[str]) -> str:
    return "\n".join(difflib.unified_diff(expected, actual, "expected", "actual", lineterm=""))


# ---- the tests ------------------------------------------------------------------------


def _pages() -> list[Path]:
    return sorted(DOCS.rglob("*.md")) if DOCS.is_dir() else []


def _cases() -> list[Any]:
    cases = []
    for page in _pages():
        try:
            blocks = read_blocks(page)
        except AssertionError:
            continue  # an unclosed fence: test_doc_file_is_visited reports it
        cases.extend(
            pytest.param(page, index, id=f"{block.where}-{block.lang}")
            for index, block in enumerate(blocks)
            if block.lang in CHECKED
        )
    return cases


@pytest.mark.parametrize("page,index", _cases())
def test_doc_example(page: Path, index: int) -> None:
    check_block(read_blocks(page), index)


@pytest.mark.parametrize(
    "path", sorted(p for p in DOCS.rglob("*") if p.is_file()) if DOCS.is_dir() else [], ids=_rel
)
def test_doc_file_is_visited(path: Path) -> None:
    """Pages are read whole (every fence closes); every other file is used by some page."""
    if path.suffix == ".md":
        read_blocks(path)
        return
    pages = "\n".join(page.read_text(encoding="utf-8") for page in _pages())
    assert path.relative_to(DOCS).as_posix() in pages or _rel(path) in pages, (
        f"{_rel(path)} is not mentioned by any page in docs/"
    )


@pytest.mark.parametrize("path", sorted(SCHEMES.glob("*.incentive")), ids=_rel)
def test_scheme_checks_and_is_canonical(path: Path) -> None:
    text = path.read_text(encoding="utf-8")
    result = incentive.check(incentive.parse(text, _rel(path)), _rel(path), text)
    assert not result.errors, "\n".join(d.render(text) for d in result.errors)
    assert incentive.fmt(text) == text, f"{_rel(path)}: run `incentive fmt --write {_rel(path)}`"


# ---- the harness tests itself: a wrong example must fail ------------------------------

GOOD = """\
# A page

```incentive file=club.incentive
scheme "Club" {
  rule checkin {
    on checkin
    award 5
    limit 1 per day
  }
}
```

```jsonl events
{"id": "e1", "type": "checkin", "member": "ana", "at": "2026-03-02T08:00:00"}
{"id": "e2", "type": "checkin", "member": "ana", "at": "2026-03-02T09:00:00"}
```

```jsonl records
{"kind":"award","at":"2026-03-02T08:00:00+00:00","member":"ana","rule":"checkin","points":5,\
"currency":"points","balance":5,"events":["e1"],"code":"rule","reason":"rule `checkin`"}
{"kind":"refused","at":"2026-03-02T09:00:00+00:00","member":"ana","rule":"checkin",\
"currency":"points","events":["e2"],"code":"limit_reached","reason":"limit 1 per day reached"}
{"kind":"balance","member":"ana","points":5,"currency":"points","balance":5}
```

```incentive error=E0216
scheme "Club" {
  events { checkin }
  rule checkin { on chekin award 5 once }
}
```

```incentive warning=W0301
scheme "Chat" {
  rule chat {
    on message
    award 1
  }
}
```

```console
$ cat club.incentive
scheme "Club" {
...
}
$ incentive check club.incentive; echo $?
club.incentive: ok (0 warning(s))
0
```

```python
import incentive
program = incentive.load("club.incentive")
```

```python
assert program.name == "Club"
```
"""

CLUB = GOOD.split("```incentive file=club.incentive\n")[1].split("```")[0]

# Each mistake is one edit to GOOD, and the message that must catch it.
MISTAKES = {
    "records": (
        '"points":5,"currency":"points","balance":5}',
        '"points":6,"currency":"points","balance":6}',
        "the records differ",
    ),
    "not-canonical": ("    award 1\n", "    award  1\n", "not in canonical form"),
    "scheme-error": ("    on message\n", "    on message\n    on message\n", "does not check"),
    "differs-from-file": ("limit 1 per day\n", "limit 2 per day\n", "differs from club.incentive"),
    "wrong-code": ("error=E0216", "error=E0217", "expected E0217"),
    "error-that-checks": ("on chekin", "on checkin", "but the scheme checks"),
    "missing-warning": ("warning=W0301", "warning=W0302", "expected W0302"),
    "console-output": ("ok (0 warning(s))", "ok (1 warning(s))", "printed something else"),
    "exit-code": ("(0 warning(s))\n0", "(0 warning(s))\n1", "printed something else"),
    "console-command": ("$ cat club", "$ less club", "only `incentive`"),
    "python": ('== "Club"', '== "Clubs"', "AssertionError"),
    "orphan-records": ("```jsonl events", "```jsonl", "must come right after"),
    "attribute-typo": ("```incentive error=E0216", "```incentive eror=E0216", "unknown ['eror']"),
    "unclosed": ('== "Club"\n```\n', '== "Club"\n', "never closed"),
}


def _write_page(folder: Path, text: str) -> Path:
    (folder / "club.incentive").write_text(CLUB, encoding="utf-8")
    page = folder / "page.md"
    page.write_text(text, encoding="utf-8")
    return page


def test_harness_passes_a_good_page(tmp_path: Path) -> None:
    page = _write_page(tmp_path, GOOD)
    kinds = {(b.lang, *sorted(b.flags), *sorted(b.options)) for b in read_blocks(page)}
    assert len(kinds) == 7  # every kind of checked block is exercised
    check_file(page, tmp_path)


@pytest.mark.parametrize("mistake", sorted(MISTAKES))
def test_harness_fails_a_wrong_page(tmp_path: Path, mistake: str) -> None:
    old, new, message = MISTAKES[mistake]
    assert GOOD.count(old) == 1, f"the edit for {mistake} must apply exactly once"
    page = _write_page(tmp_path, GOOD.replace(old, new))
    with pytest.raises(AssertionError, match=re.escape(message)):
        check_file(page, tmp_path)


def test_ellipsis_matches_any_lines() -> None:
    assert lines_match(["a", "...", "d"], ["a", "b", "c", "d"])
    assert lines_match(["a", "...", "b"], ["a", "b"])
    assert not lines_match(["a", "...", "d"], ["a", "b", "c"])
    assert not lines_match(["a"], ["a", "b"])


def test_update_golden_rewrites_a_console_output(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    page = _write_page(tmp_path, GOOD.replace("ok (0 warning(s))", "ok (1 warning(s))"))
    with pytest.raises(AssertionError, match="printed something else"):
        check_file(page, tmp_path)
    monkeypatch.setenv("INCENTIVE_UPDATE_GOLDEN", "1")
    check_file(page, tmp_path)
    assert page.read_text(encoding="utf-8") == GOOD  # the `...` of `cat` is kept


def test_a_renewed_output_keeps_its_ellipsis() -> None:
    assert _renewed_output(["a", "...", "z"], ["a", "b", "c", "y"]) == ["a", "...", "y"]
    assert _renewed_output(["...", "z"], ["a", "b"]) == ["...", "b"]
    assert _renewed_output(["a", "b", "...", "y", "z"], ["c", "d"]) == ["c", "d"]
    assert _renewed_output(["x"], ["a", "b"]) == ["a", "b"]
    assert _renewed_output(["...", "x", "..."], ["a"]) is None
    # a run between two gaps is found again where the output is most like it
    before = [
        '{"rank":1,"team":"red","reason":"1st of 2"}',
        '{"rank":2,"team":"blue","reason":"2nd"}',
    ]
    after = [
        '{"rank":1,"team":"red","reason":"第 1 名"}',
        '{"rank":2,"team":"blue","reason":"第 2 名"}',
    ]
    actual = ["day 1", *[f'{{"rank":{i},"team":"x{i}"}}' for i in range(9)], *after, "end"]
    assert _renewed_output(["...", *before, "..."], actual) == ["...", *after, "..."]


def test_pages_in_docs_zh_are_chinese() -> None:
    assert page_language(DOCS / "zh" / "tutorial.md") == "zh"
    assert page_language(DOCS / "tutorial.md") == "en"
    assert page_language(DOCS / "zhongwen.md") == "en"
