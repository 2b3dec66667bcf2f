"""The scheme parser's run time: an LALR(1) parser and a contextual lexer driven by
tables generated from the grammar, without importing lark.

grammar/incentive.lark (and grammar/incentive_zh.lark) stay the reference. lark
builds the parser from them; `incentive.lalrgen` writes what that parser is made of
(the parse table, the rules' tree shaping, each parser state's lexer) to
`incentive/parser_en.json` and `incentive/parser_zh.json`, and this module runs it.
Importing lark and loading its saved parser cost about a fifth of `incentive check`
(docs/performance.md, "Start-up"); reading these tables costs a millisecond.

What a scheme author sees must not change, so each step does what lark 1.3 does
and in the same order (tests/test_lalr.py parses every scheme, every broken one
and generated ones both ways and compares the results and the errors):

- the contextual lexer: in each parser state only the terminals that state
  accepts, tried in lark's order (priority, then longest possible match, then
  name), the first that matches wins; a keyword that NAME also matches is a NAME
  turned into the keyword (lark's "unless" callback); when nothing matches, the
  whole grammar's lexer is tried so that the error names the token
  (UnexpectedToken) rather than a character (UnexpectedCharacters);
- lark's regular expressions are compiled one terminal at a time instead of one
  alternation per parser state (the same first match: an alternation tries its
  branches in order), which is where the saving is: 48 states of the writing
  camp compiled 96 expressions;
- the parser: shift and reduce as lark's `ParserState.feed_token`, the children
  of each rule shaped as lark's tree builder does for LALR (`_rule`s inlined,
  `?rule`s with one child passed through, a None for each missing `[...]`
  symbol), then handed to the transformer's method of that name;
- errors carry what lark's carry (line, column, position, the token, the
  expected terminals, an interactive parser to feed a token to and resume).
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator
from typing import Any

FORMAT = 1


class Token(str):
    """A token: its text, with its terminal's name and where it is (as lark's Token)."""

    __slots__ = (
        "column",
        "end_column",
        "end_line",
        "end_pos",
        "line",
        "start_pos",
        "type",
        "value",
    )

    type: str
    start_pos: int | None
    value: Any
    line: int | None
    column: int | None
    end_line: int | None
    end_column: int | None
    end_pos: int | None

    def __new__(
        cls,
        type: str,
        value: Any,
        start_pos: int | None = None,
        line: int | None = None,
        column: int | None = None,
        end_line: int | None = None,
        end_column: int | None = None,
        end_pos: int | None = None,
    ) -> Token:
        inst = super().__new__(cls, value)
        inst.type = type
        inst.start_pos = start_pos
        inst.value = value
        inst.line = line
        inst.column = column
        inst.end_line = end_line
        inst.end_column = end_column
        inst.end_pos = end_pos
        return inst

    @classmethod
    def new_borrow_pos(cls, type_: str, value: Any, borrow_t: Token) -> Token:
        return cls(
            type_,
            value,
            borrow_t.start_pos,
            borrow_t.line,
            borrow_t.column,
            borrow_t.end_line,
            borrow_t.end_column,
            borrow_t.end_pos,
        )

    def __reduce__(self) -> tuple[Any, ...]:
        return (self.__class__, (self.type, self.value, self.start_pos, self.line, self.column))

    def __repr__(self) -> str:
        return f"Token({self.type!r}, {self.value!r})"

    def __deepcopy__(self, memo: Any) -> Token:
        return Token(self.type, self.value, self.start_pos, self.line, self.column)

    def __eq__(self, other: object) -> bool:
        if isinstance(other, Token) and self.type != other.type:
            return False
        return str.__eq__(self, other)

    __hash__ = str.__hash__


class Tree:
    """What a rule without a method of the transformer builds (lark's default): the
    grammar's `_rule`s, whose children the rule using them takes over."""

    __slots__ = ("children", "data")

    def __init__(self, data: str, children: list[Any]) -> None:
        self.data = data
        self.children = children

    def __repr__(self) -> str:
        return f"Tree({self.data!r}, {self.children!r})"


# ---- errors ---------------------------------------------------------------------------


class UnexpectedInput(Exception):
    """A syntax error: where it is, and (after it is raised by the parser) an
    interactive parser stopped at it."""

    line: int | None
    column: int | None
    pos_in_stream: int | None = None
    interactive_parser: InteractiveParser


class UnexpectedCharacters(UnexpectedInput):
    """No terminal matches the text at `pos_in_stream` (in the whole grammar)."""

    def __init__(
        self, seq: str, lex_pos: int, line: int, column: int, allowed: set[str], state: Any = None
    ) -> None:
        super().__init__()
        self.line = line
        self.column = column
        self.pos_in_stream = lex_pos
        self.state = state
        self.allowed = allowed
        self.char = seq[lex_pos]

    def __str__(self) -> str:
        return (
            f"No terminal matches {self.char!r} in the current parser context, "
            f"at line {self.line} col {self.column}"
        )


class UnexpectedToken(UnexpectedInput):
    """A token the parser cannot take in its state; `expected` are the terminals it can."""

    def __init__(
        self,
        token: Token,
        expected: set[str],
        state: Any = None,
        interactive_parser: InteractiveParser | None = None,
    ) -> None:
        super().__init__()
        self.line = token.line
        self.column = token.column
        self.pos_in_stream = token.start_pos
        self.state = state
        self.token = token
        self.expected = expected
        if interactive_parser is not None:
            self.interactive_parser = interactive_parser

    def __str__(self) -> str:
        return (
            f"Unexpected token {self.token!r} at line {self.line}, column {self.column}.\n"
            f"Expected one of: {sorted(self.expected)}"
        )


# ---- the lexer ------------------------------------------------------------------------


class LexerState:
    """Where the lexer is in the text (lark's LexerState and LineCounter in one)."""

    __slots__ = ("char_pos", "column", "last_token", "line", "line_start_pos", "text")

    def __init__(self, text: str) -> None:
        self.text = text
        self.char_pos = 0
        self.line = 1
        self.column = 1
        self.line_start_pos = 0
        self.last_token: Token | None = None

    def feed(self, token: str, test_newline: bool = True) -> None:
        if test_newline:
            newlines = token.count("\n")
            if newlines:
                self.line += newlines
                self.line_start_pos = self.char_pos + token.rindex("\n") + 1
        self.char_pos += len(token)
        self.column = self.char_pos - self.line_start_pos + 1


_Callback = Callable[[Token], Token]


class _Unless:
    """NAME matched a keyword's text: the token is that keyword (lark's UnlessCallback)."""

    __slots__ = ("keywords",)

    def __init__(self, keywords: dict[str, str]) -> None:
        self.keywords = keywords

    def __call__(self, t: Token) -> Token:
        keyword = self.keywords.get(t.value)
        if keyword is not None:
            t.type = keyword
        return t


class _CallChain:
    __slots__ = ("callback1", "callback2", "cond")

    def __init__(self, callback1: _Callback, callback2: _Callback, cond: Any) -> None:
        self.callback1 = callback1
        self.callback2 = callback2
        self.cond = cond

    def __call__(self, t: Token) -> Token:
        t2 = self.callback1(t)
        return self.callback2(t) if self.cond(t2) else t2


class _BasicLexer:
    """The lexer of one or more parser states: its terminals in the order they are
    tried; the matchers are made on first use."""

    __slots__ = (
        "allowed",
        "callback",
        "grammar",
        "names",
        "scanner",
        "unless",
        "user_callbacks",
    )

    def __init__(
        self,
        grammar: Grammar,
        names: list[str],
        unless: dict[str, dict[str, str]],
        allowed: list[str],
        user_callbacks: dict[str, _Callback],
    ) -> None:
        self.grammar = grammar
        self.names = names
        self.unless = unless
        self.allowed = allowed
        self.user_callbacks = user_callbacks
        self.scanner: list[tuple[str, str, Any]] | None = None
        self.callback: dict[str, _Callback] = {}

    def _build(self) -> list[tuple[str, str, Any]]:
        callback: dict[str, _Callback] = {
            name: _Unless(keywords) for name, keywords in self.unless.items()
        }
        for type_, f in self.user_callbacks.items():
            if type_ in callback:
                # As lark 1.3 does, the condition reads the loop's variable when it is
                # called, that is the last terminal of the table (parser.py says why
                # the Chinese spelling has no callback for NAME).
                callback[type_] = _CallChain(callback[type_], f, lambda t: t.type == type_)  # noqa: B023
            else:
                callback[type_] = f
        self.callback = callback
        self.scanner = [self.grammar.matcher(name) for name in self.names]
        return self.scanner

    def next_token(self, state: LexerState, parser_state: Any = None) -> Token:
        scanner = self.scanner or self._build()
        grammar = self.grammar
        ignore = grammar.ignore
        newline = grammar.newline
        callback = self.callback
        text = state.text
        end = len(text)
        while state.char_pos < end:
            pos = state.char_pos
            for name, literal, pattern in scanner:
                if pattern is None:
                    if text.startswith(literal, pos):
                        type_, value = name, literal
                        break
                else:
                    match = pattern.match(text, pos)
                    if match is not None:
                        type_, value = name, match.group()
                        break
            else:
                allowed = set(self.allowed) or {"<END-OF-FILE>"}
                raise UnexpectedCharacters(
                    text, pos, state.line, state.column, allowed=allowed, state=parser_state
                )
            ignored = type_ in ignore
            t = None
            if not ignored or type_ in callback:
                t = Token(type_, value, pos, state.line, state.column)
            state.feed(value, type_ in newline)
            if t is not None:
                t.end_line = state.line
                t.end_column = state.column
                t.end_pos = state.char_pos
                if t.type in callback:
                    t = callback[t.type](t)
                if not ignored:
                    state.last_token = t
                    return t
        raise EOFError(self)


# ---- the parser -----------------------------------------------------------------------


class _ChildFilter:
    """The children a rule's method gets (lark's ChildFilterLALR): `_rule`s spliced
    in, a None for each symbol of a missing `[...]`."""

    __slots__ = ("append_none", "node_builder", "to_include")

    def __init__(
        self, to_include: list[tuple[int, bool, int]], append_none: int, node_builder: Any
    ) -> None:
        self.to_include = to_include
        self.append_none = append_none
        self.node_builder = node_builder

    def __call__(self, children: list[Any]) -> Any:
        filtered: list[Any] = []
        for i, to_expand, add_none in self.to_include:
            if add_none:
                filtered += [None] * add_none
            if to_expand:
                if filtered:
                    filtered += children[i].children
                else:
                    filtered = children[i].children
            else:
                filtered.append(children[i])
        if self.append_none:
            filtered += [None] * self.append_none
        return self.node_builder(filtered)


class _ExpandSingleChild:
    __slots__ = ("node_builder",)

    def __init__(self, node_builder: Any) -> None:
        self.node_builder = node_builder

    def __call__(self, children: list[Any]) -> Any:
        if len(children) == 1:
            return children[0]
        return self.node_builder(children)


class _Default:
    __slots__ = ("name",)

    def __init__(self, name: str) -> None:
        self.name = name

    def __call__(self, children: list[Any]) -> Tree:
        return Tree(self.name, children)


class ParserState:
    __slots__ = ("lexer_state", "parser", "state_stack", "value_stack")

    def __init__(self, parser: Parser, lexer_state: LexerState) -> None:
        self.parser = parser
        self.lexer_state = lexer_state
        self.state_stack = [parser.grammar.start_state]
        self.value_stack: list[Any] = []

    @property
    def position(self) -> int:
        return self.state_stack[-1]

    def feed_token(self, token: Token, is_end: bool = False) -> Any:
        state_stack = self.state_stack
        value_stack = self.value_stack
        grammar = self.parser.grammar
        states = grammar.states
        rules = grammar.rules
        end_state = grammar.end_state
        callbacks = self.parser.callbacks
        token_callbacks = self.parser.token_callbacks
        while True:
            state = state_stack[-1]
            try:
                action = states[state][token.type]
            except KeyError:
                expected = {s for s in states[state] if s.isupper()}
                raise UnexpectedToken(token, expected, state=self) from None
            if action >= 0:  # shift once and return
                state_stack.append(action)
                callback = token_callbacks.get(token.type)
                value_stack.append(token if callback is None else callback(token))
                return None
            # reduce, then shift the rule, as many times as it takes
            origin, size = rules[~action]
            if size:
                s = value_stack[-size:]
                del state_stack[-size:]
                del value_stack[-size:]
            else:
                s = []
            value = callbacks[~action](s)
            state_stack.append(states[state_stack[-1]][origin])
            value_stack.append(value)
            if is_end and state_stack[-1] == end_state:
                return value_stack[-1]


class InteractiveParser:
    """The parser stopped at an error: feed it a token, then resume."""

    def __init__(self, parser: Parser, parser_state: ParserState) -> None:
        self.parser = parser
        self.parser_state = parser_state

    def feed_token(self, token: Token) -> Any:
        return self.parser_state.feed_token(token, token.type == "$END")

    def resume_parse(self) -> Any:
        state = self.parser_state
        return self.parser.parse_from_state(state, last_token=state.lexer_state.last_token)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, InteractiveParser):
            return False
        mine, theirs = self.parser_state, other.parser_state
        return (
            len(mine.state_stack) == len(theirs.state_stack)
            and mine.position == theirs.position
            and mine.lexer_state is theirs.lexer_state
        )

    __hash__ = None  # type: ignore[assignment]


class Parser:
    """A grammar's tables with a transformer: `parse(text)` returns what the
    transformer's method for the start rule returns."""

    def __init__(
        self,
        grammar: Grammar,
        transformer: Any,
        lexer_callbacks: dict[str, _Callback] | None = None,
    ) -> None:
        self.grammar = grammar
        user = dict(lexer_callbacks or {})
        self.lexers = [
            _BasicLexer(grammar, names, unless, allowed, user)
            for names, unless, allowed in grammar.lexer_specs
        ]
        names, unless, allowed = grammar.root_lexer_spec
        self.root_lexer = _BasicLexer(grammar, names, unless, allowed, user)
        self.state_lexers = [self.lexers[i] for i in grammar.state_lexer]
        self.callbacks = [self._callback(transformer, spec) for spec in grammar.rule_specs]
        self.token_callbacks: dict[str, _Callback] = {}
        for name in grammar.terminal_names:
            method = getattr(transformer, name, None)
            if method is not None:
                self.token_callbacks[name] = method

    @staticmethod
    def _callback(transformer: Any, spec: list[Any]) -> Any:
        name, expand1, to_include, append_none = spec
        f = getattr(transformer, name, None)
        if f is None:
            f = _Default(name)
        if expand1:
            f = _ExpandSingleChild(f)
        if to_include is not None:
            f = _ChildFilter([tuple(x) for x in to_include], append_none, f)
        return f

    def lex(self, lexer_state: LexerState, parser_state: ParserState) -> Iterator[Token]:
        lexers = self.state_lexers
        try:
            while True:
                lexer = lexers[parser_state.position]
                yield lexer.next_token(lexer_state, parser_state)
        except EOFError:
            pass
        except UnexpectedCharacters as e:
            # Not a terminal of this state: lexed with the whole grammar's terminals,
            # the error names the token found where the state expected others.
            try:
                token = self.root_lexer.next_token(lexer_state, parser_state)
                raise UnexpectedToken(token, e.allowed, state=parser_state) from None
            except UnexpectedCharacters:
                raise e from None

    def parse_from_state(self, state: ParserState, last_token: Token | None = None) -> Any:
        try:
            token = last_token
            for token in self.lex(state.lexer_state, state):
                state.feed_token(token)
            end_token = (
                Token.new_borrow_pos("$END", "", token) if token else Token("$END", "", 0, 1, 1)
            )
            return state.feed_token(end_token, True)
        except UnexpectedInput as e:
            e.interactive_parser = InteractiveParser(self, state)
            raise e from None

    def parse(self, text: str, on_error: Callable[[UnexpectedInput], bool] | None = None) -> Any:
        """Parse `text`; on a syntax error `on_error` may mend it (feed a token to the
        error's interactive parser and return True) and parsing resumes, as lark's
        `Lark.parse(text, on_error=...)`."""
        state = ParserState(self, LexerState(text))
        try:
            return self.parse_from_state(state)
        except UnexpectedInput as first:
            if on_error is None:
                raise
            e = first
        while True:
            if isinstance(e, UnexpectedCharacters):
                lexer_state = e.interactive_parser.parser_state.lexer_state
                p = lexer_state.char_pos
            if not on_error(e):
                raise e
            if isinstance(e, UnexpectedCharacters) and p == lexer_state.char_pos:
                lexer_state.feed(lexer_state.text[p : p + 1])
            try:
                return e.interactive_parser.resume_parse()
            except UnexpectedToken as e2:
                if (
                    isinstance(e, UnexpectedToken)
                    and e.token.type == e2.token.type == "$END"
                    and e.interactive_parser == e2.interactive_parser
                ):
                    raise e2 from None  # the same error again: stop
                e = e2
            except UnexpectedCharacters as e2:
                e = e2


# ---- the tables -----------------------------------------------------------------------


class Grammar:
    """A grammar's generated tables (incentive/lalrgen.py writes them)."""

    def __init__(self, data: dict[str, Any]) -> None:
        if data.get("format") != FORMAT:
            raise ValueError(f"parser tables of format {data.get('format')!r}, not {FORMAT}")
        self.key: str = data["key"]
        self.start_state: int = data["start_state"]
        self.end_state: int = data["end_state"]
        self.terminals: dict[str, tuple[str, str]] = {
            name: (kind, text) for name, kind, text in data["terminals"]
        }
        self.terminal_names = tuple(self.terminals)
        self.ignore = frozenset(data["ignore"])
        self.newline = frozenset(data["newline"])
        self.rules: list[tuple[str, int]] = [(origin, size) for origin, size, *_ in data["rules"]]
        self.rule_specs: list[list[Any]] = [spec for _origin, _size, *spec in data["rules"]]
        self.states: list[dict[str, int]] = [
            dict(zip(keys, actions, strict=True)) for keys, actions in data["states"]
        ]
        self.state_lexer: list[int] = data["state_lexer"]
        self.lexer_specs: list[tuple[list[str], dict[str, dict[str, str]], list[str]]] = [
            (names, unless, allowed) for names, unless, allowed in data["lexers"]
        ]
        names, unless, allowed = data["root_lexer"]
        self.root_lexer_spec = (names, unless, allowed)
        self._matchers: dict[str, tuple[str, str, Any]] = {}

    @classmethod
    def from_json(cls, text: str | bytes) -> Grammar:
        return cls(json.loads(text))

    def matcher(self, name: str) -> tuple[str, str, Any]:
        """(name, literal, None) for a literal terminal, (name, "", compiled pattern)
        for a pattern: compiled once per terminal, for every lexer that uses it."""
        found = self._matchers.get(name)
        if found is None:
            kind, text = self.terminals[name]
            found = (name, text, None) if kind == "str" else (name, "", re.compile(text))
            self._matchers[name] = found
        return found

    def literal(self, name: str) -> str | None:
        """The text of a terminal that is a literal string (`"award"`), else None."""
        kind, text = self.terminals[name]
        return text if kind == "str" else None


# ---- tables from lark (python -m incentive.lalrgen; a grammar not regenerated) --------


def extract(parser: Any, key: str) -> dict[str, Any]:
    """The tables of a built (or cache-loaded) `lark.Lark` LALR parser, as data."""
    from lark.lexer import PatternStr, _create_unless
    from lark.parse_tree_builder import (
        ChildFilterLALR,
        ChildFilterLALR_NoPlaceholders,
        ExpandSingleChild,
    )
    from lark.parsers.lalr_analysis import Shift

    frontend = parser.parser
    table = frontend.parser._parse_table
    conf = frontend.lexer_conf
    if conf.re_module is not re or conf.g_regex_flags or conf.use_bytes or conf.postlex:
        raise ValueError("the runtime lexes with `re`, no global flags, text, no postlexer")
    if list(table.start_states) != ["start"]:
        raise ValueError("one start rule, `start`")

    # canonical state numbers: a walk from the start state, symbols in name order
    old_start = table.start_states["start"]
    order = [old_start]
    number = {old_start: 0}
    for old in order:
        for symbol in sorted(table.states[old]):
            action, arg = table.states[old][symbol]
            if action is Shift and arg not in number:
                number[arg] = len(order)
                order.append(arg)
    if len(order) != len(table.states):
        raise ValueError("unreachable parser states")

    rules = sorted(
        parser.rules,
        key=lambda r: (r.origin.name, [s.name for s in r.expansion], r.alias or ""),
    )
    rule_number = {rule: i for i, rule in enumerate(rules)}
    chains = dict(parser._parse_tree_builder.rule_builders)

    def rule_data(rule: Any) -> list[Any]:
        name = rule.alias or rule.options.template_source or rule.origin.name
        expand1 = False
        to_include: list[list[Any]] | None = None
        append_none = 0
        for wrapper in chains[rule]:
            if wrapper is ExpandSingleChild:
                expand1 = True
            elif getattr(wrapper, "func", None) is ChildFilterLALR:
                included, append_none = wrapper.args
                to_include = [[i, bool(x), n] for i, x, n in included]
            elif getattr(wrapper, "func", None) is ChildFilterLALR_NoPlaceholders:
                (included,) = wrapper.args
                to_include = [[i, bool(x), 0] for i, x in included]
            else:
                raise ValueError(f"rule {rule}: the runtime has no {wrapper!r}")
        return [rule.origin.name, len(rule.expansion), name, expand1, to_include, append_none]

    states = []
    for old in order:
        actions = table.states[old]
        keys = sorted(actions)
        codes = []
        for symbol in keys:
            action, arg = actions[symbol]
            codes.append(number[arg] if action is Shift else ~rule_number[arg])
        states.append([keys, codes])

    ignore = sorted(conf.ignore)

    def lexer_data(basic: Any) -> list[Any]:
        terminals, callbacks = _create_unless(basic.terminals, 0, re, False)  # type: ignore[no-untyped-call]
        unless: dict[str, dict[str, str]] = {}
        for name, callback in sorted(callbacks.items()):
            keywords: dict[str, str] = {}
            for strtok in callback.scanner.terminals:
                if not isinstance(strtok.pattern, PatternStr) or strtok.pattern.flags:
                    raise ValueError(f"{strtok.name}: a keyword the runtime cannot compare")
                keywords.setdefault(strtok.pattern.value, strtok.name)
            unless[name] = keywords
        names = [t.name for t in terminals]
        return [names, unless, sorted(set(names) - set(ignore))]

    contextual = frontend.lexer
    lexers: list[list[Any]] = []
    lexer_number: dict[int, int] = {}
    state_lexer = []
    for old in order:
        basic = contextual.lexers[old]
        if id(basic) not in lexer_number:
            lexer_number[id(basic)] = len(lexers)
            lexers.append(lexer_data(basic))
        state_lexer.append(lexer_number[id(basic)])

    terminals = []
    newline = []
    for t in sorted(conf.terminals, key=lambda t: t.name):
        pattern = t.pattern
        if isinstance(pattern, PatternStr) and not pattern.flags:
            terminals.append([t.name, "str", pattern.value])
        else:
            terminals.append([t.name, "re", pattern.to_regexp()])
        if t.name in contextual.root_lexer.newline_types:
            newline.append(t.name)

    return {
        "format": FORMAT,
        "key": key,
        "start_state": 0,
        "end_state": number[table.end_states["start"]],
        "terminals": terminals,
        "ignore": ignore,
        "newline": newline,
        "rules": [rule_data(rule) for rule in rules],
        "states": states,
        "state_lexer": state_lexer,
        "lexers": lexers,
        "root_lexer": lexer_data(contextual.root_lexer),
    }
