"""All IR traversal: post-order maps, node iteration, fresh leg names and leg renaming."""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterator

from symtn.ir.nodes import (
    Bubble,
    Delta,
    Elementwise,
    Frozen,
    Iverson,
    Node,
    Product,
    Reshape,
    Shifted,
    Sum,
    Tensor,
    Zero,
)

_counter = itertools.count(1)


def fresh(base: str = "") -> str:
    """A new bound-leg name, unique in this process (``_7``, ``_i8``)."""
    base = base.lstrip("_").rstrip("'")
    return f"_{base}{next(_counter)}"


def preorder(node: Node) -> Iterator[Node]:
    """Every distinct node reachable from ``node`` (each shared node once)."""
    seen: set[int] = set()
    stack = [node]
    while stack:
        n = stack.pop()
        if id(n) in seen:
            continue
        seen.add(id(n))
        yield n
        stack.extend(reversed(n.children))


def postmap(node: Node, fn: Callable[[Node], Node]) -> Node:
    """Rebuild bottom-up: children first, then ``fn`` on the rebuilt node (memoised)."""
    memo: dict[Node, Node] = {}

    def go(n: Node) -> Node:
        hit = memo.get(n)
        if hit is not None:
            return hit
        kids = n.children
        if kids:
            new_kids = tuple(go(k) for k in kids)
            m = n if all(a is b for a, b in zip(new_kids, kids, strict=True)) else n.with_children(new_kids)
        else:
            m = n
        out = fn(m)
        memo[n] = out
        return out

    return go(node)


def tensors(node: Node) -> list[Tensor]:
    """Distinct tensor variables (declared form) occurring in ``node``, in first-seen order."""
    out: dict[Tensor, None] = {}
    for n in preorder(node):
        if isinstance(n, Tensor):
            out[n.variable] = None
    return list(out)


def all_leg_names(node: Node) -> set[str]:
    """Every leg name used anywhere inside ``node`` (free or bound)."""
    names: set[str] = set()
    for n in preorder(node):
        names.update(n.legs)
        if isinstance(n, Bubble):
            names.update(n.consumed)
    return names


def rename_legs(node: Node, mapping: dict[str, str]) -> Node:
    """Rename free legs of ``node`` simultaneously (no validation; see algebra.rename).

    Bound legs that would clash with a new name are renamed to fresh names first, so the
    result is always well formed when the new free names are distinct. Memoised per call, so
    a shared subexpression (``Elementwise(f, (u, u))``) is renamed once: linear in the DAG.
    """
    return _rename(node, mapping, {})


_RenameMemo = dict[tuple[Node, frozenset[tuple[str, str]]], Node]


def _rename(node: Node, mapping: dict[str, str], memo: _RenameMemo) -> Node:
    mapping = {a: b for a, b in mapping.items() if a != b and a in node.legset}
    if not mapping:
        return node
    key = (node, frozenset(mapping.items()))
    hit = memo.get(key)
    if hit is None:
        hit = memo[key] = _rename_node(node, mapping, memo)
    return hit


def _rename_node(node: Node, mapping: dict[str, str], memo: _RenameMemo) -> Node:
    def rename_legs(n: Node, m: dict[str, str]) -> Node:
        return _rename(n, m, memo)

    if isinstance(node, Tensor):
        return Tensor(node.name, node.slots, tuple(mapping.get(x, x) for x in node.legs), node.facts)
    if isinstance(node, Delta):
        return Delta(node.dim, tuple(mapping.get(x, x) for x in node.args[1]))
    if isinstance(node, Shifted):
        size, a, b, k = node.args
        return Shifted(size, mapping.get(a, a), mapping.get(b, b), k)
    if isinstance(node, Iverson):
        size, a, op, b = node.args
        return Iverson(size, mapping.get(a, a), op, mapping.get(b, b))
    if isinstance(node, Reshape):
        parts = tuple((mapping.get(x, x), s) for x, s in node.parts)
        w, s = node.whole
        return Reshape(parts, (mapping.get(w, w), s))
    if isinstance(node, Zero):
        return Zero(tuple((mapping.get(x, x), s) for x, s in node.sig))
    if isinstance(node, Sum):
        return Sum(tuple(rename_legs(t, mapping) for t in node.terms), node.coeffs)
    if isinstance(node, Elementwise):
        return Elementwise(node.fn, tuple(rename_legs(o, mapping) for o in node.operands))
    if isinstance(node, Frozen):
        return Frozen(rename_legs(node.inner, mapping))
    if isinstance(node, Product):
        targets = set(mapping.values())
        wires = node.wires()
        clash = {w: fresh(w) for w in wires if w in targets}
        full = {**clash, **mapping}
        factors = []
        for f in node.args:
            sub = {a: b for a, b in full.items() if a in f.legset}
            factors.append(rename_legs(f, sub))
        return Product(*factors)
    if isinstance(node, Bubble):
        targets = set(mapping.values())
        inner_map = {c: fresh(c) for c in node.consumed if c in targets}
        consumed = tuple(inner_map.get(c, c) for c in node.consumed)
        lifted = {a: b for a, b in mapping.items() if a in node.operand.legset and a not in node.consumed}
        operand = rename_legs(node.operand, {**inner_map, **lifted})
        produced = tuple((mapping.get(x, x), s) for x, s in node.produced)
        return Bubble(node.name, operand, consumed, produced)
    raise TypeError(f"cannot rename legs of {type(node).__name__}")
