"""``@frozen``: ``@dataclass(frozen=True)`` for value classes, built four times faster.

tlsmon's plugins run thousands of times a day as fresh processes, so import time is
their cost. ``dataclasses`` builds each class with half a dozen ``exec`` calls and an
``inspect.signature`` for the docstring (~0.5 ms a class on Python 3.11; the plugins
import ~60 of them). ``frozen`` generates the same methods — ``__init__`` with the
defaults, ``__repr__``, ``__eq__``, ``__hash__``, frozen ``__setattr__``/``__delattr__``
— in one ``exec``, and records the fields so that ``dataclasses.fields``, ``replace``
and ``asdict`` work on the result. Only what tlsmon uses is supported: fields with
plain defaults or ``field(default=...)``/``field(default_factory=...)``, no inheritance
of fields, no ``InitVar``/``ClassVar`` annotations, no ``__post_init__``.
"""

from __future__ import annotations

import dataclasses
import operator
from typing import TYPE_CHECKING, Any, Callable, Optional, TypeVar

if TYPE_CHECKING:  # type checkers read @frozen as a frozen dataclass (PEP 681)
    from typing_extensions import dataclass_transform
else:
    def dataclass_transform(**_kwargs: Any) -> Callable[[Any], Any]:
        return lambda fn: fn

__all__ = ["frozen"]

T = TypeVar("T")

_MISSING = dataclasses.MISSING
# dataclasses marks real fields with this private sentinel; fields() filters on it.
_FIELD_MARK = getattr(dataclasses, "_FIELD", None)
# __init__ gives the instance its dict in one go: one object.__setattr__ per field costs
# more (6 fields: 0.38 µs instead of 0.62 µs; 33 fields: 1.6 µs instead of 3.3 µs). The
# price is a dict of its own per instance instead of one sharing its class's keys (~150
# bytes more), which does not matter for short-lived values.


class _LazyFields(dict):
    """``__dataclass_fields__`` made on first use: ``dataclasses.Field`` objects cost ~10 µs each."""

    def __init__(self, make: Callable[[], dict[str, dataclasses.Field]]) -> None:
        super().__init__()
        self._make: Optional[Callable[[], dict[str, dataclasses.Field]]] = make

    def _fill(self) -> None:
        if self._make is not None:
            make, self._make = self._make, None
            self.update(make())

    def __getitem__(self, key: str) -> Any:
        self._fill()
        return super().__getitem__(key)

    def __iter__(self) -> Any:
        self._fill()
        return super().__iter__()

    def __len__(self) -> int:
        self._fill()
        return super().__len__()

    def keys(self) -> Any:
        self._fill()
        return super().keys()

    def values(self) -> Any:
        self._fill()
        return super().values()

    def items(self) -> Any:
        self._fill()
        return super().items()


def _frozen_setattr(self: Any, name: str, value: Any) -> None:
    raise dataclasses.FrozenInstanceError(f"cannot assign to field {name!r}")


def _frozen_delattr(self: Any, name: str) -> None:
    raise dataclasses.FrozenInstanceError(f"cannot delete field {name!r}")


@dataclass_transform(frozen_default=True, field_specifiers=(dataclasses.field, dataclasses.Field))
def frozen(cls: type[T]) -> type[T]:
    """Make ``cls`` a frozen value class (see the module docstring)."""
    own = cls.__dict__.get("__annotations__", {})
    names = tuple(n for n in own if not str(own[n]).startswith(("ClassVar", "typing.ClassVar")))
    ns: dict[str, Any] = {"_object_setattr": object.__setattr__, "_MISSING": _MISSING}
    params, body = [], []
    specs: dict[str, Any] = {}
    seen_default = False
    for name in names:
        value = cls.__dict__.get(name, _MISSING)
        default: Any = value
        factory: Any = _MISSING
        if isinstance(value, dataclasses.Field):
            default, factory = value.default, value.default_factory
        specs[name] = value
        if default is not _MISSING:
            ns[f"_d_{name}"] = default
            params.append(f"{name}=_d_{name}")
            seen_default = True
            setattr(cls, name, default)
        elif factory is not _MISSING:
            ns[f"_f_{name}"] = factory
            params.append(f"{name}=_MISSING")
            body.append(f" if {name} is _MISSING: {name} = _f_{name}()")
            seen_default = True
            if name in cls.__dict__:
                delattr(cls, name)
        else:
            if seen_default:
                raise TypeError(f"{cls.__name__}: non-default field {name!r} follows a default")
            params.append(name)
    if names:
        body.append(f" _object_setattr(self, '__dict__', {{{', '.join(f'{n!r}: {n}' for n in names)}}})")
    # Only __init__ is generated (speed matters there); the rest are shared or C-level functions.
    exec(f"def __init__(self, {', '.join(params)}):\n" + "\n".join(body or [" pass"]), ns)  # noqa: S102
    init = ns["__init__"]
    init.__qualname__ = f"{cls.__qualname__}.__init__"
    values = operator.attrgetter(*names) if len(names) > 1 else (
        (lambda obj, _n=names[0]: (getattr(obj, _n),)) if names else (lambda obj: ()))

    def __eq__(self: Any, other: Any) -> Any:
        if other.__class__ is self.__class__:
            return values(self) == values(other)
        return NotImplemented

    def __hash__(self: Any) -> int:
        return hash(values(self))

    def __repr__(self: Any) -> str:
        return f"{cls.__qualname__}(" + ", ".join(f"{n}={getattr(self, n)!r}" for n in names) + ")"

    for method, fn in (("__init__", init), ("__eq__", __eq__), ("__hash__", __hash__), ("__repr__", __repr__),
                       ("__setattr__", _frozen_setattr), ("__delattr__", _frozen_delattr)):
        if method not in ("__setattr__", "__delattr__"):
            fn.__qualname__ = f"{cls.__qualname__}.{method}"
        setattr(cls, method, fn)

    def make_fields() -> dict[str, dataclasses.Field]:
        fields = {}
        for name in names:
            spec = specs[name]
            f = spec if isinstance(spec, dataclasses.Field) else dataclasses.field(default=spec)
            f.name, f.type = name, own[name]
            if _FIELD_MARK is not None:
                f._field_type = _FIELD_MARK  # type: ignore[union-attr]
            fields[name] = f
        return fields

    cls.__dataclass_fields__ = _LazyFields(make_fields)  # type: ignore[attr-defined]
    cls.__match_args__ = names  # type: ignore[attr-defined, misc]
    if cls.__doc__ is None:
        cls.__doc__ = f"{cls.__name__}({', '.join(names)})"
    return cls
