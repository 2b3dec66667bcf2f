"""Translations: every message has its Chinese form, compiled catalogues are current,
and the language is chosen by `--lang`, else the locale."""

from __future__ import annotations

import io
import re
from pathlib import Path

import click
import pytest
from babel.messages.extract import extract_from_dir
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from click.testing import CliRunner

from incentive import clihelp, i18n
from incentive.cli import main

ROOT = Path(__file__).resolve().parent.parent
KEYWORDS = {"_": None, "N_": None, "ngettext": (1, 2)}
PLACEHOLDER = re.compile(r"\{(\w*)[^{}]*\}")


def extracted_messages() -> dict[str, str]:
    """msgid -> where it is used, as Babel extracts them from the package (babel.cfg)."""
    found: dict[str, str] = {}
    method_map = [("incentive/**.py", "python")]
    for filename, lineno, message, _comments, _context in extract_from_dir(
        str(ROOT), method_map=method_map, keywords=KEYWORDS
    ):
        # a plural message (ngettext) is one catalogue entry, under its singular
        msgid = message[0] if isinstance(message, tuple) else message
        found.setdefault(msgid, f"{filename}:{lineno}")
    return found


def catalogue_entries(lang: str):  # type: ignore[no-untyped-def]
    path = i18n.LOCALE_DIR / lang / "LC_MESSAGES" / f"{i18n.DOMAIN}.po"
    with path.open("rb") as handle:
        return read_po(handle, locale=lang)


@pytest.mark.parametrize("lang", [lang for lang in i18n.LANGUAGES if lang != "en"])
def test_every_message_has_its_translation(lang: str) -> None:
    catalogue = catalogue_entries(lang)
    missing = []
    for msgid, where in sorted(extracted_messages().items()):
        message = catalogue.get(msgid)
        if message is None or not message.string or message.fuzzy:
            missing.append(f"{where}: {msgid!r}")
            continue
        strings = message.string if isinstance(message.string, tuple) else (message.string,)
        # a plural message's forms may each fill in the singular's or the plural's blanks
        english = message.id if isinstance(message.id, tuple) else (message.id,)
        blanks = [sorted(PLACEHOLDER.findall(form)) for form in english]
        for string in strings:
            # a translation must fill in the same blanks as the English
            if sorted(PLACEHOLDER.findall(string)) not in blanks:
                missing.append(f"{where}: {msgid!r} -> {string!r} (placeholders differ)")
    assert not missing, (
        f"messages without a {lang} translation (docs/development.md, 'Translations'):\n"
        + "\n".join(missing)
    )


@pytest.mark.parametrize("lang", [lang for lang in i18n.LANGUAGES if lang != "en"])
def test_compiled_catalogue_is_current(lang: str) -> None:
    compiled = io.BytesIO()
    write_mo(compiled, catalogue_entries(lang))
    committed = (i18n.LOCALE_DIR / lang / "LC_MESSAGES" / f"{i18n.DOMAIN}.mo").read_bytes()
    assert compiled.getvalue() == committed, (
        "run `pybabel compile -d incentive/locale -D incentive`"
    )


@pytest.mark.parametrize(
    ("environ", "expected"),
    [
        ({}, "en"),
        ({"LANG": "zh_CN.UTF-8"}, "zh"),
        ({"LANG": "en_US.UTF-8"}, "en"),
        ({"LANG": "C.UTF-8"}, "en"),
        ({"LC_ALL": "zh_TW.UTF-8", "LANG": "en_US.UTF-8"}, "zh"),
        ({"LC_MESSAGES": "en_GB.UTF-8", "LANG": "zh_CN.UTF-8"}, "en"),
        ({"LC_ALL": "", "LANG": "zh-Hans"}, "zh"),
    ],
)
def test_language_from_the_locale(environ: dict[str, str], expected: str) -> None:
    assert i18n.resolve(None, environ) == expected
    assert i18n.resolve("en", environ) == "en"  # --lang wins


def test_unknown_language_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown language 'fr'"):
        i18n.resolve("fr")


def test_language_is_scoped() -> None:
    assert i18n.current() == "en"
    with i18n.language("zh"):
        assert i18n._("{path}: ok ({warnings} warning(s))") == "{path}：通过（{warnings} 个警告）"
    assert i18n.current() == "en"
    assert i18n._("{path}: ok ({warnings} warning(s))") == "{path}: ok ({warnings} warning(s))"


def run_cli(args: list[str], env: dict[str, str] | None = None):  # type: ignore[no-untyped-def]
    result = CliRunner().invoke(main, args, env=env, catch_exceptions=False)
    assert "Traceback" not in result.output
    return result


def test_check_speaks_the_chosen_language() -> None:
    scheme = ROOT / "schemes" / "writing_camp.incentive"
    zh = run_cli(["--lang", "zh", "check", str(scheme)])
    assert zh.exit_code == 0, zh.output
    assert "：通过（" in zh.output
    en = run_cli(["--lang", "en", "check", str(scheme)], env={"LANG": "zh_CN.UTF-8"})
    assert ": ok (" in en.output
    by_locale = run_cli(["check", str(scheme)], env={"LANG": "zh_CN.UTF-8", "LC_ALL": ""})
    assert "：通过（" in by_locale.output
    usage = run_cli(["--lang", "fr", "check", str(scheme)])
    assert usage.exit_code == 2
    assert i18n.current() == "en", "a command's language must not outlive it"


def every_command() -> list[tuple[str, click.Command]]:
    commands: list[tuple[str, click.Command]] = [("incentive", main)]
    for name, command in sorted(main.commands.items()):
        commands.append((f"incentive {name}", command))
    return commands


@pytest.mark.parametrize("lang", [lang for lang in i18n.LANGUAGES if lang != "en"])
def test_every_help_text_is_translated(lang: str) -> None:
    """Help written without N_() would be neither extracted nor translated: every
    command's and option's help must come out of the catalogue in another language."""
    untranslated = []
    with i18n.language(lang):
        for where, command in every_command():
            texts = [command.help] + [
                p.help for p in command.params if isinstance(p, click.Option) and p.help
            ]
            for text in texts:
                if text and clihelp._translated_help(text) == " ".join(text.split()):
                    untranslated.append(f"{where}: {text!r}")
    assert not untranslated, "\n".join(untranslated)


def test_help_is_shown_in_the_chosen_language() -> None:
    zh = run_cli(["--lang", "zh", "run", "--help"])
    assert zh.exit_code == 0
    assert "用法:" in zh.output and "选项:" in zh.output
    assert "按 SCHEME 计算 EVENTS 文件中的事件" in zh.output
    assert "只输出这个成员的记录" in zh.output  # an option's help
    assert "显示本帮助并退出。" in zh.output  # click's own
    assert "Evaluate SCHEME" not in zh.output and "Show this message" not in zh.output
    en = run_cli(["run", "--help"], env={"LANG": "en_US.UTF-8", "LC_ALL": ""})
    assert "Evaluate SCHEME over EVENTS files" in en.output
    assert "print only this member's records" in en.output
    assert "Usage:" in en.output and "Options:" in en.output
    group = run_cli(["--lang", "zh", "--help"])  # --lang before --help at the top too
    assert "命令:" in group.output and "检查方案文件" in group.output
    by_locale = run_cli(["check", "--help"], env={"LANG": "zh_CN.UTF-8", "LC_ALL": ""})
    assert "检查方案文件" in by_locale.output


def test_usage_errors_in_the_chosen_language() -> None:
    result = run_cli(["--lang", "zh", "chek"])
    assert result.exit_code == 2
    assert "错误：没有命令 'chek'。" in result.output
    assert "查看帮助" in result.output
    english = run_cli(["--lang", "en", "chek"])
    assert "Error: No such command 'chek'." in english.output


def test_command_line_errors_in_the_chosen_language(tmp_path: Path) -> None:
    scheme = ROOT / "schemes" / "writing_camp.incentive"
    missing = tmp_path / "nowhere.jsonl"
    zh = run_cli(["--lang", "zh", "run", str(scheme), str(missing)])
    assert zh.exit_code == 2
    assert f"错误：没有这个文件：{missing}" in zh.output
    en = run_cli(["--lang", "en", "run", str(scheme), str(missing)])
    assert f"error: no such file: {missing}" in en.output


def test_every_help_page_is_chinese_in_chinese() -> None:
    """Each command's whole `--help` (usage line, help, options, click's words): apart
    from what is typed as written (option names, their values and choices, the
    arguments' names, file names and examples in backticks), no English is left."""
    from test_i18n_coverage import english_left

    typed = re.compile(
        r"--?[\w-]+|\[[\w|.-]+\]|\b[A-Z][A-Z_=]+\b|\S*[/=]\S*|\w+\.\w+|'[^']*'|"
        r"[a-z]+(?:,[a-z_]+)+|[a-z_]+\.\.\."
    )
    for where, _command in every_command():
        words = where.split()[1:]
        result = run_cli(["--lang", "zh", *words, "--help"])
        assert result.exit_code == 0, result.output
        assert "[选项]" in result.output and "[OPTIONS]" not in result.output, result.output
        shown = re.sub(r"(?m)^用法: main(?: \w+)?", "用法:", result.output)  # the command typed
        left = english_left(typed.sub(" ", shown))
        assert not left, f"{where}: {left}\n{result.output}"
