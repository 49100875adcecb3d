"""One computation written several ways must cost the same (issue 11): ratios against a closed form.

For each formulation in :mod:`benchmarks.formulations` the generated numpy code (``symtn.compile``,
with sizes: shape-generic modules are another branch's work) and, for the bilinear case, the
numpy evaluator are checked against the closed form, then timed interleaved with it in one
process (medians). Targets: within 1.2x of the Gram formula (bilinear inner product, d = 256,
h = 1024), of ``X^T diag(s(1-s)) X`` (logistic Hessian, X 2048 x 256), and of the chain form
(26-site MPS overlap, bond 32: symtn's code for the chain written as one binding; the
hand-written transfer-matrix sweep is reported too).
Run: see benchmarks/README.md.
"""

from __future__ import annotations

import inspect
import warnings
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest

import symtn
from benchmarks import formulations as F
from benchmarks.conftest import RESULTS, interleaved

D, H = 256, 1024
N, NF = 2048, 256
SITES, CHI = 26, 32


def _ms(t: float) -> str:
    return f"{t * 1e3:.3g} ms"


def _call(fn: Any, values: dict[str, np.ndarray]) -> Callable[[], Any]:
    args = [values[k] for k in inspect.signature(fn).parameters]
    return lambda: fn(*args)


def _parse(src: str) -> symtn.Program:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # W301: p1 and p10 look alike (the MPS legs)
        return symtn.parse(src)


def _row(case: str, ref: Callable[[], Any], got: Callable[[], Any], rounds: int, benchmark: Any) -> None:
    tr, tg = interleaved([ref, got], rounds)
    RESULTS.append((case, _ms(tr), _ms(tg), f"{tg / tr:.2f}x", "", ""))
    benchmark.extra_info.update(symtn_s=tg, reference_s=tr, ratio=tg / tr)
    benchmark.group = case
    benchmark.pedantic(got, rounds=3, iterations=1)


@pytest.mark.parametrize("name", list(F.BILINEAR_PROGRAMS))
def test_bilinear_inner(benchmark: Any, name: str) -> None:
    v = F.bilinear_inputs(D, H)
    ref = F.gram(v)
    prog = _parse(F.BILINEAR_PROGRAMS[name])
    args = F.bilinear_args(name, v)
    fn = symtn.compile(prog, ["out"], sizes={"d": D, "h": H})
    run = _call(fn, args)
    assert abs(float(run()) - ref) <= 1e-9 * abs(ref)
    sizes = {"d": D, "h": H}
    ev = float(symtn.evaluate(prog["out"], args, sizes=sizes))
    assert abs(ev - ref) <= 1e-9 * abs(ref)
    _row(f"bilinear inner product, {name} (generated)", lambda: F.gram(v), run, 15, benchmark)
    tr, te = interleaved([lambda: F.gram(v), lambda: symtn.evaluate(prog["out"], args, sizes=sizes)], 9)
    case = f"bilinear inner product, {name} (evaluate)"
    RESULTS.append((case, _ms(tr), _ms(te), f"{te / tr:.2f}x", "", ""))


@pytest.mark.parametrize("name", list(F.LOGISTIC_PROGRAMS))
def test_logistic_hessian(benchmark: Any, name: str) -> None:
    rng = np.random.default_rng(0)
    X, w = rng.standard_normal((N, NF)) / 16, rng.standard_normal(NF)
    values = {"X": X, "Xt": np.ascontiguousarray(X.T), "w": w, "y": (rng.random(N) < 0.5).astype(float)}
    fn = symtn.compile(_parse(F.LOGISTIC_PROGRAMS[name]), ["out"], sizes={"b": N, "n": NF})
    run = _call(fn, values)
    np.testing.assert_allclose(run(), F.logistic_hessian(X, w), rtol=1e-8, atol=1e-10)
    _row(f"logistic Hessian, {name} (generated)", lambda: F.logistic_hessian(X, w), run, 41, benchmark)
    prog = _parse(F.LOGISTIC_PROGRAMS[name])
    sizes = {"b": N, "n": NF}
    np.testing.assert_allclose(symtn.evaluate(prog["out"], values, sizes=sizes), F.logistic_hessian(X, w),
                               rtol=1e-8, atol=1e-10)
    ev = lambda: symtn.evaluate(prog["out"], values, sizes=sizes)  # noqa: E731
    tr, te = interleaved([lambda: F.logistic_hessian(X, w), ev], 21)
    case = f"logistic Hessian, {name} (evaluate)"
    RESULTS.append((case, _ms(tr), _ms(te), f"{te / tr:.2f}x", "", ""))


@pytest.mark.parametrize("name", [*F.BILINEAR_PROGRAMS, *F.LOGISTIC_PROGRAMS])
def test_generic_formulation(benchmark: Any, name: str) -> None:
    """The same formulations generated without sizes (read from the inputs at run time)."""
    if name in F.BILINEAR_PROGRAMS:
        v = F.bilinear_inputs(D, H)
        values, src, rounds = F.bilinear_args(name, v), F.BILINEAR_PROGRAMS[name], 9
        ref: Callable[[], Any] = lambda: F.gram(v)  # noqa: E731
        case = f"bilinear inner product, {name} (generated, no sizes)"
    else:
        rng = np.random.default_rng(0)
        X, w = rng.standard_normal((N, NF)) / 16, rng.standard_normal(NF)
        values = {"X": X, "Xt": np.ascontiguousarray(X.T), "w": w, "y": (rng.random(N) < 0.5).astype(float)}
        src, rounds = F.LOGISTIC_PROGRAMS[name], 21
        ref = lambda: F.logistic_hessian(X, w)  # noqa: E731
        case = f"logistic Hessian, {name} (generated, no sizes)"
    run = _call(symtn.compile(_parse(src), ["out"]), values)
    np.testing.assert_allclose(run(), ref(), rtol=1e-8, atol=1e-10)
    _row(case, ref, run, rounds, benchmark)


def test_mps_overlap(benchmark: Any) -> None:
    v = F.mps_inputs(SITES, CHI)
    ref = F.mps_overlap(v, SITES)
    progs = F.mps_programs(SITES)
    sizes = {"chi": CHI, "two": 2}
    fns = {k: _call(symtn.compile(_parse(src), ["out"], sizes=sizes), v) for k, src in progs.items()}
    for k, run in fns.items():
        assert abs(float(run()) - ref) <= 1e-9 * abs(ref), k
    chain = fns["one chain"]
    for k, run in fns.items():
        if k != "one chain":
            tr, tg = interleaved([chain, run], 21)
            case = f"{SITES}-site MPS overlap, {k} vs one chain"
            RESULTS.append((case, _ms(tr), _ms(tg), f"{tg / tr:.2f}x", "", ""))
    th, tc = interleaved([lambda: F.mps_overlap(v, SITES), chain], 21)
    RESULTS.append((f"{SITES}-site MPS overlap, one chain vs hand-written sweep", _ms(th), _ms(tc),
                    f"{tc / th:.2f}x", "", ""))
    benchmark.group = "mps"
    benchmark.pedantic(fns["psi @ phi from bindings"], rounds=3, iterations=1)


TRANSFORMER_SIZES = {"n_ctx": 128, "d_model": 256, "d_head": 32, "n_head": 8, "d_vocab": 1024, "d_mlp": 1024}
WEIGHTS = ["W_E", "W_U", "W_OV1", "W_OV2", "W_Q1", "W_K1", "W_Q2", "W_K2"]


def test_transformer_gradient_plan_flops(benchmark: Any) -> None:
    """FLOPs of the plans (not timed): the bundled 2-layer transformer's loss, d/dW_Q1 alone and
    all eight weight gradients with the loss in one function, against the forward pass."""
    from importlib.resources import files

    from symtn.lower.codegen import generate

    text = files("symtn.examples").joinpath("transformer_blocks.stn").read_text()
    text += "target: [t, v] const\nloss = -sum(target * log_softmax[v](live))\n"
    text += "".join(f"g{w} = d(loss)/d({w})\n" for w in WEIGHTS)
    prog = _parse(text)
    names = ["loss"] + [f"g{w}" for w in WEIGHTS]

    def plan() -> dict[str, tuple[int, int]]:
        _, fnames, steps = generate(prog, names, sizes=TRANSFORMER_SIZES)
        out = {}
        for key, fname in fnames.items():
            st = steps[fname]
            out[key] = (sum(s.flops for s in st), max(s.largest for s in st))
        return out

    got = benchmark.pedantic(plan, rounds=1, iterations=1)
    forward = got["loss"][0]
    for key, label in (("gW_Q1", "d/dW_Q1 alone"), ("gW_E", "d/dW_E alone"), ("*", "loss + all 8 gradients")):
        flops, largest = got[key]
        RESULTS.append((f"transformer plan FLOPs, {label} / forward ({forward:,})", "", f"{flops:,} FLOP",
                        f"{flops / forward:.1f}x (largest {largest * 8:,} B)", "", ""))


MLP_SIZES = {"batch": 512, "pixel": 256, "hidden": 128, "cls": 10}
MLP_GRADS = ["W1", "b1", "W2", "b2"]


@pytest.mark.parametrize("form", list(F.MLP_FORMS))
def test_mlp_gradients(benchmark: Any, form: str) -> None:
    """The four gradients of a softmax-cross-entropy MLP, the loss written four ways, generated
    without sizes, against backpropagation written in numpy (target 1.2x)."""
    text = F.MLP_HEAD + F.MLP_FORMS[form] + "".join(f"g{w} = d(loss)/d({w})\n" for w in MLP_GRADS)
    ns = symtn.compile(_parse(text), [f"g{w}" for w in MLP_GRADS])
    rng = np.random.default_rng(0)
    b, p, h, c = MLP_SIZES.values()
    v = {"X": rng.standard_normal((b, p)), "Y": np.eye(c)[rng.integers(0, c, b)],
         "W1": rng.standard_normal((h, p)) / 16, "b1": rng.standard_normal(h),
         "W2": rng.standard_normal((c, h)), "b2": rng.standard_normal(c)}
    run = _call(ns.all, v)
    want = F.mlp_by_hand(v)
    for w, got in zip(MLP_GRADS, run(), strict=True):
        np.testing.assert_allclose(got, want[w], rtol=1e-9, atol=1e-12, err_msg=w)
    _row(f"MLP gradients (batch 512, 256-128-10), {form} (generated, no sizes)",
         lambda: F.mlp_by_hand(v), run, 41, benchmark)


def _transformer_inputs(prog: symtn.Program, fn: Any) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(0)
    z = TRANSFORMER_SIZES
    shapes = {"t": z["n_ctx"], "s": z["n_ctx"], "d": z["d_model"], "d'": z["d_model"], "e": z["d_head"],
              "h": z["n_head"], "v": z["d_vocab"]}
    out = {}
    for name in inspect.signature(fn).parameters:
        shape = [shapes[leg] for leg, _ in prog.tensors[name].slots]
        out[name] = rng.standard_normal(shape) / np.sqrt(shape[-1])
    out["tokens"] = np.eye(shapes["v"])[rng.integers(0, shapes["v"], shapes["t"])]
    out["target"] = np.eye(shapes["v"])[rng.integers(0, shapes["v"], shapes["t"])]
    return out


def _jax_transformer() -> Any:
    """The bundled transformer's loss in jax.numpy, ``value_and_grad`` over its 8 weights, jitted."""
    import jax
    import jax.numpy as jnp

    jax.config.update("jax_enable_x64", True)

    def attn(x: Any, wq: Any, wk: Any, wov: Any) -> Any:
        q, k = jnp.einsum("hed,td->het", wq, x), jnp.einsum("hed,sd->hes", wk, x)
        n = x.shape[0]
        mask = 1e9 * jnp.triu(jnp.ones((n, n)), 1)
        scores = jnp.einsum("het,hes->hts", q, k) / jnp.sqrt(wq.shape[1]) - mask
        a = jax.nn.softmax(scores, axis=-1)
        return jnp.einsum("hts,hpd,sd->tp", a, wov, x)

    def loss(w: dict[str, Any], tokens: Any, target: Any) -> Any:
        x0 = tokens @ w["W_E"].T
        y1 = x0 + attn(x0, w["W_Q1"], w["W_K1"], w["W_OV1"])
        live = (y1 + attn(y1, w["W_Q2"], w["W_K2"], w["W_OV2"])) @ w["W_U"].T
        return -jnp.sum(target * jax.nn.log_softmax(live, axis=-1))

    return jax.jit(jax.value_and_grad(loss))


def test_transformer_gradient_time(benchmark: Any) -> None:
    """Wall time of the generated loss + all 8 gradients against the generated loss alone, and
    against jax's ``value_and_grad`` (jitted, float64) when jax is installed."""
    from importlib.resources import files

    text = files("symtn.examples").joinpath("transformer_blocks.stn").read_text()
    text += "target: [t, v] const\nloss = -sum(target * log_softmax[v](live))\n"
    text += "".join(f"g{w} = d(loss)/d({w})\n" for w in WEIGHTS)
    prog = _parse(text)
    ns = symtn.compile(prog, ["loss"] + [f"g{w}" for w in WEIGHTS], sizes=TRANSFORMER_SIZES)
    v = _transformer_inputs(prog, ns.all)
    loss, both = _call(ns.loss, v), _call(ns.all, v)
    tl, ta = interleaved([loss, both], 15)
    RESULTS.append(("transformer loss + all 8 gradients / its loss alone (generated, time)", _ms(tl), _ms(ta),
                    f"{ta / tl:.2f}x", "", ""))
    try:
        import jax  # noqa: F401
    except ImportError:
        benchmark.pedantic(both, rounds=3, iterations=1)
        return
    fn = _jax_transformer()
    weights = {w: v[w] for w in WEIGHTS}
    value, grads = fn(weights, v["tokens"], v["target"])
    got = both()
    np.testing.assert_allclose(got[0], float(value), rtol=1e-10)
    for w, g in zip(WEIGHTS, got[1:], strict=True):
        np.testing.assert_allclose(g, np.asarray(grads[w]), rtol=1e-7, atol=1e-9, err_msg=w)
    def ref() -> list[Any]:
        out = fn(weights, v["tokens"], v["target"])
        return [x.block_until_ready() for x in jax.tree_util.tree_leaves(out)]

    tj, ts = interleaved([ref, both], 15)
    case = "transformer loss + all 8 gradients, generated numpy vs jax value_and_grad (jit)"
    RESULTS.append((case, _ms(tj), _ms(ts), f"{ts / tj:.2f}x", "", ""))
    benchmark.pedantic(both, rounds=3, iterations=1)
