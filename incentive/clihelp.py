"""The command line's help and usage errors in the operator's language.

Click fixes a command's help when the module is imported, before `--lang` or the
locale is known. So the help texts are written in English inside `N_()` (the
catalogue's msgids) and translated when they are shown: by the command, group and
option classes here, which the `incentive` group and its commands use. Click's own
few words ("Usage:", "Options", "Show this message and exit.", its usage errors)
go through the same catalogue: its modules' `_` is pointed at `i18n._`, which gives
the English text back unchanged when the language is English.
"""

from __future__ import annotations

import inspect
import re
import sys
from collections.abc import Sequence
from typing import Any

import click
import click.core
import click.exceptions
import click.formatting
import click.parser
import click.types

from incentive.i18n import LANGUAGES, N_, _, language, ngettext
from incentive.i18n import resolve as resolve_language

# Click's texts that an operator sees, for extraction (their msgids are click's).
CLICK_TEXTS = (
    N_("Usage:"),
    N_("Options"),
    N_("Commands"),
    N_("Positional arguments"),
    N_("Show this message and exit."),
    N_("Show the version and exit."),
    N_("Error: {message}"),
    N_("Try '{command} {option}' for help."),
    N_("Missing argument"),
    N_("Missing option"),
    N_("Missing parameter"),
    N_("Missing command."),
    N_("Invalid value: {message}"),
    N_("Invalid value for {param_hint}: {message}"),
    N_("No such option {name!r}."),
    N_("No such command {name!r}."),
    N_("default: {default}"),
    N_("required"),
    N_("Aborted!"),
    N_("{name} {filename!r} does not exist."),
    N_("{name} {filename!r} is a directory."),
    N_("{value!r} is not a valid {number_type}."),
)


# The words of a usage line click writes itself
_USAGE_WORDS = {"[OPTIONS]": N_("[OPTIONS]"), "COMMAND [ARGS]...": N_("COMMAND [ARGS]...")}


def _click_plurals() -> None:  # pragma: no cover - never called: marks click's plural texts
    ngettext("{value!r} is not {choice}.", "{value!r} is not one of {choices}.", 2)
    ngettext("Got unexpected extra argument ({args})", "Got unexpected extra arguments ({args})", 2)
    ngettext(
        "Option {name!r} requires an argument.", "Option {name!r} requires {nargs} arguments.", 2
    )


def _translated_help(text: str | None) -> str | None:
    """A help text in the current language: the msgid is the text on one line."""
    if not text:
        return text
    message = " ".join(inspect.cleandoc(text).split())
    return _(message)


class TranslatedOption(click.Option):
    """An option whose help is translated when shown."""

    def get_help_record(self, ctx: click.Context) -> tuple[str, str] | None:
        english = self.help
        self.help = _translated_help(english)
        try:
            return super().get_help_record(ctx)
        finally:
            self.help = english


def _translate_options(command: click.Command) -> None:
    for param in command.params:
        if type(param) is click.Option:
            param.__class__ = TranslatedOption


class TranslatedCommand(click.Command):
    """A command whose help, short help and options' help are translated when shown."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        _translate_options(self)

    def get_help_option(self, ctx: click.Context) -> click.Option | None:
        option = super().get_help_option(ctx)
        if option is not None and type(option) is click.Option:
            option.__class__ = TranslatedOption
        return option

    def format_help_text(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        english = self.help
        self.help = _translated_help(english)
        try:
            super().format_help_text(ctx, formatter)
        finally:
            self.help = english

    def collect_usage_pieces(self, ctx: click.Context) -> list[str]:
        # `[OPTIONS]` and a group's `COMMAND [ARGS]...` in the reader's language; the
        # arguments' names (SCHEME, EVENTS) stay: the help texts name them so
        pieces = super().collect_usage_pieces(ctx)
        return [_(_USAGE_WORDS[piece]) if piece in _USAGE_WORDS else piece for piece in pieces]

    def get_short_help_str(self, limit: int = 45) -> str:
        translated = _translated_help(self.help)
        if self.short_help or translated == self.help or not translated:
            return super().get_short_help_str(limit)
        # Chinese has no spaces to cut at: the first clause, at most half as many
        # characters as columns (each takes two)
        first = re.split(r"[。；]", translated, maxsplit=1)[0]
        return first if len(first) <= limit // 2 else first[: limit // 2 - 1] + "…"


class TranslatedGroup(TranslatedCommand, click.Group):
    """The `incentive` group: its own help and every command's, translated when shown."""

    command_class = TranslatedCommand

    def main(self, args: Sequence[str] | None = None, *rest: Any, **kwargs: Any) -> Any:
        """Run in the language asked for from the start: click reports a usage error
        (and `--help`) outside the command's own context, after its callback ended."""
        words = list(sys.argv[1:] if args is None else args)
        with language(resolve_language(_lang_option(words))):
            return super().main(words, *rest, **kwargs)


def _lang_option(words: list[str]) -> str | None:
    """The value of `--lang` before the command's name, if it is a language."""
    for index, word in enumerate(words):
        value = None
        if word == "--lang" and index + 1 < len(words):
            value = words[index + 1]
        elif word.startswith("--lang="):
            value = word.removeprefix("--lang=")
        elif not word.startswith("-"):
            return None  # the command's name: its own arguments are not ours
        if value is not None:
            return value if value.lower() in LANGUAGES else None
    return None


# click's words through our catalogue (plural forms too: English when not translated)
for _module in (click.core, click.exceptions, click.formatting, click.parser, click.types):
    _module._ = _  # type: ignore[attr-defined]
    if hasattr(_module, "ngettext"):
        _module.ngettext = ngettext  # type: ignore[attr-defined]
