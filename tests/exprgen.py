"""A seeded random-expression generator over a small vocabulary of tensors (for property tests)."""

from __future__ import annotations

import numpy as np
import sympy as sp

from symtn.ir import algebra as A
from symtn.ir.nodes import Node, Tensor, arg_symbols

n = sp.Symbol("n", integer=True, positive=True)
m = sp.Symbol("m", integer=True, positive=True)
SIZES = {n: 3, m: 2}
x0 = arg_symbols(1)[0]

VOCAB: list[Tensor] = [
    A.tensor("A", ("i", n), ("j", n)),
    A.tensor("B", ("j", n), ("k", n)),
    A.tensor("u", ("i", n)),
    A.tensor("v", ("k", n)),
    A.tensor("C", ("i", n), ("p", m)),
    A.tensor("w", ("p", m)),
]
FUNCS = [sp.tanh(x0), sp.exp(x0 / 4), x0**2, sp.sin(x0), 1 / (1 + sp.exp(-x0))]


def random_values(rng: np.random.Generator) -> dict[str, np.ndarray]:
    return {t.name: rng.standard_normal(tuple(SIZES[s] for _, s in t.slots)) for t in VOCAB}


def random_expr(rng: np.random.Generator, depth: int = 3) -> Node:
    """A random well-formed expression (leg errors are avoided by construction)."""
    if depth == 0 or rng.random() < 0.2:
        return VOCAB[int(rng.integers(len(VOCAB)))]
    a = random_expr(rng, depth - 1)
    op = int(rng.integers(7))
    if op == 0:  # contract with a tensor sharing a leg
        cands = [t for t in VOCAB if t.legset & a.legset]
        if cands:
            t = cands[int(rng.integers(len(cands)))]
            try:
                return A.contract(a, t)
            except Exception:
                return a
        return a
    if op == 1:
        b = random_expr(rng, depth - 1)
        if a.legset <= b.legset or b.legset <= a.legset:
            return A.add(a, b, sign=int(rng.choice([-1, 1])))
        return a
    if op == 2:
        c = sp.Rational(int(rng.integers(-3, 4)) or 1, int(rng.integers(1, 3)))
        return A.scale(a, c)
    if op == 3:
        return A.elementwise(FUNCS[int(rng.integers(len(FUNCS)))], a)
    if op == 4 and a.legs:
        return A.sum_legs(a, [a.legs[int(rng.integers(len(a.legs)))]])
    if op == 5:
        b = VOCAB[int(rng.integers(len(VOCAB)))]
        try:
            return A.hadamard(a, b)
        except Exception:
            return a
    if op == 6 and a.legs:
        leg = a.legs[0]
        new = leg + "'"
        if new not in a.legset:
            return A.rename(a, {leg: new})
    return a
