"""Reverse-mode gradients (symtn.lower.backprop): values against finite differences, numpy
backpropagation written by hand and the forward-mode derivative; plan costs against the forward
pass; the several ways a user writes one loss."""

from __future__ import annotations

import inspect
from importlib.resources import files
from typing import Any

import numpy as np
import pytest
import sympy as sp

import symtn
from benchmarks.formulations import MLP_FORMS, MLP_HEAD, mlp_by_hand
from symtn.lower.backprop import forward_mode, gradient, reverse_form
from symtn.lower.codegen import generate

WEIGHTS = ["W_E", "W_U", "W_OV1", "W_OV2", "W_Q1", "W_K1", "W_Q2", "W_K2"]
SMALL = {"n_ctx": 5, "d_model": 6, "d_head": 3, "n_head": 2, "d_vocab": 7, "d_mlp": 4}
LARGE = {"n_ctx": 128, "d_model": 256, "d_head": 32, "n_head": 8, "d_vocab": 1024, "d_mlp": 1024}


def _transformer() -> symtn.Program:
    text = files("symtn.examples").joinpath("transformer_blocks.stn").read_text()
    text += "target: [t, v] const\nloss = -sum(target * log_softmax[v](live))\n"
    text += "".join(f"g{w} = d(loss)/d({w})\n" for w in WEIGHTS)
    return symtn.parse(text)


def _inputs(prog: symtn.Program, fn: Any, sizes: dict[str, int], scale: float = 1.0) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(0)
    subs = {sp.Symbol(k, integer=True, positive=True): v for k, v in sizes.items()}
    out = {}
    for p in inspect.signature(fn).parameters:
        shape = [int(s.subs(subs)) for _, s in prog.tensors[p].slots]
        out[p] = rng.normal(size=shape) * scale
    return out


def _finite_difference(
    f: Any, vals: dict[str, np.ndarray], name: str, entries: int = 6
) -> tuple[list[Any], np.ndarray]:
    """Central differences of the scalar ``f(**vals)`` at a few entries of ``vals[name]``."""
    rng = np.random.default_rng(1)
    shape = vals[name].shape
    picks = [tuple(int(rng.integers(n)) for n in shape) for _ in range(entries)]
    out = []
    for idx in picks:
        plus, minus = dict(vals), dict(vals)
        plus[name], minus[name] = vals[name].copy(), vals[name].copy()
        plus[name][idx] += 1e-6
        minus[name][idx] -= 1e-6
        out.append((float(f(**plus)) - float(f(**minus))) / 2e-6)
    return picks, np.array(out)


def test_transformer_gradients_match_finite_differences_and_forward_mode() -> None:
    prog = _transformer()
    names = ["loss"] + [f"g{w}" for w in WEIGHTS]
    ns = symtn.compile(prog, names, sizes=SMALL)
    vals = _inputs(prog, ns.all, SMALL)
    out = dict(zip(names, ns.all(**vals), strict=True))
    loss = symtn.compile(prog, ["loss"], sizes=SMALL)
    for w in WEIGHTS:
        picks, fd = _finite_difference(loss, vals, w)
        got = np.array([out[f"g{w}"][i] for i in picks])
        np.testing.assert_allclose(got, fd, rtol=1e-5, atol=1e-6, err_msg=w)
    # the derivative as diff wrote it (a sum over paths) agrees where it is finite
    with forward_mode():
        for w in ["W_E", "W_U", "W_OV1", "W_OV2"]:
            want = symtn.evaluate(prog.node(f"g{w}"), vals, order=prog.order(f"g{w}"), sizes=SMALL)
            np.testing.assert_allclose(out[f"g{w}"], want, rtol=1e-9, atol=1e-9, err_msg=w)


def test_transformer_gradients_stay_finite_where_the_path_sum_overflows() -> None:
    """Attention logits in the hundreds: the sum over paths evaluates exp of the logits and gives
    nan; the backward sweep reads the stable softmax and stays finite (and right)."""
    prog = _transformer()
    fn = symtn.compile(prog, ["gW_Q1"], sizes=SMALL)
    vals = _inputs(prog, fn, SMALL, scale=4.0)
    got = fn(**vals)
    assert np.isfinite(got).all()
    picks, fd = _finite_difference(symtn.compile(prog, ["loss"], sizes=SMALL), vals, "W_Q1")
    np.testing.assert_allclose([got[i] for i in picks], fd, rtol=1e-4, atol=1e-4)
    evaluated = symtn.evaluate(prog.node("gW_Q1"), vals, order=prog.order("gW_Q1"), sizes=SMALL)
    np.testing.assert_allclose(evaluated, got, rtol=1e-9, atol=1e-9)


def test_all_transformer_gradients_cost_at_most_four_forward_passes() -> None:
    """FLOPs from the plan (not timed), the sizes of benchmarks/test_bench_formulations.py."""
    prog = _transformer()
    names = ["loss"] + [f"g{w}" for w in WEIGHTS]
    _, fnames, steps = generate(prog, names, sizes=LARGE)
    flops = {key: sum(s.flops for s in steps[f]) for key, f in fnames.items()}
    forward = flops["loss"]
    assert flops["*"] <= 4 * forward, flops["*"] / forward
    for w in WEIGHTS:  # one gradient never costs more than all of them together
        assert flops[f"g{w}"] <= flops["*"], w
    largest = max(s.largest for s in steps[fnames["*"]])
    assert largest * 8 <= 8 * 2**20, largest  # no intermediate above the [h, t, s, e]-free 8 MiB


@pytest.mark.parametrize("form", list(MLP_FORMS))
def test_mlp_gradients_every_formulation(form: str) -> None:
    text = MLP_HEAD + MLP_FORMS[form] + "".join(f"g{w} = d(loss)/d({w})\n" for w in ["W1", "b1", "W2", "b2"])
    prog = symtn.parse(text)
    names = ["gW1", "gb1", "gW2", "gb2"]
    ns = symtn.compile(prog, names)
    rng = np.random.default_rng(2)
    for batch in (3, 8):  # shape-generic: two batch sizes, large logits
        v = {"X": rng.normal(size=(batch, 5)) * 30, "Y": np.eye(4)[rng.integers(0, 4, batch)],
             "W1": rng.normal(size=(6, 5)), "b1": rng.normal(size=6),
             "W2": rng.normal(size=(4, 6)) * 40, "b2": rng.normal(size=4)}
        want = mlp_by_hand(v)
        got = dict(zip(names, ns.all(**{p: v[p] for p in inspect.signature(ns.all).parameters}), strict=True))
        for w in ["W1", "b1", "W2", "b2"]:
            np.testing.assert_allclose(got[f"g{w}"], want[w], rtol=1e-9, atol=1e-10, err_msg=f"{form} {w}")


def test_mlp_formulations_plan_alike() -> None:
    """The same gradients, written four ways, cost the same FLOPs within 1.2x."""
    sizes = {"batch": 512, "pixel": 256, "hidden": 128, "cls": 10}
    costs = {}
    for form, body in MLP_FORMS.items():
        text = MLP_HEAD + body + "".join(f"g{w} = d(loss)/d({w})\n" for w in ["W1", "b1", "W2", "b2"])
        prog = symtn.parse(text)
        _, fnames, steps = generate(prog, ["gW1", "gb1", "gW2", "gb2"], sizes=sizes)
        costs[form] = sum(s.flops for s in steps[fnames["*"]])
    assert max(costs.values()) <= 1.2 * min(costs.values()), costs


def test_python_api_gradient_is_reverse_mode() -> None:
    x = symtn.tensor("x", i=4)
    A = symtn.tensor("A", i=4, j=4)
    f = symtn.sum(symtn.exp(A @ x.rename(i="j")))  # a scalar
    g = symtn.diff(f, A)
    assert reverse_form(g) is not None
    rng = np.random.default_rng(3)
    v = {"x": rng.normal(size=4), "A": rng.normal(size=(4, 4))}
    e = np.exp(v["A"] @ v["x"])
    np.testing.assert_allclose(symtn.evaluate(g, v), np.outer(e, v["x"]), rtol=1e-12)
    direct = gradient(f, A, ("i", "j"))
    np.testing.assert_allclose(symtn.evaluate(direct, v, order=("i", "j")), np.outer(e, v["x"]), rtol=1e-12)
    # a Jacobian (non-scalar f) keeps the forward form
    assert reverse_form(symtn.diff(A @ x.rename(i="j"), x)) is None


def test_frozen_and_max_and_opaque_bubbles() -> None:
    text = """
    dim n = 4, m = 3
    W: [n, m]
    x: [m] const
    loss = sum(frozen(W @ x) * (W @ x)) + max[n](tanh(W @ x))
    g = d(loss)/d(W)
    """
    prog = symtn.parse(text)
    rng = np.random.default_rng(4)
    v = {"W": rng.normal(size=(4, 3)), "x": rng.normal(size=3)}
    u = v["W"] @ v["x"]
    onehot = np.eye(4)[np.argmax(np.tanh(u))]
    want = np.outer(u + onehot * (1 - np.tanh(u) ** 2), v["x"])
    got = symtn.evaluate(prog.node("g"), v, order=prog.order("g"))
    np.testing.assert_allclose(got, want, rtol=1e-12)
    np.testing.assert_allclose(symtn.compile(prog, ["g"])(v["W"], v["x"]), want, rtol=1e-12)


def test_cli_grad_writes_a_reverse_mode_module(tmp_path: Any) -> None:
    from symtn.cli import main

    path = files("symtn.examples").joinpath("digits_mlp.stn")
    out = tmp_path / "grads.py"
    assert main(["grad", str(path), "--of", "loss", "--wrt", "W1,b1,W2,b2", "-o", str(out)]) == 0
    text = out.read_text()
    ns: dict[str, Any] = {}
    exec(compile(text, str(out), "exec"), ns)  # noqa: S102
    rng = np.random.default_rng(5)
    v = {"X": rng.normal(size=(9, 64)), "Y": np.eye(10)[rng.integers(0, 10, 9)],
         "W1": rng.normal(size=(32, 64)) * 0.3, "b1": rng.normal(size=32),
         "W2": rng.normal(size=(10, 32)), "b2": rng.normal(size=10)}
    fn = next(f for k, f in ns.items() if k.startswith("loss_and_d_loss"))
    got = fn(**{p: v[p] for p in inspect.signature(fn).parameters})
    want = mlp_by_hand(v)
    for w, a in zip(["W1", "b1", "W2", "b2"], got[1:], strict=True):
        np.testing.assert_allclose(a, want[w], rtol=1e-9, atol=1e-12, err_msg=w)


def _every_gradient_binding() -> list[Any]:
    from tests.test_codegen import EXAMPLES

    out = []
    for path in EXAMPLES:
        prog = symtn.load(path)
        names = [n for n, node in prog.bindings.items() if reverse_form(node) is not None]
        if names:
            out.append(pytest.param(path, names, id=path.stem))
    return out


@pytest.mark.parametrize(("path", "names"), _every_gradient_binding())
def test_every_example_gradient_agrees_with_the_path_sum(path: Any, names: list[str]) -> None:
    """Each derivative of a scalar in the bundled examples and the shared corpus: the backward
    sweep equals the derivative as diff wrote it, evaluated at two sizes."""
    from tests.test_codegen_generic import _example_inputs

    prog = symtn.load(path)
    checked = 0
    for size in (3, 4):
        sizes, vals = _example_inputs(prog, size)
        for name in names:
            node = prog.bindings[name]
            try:
                with forward_mode():
                    want = symtn.evaluate(node, vals, order=prog.order(name), sizes=sizes)
            except symtn.SymtnError as err:  # an opaque function has no kernel in either form
                assert err.code in ("E300", "E400"), err
                continue
            got = symtn.evaluate(node, vals, order=prog.order(name), sizes=sizes)
            ok = np.isfinite(want)
            np.testing.assert_allclose(got[ok], want[ok], rtol=1e-8, atol=1e-10, err_msg=name)
            checked += 1
    assert checked, names


def test_simplified_gradient_keeps_the_sweep() -> None:
    x = symtn.tensor("x", i=3)
    A = symtn.tensor("A", i=3, j=3)
    g = symtn.simplify(symtn.diff(symtn.sum(symtn.tanh(A @ x.rename(i="j"))), A))
    assert reverse_form(g) is not None
    rng = np.random.default_rng(6)
    v = {"x": rng.normal(size=3), "A": rng.normal(size=(3, 3))}
    want = np.outer(1 - np.tanh(v["A"] @ v["x"]) ** 2, v["x"])
    np.testing.assert_allclose(symtn.evaluate(g, v, order=("i", "j")), want, rtol=1e-12)
