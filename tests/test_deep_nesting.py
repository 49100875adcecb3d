"""Expressions nested hundreds of levels deep (a loop in the Python API): evaluated,
differentiated and generated, or E015, never a RecursionError; folded rules stay shallow."""

from __future__ import annotations

import numpy as np
import pytest

import symtn
from symtn.ir import depth
from symtn.ir.nodes import Elementwise
from symtn.ir.walk import preorder
from symtn.rewrite.elementwise import MAX_FOLD_DEPTH, call_depth


def _chain(levels: int) -> tuple[symtn.Node, symtn.Node]:
    x = symtn.tensor("x", i=3)
    e = x
    for _ in range(levels):
        e = symtn.tanh(e)
    return x, e


def _by_hand(v: np.ndarray, levels: int) -> tuple[np.ndarray, np.ndarray]:
    """tanh applied ``levels`` times and the derivative of its sum (chain rule)."""
    g = np.ones_like(v)
    for _ in range(levels):
        v = np.tanh(v)
        g = g * (1 - v**2)
    return v, g


def test_a_300_level_chain_evaluates_differentiates_and_generates() -> None:
    x, e = _chain(300)
    v = np.array([0.3, -0.2, 0.9])
    want, dwant = _by_hand(v, 300)
    np.testing.assert_allclose(symtn.evaluate(e, {"x": v}), want, rtol=1e-12)
    g = symtn.diff(symtn.sum(e), x)
    np.testing.assert_allclose(symtn.evaluate(g, {"x": v}), dwant, rtol=1e-10)
    np.testing.assert_allclose(symtn.compile(g)(v), dwant, rtol=1e-10)


def test_folding_keeps_rules_shallow() -> None:
    x, e = _chain(12)
    g = symtn.diff(symtn.sum(e), x)  # folding tanh(tanh(...)) fully took 30 s at 10 levels
    rules = [n.fn for n in preorder(g) if isinstance(n, Elementwise)]
    assert rules and max(call_depth(r) for r in rules) <= MAX_FOLD_DEPTH
    v = np.array([0.3, -0.2, 0.9])
    np.testing.assert_allclose(symtn.evaluate(g, {"x": v}), _by_hand(v, 12)[1], rtol=1e-12)


def test_past_the_limit_is_e015(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(depth, "RECURSION_LIMIT", 1100)
    _, e = _chain(400)
    with pytest.raises(symtn.SymtnError) as info:
        symtn.evaluate(e, {"x": np.ones(3)})
    assert info.value.code == "E015"
    assert "nested too deeply" in str(info.value)
