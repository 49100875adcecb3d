"""Derivatives by a variable with declared symmetries: the constrained and projected conventions.

``d(f)/d(S)`` treats every entry of ``S`` as independent (the default, docs/language.md, "Derivatives"). With
``symmetric(i, j)`` (or ``antisymmetric``) declared, two other conventions are in use, and
``diff(f, S, symmetric=...)`` gives either:

``"constrained"``
    The derivative by the *independent entries* of ``S`` (``S_ij = S_ji = s_ij``, one variable
    per unordered pair), laid out as a symmetric matrix: ``dF/ds_ij = G_ij + G_ji`` for
    ``i != j`` and ``G_ii`` on the diagonal, i.e. ``G + G^T - G o I`` with ``G`` the unconstrained
    gradient. This is the "symmetric gradient" of Magnus & Neudecker's vech calculus (Matrix
    Differential Calculus, 3rd ed., ch. 18) and of The Matrix Cookbook (Petersen & Pedersen,
    2012, section 2.8.2, eq. 141). It is the vector of partial derivatives, so a first-order
    change is ``sum over i <= j`` of ``dF/ds_ij * ds_ij`` (each pair counted once). For an
    antisymmetric pair (``S_ji = -S_ij``, zero diagonal) it is ``G - G^T``.

``"projected"``
    The gradient on the space of symmetric matrices with the Frobenius inner product, the
    orthogonal projection ``sym(G) = (G + G^T) / 2`` (Srinivasan & Panda, "What is the gradient
    of a scalar function of a symmetric matrix?", Indian J. Pure Appl. Math. 54, 2023;
    arXiv:1911.06491), which show that this, not ``G + G^T - G o I``, is the Riesz
    representative: ``dF = <sym(G), dS>_F`` for every symmetric ``dS``. For a symmetry group of
    ``k`` slot blocks it is the average of ``G`` over the ``k!`` block permutations (signed for
    antisymmetric groups). Use it for gradient descent on symmetric matrices.

The two differ only in scale off the diagonal: ``constrained = 2 sym(G) - G o I``.
"""

from __future__ import annotations

import itertools
import math

import sympy as sp

from symtn.errors import NoRuleError
from symtn.ir.nodes import Delta, Node, Product, Sum, Tensor
from symtn.ir.walk import fresh, rename_legs
from symtn.rewrite.canonical import permutation_sign
from symtn.rewrite.encoding import symmetry_blocks

CONVENTIONS = ("constrained", "projected")


def _symmetrise(g: Node, blocks: list[list[str]], antisymmetric: bool) -> Node:
    """The average of ``g`` over permutations of the leg blocks (signed if ``antisymmetric``)."""
    terms: list[Node] = []
    coeffs: list[sp.Expr] = []
    k = len(blocks)
    for perm in itertools.permutations(range(k)):
        mapping = {leg: blocks[perm[b]][m] for b in range(k) for m, leg in enumerate(blocks[b])}
        terms.append(rename_legs(g, mapping))
        sign = permutation_sign(perm) ** len(blocks[0]) if antisymmetric else 1
        coeffs.append(sp.Rational(sign, math.factorial(k)))
    return Sum(tuple(terms), tuple(coeffs))


def _diagonal(g: Node, blocks: list[list[str]], sizes: dict[str, sp.Expr]) -> Node:
    """``g`` times ``[block 0 == block 1]``, as copy tensors ``delta[u, v, a, b]``."""
    mapping: dict[str, str] = {}
    deltas: list[Node] = []
    for a, b in zip(blocks[0], blocks[1], strict=True):
        u, v = fresh(a), fresh(b)
        mapping[a], mapping[b] = u, v
        deltas.append(Delta(sizes[a], (u, v, a, b)))
    return Product(rename_legs(g, mapping), *deltas)


def constrain(grad: Node, var: Tensor, new_legs: tuple[str, ...], convention: str) -> Node:
    """Turn the unconstrained derivative ``grad`` (legs ``[t..., new_legs...]``) by ``var`` into
    the ``convention`` derivative (see the module docstring), for every symmetric or
    antisymmetric fact of ``var``.

    Raises:
        NoRuleError: E216 for an unknown convention, or ``constrained`` with a symmetry group
            of more than two blocks (its orbit sizes are not a product of pair deltas).
    """
    if convention not in CONVENTIONS:
        raise NoRuleError(
            f"unknown symmetric convention {convention!r}; use one of {', '.join(CONVENTIONS)}",
            code="E216",
        )
    sizes = grad.sizes
    out = grad
    for kind in ("symmetric", "antisymmetric"):
        for _, slot_blocks in symmetry_blocks(var, kind):
            blocks = [[new_legs[s] for s in b] for b in slot_blocks]
            anti = kind == "antisymmetric"
            sym = _symmetrise(out, blocks, anti)
            if convention == "projected":
                out = sym
                continue
            if len(blocks) != 2:
                raise NoRuleError(
                    f"the constrained derivative by {var.name} is defined here for symmetric pairs "
                    f"only; {var.name} has a {kind} group of {len(blocks)} blocks",
                    code="E216",
                    help='use symmetric="projected" (the symmetrised gradient) instead',
                )
            if anti:  # S_ji = -S_ij, zero diagonal: dF/ds_ij = G_ij - G_ji
                out = Sum((sym,), (2,))
            else:  # dF/ds_ij = G_ij + G_ji (i != j), G_ii: 2 sym(G) - G o I
                out = Sum((sym, _diagonal(out, blocks, sizes)), (2, -1))
    return out


__all__ = ["CONVENTIONS", "constrain"]
