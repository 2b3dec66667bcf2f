"""Frozen dataclasses that cost next to nothing to define.

`incentive.ast` and `incentive.program` declare about 120 frozen dataclasses. The
standard decorator compiles six small functions for each when the module is imported
(an `exec` per method): 80 to 100 ms of every `incentive check`, more than parsing
and checking a scheme (docs/performance.md, "Start-up"). Compiling is the cost, so
compiling less is the cure:

- the standard module still reads the fields (`dataclass(init=False, repr=False,
  eq=False)` compiles nothing): `dataclasses.fields`, `replace`, `asdict` and
  `is_dataclass` work as before;
- `__repr__`, `__eq__` and `__hash__` are shared functions that read a class's fields
  through one `operator.attrgetter`: the same tuples, text and hashes as the
  standard methods; `__setattr__` and `__delattr__` raise `FrozenInstanceError`;
- `__init__`, which needs the class's own parameters, is compiled the first time the
  class is instantiated (a check uses about a third of the classes).

tests/test_frozen.py proves the classes alike to the standard ones (Python 3.11's):
repr, equality, hashes, signatures, docstrings, errors, pickling. Type checkers see
`dataclasses.dataclass` itself. Any option other than `frozen=True` alone, or a class
that writes one of those methods itself, goes to the standard decorator unchanged.
"""

from __future__ import annotations

import _thread
import dataclasses
import operator
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

__all__ = ["dataclass"]

# Methods this module writes: a class that defines one itself goes to the standard
# decorator, which knows what to keep and what to refuse.
_OWN = ("__init__", "__repr__", "__eq__", "__hash__", "__setattr__", "__delattr__")

_lock = _thread.allocate_lock()


def _frozen_setattr(self: object, name: str, value: object) -> None:
    raise dataclasses.FrozenInstanceError(f"cannot assign to field {name!r}")


def _frozen_delattr(self: object, name: str) -> None:
    raise dataclasses.FrozenInstanceError(f"cannot delete field {name!r}")


# Equality, hashing and repr read the class's fields through one `attrgetter` (C) per
# class: the same tuples the standard methods build, without compiling anything.


def _eq(self: Any, other: Any) -> Any:
    if other.__class__ is self.__class__:
        key = self.__class__.__incentive_compared__
        return key(self) == key(other)
    return NotImplemented


def _hash(self: Any) -> int:
    return hash(self.__class__.__incentive_hashed__(self))


def _repr(self: Any) -> str:
    shown = ", ".join(f"{name}={getattr(self, name)!r}" for name in self.__incentive_shown__)
    return f"{self.__class__.__qualname__}({shown})"


def _tuple_of(names: list[str]) -> Callable[[Any], tuple[Any, ...]]:
    """The fields' values as a tuple, whatever their number (attrgetter alone returns
    a bare value for one name)."""
    if len(names) >= 2:
        return operator.attrgetter(*names)
    if len(names) == 1:
        one = operator.attrgetter(names[0])
        return lambda node: (one(node),)
    return lambda node: ()


def _first_init(self: Any, *args: Any, **kwargs: Any) -> None:
    """Until a class is first instantiated, its `__init__`: compiles the real one."""
    cls = self.__class__
    with _lock:
        init = cls.__dict__.get("__init__")
        if init is None or init is _first_init:
            for owner in cls.__mro__:  # the class this placeholder belongs to
                if owner.__dict__.get("__init__") is _first_init:
                    owner.__init__ = _compile_init(owner)
                    break
    cls.__init__(self, *args, **kwargs)


def _fast_frozen(cls: type) -> type:
    own = [name for name in _OWN if name in cls.__dict__]
    if own or "__slots__" in cls.__dict__:
        return dataclasses.dataclass(cls, frozen=True)
    for base in cls.__mro__[1:-1]:
        params = base.__dict__.get("__dataclass_params__")
        if params is not None and params.frozen:
            # a standard frozen dataclass as base: let the standard decorator judge
            return dataclasses.dataclass(cls, frozen=True)
    documented = bool(cls.__dict__.get("__doc__"))
    if not documented:
        cls.__doc__ = cls.__name__  # the standard decorator's signature would cost more
    # Fields, defaults as class attributes, __match_args__, and no method compiled.
    dataclasses.dataclass(cls, init=False, repr=False, eq=False)
    fields = dataclasses.fields(cls)
    cls.__incentive_compared__ = _tuple_of([f.name for f in fields if f.compare])  # type: ignore[attr-defined]
    cls.__incentive_hashed__ = _tuple_of(  # type: ignore[attr-defined]
        [f.name for f in fields if (f.compare if f.hash is None else f.hash)]
    )
    cls.__incentive_shown__ = tuple(f.name for f in fields if f.repr)  # type: ignore[attr-defined]
    cls.__incentive_frozen__ = True  # type: ignore[attr-defined]
    cls.__init__ = _first_init  # type: ignore[misc]
    cls.__repr__ = _repr  # type: ignore[assignment]
    cls.__eq__ = _eq  # type: ignore[assignment]
    cls.__hash__ = _hash  # type: ignore[assignment]
    cls.__setattr__ = _frozen_setattr  # type: ignore[assignment]
    cls.__delattr__ = _frozen_delattr  # type: ignore[assignment]
    return cls


class _HasFactory:
    def __repr__(self) -> str:
        return "<factory>"


_HAS_FACTORY = _HasFactory()


def _compile_init(cls: type) -> Callable[..., None]:
    """Python 3.11's `__init__` of a frozen dataclass (see dataclasses.py), compiled
    for this one class: the only method that needs its own code."""
    namespace: dict[str, Any] = {"_object_setattr": object.__setattr__, "_FACTORY": _HAS_FACTORY}
    params: list[str] = []
    keywords: list[str] = []
    body: list[str] = []
    annotations: dict[str, Any] = {}
    for f in dataclasses.fields(cls):
        if f.default_factory is not dataclasses.MISSING:
            namespace[f"_factory_{f.name}"] = f.default_factory
            if f.init:
                param = f"{f.name}=_FACTORY"
                value = f"_factory_{f.name}() if {f.name} is _FACTORY else {f.name}"
            else:
                param, value = "", f"_factory_{f.name}()"
        elif f.init:
            if f.default is dataclasses.MISSING:
                param = f.name
            else:
                namespace[f"_default_{f.name}"] = f.default
                param = f"{f.name}=_default_{f.name}"
            value = f.name
        else:
            continue  # init=False with a plain default: the class attribute stands
        if param:
            (keywords if f.kw_only else params).append(param)
            annotations[f.name] = f.type
        body.append(f"    _object_setattr(self, {f.name!r}, {value})")
    if hasattr(cls, "__post_init__"):
        body.append("    self.__post_init__()")
    signature = ", ".join(["self", *params, *(["*", *keywords] if keywords else [])])
    source = "\n".join([f"def __init__({signature}):", *(body or ["    pass"])])
    exec(compile(source, f"<{cls.__qualname__}.__init__>", "exec"), namespace)
    init: Callable[..., None] = namespace["__init__"]
    init.__qualname__ = f"{cls.__qualname__}.__init__"
    init.__module__ = cls.__module__
    init.__annotations__ = {**annotations, "return": None}
    if cls.__doc__ == cls.__name__:
        cls.__doc__ = cls.__name__ + _signature_text(init)
    return init


def _signature_text(init: Callable[..., None]) -> str:
    """What the standard decorator puts after the name in a class's docstring."""
    import inspect

    signature = inspect.signature(init)
    shown = signature.replace(parameters=list(signature.parameters.values())[1:])
    return str(shown).replace(" -> None", "")


if TYPE_CHECKING:
    from dataclasses import dataclass as dataclass
else:

    def dataclass(cls=None, /, **options):
        """`dataclasses.dataclass`, made cheaply when the only option is frozen=True."""

        def wrap(cls):
            if options == {"frozen": True}:
                return _fast_frozen(cls)
            return dataclasses.dataclass(cls, **options)

        return wrap if cls is None else wrap(cls)
