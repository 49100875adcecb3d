"""Placement of boxes joined by edges: lines for chains and trains, two rows for rings,
Kamada-Kawai (networkx, deterministic starts) for anything else, then overlap removal.

Positions are box centres in pixels (y down); directions are radians in the same frame.
"""

from __future__ import annotations

import math

import networkx as nx
from networkx.utils import UnionFind

from symtn.lower.draw.geom import segment_hits

GAP = 46.0
DOWN, UP, LEFT, RIGHT = math.pi / 2, -math.pi / 2, math.pi, 0.0

Edge = tuple[int, int, float]
"""``(i, j, width of the wire's label)``."""


def bbox(pos: list[tuple[float, float]], sizes: list[tuple[float, float]]) -> tuple[float, ...]:
    if not pos:
        return (0.0, 0.0, 0.0, 0.0)
    return (
        min(x - w / 2 for (x, _), (w, _) in zip(pos, sizes, strict=True)),
        min(y - h / 2 for (_, y), (_, h) in zip(pos, sizes, strict=True)),
        max(x + w / 2 for (x, _), (w, _) in zip(pos, sizes, strict=True)),
        max(y + h / 2 for (_, y), (_, h) in zip(pos, sizes, strict=True)),
    )


def arrange(
    sizes: list[tuple[float, float]], edges: list[Edge], open_legs: list[int]
) -> tuple[list[tuple[float, float]], list[float | None]]:
    """Centres for boxes of ``sizes`` joined by ``edges`` ``(i, j, label width)``, and a preferred
    direction for each box's open legs (``None``: no preference); ``open_legs`` counts each
    box's legs that leave the group (a chain whose inner boxes all have some is a train)."""
    n = len(sizes)
    classes = UnionFind(range(n))
    for i, j, _ in edges:
        classes.union(i, j)
    comps: dict[int, list[int]] = {}
    for i in range(n):
        comps.setdefault(classes[i], []).append(i)
    pos: list[tuple[float, float]] = [(0.0, 0.0)] * n
    prefs: list[float | None] = [None] * n
    groups = list(comps.values())
    floating = [c[0] for c in groups if len(c) == 1 and not open_legs[c[0]]]
    if len(floating) == len(groups):
        floating = []
    x = 0.0
    for comp in groups:
        if comp[0] in floating:
            continue
        sub = [(comp.index(i), comp.index(j), lw) for i, j, lw in edges if i in comp]
        cpos, cpref = _component([sizes[i] for i in comp], sub, [open_legs[i] for i in comp])
        x0, _, x1, _ = bbox(cpos, [sizes[i] for i in comp])
        for k, i in enumerate(comp):
            pos[i] = (cpos[k][0] - x0 + x, cpos[k][1])
            prefs[i] = cpref[k]
        x += x1 - x0 + GAP * 0.8
    # numbers and closed networks float in a row above, clear of the wires
    placed = [i for i in range(n) if i not in floating]
    top = min(pos[i][1] - sizes[i][1] / 2 for i in placed) - GAP / 2 if placed else 0.0
    x = 0.0
    for i in floating:
        pos[i] = (x + sizes[i][0] / 2, top - sizes[i][1] / 2)
        x += sizes[i][0] + GAP / 2
    return pos, prefs


def _component(
    sizes: list[tuple[float, float]], edges: list[Edge], open_legs: list[int]
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
        train = n >= 3 and all(open_legs[i] for i in order[1:-1])
        return _line(order, sizes, gap, not train)
    if max(degrees) == 2 and min(degrees) == 2 and simple == n:
        order = [0]
        while len(order) < n:
            order.append(next(j for j in nbrs[order[-1]] if j not in order))
        return _ring(order, sizes, gap)
    return _general(sizes, gap), [None] * n


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


def _general(
    sizes: list[tuple[float, float]], gap: dict[tuple[int, int], float]
) -> list[tuple[float, float]]:
    """Kamada-Kawai with edge lengths that respect the boxes' sizes, started from a circle and
    then (if wires cross) from the spectral layout; the start giving fewer crossings wins."""
    graph = nx.Graph()
    graph.add_nodes_from(range(len(sizes)))
    lengths = {(i, j): (min(sizes[i]) + min(sizes[j])) / 2 + g for (i, j), g in gap.items()}
    unit = sum(lengths.values()) / len(lengths)
    for (i, j), length in lengths.items():  # in units of the mean: KK converges fast at this scale
        graph.add_edge(i, j, length=length / unit)
    best: list[tuple[float, float]] = []
    best_score = math.inf
    for start in (nx.circular_layout(graph), nx.spectral_layout(graph, weight=None)):
        raw = nx.kamada_kawai_layout(graph, pos=start, weight="length")
        pts = [(float(raw[i][0]), float(raw[i][1])) for i in range(len(sizes))]
        scale = max(lengths[i, j] / (math.dist(pts[i], pts[j]) or 1e-6) for i, j in gap)
        pos = separate(snap([(x * scale, y * scale) for x, y in pts]), sizes, margin=24.0)
        score = _crossings(pos, list(gap)) + 2 * _through(pos, sizes, list(gap))
        if score < best_score:
            best, best_score = pos, score
        if best_score == 0:
            break
    return best


def _crossings(pos: list[tuple[float, float]], pairs: list[tuple[int, int]]) -> int:
    def side(a: tuple[float, float], b: tuple[float, float], c: tuple[float, float]) -> float:
        return (b[0] - a[0]) * (c[1] - a[1]) - (b[1] - a[1]) * (c[0] - a[0])

    n = 0
    for k, (a, b) in enumerate(pairs):
        for c, d in pairs[k + 1 :]:
            if len({a, b, c, d}) < 4:
                continue
            p, q, r, s = pos[a], pos[b], pos[c], pos[d]
            if side(p, q, r) * side(p, q, s) < 0 and side(r, s, p) * side(r, s, q) < 0:
                n += 1
    return n


def _through(
    pos: list[tuple[float, float]], sizes: list[tuple[float, float]], pairs: list[tuple[int, int]]
) -> int:
    """How many (wire, box) pairs have the wire running through a box it does not end at."""
    n = 0
    for a, b in pairs:
        for k, ((x, y), (w, h)) in enumerate(zip(pos, sizes, strict=True)):
            if k not in (a, b) and segment_hits(pos[a], pos[b], (x - w / 2, y - h / 2, x + w / 2, y + h / 2)):
                n += 1
    return n


def snap(pos: list[tuple[float, float]], tolerance: float = 12.0) -> list[tuple[float, float]]:
    """Align nearly equal coordinates (rows and columns of a ladder or grid become straight)."""
    out = [list(p) for p in pos]
    for axis in (0, 1):
        order = sorted(range(len(pos)), key=lambda i: (pos[i][axis], i))
        run = [order[0]] if order else []
        for i in order[1:] + [-1]:
            if i >= 0 and pos[i][axis] - pos[run[-1]][axis] <= tolerance:
                run.append(i)
                continue
            mean = sum(pos[k][axis] for k in run) / len(run)
            for k in run:
                out[k][axis] = mean
            run = [i]
    return [(x, y) for x, y in out]


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
