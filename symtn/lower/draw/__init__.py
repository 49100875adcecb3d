"""Diagrams in graphical (Penrose) tensor notation: SVG, TikZ and DOT (docs/reference/drawing.md).

``draw(expr)`` renders any IR expression: tensors as labelled shapes (isometries as triangles
pointing to their small leg, symmetric tensors with a double outline, const tensors grey), legs
labelled, wires for contractions, copy tensors as dots, identity deltas as plain lines, function
bubbles as rounded outlines around exactly the sub-network they act on, free legs labelled once
at the border, and sums as rows of diagrams joined by their coefficients. Output is
deterministic: the same expression gives the same bytes.

An expression too large to draw as a tree (more than 600 shapes) is drawn in its ``cse`` form
(``symtn.lower.draw.shared``): each shared sub-expression once, as a box ``t1``, ``t2``, ...
defined below the expression, with a caption saying so.
"""

from __future__ import annotations

from symtn.errors import SymtnError
from symtn.ir.nodes import Node, Tensor
from symtn.lower.draw.dot import to_dot
from symtn.lower.draw.scene import derivative_scene, expression_scene, terms
from symtn.lower.draw.shared import Boxed, boxed, shared_scene
from symtn.lower.draw.svg import to_svg
from symtn.lower.draw.tikz import to_tikz

FORMATS = ("svg", "tikz", "dot")


def _check(format: str) -> None:
    if format not in FORMATS:
        raise SymtnError(f"unknown drawing format {format!r}; use one of {', '.join(FORMATS)}", code="E401")


def draw(
    expr: Node, format: str = "svg", *, highlight: tuple[str, ...] = (), title: str | None = None
) -> str:
    """Draw an expression in graphical tensor notation.

    Args:
        expr: any IR node (a binding of a program, or built with the Python API).
        format: ``"svg"`` (standalone document), ``"tikz"`` (a ``tikzpicture``; compile with
            ``\\usetikzlibrary{fit,shapes.geometric}``) or ``"dot"`` (Graphviz source).
        highlight: tensor names drawn as dashed holes (used for derivative "before" views).
        title: a title stored in the SVG (defaults to the expression's notation).

    Returns:
        The drawing as text. Over 600 shapes, the ``cse`` form: shared sub-expressions drawn
        once as boxes ``t1``, ``t2``... with their definitions below and a caption (SVG, TikZ)
        or comment and cluster labels (DOT) saying so; :func:`too_large` tells whether it was.

    Raises:
        SymtnError: E401 for an unknown format, E400 when even the ``cse`` form has a diagram
            of more than 600 shapes.
    """
    _check(format)
    try:
        if format == "dot":
            return to_dot(terms(expr), highlight)
        scene = expression_scene(expr, tuple(highlight))
    except SymtnError as err:
        if err.code != "E400":
            raise
        return _draw_boxed(boxed(expr), format, tuple(highlight), title)
    if format == "tikz":
        return to_tikz(scene)
    return to_svg(scene, str(expr) if title is None else title)


def _draw_boxed(b: Boxed, format: str, highlight: tuple[str, ...], title: str | None) -> str:
    """The ``cse`` form: the expression with its boxes, then each box's definition."""
    if format == "dot":
        pieces = terms(b.root) + [(f"{name} =", node) for name, node in b.definitions]
        text = to_dot(pieces, highlight, boxes=b.names)
        return text.replace("graph symtn {", f"// {b.caption()}\ngraph symtn {{", 1)
    scene = shared_scene(b, highlight)
    if format == "tikz":
        return to_tikz(scene)
    return to_svg(scene, b.caption() if title is None else title)


def too_large(expr: Node) -> bool:
    """Whether ``draw(expr)`` falls back to the ``cse`` form (more than 600 shapes as a tree)."""
    from symtn.lower.draw.model import Model

    try:
        for _, term in terms(expr):
            if term is not None:
                Model(term)
    except SymtnError as err:
        if err.code != "E400":
            raise
        return True
    return False


def draw_derivative(f: Node, wrt: Tensor | str, result: Node, format: str = "svg") -> str:
    """Draw a derivative before and after resolution.

    Args:
        f: the function differentiated (``f`` of ``d(f)/d(X)``).
        wrt: the tensor ``X`` (or its name); its occurrences in ``f`` are drawn as holes.
        result: the resolved derivative; its new legs are the hole's legs.
        format: ``"svg"`` or ``"tikz"``.

    Returns:
        One drawing: ``f`` with the holes, an arrow ``∂/∂X``, then ``result``.
    """
    _check(format)
    name = wrt.name if isinstance(wrt, Tensor) else wrt
    if format == "dot":
        raise SymtnError("a derivative view is drawn as svg or tikz", code="E401")
    scene = derivative_scene(f, name, result)
    return to_tikz(scene) if format == "tikz" else to_svg(scene, f"d({f})/d({name})")


__all__ = ["FORMATS", "draw", "draw_derivative", "too_large"]
