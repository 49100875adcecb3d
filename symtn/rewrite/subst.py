"""``subst``: substitution at a point followed by simplification (the user-facing form)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from symtn.ir.leaves import Tensor
from symtn.ir.nodes import Node
from symtn.ir.subst import substitute
from symtn.rewrite.simplify import simplify


def subst(expr: Node, values: Mapping[str | Tensor, Any] | None = None, **kw: Any) -> Node:
    """``expr`` at a point: substitute (``substitute``), then simplify so constants fold.

    ``subst(e, s=1)``, ``subst(e, {"T": 0})``, ``subst(e, X=delta("i", "j", size=n))``,
    ``subst(e, x=y)``. The result has ``expr``'s free legs.

    Raises:
        LegError: E204 when a value's legs differ from its variable's; SizeError: E201.
    """
    merged: dict[str | Tensor, Any] = dict(values or {})
    merged.update(kw)
    return simplify(substitute(expr, merged))
