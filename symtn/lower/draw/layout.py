"""Placement: every group's children are arranged inside it, then groups nest as rectangles.

Groups are laid out bottom-up as compound nodes, so a bubble encloses exactly its sub-network
and nothing else. Inside a group: a chain of shapes goes in a line (a tensor train keeps all its
open legs pointing down), a ring goes round two rows, anything else is placed by networkx's
Kamada-Kawai layout (deterministic: no random start) and then pushed apart until no two boxes
overlap. Disconnected parts sit side by side in order of appearance. All coordinates are pixels.
"""

from __future__ import annotations

import math

import networkx as nx

from symtn.lower.draw.model import Model, Ref
from symtn.lower.draw.text import text_width

GAP = 46.0
PAD = {"bubble": 14.0, "frozen": 14.0, "sum": 10.0, "term": 30.0, "root": 0.0}
LABEL_H = 18.0
DOWN, UP, LEFT, RIGHT = math.pi / 2, -math.pi / 2, math.pi, 0.0

Edge = tuple[int, int, float]


def leaf_size(kind: str, label: str, iso: bool) -> tuple[float, float]:
    """Width and height of a leaf shape."""
    if kind in ("dot", "line", "gone"):
        return (10.0, 10.0) if kind == "dot" else (2.0, 2.0)
    if kind == "scalar":
        return (text_width(label, 14) + 6, 22.0)
    if kind == "box":
        return (max(30.0, text_width(label, 12) + 14), 24.0)
    w = max(36.0, text_width(label, 14) + 18)
    return (w + 16, 40.0) if iso else (w, 32.0)


class Layout:
    """Sizes and absolute centres of every leaf and group of a model.

    Attributes:
        center: ref -> absolute centre ``(x, y)``.
        size: ref -> ``(w, h)``.
        prefer: ref -> preferred direction (radians, y down) for the open legs of that object.
        coeff_at: sum group id -> centres of its coefficient texts.
    """

    def __init__(self, m: Model) -> None:
        self.m = m
        self.size: dict[Ref, tuple[float, float]] = {}
        self.rel: dict[Ref, tuple[float, float]] = {}
        self.prefer: dict[Ref, float] = {}
        self.coeff_rel: dict[int, list[tuple[float, float]]] = {}
        self.edges = self._edges_by_group()
        self._measure(0)
        self.center: dict[Ref, tuple[float, float]] = {}
        self.coeff_at: dict[int, list[tuple[float, float]]] = {}
        self._absolute(("group", 0), (0.0, 0.0))

    def owner(self, ref: Ref) -> int:
        """The group directly containing ``ref``."""
        if ref[0] == "leaf":
            return self.m.leaves[ref[1]].group
        parent = self.m.groups[ref[1]].parent
        return -1 if parent is None else parent

    def chain(self, ref: Ref) -> list[Ref]:
        """``ref`` and its enclosing groups, innermost first."""
        out = [ref]
        while out[-1] != ("group", 0):
            out.append(("group", self.owner(out[-1])))
        return out

    def _edges_by_group(self) -> dict[int, list[tuple[Ref, Ref, str]]]:
        out: dict[int, list[tuple[Ref, Ref, str]]] = {}
        for w in self.m.wires:
            ca, cb = self.chain(w.a[0]), self.chain(w.b[0])
            common = next(r for r in ca if r in cb)
            ia, ib = ca.index(common), cb.index(common)
            if ia and ib:
                out.setdefault(common[1], []).append((ca[ia - 1], cb[ib - 1], w.label))
        return out

    # ------------------------------------------------------------- sizes
    def _measure(self, gid: int) -> tuple[float, float]:
        g = self.m.groups[gid]
        sizes: list[tuple[float, float]] = []
        for ref in g.children:
            if ref[0] == "group":
                sizes.append(self._measure(ref[1]))
            else:
                leaf = self.m.leaves[ref[1]]
                sizes.append(leaf_size(leaf.kind, leaf.label, bool(leaf.iso)))
            self.size[ref] = sizes[-1]
        if g.kind == "sum":
            pos = self._row(gid, sizes)
        else:
            index = {ref: i for i, ref in enumerate(g.children)}
            edges = [(index[a], index[b], text_width(lbl, 11)) for a, b, lbl in self.edges.get(gid, [])]
            pos, prefs = arrange(sizes, edges)
            for ref, p in zip(g.children, prefs, strict=True):
                if p is not None:
                    self.prefer[ref] = p
        x0, y0, x1, y1 = _bbox(pos, sizes)
        pad = PAD[g.kind]
        top = LABEL_H if g.label else 0.0
        w = max(x1 - x0, text_width(g.label, 12) + 12 if g.label else 0.0) + 2 * pad
        h = (y1 - y0) + 2 * pad + top
        cx, cy = (x0 + x1) / 2, (y0 + y1) / 2 - top / 2
        for ref, (x, y) in zip(g.children, pos, strict=True):
            self.rel[ref] = (x - cx, y - cy)
        if gid in self.coeff_rel:
            self.coeff_rel[gid] = [(x - cx, y - cy) for x, y in self.coeff_rel[gid]]
        return (w, h)

    def _row(self, gid: int, sizes: list[tuple[float, float]]) -> list[tuple[float, float]]:
        """Terms of a sum side by side, each after its coefficient text."""
        coeffs = self.m.groups[gid].coeffs
        x, pos, texts = 0.0, [], []
        for (w, _), c in zip(sizes, coeffs, strict=True):
            if c:
                cw = text_width(c, 14)
                texts.append((x + cw / 2, 0.0))
                x += cw + 4
            else:
                texts.append((x, 0.0))
            pos.append((x + w / 2, 0.0))
            x += w + 4
        self.coeff_rel[gid] = texts
        return pos

    def _absolute(self, ref: Ref, at: tuple[float, float]) -> None:
        self.center[ref] = at
        if ref[0] == "group":
            g = self.m.groups[ref[1]]
            for child in g.children:
                dx, dy = self.rel[child]
                self._absolute(child, (at[0] + dx, at[1] + dy))
            if ref[1] in self.coeff_rel:
                self.coeff_at[ref[1]] = [(at[0] + dx, at[1] + dy) for dx, dy in self.coeff_rel[ref[1]]]

    def box(self, ref: Ref) -> tuple[float, float, float, float]:
        """``(x0, y0, x1, y1)`` of an object."""
        (x, y), (w, h) = self.center[ref], self.size[ref]
        return (x - w / 2, y - h / 2, x + w / 2, y + h / 2)

    def preferred(self, ref: Ref) -> float | None:
        """The preferred open-leg direction of ``ref`` or, failing that, of its enclosing groups."""
        for r in self.chain(ref):
            if r in self.prefer:
                return self.prefer[r]
        return None


def _bbox(pos: list[tuple[float, float]], sizes: list[tuple[float, float]]) -> tuple[float, ...]:
    if not pos:
        return (0.0, 0.0, 0.0, 0.0)
    return (
        min(x - w / 2 for (x, _), (w, _) in zip(pos, sizes, strict=True)),
        min(y - h / 2 for (_, y), (_, h) in zip(pos, sizes, strict=True)),
        max(x + w / 2 for (x, _), (w, _) in zip(pos, sizes, strict=True)),
        max(y + h / 2 for (_, y), (_, h) in zip(pos, sizes, strict=True)),
    )


def arrange(
    sizes: list[tuple[float, float]], edges: list[Edge]
) -> tuple[list[tuple[float, float]], list[float | None]]:
    """Centres for boxes of ``sizes`` joined by ``edges`` ``(i, j, label width)``, and a preferred
    direction for each box's open legs (``None``: no preference)."""
    n = len(sizes)
    parent = list(range(n))

    def find(i: int) -> int:
        while parent[i] != i:
            i = parent[i]
        return i

    for i, j, _ in edges:
        parent[find(j)] = find(i)
    comps: dict[int, list[int]] = {}
    for i in range(n):
        comps.setdefault(find(i), []).append(i)
    pos: list[tuple[float, float]] = [(0.0, 0.0)] * n
    prefs: list[float | None] = [None] * n
    x = 0.0
    for comp in comps.values():
        sub = [(comp.index(i), comp.index(j), lw) for i, j, lw in edges if i in comp]
        cpos, cpref = _component([sizes[i] for i in comp], sub)
        x0, _, x1, _ = _bbox(cpos, [sizes[i] for i in comp])
        for k, i in enumerate(comp):
            pos[i] = (cpos[k][0] - x0 + x, cpos[k][1])
            prefs[i] = cpref[k]
        x += x1 - x0 + GAP * 0.8
    return pos, prefs


def _component(
    sizes: list[tuple[float, float]], edges: list[Edge]
) -> tuple[list[tuple[float, float]], list[float | None]]:
    n = len(sizes)
    if n == 1:
        return [(0.0, 0.0)], [None]
    nbrs: list[list[int]] = [[] for _ in range(n)]
    gap: dict[tuple[int, int], float] = {}
    for i, j, lw in edges:
        if i == j:
            continue
        key = (min(i, j), max(i, j))
        if key not in gap:
            nbrs[i].append(j)
            nbrs[j].append(i)
        gap[key] = max(gap.get(key, GAP), lw + 22)
    simple = len(gap)
    degrees = [len(x) for x in nbrs]
    if max(degrees) <= 2 and simple == n - 1:
        order = [min(i for i in range(n) if degrees[i] == 1)]
        while len(order) < n:
            order.append(next(j for j in nbrs[order[-1]] if j not in order))
        return _line(order, sizes, gap, True)
    if max(degrees) == 2 and min(degrees) == 2 and simple == n:
        order = [0]
        while len(order) < n:
            order.append(next(j for j in nbrs[order[-1]] if j not in order))
        return _ring(order, sizes, gap)
    return _general(sizes, list(gap)), [None] * n


def _line(
    order: list[int], sizes: list[tuple[float, float]], gap: dict[tuple[int, int], float], ends: bool
) -> tuple[list[tuple[float, float]], list[float | None]]:
    pos: list[tuple[float, float]] = [(0.0, 0.0)] * len(sizes)
    prefs: list[float | None] = [DOWN] * len(sizes)
    x = 0.0
    for k, i in enumerate(order):
        if k:
            prev = order[k - 1]
            x += sizes[prev][0] / 2 + gap[(min(i, prev), max(i, prev))] + sizes[i][0] / 2
        pos[i] = (x, 0.0)
    if ends:
        prefs[order[0]], prefs[order[-1]] = LEFT, RIGHT
    return pos, prefs


def _ring(
    order: list[int], sizes: list[tuple[float, float]], gap: dict[tuple[int, int], float]
) -> tuple[list[tuple[float, float]], list[float | None]]:
    half = (len(order) + 1) // 2
    top, bottom = order[:half], order[half:][::-1]
    pos, prefs = _line(top, sizes, gap, False)
    if bottom:
        bottom_gap = {k: max(v, GAP) for k, v in gap.items()}
        bpos, _ = _line(bottom, sizes, bottom_gap, False)
        shift = (pos[top[-1]][0] - bpos[bottom[-1]][0]) / 2 + (pos[top[0]][0] - bpos[bottom[0]][0]) / 2
        height = max(sizes[i][1] for i in order) + GAP + 10
        for i in bottom:
            pos[i] = (bpos[i][0] + shift, height)
    for i in order:
        prefs[i] = UP if i in top else DOWN
    return pos, prefs


def _general(sizes: list[tuple[float, float]], pairs: list[tuple[int, int]]) -> list[tuple[float, float]]:
    graph = nx.Graph()
    graph.add_nodes_from(range(len(sizes)))
    graph.add_edges_from(pairs)
    raw = nx.kamada_kawai_layout(graph, weight=None)
    pts = [(float(raw[i][0]), float(raw[i][1])) for i in range(len(sizes))]
    scale = 1.0
    for i, j in pairs:
        d = math.dist(pts[i], pts[j]) or 1e-6
        need = (math.hypot(*sizes[i]) + math.hypot(*sizes[j])) / 2 + GAP
        scale = max(scale, need / d)
    pos = [(x * scale, y * scale) for x, y in pts]
    return separate(pos, sizes, margin=24.0)


def separate(
    pos: list[tuple[float, float]], sizes: list[tuple[float, float]], margin: float
) -> list[tuple[float, float]]:
    """Push overlapping boxes apart (deterministic, pairwise along the axis of least overlap)."""
    p = [list(xy) for xy in pos]
    for _ in range(400):
        moved = False
        for i in range(len(p)):
            for j in range(i + 1, len(p)):
                ox = (sizes[i][0] + sizes[j][0]) / 2 + margin - abs(p[i][0] - p[j][0])
                oy = (sizes[i][1] + sizes[j][1]) / 2 + margin - abs(p[i][1] - p[j][1])
                if ox <= 0 or oy <= 0:
                    continue
                moved = True
                axis = 0 if ox < oy else 1
                push = (ox if axis == 0 else oy) / 2 + 0.5
                sign = 1.0 if (p[j][axis], j) >= (p[i][axis], i) else -1.0
                p[i][axis] -= sign * push
                p[j][axis] += sign * push
        if not moved:
            break
    return [(x, y) for x, y in p]
