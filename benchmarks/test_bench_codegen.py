"""Generated code against hand-written numpy, as ratios measured in one process.

Each case asserts that the generated function agrees with the reference before anything is
timed, then times both interleaved (alternating calls, medians) because a 2-core machine is
noisy; pytest-benchmark times the generated function on its own as well.
Run: see benchmarks/README.md.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest

import symtn
from benchmarks import programs as P
from benchmarks.conftest import RESULTS, interleaved

ROUNDS = 41


def _ms(t: float) -> str:
    return f"{t * 1e3:.3f} ms"


JAX = P.jax_cases()
TORCH = P.torch_cases()


def _baselines(key: str, args: tuple[np.ndarray, ...]) -> list[tuple[str, Callable[[], Any]]]:
    """jax and torch versions of a case (where installed), blocking until their results exist."""
    out: list[tuple[str, Callable[[], Any]]] = []
    if JAX is not None:
        import jax
        import jax.numpy as jnp

        jfn, jargs = JAX[key], _jax_args(key, args, jnp)
        out.append(("jax", lambda: jax.block_until_ready(jfn(*jargs))))  # type: ignore[operator]
    if TORCH is not None:
        import torch

        tfn, targs = TORCH[key], _jax_args(key, args, torch.from_numpy)
        out.append(("torch", lambda: tfn(*targs)))  # type: ignore[operator]
    return out


def _jax_args(key: str, args: tuple[np.ndarray, ...], conv: Any) -> tuple[Any, ...]:
    if key == "mlp":  # (X, Y, W1, b1, W2, b2) -> ((W1, b1, W2, b2), X, Y)
        X, Y, W1, b1, W2, b2 = (conv(a) if not hasattr(conv, "asarray") else conv.asarray(a) for a in args)
        return ((W1, b1, W2, b2), X, Y)
    return tuple(conv(a) if not hasattr(conv, "asarray") else conv.asarray(a) for a in args)


def _case(
    benchmark: Any,
    case: str,
    gen: Callable[[], Any],
    ref: Callable[[], Any],
    key: str = "",
    args: tuple[np.ndarray, ...] = (),
) -> None:
    got, want = gen(), ref()
    if isinstance(want, tuple):
        for g, w in zip(got, want, strict=True):
            np.testing.assert_allclose(np.asarray(g), w, rtol=1e-8, atol=1e-10)
    else:
        np.testing.assert_allclose(np.asarray(got), want, rtol=1e-8, atol=1e-10)
    others = _baselines(key, args) if key else []
    for name, fn in others:  # the baselines compute the same numbers
        first = fn()
        value = first[0] if key == "mlp" and name == "jax" else first[1] if key == "mlp" else first
        expect = want[0] if key == "mlp" else want
        np.testing.assert_allclose(np.asarray(value), expect, rtol=1e-7, atol=1e-9, err_msg=name)
    tg, tr = interleaved([gen, ref])  # symtn against numpy first, with no other library's threads
    ratios = {}
    for name, fn in others:  # then each baseline against numpy (its thread pool can slow numpy)
        tb, tr2 = interleaved([fn, ref])
        ratios[name] = tb / tr2
    benchmark.extra_info.update(
        symtn_s=tg, numpy_s=tr, ratio=tg / tr, **{f"{k}_ratio": v for k, v in ratios.items()}
    )
    cols = [f"{ratios[k]:.2f}x" if k in ratios else "n/a" for k in ("jax", "torch")]
    RESULTS.append((case, _ms(tr), _ms(tg), f"{tg / tr:.2f}x", *cols))
    benchmark.group = case
    benchmark(gen)


RNG = np.random.default_rng(0)


def test_hessian_quadratic_form(benchmark: Any) -> None:
    n = 2048
    A, x = RNG.standard_normal((n, n)), RNG.standard_normal(n)
    fn = symtn.compile(symtn.parse(P.QUAD), ["H"], sizes={"n": n})
    _case(benchmark, "Hessian of x^T A x, n = 2048", lambda: fn(A), lambda: P.quad_hessian(A), "quad", (x, A))


def test_hessian_sum_tanh(benchmark: Any) -> None:
    A, x = RNG.standard_normal((256, 128)) / 8, RNG.standard_normal(128)
    fn = symtn.compile(symtn.parse(P.TANH), ["H"], sizes={"m": 256, "n": 128})
    _case(
        benchmark,
        "Hessian of sum(tanh(A x)), A 256x128",
        lambda: fn(A, x),
        lambda: P.tanh_hessian(A, x),
        "tanh",
        (x, A),
    )


def test_hessian_logistic_regression(benchmark: Any) -> None:
    X, w = RNG.standard_normal((2048, 256)) / 16, RNG.standard_normal(256)
    y = (RNG.random(2048) < 0.5).astype(float)
    fn = symtn.compile(symtn.parse(P.LOGREG), ["H"], sizes={"b": 2048, "n": 256})
    _case(
        benchmark,
        "logistic-regression Hessian, X 2048x256",
        lambda: fn(X, w),
        lambda: P.logreg_hessian(X, w),
        "logreg",
        (w, X, y),
    )


def test_hessian_logsumexp(benchmark: Any) -> None:
    z = RNG.standard_normal(512)
    fn = symtn.compile(symtn.parse(P.LSE), ["H"], sizes={"V": 512})
    _case(benchmark, "logsumexp Hessian, n = 512", lambda: fn(z), lambda: P.lse_hessian(z), "lse", (z,))


def test_mlp_loss_and_gradients(benchmark: Any) -> None:
    b = 256
    X, W1, b1 = RNG.standard_normal((b, 64)), RNG.standard_normal((128, 64)) / 8, RNG.standard_normal(128)
    W2, b2 = RNG.standard_normal((10, 128)) / 8, RNG.standard_normal(10)
    Y = np.eye(10)[RNG.integers(0, 10, b)]
    ns = symtn.compile(symtn.parse(P.MLP), ["loss", "gW1", "gb1", "gW2", "gb2"], sizes={"b": b})
    _case(
        benchmark,
        "two-layer MLP loss + all gradients, batch 256, 64-128-10",
        lambda: ns.all(X, Y, W1, b1, W2, b2),
        lambda: P.mlp_loss_grads(X, Y, W1, b1, W2, b2),
        "mlp",
        (X, Y, W1, b1, W2, b2),
    )


def _pipeline(text: str, names: list[str]) -> str:
    return symtn.codegen(symtn.parse(text), names)


@pytest.mark.parametrize("layers", [2, 4, 8, 16, 32])
def test_symbolic_pipeline_tanh_net(benchmark: Any, layers: int) -> None:
    text = P.tanh_net(layers)
    names = ["loss"] + [f"g{k}" for k in range(1, layers + 1)]
    t0 = time.perf_counter()
    src = _pipeline(text, names)  # first run: parse, differentiate, simplify, plan and print
    elapsed = time.perf_counter() - t0
    compile(src, "<generated>", "exec")
    RESULTS.append(
        (f"symbolic pipeline: gradient of {layers}-layer tanh net (parse..codegen)", "", _ms(elapsed), "")
    )
    benchmark.group = "pipeline"
    benchmark.extra_info["first_run_s"] = elapsed
    benchmark.pedantic(_pipeline, args=(text, names), rounds=1, iterations=1)
