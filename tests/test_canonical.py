"""Tests of the canonical form (symtn.rewrite.canonical): isomorphism edge cases, random
relabellings, agreement with networkx VF2, process-independence of keys, signs and orbits."""

from __future__ import annotations

import os
import random
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from networkx.algorithms.isomorphism import GraphMatcher, categorical_node_match

from symtn.errors import LegError
from symtn.ir import algebra as al
from symtn.ir.nodes import Node, Product, Sum, Tensor
from symtn.rewrite import canonical_key, is_isomorphic, simplify
from symtn.rewrite.canonical import graph, odd_automorphism, orbits, signed_match, symmetries
from tests.netgen import random_structure, realise
from tests.refeval import align, evaluate, random_values

N = al.as_size("n")
SIZES = {"n": 3}
ROOT = Path(__file__).resolve().parent.parent


def mat(name: str, a: str = "i", b: str = "j", facts: tuple[tuple[object, ...], ...] = ()) -> Tensor:
    return Tensor(name, (("p", N), ("q", N)), (a, b), facts)


def ring(ms: list[str], tag: str = "r") -> Node:
    """tr(M1 M2 ... Mk) with bound legs named after ``tag``."""
    k = len(ms)
    return Product(*(mat(m, f"{tag}{t}", f"{tag}{(t + 1) % k}") for t, m in enumerate(ms)))


def vf2(a: Node, b: Node) -> bool:
    """The oracle: networkx VF2 on the two encodings (free legs named in the labels)."""
    matcher = GraphMatcher(graph(a), graph(b), node_match=categorical_node_match("l", None))
    return bool(matcher.is_isomorphic())


def same(a: Node, b: Node) -> bool:
    return canonical_key(a) == canonical_key(b)


# ------------------------------------------------------------------ must compare unequal
def test_six_cycle_against_two_three_cycles() -> None:
    six = ["M0", "M1", "M2", "M3", "M4", "M5"]
    one = ring(six)
    two = Product(ring(six[:3], "x"), ring(six[3:], "y"))
    assert not same(one, two) and not is_isomorphic(one, two) and not vf2(one, two)
    # the same with one matrix six times: colour refinement alone cannot tell these apart
    a6, a33 = ring(["A"] * 6), Product(ring(["A"] * 3, "x"), ring(["A"] * 3, "y"))
    assert not same(a6, a33) and not same(a6, simplify(a33)) and not vf2(a6, a33)


def test_trace_order_matters() -> None:
    assert not same(ring(["A", "B", "C"]), ring(["A", "C", "B"]))
    assert not is_isomorphic(ring(["A", "B", "C"]), ring(["A", "C", "B"], "z"))


def test_matrix_is_not_its_transpose() -> None:
    a, at = mat("A", "i", "j"), mat("A", "j", "i")
    assert not same(a, at) and signed_match(a, at) is None
    x = Tensor("x", (("p", N),), ("j",), ())
    assert not same(Product(a, x), Product(at, x))  # A x against A^T x (free leg i)
    assert same(Product(a, x), Product(mat("A", "i", "k"), x.rename(j="k")))


# ------------------------------------------------------------------ must compare equal
def test_trace_is_cyclic() -> None:
    abc, bca = ring(["A", "B", "C"]), ring(["B", "C", "A"], "z")
    assert same(abc, bca) and is_isomorphic(abc, bca) and signed_match(abc, bca) == 1


@pytest.mark.parametrize("seed", range(12))
def test_random_relabellings_and_factor_orders(seed: int) -> None:
    rng = random.Random(seed)
    st = random_structure(rng, rng.randint(3, 14), free=rng.randint(0, 3))
    base = realise(st)
    for k in range(4):
        other = realise(st, random.Random(1000 * seed + k), tag=f"b{k}_")
        assert same(base, other), f"seed {seed}: {base} vs {other}"
        assert is_isomorphic(base, other)


@pytest.mark.parametrize("seed", range(12))
def test_keys_agree_with_vf2_on_perturbed_networks(seed: int) -> None:
    """Swap two slots' wires: the key comparison agrees with VF2 either way."""
    rng = random.Random(seed)
    st = random_structure(rng, rng.randint(3, 10), free=1)
    base = realise(st)
    slots = [(f, s) for f, row in enumerate(st.ends) for s in range(len(row))]
    (f1, s1), (f2, s2) = rng.sample(slots, 2)
    st.ends[f1][s1], st.ends[f2][s2] = st.ends[f2][s2], st.ends[f1][s1]
    try:
        other = realise(st, rng)
    except LegError:  # the swap wired a tensor to itself: not a valid network
        return
    assert same(base, other) == vf2(base, other), f"seed {seed}"


def test_sums_and_symmetric_slots() -> None:
    a, b = mat("A"), mat("B")
    assert same(Sum((a, b), (1, 2)), Sum((b, a), (2, 1)))
    assert not same(Sum((a, b), (1, 2)), Sum((a, b), (2, 1)))
    s = mat("S", facts=(("symmetric", (("p",), ("q",))),))
    assert same(s, s.rename(i="j", j="i")) and not same(a, a.rename(i="j", j="i"))


# ------------------------------------------------------------------ signs
E3 = Tensor(
    "E", (("p", N), ("q", N), ("r", N)), ("i", "j", "k"), (("antisymmetric", (("p",), ("q",), ("r",))),)
)


def test_antisymmetric_signs() -> None:
    swapped = E3.rename(i="j", j="i")
    cyclic = E3.rename(i="j", j="k", k="i")
    assert same(E3, swapped) and signed_match(E3, swapped) == -1 and not is_isomorphic(E3, swapped)
    assert signed_match(E3, cyclic) == 1 and signed_match(swapped, cyclic) == -1
    x = Tensor("x", (("p", N),), ("m",), ())
    net = Product(E3.rename(k="m"), x)
    assert signed_match(net, Product(E3.rename(i="j", j="i", k="m"), x)) == -1


def test_odd_automorphism_from_generators() -> None:
    k2 = mat("K", "p", "q", facts=(("antisymmetric", (("p",), ("q",))),))
    a, b = mat("A"), mat("B")
    zero = Product(k2, a.rename(i="p", j="k"), a.rename(i="q", j="k"))  # tr(K A A^T) = 0
    assert odd_automorphism(zero)
    assert not odd_automorphism(Product(k2, a.rename(i="p", j="k"), b.rename(i="q", j="k")))


# ------------------------------------------------------------------ symmetries and orbits
def _check_symmetries(node: Node, seed: int = 0) -> None:
    """Every reported generator holds numerically: renaming legs by it gives sign * node."""
    values = random_values(node, SIZES, seed)
    v = evaluate(node, values, SIZES)
    for perm, sign in symmetries(node):
        w = evaluate(node.rename(perm), values, SIZES)
        assert np.allclose(align(node, v, node.legs) * sign, align(node.rename(perm), w, node.legs))


def test_outer_product_orbits() -> None:
    x = Tensor("x", (("p", N),), ("a",), ())
    k = 5
    outer = Product(*(x.rename(a=f"i{t}") for t in range(k)))
    o = orbits(outer)
    assert o.legs == (tuple(sorted(f"i{t}" for t in range(k))),)
    assert o.factors == (tuple(range(k)),)
    fixed = orbits(outer, fix_free=True)
    assert fixed.legs == tuple((f"i{t}",) for t in range(k)) and len(fixed.factors) == k
    assert len(symmetries(outer)) >= k - 1
    _check_symmetries(outer)


def test_orbits_of_mixed_network() -> None:
    a = mat("A", "k", "l")
    x = Tensor("x", (("p", N),), ("i",), ())
    net = Product(a, x, x.rename(i="j"))  # x_i x_j A_kl: i and j exchangeable, k and l not
    o = orbits(net)
    assert o.legs == (("i", "j"), ("k",), ("l",)) and o.factors == ((0,), (1, 2))
    _check_symmetries(net)
    tr = ring(["A", "A", "A"])  # tr(A^3): the three A's are one orbit (rotations)
    assert orbits(tr, fix_free=True).factors == ((0, 1, 2),)


def test_antisymmetric_symmetries_carry_signs() -> None:
    gens = symmetries(E3)
    assert gens and all(sign == -1 for perm, sign in gens if _is_transposition(perm))
    assert orbits(E3).legs == (("i", "j", "k"),)
    _check_symmetries(E3)


def _is_transposition(perm: dict[str, str]) -> bool:
    return sum(k != v for k, v in perm.items()) == 2


# ------------------------------------------------------------------ process independence
def test_keys_are_stable_across_hash_seeds() -> None:
    script = (
        "import random\n"
        "from tests.netgen import random_structure, realise\n"
        "from symtn.rewrite import canonical_key\n"
        "print(canonical_key(realise(random_structure(random.Random(7), 12, free=2))))\n"
    )
    here = canonical_key(realise(random_structure(random.Random(7), 12, free=2)))
    for seed in ("1", "12345"):
        env = {**os.environ, "PYTHONHASHSEED": seed}
        out = subprocess.run(
            [sys.executable, "-c", script], cwd=ROOT, env=env, capture_output=True, text=True, check=True
        )
        assert out.stdout.strip() == here


# ------------------------------------------------------------------ alpha keys (evaluator memo)
def test_alpha_keys() -> None:
    from symtn.rewrite.alpha import alpha_key, sum_key

    a, b = mat("A"), mat("B")
    x = Tensor("x", (("p", N),), ("j",), ())
    ax = Product(a, x)  # A[i, j] x[j]
    assert alpha_key(ax) == alpha_key(Product(mat("A", "k", "m"), x.rename(j="m")))  # legs renamed
    assert alpha_key(ax) != alpha_key(Product(mat("A", "j", "i"), x.rename(j="i").rename(i="j")))  # A^T x
    assert alpha_key(a) == alpha_key(mat("A", "u", "v")) != alpha_key(b)
    assert alpha_key(Product(a, b.rename(i="j", j="k"))) != alpha_key(Product(b, a.rename(i="j", j="k")))
    s1, s2 = Sum((a, b), (1, 2)), Sum((b, a), (2, 1))
    assert sum_key(s1) == sum_key(s2) and alpha_key(s1) != alpha_key(s2)  # term order
    assert sum_key(s1) != sum_key(Sum((a, b), (2, 1)))
    assert alpha_key(Tensor("A", (("p", N), ("q", N)), ("p", "q"), ())) == alpha_key(a)  # slot names


# ------------------------------------------------------------------ matchings up to symmetry
def _all_matchings(items: list[int]) -> list[list[tuple[int, int]]]:
    if not items:
        return [[]]
    first, rest = items[0], items[1:]
    return [[(first, o), *m] for k, o in enumerate(rest) for m in _all_matchings(rest[:k] + rest[k + 1 :])]


def _paired(net: Product, pairs: tuple[tuple[int, int], ...] | list[tuple[int, int]]) -> Node:
    """The network with each pair of vector occurrences replaced by a copy tensor."""
    gone = {i for p in pairs for i in p}
    rest = [f for k, f in enumerate(net.args) if k not in gone]
    deltas = [al.delta(net.args[a].legs[0], net.args[b].legs[0], size=N) for a, b in pairs]
    return Product(*rest, *deltas)


def _wick_cases() -> list[Product]:
    x = Tensor("x", (("p", N),), ("a",), ())
    s = mat("S", facts=(("symmetric", (("p",), ("q",))),))
    xs = [x.rename(a=f"a{k}") for k in range(8)]
    return [
        Product(*xs[:4], mat("A", "a0", "a1"), mat("A", "a2", "a3")),  # three distinct pairings
        Product(*xs[:4], s.rename(i="a0", j="a1"), s.rename(i="a2", j="a3")),  # two, weights 1 and 2
        Product(*xs[:6], *(mat("A", f"a{2 * k}", f"a{2 * k + 1}") for k in range(3))),
        Product(*xs[:4], x.rename(a="f0"), x.rename(a="f1")),  # free legs named: no merging of those
        Product(*xs[:8]),  # x^(8), free legs by name: 105 classes of one
    ]


@pytest.mark.parametrize("case", range(5))
def test_matching_orbits_against_brute_force(case: int) -> None:
    from symtn.rewrite.canonical import matching_orbits

    net = _wick_cases()[case]
    items = [k for k, f in enumerate(net.args) if isinstance(f, Tensor) and f.name == "x"]
    classes: dict[str, int] = {}
    for m in _all_matchings(items):
        key = canonical_key(_paired(net, m))
        classes[key] = classes.get(key, 0) + 1
    reps = matching_orbits(net, items)
    assert sum(w for _, w in reps) == len(_all_matchings(items))
    got: dict[str, int] = {}
    for pairs, w in reps:
        key = canonical_key(_paired(net, pairs))
        got[key] = got.get(key, 0) + w
    assert got == classes  # the weighted representatives give every class its exact count
    assert len(classes) <= len(reps) <= [3, 2, 9, 15, 105][case]
