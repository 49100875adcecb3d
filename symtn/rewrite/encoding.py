"""Expressions as vertex-coloured graphs (the encoding behind ``canonical``).

One vertex per tree-node occurrence, labelled by its kind and payload (Tensor: name, slots and
facts; Delta: size; Shifted: size and offset; Iverson: size and comparison, ``>`` written as a
flipped ``<``; Reshape: part sizes; Elementwise: the sympy rule; Bubble: name). One *port*
vertex per (occurrence, free leg), joined to its owner and labelled by the leg's role and size:
Tensor ports by declared slot, Delta ports all alike, Shifted/Iverson ports by position, Reshape
ports by part index or whole, Bubble ports as consumed-k / produced-k / lifted. A child's port is
joined to its parent's port of the same leg ("up"); the two ports of a product wire are joined
to each other. The root's ports are listed in ``Encoded.free`` by leg name: ``canonical``
colours them by name (a matrix is not its transpose) or anonymously (symmetries of free legs),
while bound legs are always anonymous.

Edge labels (a Sum term's coefficient, an Elementwise operand's index, "up", ...) become a
labelled vertex subdividing the edge, so the graph has vertex colours only (what BLISS takes).
Four labels are left implicit, as direct edges: "owns" (owner - port), "factor" (Product -
factor), "wire" (port - port) and "block" (Tensor - symmetry block). This is exact: every
subdivided edge passes through an edge-label vertex, which no isomorphism maps to a node or
port vertex, and the four implicit labels join disjoint kinds of endpoint (node - port,
Product - node, port - port, Tensor - block), so the endpoints' colours tell them apart.

Symmetries are blocks: slots of one ``symmetric`` group hang off a block vertex each, so an
isomorphism may permute the blocks (``S[i, j]`` matches ``S[j, i]``). ``antisymmetric`` groups
are encoded the same way only in *linear position* (reached from the root through products and
``frozen`` alone), where ``Encoded.anti`` records each block vertex's ``(tensor vertex, block
index)`` so that an isomorphism's sign can be charged. Elsewhere (under a sum or a function)
their slots keep distinct roles, which is exact.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache

import networkx as nx
import sympy as sp

from symtn.ir.depth import deep_recursion
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

FLIP = {">": "<", ">=": "<="}


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


@dataclass
class Encoded:
    """The coloured graph of one expression tree.

    Attributes:
        labels: one label per vertex (vertex ids are list positions).
        edges: undirected edges as vertex pairs (a simple graph).
        free: the root's port vertex for each free leg.
        anti: block vertex -> ``(tensor vertex, block index)`` for antisymmetric blocks in
            linear position.
        factors: for a Product root, the vertex of each factor (in ``args`` order); else empty.
    """

    labels: list[str] = field(default_factory=list)
    edges: list[tuple[int, int]] = field(default_factory=list)
    free: dict[str, int] = field(default_factory=dict)
    anti: dict[int, tuple[int, int]] = field(default_factory=dict)
    factors: list[int] = field(default_factory=list)


class _Builder:
    """Builds the coloured graph of one expression tree (occurrences are not shared)."""

    def __init__(self) -> None:
        self.enc = Encoded()

    def vertex(self, label: str) -> int:
        self.enc.labels.append(label)
        return len(self.enc.labels) - 1

    def edge(self, u: int, v: int, label: str | None = None) -> None:
        """Join ``u`` and ``v``; a labelled edge is subdivided by a vertex carrying the label."""
        if label is None:
            self.enc.edges.append((u, v))
        else:
            m = self.vertex("E:" + label)
            self.enc.edges.append((u, m))
            self.enc.edges.append((m, v))

    def port(self, owner: int, role: str, size: sp.Expr) -> int:
        p = self.vertex(f"P:{role}|{srepr(size)}")
        self.edge(owner, p)
        return p

    def own_ports(self, v: int, node: Node, role: str) -> dict[str, int]:
        return {leg: self.port(v, role, size) for leg, size in node.sig}

    def build(self, node: Node, linear: bool) -> tuple[int, dict[str, int]]:
        """Add ``node``'s subtree; return its vertex and its ports by leg name."""
        if isinstance(node, Tensor):
            return self.tensor(node, linear)
        if isinstance(node, Delta):
            v = self.vertex(f"N:Delta|{srepr(node.dim)}")
            return v, self.own_ports(v, node, "d")
        if isinstance(node, Shifted):
            size, a, b, k = node.args
            v = self.vertex(f"N:Shifted|{srepr(size)}|{k}")
            return v, {a: self.port(v, "a", size), b: self.port(v, "b", size)}
        if isinstance(node, Iverson):
            size, a, op, b = node.args
            if op in FLIP:
                a, op, b = b, FLIP[op], a
            v = self.vertex(f"N:Iverson|{srepr(size)}|{op}")
            ra, rb = ("x", "x") if op == "!=" else ("a", "b")
            return v, {a: self.port(v, ra, size), b: self.port(v, rb, size)}
        if isinstance(node, Reshape):
            v = self.vertex("N:Reshape|" + ",".join(srepr(s) for _, s in node.parts))
            ports = {leg: self.port(v, f"part{k}", s) for k, (leg, s) in enumerate(node.parts)}
            ports[node.whole[0]] = self.port(v, "whole", node.whole[1])
            return v, ports
        if isinstance(node, Zero):
            v = self.vertex("N:Zero")
            return v, self.own_ports(v, node, "z")
        if isinstance(node, Product):
            return self.product(node, linear)
        if isinstance(node, Sum):
            v = self.vertex("N:Sum")
            ports = self.own_ports(v, node, "s")
            for t, c in zip(node.terms, node.coeffs, strict=True):
                self.child(v, t, False, f"term|{srepr(c)}", ports)
            return v, ports
        if isinstance(node, Elementwise):
            v = self.vertex(f"N:Elementwise|{srepr(node.fn)}")
            ports = self.own_ports(v, node, "e")
            for i, o in enumerate(node.operands):
                self.child(v, o, False, f"operand{i}", ports)
            return v, ports
        if isinstance(node, Bubble):
            return self.bubble(node)
        if isinstance(node, Frozen):
            v = self.vertex("N:Frozen")
            ports = self.own_ports(v, node, "f")
            self.child(v, node.inner, linear, "inner", ports)
            return v, ports
        raise TypeError(f"cannot encode {type(node).__name__}")

    def child(
        self, v: int, node: Node, linear: bool, via: str | None, ports: dict[str, int]
    ) -> tuple[int, dict[str, int]]:
        cv, cports = self.build(node, linear)
        self.edge(v, cv, via)
        for leg, p in cports.items():
            if leg in ports:
                self.edge(p, ports[leg], "up")
        return cv, cports

    def tensor(self, t: Tensor, linear: bool) -> tuple[int, dict[str, int]]:
        slots = ",".join(f"{s}:{srepr(size)}" for s, size in t.slots)
        v = self.vertex(f"N:Tensor|{t.name}|{slots}|{t.facts}")
        legs = t.legs
        ports: dict[str, int] = {}
        kinds = ("symmetric", "antisymmetric") if linear else ("symmetric",)
        for kind in kinds:
            for fi, blocks in symmetry_blocks(t, kind):
                for bi, block in enumerate(blocks):
                    bv = self.vertex(f"B:{kind}|{fi}")
                    if kind == "antisymmetric":
                        self.enc.anti[bv] = (v, bi)
                    self.edge(v, bv)
                    for pos, slot in enumerate(block):
                        ports[legs[slot]] = self.port(bv, f"sym{pos}", t.slots[slot][1])
        for (name, size), leg in zip(t.slots, legs, strict=True):
            if leg not in ports:
                ports[leg] = self.port(v, f"slot:{name}", size)
        return v, ports

    def product(self, node: Product, linear: bool) -> tuple[int, dict[str, int]]:
        v = self.vertex("N:Product")
        ports = self.own_ports(v, node, "p")
        seen: dict[str, int] = {}
        kids: list[int] = []
        for f in node.args:
            cv, cports = self.child(v, f, linear, None, ports)
            kids.append(cv)
            for leg, p in cports.items():
                if leg in ports:
                    continue
                if leg in seen:
                    self.edge(seen.pop(leg), p)
                else:
                    seen[leg] = p
        if v == 0:
            self.enc.factors = kids
        return v, ports

    def bubble(self, node: Bubble) -> tuple[int, dict[str, int]]:
        v = self.vertex(f"N:Bubble|{node.name}|{len(node.consumed)}")
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


def encode(node: Node) -> Encoded:
    """The coloured graph of ``node`` (cached on the node)."""
    enc = node._cache.get("encoded")
    if enc is None:
        b = _Builder()
        with deep_recursion():
            _, b.enc.free = b.build(node, True)
        enc = node._cache["encoded"] = b.enc
    return enc  # type: ignore[no-any-return]


def graph(node: Node) -> nx.Graph:
    """``node``'s encoding as a networkx graph (vertex attribute ``"l"``: the label, with free
    legs named), for inspection and for checking the canonical form against networkx VF2."""
    enc = encode(node)
    g = nx.Graph()
    named = {p: f"{enc.labels[p]}|free:{leg}" for leg, p in enc.free.items()}
    for v, label in enumerate(enc.labels):
        g.add_node(v, l=named.get(v, label))
    g.add_edges_from(enc.edges)
    return g
