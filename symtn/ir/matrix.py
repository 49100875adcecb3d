"""Matrix functions on a pair of square legs: ``det``, ``logdet``, ``inv`` and ``solve``.

Each is a leg-acting :class:`~symtn.ir.nodes.Bubble` consuming two legs ``(i, j)`` of one size
``n`` (the matrix ``X[i, j]``), lifted over the operand's other legs (a batch of matrices):

- ``det[i, j](X)`` and ``logdet[i, j](X)`` produce no legs (the determinant, its log);
- ``inv[i, j](X)`` produces legs named ``i`` and ``j`` again; its entry at ``i = b, j = a`` is
  ``(X^-1)[a, b]`` (docs/language.md, "Functions"), so ``X @ inv[i, j](X)[i -> i']`` (contracting ``j``) is
  ``delta[i, i']`` and ``d det / d X = det * inv`` with no transpose;
- ``solve[i, j](A, b) = inv[i, j](A) *[i] b``: the ``x`` with ``A[i, j] @ x[j] = b[i]``,
  contracting ``b``'s leg ``i`` (other legs of ``b`` are right-hand sides; legs shared with
  ``A``'s batch legs stay batch legs). Evaluated with ``numpy.linalg.solve`` (no inverse formed).

Source: The Matrix Cookbook (Petersen & Pedersen, 2012), sections 1.1 and 2.1-2.2.
"""

from __future__ import annotations

from collections.abc import Sequence

import sympy as sp

from symtn.errors import LegError, SizeError
from symtn.ir.nodes import Bubble, Node, Product, size_str

MATRIX_FUNCTIONS = ("det", "logdet", "inv")
"""Bubble names of the matrix functions (``solve`` builds an ``inv`` network)."""


def square_legs(name: str, x: Node, legs: Sequence[str] | None) -> tuple[str, str]:
    """The two legs ``name`` acts on: ``legs`` if given, else ``x``'s two legs.

    Raises:
        LegError: E212 without legs when ``x`` does not have exactly two; E212 when ``legs`` is
            not two names; E205 when a leg is not a leg of ``x``; E207 for ``[i, i]``.
        SizeError: E201 when the two legs have different sizes (the matrix is not square).
    """
    if legs is None:
        if len(x.legs) != 2:
            raise LegError(
                f"{name} acts on two legs, and its argument has legs [{', '.join(x.legs)}]",
                code="E212",
                help=f"name the matrix legs: {name}[i, j](...)",
            )
        legs = x.legs
    legs = tuple(legs)
    if len(legs) != 2:
        raise LegError(
            f"{name} acts on two legs of one size: write {name}[i, j](...), got {len(legs)}",
            code="E212",
        )
    for leg in legs:
        if leg not in x.legset:
            raise LegError(
                f"{name}[{', '.join(legs)}] names {leg}, which is not a leg of its argument "
                f"[{', '.join(x.legs)}]",
                code="E205",
            )
    a, b = legs
    if a == b:
        raise LegError(f"{name}[{a}, {b}] names one leg twice", code="E207")
    sa, sb = x.size(a), x.size(b)
    if sa != sb and sp.simplify(sa - sb) != 0:
        raise SizeError(
            f"{name}[{a}, {b}]: the matrix is not square, legs {a} and {b} have sizes "
            f"{size_str(sa)} and {size_str(sb)}",
            code="E201",
            help=f"{name} needs two legs of one size",
        )
    return a, b


def det(x: Node, legs: Sequence[str] | None = None) -> Node:
    """``det[i, j](x)``: the determinant over legs ``(i, j)``, lifted over the others.

    Legs: ``x``'s legs without ``i, j``. Raises as ``square_legs``.
    """
    return Bubble("det", x, square_legs("det", x, legs), ())


def logdet(x: Node, legs: Sequence[str] | None = None) -> Node:
    """``logdet[i, j](x)``: ``log det`` over legs ``(i, j)`` (real for a positive determinant)."""
    return Bubble("logdet", x, square_legs("logdet", x, legs), ())


def inv(x: Node, legs: Sequence[str] | None = None) -> Node:
    """``inv[i, j](x)``: the inverse, keeping ``x``'s legs (entry ``i = b, j = a`` is ``X^-1[a, b]``)."""
    i, j = square_legs("inv", x, legs)
    n = x.size(i)
    return Bubble("inv", x, (i, j), ((i, n), (j, n)))


def solve(a: Node, b: Node, legs: Sequence[str] | None = None) -> Node:
    """``solve[i, j](A, b)``: ``x`` with ``A[i, j] @ x[j] = b[i]``, i.e. ``inv[i, j](A) *[i] b``.

    Args:
        a: the matrix, legs ``i, j`` (plus batch legs).
        b: the right-hand side(s): carries ``i``, not ``j``; its other legs are kept.
        legs: ``(i, j)``; default ``a``'s two legs.

    Legs: ``j``, then ``A``'s batch legs, then ``b``'s other legs (shared batch legs once).

    Raises:
        LegError: E205 when ``b`` lacks leg ``i`` or already has leg ``j``; as ``square_legs``.
        SizeError: E201 when ``b``'s leg ``i`` has another size.
    """
    i, j = square_legs("solve", a, legs)
    if i not in b.legset or j in b.legset:
        raise LegError(
            f"solve[{i}, {j}](A, b): b must carry the row leg {i} and not the column leg {j}, "
            f"got [{', '.join(b.legs)}]",
            code="E205",
            help=f"the solution x carries {j}: A[{i}, {j}] @ x[{j}] = b[{i}]",
        )
    n = a.size(i)
    if b.size(i) != n and sp.simplify(b.size(i) - n) != 0:
        raise SizeError(
            f"solve[{i}, {j}]: b's leg {i} has size {size_str(b.size(i))}, the matrix {size_str(n)}",
            code="E201",
        )
    from symtn.ir.algebra import contract_over

    shared = (a.legset - {i, j}) & b.legset
    if not shared:
        return Product(inv(a, (i, j)), b)
    return contract_over(inv(a, (i, j)), b, [i])


__all__ = ["MATRIX_FUNCTIONS", "det", "inv", "logdet", "solve", "square_legs"]
