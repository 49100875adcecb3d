"""Contraction paths (symtn.lower.paths): opt_einsum for small networks, cotengra for large ones."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import opt_einsum
import pytest

import symtn
from symtn.cli import main
from symtn.ir import algebra as A
from symtn.ir.nodes import Delta, Product
from symtn.lower import paths
from symtn.lower.numpy_backend import Evaluator
from symtn.lower.plan import plan_network
from symtn.rewrite.rules import flat_factors


def _bilinear(d: int, h: int, tag: str) -> symtn.Node:
    """B[o, i, j] = P[o, k] W[k, i] V[k, j]: the full tensor of a bilinear layer (k a hyperedge)."""
    p = A.tensor(f"P{tag}", ("o", d), ("k", h))
    w = A.tensor(f"W{tag}", ("k", h), ("i", d))
    v = A.tensor(f"V{tag}", ("k", h), ("j", d))
    return p @ (w * v)


def _inner(d: int, h: int) -> Product:
    """<B_a, B_b> as one flat network: six dense tensors joined by two copy tensors."""
    return Product(*flat_factors(Product(_bilinear(d, h, "a"), _bilinear(d, h, "b"))))


def _plan(net: Product) -> tuple:
    return Evaluator({}, {}, np.float64)._plan(net.args, ())


def test_plan_never_materialises_a_copy_tensor() -> None:
    net = _inner(4, 6)
    assert any(isinstance(f, Delta) for f in net.args)
    factors, plan, _, contraction = _plan(net)
    assert len(plan.operands) == 6  # the six dense tensors, no delta operand
    assert not any(isinstance(factors[op.index], Delta) for op in plan.operands)
    assert contraction is not None and len(contraction.equation.split("->")[0].split(",")) == 6
    # the plan_network contract itself: deltas become shared labels
    direct = plan_network(net.args, (), lambda s: int(s))
    assert all(not isinstance(net.args[op.index], Delta) for op in direct.operands)


def test_cotengra_beats_opt_einsum_default_on_hyperedges() -> None:
    d, h = 256, 1024  # planning only: no arrays of these sizes are made
    _, plan, _, c = _plan(_inner(d, h))
    assert c is not None and c.method.startswith("cotengra") and c.hyperedges >= 2
    shapes = [op.shape for op in plan.operands]
    _, default = opt_einsum.contract_path(c.equation, *shapes, shapes=True)  # opt_einsum "auto"
    assert c.flops <= default.opt_cost
    # the Gram formula: three [h, d] x [d, h] products and two Hadamard products of [h, h]
    gram = 3 * 2 * h * d * h + 3 * h * h
    assert c.flops <= 1.1 * gram < default.opt_cost / 50
    assert c.largest == h * h


def test_bilinear_inner_product_value() -> None:
    d, h = 5, 7
    rng = np.random.default_rng(0)
    vals = {f"{n}{t}": rng.standard_normal(s) for t in "ab" for n, s in (("P", (d, h)), ("W", (h, d)),
                                                                          ("V", (h, d)))}
    got = symtn.evaluate(_inner(d, h), vals)
    ba = np.einsum("ok,ki,kj->oij", vals["Pa"], vals["Wa"], vals["Va"])
    bb = np.einsum("ok,ki,kj->oij", vals["Pb"], vals["Wb"], vals["Vb"])
    np.testing.assert_allclose(got, np.sum(ba * bb), rtol=1e-12)


def test_threshold(monkeypatch: pytest.MonkeyPatch) -> None:
    # three matrices, hyperedge or not: opt_einsum's exhaustive search
    c = paths.choose([(0, 1), (1, 2), (2, 3)], (0, 3), {0: 2, 1: 3, 2: 4, 3: 5})
    assert c.method == "opt_einsum optimal"
    # six matrices in a chain, no hyperedge: opt_einsum "auto"
    chain = [(i, i + 1) for i in range(6)]
    sizes = {i: 3 + i for i in range(7)}
    assert paths.choose(chain, (0, 6), sizes).method == "opt_einsum auto"
    # above EXACT_MAX operands: a cheap network stays on opt_einsum's greedy path...
    k = paths.EXACT_MAX + 4
    long = [(i, i + 1) for i in range(k)]
    sizes = {i: 2 + (i % 3) for i in range(k + 1)}
    assert paths.choose(long, (0, k), sizes).method == "opt_einsum greedy"
    # ... an expensive one goes to cotengra's hyper-optimiser (kept unless greedy is cheaper)
    monkeypatch.setattr(paths, "HYPER_MIN_FLOPS", 0)
    monkeypatch.setattr(paths, "_CACHE", {})
    c = paths.choose(long, (0, k), sizes)
    greedy, _ = opt_einsum.contract_path(c.equation, *c.shapes, shapes=True, optimize="greedy")
    _, info = opt_einsum.contract_path(c.equation, *c.shapes, shapes=True, optimize=greedy)
    assert c.method == "cotengra hyper" and c.flops <= info.opt_cost
    # five operands sharing one hyperedge: cotengra's exact search
    star = [(0, i) for i in range(1, 6)]
    c = paths.choose(star, (0,), {i: 4 for i in range(6)})
    assert c.method in ("cotengra optimal", "opt_einsum greedy") and c.hyperedges == 1


def test_long_chain_value() -> None:
    k = paths.OPT_EINSUM_MAX + 6
    mats = [A.tensor(f"M{i}", (f"l{i}", 3), (f"l{i + 1}", 3)) for i in range(k)]
    rng = np.random.default_rng(1)
    vals = {f"M{i}": rng.standard_normal((3, 3)) / 2 for i in range(k)}
    want = vals["M0"]
    for i in range(1, k):
        want = want @ vals[f"M{i}"]
    got = symtn.evaluate(A.contract(*mats), vals, order=["l0", f"l{k}"])
    np.testing.assert_allclose(got, want, rtol=1e-10)


def test_cli_plan_reports_flops_bytes_and_method(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    prog = tmp_path / "p.stn"
    prog.write_text(
        "dim n = 50\nA: [i: n, j: n]\nB: [j: n, k: n]\nC: [k: n, l: n]\ny = A @ B @ C\n"
    )
    assert main(["plan", str(prog), "y"]) == 0
    out = capsys.readouterr().out
    assert "opt_einsum" in out and "flops" in out
    assert f"{50 * 50 * 8:,} bytes" in out  # the largest intermediate: one [n, n] matrix


BILINEAR_STN = """dim d = 256
dim h = 1024
Wa, Wb: [k: h, i: d]
Va, Vb: [k: h, j: d]
Pa, Pb: [o: d, k: h]
s = Pa[o, k] @ Wa[k1, i] @ Va[k2, j] @ delta[k, k1, k2] @ Pb[o, l] @ Wb[l1, i] @ Vb[l2, j] @ delta[l, l1, l2]
"""


def test_cli_plan_of_the_bilinear_inner_product(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    prog = tmp_path / "bilinear.stn"
    prog.write_text(BILINEAR_STN)
    assert main(["plan", str(prog), "s"]) == 0
    out = capsys.readouterr().out
    assert "1 contraction(s)" in out and "cotengra" in out
    h = 1024
    assert f"largest intermediate {h * h:,} entries ({h * h * 8:,} bytes)" in out
    flops = int(out.split("total: ")[1].split(" flops")[0].replace(",", ""))
    assert flops <= 1.1 * (3 * 2 * h * 256 * h + 3 * h * h)  # the Gram formula's FLOPs
