"""Leg order of a result (docs/reference/leg-order.md).

Leg order is never part of a value's meaning (``simplify`` may reorder a node's signature), so
the order a user sees is fixed once, outside the canonical form:

1. a declared order (typed binding ``g: [a, b] = ...``, ``-> [a, b]``), else
2. for a derivative ``d(f)/d(X)``: ``f``'s order, then the new legs in ``X``'s slot order, else
3. the *written order*: legs in the order they are met reading the expression left to right
   (each tensor contributing its declared slots, each earlier binding its own order, see
   ``symtn.frontend.written``); a primed leg ``a'`` follows ``a``; other legs come last, in
   canonical order.

``with_order`` rebuilds a node so that ``node.legs`` is a wanted order without changing its value,
so ``evaluate(node, values)`` (default ``order=node.legs``) returns that layout.
"""

from __future__ import annotations

from collections.abc import Sequence

from symtn.ir.composite import Elementwise, Frozen, Product, Sum
from symtn.ir.leaves import Delta
from symtn.ir.nodes import Node
from symtn.ir.walk import fresh, rename_legs


def declaration_order(legs: Sequence[str], declared: Sequence[str]) -> tuple[str, ...]:
    """``legs`` sorted by rule 3 above: rank of the base name in ``declared``, then primes."""
    rank = {name: i for i, name in enumerate(dict.fromkeys(declared))}
    pos = {leg: i for i, leg in enumerate(legs)}

    def key(leg: str) -> tuple[int, int, int]:
        base = leg.rstrip("'")
        return (rank.get(base, len(rank)), len(leg) - len(base), pos[leg])

    return tuple(sorted(legs, key=key))


def _product_in_order(node: Product, order: tuple[str, ...]) -> Node | None:
    where = {leg: i for i, leg in enumerate(order)}

    def first(f: Node) -> int:
        free = [where[leg] for leg in f.legs if leg in where]
        return min(free) if free else -1

    cand = Product(*sorted(node.args, key=first))
    return cand if cand.legs == order else None


def with_order(node: Node, order: Sequence[str]) -> Node:
    """The same value as ``node`` with ``legs == order`` (a permutation of ``node.legs``).

    Reorders factors of products, the first term of sums and the operands of elementwise
    functions; otherwise relabels through identity deltas (``X[a -> a1] @ delta[a, a1]``),
    which ``simplify`` removes again.

    Raises:
        ValueError: ``order`` is not a permutation of the node's free legs.
    """
    want = tuple(order)
    if want == node.legs:
        return node
    if sorted(want) != sorted(node.legs):
        raise ValueError(f"order {want} is not a permutation of the legs {node.legs}")
    cand: Node | None = None
    if isinstance(node, Product):
        cand = _product_in_order(node, want)
    elif isinstance(node, Sum):
        first = with_order(node.terms[0], want)
        cand = Sum((first, *node.terms[1:]), node.coeffs)
    elif isinstance(node, Frozen):
        cand = Frozen(with_order(node.inner, want))
    elif isinstance(node, Elementwise) and node.operands and node.operands[0].legs != want:
        ops = node.operands
        cand = node.with_children((with_order(ops[0], want), *ops[1:]))
    if cand is not None and cand.legs == want:
        return cand
    tmp = {leg: fresh(leg) for leg in want}
    sizes = node.sizes
    inner = rename_legs(node, tmp)
    return Product(inner, *(Delta(sizes[leg], (leg, tmp[leg])) for leg in want))


def binding_order(
    legs: Sequence[str], declared: Sequence[str] | None, written: Sequence[str]
) -> tuple[str, ...]:
    """The documented order of a binding: ``declared`` if given, else by first appearance in
    ``written`` (the legs met reading its expression), then the rest in canonical order."""
    if declared is not None:
        return tuple(declared)
    return declaration_order(legs, written)
