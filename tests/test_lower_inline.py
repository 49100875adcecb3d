"""One network per contraction (issue 11): the same computation written several ways.

Each formulation of ``benchmarks/formulations.py`` (bilinear inner product, logistic Hessian, MPS
overlap) is evaluated and compiled at small sizes and compared with an independent ``np.einsum``
or closed form; plans are checked never to hold an intermediate larger than the best flat plan of
the whole network needs (the evaluator refuses, by E310, any value above its memory limit, so a
limit just above the flat plan's largest intermediate proves no nested product was materialised).
"""

from __future__ import annotations

import inspect
import warnings
from typing import Any

import numpy as np
import opt_einsum
import pytest

import symtn
from benchmarks import formulations as F
from symtn.lower.codegen import generate
from symtn.lower.inline import count_uses, flatten

D, H = 6, 10
FLAT_BILINEAR = "ok,ki,kj,ol,li,lj->"


def _parse(src: str) -> symtn.Program:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # W301 on the MPS site legs p1 / p10
        return symtn.parse(src)


def _call(fn: Any, values: dict[str, np.ndarray]) -> Any:
    return fn(*[values[k] for k in inspect.signature(fn).parameters])


def _flat_largest(eq: str, shapes: list[tuple[int, ...]]) -> int:
    """Entries of the largest intermediate of opt_einsum's optimal path for the flat network."""
    _, info = opt_einsum.contract_path(eq, *shapes, shapes=True, optimize="optimal")
    return int(info.largest_intermediate)


def _bilinear_einsum(v: dict[str, np.ndarray]) -> float:
    return float(np.einsum(FLAT_BILINEAR, v["Pa"], v["Wa"], v["Va"], v["Pb"], v["Wb"], v["Vb"]))


@pytest.mark.parametrize("name", list(F.BILINEAR_PROGRAMS))
def test_bilinear_formulations_values(name: str) -> None:
    v = F.bilinear_inputs(D, H, seed=3)
    want = _bilinear_einsum(v)
    prog = _parse(F.BILINEAR_PROGRAMS[name])
    args = F.bilinear_args(name, v)
    got = float(symtn.evaluate(prog["out"], args, sizes={"d": D, "h": H}))
    assert got == pytest.approx(want, rel=1e-10)
    fn = symtn.compile(prog, ["out"], sizes={"d": D, "h": H})
    assert float(_call(fn, args)) == pytest.approx(want, rel=1e-10)


@pytest.mark.parametrize("name", list(F.BILINEAR_PROGRAMS))
def test_bilinear_plan_never_larger_than_flat(name: str) -> None:
    d, h = 16, 4  # materialising [o, i, j] (d^3 = 4096) would dwarf the flat plan's needs
    shapes = [(d, h), (h, d), (h, d), (d, h), (h, d), (h, d)]
    flat = _flat_largest(FLAT_BILINEAR, shapes)
    assert flat < d**3
    prog = _parse(F.BILINEAR_PROGRAMS[name])
    _, fnames, steps = generate(prog, ["out"], sizes={"d": d, "h": h})
    assert max(s.largest for s in steps[fnames["out"]]) <= flat
    # the evaluator: a limit just above the flat plan's largest intermediate (E310 otherwise)
    v = F.bilinear_args(name, F.bilinear_inputs(d, h, seed=4))
    limit = 8 * max(flat, d * h) + 64
    got = float(symtn.evaluate(prog["out"], v, sizes={"d": d, "h": h}, memory_limit=limit))
    assert got == pytest.approx(_bilinear_einsum(F.bilinear_inputs(d, h, seed=4)), rel=1e-10)


def test_bilinear_issue_sizes_plan_without_materialising() -> None:
    """The issue's case (d = 256, h = 1024): planned, not run, within the default memory limit."""
    prog = _parse(F.BILINEAR_PROGRAMS["bindings, * and ->"])
    _, fnames, steps = generate(prog, ["out"], sizes={"d": 256, "h": 1024})
    st = steps[fnames["out"]]
    assert max(s.largest for s in st) <= 1024 * 1024
    assert sum(s.flops for s in st) <= 4 * 2 * 1024 * 1024 * 256  # three GEMMs and change


@pytest.mark.parametrize("name", list(F.LOGISTIC_PROGRAMS))
def test_logistic_formulations_one_gemm(name: str) -> None:
    n_rows, n = 40, 12
    rng = np.random.default_rng(5)
    X, w = rng.standard_normal((n_rows, n)), rng.standard_normal(n)
    values = {"X": X, "Xt": X.T.copy(), "w": w, "y": (rng.random(n_rows) < 0.5).astype(float)}
    want = np.einsum("bi,b,bj->ij", X, (s := 1 / (1 + np.exp(-(X @ w)))) * (1 - s), X)
    prog = _parse(F.LOGISTIC_PROGRAMS[name])
    got = symtn.evaluate(prog["out"], values, sizes={"b": n_rows, "n": n})
    np.testing.assert_allclose(got, want, rtol=1e-10, atol=1e-12)
    fn = symtn.compile(prog, ["out"], sizes={"b": n_rows, "n": n})
    np.testing.assert_allclose(_call(fn, values), want, rtol=1e-10, atol=1e-12)
    _, fnames, steps = generate(prog, ["out"], sizes={"b": n_rows, "n": n})
    gemm = 2 * n_rows * n * n
    big = [s for s in steps[fnames["out"]] if s.flops >= gemm]
    assert len(big) == 1, [s.equation for s in big]  # X^T D X once, however the terms come out


@pytest.mark.parametrize("name", list(F.mps_programs(3)))
def test_mps_formulations(name: str) -> None:
    sites, chi = 7, 3
    v = F.mps_inputs(sites, chi, seed=6)
    ops, subs = [], []
    label: dict[str, str] = {}
    for k in range(1, sites + 1):
        for t, bond in (("A", "B"), ("B", "C")):
            legs = ([f"{bond}{k - 1}"] if k > 1 else []) + [f"p{k}"] + ([f"{bond}{k}"] if k < sites else [])
            ops.append(v[f"{t}{k}"])
            subs.append([label.setdefault(x, opt_einsum.get_symbol(len(label))) for x in legs])
    want = float(np.einsum(",".join("".join(s) for s in subs) + "->", *ops, optimize="greedy"))
    assert want == pytest.approx(F.mps_overlap(v, sites), rel=1e-10)
    prog = _parse(F.mps_programs(sites)[name])
    sizes = {"chi": chi, "two": 2}
    assert float(symtn.evaluate(prog["out"], v, sizes=sizes)) == pytest.approx(want, rel=1e-10)
    fn = symtn.compile(prog, ["out"], sizes=sizes)
    assert float(_call(fn, v)) == pytest.approx(want, rel=1e-10)
    _, fnames, steps = generate(prog, ["out"], sizes=sizes)
    assert max(s.largest for s in steps[fnames["out"]]) <= 2 * chi * chi  # never a 2^sites state


def test_shared_product_materialised_once() -> None:
    """A product used by two networks is computed once when that is cheaper than inlining it."""
    prog = _parse(
        "dim m = 3, k = 40, n = 4, p = 5\nA: [m, k]\nB: [k, n]\nC: [n, p]\nE: [n, p]\n"
        "S = A @ B\no1 = S @ C\no2 = S @ E\n"
    )
    _, fnames, steps = generate(prog, ["o1", "o2"])
    st = steps[fnames["*"]]
    assert sum(s.flops for s in st) == 2 * 3 * 40 * 4 + 2 * (2 * 3 * 4 * 5)
    rng = np.random.default_rng(8)
    v = {k: rng.standard_normal(s) for k, s in {"A": (3, 40), "B": (40, 4), "C": (4, 5), "E": (4, 5)}.items()}
    out = symtn.compile(prog, ["o1", "o2"]).all(v["A"], v["B"], v["C"], v["E"])
    np.testing.assert_allclose(out[0], v["A"] @ v["B"] @ v["C"], rtol=1e-12)
    np.testing.assert_allclose(out[1], v["A"] @ v["B"] @ v["E"], rtol=1e-12)


def test_flatten_renames_wires_apart_deterministically() -> None:
    prog = _parse(F.BILINEAR_PROGRAMS["nested @"])
    node = prog["out"]
    first = flatten(node.args, lambda f: False)
    assert first == flatten(node.args, lambda f: False)  # same names: plans stay cached
    legs = [leg for f in first for leg in f.legs]
    assert all(not leg.startswith("_") or leg.startswith("__") for leg in legs)
    uses = count_uses([node])
    assert all(n == 1 for n in uses.values())


TRANSFORMER_LOSS = """
target: [t, v] const
loss = -sum(target * log_softmax[v](live))
gW_Q1 = d(loss)/d(W_Q1)
"""


def test_transformer_gradient_reverse_mode_cost() -> None:
    """d(loss)/d(W_Q1) of the bundled 2-layer transformer: a small multiple of the forward FLOPs
    and never the [d, e, t, h, s] Jacobian (issue 11: 35x the forward pass and a 262,144-entry
    intermediate at these sizes before), with the values the evaluator computes."""
    from importlib.resources import files

    text = files("symtn.examples").joinpath("transformer_blocks.stn").read_text() + TRANSFORMER_LOSS
    prog = _parse(text)
    sizes = {"n_ctx": 16, "d_model": 32, "d_head": 8, "n_head": 4, "d_vocab": 20, "d_mlp": 5}
    _, fnames, steps = generate(prog, ["loss"], sizes=sizes)
    forward = steps[fnames["loss"]]
    _, fnames, steps = generate(prog, ["gW_Q1"], sizes=sizes)
    grad = steps[fnames["gW_Q1"]]
    assert sum(s.flops for s in grad) <= 6 * sum(s.flops for s in forward)
    assert max(s.largest for s in grad) <= 4 * max(s.largest for s in forward)
    rng = np.random.default_rng(9)
    values = {}
    for name, t in prog.tensors.items():
        values[name] = rng.standard_normal(tuple(sizes[str(s)] for _, s in t.slots)) * 0.5
    values["tokens"] = np.eye(20)[rng.integers(0, 20, 16)]
    values["target"] = np.eye(20)[rng.integers(0, 20, 16)]
    fn = symtn.compile(prog, ["gW_Q1"], sizes=sizes)
    want = symtn.evaluate(prog["gW_Q1"], values, sizes=sizes, order=prog.order("gW_Q1"))
    np.testing.assert_allclose(_call(fn, values), want, rtol=1e-9, atol=1e-9)


def test_evaluator_groups_transposed_terms() -> None:
    """The evaluator's sum of the softplus Hessian's two networks is one grouped contraction
    (``grouped_sum`` does not give up) and equals ``X^T diag(s(1-s)) X``."""
    from symtn.ir.nodes import Sum
    from symtn.lower.group_eval import grouped_sum
    from symtn.lower.numpy_backend import Evaluator
    from symtn.lower.sizes import bind_sizes

    n_rows, n = 48, 10
    rng = np.random.default_rng(12)
    X, w = rng.standard_normal((n_rows, n)), rng.standard_normal(n)
    values = {"X": X, "w": w, "y": np.zeros(n_rows)}
    node = _parse(F.LOGISTIC_PROGRAMS["softplus minus y @ X @ w"])["out"]
    assert isinstance(node, Sum) and len(node.terms) == 2
    ev = Evaluator(values, bind_sizes(node, values, {}), np.float64)
    ev.plan_roots([node])
    terms = [(ev.coefficient(c), list(t.args)) for c, t in zip(node.coeffs, node.terms, strict=True)]
    got = grouped_sum(ev, terms, node.legs)
    assert got is not None
    np.testing.assert_allclose(got, F.logistic_hessian(X, w), rtol=1e-10, atol=1e-12)
