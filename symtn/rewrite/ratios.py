"""Cancel a scalar network against its reciprocal: ``(u @ u) / (u @ u) = 1``.

A product that holds a scalar sub-network ``S`` (a connected group of its factors with no free
leg) and a factor ``S'^k`` with ``k`` a negative integer and ``S'`` equal to ``S`` up to renaming
of bound legs loses ``S`` and one power of ``S'``. Dividing by ``S'`` already assumes it is not
zero, so the cancellation changes no value where the expression is defined. Used before the
Gaussian expectation, whose Wick pairings need a polynomial (``E[u ~ N(0, I)]((u @ u) / (u @ u))``
is 1).
"""

from __future__ import annotations

from symtn.ir.composite import Elementwise, Product, arg_symbols
from symtn.ir.nodes import Node
from symtn.ir.walk import postmap
from symtn.rewrite.canonical import is_isomorphic

_X0 = arg_symbols(1)[0]


def _components(factors: list[Node]) -> list[list[int]]:
    """Groups of factor indices joined by shared legs (wires of the product)."""
    parent = list(range(len(factors)))

    def find(a: int) -> int:
        while parent[a] != a:
            parent[a] = parent[parent[a]]
            a = parent[a]
        return a

    owner: dict[str, int] = {}
    for k, f in enumerate(factors):
        for leg in f.legs:
            if leg in owner:
                parent[find(k)] = find(owner[leg])
            else:
                owner[leg] = k
    groups: dict[int, list[int]] = {}
    for k in range(len(factors)):
        groups.setdefault(find(k), []).append(k)
    return list(groups.values())


def _cancel_once(p: Product) -> Node | None:
    factors = list(p.args)
    for k, f in enumerate(factors):
        if not (isinstance(f, Elementwise) and not f.legs and len(f.operands) == 1):
            continue
        e = f.fn
        if not (e.is_Pow and e.base == _X0 and e.exp.is_Integer and e.exp < 0):
            continue
        target = f.operands[0]
        others = [g for m, g in enumerate(factors) if m != k]
        for group in _components(others):
            members = [others[m] for m in group]
            if any(leg for g in members for leg in g.legs if sum(leg in h.legs for h in members) != 2):
                continue  # a free leg: not a scalar
            candidate = members[0] if len(members) == 1 else Product(*members)
            if candidate is target or is_isomorphic(candidate, target):
                rest = [others[m] for m in range(len(others)) if m not in group]
                power = int(e.exp) + 1
                if power:
                    rest.append(Elementwise(_X0**power, (target,)))
                return Product(*rest)
    return None


def cancel_ratios(node: Node) -> Node:
    """``node`` with every scalar sub-network cancelled against a reciprocal power of itself."""

    def go(n: Node) -> Node:
        while isinstance(n, Product):
            out = _cancel_once(n)
            if out is None:
                break
            n = out
        return n

    return postmap(node, go)


__all__ = ["cancel_ratios"]
