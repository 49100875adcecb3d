"""Exact labelled-graph isomorphism: a colour-guided backtracking matcher, with networkx VF2
as the fallback.

Both enumerate isomorphisms ``ga -> gb`` that preserve the refined vertex colours (attribute
``"c"``, set by ``canonical.canonical_key``; colours are isomorphism invariants that already
include the vertex labels) and the edge labels. The colour-guided matcher extends a mapping
along a breadth-first order of ``ga`` (each vertex's candidates are the same-coloured
neighbours of its parent's image), which is linear when the colours are nearly discrete, the
usual case for expression graphs; it verifies every edge, runs on an explicit stack (no
recursion, so deep expressions are fine) and stops after a step budget. Only if the budget runs
out does networkx's VF2 (``GraphMatcher`` with node and edge matchers) finish the search, for
graphs of up to ``VF2_MAX_VERTICES`` vertices: VF2 is exact too, but its per-step cost grows with
the graph (about 15 ms to match a 40-vertex network, against well under 1 ms here) and it is at
least quadratic overall. Every reported mapping is a verified isomorphism, so the search is
sound; beyond the budget on a very large graph it may only miss one.
"""

from __future__ import annotations

from collections import Counter, deque
from collections.abc import Iterator

import networkx as nx
from networkx.algorithms.isomorphism import GraphMatcher, categorical_edge_match, categorical_node_match

from symtn.rewrite.encoding import LABEL

COLOUR = "c"
VF2_MAX_VERTICES = 2500
"""Graphs up to this size fall back to networkx VF2 when the colour-guided search gives up."""


def isomorphisms(ga: nx.Graph, gb: nx.Graph) -> Iterator[dict[int, int]]:
    """Colour- and label-preserving isomorphisms ``ga -> gb`` (vertex maps), lazily.

    A mapping may be reported twice when the VF2 fallback runs; callers look for one with a
    property (a sign), so repeats are harmless.
    """
    if ga.number_of_nodes() != gb.number_of_nodes() or ga.number_of_edges() != gb.number_of_edges():
        return
    search = ColourSearch(ga, gb)
    yield from search
    if search.gave_up and ga.number_of_nodes() <= VF2_MAX_VERTICES:
        matcher = GraphMatcher(
            ga,
            gb,
            node_match=categorical_node_match(COLOUR, None),
            edge_match=categorical_edge_match(LABEL, None),
        )
        yield from matcher.isomorphisms_iter()


def colour_isomorphisms(ga: nx.Graph, gb: nx.Graph, budget: int | None = None) -> Iterator[dict[int, int]]:
    """The colour-guided search alone (see ``ColourSearch``)."""
    return iter(ColourSearch(ga, gb, budget))


def _bfs_order(g: nx.Graph, colour: dict[int, str]) -> tuple[list[int], dict[int, int | None]]:
    """Vertices in breadth-first order, each component rooted at a rarest-colour vertex."""
    freq = Counter(colour.values())
    order: list[int] = []
    parent: dict[int, int | None] = {}
    for start in sorted(g, key=lambda v: (freq[colour[v]], colour[v], v)):
        if start in parent:
            continue
        parent[start] = None
        queue = deque([start])
        while queue:
            v = queue.popleft()
            order.append(v)
            for u in g.adj[v]:
                if u not in parent:
                    parent[u] = v
                    queue.append(u)
    return order, parent


class ColourSearch:
    """Isomorphisms ``ga -> gb`` found by colour-guided backtracking (explicit stack).

    Args:
        ga, gb: graphs whose vertices carry colours (``"c"``) and edges labels (``"l"``).
        budget: maximum number of extension steps (default ``50 * |V| + 10_000``).

    Iterating yields verified vertex mappings; afterwards ``gave_up`` tells whether the search
    stopped because the budget ran out (rather than because it was complete).
    """

    def __init__(self, ga: nx.Graph, gb: nx.Graph, budget: int | None = None) -> None:
        self.ga, self.gb = ga, gb
        self.budget = budget if budget is not None else 50 * ga.number_of_nodes() + 10_000
        self.gave_up = False

    def __iter__(self) -> Iterator[dict[int, int]]:
        ga, gb = self.ga, self.gb
        col_a: dict[int, str] = dict(ga.nodes(data=COLOUR))
        col_b: dict[int, str] = dict(gb.nodes(data=COLOUR))
        if Counter(col_a.values()) != Counter(col_b.values()):
            return
        by_colour: dict[str, list[int]] = {}
        for w in sorted(gb):
            by_colour.setdefault(col_b[w], []).append(w)
        order, parent = _bfs_order(ga, col_a)
        adj_a, adj_b = ga.adj, gb.adj
        fwd: dict[int, int] = {}
        back: dict[int, int] = {}

        def candidates(u: int) -> list[int]:
            p = parent[u]
            if p is None:
                return [w for w in by_colour.get(col_a[u], ()) if w not in back]
            label = adj_a[p][u][LABEL]
            return [
                w
                for w, d in adj_b[fwd[p]].items()
                if col_b[w] == col_a[u] and w not in back and d[LABEL] == label
            ]

        def feasible(u: int, w: int) -> bool:
            count = 0
            for x, d in adj_a[u].items():
                y = fwd.get(x)
                if y is None:
                    continue
                e = adj_b[w].get(y)
                if e is None or e[LABEL] != d[LABEL]:
                    return False
                count += 1
            return count == sum(1 for y in adj_b[w] if y in back)

        if not order:
            yield {}
            return
        stack: list[Iterator[int]] = [iter(candidates(order[0]))]
        steps = 0
        while stack:
            steps += 1
            if steps > self.budget:
                self.gave_up = True
                return
            u = order[len(stack) - 1]
            old = fwd.pop(u, None)
            if old is not None:
                del back[old]
            for w in stack[-1]:
                if feasible(u, w):
                    fwd[u], back[w] = w, u
                    break
            else:
                stack.pop()
                continue
            if len(stack) == len(order):
                yield dict(fwd)
            else:
                stack.append(iter(candidates(order[len(stack)])))
