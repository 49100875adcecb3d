"""Substitution at a point: replace tensor variables by expressions.

``subst(e, {"T": 0})`` evaluates ``e`` at ``T = 0``; ``subst(e, {"X": delta})`` puts the identity
in for ``X``; ``subst(e, {"x": y})`` puts another expression with ``x``'s legs in for ``x``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from symtn.errors import LegError, SizeError
from symtn.ir import algebra
from symtn.ir.leaves import Tensor
from symtn.ir.nodes import Node, size_str
from symtn.ir.walk import postmap, rename_legs


def _fit(name: str, slots: tuple[tuple[str, Any], ...], value: Any) -> Node:
    """``value`` as a node on exactly the slot legs of variable ``name`` (numbers broadcast)."""
    node = algebra.lift(value)
    if algebra.scalar_value(node) is not None and not node.legs:
        return algebra.broadcast(node, slots)
    want = {leg: size for leg, size in slots}
    have = dict(node.sig)
    if set(have) != set(want):
        raise LegError(
            f"subst {name}: the value has legs [{', '.join(node.legs)}] but {name} has [{', '.join(want)}]",
            code="E204",
            help=f"rename the value's legs to {name}'s declared legs, e.g. y[a -> b]",
        )
    for leg, size in want.items():
        if have[leg] != size:
            raise SizeError(
                f"subst {name}: leg {leg} has size {size_str(have[leg])} in the value but "
                f"{size_str(size)} in {name}",
                code="E201",
            )
    return node


def substitute(expr: Node, values: Mapping[str | Tensor, Any]) -> Node:
    """Replace each variable named in ``values`` by its value (no simplification; see ``subst``).

    Args:
        expr: any expression.
        values: variable (or its name) -> a number (broadcast over the variable's legs) or an expression
            on exactly the variable's declared legs and sizes.

    Returns:
        The expression at that point, with the same free legs.

    A name the expression does not mention (``s`` after ``s^5`` was differentiated 5 times) is
    ignored.

    Raises:
        LegError: E204 when a value's legs differ from the variable's.
        SizeError: E201 on a size mismatch.
    """
    from symtn.ir.walk import tensors

    present = {t.name: t for t in tensors(expr)}
    fitted: dict[str, Node] = {}
    for key, value in values.items():
        name = key.name if isinstance(key, Tensor) else key
        if name in present:  # a variable the expression no longer mentions is left alone
            fitted[name] = _fit(name, present[name].slots, value)

    def put(n: Node) -> Node:
        if isinstance(n, Tensor) and n.name in fitted:
            mapping = {s: leg for (s, _), leg in zip(n.slots, n.legs, strict=True) if s != leg}
            v = fitted[n.name]
            return rename_legs(v, mapping) if mapping else v
        return n

    return postmap(expr, put)
