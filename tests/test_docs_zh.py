"""The Chinese docs (docs/zh/) keep up with the English ones.

tests/test_docs.py runs every example in docs/zh/ like the English ones (their `jsonl`
blocks in Chinese). This module checks what makes them the Chinese docs:
- the error catalogue has a section for every code of docs/errors.md, in the same
  order, each showing its message as `--lang zh` prints it (`错误[E0216]`);
- every command a reader types says `--lang zh` itself, so what is shown is what runs;
- every scheme is written in Chinese keywords;
- every page is in the index, the index is linked from README.md and the English
  docs, and every link between the Chinese pages lands on a heading.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from incentive.spelling import spelling_of
from tests.test_docs import read_blocks

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs"
ZH = DOCS / "zh"
PAGES = sorted(ZH.glob("*.md"))
CODE_HEADING = re.compile(r"^### ([EW]\d{4}) — ", re.M)


def _sections(path: Path) -> dict[str, str]:
    """code -> the text of its `### CODE — ...` section."""
    text = path.read_text(encoding="utf-8")
    parts = CODE_HEADING.split(text)
    return {
        parts[i]: re.split(r"^## ", parts[i + 1], flags=re.M)[0] for i in range(1, len(parts), 2)
    }


def test_the_chinese_pages_exist() -> None:
    names = {page.name for page in PAGES}
    assert {"README.md", "tutorial.md", "errors.md", "cookbook-camp.md", "cli.md"} <= names


def test_every_error_code_has_its_chinese_section_in_order() -> None:
    english = CODE_HEADING.findall((DOCS / "errors.md").read_text(encoding="utf-8"))
    chinese = CODE_HEADING.findall((ZH / "errors.md").read_text(encoding="utf-8"))
    assert len(english) > 70
    assert chinese == english, "docs/zh/errors.md: the codes differ from docs/errors.md"


@pytest.mark.parametrize("code", sorted(_sections(ZH / "errors.md")))
def test_every_chinese_section_shows_its_chinese_message_and_fix(code: str) -> None:
    section = _sections(ZH / "errors.md")[code]
    severity = "警告" if code.startswith("W") else "错误"
    assert f"{severity}[{code}]" in section, f"{code}: no message as `--lang zh` prints it"
    assert "**改法：**" in section, f"{code}: no fix"
    # the table at the top links to the section
    text = (ZH / "errors.md").read_text(encoding="utf-8")
    assert f"[{code}](#{code.lower()}--" in text


@pytest.mark.parametrize("page", PAGES, ids=lambda p: p.name)
def test_every_command_says_lang_zh(page: Path) -> None:
    for block in read_blocks(page):
        if block.lang != "console":
            continue
        for line in block.text.splitlines():
            if line.startswith("$ incentive"):
                assert line.startswith("$ incentive --lang zh "), (
                    f"{block.where}: `{line}`: a command in docs/zh says `--lang zh`"
                )


@pytest.mark.parametrize("page", PAGES, ids=lambda p: p.name)
def test_every_scheme_is_written_in_chinese_keywords(page: Path) -> None:
    for block in read_blocks(page):
        if block.lang == "incentive":
            assert spelling_of(block.text) == "zh", f"{block.where}: write it in Chinese keywords"


def _slug(heading: str) -> str:
    """GitHub's anchor of a heading: lower case, punctuation dropped, spaces to `-`."""
    return re.sub(r"[^\w\- ]", "", heading.strip().lower()).replace(" ", "-")


def _anchors(page: Path) -> set[str]:
    text = re.sub(r"^```.*?^```", "", page.read_text(encoding="utf-8"), flags=re.S | re.M)
    return {_slug(h) for h in re.findall(r"^#{1,6} (.+)$", text, flags=re.M)}


LINK = re.compile(r"\]\(([^)\s]+)\)")


@pytest.mark.parametrize("page", PAGES, ids=lambda p: p.name)
def test_links_land_on_a_file_and_a_heading(page: Path) -> None:
    text = re.sub(r"^```.*?^```", "", page.read_text(encoding="utf-8"), flags=re.S | re.M)
    for target in LINK.findall(text):
        if target.startswith(("http://", "https://")):
            continue
        path, _, anchor = target.partition("#")
        linked = (page.parent / path).resolve() if path else page
        assert linked.exists(), f"{page.name}: `{target}` names no file"
        if anchor and linked.suffix == ".md" and linked.is_relative_to(ZH):
            assert anchor in _anchors(linked), f"{page.name}: `{target}` names no heading"


def test_the_index_lists_every_page_and_is_linked() -> None:
    index = (ZH / "README.md").read_text(encoding="utf-8")
    for page in PAGES:
        if page.name != "README.md":
            assert f"]({page.name})" in index, f"docs/zh/README.md does not list {page.name}"
    assert "](docs/zh/README.md)" in (ROOT / "README.md").read_text(encoding="utf-8")
    for english in ("tutorial.md", "errors.md", "cli.md", "cookbook.md"):
        assert "](zh/" in (DOCS / english).read_text(encoding="utf-8"), (
            f"docs/{english} does not link to its Chinese page"
        )


def test_slugs_follow_github() -> None:
    assert _slug("E0216 — 未知的事件类型") == "e0216--未知的事件类型"
    assert _slug("7. 用 `fmt` 整理格式") == "7-用-fmt-整理格式"
    assert _slug("run：运行方案") == "run运行方案"


def test_the_round_trip_of_spellings_covers_the_chinese_docs() -> None:
    from tests.test_spelling import SCHEME_TEXTS

    names = {name for name, _ in SCHEME_TEXTS}
    assert "docs/zh/examples/club.incentive" in names
    assert "docs/zh/examples/errors/W0301.incentive" in names
    assert any(name.startswith("docs/zh/tutorial.md#") for name in names)
    assert any(name.startswith("docs/zh/cookbook-camp.md#") for name in names)
