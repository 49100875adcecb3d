"""The *written order* of an expression's legs (docs/reference/leg-order.md, rule 3).

Reading the expression left to right, each tensor contributes its declared slots (after the
relabels written on it), each earlier binding its own order; ``f(x)``, ``softmax[s](x)``,
``x + y``, ``x @ y`` contribute their operands in turn. Leg names written as function subscripts
(``softmax[s]``) do not count. A result leg is placed at its first appearance.
"""

from __future__ import annotations

from collections.abc import Callable

from symtn.frontend import ast


def _relabelled(base: list[str], lists: tuple[ast.LegList, ...]) -> list[str]:
    out = list(base)
    for ll in lists:
        items = ll.items
        if items and all(isinstance(it, ast.Rename) for it in items):
            mapping = {it.src.name: it.dst.name for it in items}  # type: ignore[union-attr]
            out = [mapping.get(x, x) for x in out]
            continue
        named: list[str] = []
        for it in items:
            if isinstance(it, ast.LegName):
                named.append(it.name)
            elif isinstance(it, ast.Rename):
                named.append(it.dst.name)
            elif isinstance(it, ast.Merge):
                named.append(it.dst.name)
            elif isinstance(it, ast.Split):
                named.extend(d.name for d in it.dsts)
        out = named + out
    return out


def written_legs(expr: object, lookup: Callable[[str], list[str]]) -> list[str]:
    """Leg names in the order they are met reading ``expr`` (duplicates kept).

    Args:
        expr: an expression AST node.
        lookup: the leg order of a tensor or binding name ([] if unknown).
    """
    if isinstance(expr, ast.Ref):
        return _relabelled(lookup(expr.name), expr.legs)
    if isinstance(expr, ast.Call):
        inner = [x for a in expr.args for x in written_legs(a, lookup)]
        inner += [x for _, a in expr.kwargs for x in written_legs(a, lookup)]
        return _relabelled(inner, expr.relabels)
    if isinstance(expr, ast.Group | ast.Expectation):
        return _relabelled(written_legs(expr.expr, lookup), expr.relabels)
    if isinstance(expr, ast.Deriv):
        inner = written_legs(expr.expr, lookup) + written_legs(expr.wrt, lookup)
        return _relabelled(inner, expr.relabels)
    if isinstance(expr, ast.BinOp):
        return written_legs(expr.left, lookup) + written_legs(expr.right, lookup)
    if isinstance(expr, ast.Neg | ast.Project):
        return written_legs(expr.expr, lookup)
    if isinstance(expr, ast.Block):
        return written_legs(expr.result, lookup)
    return []
