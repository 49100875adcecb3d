"""Canonical form: equality of expressions up to renaming of bound legs, as a key comparison.

An expression is encoded as a vertex-coloured graph (:mod:`symtn.rewrite.encoding`). Its
canonical labelling is computed once per node and cached on it, by BLISS (Junttila and Kaski,
"Engineering an efficient canonical labeling tool for large and sparse graphs", ALENEX 2007)
through python-igraph: colour refinement to an equitable partition, then individualisation-
refinement with automorphism pruning. The canonical key is a digest of the relabelled graph
(colours and edges in canonical order), so two nodes have equal keys exactly when they are
isomorphic: the same expression up to renaming of bound legs, free legs matched by name and
size (a matrix is not equal to its transpose), factor and term order ignored, declared
symmetries used. The key depends only on the graph, never on hash seeds or object addresses.

Antisymmetric tensors in linear position may be matched with their slots permuted; the match then
carries the permutation's sign. Each node stores the sign of its antisymmetric blocks' order in
the canonical labelling, so ``signed_match(E, E[i <-> j]) == -1`` is two cached lookups.

Symmetries come from the same machinery: BLISS returns generators of the automorphism group,
from which :func:`orbits` (of free legs and of a network's factors) and :func:`symmetries` are
read without enumerating the group. :func:`shape_key` is a cheaper structural hash (leg names
ignored) used to bucket terms before a canonical form is needed.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from networkx.utils import UnionFind

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
from symtn.rewrite.encoding import FLIP, Encoded, deep_recursion, encode, graph, srepr, symmetry_blocks

if TYPE_CHECKING:
    import igraph

__all__ = [
    "Orbits",
    "canonical_key",
    "deep_recursion",
    "graph",
    "is_isomorphic",
    "matching_orbits",
    "permutation_sign",
    "odd_automorphism",
    "orbits",
    "shape_key",
    "signed_match",
    "sort_key",
    "symmetries",
    "symmetry_blocks",
]


def _digest(*parts: str) -> str:
    return hashlib.blake2b("\x1f".join(parts).encode(), digest_size=12).hexdigest()


def _igraph() -> Any:
    """python-igraph, imported on first use (it adds ~0.3 s to start-up)."""
    import igraph

    return igraph


def _coloured(node: Node, named: bool) -> tuple[igraph.Graph, list[int], list[str]]:
    """``node``'s graph for igraph with integer colours (cached on the node).

    Colours number the distinct labels in sorted order, so equal label multisets give equal
    colourings. Root ports carry their leg name when ``named``, an anonymous mark otherwise.
    Returns the graph, the colour of each vertex and the palette (label of each colour).
    """
    slot = "canon.named" if named else "canon.anonymous"
    hit = node._cache.get(slot)
    if hit is None:
        enc = encode(node)
        labels = list(enc.labels)
        for leg, p in enc.free.items():
            labels[p] += "|free:" + (leg if named else "")
        palette = sorted(set(labels))
        index = {label: i for i, label in enumerate(palette)}
        colours = [index[label] for label in labels]
        g = _igraph().Graph(n=len(labels), edges=enc.edges)
        hit = node._cache[slot] = (g, colours, palette)
    return hit  # type: ignore[no-any-return]


def permutation_sign(perm: Mapping[int, int] | Sequence[int]) -> int:
    """The sign (+1 or -1) of a permutation, given as a mapping or as the sequence of images of
    ``0 .. n-1``: -1 to the number of even-length cycles."""
    images = perm if isinstance(perm, Mapping) else dict(enumerate(perm))
    sign, seen = 1, set()
    for start in images:
        if start in seen:
            continue
        length, i = 0, start
        while i not in seen:
            seen.add(i)
            i = images[i]
            length += 1
        if length % 2 == 0:
            sign = -sign
    return sign


def _canon(node: Node) -> tuple[str, int]:
    """``(key, sign)`` of ``node`` (cached): the digest of the canonically relabelled graph, and
    the sign of the antisymmetric blocks' order under the canonical labelling."""
    hit = node._cache.get("canon")
    if hit is None:
        g, colours, palette = _coloured(node, True)
        enc = encode(node)
        # igraph returns the vertices in canonical order (checked by tests/test_canonical.py:
        # equal forms for randomly relabelled graphs); ``pos`` is each vertex's position.
        order = g.canonical_permutation(color=colours)
        pos = [0] * len(order)
        for k, v in enumerate(order):
            pos[v] = k
        edges = sorted((pos[u], pos[v]) if pos[u] < pos[v] else (pos[v], pos[u]) for u, v in enc.edges)
        key = _digest(
            "\x1e".join(palette),
            ",".join(str(colours[v]) for v in order),
            ",".join(f"{a}-{b}" for a, b in edges),
        )
        hit = node._cache["canon"] = (key, _labelling_sign(enc, pos))
    return hit  # type: ignore[no-any-return]


def _labelling_sign(enc: Encoded, pos: list[int]) -> int:
    """Product over antisymmetric tensors of the sign of their blocks' order (block indices
    listed by canonical position). For isomorphic ``a`` and ``b`` the isomorphism through the
    canonical form permutes antisymmetric slots with sign ``sign(a) * sign(b)``."""
    if not enc.anti:
        return 1
    by_tensor: dict[int, list[tuple[int, int]]] = {}
    for bv, (t, bi) in enc.anti.items():
        by_tensor.setdefault(t, []).append((pos[bv], bi))
    sign = 1
    for blocks in by_tensor.values():
        sign *= permutation_sign([bi for _, bi in sorted(blocks)])
    return sign


def canonical_key(node: Node) -> str:
    """The canonical key of ``node``: equal exactly for nodes equal up to renaming bound legs.

    Free legs count by name and size; factor order, term order and bound-leg names do not;
    declared symmetric and (in linear position) antisymmetric slot groups may be permuted, so
    ``E`` and ``-E[i <-> j]`` share a key (see :func:`signed_match` for the sign). Computed
    once per node (BLISS canonical labelling via igraph) and cached; stable across processes.
    """
    return _canon(node)[0]


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


def signed_match(a: Node, b: Node) -> int | None:
    """``s`` with ``b == s * a`` up to renaming of bound legs (antisymmetric slots permuted with
    sign ``s``), or None if the two are not isomorphic. Prefers ``+1`` (when both signs occur,
    ``a`` has an odd automorphism and is zero). Exact: compares cached canonical keys."""
    if a is b:
        return 1
    if a.sizes != b.sizes or shape_key(a) != shape_key(b):
        return None
    (ka, sa), (kb, sb) = _canon(a), _canon(b)
    if ka != kb:
        return None
    if sa * sb == -1 and odd_automorphism(a):
        return 1
    return sa * sb


def is_isomorphic(a: Node, b: Node) -> bool:
    """True if ``a`` and ``b`` are the same expression up to renaming of bound legs.

    Free legs must agree by name and size. Factor order, term order and bound-leg names do not
    matter; declared symmetries are used. Exact and sound (True implies equal values): the
    canonical keys are compared. It does not simplify first (see ``simplify``).
    """
    return signed_match(a, b) == 1


def _generators(node: Node, named: bool) -> list[list[int]]:
    """Generators of the automorphism group of ``node``'s graph (BLISS, cached)."""
    slot = "canon.gens.named" if named else "canon.gens.anonymous"
    gens = node._cache.get(slot)
    if gens is None:
        g, colours, _ = _coloured(node, named)
        gens = node._cache[slot] = g.automorphism_group(color=colours)
    return gens  # type: ignore[no-any-return]


def _automorphism_sign(enc: Encoded, gen: list[int]) -> int:
    """The sign an automorphism charges: product over antisymmetric tensors of the permutation
    of block indices it induces (a group homomorphism, so generators decide it)."""
    perms: dict[int, dict[int, int]] = {}
    for bv, (t, bi) in enc.anti.items():
        perms.setdefault(t, {})[bi] = enc.anti[gen[bv]][1]
    sign = 1
    for perm in perms.values():
        sign *= permutation_sign(perm)
    return sign


def odd_automorphism(node: Node) -> bool:
    """True if ``node`` has a bound-leg symmetry acting oddly on its antisymmetric slots (so
    ``node == -node == 0``). Exact: the sign is a homomorphism on the automorphism group, so
    some element is odd iff some generator is."""
    enc = encode(node)
    if not enc.anti:
        return False
    return any(_automorphism_sign(enc, gen) == -1 for gen in _generators(node, True))


def symmetries(node: Node) -> list[tuple[dict[str, str], int]]:
    """Generators of the symmetry group of ``node`` acting on its free legs.

    Each generator is ``(perm, sign)``: renaming every free leg ``l`` to ``perm[l]`` gives
    ``sign * node`` (up to renaming of bound legs). Generators that fix every free leg are left
    out unless odd (an odd one means ``node`` is zero). From BLISS's generators of the
    automorphism group of the graph with free legs anonymous, never by enumerating the group.
    """
    enc = encode(node)
    leg_of = {p: leg for leg, p in enc.free.items()}
    out: list[tuple[dict[str, str], int]] = []
    for gen in _generators(node, False):
        perm = {leg: leg_of[gen[p]] for leg, p in enc.free.items()}
        sign = _automorphism_sign(enc, gen) if enc.anti else 1
        if sign == -1 or any(k != v for k, v in perm.items()):
            out.append((perm, sign))
    return out


@dataclass(frozen=True)
class Orbits:
    """Orbits of a node's automorphism group (signs ignored).

    Attributes:
        legs: free legs that some symmetry maps onto each other, each orbit sorted; orbits
            sorted by their first leg. Singletons included.
        factors: for a Product, the factor indices (positions in ``args``) exchanged by some
            symmetry, each orbit sorted; empty for other kinds.
    """

    legs: tuple[tuple[str, ...], ...]
    factors: tuple[tuple[int, ...], ...]


def orbits(node: Node, *, fix_free: bool = False) -> Orbits:
    """The orbits of ``node``'s symmetries on its free legs and (for a network) its factors.

    Args:
        node: any expression.
        fix_free: if True, free legs keep their names (only bound-leg renamings count, so every
            leg orbit is a singleton and factor orbits are exchanges inside the network);
            otherwise free legs are anonymous (e.g. the 8 legs of an 8-fold outer product of
            one vector form one orbit).

    Returns:
        :class:`Orbits`, computed by merging along BLISS's generators
        (``networkx.utils.UnionFind``; cost independent of the group's order).
    """
    enc = encode(node)
    classes = UnionFind(range(len(enc.labels)))
    for gen in _generators(node, fix_free):
        for v, w in enumerate(gen):
            classes.union(v, w)
    legs: dict[int, list[str]] = {}
    for leg, p in enc.free.items():
        legs.setdefault(classes[p], []).append(leg)
    factors: dict[int, list[int]] = {}
    for i, v in enumerate(enc.factors):
        factors.setdefault(classes[v], []).append(i)
    return Orbits(
        tuple(sorted(tuple(sorted(o)) for o in legs.values())),
        tuple(sorted(tuple(o) for o in factors.values())),
    )


def matching_orbits(node: Product, items: list[int]) -> list[tuple[tuple[tuple[int, int], ...], int]]:
    """Perfect matchings of the factors ``items`` of ``node`` up to the network's symmetries.

    Two matchings are equivalent when a symmetry of ``node`` (a renaming of bound legs fixing
    free legs by name, mapping the ``items`` onto themselves) carries one onto the other; then
    any construction that depends only on the network and the pairs (Wick pairings replacing
    each pair by copy tensors between corresponding slots) gives isomorphic networks.

    Args:
        node: a network (Product); ``items``: indices into ``node.args`` to pair up.

    Returns:
        Representative matchings (pairs of factor indices) with weights: every perfect matching
        is equivalent to the representative whose weight counts it, so the weights add up to
        ``(2n - 1)!!`` (empty for an odd count) and a weighted sum over representatives equals
        the sum over all matchings. Two representatives may still be equivalent (the search
        prunes by orbits, it is not a complete isomorph rejection; like-term collection merges
        the rest). Search: the first unpaired item is paired with one partner per orbit of the
        stabiliser of the partial matching and that item (BLISS generators of an augmented
        graph: one vertex per chosen pair, joined to both members); the group is never
        enumerated.
    """
    enc = encode(node)
    _, colours, _ = _coloured(node, True)
    top = max(colours) + 1
    paired = {enc.factors[i] for i in items}
    base = [c + top if v in paired else c for v, c in enumerate(colours)]
    pair_colour, first_colour = 2 * top, 2 * top + 1
    out: list[tuple[tuple[tuple[int, int], ...], int]] = []
    stack: list[tuple[list[tuple[int, int]], list[int], int]] = [([], list(items), 1)]
    while stack:
        pairs, remaining, weight = stack.pop()
        if not remaining:
            out.append((tuple(pairs), weight))
            continue
        first, rest = remaining[0], remaining[1:]
        if not rest:
            continue
        col = list(base) + [pair_colour] * len(pairs)
        col[enc.factors[first]] = first_colour
        n = len(colours)
        extra = [(n + k, enc.factors[i]) for k, pair in enumerate(pairs) for i in pair]
        aug = _igraph().Graph(n=n + len(pairs), edges=enc.edges + extra)
        classes = UnionFind(enc.factors[i] for i in rest)
        for gen in aug.automorphism_group(color=col):
            for i in rest:
                classes.union(enc.factors[i], gen[enc.factors[i]])
        orbit: dict[int, list[int]] = {}
        for i in rest:
            orbit.setdefault(classes[enc.factors[i]], []).append(i)
        for members in orbit.values():
            rep = members[0]
            stack.append(([*pairs, (first, rep)], [i for i in rest if i != rep], weight * len(members)))
    return sorted(out)
