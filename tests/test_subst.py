"""subst: substitution at a point, then simplification (notation and Python API)."""

from __future__ import annotations

import math

import numpy as np
import pytest

import symtn
from symtn.errors import LegError, SizeError, SymtnError

RNG = np.random.default_rng(3)


@pytest.mark.parametrize("k", range(7))
def test_derivatives_of_s5_at_one(k: int) -> None:
    s = symtn.tensor("s")
    f = s * s * s * s * s
    for _ in range(k):
        f = symtn.d(f, s)
    want = math.factorial(5) // math.factorial(5 - k) if k <= 5 else 0
    got = symtn.subst(f, s=1)
    assert got.legs == ()
    assert float(symtn.evaluate(got, {})) == want


def test_notation_forms() -> None:
    prog = symtn.parse(
        "dim n = 3\ns: []\nx, y: [i: n]\nA: [i, j: n]\nT: [i, j]\n"
        "g = d(d(d(s^5)/d(s))/d(s))/d(s)\n"
        "check subst(g, s = 1) == 60\n"
        "check subst(x @ A @ x[i -> j], A = delta[i, j]) == x @ x\n"
        "check subst(x @ A @ x[i -> j], x = y) == y @ A @ y[i -> j]\n"
        "check subst(trace[i, j](T) + T[i, j] @ T[i, j], T = 0) == 0\n"
        "h = subst(s^2 + 3 * s, s = 2)\n"
        "q = subst(x @ A, x = y + y)\n"
    )
    outcomes = prog.check_all()
    assert len(outcomes) == 4
    assert all(o.result.holds for o in outcomes)
    assert float(symtn.evaluate(prog.bindings["h"], {})) == 10.0
    a, y = RNG.standard_normal((3, 3)), RNG.standard_normal(3)
    assert np.allclose(symtn.evaluate(prog.bindings["q"], {"A": a, "y": y}), 2 * y @ a)


def test_python_values_and_second_order_expansion() -> None:
    # f(T) = trace(T) + (T @ T)/c around T = 0 in direction eps: 2nd-order part by subst
    T = symtn.tensor("T", i=3, j=3)
    eps = symtn.tensor("eps", i=3, j=3)
    f = symtn.trace(T, ["i", "j"]) + 0.5 * (T @ T)
    g = symtn.d(f, T)  # legs i, j plus the derivative's legs
    at0 = symtn.subst(f, T=0)
    assert float(symtn.evaluate(at0, {})) == 0.0
    e = RNG.standard_normal((3, 3))
    lin = symtn.subst(g, {"T": 0})
    grad0 = symtn.evaluate(lin, {}, order=lin.legs)
    assert np.allclose(np.einsum("ij,ij", grad0, e), np.trace(e))
    moved = symtn.subst(f, T=eps)
    assert np.isclose(symtn.evaluate(moved, {"eps": e}), np.trace(e) + 0.5 * np.sum(e * e))


def test_errors() -> None:
    x = symtn.tensor("x", i=3)
    A = symtn.tensor("A", i=3, j=3)
    z = symtn.tensor("z", i=4)
    with pytest.raises(LegError) as err:
        symtn.subst(x @ x, x=A)
    assert err.value.code == "E204"
    with pytest.raises(SizeError) as err2:
        symtn.subst(x @ x, x=z)
    assert err2.value.code == "E201"
    with pytest.raises(SymtnError) as err3:
        symtn.parse("dim n = 3\nx: [i: n]\nb = x @ x\nc = subst(b, b = 1)\n")
    assert err3.value.code == "E210"
    with pytest.raises(SymtnError) as err4:
        symtn.parse("dim n = 3\nx: [i: n]\nc = subst(x @ x)\n")
    assert err4.value.code == "E102"
