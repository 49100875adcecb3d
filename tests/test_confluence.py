"""Every built-in rule, applied on its own, keeps value and free legs; the rule table is confluent
(seeded shuffles of the rule order reach the same canonical form); deep networks stay small."""

from __future__ import annotations

import random
from collections import Counter
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest
import sympy as sp

from symtn.ir import algebra as al
from symtn.ir import matrix
from symtn.ir.nodes import Frozen, Node, Product, Sum
from symtn.ir.walk import preorder
from symtn.lower import evaluate as symtn_evaluate
from symtn.rewrite import is_isomorphic, simplify
from symtn.rewrite.canonical import signed_match
from symtn.rewrite.rules import PREPARE, rule_table
from symtn.rewrite.simplify import Simplifier
from tests.refeval import align, evaluate, random_values
from tests.rewrite_gen import POOL, SIZES, N, gen

Rule = Callable[[Any], "Node | None"]


def same_value(a: Node, b: Node, values: dict[str, np.ndarray]) -> bool:
    va, vb = evaluate(a, values, SIZES), evaluate(b, values, SIZES)
    return bool(np.allclose(va, align(b, vb, a.legs), equal_nan=True))


def _pool(name: str) -> Node:
    return next(t for t in POOL if t.name == name)


def crafted() -> list[Node]:
    """Inputs for rules random expressions rarely reach (facts, powers, reshapes)."""
    x, s, k, w, t = _pool("v"), _pool("S"), _pool("K"), _pool("W"), _pool("T")
    a = _pool("A")
    return [
        al.hadamard(x, x),
        al.hadamard(al.elementwise(al.X0**2, x), al.elementwise(al.X0**-3, x)),
        al.divide(x, x),
        al.contract(al.hadamard(x, x), x),  # x^2 @ x: wired_power
        al.contract(al.elementwise(al.X0**2, a), al.ones(a.sig)),  # sum(A^2): summed_square
        al.rename(s, {"p": "q", "q": "p"}),
        al.contract(al.rename(k, {"p": "a", "q": "b"}), al.rename(s, {"p": "a", "q": "b"})),
        al.contract(w, al.rename(w, {"k": "k2"})),
        al.contract(al.merge(t, ["p", "q"], "pq"), al.rename(al.merge(t, ["p", "q"], "pq"), {"r": "r2"})),
        al.split(al.merge(a, ["p", "q"], "pq"), "pq", [("c", N), ("d", N)]),
        Frozen(Frozen(a)),
        al.elementwise(al.X0**-2, al.add(al.ones(a.sig), al.elementwise(sp.exp(-al.X0), a))),
        *matrix_cases(a),
        al.elementwise(sp.Abs(al.X0), al.tensor("P", ("p", N), positive=True)),  # domain_facts
    ]


def matrix_cases(a: Node) -> list[Node]:
    """det / inv inputs for the matrix rules (``a`` a square matrix)."""
    i, j = a.legs
    inv_a = matrix.inv(a)
    return [
        matrix.inv(inv_a),  # inv_inv
        al.contract(a, al.rename(inv_a, {i: "z"})),  # inv_cancel
        matrix.det(al.contract(a, al.rename(a, {i: j, j: "z"})), [i, "z"]),  # det_product
        matrix.det(a, [j, i]),  # matrix_leg_order
        matrix.det(al.scale(a, 2)),  # matrix_scalar
        matrix.inv(al.contract(a, al.rename(a, {i: j, j: "z"})), [i, "z"]),  # inv_product
        matrix.logdet(al.delta(i, j, size=a.size(i))),  # matrix_identity
        matrix.inv(al.delta(i, j, size=a.size(i))),  # matrix_identity
    ]


def corpus() -> list[Node]:
    return [gen(random.Random(seed), 4) for seed in range(1000, 1080)] + crafted()


def all_rules() -> dict[str, tuple[type[Node], Rule]]:
    """Every rule of the default and the expand tables, by name (the bounded ``flatten_sum`` of
    ``expand`` is listed as ``flatten_sum[expand]``)."""
    out: dict[str, tuple[type[Node], Rule]] = {}
    for tag, table in (("", rule_table()), ("[expand]", rule_table(expand=True, max_terms=10**6))):
        for kind, rules in table.items():
            for r in rules:
                name = r.__name__ if all(r is not q for _, q in out.values()) else None
                if name is not None:
                    out[name if name not in out else name + tag] = (kind, r)
    return out


def seen_by_simplify(e: Node, expand: bool) -> list[Node]:
    """Every node ``simplify`` hands to a rule while simplifying ``e`` (intermediate forms)."""
    seen: dict[Node, None] = {}

    def spy(rule: Rule) -> Rule:
        def run(node: Node) -> Node | None:
            seen[node] = None
            return rule(node)

        return run

    table = {k: tuple(spy(r) for r in v) for k, v in rule_table(expand=expand).items()}
    Simplifier(table, None, prepare={k: spy(r) for k, r in PREPARE.items()})(e)
    return list(seen)


def test_every_rule_alone_keeps_value_and_legs() -> None:
    """Each rule of the table, applied alone to every node simplify or expand meets (raw input
    and intermediate forms) and checked wherever it fires."""
    fired: Counter[str] = Counter()
    rules = all_rules()
    for e in corpus():
        values = random_values(e, SIZES, 7)
        nodes = list(preorder(e)) + seen_by_simplify(e, False) + seen_by_simplify(e, True)
        for node in dict.fromkeys(nodes):
            for name, (kind, rule) in rules.items():
                if type(node) is not kind:
                    continue
                out = rule(node)
                if out is None or out is node:
                    continue
                fired[name] += 1
                assert out.sizes == node.sizes, f"{name} changed legs: {node} -> {out}"
                assert same_value(node, out, values), f"{name}: {node} -> {out}"
    never = set(rules) - set(fired) - {"inline_frozen"}
    assert not never, f"rules that never fired: {sorted(never)}"


def shuffled(seed: int) -> Simplifier:
    rng = random.Random(seed)
    table = {}
    for kind, rules in rule_table().items():
        order = list(rules)
        rng.shuffle(order)
        table[kind] = tuple(order)
    prepare = PREPARE if rng.random() < 0.5 else {}
    return Simplifier(table, None, prepare=prepare)


@pytest.mark.parametrize("seed", range(60))
def test_rule_order_does_not_change_the_canonical_form(seed: int) -> None:
    e = gen(random.Random(seed), 4)
    reference = Simplifier(rule_table())(e)
    values = random_values(e, SIZES, seed)
    for k in range(3):
        out = shuffled(seed * 10 + k)(e)
        assert out.sizes == e.sizes
        assert same_value(e, out, values), f"seed {seed}: {e} -> {out}"
        assert is_isomorphic(reference, out), f"seed {seed}/{k}: {reference} vs {out}"


@pytest.mark.parametrize("seed", range(6))
def test_crafted_inputs_are_confluent(seed: int) -> None:
    for e in crafted():
        reference = Simplifier(rule_table())(e)
        out = shuffled(seed)(e)
        assert signed_match(reference, out) == 1, f"{e}: {reference} vs {out}"


# ------------------------------------------------------------------ deep networks
def test_200_deep_chain_of_sums_simplifies_linearly_and_does_not_expand() -> None:
    """((A0 + B0) @ (A1 + B1) @ ... 200 deep): 2^200 paths; simplify keeps 400 occurrences."""
    legs = [f"l{k}" for k in range(201)]
    net: Node = al.delta(legs[0], size=N)
    for k in range(200):
        pair = al.add(
            al.rename(_pool("A"), {"p": legs[k], "q": legs[k + 1]}),
            al.rename(_pool("B"), {"p": legs[k], "q": legs[k + 1]}),
        )
        net = Product(net, pair)
    out = simplify(net)
    tensors = [n for n in preorder(out) if type(n).__name__ == "Tensor"]
    assert len(tensors) == 400
    assert out.legset == {"l200"}
    assert simplify(out) is out
    # value: the ones vector times (A + B)^200, scaled to stay finite
    rng = np.random.default_rng(0)
    a, b = rng.random((3, 3)) / 6, rng.random((3, 3)) / 6
    want = np.ones(3) @ np.linalg.matrix_power(a + b, 200)
    got = symtn_evaluate(out, {"A": a, "B": b}, sizes=SIZES)
    assert np.allclose(got, want, rtol=1e-6, atol=1e-300)


def test_12_layer_network_stays_small() -> None:
    """The gradient of a 12-layer tanh net by its first weight: linear in depth after simplify."""
    from symtn import diff

    n = al.as_size("n")
    h: Node = al.tensor("x", ("i", n))
    w0 = al.tensor("W0", ("o", n), ("i", n))
    for layer in range(12):
        w = al.tensor(f"W{layer}", ("o", n), ("i", n))
        h = al.elementwise(sp.tanh(al.X0), al.rename(al.contract(w, h), {"o": "i"}))
    loss = al.sum_legs(h, ["i"])
    g = simplify(diff(loss, w0))
    size = sum(1 for _ in preorder(g))
    assert size < 40 * 12, size
    # finite differences on two entries of W0
    rng = np.random.default_rng(1)
    values = {f"W{k}": rng.standard_normal((3, 3)) / 2 for k in range(12)}
    values["x"] = rng.standard_normal(3)
    sizes = {"n": 3}
    grad = align(g, evaluate(g, values, sizes), ("o", "i"))
    for o, i in [(0, 1), (2, 0)]:
        eps = 1e-6
        plus = {**values, "W0": values["W0"].copy()}
        minus = {**values, "W0": values["W0"].copy()}
        plus["W0"][o, i] += eps
        minus["W0"][o, i] -= eps
        fd = (evaluate(loss, plus, sizes) - evaluate(loss, minus, sizes)) / (2 * eps)
        assert abs(float(fd) - grad[o, i]) < 1e-6


def test_simplify_never_builds_sums_larger_than_its_input() -> None:
    for seed in range(40):
        e = gen(random.Random(seed), 5)
        out = simplify(e)
        widest_in = max((len(n.terms) for n in preorder(e) if isinstance(n, Sum)), default=1)
        total_in = sum(len(n.terms) for n in preorder(e) if isinstance(n, Sum))
        for node in preorder(out):
            if isinstance(node, Sum):
                assert len(node.terms) <= max(widest_in, total_in + 2), f"seed {seed}"
