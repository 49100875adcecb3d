"""Cache-blocked sums of transposed arrays (``X + X^T`` and its relatives) for generated code.

A sum whose terms are the same-shaped arrays read in different axis orders (the Hessian of a
quadratic form is ``A + A^T``) is bound by the transposed read: numpy walks the transposed
operand with a stride of a whole row per element. When the axes of every term coalesce into two
groups (a matrix and its transpose, or a tensor whose legs split into two blocks that swap), the
generated module views each term as a matrix and adds them tile by tile with the
``_tiled_sum`` helper, one ufunc call over a 4-D tiled view, so each transposed tile is read
while it is in cache. The result is identical to the plain expression (same additions, same
order).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

TILED_MIN = 1 << 17
"""Sums with fewer entries than this are emitted as plain expressions (they fit in cache)."""

TILE = 32
"""Edge length of the square tiles (32 x 32 float64 = 8 KiB: two tiles fit in L1)."""


@dataclass(frozen=True)
class MatrixView:
    """How a sum's terms are read as matrices.

    Attributes:
        rows: the length of the first matrix axis (product of the first group of output axes).
        cols: the length of the second.
        swapped: per term, True when the term's array holds the two groups in swapped order
            (it is read as the transpose of a ``cols x rows`` matrix).
    """

    rows: int
    cols: int
    swapped: tuple[bool, ...]


def matrix_view(shape: Sequence[int], perms: Sequence[Sequence[int] | None]) -> MatrixView | None:
    """Coalesce the axes of a sum into two groups that every term reads in one of two orders.

    Args:
        shape: the sum's shape (output axes).
        perms: per term, the transpose taking the term's array to the output's axis order
            (``out axis k = array axis perm[k]``), or None for an aligned term.

    Returns:
        The matrix view when at least one term is transposed and the axes coalesce into exactly
        two groups, else None.
    """
    n = len(shape)
    full = [list(range(n)) if p is None else list(p) for p in perms]
    if n < 2 or all(p is None for p in perms):
        return None
    cuts = [k for k in range(1, n) if any(p[k] != p[k - 1] + 1 for p in full)]
    if len(cuts) != 1:
        return None
    cut = cuts[0]
    swapped = []
    for p in full:
        if p[:cut] == list(range(cut)):
            swapped.append(False)
        elif p[:cut] == list(range(n - cut, n)):
            swapped.append(True)
        else:
            return None
    return MatrixView(math.prod(shape[:cut]), math.prod(shape[cut:]), tuple(swapped))


def tiled_sum_expr(
    parts: Sequence[tuple[float, str]],
    view: MatrixView,
    shape: tuple[int, ...],
    shapes: Sequence[tuple[int, ...]],
    helper: str,
) -> str:
    """The source of ``helper(terms, TILE)`` for the terms ``(coefficient, variable)`` (variables
    hold arrays of ``shapes``), reshaped back to ``shape``."""

    def tup(xs: Sequence[int]) -> str:
        return f"({xs[0]},)" if len(xs) == 1 else f"({', '.join(map(str, xs))})"

    terms = []
    for (k, var), swap, have in zip(parts, view.swapped, shapes, strict=True):
        mat = (view.cols, view.rows) if swap else (view.rows, view.cols)
        text = var if tuple(have) == mat else f"{var}.reshape({tup(mat)})"
        terms.append(f"({k!r}, {text}.T)" if swap else f"({k!r}, {text})")
    expr = f"{helper}(({', '.join(terms)},), {TILE})"
    if tuple(shape) != (view.rows, view.cols):
        expr += f".reshape({tup(shape)})"
    return expr
