"""Built-in rewriting at scale: simplify of a deep-net gradient, and factor of a path expansion.

Each case checks its result first (finite differences / dense numpy), then times symtn cold (fresh
tensor names every round, so no cached simplification is reused) against a reference step of the
same pipeline measured in the same run:

- ``simplify(d loss / d W0)`` for an L-layer tanh net, against building the unsimplified
  derivative (``diff(..., simplify=False)``);
- ``factor(expand(e))`` for a chain of k two-term sums (2^k paths), against ``expand(e)``.
"""

from __future__ import annotations

import itertools
import time
from typing import Any

import numpy as np
import sympy as sp

from benchmarks.conftest import RESULTS
from symtn import diff, evaluate
from symtn.ir import algebra as al
from symtn.ir.nodes import Node, Tensor
from symtn.rewrite import expand, factor, simplify

_ROUND = itertools.count()
N = al.as_size("n")


def _net(layers: int) -> tuple[Node, Tensor, str]:
    tag = f"r{next(_ROUND)}_"
    h: Node = al.tensor(tag + "x", ("i", N))
    first = al.tensor(tag + "W0", ("o", N), ("i", N))
    for k in range(layers):
        w = al.tensor(f"{tag}W{k}", ("o", N), ("i", N))
        h = al.elementwise(sp.tanh(al.X0), al.rename(al.contract(w, h), {"o": "i"}))
    return al.sum_legs(h, ["i"]), first, tag  # type: ignore[return-value]


def _chain(pairs: int) -> tuple[Node, str]:
    tag = f"c{next(_ROUND)}_"
    legs = [f"l{k}" for k in range(pairs + 1)]
    e: Node = al.tensor(tag + "x", (legs[0], N))
    for k in range(pairs):
        a = al.rename(al.tensor(tag + "A", ("p", N), ("q", N)), {"p": legs[k], "q": legs[k + 1]})
        b = al.rename(al.tensor(tag + "B", ("p", N), ("q", N)), {"p": legs[k], "q": legs[k + 1]})
        e = al.contract(e, al.add(a, b))
    return e, tag


def _median(fn: Any, rounds: int) -> float:
    ts = []
    for _ in range(rounds):
        t0 = time.perf_counter()
        fn()
        ts.append(time.perf_counter() - t0)
    return float(np.median(ts))


def test_simplify_deep_gradient(benchmark: Any) -> None:
    layers = 8
    loss, w0, tag = _net(layers)
    g = simplify(diff(loss, w0, simplify=False))
    rng = np.random.default_rng(0)
    values = {f"{tag}W{k}": rng.standard_normal((4, 4)) / 2 for k in range(layers)}
    values[tag + "x"] = rng.standard_normal(4)
    grad = evaluate(g, values, order=("o", "i"), sizes={"n": 4})
    eps = 1e-6
    bumped = {**values, tag + "W0": values[tag + "W0"] + eps * np.eye(4)[1][:, None] * np.eye(4)[2]}
    fd = (evaluate(loss, bumped, sizes={"n": 4}) - evaluate(loss, values, sizes={"n": 4})) / eps
    assert abs(float(fd) - grad[1, 2]) < 1e-4

    def derive() -> Node:
        loss, w0, _ = _net(layers)
        return diff(loss, w0, simplify=False)

    def derive_and_simplify() -> Node:
        return simplify(derive())

    benchmark(derive_and_simplify)
    tr, ts = _median(derive, 9), _median(derive_and_simplify, 9)
    RESULTS.append((f"simplify(d loss/d W0), {layers}-layer tanh net (ref: unsimplified diff)",
                    f"{tr * 1e3:.1f} ms", f"{ts * 1e3:.1f} ms", f"{ts / tr:.2f}x"))


def test_factor_path_expansion(benchmark: Any) -> None:
    pairs = 8
    e, tag = _chain(pairs)
    ex = expand(e)
    f = factor(ex)
    rng = np.random.default_rng(1)
    a, b, x = rng.standard_normal((3, 3)), rng.standard_normal((3, 3)), rng.standard_normal(3)
    values = {tag + "A": a, tag + "B": b, tag + "x": x}
    want = x @ np.linalg.matrix_power(a + b, pairs)
    assert np.allclose(evaluate(f, values, sizes={"n": 3}), want)
    assert len(ex.terms) == 2**pairs  # type: ignore[attr-defined]

    def expanded() -> Node:
        return expand(_chain(pairs)[0])

    def factored() -> Node:
        return factor(expanded())

    benchmark(factored)
    tr, ts = _median(expanded, 5), _median(factored, 5)
    RESULTS.append((f"factor(expand(e)), chain of {pairs} two-term sums (ref: expand alone)",
                    f"{tr * 1e3:.1f} ms", f"{ts * 1e3:.1f} ms", f"{ts / tr:.2f}x"))
