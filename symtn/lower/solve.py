"""Recognise ``inv[i, j](A) @ b`` networks (what ``solve[i, j](A, b)`` builds) so the backends
call a linear solver instead of forming the inverse.

``inv[c1, c2](U)`` at ``p1 = s, p2 = t`` is ``U^-1[t, s]`` (``U`` as the matrix ``U[c1, c2]``), so
contracting ``b`` on ``p1`` gives ``solve(U, b)`` carrying ``p2``, and on ``p2`` gives
``solve(U^T, b)`` carrying ``p1``. Only unbatched inverses (no lifted legs) of a two-factor
network whose other factor carries exactly one of the produced legs are recognised; anything
else is contracted as usual.
"""

from __future__ import annotations

from dataclasses import dataclass

from symtn.ir.nodes import Bubble, Node, Product


@dataclass(frozen=True)
class SolveParts:
    """A recognised ``inv(U) @ b``.

    Attributes:
        matrix: the operand ``U`` of the inverse (legs ``rows``, ``cols``).
        rows, cols: ``U``'s legs in the order the solver reads them (``rows`` first).
        rhs: the other factor ``b``; ``wire`` is its leg contracted with the inverse.
        out: the produced leg the solution carries (first axis of the solver's result).
        rest: ``b``'s other legs, in order (the solver's remaining axes).
    """

    matrix: Node
    rows: str
    cols: str
    rhs: Node
    wire: str
    out: str
    rest: tuple[str, ...]


def solve_parts(node: Product) -> SolveParts | None:
    """The parts of ``node`` if it is ``inv[c1, c2](U) @ b`` as described above, else None."""
    if len(node.args) != 2:
        return None
    for k in (0, 1):
        f, b = node.args[k], node.args[1 - k]
        if not (isinstance(f, Bubble) and f.name == "inv" and f.operand.legset == set(f.consumed)):
            continue
        c1, c2 = f.consumed
        (p1, _), (p2, _) = f.produced
        if (p1 in b.legset) == (p2 in b.legset):
            continue
        if p1 in b.legset:  # solve(U, b): U read as [c1, c2]
            wire, out, rows, cols = p1, p2, c1, c2
        else:  # solve(U^T, b)
            wire, out, rows, cols = p2, p1, c2, c1
        rest = tuple(leg for leg in b.legs if leg != wire)
        return SolveParts(f.operand, rows, cols, b, wire, out, rest)
    return None


__all__ = ["SolveParts", "solve_parts"]
