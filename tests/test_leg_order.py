"""One leg order everywhere (issue 12): diff returns X's declared order, bindings have one
documented order shared by the API, `symtn eval` and generated code."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

import symtn
from symtn.cli import main
from symtn.ir.order import with_order

GRAD = "dim a = 3, b = 4\nA: [a, b]\nu: [a]\nv: [b]\nf = sum(u * tanh(A @ v))\ng = d(f)/d(A)\n"


def _vals() -> dict[str, np.ndarray]:
    rng = np.random.default_rng(0)
    return {"A": rng.standard_normal((3, 4)), "u": rng.standard_normal(3), "v": rng.standard_normal(4)}


def _grad_ref(v: dict[str, np.ndarray]) -> np.ndarray:
    t = np.tanh(v["A"] @ v["v"])
    return np.einsum("a,a,b->ab", v["u"], 1 - t**2, v["v"])


def test_api_diff_in_declared_order() -> None:
    p = symtn.parse(GRAD)
    g = symtn.diff(p["f"], p.tensors["A"])
    assert g.legs == ("a", "b")
    np.testing.assert_allclose(symtn.evaluate(g, _vals()), _grad_ref(_vals()), rtol=1e-12)


def test_program_binding_and_eval_agree(tmp_path: Path) -> None:
    p = symtn.parse(GRAD)
    assert p.order("g") == p["g"].legs == ("a", "b")
    np.testing.assert_allclose(symtn.evaluate(p["g"], _vals()), _grad_ref(_vals()), rtol=1e-12)
    f = tmp_path / "g.stn"
    f.write_text(GRAD)
    inputs, out = tmp_path / "in.npz", tmp_path / "out.npz"
    np.savez(inputs, **_vals())
    assert main(["eval", str(f), "--inputs", str(inputs), "--out", str(out), "g"]) == 0
    with np.load(out) as res:
        np.testing.assert_allclose(res["g"], _grad_ref(_vals()), rtol=1e-12)


def test_square_gradient_step_not_transposed() -> None:
    p = symtn.parse("dim n = 3\nW: [o: n, i: n]\nx: [i]\ny: [o]\nL = sum((W @ x - y)^2)\n")
    g = symtn.diff(p["L"], p.tensors["W"])
    rng = np.random.default_rng(1)
    v = {"W": rng.standard_normal((3, 3)), "x": rng.standard_normal(3), "y": rng.standard_normal(3)}
    want = 2 * np.outer(v["W"] @ v["x"] - v["y"], v["x"])  # [o, i]
    np.testing.assert_allclose(symtn.evaluate(g, v), want, rtol=1e-12)


def test_softmax_keeps_written_order() -> None:
    p = symtn.parse("M: [t: 3, s: 4]\nP = softmax[s](M)\nQ = exp(M) + 1\n")
    assert p.order("P") == p["P"].legs == ("t", "s")
    assert p["Q"].legs == ("t", "s")
    m = np.random.default_rng(2).standard_normal((3, 4))
    e = np.exp(m - m.max(axis=1, keepdims=True))
    np.testing.assert_allclose(symtn.evaluate(p["P"], {"M": m}), e / e.sum(axis=1, keepdims=True), rtol=1e-12)


def test_matrix_product_written_order() -> None:
    p = symtn.parse(
        "dim b = 2, i = 3, h = 4\nx: [b, i]\nW: [h, i]\nz = W @ x\nzt = x @ W\nk: [b, h] = W @ x\n"
    )
    assert p.order("z") == ("h", "b") and p.order("zt") == ("b", "h") and p.order("k") == ("b", "h")
    assert p["z"].legs == ("h", "b")


def test_order_stable_under_simplification() -> None:
    p = symtn.parse(GRAD)
    s = symtn.simplify(p["g"])
    assert with_order(s, p.order("g")).legs == ("a", "b")


def test_with_order_rejects_non_permutation() -> None:
    x = symtn.tensor("x", i=2, j=3)
    assert with_order(x, ("j", "i")).legs == ("j", "i")
    with pytest.raises(ValueError):
        with_order(x, ("i",))


def test_readme_example_order() -> None:
    W = symtn.tensor("W", out=10, inp=64)
    x = symtn.tensor("x", inp=64)
    y = symtn.softmax(W @ x, "out")
    assert symtn.diff(symtn.sum(y * y), W).legs == ("out", "inp")
