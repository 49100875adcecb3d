"""Canonical form: isomorphism of expressions up to renaming of bound legs.

An expression is encoded as a labelled graph (:mod:`symtn.rewrite.encoding`). Three keys of
increasing cost and strength are available: :func:`shape_key` (a structural hash ignoring all leg
names, computed bottom-up in linear time), :func:`canonical_key` (Weisfeiler-Lehman colour
refinement of the graph) and the exact test :func:`signed_match` / :func:`is_isomorphic`
(a colour-guided matcher verified edge by edge, with networkx VF2 and its node and edge label
matchers as the fallback; see :mod:`symtn.rewrite.matching`). The hashes are
bucket keys only: WL alone is unsound (tr(A^6) and (tr A^3)^2 collide).

Antisymmetric tensors in linear position may be matched with their slots permuted; the match then
carries the permutation's sign, so ``signed_match(E, E[i <-> j]) == -1``.
"""

from __future__ import annotations

import hashlib
from typing import Any

import networkx as nx

from symtn.ir.nodes import (
    Bubble,
    Delta,
    Elementwise,
    Iverson,
    Node,
    Product,
    Reshape,
    Shifted,
    Sum,
    Tensor,
    Zero,
)
from symtn.rewrite.encoding import FLIP, LABEL, deep_recursion, graph, srepr, symmetry_blocks
from symtn.rewrite.matching import isomorphisms

MATCH_LIMIT = 64
"""How many isomorphisms :func:`signed_match` and :func:`odd_automorphism` try at most."""

__all__ = [
    "canonical_key",
    "deep_recursion",
    "graph",
    "is_isomorphic",
    "odd_automorphism",
    "shape_key",
    "signed_match",
    "sort_key",
    "symmetry_blocks",
]


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
        key = _digest("I", srepr(size), FLIP.get(op, op))
    elif isinstance(node, Reshape):
        key = _digest("R", *(srepr(s) for _, s in node.sig))
    elif isinstance(node, Delta):
        key = _digest("D", srepr(node.dim), str(node.order))
    elif isinstance(node, Shifted):
        key = _digest("Sh", srepr(node.args[0]), str(node.args[3]))
    elif isinstance(node, Zero):
        key = _digest("Z", *sorted(srepr(s) for _, s in node.sig))
    elif isinstance(node, Product):
        key = _digest("P", *sorted(kids))
    elif isinstance(node, Sum):
        key = _digest("S", *sorted(f"{srepr(c)}*{k}" for c, k in zip(node.coeffs, kids, strict=True)))
    elif isinstance(node, Elementwise):
        key = _digest("E", srepr(node.fn), *kids)
    elif isinstance(node, Bubble):
        key = _digest("B", node.name, str(len(node.consumed)), *(srepr(s) for _, s in node.produced), *kids)
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


def signed_match(a: Node, b: Node) -> int | None:
    """``s`` with ``b == s * a`` up to renaming of bound legs (antisymmetric slots permuted with
    sign ``s``), or None if no such isomorphism is found. Prefers ``+1``."""
    if a is b:
        return 1
    if a.sizes != b.sizes or shape_key(a) != shape_key(b) or canonical_key(a) != canonical_key(b):
        return None
    ga, gb = graph(a), graph(b)
    found = None
    for count, mapping in enumerate(isomorphisms(ga, gb)):
        found = _mapping_sign(ga, gb, mapping)
        if found == 1 or count + 1 >= MATCH_LIMIT:
            break
    return found


def is_isomorphic(a: Node, b: Node) -> bool:
    """True if ``a`` and ``b`` are the same expression up to renaming of bound legs.

    Free legs must agree by name and size. Factor order, term order and bound-leg names do not
    matter; declared symmetries are used. The check is an exact graph match (colour-guided
    search, networkx VF2 as its fallback), never a hash comparison, and sound: True implies
    equal values. It does not simplify first (see ``simplify``).
    """
    return signed_match(a, b) == 1


def odd_automorphism(node: Node) -> bool:
    """True if ``node`` has a bound-leg symmetry acting oddly on its antisymmetric slots
    (so ``node == -node == 0``). Tries at most ``MATCH_LIMIT`` automorphisms."""
    g = graph(node)
    if not any("anti" in d for _, d in g.nodes(data=True)):
        return False
    canonical_key(node)  # colours for the matcher
    for count, mapping in enumerate(isomorphisms(g, g)):
        if _mapping_sign(g, g, mapping) == -1:
            return True
        if count + 1 >= MATCH_LIMIT:
            break
    return False
