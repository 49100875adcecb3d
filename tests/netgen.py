"""Seeded random tensor networks with random wiring, for canonical-form tests and benchmarks
(TEST-ONLY).

A network is described by its *structure* (which tensor sits at each factor, and which factor
slots a wire joins) and realised with arbitrary wire names and factor order, so two
realisations of one structure are equal up to renaming of bound legs.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

from symtn.ir import algebra as al
from symtn.ir.nodes import Node, Product, Tensor

N = al.as_size("n")
KINDS: list[Tensor] = [
    al.tensor("A", ("p", N), ("q", N)),
    al.tensor("B", ("p", N), ("q", N)),
    al.tensor("T", ("p", N), ("q", N), ("r", N)),
    al.tensor("U", ("p", N), ("q", N), ("r", N)),
    al.tensor("S", ("p", N), ("q", N), facts=[("symmetric", (("p",), ("q",)))]),
]


@dataclass
class Structure:
    """Factor ``f`` is ``kinds[f]``; ``ends[f][s]`` names what its slot ``s`` carries: a wire
    number (shared by exactly two slots) or a free leg name (a string)."""

    kinds: list[Tensor]
    ends: list[list[int | str]]


def random_structure(rng: random.Random, factors: int, free: int = 2) -> Structure:
    """``factors`` tensors drawn from ``KINDS``, ``free`` slots left open (named ``f0``...),
    every other slot paired with another at random (an odd leftover slot becomes free too)."""
    kinds = [rng.choice(KINDS) for _ in range(factors)]
    slots = [(f, s) for f, t in enumerate(kinds) for s in range(len(t.slots))]
    rng.shuffle(slots)
    ends: list[list[int | str]] = [[0] * len(t.slots) for t in kinds]
    opened = slots[:free] + (slots[free:][-1:] if (len(slots) - free) % 2 else [])
    for k, (f, s) in enumerate(opened):
        ends[f][s] = f"f{k}"
    paired = [x for x in slots if x not in opened]
    pairs = [paired[2 * w : 2 * w + 2] for w in range(len(paired) // 2)]
    for _ in range(100 * len(pairs)):  # a tensor carries a leg name once: no self-wires
        bad = [p for p in pairs if p[0][0] == p[1][0]]
        if not bad:
            break
        other = rng.choice(pairs)
        bad[0][1], other[1] = other[1], bad[0][1]
    for w, pair in enumerate(pairs):
        for f, s in pair:
            ends[f][s] = w
    return Structure(kinds, ends)


def realise(st: Structure, rng: random.Random | None = None, tag: str = "w") -> Node:
    """The Product of ``st`` with wire ``w`` named ``tag`` + a number; with ``rng``, wire names
    are a random permutation and the factors a random order."""
    wires = sorted({e for row in st.ends for e in row if isinstance(e, int)})
    names = list(range(len(wires)))
    order = list(range(len(st.kinds)))
    if rng is not None:
        rng.shuffle(names)
        rng.shuffle(order)
    name = {w: f"{tag}{names[k]}" for k, w in enumerate(wires)}
    factors = []
    for f in order:
        t = st.kinds[f]
        legs = tuple(e if isinstance(e, str) else name[e] for e in st.ends[f])
        factors.append(Tensor(t.name, t.slots, legs, t.facts))
    return Product(*factors)
