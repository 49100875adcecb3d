"""IR invariants for every node class: immutable, hash-consed, ``e.func(*e.args) is e``,
constructors validate (leg multiplicity, sizes, payload types) and never simplify."""

from __future__ import annotations

import pickle

import pytest
import sympy as sp

from symtn.errors import LegError, SizeError
from symtn.ir import algebra as A
from symtn.ir.nodes import (
    ONE,
    Bubble,
    Delta,
    Elementwise,
    Frozen,
    Iverson,
    Node,
    Product,
    Reshape,
    Shifted,
    Sum,
    Tensor,
    Zero,
    arg_symbols,
)

n = sp.Symbol("n", integer=True, positive=True)
x0, x1 = arg_symbols(2)
Amat = Tensor("A", (("i", n), ("j", n)), ("i", "j"), ())
v = Tensor("v", (("i", n),), ("i",), ())


def samples() -> list[Node]:
    return [
        Amat,
        Tensor("S", (("i", n), ("j", n)), ("a", "b"), (("symmetric", (("i",), ("j",))),)),
        Delta(n, ("i", "j", "k")),
        Delta(n, ()),
        Shifted(n, "t", "s", 1),
        Iverson(n, "s", "<=", "t"),
        Reshape((("h", 2), ("w", 3)), ("p", 6)),
        Zero((("i", n),)),
        Product(Amat, v),
        ONE,
        Sum((Amat, Amat.rename(i="j", j="i")), (1, sp.Rational(1, 2))),
        Elementwise(sp.tanh(x0), (Amat,)),
        Elementwise(x0 * x1, (v, v)),
        Bubble("max", Amat, ("j",), ()),
        Frozen(Amat),
    ]


@pytest.mark.parametrize("node", samples(), ids=lambda e: type(e).__name__)
def test_args_invariant_and_interning(node: Node) -> None:
    assert node.func(*node.args) is node
    assert type(node)(*node.args) is node
    assert hash(node) == hash(node.func(*node.args))
    assert pickle.loads(pickle.dumps(node)) is node
    for child in node.children:
        assert any(child is a or (isinstance(a, tuple) and any(child is c for c in a)) for a in node.args)


@pytest.mark.parametrize("node", samples(), ids=lambda e: type(e).__name__)
def test_immutable(node: Node) -> None:
    with pytest.raises(AttributeError):
        node.args = ()  # type: ignore[misc]
    with pytest.raises(AttributeError):
        node.sig = ()  # type: ignore[misc]


def test_payload_types_are_distinguished() -> None:
    a = Sum((Amat,), (sp.Integer(1) * 2,))
    b = Sum((Amat,), (sp.Float(2.0),))
    assert a is not b
    assert Sum((Amat,), (2,)) is a


def test_constructors_validate_and_do_not_simplify() -> None:
    with pytest.raises(LegError) as e:
        Product(Amat, Amat, Amat)
    assert e.value.code == "E202"
    with pytest.raises(SizeError) as e2:
        Product(Amat, Tensor("u", (("i", 3),), ("i",), ()))
    assert e2.value.code == "E201"
    with pytest.raises(LegError):
        Delta(n, ("i", "i"))
    with pytest.raises(LegError):
        Tensor("A", (("i", n), ("j", n)), ("i",), ())
    with pytest.raises(SizeError):
        Reshape((("h", 2), ("w", 3)), ("p", 5))
    with pytest.raises(LegError):
        Sum((Amat, v), (1, 1))
    with pytest.raises(LegError):
        Bubble("max", Amat, ("k",), ())
    # never simplify: an identity delta stays in the network, A + A stays a two-term sum
    p = Product(Amat, Delta(n, ("j", "k")))
    assert len(p.args) == 2
    s = A.add(Amat, Amat)
    assert isinstance(s, Sum) and len(s.terms) == 2


def test_legs_of_each_kind() -> None:
    assert Product(Amat, v).legs == ("j",)
    assert set(Product(Amat, Amat.rename(i="k", j="l")).legs) == {"i", "j", "k", "l"}
    assert Bubble("max", Amat, ("j",), ()).legs == ("i",)
    assert Bubble("f", v, ("i",), (("o", 3),)).legs == ("o",)
    assert Delta(n, ()).legs == ()
    assert Reshape((("h", 2), ("w", 3)), ("p", 6)).legs == ("h", "w", "p")
    assert Frozen(Amat).legs == Amat.legs


def test_rename_avoids_capture_of_bound_legs() -> None:
    net = Product(Amat, Tensor("B", (("j", n), ("k", n)), ("j", "k"), ()))  # wire j
    renamed = A.rename(net, {"k": "j"})
    assert set(renamed.legs) == {"i", "j"}
    assert isinstance(renamed, Product) and len(renamed.wires()) == 1
    assert "j" not in renamed.wires()
