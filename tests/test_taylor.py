"""taylor(f, x, eps, k), expansions at a point with subst, ratio cancellation before E[...], inv(AB).

Values are compared with numpy (f(x + eps) for polynomials, finite differences, np.linalg),
orders of accuracy with the error's decay as the step halves.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
import sympy

import symtn
from symtn.cli import main

RNG = np.random.default_rng(11)
N = sympy.Symbol("n", integer=True, positive=True)


def test_taylor_of_a_cubic_is_exact_at_order_three() -> None:
    x, e = symtn.tensor("x", i=N), symtn.tensor("e", i=N)
    A = symtn.tensor("A", i=N, j=N)
    f = symtn.sum(x * x * x) + x @ A @ x.rename(i="j")
    T3, T2 = symtn.taylor(f, x, e, 3), symtn.taylor(f, x, e, 2)
    for n in (2, 5):
        xv, ev, Av = RNG.normal(size=n), RNG.normal(size=n), RNG.normal(size=(n, n))
        exact = ((xv + ev) ** 3).sum() + (xv + ev) @ Av @ (xv + ev)
        vals = {"x": xv, "e": ev, "A": Av}
        assert np.isclose(float(symtn.evaluate(T3, vals)), exact)
        assert np.isclose(float(symtn.evaluate(T2, vals)), exact - (ev**3).sum())  # the cubic term


@pytest.mark.parametrize("k", [1, 2, 3])
def test_taylor_error_decays_as_the_next_power(k: int) -> None:
    z, e = symtn.tensor("z", c=4), symtn.tensor("e", c=4)
    f = symtn.softmax(z, "c") * symtn.exp(z)
    T = symtn.taylor(f, z, e, k)
    zv, ev = RNG.normal(size=4), RNG.normal(size=4)

    def truth(h: float) -> np.ndarray:
        w = zv + h * ev
        return np.exp(w) / np.exp(w).sum() * np.exp(w)

    errors = [np.abs(symtn.evaluate(T, {"z": zv, "e": h * ev}) - truth(h)).max() for h in (0.02, 0.01)]
    assert errors[0] / errors[1] == pytest.approx(2 ** (k + 1), rel=0.15)


def test_taylor_in_the_notation_with_carets(capsys: pytest.CaptureFixture[str], tmp_path) -> None:
    prog = symtn.parse(
        "dim n\nleg i, j : n\nx, e: [i]\nA: [i, j]\nf = sum(x^3) + x @ A @ x[i -> j]\n"
        "T = taylor(f, x, e, 3)\ncheck T == sum((x + e)^3) + (x + e) @ A @ (x + e)[i -> j]\n"
    )
    assert all(c.result.holds for c in prog.check_all())
    bad = tmp_path / "bad.stn"
    bad.write_text("dim n, m\nleg i : n\nleg k : m\nx: [i]\ne: [k]\nT = taylor(sum(x^2), x, e, 2)\n")
    assert main(["run", str(bad)]) == 2
    err = capsys.readouterr().err
    assert "error[E204]" in err and "line 6, column 25" in err and "x's legs" in err
    bad.write_text("dim n\nleg i : n\nx, e: [i]\nT = taylor(sum(x^2), x, e, 1.5)\n")
    assert main(["run", str(bad)]) == 2
    assert "error[E102]" in capsys.readouterr().err


def test_expansion_of_a_log_determinant_at_zero() -> None:
    prog = symtn.parse("""
dim n
leg i, j : n
T, eps: [i, j] symmetric(i, j)
c: [] positive
g = trace[i, j](T) - 0.5 * logdet(delta[i, j] + 2 * T / c)
t2 = subst(taylor(g, T, eps, 2), T = 0)
check t2 == trace[i, j](eps) * (1 - 1/c) + (eps @ eps) / c^2
""")
    (check,) = prog.check_all()
    assert check.result.holds and check.result.method == "symbolic"
    S = RNG.normal(size=(4, 4))
    S = S + S.T
    cv = 3.0
    got = float(symtn.evaluate(prog.bindings["t2"], {"eps": S, "c": np.array(cv)}))
    assert np.isclose(got, np.trace(S) * (1 - 1 / cv) + (S * S).sum() / cv**2)


@pytest.mark.parametrize("k", range(6))
def test_derivatives_of_a_power_at_one(k: int) -> None:
    body = "s^5"
    for _ in range(k):
        body = f"d({body})/d(s)"
    prog = symtn.parse(f"s: [] positive\nv = subst({body}, s = 1)\n")
    v = prog.bindings["v"]
    assert str(v) == str(math.factorial(5) // math.factorial(5 - k))


def test_expectation_simplifies_ratios_first() -> None:
    prog = symtn.parse("""
dim n
leg i : n
u, x: [i]
check E[u ~ N(0, I)]((u @ u) / (u @ u)) == 1
check E[u ~ N(0, I)]((u @ u) * x / (u @ u)) == x
check E[u ~ N(0, I)]((u @ u)^2 / (u @ u)) == |i|
""")
    assert all(c.result.holds and c.result.method == "symbolic" for c in prog.check_all())
    with pytest.raises(symtn.SymtnError) as err:
        symtn.parse("dim n\nleg i : n\nu: [i]\nm = E[u ~ N(0, I)](exp(u @ u) / (u @ u))\n")
    assert err.value.code == "E233"


def test_inverse_of_a_product() -> None:
    prog = symtn.parse("""
dim n
leg i, j, k : n
A: [i, k]
B: [k, j]
V = inv[i, j](A @ B)
W = inv[i, k](A) @ inv[k, j](B)
check V == W
G = d(sum(V * V))/d(A)
""")
    (check,) = prog.check_all()
    assert check.result.holds and check.result.method == "symbolic"
    Av, Bv = RNG.normal(size=(3, 3)) + 3 * np.eye(3), RNG.normal(size=(3, 3)) + 3 * np.eye(3)
    V = symtn.evaluate(prog.bindings["V"], {"A": Av, "B": Bv}, order=("i", "j"))
    assert np.allclose(V, np.linalg.inv(Av @ Bv).T)  # inv keeps the legs: X^-T in [i, j] order
    G = symtn.evaluate(prog.bindings["G"], {"A": Av, "B": Bv}, order=("i", "k"))

    def f(a: np.ndarray) -> float:
        return float((np.linalg.inv(a @ Bv) ** 2).sum())

    fd = np.zeros((3, 3))
    for idx in np.ndindex(3, 3):
        step = np.zeros((3, 3))
        step[idx] = 1e-6
        fd[idx] = (f(Av + step) - f(Av - step)) / 2e-6
    assert np.allclose(G, fd, atol=1e-5)
