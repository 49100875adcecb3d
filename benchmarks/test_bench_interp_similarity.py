"""Similarity of two bilinear layers, d = 256, h = 1024: as tensors and as functions.

``test_bilinear_full_tensor_inner``: the inner product <B_a, B_b> of the layers' full [o, i, j]
tensors B = P[o, k] W[k, i] V[k, j], contracted by symtn as one network with two copy-tensor
hyperedges (cotengra's path, see symtn.lower.paths); the reference is the Gram formula
sum((P_a^T P_b) * (W_a W_b^T) * (V_a V_b^T)). ``test_bilinear_similarity``: symtn builds
E_x <f(x), g(x)> as Wick-paired networks and contracts them (never forming the [d, d, d]
tensors of the layers); the reference is the same expectation hand-written in numpy via the
[h, h] Gram matrices. Both are checked against the materialised closed form first; timings
interleave symtn and numpy in one process (medians).
"""

from __future__ import annotations

import time
from typing import Any

import numpy as np
import opt_einsum

import symtn
from benchmarks.conftest import RESULTS, interleaved
from symtn.interp.gaussian import function_inner
from symtn.interp.similarity import inner

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


def _full(tag: str = "") -> symtn.Node:
    p = symtn.tensor("P", ("o", D), ("k", H))
    w = symtn.tensor("W", ("k", H), ("i", D))
    v = symtn.tensor("V", ("k", H), ("j", D))
    return p @ (w * v)


def _gram(a: dict[str, np.ndarray], b: dict[str, np.ndarray]) -> float:
    return float(np.sum((a["P"].T @ b["P"]) * (a["W"] @ b["W"].T) * (a["V"] @ b["V"].T)))


def _layers() -> tuple[dict[str, np.ndarray], dict[str, np.ndarray]]:
    rng = np.random.default_rng(0)
    a = {"W": rng.standard_normal((H, D)) / 16, "V": rng.standard_normal((H, D)) / 16,
         "P": rng.standard_normal((D, H)) / 32}
    b = {k: v + 0.5 * rng.standard_normal(v.shape) * v.std() for k, v in a.items()}
    return a, b


def test_bilinear_full_tensor_inner(benchmark: Any) -> None:
    a, b = _layers()
    f = _full()
    got, ref = inner(f, f, a, b), _gram(a, b)
    assert abs(got - ref) <= 1e-9 * abs(ref)
    # the Gram formula against the materialised tensors (first 32 outputs)
    sub = {k: v for k, v in a.items()} | {"P": a["P"][:32]}
    sub_b = {k: v for k, v in b.items()} | {"P": b["P"][:32]}
    ba = np.einsum("ok,ki,kj->oij", sub["P"], a["W"], a["V"], optimize=True)
    bb = np.einsum("ok,ki,kj->oij", sub_b["P"], b["W"], b["V"], optimize=True)
    assert abs(_gram(sub, sub_b) - float(np.sum(ba * bb))) <= 1e-9 * abs(float(np.sum(ba * bb)))
    benchmark(lambda: inner(f, f, a, b))
    tn, ts = interleaved([lambda: _gram(a, b), lambda: inner(f, f, a, b)], 15)
    RESULTS.append((f"inner product of two bilinear layers' full tensors, d = {D}, h = {H}",
                    f"{tn * 1e3:.1f} ms", f"{ts * 1e3:.1f} ms", f"{ts / tn:.2f}x"))
    # for comparison: the same network along opt_einsum's default ("auto") path
    ops = [a["P"], a["W"], a["V"], b["P"], b["W"], b["V"]]
    eq = "ok,ki,kj,ol,li,lj->"
    t0 = time.perf_counter()
    dflt = float(opt_einsum.contract(eq, *ops))
    td = time.perf_counter() - t0
    assert abs(dflt - ref) <= 1e-9 * abs(ref)
    RESULTS.append(("  same network, opt_einsum default path (one call)", f"{tn * 1e3:.1f} ms",
                    f"{td * 1e3:.1f} ms", f"{td / tn:.1f}x"))


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
    tn, ts = interleaved([lambda: _numpy(a, b), lambda: function_inner(f, f, "x", a, b)], 9)
    RESULTS.append((f"bilinear layer similarity E<f, g>, d = {D}, h = {H}", f"{tn * 1e3:.1f} ms",
                    f"{ts * 1e3:.1f} ms", f"{ts / tn:.2f}x"))
