"""Expressions -> scenes (see ``geom.Scene``): one diagram, a sum's row of diagrams, or a
derivative's before-and-after panels.

A top-level sum is drawn term by term, each term a complete diagram with its own free legs,
separated by its coefficient (``+ 2``, ``− 1/|b|``). When the row would be too wide it becomes
a column, like the residual stream of a transformer drawn top to bottom. A derivative is shown
as ``f`` with holes where the variable was, an arrow, and the result.
"""

from __future__ import annotations

from symtn.ir.nodes import ONE, Node, Sum
from symtn.lower.draw.builder import build_scene
from symtn.lower.draw.geom import Label, Scene
from symtn.lower.draw.model import Model
from symtn.lower.draw.text import coeff_text, flatten_sum, text_width

MAX_ROW = 1400.0
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


def text_scene(text: str, size: float = 14.0, key: str = "") -> Scene:
    """A scene holding one coefficient-style text at the origin."""
    return Scene(labels=[Label(text, 0.0, 0.0, text_width(text, size), size + 4, "coeff", key=key)])


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


def expression_scene(
    expr: Node, highlight: tuple[str, ...] = (), prefix: str = "", boxes: tuple[str, ...] = ()
) -> Scene:
    """The scene of an expression: one diagram, or a sum's diagrams joined by coefficients;
    object names start with ``prefix``; tensors named in ``boxes`` are shared sub-expressions."""
    pairs = terms(expr)
    if len(pairs) == 1 and not pairs[0][0]:
        return build_scene(Model(expr, highlight, boxes), prefix)
    rows: list[tuple[Scene | None, Scene | None]] = []
    for i, (text, term) in enumerate(pairs):
        coeff = text_scene(text, key=f"{prefix}t{i}c") if text else None
        diagram = build_scene(Model(term, highlight, boxes), f"{prefix}t{i}") if term is not None else None
        rows.append((coeff, diagram))
    width = sum(s.bbox()[2] - s.bbox()[0] + 14 for pair in rows for s in pair if s is not None)
    if width <= MAX_ROW or len(rows) <= 1:
        return stack([s for pair in rows for s in pair if s is not None])
    lines = []
    for i, (coeff, diagram) in enumerate(rows):
        head = coeff or text_scene("+" if i else "", key=f"{prefix}t{i}c")
        lines.append(stack([head, diagram] if diagram else [head]))
    return stack(lines, vertical=True)


def derivative_scene(f: Node, wrt: str, result: Node) -> Scene:
    """``f`` with every occurrence of tensor ``wrt`` drawn as a hole, an arrow, then ``result``."""
    before = expression_scene(f, (wrt,), "b")
    after = expression_scene(result, (), "a")
    arrow = text_scene(f"∂/∂{wrt} ⟶", key="arrow")
    return stack([before, arrow, after], gap=24.0)
