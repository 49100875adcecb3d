"""The Python API builds the same IR as the notation, with the same leg errors."""

from __future__ import annotations

import numpy as np
import pytest
import sympy as sp

import symtn
from symtn.ir.printer import declarations

n = sp.Symbol("n", integer=True, positive=True)


def test_python_and_text_meet_in_the_same_nodes() -> None:
    prog = symtn.parse("dim n\nleg i, j : n\nA: [i, j]\nx: [i]\ny = A @ x\nz = tanh(A * x)\n")
    A = symtn.tensor("A", i=n, j=n)
    x = symtn.tensor("x", i=n)
    assert (A @ x) is prog.bindings["y"]
    assert symtn.is_isomorphic(symtn.tanh(A * x), prog.bindings["z"])


def test_operators_and_legs() -> None:
    W = symtn.tensor("W", out=3, inp=n)
    x = symtn.tensor("x", inp=n, b=5)
    b = symtn.tensor("b", out=3)
    h = W @ x + b
    assert set(h.legs) == {"out", "b"}
    assert set((h * h).legs) == {"out", "b"}
    assert set((h / 2).legs) == {"out", "b"}
    assert set((h**2 - h).legs) == {"out", "b"}
    assert set(x.rename(b="c").legs) == {"inp", "c"}
    assert x[{"b": "c"}] is x.rename(b="c")
    assert set(symtn.softmax(h, "out").legs) == {"out", "b"}
    assert symtn.sum(h).legs == ()
    d = symtn.delta("i", "j", size=n)
    assert set(d.legs) == {"i", "j"}


def test_same_leg_errors_as_text() -> None:
    A = symtn.tensor("A", i=n, j=n)
    B = symtn.tensor("B", i=n, j=n)
    u = symtn.tensor("u", p=4)
    with pytest.raises(symtn.LegError) as e:
        symtn.contract(A, B, A)  # Python's `@` is binary: a chain is contract(...)
    assert e.value.code == "E202"
    with pytest.raises(symtn.LegError) as e:
        A + u
    assert e.value.code == "E203"
    with pytest.raises(symtn.LegError) as e:
        A.rename(k="i")
    assert e.value.code == "E103"
    with pytest.raises(symtn.LegError) as e:
        symtn.softmax(A, "p")
    assert e.value.code == "E205"
    with pytest.raises(symtn.SizeError) as e:
        A @ u.rename(p="i")
    assert e.value.code == "E201"


def test_str_is_parseable_notation() -> None:
    A = symtn.tensor("A", i=n, j=n)
    x = symtn.tensor("x", i=n)
    f = x @ A @ x.rename(i="j")
    g = symtn.d(f, x)
    text = declarations(g) + f"y = {g}\n"
    back = symtn.parse(text).bindings["y"]
    assert symtn.is_isomorphic(symtn.simplify(back), symtn.simplify(g))


def test_diff_and_evaluate_from_python() -> None:
    A = symtn.tensor("A", i=4, j=4)
    x = symtn.tensor("x", i=4)
    f = x @ A @ x.rename(i="j")
    H = symtn.diff(symtn.diff(f, x), x)
    assert H.legs == ("i", "i'") or set(H.legs) == {"i", "i'"}
    rng = np.random.default_rng(0)
    a, v = rng.standard_normal((4, 4)), rng.standard_normal(4)
    got = symtn.evaluate(H, {"A": a, "x": v}, order=("i", "i'"))
    np.testing.assert_allclose(got, a + a.T, rtol=1e-12)
    g = symtn.evaluate(symtn.diff(f, x), {"A": a, "x": v})
    np.testing.assert_allclose(g, (a + a.T) @ v, rtol=1e-12)


def test_program_api(tmp_path) -> None:  # type: ignore[no-untyped-def]
    path = tmp_path / "p.stn"
    path.write_text("dim n\nleg i, j : n\nA: [i, j]\ng: [j, i] = A * 2\n")
    prog = symtn.load(path)
    assert prog.order("g") == ("j", "i")
    assert isinstance(prog.bindings["g"], symtn.Node)


def test_two_sympy_symbols_with_one_name_are_told_apart() -> None:
    """``sympy.Symbol("n")`` is not the size ``"n"`` (a positive integer): the E201 says so."""
    x = symtn.tensor("x", i="n")
    y = symtn.tensor("y", i=sp.Symbol("n"))
    with pytest.raises(symtn.SizeError) as err:
        symtn.contract(x, y)
    assert err.value.code == "E201" and "two different sympy symbols named n" in (err.value.help or "")
    with pytest.raises(symtn.SizeError) as err:
        x * y
    assert "strings" in (err.value.help or "")
    m = symtn.tensor("m", i="m")
    with pytest.raises(symtn.SizeError) as err:
        x * m
    assert err.value.help is None  # sizes that print differently need no such hint
