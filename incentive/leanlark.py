"""Import lark without the optional modules it imports when they are installed.

`import lark` imports `regex` and `interegular` if it finds them (dev installs have
both: the dev extras and other tools bring them): 40 to 60 ms of every `incentive
check` on the project's machine, a sixth of its start-up (docs/performance.md).
Neither is needed to parse with the tables incentive builds:

- `regex` replaces `re` only for grammars that ask for it (`Lark(regex=True)`) or
  whose patterns use Unicode categories; incentive's grammars use plain `re` patterns;
- `interegular` proves that no two terminals overlap, when a parser is built in
  strict mode, never when it parses. Without it lark refuses strict mode, so the
  parser is then built without it (`can_be_strict()`): the same tables for a grammar
  that passes, which the tests prove with interegular imported first.

Importing this module before lark hides both from lark's own import (`sys.modules`
holding None makes `import regex` raise ImportError, as if not installed), then
shows them again: anything else in the process imports them as usual. If lark (or
either module) was already imported, nothing changes.
"""

from __future__ import annotations

import sys

_OPTIONAL = ("regex", "interegular")

if "lark" not in sys.modules:
    _hidden = [name for name in _OPTIONAL if name not in sys.modules]
    for _name in _hidden:
        sys.modules[_name] = None  # type: ignore[assignment]
    try:
        import lark  # noqa: F401
    finally:
        for _name in _hidden:
            if sys.modules.get(_name, False) is None:
                del sys.modules[_name]


def can_be_strict() -> bool:
    """Whether lark's strict mode can run here: lark imported interegular."""
    lexer = sys.modules.get("lark.lexer")
    return lexer is not None and getattr(lexer, "has_interegular", False) is True
