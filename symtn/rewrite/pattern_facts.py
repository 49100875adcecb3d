"""Declared facts of a rule's pattern tensors, checked on the sub-expression a pattern binds.

A pattern tensor written ``S: [i, j] symmetric(i, j)`` in a ``rule`` stands only for
sub-expressions that are provably symmetric in the legs bound to ``i`` and ``j``: the bound node
with the two blocks swapped must be the same network up to renaming bound legs (canonical keys,
so declared symmetries of the tensors inside count); ``antisymmetric`` asks for the same network
with a minus sign (failing that, the sum or difference must simplify to zero);
``isometry(k)`` asks that ``simplify(B @ B[k -> k'])`` be the Kronecker delta
``delta[k, k']`` (one per leg of ``k``).
"""

from __future__ import annotations

from collections.abc import Sequence
from itertools import pairwise

from symtn.ir.algebra import add
from symtn.ir.nodes import Delta, Node, Product, Zero
from symtn.ir.walk import rename_legs
from symtn.rewrite.canonical import is_isomorphic, signed_match

Fact = tuple[object, ...]


def _swap(a: Sequence[str], b: Sequence[str]) -> dict[str, str]:
    return {**dict(zip(a, b, strict=True)), **dict(zip(b, a, strict=True))}


def _fresh(leg: str, taken: set[str]) -> str:
    name = leg + "'"
    while name in taken:
        name += "'"
    taken.add(name)
    return name


def _is_isometry(node: Node, legs: Sequence[str]) -> bool:
    from symtn.rewrite.simplify import simplify  # simplify's rule tables import this package

    taken = set(node.legs)
    primed = {leg: _fresh(leg, taken) for leg in legs}
    sizes = node.sizes
    gram = simplify(Product(node, rename_legs(node, primed)))
    want = Product(*(Delta(sizes[leg], (leg, primed[leg])) for leg in legs))
    return is_isomorphic(gram, simplify(want))


def _swap_gives(node: Node, swap: dict[str, str], sign: int) -> bool:
    """``node`` with legs ``swap``ped equals ``sign * node``: by canonical keys, else (a sum such
    as ``B - B^T``, whose negation is not a renaming) by simplifying the difference to zero."""
    from symtn.rewrite.simplify import simplify

    swapped = rename_legs(node, swap)
    if signed_match(swapped, node) == sign:
        return True
    return isinstance(simplify(add(swapped, node, sign=-sign)), Zero)


def satisfies(node: Node, facts: Sequence[Fact]) -> bool:
    """True if ``node`` (legs named as the pattern tensor's slots) provably has every fact.

    Args:
        node: the sub-expression a pattern tensor binds, legs renamed to the pattern's slots.
        facts: the pattern tensor's facts (``("symmetric", blocks)``, ``("antisymmetric",
            blocks)``, ``("isometry", legs)``), as ``Tensor.facts``.

    Returns:
        False when a fact cannot be shown symbolically (the rule then does not fire there).
    """
    for fact in facts:
        kind = fact[0]
        if kind in ("symmetric", "antisymmetric"):
            blocks = fact[1]
            assert isinstance(blocks, tuple)
            want = 1 if kind == "symmetric" else -1
            for a, b in pairwise(blocks):  # adjacent transpositions generate the group
                if not _swap_gives(node, _swap(a, b), want):
                    return False
        elif kind == "isometry":
            legs = fact[1]
            assert isinstance(legs, tuple)
            if not _is_isometry(node, legs):
                return False
    return True
