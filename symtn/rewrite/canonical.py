"""Canonical form: an expression as a labelled graph, isomorphism up to renaming of bound legs.

Encoding (DESIGN.md section 4): one vertex per tree-node occurrence, labelled by its kind and
payload; one *port* vertex per (occurrence, free leg), joined to its owner and labelled by the
leg's role and size. A child's port is joined to the parent's port of the same leg; the two
ports of a product wire are joined to each other. The root's ports carry the free leg names, so
free legs match by name (a matrix is not its transpose) while bound legs are anonymous.

Symmetries are blocks: slots of one ``symmetric`` group hang off a block vertex each, so an
isomorphism may permute the blocks (``S[i, j]`` matches ``S[j, i]``). ``antisymmetric`` groups
are encoded the same way only in *linear position* (reached from the root through products and
``frozen`` alone), where a permutation costs its sign: :func:`signed_match` returns the sign.
Elsewhere (under a sum, a function) their slots keep distinct roles, which is exact.

Weisfeiler-Lehman hashing (:func:`canonical_key`) is a bucket key only; equality is decided by
networkx's VF2 matcher with node and edge label matchers.
"""

from __future__ import annotations

import hashlib
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from functools import lru_cache
from typing import Any

import networkx as nx
import sympy as sp
from networkx.algorithms.isomorphism import GraphMatcher

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
MATCH_LIMIT = 64
"""How many isomorphisms :func:`signed_match` and :func:`odd_automorphism` try at most."""

_FLIP = {">": "<", ">=": "<="}


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
def _srepr(expr: sp.Basic) -> str:
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
        p = self.vertex(f"{role}|{_srepr(size)}")
        self.edge(owner, p, via)
        return p

    def own_ports(self, v: int, node: Node, role: str) -> dict[str, int]:
        return {leg: self.port(v, role, size) for leg, size in node.sig}

    def build(self, node: Node, linear: bool) -> tuple[int, dict[str, int]]:
        """Add ``node``'s subtree; return its vertex and its ports by leg name."""
        if isinstance(node, Tensor):
            return self.tensor(node, linear)
        if isinstance(node, Delta):
            v = self.vertex(f"Delta|{_srepr(node.dim)}")
            return v, self.own_ports(v, node, "d")
        if isinstance(node, Shifted):
            size, a, b, k = node.args
            v = self.vertex(f"Shifted|{_srepr(size)}|{k}")
            return v, {a: self.port(v, "a", size), b: self.port(v, "b", size)}
        if isinstance(node, Iverson):
            size, a, op, b = node.args
            if op in _FLIP:
                a, op, b = b, _FLIP[op], a
            v = self.vertex(f"Iverson|{_srepr(size)}|{op}")
            ra, rb = ("x", "x") if op == "!=" else ("a", "b")
            return v, {a: self.port(v, ra, size), b: self.port(v, rb, size)}
        if isinstance(node, Reshape):
            v = self.vertex("Reshape|" + ",".join(_srepr(s) for _, s in node.parts))
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
                self.child(v, t, False, f"term|{_srepr(c)}", ports)
            return v, ports
        if isinstance(node, Elementwise):
            v = self.vertex(f"Elementwise|{_srepr(node.fn)}")
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
        slots = ",".join(f"{s}:{_srepr(size)}" for s, size in t.slots)
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


WL_ROUNDS = 12
"""At most this many colour-refinement rounds (fewer when the partition stabilises)."""

_IDS: dict[tuple[Any, ...], int] = {}
_SIGNATURES: list[tuple[Any, ...]] = []
_NAMES: dict[int, str] = {}


def _cid(signature: tuple[Any, ...]) -> int:
    """A process-wide integer for a refinement signature (fast to hash and compare)."""
    i = _IDS.get(signature)
    if i is None:
        i = _IDS[signature] = len(_SIGNATURES)
        _SIGNATURES.append(signature)
    return i


def _name(i: int) -> str:
    """A deterministic name for colour ``i``, derived from its signature's content only."""
    name = _NAMES.get(i)
    if name is None:
        sig = _SIGNATURES[i]
        if sig[0] == "init":
            name = _digest("init", sig[1])
        else:
            name = _digest(_name(sig[0]), *sorted(f"{e}:{_name(c)}" for e, c in sig[1]))
        _NAMES[i] = name
    return name


def _refine(g: nx.Graph) -> dict[int, str]:
    """Weisfeiler-Lehman colour refinement with edge labels, until stable or ``WL_ROUNDS``.

    Returns each vertex's colour as a deterministic string (equal colours in two graphs mean
    equal unrolled neighbourhoods).
    """
    if len(_SIGNATURES) > 2_000_000:
        _IDS.clear()
        _SIGNATURES.clear()
        _NAMES.clear()
    adj = {v: [(d[LABEL], u) for u, d in g.adj[v].items()] for v in g}
    col = {v: _cid(("init", d[LABEL])) for v, d in g.nodes(data=True)}
    classes = len(set(col.values()))
    for _ in range(WL_ROUNDS):
        col = {v: _cid((col[v], tuple(sorted((e, col[u]) for e, u in nbrs)))) for v, nbrs in adj.items()}
        count = len(set(col.values()))
        if count == classes:
            break
        classes = count
    return {v: _name(c) for v, c in col.items()}


def canonical_key(node: Node) -> str:
    """A Weisfeiler-Lehman hash of :func:`graph`: equal for isomorphic nodes (a bucket key only).

    Also stores each vertex's refined colour in the graph (attribute ``"c"``); the colours are
    isomorphism invariants, so the exact matcher may use them to prune.
    """
    key = node._cache.get("wl")
    if key is None:
        g = graph(node)
        col = _refine(g)
        nx.set_node_attributes(g, col, "c")
        key = node._cache["wl"] = _digest(*sorted(col.values()))
    return key  # type: ignore[no-any-return]


def _digest(*parts: str) -> str:
    return hashlib.blake2b("\x1f".join(parts).encode(), digest_size=12).hexdigest()


def shape_key(node: Node) -> str:
    """A cheap structural hash ignoring every leg name (memoised; equal for isomorphic nodes).

    Children are combined as sorted multisets for products and sums, in order for functions, so
    this is a coarser invariant than :func:`canonical_key`, computed bottom-up in linear time.
    """
    key = node._cache.get("shape")
    if key is not None:
        return key  # type: ignore[no-any-return]
    with deep_recursion():
        kids = [shape_key(k) for k in node.children]
    if isinstance(node, Tensor):
        key = _digest("T", node.name, repr(node.slots), repr(node.facts))
    elif isinstance(node, Iverson):
        size, _, op, _ = node.args
        key = _digest("I", _srepr(size), _FLIP.get(op, op))
    elif isinstance(node, Reshape):
        key = _digest("R", *(_srepr(s) for _, s in node.sig))
    elif isinstance(node, Delta):
        key = _digest("D", _srepr(node.dim), str(node.order))
    elif isinstance(node, Shifted):
        key = _digest("Sh", _srepr(node.args[0]), str(node.args[3]))
    elif isinstance(node, Zero):
        key = _digest("Z", *sorted(_srepr(s) for _, s in node.sig))
    elif isinstance(node, Product):
        key = _digest("P", *sorted(kids))
    elif isinstance(node, Sum):
        key = _digest("S", *sorted(f"{_srepr(c)}*{k}" for c, k in zip(node.coeffs, kids, strict=True)))
    elif isinstance(node, Elementwise):
        key = _digest("E", _srepr(node.fn), *kids)
    elif isinstance(node, Bubble):
        key = _digest("B", node.name, str(len(node.consumed)), *(_srepr(s) for _, s in node.produced), *kids)
    else:
        key = _digest(type(node).__name__, *kids)
    node._cache["shape"] = key
    return key


def sort_key(node: Node) -> tuple[int, str, str, tuple[str, ...]]:
    """A deterministic ordering key for factors and terms: kind, name, shape, free legs."""
    key = node._cache.get("sort")
    if key is None:
        head = node.name if isinstance(node, (Tensor, Bubble)) else ""
        key = node._cache["sort"] = (node.kind_order, head, shape_key(node), tuple(sorted(node.legs)))
    return key  # type: ignore[no-any-return]


def _perm_sign(perm: dict[int, int]) -> int:
    sign, seen = 1, set()
    for start in perm:
        if start in seen:
            continue
        length, i = 0, start
        while i not in seen:
            seen.add(i)
            i = perm[i]
            length += 1
        if length % 2 == 0:
            sign = -sign
    return sign


def _mapping_sign(ga: nx.Graph, gb: nx.Graph, mapping: dict[int, int]) -> int:
    perms: dict[int, dict[int, int]] = {}
    for u, data in ga.nodes(data=True):
        anti = data.get("anti")
        if anti is not None:
            perms.setdefault(anti[0], {})[anti[1]] = gb.nodes[mapping[u]]["anti"][1]
    sign = 1
    for perm in perms.values():
        sign *= _perm_sign(perm)
    return sign


def _matcher(ga: nx.Graph, gb: nx.Graph) -> GraphMatcher:
    same = nx.algorithms.isomorphism.categorical_node_match("c", None)
    same_edge = nx.algorithms.isomorphism.categorical_edge_match(LABEL, None)
    return GraphMatcher(ga, gb, node_match=same, edge_match=same_edge)


def signed_match(a: Node, b: Node) -> int | None:
    """``s`` with ``b == s * a`` up to renaming of bound legs (antisymmetric slots permuted with
    sign ``s``), or None if no such isomorphism is found. Prefers ``+1``."""
    if a is b:
        return 1
    if a.sizes != b.sizes or shape_key(a) != shape_key(b) or canonical_key(a) != canonical_key(b):
        return None
    ga, gb = graph(a), graph(b)
    found = None
    for count, mapping in enumerate(_matcher(ga, gb).isomorphisms_iter()):
        found = _mapping_sign(ga, gb, mapping)
        if found == 1 or count + 1 >= MATCH_LIMIT:
            break
    return found


def is_isomorphic(a: Node, b: Node) -> bool:
    """True if ``a`` and ``b`` are the same expression up to renaming of bound legs.

    Free legs must agree by name and size. Factor order, term order and bound-leg names do not
    matter; declared symmetries are used. The check is exact (VF2), never a hash comparison, and
    sound: True implies equal values. It does not simplify first (see ``simplify``).
    """
    return signed_match(a, b) == 1


def odd_automorphism(node: Node) -> bool:
    """True if ``node`` has a bound-leg symmetry acting oddly on its antisymmetric slots
    (so ``node == -node == 0``). Tries at most ``MATCH_LIMIT`` automorphisms."""
    g = graph(node)
    if not any("anti" in d for _, d in g.nodes(data=True)):
        return False
    canonical_key(node)  # colours for the matcher
    for count, mapping in enumerate(_matcher(g, g).isomorphisms_iter()):
        if _mapping_sign(g, g, mapping) == -1:
            return True
        if count + 1 >= MATCH_LIMIT:
            break
    return False
