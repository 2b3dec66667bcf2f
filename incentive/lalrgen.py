"""Generate the parser's tables from the grammar: `python -m incentive.lalrgen`.

lark builds the LALR parser from grammar/incentive.lark (and the Chinese spelling's
grammar) as it always did; `incentive.lalr.extract` reads what lark built (the parse
table, how each rule's children are shaped, each parser state's lexer) and this
module writes it as JSON to `incentive/parser_en.json` and `incentive/parser_zh.json`,
which `incentive.lalr` runs without importing lark (docs/architecture.md, "The
parser").

The files are checked in. Each holds a key of its grammar's text and of the
parser's options: `incentive.parser` uses a file only while its key matches (a
grammar edited in a source checkout and not regenerated is parsed by tables built
from it in the process instead, and `tests/test_lalr.py` fails until the files are
regenerated). State and rule numbers are canonical (states numbered in the order a
walk from the start state meets them, by symbol name; rules sorted), so the same
grammar always gives the same bytes.
"""

from __future__ import annotations

import contextlib
import json
import sys
from typing import Any

from incentive import lalr
from incentive.spelling import Spelling


def dumps(data: dict[str, Any]) -> str:
    """JSON with one state, rule or lexer a line (so that a diff shows what moved)."""
    lines = ["{"]
    items = list(data.items())
    for index, (name, value) in enumerate(items):
        comma = "," if index < len(items) - 1 else ""
        if name in ("rules", "states", "lexers", "terminals"):
            lines.append(f"{json.dumps(name)}: [")
            for i, entry in enumerate(value):
                tail = "," if i < len(value) - 1 else ""
                lines.append(json.dumps(entry, ensure_ascii=False, separators=(",", ":")) + tail)
            lines.append("]" + comma)
        else:
            text = json.dumps(value, ensure_ascii=False, separators=(",", ":"))
            lines.append(f"{json.dumps(name)}: {text}{comma}")
    lines.append("}")
    return "\n".join(lines) + "\n"


def generate(spelling: Spelling) -> str:
    """The file's text for a spelling ("en" or "zh"), built from its grammar now."""
    from incentive import parser
    from incentive.spelling import zh_grammar_text

    if spelling == "zh":
        grammar, built = zh_grammar_text(), parser.build_lark_parser_zh()
    else:
        grammar, built = parser.grammar_text(), parser.build_lark_parser()
    return dumps(lalr.extract(built, parser.tables_key(grammar)))


def main() -> None:
    # Strict mode where it can run (interegular installed): lark then also proves that
    # no two terminals of the grammar collide before the tables are written.
    with contextlib.suppress(ImportError):
        import interegular  # noqa: F401
    from incentive.parser import tables_file

    for spelling in ("en", "zh"):
        path = tables_file(spelling)
        text = generate(spelling)
        old = path.read_text(encoding="utf-8") if path.exists() else None
        if text != old:
            path.write_text(text, encoding="utf-8")
            print(f"wrote {path}")
        else:
            print(f"{path} is up to date")
    sys.exit(0)


if __name__ == "__main__":
    main()
