"""incentive.frozen: the AST's and the Program's classes behave as the standard frozen
dataclasses they replace (start-up, issue 14).

Each test module below is executed a second time with `dataclasses.dataclass` in place
of `incentive.frozen.dataclass`; every parsed and checked scheme of the repository is
then rebuilt from those standard twins and compared: repr, equality, hashing,
immutability, signatures, docstrings, fields, `replace`, pickling."""

from __future__ import annotations

import contextlib
import copy
import dataclasses
import inspect
import itertools
import pickle
import sys
import types
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

import incentive
from incentive import ast, frozen, program
from incentive.diagnostics import Span

ROOT = Path(__file__).resolve().parent.parent
MODULES = (ast, program)


def _standard_twin(module: types.ModuleType) -> types.ModuleType:
    """The module executed again, its classes made by the standard decorator."""
    source = Path(module.__file__ or "").read_text(encoding="utf-8")
    marker = "from incentive.frozen import dataclass\n"
    assert marker in source
    twin = types.ModuleType(f"{module.__name__}_standard")
    sys.modules[twin.__name__] = twin  # dataclasses look their module up while processing
    try:
        code = compile(
            source.replace(marker, "from dataclasses import dataclass\n"), "twin", "exec"
        )
        exec(code, twin.__dict__)
    finally:
        del sys.modules[twin.__name__]
    return twin


TWINS = {module.__name__: _standard_twin(module) for module in MODULES}


def _twin(value: Any) -> Any:
    """`value` rebuilt with the standard classes wherever it holds one of ours."""
    kind = type(value)
    if getattr(kind, "__incentive_frozen__", False) and kind.__module__ in TWINS:
        other = getattr(TWINS[kind.__module__], kind.__name__)
        made = {f.name: _twin(getattr(value, f.name)) for f in dataclasses.fields(value)}
        return other(**{f.name: made[f.name] for f in dataclasses.fields(other) if f.init})
    if kind is tuple:
        return tuple(_twin(v) for v in value)
    if kind is frozenset:  # of names: rebuilt, it could iterate in another order
        assert not any(getattr(type(v), "__incentive_frozen__", False) for v in value)
        return value
    if kind is dict:
        return {_twin(k): _twin(v) for k, v in value.items()}
    return value


def _ours(value: Any) -> Iterator[Any]:
    """Every instance of our classes inside `value`, `value` included."""
    stack = [value]
    while stack:
        item = stack.pop()
        if getattr(type(item), "__incentive_frozen__", False):
            yield item
            stack.extend(getattr(item, f.name) for f in dataclasses.fields(item))
        elif isinstance(item, tuple | frozenset | list):
            stack.extend(item)
        elif isinstance(item, dict):
            stack.extend(item.values())


def _schemes() -> list[Path]:
    return sorted(ROOT.glob("schemes/*.incentive")) + sorted(
        ROOT.glob("tests/golden/*/*.incentive")
    )


def _checked() -> list[tuple[str, Any]]:
    found: list[tuple[str, Any]] = []
    for path in _schemes():
        text = path.read_text(encoding="utf-8")
        try:
            scheme = incentive.parse(text, str(path))
        except incentive.SchemeError:
            continue
        found.append((path.name, scheme))
        with contextlib.suppress(incentive.SchemeError):
            found.append((path.name, incentive.compile(text, str(path))))
    return found


CHECKED = _checked()


def test_the_schemes_give_enough_nodes() -> None:
    kinds = {type(node) for _, tree in CHECKED for node in _ours(tree)}
    assert ast.Scheme in kinds and program.Program in kinds and len(kinds) > 60


@pytest.mark.parametrize(
    ("name", "tree"), CHECKED, ids=[f"{n}-{i}" for i, (n, _) in enumerate(CHECKED)]
)
def test_repr_equality_and_hash_are_the_standard_ones(name: str, tree: Any) -> None:
    twin = _twin(tree)
    assert repr(tree) == repr(twin)
    nodes = list(_ours(tree))
    twins = [_twin(node) for node in nodes]
    for node, other in zip(nodes, twins, strict=True):
        assert repr(node) == repr(other)
        assert node == node and other == other
        try:
            expected = hash(other)
        except TypeError as error:  # a field holds a dict (Program): unhashable alike
            with pytest.raises(TypeError, match=str(error).split(":")[0]):
                hash(node)
        else:
            assert hash(node) == expected
    # equality between any two nodes answers as between their twins
    for (a, ta), (b, tb) in itertools.islice(
        itertools.combinations(zip(nodes, twins, strict=True), 2), 3000
    ):
        assert (a == b) == (ta == tb)
        assert (a != b) == (ta != tb)


def test_spans_take_no_part_in_equality_or_hashing() -> None:
    one = ast.Name("x", span=Span(1, 2, 1, 3))
    other = ast.Name("x", span=Span(5, 1, 5, 2))
    assert one == other and hash(one) == hash(other)
    assert one != ast.Name("y", span=one.span)
    assert one != ("x",) and one.__eq__(("x",)) is NotImplemented
    assert ast.String("x") != ast.Name("x")  # same fields, another class


def test_nodes_are_immutable() -> None:
    node = ast.Binary("+", ast.Number(incentive_decimal(1)), ast.Number(incentive_decimal(2)))
    with pytest.raises(dataclasses.FrozenInstanceError, match="cannot assign to field 'op'"):
        node.op = "-"  # type: ignore[misc]
    with pytest.raises(dataclasses.FrozenInstanceError, match="cannot delete field 'left'"):
        del node.left  # type: ignore[misc]
    with pytest.raises(dataclasses.FrozenInstanceError):
        node.anything_else = 1  # type: ignore[attr-defined]


def incentive_decimal(value: int) -> Any:
    from decimal import Decimal

    return Decimal(value)


@pytest.mark.parametrize("module", MODULES, ids=[m.__name__ for m in MODULES])
def test_fields_signatures_docstrings_as_the_standard(module: types.ModuleType) -> None:
    twin = TWINS[module.__name__]
    classes = [
        value
        for value in vars(module).values()
        if isinstance(value, type) and getattr(value, "__incentive_frozen__", False)
    ]
    assert classes
    for cls in classes:
        other = getattr(twin, cls.__name__)
        assert [
            (f.name, f.type, f.default, f.init, f.repr, f.compare, f.hash, f.kw_only)
            for f in dataclasses.fields(cls)
        ] == [
            (f.name, f.type, f.default, f.init, f.repr, f.compare, f.hash, f.kw_only)
            for f in dataclasses.fields(other)
        ]
        assert dataclasses.is_dataclass(cls)
        assert cls.__match_args__ == other.__match_args__  # type: ignore[attr-defined]
        if cls.__dict__["__init__"] is frozen._first_init:
            with frozen._lock:
                cls.__init__ = frozen._compile_init(cls)  # type: ignore[misc]
        # as text: a default factory shows as `<factory>`, each module's own marker
        assert str(inspect.signature(cls)) == str(inspect.signature(other)), cls
        assert cls.__doc__ == other.__doc__
        assert cls.__init__.__qualname__ == other.__init__.__qualname__  # type: ignore[misc]
        assert str(inspect.signature(cls.__init__)) == str(inspect.signature(other.__init__))


def test_wrong_arguments_fail_as_the_standard_init_does() -> None:
    twin = TWINS[ast.__name__]
    for call in (
        lambda cls: cls(),
        lambda cls: cls("a", "b"),
        lambda cls: cls(value="a", other=1),
        lambda cls: cls("a", span=1, value="b"),
    ):
        with pytest.raises(TypeError) as ours:
            call(ast.Name)
        with pytest.raises(TypeError) as theirs:
            call(twin.Name)
        assert str(ours.value) == str(theirs.value)


def test_replace_asdict_copy_and_pickle() -> None:
    _, tree = next((n, t) for n, t in CHECKED if isinstance(t, ast.Scheme))
    again = pickle.loads(pickle.dumps(tree))
    assert again == tree and repr(again) == repr(tree)
    assert copy.deepcopy(tree) == tree
    assert dataclasses.asdict(tree) == dataclasses.asdict(_twin(tree))
    renamed = dataclasses.replace(tree, name="other")
    assert renamed.name == "other" and renamed != tree
    assert dataclasses.replace(renamed, name=tree.name) == tree
    _, checked = next((n, t) for n, t in CHECKED if isinstance(t, program.Program))
    assert dataclasses.replace(checked, seed=7).seed == 7
    assert pickle.loads(pickle.dumps(checked)) == checked


def test_a_default_factory_gives_each_instance_its_own() -> None:
    _, checked = next((n, t) for n, t in CHECKED if isinstance(t, program.Program))
    fields = {f.name: getattr(checked, f.name) for f in dataclasses.fields(checked) if f.init}
    del fields["expiry"]
    one, two = program.Program(**fields), program.Program(**fields)
    assert one.expiry == {} and one.expiry is not two.expiry


def test_other_options_go_to_the_standard_decorator() -> None:
    @frozen.dataclass
    class Plain:
        x: int

    @frozen.dataclass(frozen=True, order=True)
    class Ordered:
        x: int

    @frozen.dataclass(frozen=True)
    class OwnRepr:
        x: int

        def __repr__(self) -> str:
            return "mine"

    assert not getattr(Plain, "__incentive_frozen__", False)
    assert not getattr(Ordered, "__incentive_frozen__", False)
    assert not getattr(OwnRepr, "__incentive_frozen__", False)
    assert Ordered(1) < Ordered(2) and repr(OwnRepr(1)) == "mine"
    plain = Plain(1)
    plain.x = 2
    assert plain.x == 2
    with pytest.raises(dataclasses.FrozenInstanceError):
        OwnRepr(1).x = 2  # type: ignore[misc]


def test_a_subclass_without_the_decorator_inherits_the_methods() -> None:
    @frozen.dataclass(frozen=True)
    class Base:
        x: int
        y: int = 2

    class Child(Base):
        pass

    child = Child(1)  # the base's __init__ is written on this first use
    assert (child.x, child.y) == (1, 2) and repr(child).endswith(".Child(x=1, y=2)")
    assert child != Base(1)  # another class: as the standard __eq__
    assert Base(1) == Base(1, 2) and hash(Base(1)) == hash((1, 2))
