"""User rewrite rules (docs/language.md): matching a rule's left side inside an expression and
replacing it by the right side.

A :class:`UserRule` holds ``lhs => rhs`` and its *pattern tensors* (variables that stand for any
sub-expression). Two kinds of left side are matched:

- **Networks** (``lhs`` a Product): inside a flattened Product, a subset of the factors must form
  the pattern's network up to isomorphism. Both networks are encoded as labelled graphs (one
  vertex per factor, one per (factor, leg) port, port-port edges for wires) and
  ``networkx``'s ``GraphMatcher.subgraph_isomorphisms_iter`` finds *induced* embeddings: a
  pattern wire must be a wire between the matched factors, and a pattern's open leg binds to
  whatever leg it meets (a free leg, or a wire to an unmatched factor) but never to a wire
  between two matched factors. A pattern tensor binds to one factor with as many legs of the
  same sizes (any node: a tensor, a bubble, a sum); a declared tensor matches only itself, slot
  by slot; other pattern factors (deltas, bubbles over pattern tensors) are checked
  structurally with the leg correspondence the embedding gives.
- **Single nodes** (``lhs`` an elementwise function, a bubble, ...): a structural match with
  binding, tried at every node of that kind.

The right side is instantiated with each pattern tensor replaced by its binding (legs renamed
slot by slot), its open legs renamed to the matched legs and its own wires renamed apart.

Sizes: a rule stated for a symbolic size ``n`` of its pattern tensors also applies at other
sizes (``UserRule.at`` specialises it to the sizes met at the node, see ``rule_sizes``); sizes
of declared tensors are fixed. A declared symmetric tensor matches up to its symmetry
(``S[j, i]`` matches a pattern written ``S[i, j]``); an antisymmetric one only where the
permutation is even (the sign is not carried over). A pattern tensor with modifiers
(``S: [i, j] symmetric(i, j)``) binds only sub-expressions that provably have those facts
(``rewrite.pattern_facts``).
"""

from __future__ import annotations

import itertools
import weakref
from collections import Counter, defaultdict
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

import networkx as nx
import sympy as sp
from networkx.algorithms.isomorphism import GraphMatcher

from symtn.ir.nodes import Bubble, Delta, Elementwise, Frozen, Node, Product, Sum, Tensor
from symtn.ir.walk import postmap, preorder, rename_legs, tensors
from symtn.rewrite.canonical import is_isomorphic
from symtn.rewrite.pattern_facts import satisfies
from symtn.rewrite.rule_sizes import assignments, size_vars, subs_sizes

MAX_EMBEDDINGS = 200
"""Candidate embeddings examined per (rule, network) before giving up on that network."""

Binding = dict[str, Node]
LegMap = dict[str, str]


@dataclass(frozen=True, eq=False)
class UserRule:
    """A user rewrite rule ``lhs => rhs`` (build one with ``symtn.rule`` or a ``rule`` statement).

    Attributes:
        name: the rule's group (rules with one name form a group, switched on together).
        lhs: the left side, normalised by the built-in rules (the shape targets have).
        rhs: the right side; same free legs and sizes as ``lhs``.
        patterns: the pattern tensors, in declared form (legs named as slots).
        assumption: True for a value constraint (the rule mentions declared tensors, so it is
            an assumption about their values and cannot be verified); False for an identity
            that was verified numerically.
        text: the rule as written (for messages).
        line: source line of a ``rule`` statement, if any.
    """

    name: str
    lhs: Node
    rhs: Node
    patterns: tuple[Tensor, ...] = ()
    assumption: bool = False
    text: str = ""
    line: int | None = None
    stats: dict[str, int] = field(default_factory=dict, compare=False, repr=False)
    variants: dict[tuple[Any, ...], UserRule] = field(default_factory=dict, compare=False, repr=False)
    misses: defaultdict[str, weakref.WeakSet[Node]] = field(
        default_factory=lambda: defaultdict(weakref.WeakSet), compare=False, repr=False
    )
    """Nodes where this rule was tried and did nothing, by kind of attempt (see ``rule_set``)."""
    hits: defaultdict[str, weakref.WeakKeyDictionary[Node, tuple[UserRule, Node]]] = field(
        default_factory=lambda: defaultdict(weakref.WeakKeyDictionary), compare=False, repr=False
    )
    """Nodes where this rule fired: the (specialised) rule and its result, by kind of attempt."""

    def __str__(self) -> str:
        return self.text or f"rule {self.name}: {self.lhs} => {self.rhs}"

    @cached_property
    def pvars(self) -> frozenset[Tensor]:
        return frozenset(t.variable for t in self.patterns)

    @cached_property
    def size_vars(self) -> tuple[sp.Symbol, ...]:
        """Size symbols of the pattern tensors that the rule leaves free (see ``rule_sizes``)."""
        fixed = [t for t in tensors(self.lhs) + tensors(self.rhs) if t.variable not in self.pvars]
        return size_vars(self.patterns, fixed)

    def specialise(self, sigma: dict[sp.Symbol, sp.Expr]) -> UserRule:
        """The rule with its size variables set by ``sigma`` (cached)."""
        key = tuple(sorted((k.name, sp.srepr(v)) for k, v in sigma.items()))
        hit = self.variants.get(key)
        if hit is None:
            hit = self.variants[key] = UserRule(
                self.name,
                subs_sizes(self.lhs, sigma),
                subs_sizes(self.rhs, sigma),
                tuple(subs_sizes(p, sigma) for p in self.patterns),  # type: ignore[misc]
                self.assumption,
                self.text,
                self.line,
                self.stats,
            )
        return hit

    def at(self, node: Node) -> Iterator[UserRule]:
        """This rule, then its specialisations to the sizes met in ``node``."""
        yield self
        for sigma in assignments(self.size_vars, node):
            yield self.specialise(sigma)

    @cached_property
    def network(self) -> _Network | None:
        """The compiled network pattern, or None for a single-node left side."""
        if not isinstance(self.lhs, Product) or len(self.lhs.args) < 2:
            return None
        return _Network(self.lhs.args, self.pvars)


def is_pattern(node: Node, pvars: frozenset[Tensor]) -> bool:
    return isinstance(node, Tensor) and node.variable in pvars


def has_pattern(node: Node, pvars: frozenset[Tensor]) -> bool:
    return any(is_pattern(n, pvars) for n in preorder(node))


def same_size(a: sp.Expr, b: sp.Expr) -> bool:
    return bool(a == b or sp.expand(a - b) == 0)


# ------------------------------------------------------------------ graph encoding
def factor_key(node: Node, pvars: frozenset[Tensor]) -> tuple[Any, ...]:
    """Coarse label of a factor vertex: a pattern tensor is ``("*",)`` (matches any factor)."""
    if isinstance(node, Tensor):
        if node.variable in pvars:
            return ("*",)
        return ("Tensor", node.name, node.slots, node.facts)
    if isinstance(node, Delta):
        return ("Delta", node.dim)
    return (type(node).__name__,)


def _roles(node: Node, pvars: frozenset[Tensor]) -> dict[str, str]:
    """Port roles: a declared tensor's slot names; ``*`` (any) for everything else, and for a
    tensor with declared symmetries (``match`` then compares up to them)."""
    if isinstance(node, Tensor) and node.variable not in pvars and not _symmetric(node):
        return {leg: slot for (slot, _), leg in zip(node.slots, node.legs, strict=True)}
    return {leg: "*" for leg in node.legs}


def _symmetric(t: Tensor) -> bool:
    return any(f[0] in ("symmetric", "antisymmetric") for f in t.facts)


def network_graph(factors: Sequence[Node], pvars: frozenset[Tensor]) -> nx.Graph:
    """Factors and their ports as a labelled graph (wires are port-port edges)."""
    g = nx.Graph()
    open_ports: dict[str, tuple[Any, ...]] = {}
    for i, f in enumerate(factors):
        fv = ("f", i)
        g.add_node(fv, port=False, k=factor_key(f, pvars), n=len(f.sig))
        roles = _roles(f, pvars)
        for leg, size in f.sig:
            pv = ("p", i, leg)
            g.add_node(pv, port=True, role=roles[leg], size=size)
            g.add_edge(fv, pv, l="own")
            other = open_ports.pop(leg, None)
            if other is None:
                open_ports[leg] = pv
            else:
                g.add_edge(other, pv, l="wire")
    return g


def _node_match(t: dict[str, Any], p: dict[str, Any]) -> bool:
    if t["port"] != p["port"]:
        return False
    if p["port"]:
        return (p["role"] == "*" or p["role"] == t["role"]) and same_size(p["size"], t["size"])
    if t["n"] != p["n"]:
        return False
    return p["k"] == ("*",) or p["k"] == t["k"]


def _edge_match(t: dict[str, Any], p: dict[str, Any]) -> bool:
    return bool(t["l"] == p["l"])


class _Network:
    """A compiled network pattern: its factors, graph and the factor kinds it needs."""

    def __init__(self, factors: tuple[Node, ...], pvars: frozenset[Tensor]) -> None:
        self.factors = factors
        self.graph = network_graph(factors, pvars)
        self.needed = Counter(factor_key(f, pvars) for f in factors if not is_pattern(f, pvars))
        self.open = [leg for leg, _ in Product(*factors).sig]


# ------------------------------------------------------------------ structural matching
def _bijections(p: Node, t: Node, legmap: LegMap) -> Iterator[LegMap]:
    """Leg maps ``p -> t`` (sizes equal) extending ``legmap`` restricted to ``p``'s legs."""
    pl, tl = p.legs, t.legs
    if len(pl) != len(tl):
        return
    ps, ts = p.sizes, t.sizes
    fixed = {leg: legmap[leg] for leg in pl if leg in legmap}
    if any(v not in ts or not same_size(ps[k], ts[v]) for k, v in fixed.items()):
        return
    if len(set(fixed.values())) != len(fixed):
        return
    free_p = [leg for leg in pl if leg not in fixed]
    free_t = [leg for leg in tl if leg not in fixed.values()]
    for perm in itertools.permutations(free_t):
        if all(same_size(ps[a], ts[b]) for a, b in zip(free_p, perm, strict=True)):
            yield {**fixed, **dict(zip(free_p, perm, strict=True))}


def match(
    p: Node, t: Node, legmap: LegMap, binding: Binding, pvars: frozenset[Tensor]
) -> Iterator[tuple[LegMap, Binding]]:
    """Structural matches of pattern ``p`` against node ``t``.

    Args:
        p: a pattern node (may contain pattern tensors).
        t: the target node.
        legmap: a partial map from ``p``'s free legs to ``t``'s free legs to respect.
        binding: pattern tensor name -> bound node (legs named as the pattern tensor's slots).
        pvars: the pattern variables.

    Yields:
        ``(legmap, binding)``: the complete map of ``p``'s free legs and the extended binding.
    """
    if is_pattern(p, pvars):
        assert isinstance(p, Tensor)
        for lm in _bijections(p, t, legmap):
            slot_form = rename_legs(
                t, {lm[leg]: slot for (slot, _), leg in zip(p.slots, p.legs, strict=True)}
            )
            old = binding.get(p.name)
            if old is None:
                if not p.facts or satisfies(slot_form, p.facts):
                    yield lm, {**binding, p.name: slot_form}
            elif old is slot_form or is_isomorphic(old, slot_form):
                yield lm, binding
        return
    if type(p) is not type(t) or len(p.sig) != len(t.sig):
        return
    if not has_pattern(p, pvars):
        for lm in _bijections(p, t, legmap):
            cand = rename_legs(p, lm)
            if cand is t or is_isomorphic(cand, t):
                yield lm, binding
        return
    if isinstance(p, Elementwise):
        assert isinstance(t, Elementwise)
        if p.fn != t.fn or len(p.operands) != len(t.operands):
            return
        yield from _match_seq(list(zip(p.operands, t.operands, strict=True)), legmap, binding, pvars)
    elif isinstance(p, Sum):
        assert isinstance(t, Sum)
        if len(p.terms) != len(t.terms) or sorted(map(str, p.coeffs)) != sorted(map(str, t.coeffs)):
            return
        orders = itertools.permutations(range(len(t.terms))) if len(t.terms) <= 5 else [range(len(t.terms))]
        for order in orders:  # terms in any order (a sum's term order is not its meaning)
            if all(p.coeffs[k] == t.coeffs[j] for k, j in enumerate(order)):
                pairs = [(p.terms[k], t.terms[j]) for k, j in enumerate(order)]
                yield from _match_seq(pairs, legmap, binding, pvars)
    elif isinstance(p, Product):
        assert isinstance(t, Product)
        yield from _match_product(p, t, legmap, binding, pvars)
    elif isinstance(p, Frozen):
        assert isinstance(t, Frozen)
        yield from match(p.inner, t.inner, legmap, binding, pvars)
    elif isinstance(p, Bubble):
        assert isinstance(t, Bubble)
        yield from _match_bubble(p, t, legmap, binding, pvars)


def _match_seq(
    pairs: list[tuple[Node, Node]], legmap: LegMap, binding: Binding, pvars: frozenset[Tensor]
) -> Iterator[tuple[LegMap, Binding]]:
    """Match pattern/target pairs that share one leg scope (operands, terms)."""
    if not pairs:
        yield legmap, binding
        return
    (p, t), rest = pairs[0], pairs[1:]
    for lm, b in match(p, t, legmap, binding, pvars):
        yield from _match_seq(rest, {**legmap, **lm}, b, pvars)


Pairs = list[tuple[Node, Node, LegMap]]


def _embeddings(
    pattern: Sequence[Node], pg: nx.Graph, factors: Sequence[Node], whole: bool
) -> Iterator[tuple[list[int], LegMap, Pairs]]:
    """Embeddings of the network ``pattern`` (graph ``pg``) in ``factors`` (all of them when
    ``whole``): matched factor indices, the map of the pattern's legs, and the (pattern factor,
    target factor, leg map) pairs still to verify structurally."""
    gm = GraphMatcher(network_graph(factors, frozenset()), pg, node_match=_node_match, edge_match=_edge_match)
    found = gm.isomorphisms_iter() if whole else gm.subgraph_isomorphisms_iter()
    for iso in itertools.islice(found, MAX_EMBEDDINGS):
        inv = {pv: tv for tv, pv in iso.items()}
        legmap = {pv[2]: tv[2] for pv, tv in inv.items() if pv[0] == "p"}
        order = [inv[("f", i)][1] for i in range(len(pattern))]
        pairs = [
            (pf, factors[ti], {leg: legmap[leg] for leg in pf.legs})
            for pf, ti in zip(pattern, order, strict=True)
        ]
        yield order, legmap, pairs


def _match_product(
    p: Product, t: Product, legmap: LegMap, binding: Binding, pvars: frozenset[Tensor]
) -> Iterator[tuple[LegMap, Binding]]:
    """A network inside a pattern (``1 / sum[c](exp(x))``): an isomorphism of the two networks."""
    if len(p.args) != len(t.args):
        return
    for _, lm, pairs in _embeddings(p.args, network_graph(p.args, pvars), t.args, whole=True):
        free = {leg: lm[leg] for leg in p.legs}
        if any(legmap.get(k, v) != v for k, v in free.items()):
            continue
        for b in _verify(pairs, binding, pvars):
            yield free, b


def _match_bubble(
    p: Bubble, t: Bubble, legmap: LegMap, binding: Binding, pvars: frozenset[Tensor]
) -> Iterator[tuple[LegMap, Binding]]:
    if p.name != t.name or len(p.consumed) != len(t.consumed) or len(p.produced) != len(t.produced):
        return
    if not all(same_size(a[1], b[1]) for a, b in zip(p.produced, t.produced, strict=True)):
        return
    produced = {a[0]: b[0] for a, b in zip(p.produced, t.produced, strict=True)}
    if any(legmap.get(a, b) != b for a, b in produced.items()):
        return
    inner = {leg: legmap[leg] for leg in p.operand.legs if leg not in p.consumed and leg in legmap}
    inner.update(zip(p.consumed, t.consumed, strict=True))
    for lm, b in match(p.operand, t.operand, inner, binding, pvars):
        lifted = {leg: lm[leg] for leg in p.operand.legs if leg not in p.consumed}
        yield {**lifted, **produced}, b


# ------------------------------------------------------------------ instantiation
def instantiate(rule: UserRule, legmap: LegMap, binding: Binding) -> Node:
    """``rule.rhs`` with pattern tensors replaced by their bindings and open legs renamed."""
    pvars = rule.pvars

    def sub(n: Node) -> Node:
        if isinstance(n, Tensor) and n.variable in pvars:
            bound = binding[n.name]
            return rename_legs(bound, {slot: leg for (slot, _), leg in zip(n.slots, n.legs, strict=True)})
        return n

    body = postmap(rule.rhs, sub)
    return rename_legs(body, {leg: legmap[leg] for leg in body.legs})


def apply_single(rule: UserRule, node: Node) -> Node | None:
    """Apply a single-node rule at ``node`` (None if its left side does not match)."""
    for lm, b in match(rule.lhs, node, {}, {}, rule.pvars):
        return instantiate(rule, lm, b)
    return None


def find_in_network(rule: UserRule, factors: Sequence[Node]) -> tuple[list[int], LegMap, Binding] | None:
    """An embedding of ``rule``'s network in ``factors``: matched factor indices, the map of the
    pattern's legs to the target's, and the binding; None if there is none."""
    net = rule.network
    if net is None or len(factors) < len(net.factors):
        return None
    have = Counter(factor_key(f, frozenset()) for f in factors)
    if any(have[k] < c for k, c in net.needed.items()):
        return None
    for order, legmap, pairs in _embeddings(net.factors, net.graph, factors, whole=False):
        for binding in _verify(pairs, {}, rule.pvars):
            return order, legmap, binding
    return None


def _verify(pairs: Pairs, binding: Binding, pvars: frozenset[Tensor]) -> Iterator[Binding]:
    if not pairs:
        yield binding
        return
    (p, t, lm), rest = pairs[0], pairs[1:]
    for _, b in match(p, t, lm, binding, pvars):
        yield from _verify(rest, b, pvars)


def apply_network(rule: UserRule, p: Product) -> Node | None:
    """Apply a network rule inside the (flat) network ``p``; None if it matches nowhere."""
    found = find_in_network(rule, p.args)
    if found is None:
        return None
    used, legmap, binding = found
    net = rule.network
    assert net is not None
    inst = instantiate(rule, {leg: legmap[leg] for leg in net.open}, binding)
    rest = [f for i, f in enumerate(p.args) if i not in set(used)]
    return Product(*rest, inst)
