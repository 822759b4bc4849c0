"""``@frozen`` behaves like ``@dataclass(frozen=True)`` for what tlsmon uses."""

from __future__ import annotations

import dataclasses
from typing import Optional

import pytest

from tlsmon.frozen import frozen


@frozen
class Point:
    x: int
    y: int = 2
    tags: tuple[str, ...] = dataclasses.field(default=())
    extra: list = dataclasses.field(default_factory=list)
    label: Optional[str] = None

    KIND = "point"  # a class attribute, not a field

    @property
    def total(self) -> int:
        return self.x + self.y


@frozen
class Pair:
    a: int
    b: str


@dataclasses.dataclass(frozen=True)
class Twin:
    x: int
    y: int = 2
    tags: tuple[str, ...] = dataclasses.field(default=())
    extra: list = dataclasses.field(default_factory=list)
    label: Optional[str] = None


def test_init_defaults_and_keywords():
    p = Point(1)
    assert (p.x, p.y, p.tags, p.extra, p.label) == (1, 2, (), [], None)
    assert Point(1, 3, label="a").label == "a" and Point(x=5).total == 7
    assert Point(1).extra is not Point(1).extra  # a fresh default each time
    with pytest.raises(TypeError):
        Point()
    with pytest.raises(TypeError):
        Point(1, nope=2)


def test_repr_eq_hash_like_dataclass():
    assert repr(Point(1, label="a")) == repr(Twin(1, label="a")).replace("Twin", "Point")
    assert Point(1) == Point(1) and Point(1) != Point(2) and Point(1) != Twin(1)
    with pytest.raises(TypeError):
        hash(Point(1))  # a list field is unhashable, as with dataclasses
    with pytest.raises(TypeError):
        hash(Twin(1))
    assert hash(Pair(1, "a")) == hash(Pair(1, "a")) and len({Pair(1, "a"), Pair(1, "a"), Pair(2, "a")}) == 2


def test_frozen():
    p = Point(1)
    with pytest.raises(dataclasses.FrozenInstanceError):
        p.x = 3  # type: ignore[misc]
    with pytest.raises(dataclasses.FrozenInstanceError):
        del p.x


def test_dataclasses_functions_work():
    p = Point(1, label="a")
    assert [f.name for f in dataclasses.fields(Point)] == ["x", "y", "tags", "extra", "label"]
    assert dataclasses.is_dataclass(p)
    assert dataclasses.replace(p, y=9) == Point(1, 9, label="a")
    assert dataclasses.asdict(p) == {"x": 1, "y": 2, "tags": (), "extra": [], "label": "a"}
    assert Point.KIND == "point" and Point.__match_args__ == ("x", "y", "tags", "extra", "label")


def test_default_order_is_checked():
    with pytest.raises(TypeError):
        @frozen
        class Bad:
            a: int = 1
            b: int


# More fields than CPython shares dict keys for: __init__ builds the instance dict in one go.
Wide = frozen(type("Wide", (), {"__annotations__": {f"f{i}": "int" for i in range(33)} | {"last": "int"},
                                "last": -1}))


def test_a_class_with_many_fields_behaves_the_same():
    import copy
    import pickle

    values = {f"f{i}": i for i in range(33)}
    w = Wide(*range(33))
    assert dataclasses.asdict(w) == values | {"last": -1}
    assert w == Wide(**values) and hash(w) == hash(Wide(**values)) and w != Wide(**values, last=0)
    assert repr(w).startswith("Wide(f0=0, f1=1,") and repr(w).endswith("f32=32, last=-1)")
    with pytest.raises(dataclasses.FrozenInstanceError):
        w.f3 = 4
    assert dataclasses.replace(w, f5=50).f5 == 50 and w.f5 == 5
    assert pickle.loads(pickle.dumps(w)) == w == copy.copy(w)
    with pytest.raises(TypeError):
        Wide(*range(32))  # f32 has no default
