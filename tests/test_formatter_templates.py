"""The formatter's table (formatter._TEMPLATES): one template per node and spelling.

A field or a kind misspelt in a template would fail only when a scheme uses that
clause, in that form, in that spelling: these tests read the whole table instead.
The round trips (test_spelling.py, test_properties.py, test_docs.py) prove what the
templates write.
"""

from __future__ import annotations

import dataclasses
import typing
from typing import Any

import pytest

from incentive import ast
from incentive.formatter import (
    _BLOCKS,
    _PAY_TEMPLATES,
    _TEMPLATES,
    _VALUES,
    _parse_template,
    format_clause,
)

TEMPLATES = [
    *((node, template) for node, pair in _TEMPLATES.items() for template in pair),
    *((ast.Rank, template) for template in _PAY_TEMPLATES),
]
STRUCTURAL_KINDS = {"", "flag", "inline"}  # written by the template engine itself


def _fields(parts: list[Any]) -> list[tuple[tuple[str, ...], str]]:
    found = []
    for part in parts:
        if isinstance(part, tuple):
            found.append(part)
        elif isinstance(part, list):
            for alternative in part:
                found += _fields(alternative)
    return found


def _has(node: type, name: str) -> bool:
    names = {f.name for f in dataclasses.fields(node)}
    return name in names or isinstance(getattr(node, name, None), property)


@pytest.mark.parametrize(("node", "template"), TEMPLATES, ids=lambda x: getattr(x, "__name__", x))
def test_each_field_is_the_node_s_and_each_kind_is_written_in_both_spellings(
    node: type, template: str
) -> None:
    for path, kind in _fields(_parse_template(template)):
        assert _has(node, path[0]), f"{node.__name__} has no field `{path[0]}`"
        if len(path) > 1:
            assert path[:2] == ("pay", "member") or path[:2] in (
                ("pay", "attribute"),
                ("pay", "so_far"),
            ), path
            assert _has(ast.PayTo, path[1])
        assert kind in STRUCTURAL_KINDS or (kind in _VALUES["en"] and kind in _VALUES["zh"]), kind


def _members(alias: Any) -> set[type]:
    return {t for t in typing.get_args(alias) if isinstance(t, type)}


def test_every_clause_and_item_has_a_template_or_is_a_block() -> None:
    clauses = set().union(
        *map(
            _members,
            (
                ast.RuleClause,
                ast.BoostClause,
                ast.RedeemClause,
                ast.ReverseClause,
                ast.TransferClause,
                ast.CatalogueClause,
                ast.LeagueClause,
            ),
        )
    )
    assert clauses - set(_TEMPLATES) == set()
    blocks = {ast.EventsDecl, *_BLOCKS}  # `events { }` and the named blocks
    assert _members(ast.Item) - set(_TEMPLATES) - blocks == set()


@pytest.mark.parametrize("broken", ["limit {count", "once[ for each {key}", "a ] b", "x | y"])
def test_a_broken_template_is_refused(broken: str) -> None:
    with pytest.raises(ValueError, match="template"):
        _parse_template(broken)


def test_a_group_is_written_only_with_its_fields_and_the_other_alternative_without() -> None:
    mug = ast.Name("mug")
    assert format_clause(ast.Limit(1, "month", mug)) == "limit 1 per month for each mug"
    assert format_clause(ast.Limit(1, None, None)) == "limit 1 ever"
    assert format_clause(ast.Limit(1, None, None), "zh") == "总共限1次"
    assert format_clause(ast.Limit(2, "week", mug), "zh") == "每周限2次 每个 mug"
    # a count of 0 and an empty line are there: only None, False and () are not
    assert format_clause(ast.Rank("top", 0, "day", "count")) == "top 0 per day by count"
    post = ast.Post("Top", "", None, None)
    assert format_clause(post) == 'post "Top" line ""'
