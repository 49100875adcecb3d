"""User rewrite rules inside ``simplify``: cost against the built-in rules alone, same run.

Case: the gradients of an L-layer tanh net by every weight (``programs.tanh_net``), simplified
by a fresh ``Simplifier`` (no cross-call cache, so every round does the whole work) with the
built-in rules only (the reference) and with user rules added:

- ``sech``: ``1 - tanh(x)^2 => cosh(x)^-2`` fires once per layer of every gradient;
- ``idle``: two rules that match nowhere (the pure cost of trying rules at every node).

Each case first asserts that the rewritten gradient has the reference's value (random inputs)
and that ``sech`` fired, then reports the median ratio ``with rules / built-in only``.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

import symtn
from benchmarks import programs as P
from benchmarks.conftest import RESULTS, interleaved
from benchmarks.test_bench_codegen import _ms
from symtn.rewrite.rule_set import RuleSet
from symtn.rewrite.rules import rule_table
from symtn.rewrite.simplify import Simplifier

RULES = {
    "sech": "rule sech(x: [o]): 1 - tanh(x)^2 => cosh(x)^-2\n",
    "idle": "rule idle(x: [o]): sum[o](softmax[o](x)) => 1\nrule idle(x: [o]): -max[o](-x) => min[o](x)\n",
}


@pytest.mark.parametrize("which", sorted(RULES))
@pytest.mark.parametrize("layers", [4, 8])
def test_simplify_with_user_rules(benchmark: Any, which: str, layers: int) -> None:
    prog = symtn.parse(P.tanh_net(layers) + RULES[which])
    rules = prog.rules[which]
    nodes = [prog.bindings[f"g{k}"] for k in range(1, layers + 1)]

    def builtin() -> list[symtn.Node]:
        s = Simplifier(rule_table())
        return [s(n) for n in nodes]

    def with_rules() -> list[symtn.Node]:
        s = Simplifier(RuleSet(rules).extend(rule_table()))
        return [s(n) for n in nodes]

    ref, got = builtin(), with_rules()
    if which == "sech":
        assert all("cosh" in str(g) for g in got)
    else:
        assert all(symtn.is_isomorphic(a, b) for a, b in zip(ref, got, strict=True))
    rng = np.random.default_rng(0)
    values = {"x": rng.standard_normal(16)}
    values |= {f"W{k}": rng.standard_normal((16, 16)) / 4 for k in range(1, layers + 1)}
    for a, b in zip(ref, got, strict=True):
        want = symtn.evaluate(a, values, order=("o", "i"))
        np.testing.assert_allclose(symtn.evaluate(b, values, order=("o", "i")), want, rtol=1e-9, atol=1e-12)
    tr, tg = interleaved([builtin, with_rules], rounds=11)
    case = f"simplify {layers}-layer tanh-net gradients, rules '{which}' (reference: built-in rules only)"
    RESULTS.append((case, _ms(tr), _ms(tg), f"{tg / tr:.2f}x"))
    benchmark.extra_info.update(builtin_s=tr, rules_s=tg, ratio=tg / tr)
    benchmark.group = "user rules"
    benchmark.pedantic(with_rules, rounds=3, iterations=1)
