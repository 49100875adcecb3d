"""Gaussian expectations ``E[x ~ N(mu, C)](expr)``: notation, values against closed forms
(hand-written einsum), one Monte Carlo check, pairing-term merging and diagnostics."""

from __future__ import annotations

import numpy as np
import pytest

import symtn
from symtn.rewrite.gaussian import count_terms, covariance_legs, matchings, pairing_terms

N = 4
PRE = """dim n, m
leg i, j, k : n
leg p : m
x, mu: [i]
A: [i, j]
S: [i, j] symmetric(i, j)
C: [i, i'] symmetric(i, i')
Cn: [i, i']
z: [p]
q = x @ A @ x[i -> j]
"""


def _vals(seed: int = 0) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(seed)
    a = rng.standard_normal((N, N))
    low = rng.standard_normal((N, N))
    s = rng.standard_normal((N, N))
    return {
        "A": a,
        "S": s + s.T,
        "mu": rng.standard_normal(N),
        "C": low @ low.T + np.eye(N),
        "Cn": rng.standard_normal((N, N)),
    }


def _value(line: str, vals: dict[str, np.ndarray]) -> np.ndarray:
    prog = symtn.parse(PRE + line)
    node = prog["y"]
    return np.asarray(symtn.evaluate(node, vals, sizes={"n": N}, order=prog.order("y")))


def _y(line: str) -> symtn.Node:
    return symtn.parse(PRE + line)["y"]


# ------------------------------------------------------------------ values
def test_quadratic_form_standard_normal() -> None:
    v = _vals()
    assert _value("y = E[x ~ N(0, I)](q)", v) == pytest.approx(np.trace(v["A"]))
    assert count_terms(_y("y = E[x ~ N(0, I)](q)")) == 1


def test_quadratic_form_mean_and_covariance() -> None:
    v = _vals(1)
    want = np.einsum("ij,ij->", v["A"], v["C"]) + np.einsum("i,ij,j->", v["mu"], v["A"], v["mu"])
    assert _value("y = E[x ~ N(mu, C)](q)", v) == pytest.approx(want, rel=1e-12)
    assert count_terms(_y("y = E[x ~ N(mu, C)](q)")) == 2  # tr(A C) + mu^T A mu


def test_fourth_moment_closed_form_and_merging() -> None:
    v = _vals(2)
    a = v["A"]
    want = np.trace(a) ** 2 + np.einsum("ij,ij->", a, a) + np.einsum("ij,ji->", a, a)
    assert _value("y = E[x ~ N(0, I)](q * q)", v) == pytest.approx(want, rel=1e-12)
    assert count_terms(_y("y = E[x ~ N(0, I)](q * q)")) == 3
    # symmetric S: the pairings tr(S S^T) and tr(S S) are one network, coefficient 2
    s = v["S"]
    e = _y("s = x @ S @ x[i -> j]\ny = E[x ~ N(0, I)](s * s)")
    assert count_terms(e) == 2
    got = float(symtn.evaluate(e, v, sizes={"n": N}))
    assert got == pytest.approx(np.trace(s) ** 2 + 2 * np.einsum("ij,ij->", s, s), rel=1e-12)


def test_sixth_moment_merges_fifteen_pairings() -> None:
    x = symtn.tensor("x", ("i", N))
    s = symtn.tensor("S", ("i", N), ("j", N), facts=[("symmetric", (("i",), ("j",)))])
    q = x @ s @ x.rename({"i": "j"})
    raw = pairing_terms(q * q * q, x)
    e = symtn.expectation(q * q * q, x)
    # 15 pairings, built as one network per class of symmetric matchings, weighted by its size
    assert len(raw.terms) < 15 and sum(raw.coeffs) == 15
    assert count_terms(e) == 3  # tr(S)^3, tr(S) tr(S^2), tr(S^3)
    m = _vals(3)["S"]
    t1, t2, t3 = np.trace(m), np.trace(m @ m), np.trace(m @ m @ m)
    assert float(symtn.evaluate(e, {"S": m})) == pytest.approx(t1**3 + 6 * t1 * t2 + 8 * t3, rel=1e-12)


def test_vector_moments_with_mean() -> None:
    v = _vals(4)
    mu, c = v["mu"], v["C"]
    assert np.allclose(_value("y = E[x ~ N(mu, C)](x)", v), mu)
    second = _value("y = E[x ~ N(mu, C)](x * x[i -> i'])", v)
    assert np.allclose(second, c + np.outer(mu, mu))
    third = _value("y = E[x ~ N(mu, C)](x^3)", v)  # elementwise cube: mu^3 + 3 mu C_ii
    assert np.allclose(third, mu**3 + 3 * mu * np.diag(c))
    assert _value("y = E[x ~ N(0, I)](x @ A)", v) == pytest.approx(np.zeros(N))
    assert _value("y = E[x ~ N(1, 2)](sum(x^2))", v) == pytest.approx(N * (1 + 2))


def test_scalar_gaussian_moments() -> None:
    """s ~ N(m, v): E[s^4] = m^4 + 6 m^2 v + 3 v^2; N(0, 1): E[s^4 + 2 s^2] = 3 + 2."""
    prog = symtn.parse("s, m, v: []\ny = E[s ~ N(m, v)](s^4)\nz = E[s ~ N(0, I)](s^4 + 2 * s^2)")
    m, v = 0.7, 1.3
    got = float(symtn.evaluate(prog["y"], {"m": np.array(m), "v": np.array(v)}))
    assert got == pytest.approx(m**4 + 6 * m**2 * v + 3 * v**2, rel=1e-12)
    assert float(symtn.evaluate(prog["z"], {})) == pytest.approx(5.0)


def test_non_symmetric_covariance_uses_its_symmetric_part() -> None:
    v = _vals(5)
    c = v["Cn"]
    got = _value("y = E[x ~ N(0, Cn)](x * x[i -> i'])", v)
    assert np.allclose(got, (c + c.T) / 2)


def test_matrix_gaussian_chain_closed_form() -> None:
    """E[X P X^T Q X R X^T] for X (n x m) with i.i.d. N(0, 1) entries: three Wick terms."""
    n, m = 3, 4
    rng = np.random.default_rng(6)
    p, r, qm = rng.standard_normal((m, m)), rng.standard_normal((m, m)), rng.standard_normal((n, n))
    xs = symtn.tensor("X", ("r", n), ("c", m))
    pt = symtn.tensor("P", ("c", m), ("c'", m))
    rt = symtn.tensor("R", ("c", m), ("c'", m))
    qt = symtn.tensor("Q", ("r", n), ("r'", n))
    chain = symtn.contract(
        xs.rename({"r": "r0", "c": "c0"}),
        pt.rename({"c": "c0", "c'": "c1"}),
        xs.rename({"r": "r1", "c": "c1"}),
        qt.rename({"r": "r1", "r'": "r2"}),
        xs.rename({"r": "r2", "c": "c2"}),
        rt.rename({"c": "c2", "c'": "c3"}),
        xs.rename({"r": "r3", "c": "c3"}),
    )
    e = symtn.expectation(chain, xs)
    assert count_terms(e) == 3
    got = np.asarray(symtn.evaluate(e, {"P": p, "Q": qm, "R": r}, order=("r0", "r3")))
    want = (
        np.trace(p) * np.trace(r) * qm
        + np.einsum("ab,ab->", p, r) * qm.T
        + np.einsum("ab,ba->", p, r) * np.trace(qm) * np.eye(n)
    )
    assert np.allclose(got, want)


def test_matrix_covariance_legs_and_value() -> None:
    """x: [i, j] with C: [i, j, i', j']; E[(A : x)^2] = A : C : A."""
    n, m = 2, 3
    rng = np.random.default_rng(7)
    x = symtn.tensor("x", ("i", n), ("j", m))
    a = symtn.tensor("A", ("i", n), ("j", m))
    assert covariance_legs(x) == ("i'", "j'")
    c = symtn.tensor("C", ("i", n), ("j", m), ("i'", n), ("j'", m))
    lin = a @ x
    e = symtn.expectation(lin * lin, x, cov=c)
    half = rng.standard_normal((n * m, n * m))
    cv = (half @ half.T).reshape(n, m, n, m)
    av = rng.standard_normal((n, m))
    assert float(symtn.evaluate(e, {"A": av, "C": cv})) == pytest.approx(
        np.einsum("ij,ijkl,kl->", av, cv, av), rel=1e-12
    )


def test_monte_carlo_fourth_moment_with_mean_and_covariance() -> None:
    """Sampling agrees with the pairing result (fixed seed, 400k samples, 2% tolerance)."""
    n = 3
    rng = np.random.default_rng(8)
    a = rng.standard_normal((n, n))
    mu = 0.5 * rng.standard_normal(n)
    low = 0.5 * rng.standard_normal((n, n))
    cov = low @ low.T + 0.3 * np.eye(n)
    x = symtn.tensor("x", ("i", n))
    q = x @ symtn.tensor("A", ("i", n), ("j", n)) @ x.rename({"i": "j"})
    mean, cv = symtn.tensor("mu", ("i", n)), symtn.tensor("C", ("i", n), ("i'", n))
    e = symtn.expectation(q * q, x, mean=mean, cov=cv)
    exact = float(symtn.evaluate(e, {"A": a, "mu": mu, "C": cov}))
    samples = rng.multivariate_normal(mu, cov, size=400_000)
    mc = float(np.mean(np.einsum("si,ij,sj->s", samples, a, samples) ** 2))
    assert mc == pytest.approx(exact, rel=0.02)


# ------------------------------------------------------------------ notation and API
def test_notation_forms() -> None:
    assert symtn.is_isomorphic(_y("y = 𝔼[x ~ 𝒩(0, I)](q)"), _y("y = E[x ~ N(0, I)](q)"))
    prog = symtn.parse("dim n\nleg i, j : n\nE: [i, j]\ny = E[j, i]\nx: [i]\nz = E[x~N(0,I)](x @ E)")
    assert prog["y"].legs == ("j", "i")  # E is still an ordinary name
    assert prog["z"].legs == ("j",)
    # a user tensor named I is used as the covariance, not the identity
    text = "dim n\nleg i : n\nx: [i]\nI: [i, i'] symmetric(i, i')\ny = E[x ~ N(0, I)](x * x[i -> i'])"
    prog = symtn.parse(text)
    assert symtn.is_isomorphic(symtn.simplify(prog["y"]), prog.tensors["I"])
    # relabels after the expectation
    assert _y("y = E[x ~ N(mu, I)](x)[i -> k]").legs == ("k",)


def test_python_api_by_name_and_without_occurrence() -> None:
    x = symtn.tensor("x", ("i", N))
    a = symtn.tensor("A", ("i", N), ("j", N))
    e = symtn.expectation(x @ a @ x.rename({"i": "j"}), "x")
    assert symtn.is_isomorphic(e, symtn.simplify(symtn.trace(a, ["i", "j"])))
    assert symtn.expectation(a, "x") is symtn.simplify(a)


def test_matchings_counts() -> None:
    assert [len(list(matchings(list(range(k))))) for k in range(7)] == [1, 0, 1, 0, 3, 0, 15]
    assert [len(list(matchings(list(range(k)), partial=True))) for k in range(7)] == [1, 1, 2, 4, 10, 26, 76]


# ------------------------------------------------------------------ errors
@pytest.mark.parametrize(
    ("line", "code", "caret"),
    [
        ("y = E[x ~ N(0, I)](sum(tanh(x)))", "E233", "tanh(x)"),
        ("y = E[x ~ N(0, I)](q + sum(exp(A @ x) * x[i -> j]))", "E233", "exp(A @ x)"),
        ("y = E[x ~ N(0, I)](q / sum(x))", "E233", "q / sum(x)"),
        ("h = tanh(x)\ny = E[x ~ N(0, I)](sum(h))", "E233", "sum(h)"),
        ("y = E[x ~ N(0, I)](max[i](x))", "E233", "max[i](x)"),
        ("y = E[x ~ N(0, I)](1 / x)", "E233", "1 / x"),
        ("y = E[w ~ N(0, I)](q)", "E101", "w"),
        ("y = E[q ~ N(0, I)](q)", "E231", "q"),
        ("y = F[x ~ N(0, I)](q)", "E230", "F"),
        ("y = E[x ~ U(0, I)](q)", "E230", "U"),
        ("y = E[x ~ N(0)](q)", "E230", "N"),
        ("y = E[x ~ N(0, I, I)](q)", "E230", "N"),
        ("y = E[x ~ N(A, I)](q)", "E232", "A"),
        ("y = E[x ~ N(z, I)](q)", "E232", "z"),
        ("y = E[x ~ N(0, A)](q)", "E232", "A"),
        ("y = E[x ~ N(0, z * z[p -> p'])](q)", "E232", "z * z[p -> p']"),
    ],
)
def test_errors_have_codes_and_carets(line: str, code: str, caret: str) -> None:
    with pytest.raises(symtn.SymtnError) as info:
        symtn.parse(PRE + line)
    err = info.value
    assert err.code == code
    assert err.span is not None and err.span.line == PRE.count("\n") + line.count("\n") + 1
    last = line.split("\n")[-1]
    col = last.index(caret, 4) + 1
    assert err.span.column == col
    text = err.render()
    assert "^" in text and f"line {err.span.line}" in text


def test_size_mismatch_in_covariance() -> None:
    x = symtn.tensor("x", ("i", 3))
    bad = symtn.tensor("C", ("i", 3), ("i'", 4))
    with pytest.raises(symtn.SizeError) as info:
        symtn.expectation(x * x.rename({"i": "i'"}), x, cov=bad)
    assert info.value.code == "E201" and "covariance" in info.value.message


def test_tilde_elsewhere_is_a_syntax_error() -> None:
    with pytest.raises(symtn.SymtnSyntaxError) as info:
        symtn.parse(PRE + "y = x ~ A")
    assert info.value.span is not None and info.value.span.column == 7


def _moment_tensor(n: int, order: int) -> np.ndarray:
    """E[x_i1 ... x_ik] for x ~ N(0, I_n): the product over distinct indices of (c - 1)!! for
    an index occurring c times (0 if any count is odd). Independent of Wick pairings."""
    m = np.zeros((n,) * order)
    for idx in np.ndindex(*m.shape):
        counts = np.bincount(np.asarray(idx), minlength=n)
        if np.all(counts % 2 == 0):
            m[idx] = np.prod([max(1, int(np.prod(np.arange(c - 1, 0, -2)))) for c in counts])
    return m


def test_symmetry_reduced_pairings_against_the_moment_tensor() -> None:
    n = 3
    rng = np.random.default_rng(11)
    a, b = rng.standard_normal((n, n)), rng.standard_normal((n, n))
    x = symtn.tensor("x", ("i", n))
    qa = x @ symtn.tensor("A", ("i", n), ("j", n)) @ x.rename({"i": "j"})
    qb = x @ symtn.tensor("B", ("i", n), ("j", n)) @ x.rename({"i": "j"})
    expr = qa * qa * qb
    raw = pairing_terms(expr, x)
    assert sum(raw.coeffs) == 15  # 5!! pairings (weighted representatives)
    got = float(symtn.evaluate(symtn.expectation(expr, x), {"A": a, "B": b}))
    want = np.einsum("abcdef,ab,cd,ef->", _moment_tensor(n, 6), a, a, b)
    assert got == pytest.approx(want, rel=1e-10)


def test_high_degree_builds_few_networks() -> None:
    x = symtn.tensor("x", ("i", N))
    q = x @ symtn.tensor("A", ("i", N), ("j", N)) @ x.rename({"i": "j"})
    raw = pairing_terms(q * q * q * q * q * q, x)  # degree 12: 11!! = 10395 pairings
    assert sum(raw.coeffs) == 10395 and len(raw.terms) <= 729
