"""Tests of symtn.rewrite: isomorphism, every rule's soundness, simplify and expand."""

from __future__ import annotations

import random
import time
from collections import Counter
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import pytest
import sympy as sp
from networkx.algorithms.isomorphism import GraphMatcher, categorical_node_match

from symtn.ir import algebra as al
from symtn.ir import matrix
from symtn.ir.nodes import ONE, Bubble, Delta, Elementwise, Frozen, Node, Product, Reshape, Shifted, Sum, Zero
from symtn.ir.walk import preorder
from symtn.rewrite import canonical_key, expand, is_isomorphic, networks, rules, simplify, strip_frozen
from symtn.rewrite import elementwise as ew
from symtn.rewrite.canonical import deep_recursion, graph, signed_match, sort_key
from symtn.rewrite.rules import PREPARE, rule_table
from symtn.rewrite.simplify import Simplifier, bottom_up, chain, exhaust
from tests.refeval import align, evaluate, random_values
from tests.rewrite_gen import SIZES, N, gen, rename_bound

SYM = [("symmetric", (("p",), ("q",)))]


def mat(name: str, a: str = "i", b: str = "j", facts: Sequence[tuple[Any, ...]] = ()) -> Node:
    return al.tensor(name, ("p", N), ("q", N), facts=facts).rename(p=a, q=b)


def vec(name: str, a: str = "i") -> Node:
    return al.tensor(name, ("p", N)).rename(p=a)


def ring(ms: list[Node], tag: str = "r") -> Node:
    """tr(M1 M2 ... Mk) as a network (bound legs named after ``tag``)."""
    k = len(ms)
    return Product(*(m.rename(i=f"{tag}{t}", j=f"{tag}{(t + 1) % k}") for t, m in enumerate(ms)))


A, B, C = mat("A"), mat("B"), mat("C")
S = mat("S", facts=SYM)
E3 = al.tensor("E", ("i", N), ("j", N), ("k", N), facts=[("antisymmetric", (("i",), ("j",), ("k",)))])


def same_value(a: Node, b: Node, seed: int = 0, values: dict[str, np.ndarray] | None = None) -> bool:
    values = values if values is not None else random_values(a, SIZES, seed)
    va, vb = evaluate(a, values, SIZES), evaluate(b, values, SIZES)
    return a.sizes == b.sizes and bool(np.allclose(va, align(b, vb, a.legs)))


# ------------------------------------------------------------------ isomorphism
def test_cycles_are_not_isomorphic_even_when_wl_collides() -> None:
    six = [mat(f"M{k}") for k in range(6)]
    assert not is_isomorphic(ring(six), Product(ring(six[:3], "x"), ring(six[3:], "y")))
    a6 = ring([A] * 6)
    a33 = Product(ring([A] * 3, "x"), ring([A] * 3, "y"))
    assert not is_isomorphic(a6, a33)
    assert not is_isomorphic(a6, simplify(a33))
    assert canonical_key(a6) != canonical_key(simplify(a33))  # exact, where WL alone collides


def test_trace_rotation_and_order() -> None:
    assert is_isomorphic(ring([A, B, C]), ring([B, C, A], "z"))
    assert not is_isomorphic(ring([A, B, C]), ring([A, C, B]))


def test_transpose_and_symmetry() -> None:
    assert not is_isomorphic(A, A.rename(i="j", j="i"))
    assert is_isomorphic(S, S.rename(i="j", j="i"))
    assert not is_isomorphic(A, B)
    assert not is_isomorphic(A, mat("A", "i", "k"))


def test_factor_order_and_bound_names() -> None:
    one = Product(A.rename(j="w"), B.rename(i="w"), vec("v", "j"))
    two = Product(vec("v", "j"), B.rename(i="zz"), A.rename(j="zz"))
    assert is_isomorphic(one, two)
    assert canonical_key(one) == canonical_key(two)
    assert not is_isomorphic(one, Product(vec("v", "j"), A.rename(i="zz"), B.rename(j="zz")))


def test_antisymmetric_sign() -> None:
    swapped = E3.rename(i="j", j="i")
    assert signed_match(E3, swapped) == -1
    assert not is_isomorphic(E3, swapped)
    cyclic = E3.rename(i="j", j="k", k="i")
    assert is_isomorphic(E3, cyclic)
    assert simplify(E3 + swapped) == Zero(E3.sig)
    assert simplify(E3 - cyclic) == Zero(E3.sig)


@pytest.mark.parametrize("seed", range(120))
def test_alpha_renamed_copies_are_isomorphic(seed: int) -> None:
    rng = random.Random(seed)
    e = gen(rng, 4)
    r = rename_bound(e, rng)
    assert is_isomorphic(e, r), f"seed {seed}: {e}"
    assert canonical_key(e) == canonical_key(r), f"seed {seed}"
    assert is_isomorphic(simplify(e), simplify(r)), f"seed {seed}: simplify is not canonical"
    assert is_isomorphic(expand(e), expand(r)), f"seed {seed}: expand is not canonical"


def _vf2(a: Node, b: Node) -> bool:
    """networkx VF2 on the two encodings (labels include free leg names): the oracle."""
    return GraphMatcher(graph(a), graph(b), node_match=categorical_node_match("l", None)).is_isomorphic()


@pytest.mark.parametrize("seed", range(40))
def test_canonical_key_agrees_with_vf2(seed: int) -> None:
    """Equal canonical keys exactly when networkx VF2 finds an isomorphism of the encodings."""
    rng = random.Random(seed)
    e = gen(rng, 4)
    for a, b in ((e, rename_bound(e, rng)), (e, gen(rng, 4)), (simplify(e), simplify(rename_bound(e, rng)))):
        assert (canonical_key(a) == canonical_key(b)) == _vf2(a, b), f"seed {seed}"


def test_canonical_key_separates_wl_collisions() -> None:
    a6 = ring([A] * 6)
    a33 = simplify(Product(ring([A] * 3, "x"), ring([A] * 3, "y")))
    assert canonical_key(a6) != canonical_key(a33) and not _vf2(a6, a33)
    other = ring([A] * 6, "z")
    assert canonical_key(other) == canonical_key(a6) and _vf2(a6, other)


# ------------------------------------------------------------------ targeted rules
def test_like_terms() -> None:
    two = simplify(A + A)
    assert isinstance(two, Sum) and two.terms == (A,)
    assert two.coeffs[0] == 2 and isinstance(two.coeffs[0], sp.Integer)
    x = vec("x")
    q1 = x @ A @ x.rename(i="j")
    q2 = Product(x.rename(i="s"), A.rename(i="s", j="t"), x.rename(i="t"))
    out = simplify(q1 + 3 * q2)
    assert isinstance(out, Sum) and len(out.terms) == 1 and out.coeffs[0] == 4
    assert is_isomorphic(out.terms[0], simplify(q1)) and is_isomorphic(simplify(q1), q2)
    assert simplify(A - A) == Zero(A.sig)
    assert simplify(sp.Rational(1, 2) * A + sp.Rational(1, 2) * A) is A


def test_delta_absorption() -> None:
    out = simplify(A @ al.delta("j", "k", size=N))
    assert out is mat("A", "i", "k")
    assert simplify(al.delta("k", "i", size=N) @ A) is mat("A", "k", "j")
    trace = simplify(A @ al.delta("i", "j", size=N))
    values = random_values(A, SIZES, 0)
    assert trace.legs == () and np.isclose(evaluate(trace, values, SIZES), np.trace(values["A"]))
    assert simplify(A @ al.delta("i", "j", size=N) @ al.delta("k", "l", size=N)).legset == {"k", "l"}


def test_delta_merging() -> None:
    out = simplify(al.delta("i", "j", "k", size=N) @ al.delta("k", "l", "m", size=N))
    assert isinstance(out, Delta) and out.legset == {"i", "j", "l", "m"}
    scalar = simplify(al.delta("i", "j", size=N) @ al.delta("i", "j", size=N))
    assert isinstance(scalar, Sum) and scalar.terms == (ONE,) and scalar.coeffs == (N,)
    ones = simplify(al.delta("i", size=N) @ al.delta("i", "j", "k", size=N))
    assert ones == al.delta("j", "k", size=N)
    assert simplify(al.delta(size=N)) == Sum((ONE,), (N,))


def test_antisymmetric_times_symmetric_is_zero() -> None:
    assert simplify(E3 @ S) == Zero((("k", N),))
    assert simplify(E3 @ al.delta("i", "k", size=N)) == Zero((("j", N),))
    assert simplify(E3 @ al.delta("i", "j", "m", size=N)) == Zero((("k", N), ("m", N)))
    assert networks.antisymmetric_zero(Product(E3, S)) == Zero((("k", N),))
    # E_ij A_ik A_jk = tr(E A A^T) = 0: found by the odd-automorphism rule
    k2 = mat("K", facts=[("antisymmetric", (("p",), ("q",)))])
    net = Product(k2, A.rename(j="k"), A.rename(i="j", j="k"))
    assert simplify(net) == Zero(())
    assert simplify(Product(k2, A.rename(j="k"), B.rename(i="j", j="k"))) != Zero(())


def test_isometry() -> None:
    w = al.tensor("W", ("k", N), ("m", N), facts=[("isometry", ("k",))])
    net = w @ w.rename(k="k2")
    assert simplify(net) == al.delta("k", "k2", size=N)
    assert same_value(net, simplify(net))
    assert simplify(w @ w) == Sum((ONE,), (N,))


def test_reshape_fusion() -> None:
    t = al.tensor("T", ("i", N), ("j", N), ("k", N))
    round_trip = al.split(al.merge(t, ["i", "j"], "ij"), "ij", [("a", N), ("b", N)])
    out = simplify(round_trip)
    assert out is t.rename(i="a", j="b")
    back = al.merge(al.split(al.merge(t, ["i", "j"], "ij"), "ij", [("a", N), ("b", N)]), ["a", "b"], "w")
    assert same_value(back, simplify(back))
    assert not any(
        isinstance(n, Reshape) for n in preorder(simplify(al.sum_legs(al.merge(t, ["i", "j"], "ij"), ["ij"])))
    )


def test_zero_propagation() -> None:
    z = Zero((("j", N), ("k", N)))
    assert simplify(A @ z) == Zero((("i", N), ("k", N)))
    assert simplify(Sum((A, Zero(A.sig)), (1, 5))) is A
    assert simplify(Sum((A, B), (0, 0))) == Zero(A.sig)
    assert simplify(al.elementwise(sp.tanh(al.X0), Zero(A.sig))) == Zero(A.sig)
    assert simplify(al.elementwise(sp.cos(al.X0), Zero(A.sig))) == al.ones(A.sig)


def test_elementwise_rules() -> None:
    x0 = al.X0
    t = al.elementwise(sp.tanh(x0), al.elementwise(sp.tanh(x0), A))
    out = simplify(t)
    assert isinstance(out, Elementwise) and out.operands == (A,) and out.fn == sp.tanh(sp.tanh(x0))
    assert simplify(Elementwise(x0, (A,))) is A
    x, y = sp.symbols("x0 x1", real=True)
    sq = simplify(Elementwise(x * y, (A, A)))
    assert isinstance(sq, Elementwise) and sq.operands == (A,) and sq.fn == x0**2
    assert simplify(Elementwise(2 * x - y, (A, B))) == simplify(2 * A - B)
    assert simplify(Elementwise(sp.Integer(3), (A,))) == Sum((al.ones(A.sig),), (3,))
    assert ew.order(Elementwise(x - y, (B, A))) == Elementwise(y - x, (A, B))
    scaled = simplify(al.elementwise(sp.tanh(x0), 2 * A))
    assert isinstance(scaled, Elementwise) and scaled.fn == sp.tanh(2 * x0)


def test_frozen() -> None:
    assert simplify(Frozen(Frozen(A))) == Frozen(A)
    c = al.tensor("C", ("i", N), facts=[("const",)])
    assert simplify(Frozen(c)) is c
    assert simplify(Frozen(2 * A)) == Sum((Frozen(A),), (2,))
    assert strip_frozen(Frozen(A) @ Frozen(Frozen(B.rename(i="j", j="k")))) == A @ B.rename(i="j", j="k")


def test_flatten_renames_clashing_wires() -> None:
    inner = A @ B.rename(i="j", j="k")  # wire j
    outer = Product(inner, mat("C", "j", "m"))
    flat = simplify(outer)
    assert isinstance(flat, Product) and len(flat.args) == 3
    assert flat.legset == {"i", "j", "k", "m"} and same_value(outer, flat)
    assert len({leg for f in flat.args for leg in f.legs}) == 5


def test_expand_is_a_flat_sum_of_networks() -> None:
    x = vec("x", "j")
    e = (A + B) @ (x + al.elementwise(sp.tanh(al.X0), x)) + Frozen((A + C) @ x)
    out = expand(e)
    assert isinstance(out, Sum) and len(out.terms) == 6
    for term in out.terms:
        factors = term.args if isinstance(term, Product) else (term,)
        assert not any(isinstance(f, Sum) for f in factors)
    assert same_value(e, out)
    assert any(isinstance(n, Frozen) for n in preorder(out))


def test_strategies() -> None:
    net = Product(Product(A, vec("v", "j")), ONE)
    assert chain(rules.product_single, rules.flatten_product)(net) == Product(A, vec("v", "j"))
    assert exhaust(chain(rules.flatten_product, rules.product_single))(Product(Product(A))) is A
    assert bottom_up(lambda n: rules.frozen_nested(n) or n if isinstance(n, Frozen) else n)(
        Frozen(Frozen(A))
    ) == Frozen(A)


def test_sort_key_is_deterministic_and_orders_kinds() -> None:
    assert sort_key(A) < sort_key(al.delta("i", size=N))
    assert sort_key(A) == sort_key(A)
    assert sort_key(A) < sort_key(B)


# ------------------------------------------------------------------ every rule, checked
def checked(values: dict[str, np.ndarray], fired: Counter[str], *, expand: bool) -> Simplifier:
    """A simplifier whose every rule firing (prepare rules too) is checked for free legs and
    numeric value, and counted in ``fired``."""

    def wrap(rule: Callable[[Any], Node | None]) -> Callable[[Any], Node | None]:
        def run(node: Node) -> Node | None:
            out = rule(node)
            if out is not None:
                fired[rule.__name__] += 1
                assert out.sizes == node.sizes, f"{rule.__name__} changed legs: {node} -> {out}"
                assert same_value(node, out, values=values), f"{rule.__name__}: {node} -> {out}"
            return out

        return run

    table = {k: tuple(wrap(r) for r in v) for k, v in rule_table(expand=expand).items()}
    return Simplifier(table, None, prepare={k: wrap(r) for k, r in PREPARE.items()})


FIRED: Counter[str] = Counter()


@pytest.mark.parametrize("seed", range(150))
def test_random_simplify(seed: int) -> None:
    """Every rule firing keeps legs and value; simplify is a genuine, cached fixpoint."""
    rng = random.Random(seed)
    e = gen(rng, 4)
    values = random_values(e, SIZES, seed)
    for flag in (False, True):
        out = checked(values, FIRED, expand=flag)(e)
        assert out.sizes == e.sizes, f"seed {seed}"
        assert same_value(e, out, values=values), f"seed {seed}: {e} -> {out}"
        assert Simplifier(rule_table(expand=flag))(out) is out, f"seed {seed}: not a fixpoint"
    s = simplify(e)
    assert simplify(s) is s, f"seed {seed}"
    assert same_value(e, s, values=values), f"seed {seed}"
    assert same_value(e, expand(e), values=values), f"seed {seed}"
    assert same_value(e, strip_frozen(e), values=values), f"seed {seed}"


def test_every_rule_fired_in_random_corpus() -> None:
    for seed in range(150, 260):
        e = gen(random.Random(seed), 4)
        values = random_values(e, SIZES, seed)
        checked(values, FIRED, expand=True)(e)
    x0 = sp.Symbol("x0", real=True)
    inner = al.add(al.ones(mat("A").sig), al.elementwise(sp.exp(-x0), mat("A")))
    sigmoid_prime = al.elementwise(x0**-2, inner)  # folded by fold_sums into one bubble
    square = al.hadamard(vec("x"), vec("x"))  # hadamard_power: x * x = x^2
    cube = al.contract(square, vec("x"))  # wired_power: x^2 @ x = sum(x^3)
    inv_a = matrix.inv(A)
    abs_rule = sp.Abs(x0)
    matrix_cases = (
        matrix.inv(inv_a),  # inv_inv
        al.contract(A, al.rename(inv_a, {"i": "p"})),  # inv_cancel: A @ inv(A)[i -> p]
        matrix.det(al.contract(A, B.rename(i="j", j="k")), ["i", "k"]),  # det_product
        matrix.det(A, ["j", "i"]),  # matrix_leg_order
        matrix.det(al.scale(A, 2)),  # matrix_scalar
        matrix.inv(al.contract(A, B.rename(i="j", j="k")), ["i", "k"]),  # inv_product
        matrix.det(al.delta("i", "j", size=A.size("i"))),  # matrix_identity
    )
    extras = (
        E3 @ S,
        Product(mat("W", "k", "m", facts=[("isometry", ("k",))])),
        sigmoid_prime,
        square,
        cube,
        *matrix_cases,
        al.elementwise(abs_rule, al.tensor("P", ("i", N), positive=True)),  # domain_facts
    )
    for extra in extras:
        checked(random_values(extra, SIZES, 0), FIRED, expand=False)(extra)
    every = {
        r.__name__ for table in (rule_table(), rule_table(expand=True)) for rs in table.values() for r in rs
    }
    missing = every - set(FIRED) - {"isometry", "odd_symmetry_zero", "inline_frozen"}
    assert not missing, f"never fired on random inputs: {sorted(missing)}"


def test_rules_on_crafted_inputs() -> None:
    """The rules random inputs rarely reach, each checked for legs and value."""
    w = al.tensor("W", ("k", N), ("m", N), facts=[("isometry", ("k",))])
    k2 = mat("K", facts=[("antisymmetric", (("p",), ("q",)))])
    cases: list[tuple[Callable[[Any], Node | None], Node]] = [
        (networks.isometry, Product(w, w.rename(k="k2"))),
        (networks.odd_symmetry_zero, Product(k2, A.rename(j="k"), A.rename(i="j", j="k"))),
        (networks.antisymmetric_zero, Product(E3, S)),
        (networks.shifted_zero, Shifted(N, "i", "j", 0)),
        (rules.inline_frozen, Frozen(A)),
        (rules.delta_scalar, Delta(N, ())),
    ]
    for rule, node in cases:
        out = rule(node)
        assert out is not None, rule.__name__
        assert out.sizes == node.sizes
        assert same_value(node, out), rule.__name__


# ------------------------------------------------------------------ performance
def test_long_chain_is_fast() -> None:
    legs = [f"l{k}" for k in range(301)]
    net: Node = mat("A", legs[0], legs[1])
    for k in range(1, 300):
        net = Product(net, mat("A" if k % 2 else "B", legs[k], legs[k + 1]))
    start = time.perf_counter()
    out = simplify(net)
    assert time.perf_counter() - start < 10
    assert isinstance(out, Product) and len(out.args) == 300 and out.legset == {"l0", "l300"}


def test_large_sum_of_renamed_copies_collects() -> None:
    x = vec("x")
    terms = [
        Product(x.rename(i=f"s{k}"), A.rename(i=f"s{k}", j=f"t{k}"), x.rename(i=f"t{k}")) for k in range(300)
    ]
    terms += [
        Product(x.rename(i=f"s{k}"), B.rename(i=f"s{k}", j=f"t{k}"), x.rename(i=f"t{k}")) for k in range(300)
    ]
    big = Sum(tuple(terms), tuple(range(1, 601)))
    start = time.perf_counter()
    out = simplify(big)
    assert time.perf_counter() - start < 10
    assert isinstance(out, Sum) and len(out.terms) == 2
    assert sorted(out.coeffs) == [sum(range(1, 301)), sum(range(301, 601))]


def test_deep_nesting_is_fast() -> None:
    node: Node = A
    for k in range(600):
        node = (
            al.elementwise(sp.tanh(al.X0), node) if k % 3 == 0 else Frozen(node) if k % 3 == 1 else 2 * node
        )
    start = time.perf_counter()
    out = simplify(node)
    assert time.perf_counter() - start < 20
    assert out.sizes == A.sizes
    assert simplify(out) is out
    deep: Node = vec("v", "l0")
    for k in range(1500):
        deep = Product(deep, mat("A", f"l{k}", f"l{k + 1}"))
    assert len(simplify(deep).args) == 1501  # type: ignore[attr-defined]


def test_very_deep_trees_do_not_crash() -> None:
    node: Node = A
    for k in range(3000):
        if k % 2:
            node = Bubble("mix", Product(node, mat("B", "j", "k")).rename(k="j"), ("j",), (("j", N),))
        else:
            node = al.add(Frozen(al.elementwise(sp.sin(al.X0), node)), A)
    out = simplify(node)
    assert out.sizes == A.sizes and simplify(out) is out
    with deep_recursion():
        assert is_isomorphic(node, rename_bound(node, random.Random(0)))
    assert not any(isinstance(n, Frozen) for n in preorder(strip_frozen(node)))
