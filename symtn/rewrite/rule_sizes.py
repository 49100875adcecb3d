"""Size variables of user rules: a rule stated for legs of size ``n`` applies at any size.

A rule's *size variables* are the size symbols of its pattern tensors' slots that no declared
tensor of the rule uses (those sizes are fixed by the declaration). A rule verified for a
symbolic ``n`` holds for every positive ``n``, so before matching it at a node, ``simplify``
also tries the rule with its size variables set to the sizes met below that node
(:func:`assignments`), with :func:`subs_sizes` specialising every size in the rule.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator, Sequence

import sympy as sp

from symtn.ir.nodes import Bubble, Delta, Iverson, Node, Reshape, Shifted, Sum, Tensor, Zero
from symtn.ir.walk import postmap

MAX_ASSIGNMENTS = 64
"""Size assignments tried per (rule, node)."""


def size_vars(patterns: Sequence[Tensor], fixed: Sequence[Tensor]) -> tuple[sp.Symbol, ...]:
    """Bare size symbols of the ``patterns``' slots that no ``fixed`` (declared) tensor uses."""
    taken: set[sp.Basic] = set()
    for t in fixed:
        for _, s in t.slots:
            taken |= s.free_symbols
    found: dict[str, sp.Symbol] = {}
    for p in patterns:
        for _, s in p.slots:
            if isinstance(s, sp.Symbol) and s not in taken:
                found.setdefault(s.name, s)
    return tuple(found[k] for k in sorted(found))


def sizes_below(node: Node) -> frozenset[sp.Expr]:
    """The sizes of every leg of ``node`` and its descendants (cached on the nodes)."""
    hit = node._cache.get("rules.sizes")
    if hit is None:
        out = {s for _, s in node.sig}
        for k in node.children:
            out |= sizes_below(k)
        hit = node._cache["rules.sizes"] = frozenset(out)
    return hit  # type: ignore[no-any-return]


def assignments(symbols: Sequence[sp.Symbol], node: Node) -> Iterator[dict[sp.Symbol, sp.Expr]]:
    """Assignments of ``symbols`` to sizes met in ``node`` (other than all-identity), bounded."""
    if not symbols:
        return
    sizes = sorted(sizes_below(node), key=sp.srepr)
    for n, values in enumerate(itertools.product(sizes, repeat=len(symbols))):
        if n >= MAX_ASSIGNMENTS:
            return
        sigma = dict(zip(symbols, values, strict=True))
        if any(k != v for k, v in sigma.items()):
            yield sigma


def subs_sizes(node: Node, sigma: dict[sp.Symbol, sp.Expr]) -> Node:
    """``node`` with every size (slots, legs, deltas, reshapes, coefficients) substituted."""

    def sub(e: sp.Expr) -> sp.Expr:
        return e.xreplace(sigma) if e.free_symbols else e  # type: ignore[no-any-return]

    def sig(pairs: tuple[tuple[str, sp.Expr], ...]) -> tuple[tuple[str, sp.Expr], ...]:
        return tuple((leg, sub(s)) for leg, s in pairs)

    def fn(n: Node) -> Node:
        if isinstance(n, Tensor):
            return Tensor(n.name, sig(n.slots), n.legs, n.facts)
        if isinstance(n, Delta):
            return Delta(sub(n.dim), n.args[1])
        if isinstance(n, (Shifted, Iverson)):
            return type(n)(sub(n.args[0]), *n.args[1:])
        if isinstance(n, Reshape):
            return Reshape(sig(n.parts), (n.whole[0], sub(n.whole[1])))
        if isinstance(n, Zero):
            return Zero(sig(n.sig))
        if isinstance(n, Sum):
            return Sum(n.terms, tuple(sub(c) for c in n.coeffs))
        if isinstance(n, Bubble):
            return Bubble(n.name, n.operand, n.consumed, sig(n.produced))
        return n

    return postmap(node, fn)
