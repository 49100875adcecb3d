"""Name resolution, leg and size inference and the error catalogue (docs/language.md, docs/errors.md)."""

from __future__ import annotations

import warnings

import pytest
import sympy as sp

import symtn
from symtn.ir.nodes import Tensor

HEAD = "dim n, m\nleg i, j, k : n\nleg p, q : m\nA, B: [i, j]\nx: [i]\nu: [p]\n"


def prog(body: str) -> symtn.Program:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return symtn.parse(HEAD + body)


def err(body: str) -> symtn.SymtnError:
    with pytest.raises(symtn.SymtnError) as info:
        prog(body)
    return info.value


def legs(body: str, name: str = "y") -> set[str]:
    return set(prog(body).bindings[name].legs)


def test_leg_types_of_the_examples() -> None:
    assert legs("y = A @ x") == {"j"}
    assert legs("y = A * x") == {"i", "j"}
    assert legs("y = A *[i] B") == {"j"}
    assert legs("y = A[i, k] @ B[k, j]") == {"i", "j"}
    assert legs("y = x @ A @ x[i -> j]") == set()
    assert legs("y = A -> [j]") == {"j"}
    assert legs("y = A + x") == {"i", "j"}
    assert legs("y = d(x @ A @ x[i -> j])/d(x)") == {"i"}
    assert legs("g = d(x @ A @ x[i -> j])/d(x)\ny = d(g)/d(x)") == {"i", "i'"}
    assert legs("y = d(A @ x)/d(x[i -> k])") == {"j", "k"}
    assert legs("y = d(A @ x)/d(A)") == {"j", "i", "j'"}
    assert legs("y = softmax[j](A)") == {"i", "j"}
    assert legs("y = sum[j](A)") == {"i"}
    assert legs("y = sum(A)") == set()
    assert legs("y = trace[i, j](A)") == set()
    assert legs("y = A[(i, j) -> r]") == {"r"}


def test_split_of_a_known_size() -> None:
    p = symtn.parse("dim n = 12\nv: [n]\ny = v[n -> (a, b: 4)]\n")
    y = p.bindings["y"]
    assert y.sizes == {"a": sp.Integer(3), "b": sp.Integer(4)}


def test_declared_order_fixes_positional_relabel() -> None:
    p = prog("h: [j, i] = A * x\nz = h[a, b]")
    z = p.bindings["z"]
    assert set(z.legs) == {"a", "b"}
    assert p.order("h") == ("j", "i")


def test_prime_inherits_size() -> None:
    p = prog("y = A[i', j']")
    assert p.bindings["y"].sizes == {"i'": sp.Symbol("n", integer=True, positive=True)} | {
        "j'": sp.Symbol("n", integer=True, positive=True)
    }


def test_undeclared_leg_takes_slot_size_statement_local() -> None:
    p = prog("y = A[z1, z2] @ x[i -> z1]")
    assert p.bindings["y"].legs == ("z2",)


@pytest.mark.parametrize(
    "body, code",
    [
        ("y = C @ x", "E101"),
        ("y = A[i, j, k]", "E102"),
        ("y = x[t -> s]", "E103"),
        ("y = A[i, j: m]", "E201"),
        ("y = x @ u[p -> i]", "E201"),
        ("y = A @ B @ A", "E202"),
        ("y = x + u", "E203"),
        ("y: [i] = A @ x", "E204"),
        ("y = softmax[p](x)", "E205"),
        ("y = sum[p](x)", "E205"),
        ("y = A *[p] B", "E205"),
        ("y = A -> [p]", "E205"),
        ("check A == x", "E206"),
        ("y = A[i -> j]", "E207"),
        ("y = A[i, i]", "E207"),
        ("y = x[i -> (a, b)]", "E208"),
        ("y = A ⊗ B", "E209"),
        ("X: [i] const\ny = d(X)/d(X)", "E210"),
        ("leg i' : m\ny = d(x @ A @ x[i -> j])/d(x)\nz = d(y)/d(x)", "E201"),
        ("y = softmax(x)", "E212"),
        ("y = sum(x, dim=i)", "E212"),
        ("S: [i, j] symmetric(i, k)", "E112"),
        ("y = A[i, j + 1]", "E113"),
        ("W: [i, zz]", "E111"),
        ("dim r = q2 * 2", "E110"),
        ("y = d (x)", "E101"),
    ],
)
def test_error_codes(body: str, code: str) -> None:
    e = err(body)
    assert e.code == code, e.render()
    assert e.span is not None
    assert "^" in e.render()


def test_did_you_mean_and_notes() -> None:
    e = err("y = x[ii -> k]")
    assert e.help and "did you mean i" in e.help
    e = err("y = Aa @ x")
    assert e.help and "did you mean A" in e.help
    e = err("y = A' @ x")
    assert any("transpose is a rename" in n for n in e.notes)


def test_error_inside_def_body_is_reported_at_call() -> None:
    e = err("def f[ax](v) = sum[p](v)\ny = f[i](x)")
    assert e.code == "E205"
    assert e.span is not None and e.span.line == HEAD.count("\n") + 2
    assert any("in the body of `f`" in n for n in e.notes)


def test_leg_argument_not_a_leg_is_E205_at_call() -> None:
    e = err("def g[ax](v) = sum[ax](v)\ny = g[p](x)")
    assert e.code == "E205"
    assert e.span is not None and e.span.line == HEAD.count("\n") + 2


def test_lints() -> None:
    p = prog("y = x @ u")
    assert [w.code for w in p.warnings] == ["W302"]
    p = symtn.parse("dim n\nleg h : n batch\nleg e : n\nq, k: [h, e]\ns = q @ k\n")
    assert "W303" in [w.code for w in p.warnings]


def test_def_prelude_and_opaque() -> None:
    p = symtn.parse("dim n_in, n_out\ndef f(x: [n_in]) -> [n_out]\nu: [n_in]\ny = f(u)\nJ = d(y)/d(u)\n")
    assert p.bindings["J"].legs == ("n_out", "n_in")


def test_tensor_declaration_facts() -> None:
    p = prog("S: [i, j] symmetric(i, j)\nU: [i, p] isometry(p)\nK: [i] const")
    s = p.tensors["S"]
    assert isinstance(s, Tensor) and s.fact("symmetric") == ("symmetric", (("i",), ("j",)))
    assert p.tensors["U"].fact("isometry") == ("isometry", ("p",))
    assert p.tensors["K"].is_const
