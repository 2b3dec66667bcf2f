"""Translations: every message has its Chinese form, compiled catalogues are current,
and the language is chosen by `--lang`, else the locale."""

from __future__ import annotations

import io
import re
from pathlib import Path

import pytest
from babel.messages.extract import extract_from_dir
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from click.testing import CliRunner

from incentive import i18n
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
        for msgid in message if isinstance(message, tuple) else (message,):
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
        for string in strings:
            # a translation must fill in the same blanks as the English
            if sorted(PLACEHOLDER.findall(string)) != sorted(PLACEHOLDER.findall(msgid)):
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
