"""Path expansion helpers: labelled terms that sum to the model, ranking, per-head split."""

from __future__ import annotations

import numpy as np
import pytest

import symtn
from symtn.interp import open_heads, paths, rank_paths
from symtn.ir.nodes import Node
from symtn.ir.walk import tensors

MODEL = """
dim pos, dm, vocab, heads
leg t, s, u : pos
leg a, b, c : dm
leg tok, out : vocab
leg h1, h2, h3 : heads
X: [t, tok] const
W_E: [a, tok]
W_U: [out, a]
A1: [h1, t, s] const
A2: [h2, t, s] const
A3: [h3, t, s] const
OV1: [h1, a, b]
OV2: [h2, a, b]
OV3: [h3, a, b]
r0 = W_E @ X
r1 = r0 + A1 @ OV1 @ r0[t -> s, a -> b]
r2 = r1 + A2 @ OV2 @ r1[t -> s, a -> b]
r3 = r2 + A3 @ OV3 @ r2[t -> s, a -> b]
logits2 = W_U @ r2
logits3 = W_U @ r3
"""

SIZES = {"pos": 5, "dm": 4, "vocab": 7, "heads": 3}


@pytest.fixture(scope="module")
def model() -> tuple[symtn.Program, dict[str, np.ndarray]]:
    rng = np.random.default_rng(3)
    n, d, v, h = SIZES["pos"], SIZES["dm"], SIZES["vocab"], SIZES["heads"]
    values = {"X": np.eye(v)[rng.integers(0, v, n)], "W_E": rng.standard_normal((d, v)),
              "W_U": rng.standard_normal((v, d))}
    for k in (1, 2, 3):
        a = rng.random((h, n, n)) * np.tril(np.ones((n, n)))
        values[f"A{k}"] = a / a.sum(axis=2, keepdims=True)
        values[f"OV{k}"] = rng.standard_normal((h, d, d)) / 2
    return symtn.parse(MODEL), values


def _eval(node: Node, values: dict[str, np.ndarray]) -> np.ndarray:
    return symtn.evaluate(node, values, order=("out", "t"))


def test_two_layer_terms_and_sum(model: tuple[symtn.Program, dict[str, np.ndarray]]) -> None:
    prog, values = model
    logits = prog.bindings["logits2"]
    ps = paths(logits)
    assert sorted(p.label for p in ps) == ["direct", "head A1", "head A2", "virtual head A1->A2"]
    total = sum(_eval(p.node, values) for p in ps)
    np.testing.assert_allclose(total, _eval(logits, values), rtol=1e-10, atol=1e-10)
    virtual = next(p for p in ps if p.patterns == ("A1", "A2"))
    names = {t.name for t in tensors(virtual.term)}
    assert names == {"X", "W_E", "W_U", "A1", "A2", "OV1", "OV2"}


def test_three_layer_has_all_subsets(model: tuple[symtn.Program, dict[str, np.ndarray]]) -> None:
    prog, values = model
    ps = paths(prog.bindings["logits3"])
    assert len(ps) == 8  # every subset of the three layers, in layer order
    assert {p.patterns for p in ps} == {(), ("A1",), ("A2",), ("A3",), ("A1", "A2"), ("A1", "A3"),
                                        ("A2", "A3"), ("A1", "A2", "A3")}
    total = sum(_eval(p.node, values) for p in ps)
    np.testing.assert_allclose(total, _eval(prog.bindings["logits3"], values), rtol=1e-10, atol=1e-10)


def test_rank_paths(model: tuple[symtn.Program, dict[str, np.ndarray]]) -> None:
    prog, values = model
    logits = prog.bindings["logits2"]
    ranked = rank_paths(logits, values)
    assert len(ranked) == 4
    assert [r.norm for r in ranked] == sorted((r.norm for r in ranked), reverse=True)
    assert sum(r.share for r in ranked) == pytest.approx(1.0)
    ref = symtn.evaluate(logits, values, order=logits.legs)  # values come in the expression's leg order
    np.testing.assert_allclose(sum(r.value for r in ranked), ref, atol=1e-10)


def test_rank_paths_per_head(model: tuple[symtn.Program, dict[str, np.ndarray]]) -> None:
    prog, values = model
    logits = prog.bindings["logits2"]
    ranked = rank_paths(logits, values, per_head=True)
    h = SIZES["heads"]
    assert len(ranked) == 1 + h + h + h * h
    assert sum(r.share for r in ranked) == pytest.approx(1.0)
    # one head of layer 1 by hand: A1[h] @ X @ W_E^T OV1[h]^T W_U^T
    x, a1 = values["X"], values["A1"]
    for r in ranked:
        if r.path.patterns == ("A1",):
            k = r.heads["A1"]
            want = values["W_U"] @ values["OV1"][k] @ values["W_E"] @ x.T @ a1[k].T  # [out, t]
            got = r.value if logits.legs == ("out", "t") else r.value.T
            np.testing.assert_allclose(got, want, atol=1e-10)
    assert {tuple(sorted(r.heads)) for r in ranked} == {(), ("A1",), ("A2",), ("A1", "A2")}


def test_open_heads_sums_back(model: tuple[symtn.Program, dict[str, np.ndarray]]) -> None:
    prog, values = model
    virtual = next(p for p in paths(prog.bindings["logits2"]) if len(p.patterns) == 2)
    opened, legs = open_heads(virtual.term, virtual.patterns)
    assert sorted(name for name, _ in legs) == ["A1", "A2"]
    v = symtn.evaluate(opened, values, order=("out", "t", *(leg for _, leg in legs)))
    np.testing.assert_allclose(v.sum(axis=(2, 3)), _eval(virtual.term, values), atol=1e-10)
    assert v.shape[2:] == (SIZES["heads"], SIZES["heads"])
