"""Symbolic cross-check of the Gaussian similarity machinery on quadratic forms (issue 15).

For ``f_a(x) = x^T M1 x`` and ``f_b(x) = x^T M2 x`` with ``x ~ N(0, I)``, Isserlis' theorem gives
``E[f_a f_b] = tr(M1) tr(M2) + tr(M1 M2) + tr(M1 M2^T)``, i.e. ``tr(M1) tr(M2) + 2 tr(M1 M2)``
for symmetric matrices and ``tr(M1) tr(M2) + 2 tr(M1 sym(M2))`` in general. symtn derives the
expectation from the notation (``E[x ~ N(0, I)](...)``); the tests compare its simplified form
with the closed form written by hand (canonical forms, ``decide``) and its values with numpy
at several sizes, and once against a Monte Carlo estimate.
"""

from __future__ import annotations

import numpy as np
import pytest

import symtn
from symtn.ir.printer import to_notation
from symtn.rewrite.gaussian import count_terms

SRC = """dim n
leg i, j : n
x: [i]
M1: [i, j]
M2: [i, j]
S1: [i, j] symmetric(i, j)
S2: [i, j] symmetric(i, j)
fa = x @ M1 @ x[i -> j]
fb = x @ M2 @ x[i -> j]
sa = x @ S1 @ x[i -> j]
sb = x @ S2 @ x[i -> j]
general = E[x ~ N(0, I)](fa * fb)
symmetric = E[x ~ N(0, I)](sa * sb)
general_ref = trace[i, j](M1) * trace[i, j](M2) + M1 @ M2 + M1 @ M2[i -> j, j -> i]
general_sym = trace[i, j](M1) * trace[i, j](M2) + 2 * (M1 @ (M2 + M2[i -> j, j -> i]) / 2)
symmetric_ref = trace[i, j](S1) * trace[i, j](S2) + 2 * (S1 @ S2)
general_wrong = trace[i, j](M1) * trace[i, j](M2) + 2 * (M1 @ M2)
symmetric_wrong = trace[i, j](S1) * trace[i, j](S2) + S1 @ S2
"""


@pytest.fixture(scope="module")
def prog() -> symtn.Program:
    return symtn.parse(SRC)


def test_symmetric_forms_simplify_to_the_closed_form(prog: symtn.Program) -> None:
    got = symtn.simplify(prog["symmetric"])
    # the two cross pairings tr(S1 S2) and tr(S1 S2^T) are one network for symmetric S: weight 2
    assert count_terms(got) == 2
    text = to_notation(got)
    assert text.startswith("2 * (S1[a, b] @ S2[a, b])"), text
    assert symtn.is_isomorphic(got, symtn.simplify(prog["symmetric_ref"]))
    assert not symtn.is_isomorphic(got, symtn.simplify(prog["symmetric_wrong"]))
    res = symtn.decide(prog["symmetric"], prog["symmetric_ref"])
    assert res.holds and res.method == "symbolic"


def test_general_forms_give_the_symmetrised_closed_form(prog: symtn.Program) -> None:
    got = symtn.simplify(prog["general"])
    assert count_terms(got) == 3  # tr tr, tr(M1 M2), tr(M1 M2^T): no merging without symmetry
    assert symtn.is_isomorphic(got, symtn.simplify(prog["general_ref"]))
    # 2 tr(M1 sym(M2)) equals the two cross pairings after expansion
    res = symtn.decide(prog["general"], prog["general_sym"])
    assert res.holds and res.method == "symbolic"
    # without symmetry tr(M1 M2^T) is not tr(M1 M2): the symmetric closed form is refuted
    assert not symtn.decide(prog["general"], prog["general_wrong"]).holds


@pytest.mark.parametrize("n", [1, 3, 8, 33])
def test_values_at_several_sizes(prog: symtn.Program, n: int) -> None:
    rng = np.random.default_rng(n)
    m1, m2 = rng.standard_normal((n, n)), rng.standard_normal((n, n))
    s1, s2 = m1 + m1.T, m2 + m2.T
    vals = {"M1": m1, "M2": m2, "S1": s1, "S2": s2}
    sizes = {"n": n}
    general = float(symtn.evaluate(prog["general"], vals, sizes=sizes))
    want = np.trace(m1) * np.trace(m2) + 2 * np.trace(m1 @ (m2 + m2.T) / 2)
    assert general == pytest.approx(want, rel=1e-10, abs=1e-10)
    sym = float(symtn.evaluate(prog["symmetric"], vals, sizes=sizes))
    assert sym == pytest.approx(np.trace(s1) * np.trace(s2) + 2 * np.trace(s1 @ s2), rel=1e-10)


def test_monte_carlo_agrees() -> None:
    """The closed form against a sample mean over 400,000 Gaussian draws (n = 4)."""
    prog = symtn.parse(SRC)
    rng = np.random.default_rng(7)
    n = 4
    m1, m2 = rng.standard_normal((n, n)), rng.standard_normal((n, n))
    exact = float(symtn.evaluate(prog["general"], {"M1": m1, "M2": m2}, sizes={"n": n}))
    xs = rng.standard_normal((400_000, n))
    samples = np.einsum("si,ij,sj->s", xs, m1, xs) * np.einsum("si,ij,sj->s", xs, m2, xs)
    stderr = samples.std() / np.sqrt(len(samples))
    assert abs(samples.mean() - exact) < 5 * stderr
