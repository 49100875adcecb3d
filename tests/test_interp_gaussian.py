"""Gaussian expectations by Wick pairings; similarity of bilinear layers as functions."""

from __future__ import annotations

import numpy as np
import pytest

import symtn
from symtn.interp.gaussian import (
    count_terms,
    function_cosine,
    function_inner,
    gaussian_expectation,
    matchings,
)

D, K, NO = 5, 4, 3


def _bilinear(w: str, v: str, p: str) -> symtn.Node:
    x = symtn.tensor("x", ("i", D))
    wx = symtn.tensor(w, ("k", K), ("i", D)) @ x
    vx = symtn.tensor(v, ("k", K), ("i", D)) @ x
    return symtn.tensor(p, ("o", NO), ("k", K)) @ (wx * vx)


def _dense(p: np.ndarray, w: np.ndarray, v: np.ndarray) -> np.ndarray:
    return np.einsum("ok,ki,kj->oij", p, w, v)  # f(x)[o] = B[o, i, j] x_i x_j


def _wick(b1: np.ndarray, b2: np.ndarray) -> float:
    tr1, tr2 = np.einsum("oii->o", b1), np.einsum("oii->o", b2)
    return float(tr1 @ tr2 + np.sum(b1 * b2) + np.sum(b1 * b2.transpose(0, 2, 1)))


def test_matchings_count() -> None:
    assert [len(list(matchings(list(range(n))))) for n in (0, 2, 4, 6)] == [1, 1, 3, 15]
    assert list(matchings([0, 1, 2])) == []


def test_second_moment_is_the_trace() -> None:
    a = symtn.tensor("S", ("i", D), ("j", D))
    x = symtn.tensor("x", ("i", D))
    q = a @ x @ x.rename({"i": "j"})  # x^T S x
    e = gaussian_expectation(q, "x")
    s = np.random.default_rng(0).standard_normal((D, D))
    assert float(symtn.evaluate(e, {"S": s})) == pytest.approx(np.trace(s))
    assert gaussian_expectation(a @ x, "x").legs == ("j",)  # odd degree: zero
    assert count_terms(gaussian_expectation(a @ x, "x")) == 0


def test_bilinear_layers_against_closed_form() -> None:
    rng = np.random.default_rng(1)
    vals = {k: rng.standard_normal(s) for k, s in {"W": (K, D), "V": (K, D), "P": (NO, K)}.items()}
    other = {k: rng.standard_normal(v.shape) for k, v in vals.items()}
    f = _bilinear("W", "V", "P")
    b1, b2 = _dense(vals["P"], vals["W"], vals["V"]), _dense(other["P"], other["W"], other["V"])
    assert function_inner(f, f, "x", vals) == pytest.approx(_wick(b1, b1), rel=1e-10)
    assert function_inner(f, f, "x", vals, other) == pytest.approx(_wick(b1, b2), rel=1e-10)
    c = _wick(b1, b2) / np.sqrt(_wick(b1, b1) * _wick(b2, b2))
    assert function_cosine(f, f, "x", vals, other) == pytest.approx(c, rel=1e-10)


def test_symmetric_pairings_are_deduplicated() -> None:
    f = _bilinear("W", "W", "P")  # (W x) * (W x): the two cross pairings are isomorphic
    g = _bilinear("W", "V", "P")
    ef = gaussian_expectation(symtn.contract(f, f), "x")
    eg = gaussian_expectation(symtn.contract(g, g), "x")
    assert count_terms(eg) == 3 and count_terms(ef) == 2
    rng = np.random.default_rng(2)
    vals = {"W": rng.standard_normal((K, D)), "P": rng.standard_normal((NO, K))}
    b = _dense(vals["P"], vals["W"], vals["W"])
    assert float(symtn.evaluate(ef, vals)) == pytest.approx(_wick(b, b), rel=1e-10)


def test_closed_form_against_monte_carlo() -> None:
    """The Wick closed form used above agrees with sampling (independent of symtn)."""
    rng = np.random.default_rng(3)
    b1, b2 = rng.standard_normal((NO, D, D)), rng.standard_normal((NO, D, D))
    x = rng.standard_normal((400_000, D))
    f1, f2 = np.einsum("oij,ni,nj->no", b1, x, x), np.einsum("oij,ni,nj->no", b2, x, x)
    mc = float(np.mean(np.sum(f1 * f2, axis=1)))
    assert mc == pytest.approx(_wick(b1, b2), rel=0.05, abs=0.5)
