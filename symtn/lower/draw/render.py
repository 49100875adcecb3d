"""Expressions -> scenes: sums as rows of diagrams joined by coefficients, derivative panels.

A top-level sum is drawn term by term, each term a complete diagram with its own free legs,
separated by its coefficient (``+ 2``, ``− 1/|b|``). When the row would be too wide it becomes
a column, like the residual stream of a transformer drawn top to bottom.
"""

from __future__ import annotations

from symtn.ir.nodes import ONE, Node, Sum
from symtn.lower.draw.geom import Label
from symtn.lower.draw.model import Model, coeff_text, flatten_sum
from symtn.lower.draw.scene import Scene, build_scene
from symtn.lower.draw.text import text_width

MAX_ROW = 960.0
"""A sum wider than this (pixels) is stacked as a column."""


def terms(expr: Node) -> list[tuple[str, Node | None]]:
    """``(coefficient text, term)`` pairs of a top-level sum (``None`` for a bare number), or
    ``[("", expr)]`` for anything else."""
    if not isinstance(expr, Sum):
        return [("", expr)]
    out: list[tuple[str, Node | None]] = []
    for i, (c, t) in enumerate(flatten_sum(expr)):
        out.append((coeff_text(c, i == 0, t is ONE), None if t is ONE else t))
    return out


def text_scene(text: str, size: float = 14.0) -> Scene:
    """A scene holding one coefficient-style text at the origin."""
    return Scene(labels=[Label(text, 0.0, 0.0, text_width(text, size), size + 4, "coeff")])


def stack(parts: list[Scene], vertical: bool = False, gap: float = 14.0) -> Scene:
    """Place scenes in a row (centred vertically) or a column (left-aligned)."""
    out = Scene()
    at = 0.0
    for part in parts:
        x0, y0, x1, y1 = part.bbox()
        if vertical:
            part.translate(-x0, at - y0)
            at += y1 - y0 + gap * 2
        else:
            part.translate(at - x0, -(y0 + y1) / 2)
            at += x1 - x0 + gap
        out.extend(part)
    return out


def expression_scene(expr: Node, highlight: tuple[str, ...] = ()) -> Scene:
    """The scene of an expression: one diagram, or a sum's diagrams joined by coefficients."""
    pairs = terms(expr)
    if len(pairs) == 1 and not pairs[0][0]:
        return build_scene(Model(expr, highlight))
    rows: list[tuple[Scene | None, Scene | None]] = []
    for text, term in pairs:
        coeff = text_scene(text) if text else None
        rows.append((coeff, build_scene(Model(term, highlight)) if term is not None else None))
    width = sum(s.bbox()[2] - s.bbox()[0] + 14 for pair in rows for s in pair if s is not None)
    if width <= MAX_ROW or len(rows) <= 1:
        return stack([s for pair in rows for s in pair if s is not None])
    lines = []
    for coeff, diagram in rows:
        lines.append(stack([coeff or text_scene("+"), diagram] if diagram else [coeff or text_scene("")]))
    return stack(lines, vertical=True)


def derivative_scene(f: Node, wrt: str, result: Node) -> Scene:
    """``f`` with every occurrence of tensor ``wrt`` drawn as a hole, an arrow, then ``result``."""
    before = expression_scene(f, (wrt,))
    after = expression_scene(result)
    arrow = text_scene(f"∂/∂{wrt} ⟶")
    return stack([before, arrow, after], gap=24.0)
