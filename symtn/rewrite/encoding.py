"""Expressions as labelled graphs (the encoding behind ``canonical``).

One vertex per tree-node occurrence, labelled by its kind and payload (Tensor: name, slots and
facts; Delta: size; Shifted: size and offset; Iverson: size and comparison, ``>`` written as a
flipped ``<``; Reshape: part sizes; Elementwise: the sympy rule; Bubble: name; Sum: each term's
coefficient on the parent->term edge; Elementwise: the operand index on its edge). One *port*
vertex per (occurrence, free leg), joined to its owner and labelled by the leg's role and size:
Tensor ports by declared slot, Delta ports all alike, Shifted/Iverson ports by position, Reshape
ports by part index or whole, Bubble ports as consumed-k / produced-k / lifted. A child's port is
joined to its parent's port of the same leg; the two ports of a product wire are joined to each
other. The root's ports carry the free leg names, so free legs match by name (a matrix is not
its transpose) while bound legs are anonymous.

Symmetries are blocks: slots of one ``symmetric`` group hang off a block vertex each, so an
isomorphism may permute the blocks (``S[i, j]`` matches ``S[j, i]``). ``antisymmetric`` groups
are encoded the same way only in *linear position* (reached from the root through products and
``frozen`` alone), where their block vertices carry ``anti = (tensor vertex, block index)`` so
a matcher can charge the permutation's sign. Elsewhere (under a sum or a function) their slots
keep distinct roles, which is exact.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager
from functools import lru_cache
from typing import Any

import networkx as nx
import sympy as sp

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

LABEL = "l"
FLIP = {">": "<", ">=": "<="}


@contextmanager
def deep_recursion(limit: int = 100_000) -> Iterator[None]:
    """Temporarily raise the interpreter's recursion limit for deep expression trees."""
    old = sys.getrecursionlimit()
    sys.setrecursionlimit(max(old, limit))
    try:
        yield
    finally:
        sys.setrecursionlimit(old)


@lru_cache(maxsize=4096)
def srepr(expr: sp.Basic) -> str:
    return sp.srepr(expr)


def symmetry_blocks(t: Tensor, kind: str) -> list[tuple[int, list[list[int]]]]:
    """The usable ``kind`` facts of ``t`` as ``(fact index, blocks of slot indices)``.

    A fact is skipped when it names an unknown slot, mixes block lengths or overlaps an earlier
    symmetry fact (ignoring a symmetry is always sound).
    """
    cached = t._cache.get(f"blocks.{kind}")
    if cached is not None:
        return cached  # type: ignore[no-any-return]
    if not t.facts:
        t._cache[f"blocks.{kind}"] = []
        return []
    index = {s: i for i, (s, _) in enumerate(t.slots)}
    taken: set[int] = set()
    out: list[tuple[int, list[list[int]]]] = []
    for fi, fact in enumerate(t.facts):
        if fact[0] not in ("symmetric", "antisymmetric") or len(fact) < 2:
            continue
        blocks = [[g] if isinstance(g, str) else list(g) for g in fact[1]]
        if len(blocks) < 2 or any(s not in index for b in blocks for s in b):
            continue
        if len({len(b) for b in blocks}) != 1:
            continue
        slots = [index[s] for b in blocks for s in b]
        if len(set(slots)) != len(slots) or taken & set(slots):
            continue
        taken.update(slots)
        if fact[0] == kind:
            out.append((fi, [[index[s] for s in b] for b in blocks]))
    t._cache[f"blocks.{kind}"] = out
    return out


class _Builder:
    """Builds the labelled graph of one expression tree (occurrences are not shared)."""

    def __init__(self) -> None:
        self.g = nx.Graph()

    def vertex(self, label: str, **data: Any) -> int:
        v = self.g.number_of_nodes()
        self.g.add_node(v, **{LABEL: label}, **data)
        return v

    def edge(self, u: int, v: int, label: str) -> None:
        self.g.add_edge(u, v, **{LABEL: label})

    def port(self, owner: int, role: str, size: sp.Expr, via: str = "o") -> int:
        p = self.vertex(f"{role}|{srepr(size)}")
        self.edge(owner, p, via)
        return p

    def own_ports(self, v: int, node: Node, role: str) -> dict[str, int]:
        return {leg: self.port(v, role, size) for leg, size in node.sig}

    def build(self, node: Node, linear: bool) -> tuple[int, dict[str, int]]:
        """Add ``node``'s subtree; return its vertex and its ports by leg name."""
        if isinstance(node, Tensor):
            return self.tensor(node, linear)
        if isinstance(node, Delta):
            v = self.vertex(f"Delta|{srepr(node.dim)}")
            return v, self.own_ports(v, node, "d")
        if isinstance(node, Shifted):
            size, a, b, k = node.args
            v = self.vertex(f"Shifted|{srepr(size)}|{k}")
            return v, {a: self.port(v, "a", size), b: self.port(v, "b", size)}
        if isinstance(node, Iverson):
            size, a, op, b = node.args
            if op in FLIP:
                a, op, b = b, FLIP[op], a
            v = self.vertex(f"Iverson|{srepr(size)}|{op}")
            ra, rb = ("x", "x") if op == "!=" else ("a", "b")
            return v, {a: self.port(v, ra, size), b: self.port(v, rb, size)}
        if isinstance(node, Reshape):
            v = self.vertex("Reshape|" + ",".join(srepr(s) for _, s in node.parts))
            ports = {leg: self.port(v, f"part{k}", s) for k, (leg, s) in enumerate(node.parts)}
            ports[node.whole[0]] = self.port(v, "whole", node.whole[1])
            return v, ports
        if isinstance(node, Zero):
            v = self.vertex("Zero")
            return v, self.own_ports(v, node, "z")
        if isinstance(node, Product):
            return self.product(node, linear)
        if isinstance(node, Sum):
            v = self.vertex("Sum")
            ports = self.own_ports(v, node, "s")
            for t, c in zip(node.terms, node.coeffs, strict=True):
                self.child(v, t, False, f"term|{srepr(c)}", ports)
            return v, ports
        if isinstance(node, Elementwise):
            v = self.vertex(f"Elementwise|{srepr(node.fn)}")
            ports = self.own_ports(v, node, "e")
            for i, o in enumerate(node.operands):
                self.child(v, o, False, f"operand{i}", ports)
            return v, ports
        if isinstance(node, Bubble):
            return self.bubble(node)
        if isinstance(node, Frozen):
            v = self.vertex("Frozen")
            ports = self.own_ports(v, node, "f")
            self.child(v, node.inner, linear, "inner", ports)
            return v, ports
        raise TypeError(f"cannot encode {type(node).__name__}")

    def child(self, v: int, node: Node, linear: bool, via: str, ports: dict[str, int]) -> dict[str, int]:
        cv, cports = self.build(node, linear)
        self.edge(v, cv, via)
        for leg, p in cports.items():
            if leg in ports:
                self.edge(p, ports[leg], "up")
        return cports

    def tensor(self, t: Tensor, linear: bool) -> tuple[int, dict[str, int]]:
        slots = ",".join(f"{s}:{srepr(size)}" for s, size in t.slots)
        v = self.vertex(f"Tensor|{t.name}|{slots}|{t.facts}")
        legs = t.legs
        ports: dict[str, int] = {}
        kinds = ("symmetric", "antisymmetric") if linear else ("symmetric",)
        for kind in kinds:
            for fi, blocks in symmetry_blocks(t, kind):
                for bi, block in enumerate(blocks):
                    data = {"anti": (v, bi)} if kind == "antisymmetric" else {}
                    bv = self.vertex(f"{kind}|{fi}", **data)
                    self.edge(v, bv, "block")
                    for pos, slot in enumerate(block):
                        ports[legs[slot]] = self.port(bv, "sym", t.slots[slot][1], via=f"pos{pos}")
        for (name, size), leg in zip(t.slots, legs, strict=True):
            if leg not in ports:
                ports[leg] = self.port(v, f"slot:{name}", size)
        return v, ports

    def product(self, node: Product, linear: bool) -> tuple[int, dict[str, int]]:
        v = self.vertex("Product")
        ports = self.own_ports(v, node, "p")
        seen: dict[str, int] = {}
        for f in node.args:
            for leg, p in self.child(v, f, linear, "factor", ports).items():
                if leg in ports:
                    continue
                if leg in seen:
                    self.edge(seen.pop(leg), p, "wire")
                else:
                    seen[leg] = p
        return v, ports

    def bubble(self, node: Bubble) -> tuple[int, dict[str, int]]:
        v = self.vertex(f"Bubble|{node.name}|{len(node.consumed)}")
        ports = {leg: self.port(v, "lift", s) for leg, s in node.sig[: len(node.sig) - len(node.produced)]}
        for k, (leg, s) in enumerate(node.produced):
            ports[leg] = self.port(v, f"produced{k}", s)
        cv, cports = self.build(node.operand, False)
        self.edge(v, cv, "operand")
        for k, leg in enumerate(node.consumed):
            self.edge(cports[leg], v, f"consumed{k}")
        for leg, p in cports.items():
            if leg not in node.consumed:
                self.edge(p, ports[leg], "up")
        return v, ports


def graph(node: Node) -> nx.Graph:
    """The labelled graph of ``node`` (cached on the node); root ports carry free leg names."""
    g = node._cache.get("graph")
    if g is None:
        b = _Builder()
        with deep_recursion():
            _, ports = b.build(node, True)
        for leg, p in ports.items():
            b.g.nodes[p][LABEL] += f"|free:{leg}"
        g = node._cache["graph"] = b.g
    return g  # type: ignore[no-any-return]
