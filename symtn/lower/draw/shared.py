"""Large diagrams in the ``cse`` form: shared sub-expressions drawn once, as named boxes.

A derivative of a transformer block is a DAG of a few hundred nodes whose tree has hundreds of
thousands: drawn as a tree it would need far more than ``MAX_LEAVES`` shapes. Here every
composite sub-expression referenced more than once (``symtn.ir.sharing.cse``) becomes a box
``t1``, ``t2``, ...: a tensor-like shape (marked ``shared``) whose legs are the sub-expression's
free legs. The drawing shows the expression with its boxes, then each box's definition
``t1 = ...`` as its own diagram (definitions use only earlier boxes), all in one picture, under
a caption that says so. Only if one of these diagrams is still too large is E400 raised.
"""

from __future__ import annotations

from dataclasses import dataclass

from symtn.errors import SymtnError
from symtn.ir.nodes import Node, Tensor
from symtn.ir.sharing import _plain_legs, cse
from symtn.ir.walk import rename_legs, tensors
from symtn.lower.draw.geom import Label, Scene
from symtn.lower.draw.model import MAX_LEAVES
from symtn.lower.draw.scene import expression_scene, stack, text_scene
from symtn.lower.draw.text import text_width


@dataclass
class Boxed:
    """An expression with its shared sub-expressions replaced by boxes.

    Attributes:
        root: the expression; each shared sub-expression is a :class:`Tensor` named like a box.
        definitions: ``(box name, definition)`` in dependency order; a definition's free legs
            are its box's slot names and it uses only earlier boxes.
        slots: box name -> its slot legs, in the order of the box tensor's slots.
    """

    root: Node
    definitions: list[tuple[str, Node]]
    slots: dict[str, tuple[str, ...]]

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(name for name, _ in self.definitions)

    def caption(self) -> str:
        """The note drawn above the diagram."""
        return (
            f"too large to draw as a tree: the {len(self.definitions)} shared sub-expressions are drawn "
            f"once, as boxes {_span(self.names)} defined below (the cse form)"
        )


def _span(names: tuple[str, ...]) -> str:
    return ", ".join(names) if len(names) <= 3 else f"{names[0]} ... {names[-1]}"


def _prefix(node: Node) -> str:
    """``t`` unless a tensor of ``node`` is already named ``t1``, ``t2``...: then ``box``."""
    taken = {t.name for t in tensors(node)}
    return "t" if not any(n.startswith("t") and n[1:].isdigit() for n in taken) else "box"


def boxed(expr: Node) -> Boxed:
    """The ``cse`` form of ``expr`` with every shared sub-expression replaced by a box tensor.

    Args:
        expr: any IR node.

    Returns:
        A :class:`Boxed`: the root and the box definitions (empty when nothing is shared).
    """
    sharing = cse(expr, prefix=_prefix(expr))
    by_key = {sharing.keys[node]: (name, node) for name, node in sharing.bindings}
    slots = {name: _plain_legs(node) for name, node in sharing.bindings}

    def box(node: Node, name: str, rep: Node) -> Tensor:
        plain = slots[name]
        sig = tuple((plain.get(leg, leg), size) for leg, size in rep.sig)
        return Tensor(name, sig, node.legs, ())  # equal keys: legs correspond by position

    memo: dict[Node, Node] = {}

    def go(node: Node, defining: Node | None) -> Node:
        key = sharing.keys.get(node)
        hit = by_key.get(key) if key is not None else None
        if hit is not None and node is not defining:
            return box(node, *hit)
        if node is not defining and node in memo:
            return memo[node]
        kids = node.children
        new = tuple(go(k, None) for k in kids)
        out = node if all(a is b for a, b in zip(new, kids, strict=True)) else node.with_children(new)
        if node is not defining:
            memo[node] = out
        return out

    root = go(expr, None)
    defs = [(name, rename_legs(go(node, node), slots[name])) for name, node in sharing.bindings]
    order = {name: tuple(slots[name].get(leg, leg) for leg in node.legs) for name, node in sharing.bindings}
    return Boxed(root, defs, order)


def caption_scene(text: str) -> Scene:
    """A scene with one caption line at the origin."""
    return Scene(labels=[Label(text, 0.0, 0.0, text_width(text, 12), 16, "caption", key="caption")])


def shared_scene(b: Boxed, highlight: tuple[str, ...] = ()) -> Scene:
    """The caption, the expression with its boxes, then ``t1 = ...`` for every box, top to bottom.

    Raises:
        SymtnError: E400 when one of the diagrams still has more than ``MAX_LEAVES`` shapes.
    """
    names = b.names
    try:
        parts = [caption_scene(b.caption()), expression_scene(b.root, highlight, "r", names)]
        for i, (name, node) in enumerate(b.definitions):
            head = text_scene(f"{name} =", key=f"d{i}eq")
            parts.append(stack([head, expression_scene(node, highlight, f"d{i}", names)]))
    except SymtnError as err:
        if err.code != "E400":
            raise
        raise SymtnError(
            f"the drawing would have more than {MAX_LEAVES} shapes, even with shared sub-expressions "
            "drawn once as boxes",
            code="E400",
            help="draw a smaller sub-expression, or simplify it first",
        ) from None
    return stack(parts, vertical=True)


__all__ = ["Boxed", "boxed", "caption_scene", "shared_scene"]
