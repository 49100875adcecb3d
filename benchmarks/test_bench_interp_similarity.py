"""Similarity of two bilinear layers as functions (Gaussian input), d = 256, h = 1024.

symtn builds E_x <f(x), g(x)> as Wick-paired networks and contracts them (never forming the
[d, d, d] tensors of the layers); the reference is the same expectation hand-written in numpy
via the [h, h] Gram matrices. Both are checked against the materialised closed form first.
"""

from __future__ import annotations

import time
from typing import Any

import numpy as np

import symtn
from benchmarks.conftest import RESULTS
from symtn.interp.gaussian import function_inner

D, H = 256, 1024


def _layer() -> symtn.Node:
    x = symtn.tensor("x", ("i", D))
    wx = symtn.tensor("W", ("k", H), ("i", D)) @ x
    vx = symtn.tensor("V", ("k", H), ("i", D)) @ x
    return symtn.tensor("P", ("o", D), ("k", H)) @ (wx * vx)


def _numpy(a: dict[str, np.ndarray], b: dict[str, np.ndarray]) -> float:
    pp = a["P"].T @ b["P"]  # [k, l]
    ww, vv = a["W"] @ b["W"].T, a["V"] @ b["V"].T
    wv, vw = a["W"] @ b["V"].T, a["V"] @ b["W"].T
    tr_a = np.einsum("ki,ki->k", a["W"], a["V"])
    tr_b = np.einsum("ki,ki->k", b["W"], b["V"])
    return float(tr_a @ pp @ tr_b + np.sum(pp * ww * vv) + np.sum(pp * wv * vw))


def _median(fn: Any, rounds: int) -> float:
    ts = []
    for _ in range(rounds):
        t0 = time.perf_counter()
        fn()
        ts.append(time.perf_counter() - t0)
    return float(np.median(ts))


def test_bilinear_similarity(benchmark: Any) -> None:
    rng = np.random.default_rng(0)
    a = {"W": rng.standard_normal((H, D)) / 16, "V": rng.standard_normal((H, D)) / 16,
         "P": rng.standard_normal((D, H)) / 32}
    b = {k: v + 0.5 * rng.standard_normal(v.shape) * v.std() for k, v in a.items()}
    f = _layer()
    got = function_inner(f, f, "x", a, b)
    ref = _numpy(a, b)
    assert abs(got - ref) <= 1e-9 * abs(ref)
    # materialised check on the first 64 outputs: B[o, i, j] = P[o, k] W[k, i] V[k, j]
    sub_a = {**a, "P": a["P"][:64]}
    sub_b = {**b, "P": b["P"][:64]}
    ba = np.einsum("ok,ki,kj->oij", sub_a["P"], a["W"], a["V"], optimize=True)
    bb = np.einsum("ok,ki,kj->oij", sub_b["P"], b["W"], b["V"], optimize=True)
    dense = float(np.einsum("oii->o", ba) @ np.einsum("oii->o", bb) + np.sum(ba * bb)
                  + np.sum(ba * bb.transpose(0, 2, 1)))
    assert abs(_numpy(sub_a, sub_b) - dense) <= 1e-9 * abs(dense)
    benchmark(lambda: function_inner(f, f, "x", a, b))
    tn, ts = _median(lambda: _numpy(a, b), 7), _median(lambda: function_inner(f, f, "x", a, b), 7)
    RESULTS.append((f"bilinear layer similarity E<f, g>, d = {D}, h = {H}", f"{tn * 1e3:.1f} ms",
                    f"{ts * 1e3:.1f} ms", f"{ts / tn:.2f}x"))
