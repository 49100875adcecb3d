"""det, logdet, inv and solve: values against numpy.linalg, derivatives against central finite
differences (float64), Matrix Cookbook identities (sections 1.1, 2.1-2.2) proved symbolically,
printing, drawing, code generation and errors."""

from __future__ import annotations

import importlib
import importlib.util
import inspect
import sys
from collections.abc import Callable
from unittest import mock

import numpy as np
import pytest

import symtn
from symtn.errors import LegError, SizeError
from symtn.ir.nodes import Node
from symtn.rewrite import is_isomorphic, simplify

EPS = 1e-6
HEADER = """
dim n
leg i, j, k, b, p, q: n
X: [i, j]
A: [i, k]
B: [k, j]
Xb: [b, i, j]
v: [i]
R: [i, b]
"""


def prog(body: str) -> symtn.Program:
    return symtn.parse(HEADER + body)


def well_conditioned(rng: np.random.Generator, *shape: int) -> np.ndarray:
    n = shape[-1]
    return rng.standard_normal(shape) + 3 * np.eye(n)


def central(fn: Callable[[np.ndarray], np.ndarray], x: np.ndarray) -> np.ndarray:
    """d fn / d x by central differences: fn's axes, then x's axes."""
    out = np.zeros(np.shape(fn(x)) + x.shape)
    for idx in np.ndindex(x.shape):
        plus, minus = x.copy(), x.copy()
        plus[idx] += EPS
        minus[idx] -= EPS
        out[(..., *idx)] = (fn(plus) - fn(minus)) / (2 * EPS)
    return out


# ----------------------------------------------------------------------------- values
def test_batched_values_match_numpy_linalg() -> None:
    rng = np.random.default_rng(0)
    xb = rng.standard_normal((3, 3, 3))
    p = prog("D = det[i, j](Xb)\nL = logdet[i, j](Xb)\nV = inv[i, j](Xb)\n")
    vals = {"Xb": xb}
    np.testing.assert_allclose(symtn.evaluate(p["D"], vals), np.linalg.det(xb), rtol=1e-12)
    sign, logabs = np.linalg.slogdet(xb)
    got = symtn.evaluate(p["L"], vals)
    np.testing.assert_allclose(got[sign > 0], logabs[sign > 0], rtol=1e-12)
    assert np.all(np.isnan(got[sign < 0]))
    # inv[i, j](X) at i = c, j = r is (X^-1)[r, c]: in leg order [b, i, j] it is X^-T
    got = symtn.evaluate(p["V"], vals, order=["b", "i", "j"])
    np.testing.assert_allclose(got, np.swapaxes(np.linalg.inv(xb), -1, -2), rtol=1e-10)


def test_solve_matches_numpy_and_never_forms_the_inverse() -> None:
    rng = np.random.default_rng(1)
    x, v, r = well_conditioned(rng, 3, 3), rng.standard_normal(3), rng.standard_normal((3, 3))
    p = prog("s = solve[i, j](X, v)\nS = solve(X, R)\nu = inv(X) @ v\nt = v[i -> j] @ inv(X)\n")
    vals = {"X": x, "v": v, "R": r}
    with mock.patch("numpy.linalg.inv", side_effect=AssertionError("the inverse was formed")):
        np.testing.assert_allclose(symtn.evaluate(p["s"], vals), np.linalg.solve(x, v), rtol=1e-12)
        got = symtn.evaluate(p["S"], vals, order=["j", "b"])
        np.testing.assert_allclose(got, np.linalg.solve(x, r), rtol=1e-12)
        np.testing.assert_allclose(symtn.evaluate(p["u"], vals), np.linalg.solve(x, v), rtol=1e-12)
        # v[i -> j] @ inv(X) contracts v with inv's second leg: the transposed system
        np.testing.assert_allclose(symtn.evaluate(p["t"], vals), np.linalg.solve(x.T, v), rtol=1e-12)
    assert p["s"].legs == ("j",)
    # the same value through the Python API
    X, vv = symtn.tensor("X", i=3, j=3), symtn.tensor("v", i=3)
    np.testing.assert_allclose(symtn.evaluate(symtn.solve(X, vv), vals), np.linalg.solve(x, v))


def test_batched_solve_keeps_batch_legs() -> None:
    rng = np.random.default_rng(2)
    xb, rb = well_conditioned(rng, 3, 3, 3), rng.standard_normal((3, 3))  # Xb[b, i, j], R[i, b]
    p = prog("s = solve[i, j](Xb, R)\n")
    got = symtn.evaluate(p["s"], {"Xb": xb, "R": rb}, order=["b", "j"])
    want = np.stack([np.linalg.solve(xb[t], rb[:, t]) for t in range(3)])
    np.testing.assert_allclose(got, want, rtol=1e-10)


# ----------------------------------------------------------------------------- derivatives
def test_first_derivatives_against_finite_differences() -> None:
    rng = np.random.default_rng(3)
    x = well_conditioned(rng, 3, 3)
    p = prog("g = d(det(X))/d(X)\nh = d(logdet(X))/d(X)\nJ = d(inv(X))/d(X[p, q])\n")
    got = symtn.evaluate(p["g"], {"X": x}, order=["i", "j"])
    np.testing.assert_allclose(got, central(np.linalg.det, x), rtol=1e-7)
    np.testing.assert_allclose(got, np.linalg.det(x) * np.linalg.inv(x).T, rtol=1e-10)  # (49)
    got = symtn.evaluate(p["h"], {"X": x}, order=["i", "j"])
    np.testing.assert_allclose(got, np.linalg.inv(x).T, rtol=1e-10)  # (57)
    got = symtn.evaluate(p["J"], {"X": x}, order=["i", "j", "p", "q"])
    np.testing.assert_allclose(got, central(lambda m: np.linalg.inv(m).T, x), rtol=1e-6, atol=1e-9)


def test_third_derivative_of_det() -> None:
    rng = np.random.default_rng(4)
    x = well_conditioned(rng, 3, 3)
    p = prog("H = d(d(det(X))/d(X))/d(X)\nT = d(H)/d(X)\n")
    h_order = ["i", "j", "i'", "j'"]
    t_order = [*h_order, "i''", "j''"]
    got = symtn.evaluate(p["T"], {"X": x}, order=t_order)

    def hess(m: np.ndarray) -> np.ndarray:
        return np.asarray(symtn.evaluate(p["H"], {"X": m}, order=h_order))

    np.testing.assert_allclose(got, central(hess, x), rtol=1e-6, atol=1e-7)
    # det is a cubic in the entries of a 3x3 matrix: its third derivative is the Levi-Civita
    # symbol, eps[i, i', i''] * eps[j, j', j'']
    eps = np.zeros((3, 3, 3))
    for a, b_, c in ((0, 1, 2), (1, 2, 0), (2, 0, 1)):
        eps[a, b_, c], eps[a, c, b_] = 1, -1
    want = np.einsum("ace,bdf->abcdef", eps, eps)
    np.testing.assert_allclose(got, want, atol=1e-10)


def test_batched_derivatives() -> None:
    rng = np.random.default_rng(5)
    xb = well_conditioned(rng, 2, 3, 3)
    p = symtn.parse(
        "leg b: 2\nleg i, j: 3\nXb: [b, i, j]\n"
        "g = d(sum(det[i, j](Xb)))/d(Xb)\nJ = d(inv[i, j](Xb))/d(Xb[c, p, q])\n"
    )
    got = symtn.evaluate(p["g"], {"Xb": xb}, order=["b", "i", "j"])
    want = np.linalg.det(xb)[:, None, None] * np.swapaxes(np.linalg.inv(xb), -1, -2)
    np.testing.assert_allclose(got, want, rtol=1e-10)
    got = symtn.evaluate(p["J"], {"Xb": xb}, order=["b", "i", "j", "c", "p", "q"])
    fd = central(lambda m: np.swapaxes(np.linalg.inv(m), -1, -2), xb)
    np.testing.assert_allclose(got, fd, rtol=1e-6, atol=1e-9)


def test_derivative_of_solve() -> None:
    rng = np.random.default_rng(6)
    x, v = well_conditioned(rng, 3, 3), rng.standard_normal(3)
    p = prog("g = d(sum(solve(X, v)))/d(X)\n")
    got = symtn.evaluate(p["g"], {"X": x, "v": v}, order=["i", "j"])
    np.testing.assert_allclose(got, central(lambda m: np.sum(np.linalg.solve(m, v)), x), rtol=1e-6)


# ----------------------------------------------------------------------------- identities
CHECKS = """
check d(det(X))/d(X) == det(X) * inv(X)
check d(logdet(X))/d(X) == inv(X)
check d(inv(X))/d(X[p, q]) == -inv[i, q](X[i, q]) * inv[p, j](X[p, j])
check X @ inv(X)[i -> p] == delta[i, p]
check inv(X)[j -> q] @ X == delta[j, q]
check X @ inv(X) == |n|
check inv(inv(X)) == X
check inv[j, i](X) == inv[i, j](X)
check det(X[i -> j, j -> i]) == det(X)
check det(A @ B) == det(A) * det(B)
check det[i, p](A @ B @ A[i -> j, k -> p]) == det(A)^2 * det(B)
check det(2 * X) == 2^|n| * det(X)
check inv(3 * X) == inv(X) / 3
check X @ solve(X, v)[j -> k] @ delta[k, j] == v
"""


def test_cookbook_identities_are_proved_symbolically() -> None:
    outcomes = prog(CHECKS).check_all()
    assert len(outcomes) == CHECKS.count("check")
    for o in outcomes:
        assert o.result.holds and o.result.method == "symbolic", o.stmt


def test_false_identities_are_refuted() -> None:
    for body in (
        "check det(A @ B) == det(A) + det(B)\n",
        "check inv(X) == X\n",
        "check d(det(X))/d(X) == inv(X)\n",
    ):
        (o,) = prog(body).check_all()
        assert not o.result.holds, body


def test_logdet_of_symmetric_positive_definite_with_sym_grad() -> None:
    p = symtn.parse(
        "leg i, j: 3\nS: [i, j] symmetric(i, j)\ng = sym_grad(logdet(S), S)\n"
        "c = sym_grad(logdet(S), S, convention=constrained)\n"
    )
    rng = np.random.default_rng(7)
    m = rng.standard_normal((3, 3))
    s = m @ m.T + 3 * np.eye(3)
    sinv = np.linalg.inv(s)
    np.testing.assert_allclose(symtn.evaluate(p["g"], {"S": s}, order=["i", "j"]), sinv, rtol=1e-10)
    # constrained convention (Matrix Cookbook 2.8.2): 2 S^-1 - S^-1 o I, against a derivative
    # along the symmetric perturbation of one pair of entries
    c = symtn.evaluate(p["c"], {"S": s}, order=["i", "j"])
    np.testing.assert_allclose(c, 2 * sinv - np.diag(np.diag(sinv)), rtol=1e-10)
    e = np.zeros((3, 3))
    e[0, 1] = e[1, 0] = EPS
    fd = (np.linalg.slogdet(s + e)[1] - np.linalg.slogdet(s - e)[1]) / (2 * EPS)
    np.testing.assert_allclose(c[0, 1], fd, rtol=1e-6)


# ----------------------------------------------------------------------------- printing etc.
@pytest.mark.parametrize(
    "src",
    [
        "det(X)",
        "logdet[i, j](Xb)",
        "inv(X)",
        "inv[i, j](Xb)",
        "solve(X, v)",
        "d(inv(X))/d(X)",
        "d(d(det(X))/d(X))/d(X)",
        "inv(X) @ A[i -> j]",
    ],
)
def test_printing_round_trips_and_drawing(src: str) -> None:
    node = prog(f"e = {src}\n")["e"]
    for e in (node, simplify(node)):
        text = symtn.ir.printer.to_notation(e)
        back = symtn.parse(HEADER + f"e = {text}\n")["e"]
        assert is_isomorphic(simplify(back), simplify(e)), text
    assert "<svg" in symtn.draw(node)


def test_python_api_builds_the_same_nodes() -> None:
    X = symtn.tensor("X", i="n", j="n")
    p = prog("a = det(X)\nb = logdet(X)\nc = inv(X)\n")
    assert is_isomorphic(symtn.det(X), p["a"])
    assert is_isomorphic(symtn.logdet(X, ["i", "j"]), p["b"])
    assert is_isomorphic(symtn.inv(X), p["c"])
    g = symtn.diff(symtn.det(X), X)
    assert symtn.decide(g, symtn.det(X) * symtn.inv(X)).method == "symbolic"


def test_errors() -> None:
    src = "leg i: 3\nleg j: 4\nY: [i, j]\ne = det(Y)\n"
    with pytest.raises(SizeError) as err:
        symtn.parse(src)
    assert err.value.code == "E201" and err.value.span is not None
    assert "not square" in str(err.value) and "^" in str(err.value)
    with pytest.raises(LegError) as lerr:
        prog("e = det(Xb)\n")
    assert lerr.value.code == "E212" and lerr.value.span is not None
    with pytest.raises(LegError) as lerr:
        prog("e = inv[i, k](X)\n")
    assert lerr.value.code == "E205"
    with pytest.raises(LegError) as lerr:
        prog("e = solve(X, B)\n")
    assert lerr.value.code == "E205"


# ----------------------------------------------------------------------------- codegen
BACKENDS = ["numpy", "jax", "torch"]


@pytest.mark.parametrize("backend", BACKENDS)
def test_codegen_backends(backend: str, tmp_path) -> None:  # type: ignore[no-untyped-def]
    if backend != "numpy" and importlib.util.find_spec(backend) is None:
        pytest.skip(f"{backend} is not installed")
    p = prog(
        "D = det[i, j](Xb)\nL = logdet(X)\nG = d(det(X))/d(X)\nJ = d(inv(X))/d(X[p, q])\ns = solve(X, v)\n"
    )
    names = ["D", "L", "G", "J", "s"]
    src = symtn.codegen(p, names, backend, sizes={"n": 3})
    path = tmp_path / f"gen_{backend}.py"
    path.write_text(src)
    spec = importlib.util.spec_from_file_location(f"gen_{backend}", path)
    assert spec is not None and spec.loader is not None
    mod = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = mod
    spec.loader.exec_module(mod)
    rng = np.random.default_rng(8)
    x, xb, v = well_conditioned(rng, 3, 3), rng.standard_normal((3, 3, 3)), rng.standard_normal(3)
    vals = {"X": x, "Xb": xb, "v": v}
    for name in names:
        node: Node = p[name]
        want = symtn.evaluate(node, vals, order=p.order(name))
        fn = getattr(mod, name)
        args = [vals[a] for a in inspect.signature(fn).parameters]
        got = np.asarray(fn(*args))
        np.testing.assert_allclose(got, want, rtol=1e-9, atol=1e-12, err_msg=name)
    body = src.split("def s(")[1].split("def ")[0]
    assert "linalg.solve(" in body and "linalg.inv(" not in body
