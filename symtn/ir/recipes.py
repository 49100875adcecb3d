"""What a derivative node was made from, so later stages can evaluate it another way.

``diff(f, X)`` returns the simplified derivative: the form to print and to rewrite. For a scalar
``f`` it also records ``(f, X, new legs)`` here, keyed by the result (nodes are immutable and
interned, so the record is a fact about the value: the node *is* ``d f / d X``). A simplified or
re-laid-out derivative carries the record over (:func:`carry`). The lowering
(:mod:`symtn.lower.backprop`) reads it back to evaluate the derivative in reverse mode, one
backward sweep shared by every gradient of ``f``.
"""

from __future__ import annotations

import weakref
from collections.abc import Sequence

from symtn.ir.nodes import Node, Tensor

Recipe = tuple[Node, Tensor, tuple[str, ...]]
"""``(f, X, new legs)``: the scalar, the variable and the names of the derivative's legs."""

_RECIPES: weakref.WeakKeyDictionary[Node, Recipe] = weakref.WeakKeyDictionary()


def remember(result: Node, f: Node, var: Tensor, new_legs: Sequence[str]) -> None:
    """Record that ``result`` is ``d f / d var`` with legs ``new_legs`` (only for a scalar ``f``)."""
    if not f.legs and set(new_legs) == result.legset and len(new_legs) == len(var.slots):
        _RECIPES[result] = (f, var.variable, tuple(new_legs))


def carry(old: Node, new: Node) -> Node:
    """Record for ``new`` the recipe of ``old`` (the same value: a simplified or re-laid-out
    derivative is still that derivative); returns ``new``."""
    found = _RECIPES.get(old)
    if found is not None and new is not old and new.legset == old.legset:
        _RECIPES[new] = found
    return new


def recipe(node: Node) -> Recipe | None:
    """``(f, X, new legs)`` when ``node`` was made by ``diff`` of a scalar ``f``, else None."""
    return _RECIPES.get(node)


__all__ = ["Recipe", "carry", "recipe", "remember"]
