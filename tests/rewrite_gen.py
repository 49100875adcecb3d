"""A seeded random generator of IR expressions for the rewrite tests (TEST-ONLY).

Every leg has the symbolic size ``n`` (merged legs ``n*n``), so most wirings are valid; a
combination that the builders reject is retried with a simpler one.
"""

from __future__ import annotations

import random

import sympy as sp

from symtn.errors import LegError
from symtn.ir import algebra as al
from symtn.ir.nodes import Bubble, Iverson, Node, Product, Shifted, Tensor, arg_symbols
from symtn.ir.walk import fresh, rename_legs

N = al.as_size("n")
SIZES = {"n": 3}
LEGS = ("a", "b", "c", "d", "e", "f")
X0, X1 = arg_symbols(2)

POOL: list[Tensor] = [
    al.tensor("A", ("p", N), ("q", N)),
    al.tensor("B", ("p", N), ("q", N)),
    al.tensor("v", ("p", N)),
    al.tensor("u", ("p", N)),
    al.tensor("T", ("p", N), ("q", N), ("r", N)),
    al.tensor("S", ("p", N), ("q", N), facts=[("symmetric", (("p",), ("q",)))]),
    al.tensor("E", ("p", N), ("q", N), ("r", N), facts=[("antisymmetric", (("p",), ("q",), ("r",)))]),
    al.tensor("K", ("p", N), ("q", N), facts=[("antisymmetric", (("p",), ("q",)))]),
    al.tensor("W", ("k", N), ("m", N), facts=[("isometry", ("k",))]),
    al.tensor("C", ("p", N), ("q", N), facts=[("const",)]),
]

UNARY_FNS = [sp.tanh(X0), sp.sin(X0), X0**2, 2 * X0 + 1, X0, sp.Integer(3), sp.Max(0, X0), sp.exp(-(X0**2))]
BINARY_FNS = [X0 * X1, X0**2 + X1, X0 - 3 * X1, sp.tanh(X0 + X1)]


def pick_legs(rng: random.Random, k: int, avoid: frozenset[str] = frozenset()) -> list[str]:
    pool = [leg for leg in LEGS if leg not in avoid]
    return rng.sample(pool, k) if k <= len(pool) else [fresh("g") for _ in range(k)]


def leaf(rng: random.Random) -> Node:
    r = rng.random()
    if r < 0.6:
        t = rng.choice(POOL)
        return Tensor(t.name, t.slots, tuple(pick_legs(rng, len(t.slots))), t.facts)
    if r < 0.8:
        return al.delta(*pick_legs(rng, rng.randint(0, 3)), size=N)
    if r < 0.87:
        a, b = pick_legs(rng, 2)
        return Shifted(N, a, b, rng.choice([-1, 0, 1]))
    if r < 0.93:
        a, b = pick_legs(rng, 2)
        return Iverson(N, a, rng.choice(["<", "<=", ">", ">=", "!="]), b)
    return al.const(sp.Rational(rng.randint(-3, 3), rng.randint(1, 3)))


def unary(rng: random.Random, x: Node) -> Node:
    op = rng.randrange(11)
    legs = list(x.legs)
    if op == 0 and legs:
        new = pick_legs(rng, len(legs))
        return al.rename(x, dict(zip(legs, new, strict=True)))
    if op == 1:
        return al.scale(x, sp.Rational(rng.choice([-2, -1, 1, 2, 3]), rng.choice([1, 2])))
    if op == 2:
        return al.elementwise(rng.choice(UNARY_FNS), x)
    if op == 3 and legs:
        return al.sum_legs(x, rng.sample(legs, rng.randint(1, len(legs))))
    if op == 4:
        return al.frozen(x)
    if op == 5 and len(legs) >= 2:
        a, b = rng.sample(legs, 2)
        return al.contract(x, al.delta(a, b, size=x.size(a)))
    if op == 6 and legs and x.size(legs[0]) == N:
        c = rng.choice(legs)
        if rng.random() < 0.5:
            return Bubble("max", x, (c,), ())
        out = pick_legs(rng, 1, frozenset(legs) - {c})[0]
        return Bubble("mix", x, (c,), ((out, N),))
    if op == 7 and len(legs) >= 2 and all(x.size(leg) == N for leg in legs[:2]):
        a, b = legs[:2]
        merged = al.merge(x, [a, b], "mg")
        p, q = pick_legs(rng, 2, frozenset(legs) - {a, b})
        return al.split(merged, "mg", [(p, N), (q, N)])
    if op == 8 and len(legs) >= 2:
        a, b = rng.sample(legs, 2)
        return al.rename(x, {a: b, b: a})
    if op == 9 and legs:
        a = rng.choice(legs)
        return al.merge(x, [a], pick_legs(rng, 1, frozenset(legs))[0])
    return x


def binary(rng: random.Random, x: Node, y: Node) -> Node:
    op = rng.randrange(5)
    if op == 0:
        return al.contract(x, y)
    if op == 1:
        return al.hadamard(x, y)
    y2 = al.sum_legs(y, [leg for leg in y.legs if leg not in x.legset])
    if op == 2:
        return al.add(x, y2, sign=rng.choice([1, -1]))
    if op == 3:
        return al.elementwise(rng.choice(BINARY_FNS), x, x if rng.random() < 0.3 else y2)
    return al.contract(x, al.add(y2, al.scale(y2, 2)))


def gen(rng: random.Random, depth: int) -> Node:
    """A random expression of at most ``depth`` levels, with at most four free legs."""
    for _ in range(20):
        try:
            if depth <= 0 or rng.random() < 0.2:
                node = leaf(rng)
            elif rng.random() < 0.45:
                node = unary(rng, gen(rng, depth - 1))
            else:
                node = binary(rng, gen(rng, depth - 1), gen(rng, depth - 1))
        except (LegError, ValueError):
            continue
        if len(node.legs) <= 4:
            return node
        try:
            return al.sum_legs(node, list(node.legs[4:]))
        except LegError:
            continue
    return leaf(rng)


def rename_bound(node: Node, rng: random.Random) -> Node:
    """An alpha-renamed copy: every network's wires get fresh names, factors are shuffled."""
    if not node.children:
        return node
    kids: list[Node] = []
    for k in node.children:  # a plain loop (no C frames), so very deep trees work
        kids.append(rename_bound(k, rng))
    if isinstance(node, Product):
        mapping = {w: fresh("w") for w in node.wires()}
        factors = [rename_legs(f, {k: v for k, v in mapping.items() if k in f.legset}) for f in kids]
        rng.shuffle(factors)
        return Product(*factors)
    return node.with_children(tuple(kids))
