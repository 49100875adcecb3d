"""Shape-generic generated code (no ``--size``) against the specialised module and numpy.

A module generated without sizes reads them from its inputs, checks every input's shape once
per shape and the memory its plan needs, and then runs the same statements as the specialised
module. Each case times the generic function, the specialised one and the hand-written numpy
reference interleaved in one run; the table rows are ``generic / numpy`` (and the extra info
holds ``generic / specialised``, the price of the checks). Run: see benchmarks/README.md.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

import symtn
from benchmarks import programs as P
from benchmarks.conftest import RESULTS, interleaved

RNG = np.random.default_rng(1)


def _case(
    benchmark: Any, case: str, generic: Callable[[], Any], special: Callable[[], Any], ref: Callable[[], Any]
) -> None:
    want = ref()
    for fn in (generic, special):
        got = fn()
        pairs = zip(got, want, strict=True) if isinstance(want, tuple) else [(got, want)]
        for g, w in pairs:
            np.testing.assert_allclose(np.asarray(g), w, rtol=1e-8, atol=1e-10)
    tg, ts, tr = interleaved([generic, special, ref])
    benchmark.extra_info.update(generic_s=tg, specialised_s=ts, numpy_s=tr, generic_over_specialised=tg / ts)
    RESULTS.append(
        (
            f"{case} (no --size; specialised {ts / tr:.2f}x)",
            f"{tr * 1e3:.3f} ms",
            f"{tg * 1e3:.3f} ms",
            f"{tg / tr:.2f}x",
            "n/a",
            "n/a",
        )
    )
    benchmark.group = f"generic: {case}"
    benchmark(generic)


def test_generic_quadratic_hessian(benchmark: Any) -> None:
    n = 2048
    A = RNG.standard_normal((n, n))
    prog = symtn.parse(P.QUAD)
    gen = symtn.compile(prog, ["H"])
    spec = symtn.compile(prog, ["H"], sizes={"n": n})
    _case(
        benchmark, "Hessian of x^T A x, n = 2048", lambda: gen(A), lambda: spec(A), lambda: P.quad_hessian(A)
    )


def test_generic_logistic_hessian(benchmark: Any) -> None:
    b, n = 2048, 256
    X, w = RNG.standard_normal((b, n)), RNG.standard_normal(n) / 16
    prog = symtn.parse(P.LOGREG)
    gen = symtn.compile(prog, ["H"])
    spec = symtn.compile(prog, ["H"], sizes={"b": b, "n": n})
    _case(
        benchmark,
        "logistic Hessian, 2048 x 256",
        lambda: gen(X, w),
        lambda: spec(X, w),
        lambda: P.logreg_hessian(X, w),
    )


def _mlp(b: int) -> tuple[np.ndarray, ...]:
    X, W1, b1 = RNG.standard_normal((b, 64)), RNG.standard_normal((128, 64)) / 8, RNG.standard_normal(128)
    W2, b2 = RNG.standard_normal((10, 128)) / 8, RNG.standard_normal(10)
    Y = np.eye(10)[RNG.integers(0, 10, b)]
    return X, Y, W1, b1, W2, b2


def test_generic_mlp_loss_and_gradients(benchmark: Any) -> None:
    prog = symtn.parse(P.MLP)
    names = ["loss", "gW1", "gb1", "gW2", "gb2"]
    gen = symtn.compile(prog, names)
    args = _mlp(256)
    spec = symtn.compile(prog, names, sizes={"b": 256})
    _case(
        benchmark,
        "MLP loss + gradients, batch 256",
        lambda: gen.all(*args),
        lambda: spec.all(*args),
        lambda: P.mlp_loss_grads(*args),
    )


def test_generic_mlp_small_batch(benchmark: Any) -> None:
    prog = symtn.parse(P.MLP)
    names = ["loss", "gW1", "gb1", "gW2", "gb2"]
    gen = symtn.compile(prog, names)
    args = _mlp(8)  # per-call overhead dominates at this size
    spec = symtn.compile(prog, names, sizes={"b": 8})
    _case(
        benchmark,
        "MLP loss + gradients, batch 8",
        lambda: gen.all(*args),
        lambda: spec.all(*args),
        lambda: P.mlp_loss_grads(*args),
    )
