"""The operator's language: English or Simplified Chinese, from gettext catalogues.

Every text meant for a person goes through `_()` (or `N_()` where it is written
down before it is shown, then `_()` when shown). English is the source: a message's
English text is its gettext msgid. Translations live in
`incentive/locale/<lang>/LC_MESSAGES/incentive.po`, compiled to `.mo` beside it
(docs/development.md, "Translations": Babel extracts, updates and compiles; a test
fails when a message lacks its translation or a `.mo` is stale).

The language is chosen once per command or request: `--lang zh|en`, else the
locale (`LC_ALL`, `LC_MESSAGES`, `LANG`, as gettext reads them), else English. It
is held in a context variable, so that two requests of a service in two languages
never see each other's.
"""

from __future__ import annotations

import gettext
import os
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from functools import cache
from pathlib import Path

LANGUAGES: tuple[str, ...] = ("en", "zh")
DOMAIN = "incentive"
LOCALE_DIR = Path(__file__).with_name("locale")

_current: ContextVar[str] = ContextVar("incentive_language", default="en")


def language_from_locale(environ: Mapping[str, str] | None = None) -> str:
    """The language the locale asks for: the first of LC_ALL, LC_MESSAGES, LANG set."""
    env = os.environ if environ is None else environ
    for name in ("LC_ALL", "LC_MESSAGES", "LANG"):
        value = env.get(name, "")
        if value:
            # zh_CN.UTF-8, zh_CN, zh, zh-Hans: all Simplified Chinese here
            return "zh" if value.lower().replace("-", "_").startswith("zh") else "en"
    return "en"


def resolve(explicit: str | None, environ: Mapping[str, str] | None = None) -> str:
    """`--lang` when given, else the locale's language."""
    if explicit:
        lang = explicit.lower()
        if lang not in LANGUAGES:
            raise ValueError(f"unknown language {explicit!r}: choose one of {', '.join(LANGUAGES)}")
        return lang
    return language_from_locale(environ)


def current() -> str:
    """The language texts are given in now."""
    return _current.get()


def set_language(lang: str) -> None:
    """Give texts in `lang` from now on, in this context (a command's whole run)."""
    _current.set(resolve(lang))


@contextmanager
def language(lang: str) -> Iterator[None]:
    """Give texts in `lang` inside the block (a request, a test)."""
    token = _current.set(resolve(lang))
    try:
        yield
    finally:
        _current.reset(token)


@cache
def catalogue(lang: str) -> gettext.NullTranslations:
    """The compiled catalogue of `lang` (English: the msgids themselves)."""
    if lang == "en":
        return gettext.NullTranslations()
    return gettext.translation(DOMAIN, localedir=LOCALE_DIR, languages=[lang])


def _(message: str) -> str:
    """`message` in the current language."""
    lang = _current.get()
    if lang == "en":
        return message
    return catalogue(lang).gettext(message)


def ngettext(singular: str, plural: str, n: int) -> str:
    """The singular or plural form of a message for `n`, in the current language."""
    return catalogue(_current.get()).ngettext(singular, plural, n)


def N_(message: str) -> str:
    """Mark `message` for extraction without translating it yet (a table of texts)."""
    return message


_UNITS = {
    "day": N_("day"),
    "week": N_("week"),
    "month": N_("month"),
    "quarter": N_("quarter"),
    "year": N_("year"),
    "season": N_("season"),
}


def unit(period: str | None) -> str:
    """A period's name inside a sentence (`per {period}`), in the current language."""
    return _(_UNITS[period]) if period in _UNITS else str(period)


# A period after a number (`3 {units} in a row`): Chinese needs a measure word before
# some (3 个月, not 3 月, which is March). English writes the name, as `unit` does.
_COUNTED = {
    "day": N_("days"),
    "week": N_("weeks"),
    "month": N_("months"),
    "quarter": N_("quarters"),
    "year": N_("years"),
    "season": N_("seasons"),
}

# The period an event falls in (`this {period}`): 当天, 本周, 本月 ... in Chinese, where
# 本 before every name would give 本天.
_THIS = {
    "day": N_("this day"),
    "week": N_("this week"),
    "month": N_("this month"),
    "quarter": N_("this quarter"),
    "year": N_("this year"),
    "season": N_("this season"),
}

# When a period ends (`expire at end of {period}`): 当天结束时, 月底 ... in Chinese.
_END = {
    "day": N_("end of day"),
    "week": N_("end of week"),
    "month": N_("end of month"),
    "quarter": N_("end of quarter"),
    "year": N_("end of year"),
    "season": N_("end of season"),
}


def counted(period: str | None) -> str:
    """A period's name after a count, in the current language (`unit`'s in English)."""
    if current() == "en" or period not in _COUNTED:
        return unit(period)
    return _(_COUNTED[period])


def this_period(period: str | None) -> str:
    """`this day`, `this week` ... in the current language."""
    return _(_THIS[period]) if period in _THIS else f"this {period}"


def end_of(period: str | None) -> str:
    """`end of day`, `end of month` ... in the current language."""
    return _(_END[period]) if period in _END else f"end of {period}"
