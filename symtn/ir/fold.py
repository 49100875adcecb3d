"""Recognise the network the frontend builds for ``softmax[ax](x)`` so the printer can fold it.

After simplification ``softmax[i](X)`` is a product ``exp(T1) @ (delta[c] @ exp(T2))^-1 @
copies``, where ``T2`` is ``T1`` with the softmax legs renamed to the summed legs ``c`` and the
copy tensors tie the remaining legs of both sides together. The match is exact: ``T1`` and ``T2``
must be equal nodes after renaming, and every wire and free leg must be accounted for.
"""

from __future__ import annotations

import itertools

import sympy as sp

from symtn.ir.nodes import Delta, Elementwise, Node, Product
from symtn.ir.walk import rename_legs

_X0 = sp.Symbol("x0", real=True)


def _is(node: Node, fn: sp.Expr) -> bool:
    return isinstance(node, Elementwise) and node.fn == fn


def match_softmax(node: Node) -> tuple[Node, list[str], dict[str, str]] | None:
    """``(T1, softmax legs of T1, T1 leg -> free leg of node)`` when ``node`` is a softmax."""
    if not isinstance(node, Product):
        return None
    num = [f for f in node.args if _is(f, sp.exp(_X0))]
    rec = [f for f in node.args if _is(f, 1 / _X0)]
    copies = [f for f in node.args if isinstance(f, Delta) and f.order >= 2]
    if len(num) != 1 or len(rec) != 1 or len(num) + len(rec) + len(copies) != len(node.args):
        return None
    inner = rec[0].operands[0]  # type: ignore[attr-defined]
    if not isinstance(inner, Product):
        return None
    sums = [f for f in inner.args if isinstance(f, Delta) and f.order == 1]
    exps = [f for f in inner.args if _is(f, sp.exp(_X0))]
    if len(exps) != 1 or len(sums) + 1 != len(inner.args) or inner.wires() != {f.legs[0] for f in sums}:
        return None
    t1, t2 = num[0].operands[0], exps[0].operands[0]  # type: ignore[attr-defined]
    # union of legs tied by copy tensors; each class is named by its free leg
    parent: dict[str, str] = {}

    def find(x: str) -> str:
        while parent.get(x, x) != x:
            x = parent[x]
        return x

    for d in copies:
        for a in d.legs[1:]:
            parent[find(a)] = find(d.legs[0])
    free = set(node.legs)
    name: dict[str, str] = {}
    for leg in [*t1.legs, *inner.legs, *(x for d in copies for x in d.legs)]:
        hits = {x for x in free if find(x) == find(leg)}
        if len(hits) > 1:
            return None
        if hits:
            name[leg] = hits.pop()
    if not all(leg in name for leg in inner.legs):
        return None
    tied = {find(x) for x in inner.legs}  # legs the denominator keeps: not the softmax axes
    ax = [leg for leg in t1.legs if find(leg) not in tied]
    summed = [f.legs[0] for f in sums]
    if len(ax) != len(summed) or not all(leg in name for leg in t1.legs):
        return None
    if sorted(name[leg] for leg in t1.legs) != sorted(node.legs):
        return None
    t1_named = rename_legs(t1, {leg: name[leg] for leg in t1.legs})
    for perm in itertools.permutations(ax):
        mapping = {leg: name[leg] for leg in t2.legs if leg in name}
        mapping.update({c: name[a] for c, a in zip(summed, perm, strict=True)})
        if set(mapping) == set(t2.legs) and rename_legs(t2, mapping) == t1_named:
            return t1, ax, {leg: name[leg] for leg in t1.legs}
    return None


def match_logsumexp(node: Node) -> tuple[list[str], Node] | None:
    """``(summed legs, T)`` when ``node`` is ``log(delta[a] @ exp(T))``, i.e. ``logsumexp[a](T)``."""
    if not (_is(node, sp.log(_X0)) and isinstance(node.operands[0], Product)):  # type: ignore[attr-defined]
        return None
    inner = node.operands[0]  # type: ignore[attr-defined]
    sums = [f for f in inner.args if isinstance(f, Delta) and f.order == 1]
    rest = [f for f in inner.args if not (isinstance(f, Delta) and f.order == 1)]
    if sums and len(rest) == 1 and _is(rest[0], sp.exp(_X0)) and inner.wires() == {f.legs[0] for f in sums}:
        return [f.legs[0] for f in sums], rest[0].operands[0]  # type: ignore[attr-defined]
    return None


def match_trace(node: Node) -> tuple[list[str], Node] | None:
    """``([a, b], T)`` when ``node`` is ``T[a, b] @ delta[a, b]``, i.e. ``trace[a, b](T)``."""
    if isinstance(node, Product) and len(node.args) == 2:
        d = [f for f in node.args if isinstance(f, Delta) and f.order == 2]
        if len(d) == 1 and set(d[0].legs) == node.wires() and len(node.wires()) == 2:
            other = node.args[0] if node.args[1] is d[0] else node.args[1]
            if not isinstance(other, Delta):
                return list(d[0].legs), other
    return None
