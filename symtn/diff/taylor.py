"""Taylor polynomials of tensor expressions, built from symtn's own derivatives.

``taylor(f, x, eps, k)`` is ``sum_{j=0..k} D^j f(x)[eps, ..., eps] / j!``: the j-th derivative
by ``x`` (legs ``f``'s, then j sets of ``x``'s legs) contracted with ``j`` copies of the direction
``eps`` (which has ``x``'s legs). Each order is obtained from the previous one by one more
derivative followed by a contraction with ``eps`` (the directional derivative of a directional
derivative), so no tensor of order ``j * order(x)`` is ever built. The polynomial has ``f``'s
legs; it equals ``f(x + eps)`` exactly when ``f`` is a polynomial in ``x`` of degree <= k.

Source: any calculus text; for tensor arguments, e.g. Magnus & Neudecker, "Matrix Differential
Calculus" (3rd ed., 2019), ch. 6.
"""

from __future__ import annotations

import math

import sympy as sp

from symtn.diff.api import diff
from symtn.errors import LegError, SizeError
from symtn.ir.composite import Product, Sum
from symtn.ir.leaves import Tensor
from symtn.ir.nodes import Node
from symtn.ir.walk import rename_legs, tensors


def check_direction(x: Tensor, eps: Node) -> None:
    """``eps`` must carry exactly ``x``'s legs with their sizes and must not contain ``x``.

    Raises:
        LegError: E204 for other legs, E210 when ``eps`` depends on ``x``.
        SizeError: E201 for a leg of another size.
    """
    if eps.legset != x.legset:
        raise LegError(
            f"taylor: the direction has legs [{', '.join(eps.legs)}] but {x.name} has "
            f"[{', '.join(x.legs)}]",
            code="E204",
            help=f"the direction is a change of {x.name}: give it {x.name}'s legs",
        )
    sizes = dict(eps.sig)
    for leg, size in x.sig:
        if sp.simplify(sizes[leg] - size) != 0:
            raise SizeError(f"taylor: leg {leg} has size {sizes[leg]} in the direction, {size} in {x.name}",
                            code="E201")
    if any(t.name == x.name for t in tensors(eps)):
        raise LegError(f"taylor: the direction contains {x.name}", code="E210",
                       help="the direction must not depend on the point of expansion")


def taylor(f: Node, x: Tensor, eps: Node, k: int, *, simplify: bool = True) -> Node:
    """The k-th order Taylor polynomial of ``f`` around ``x`` in the direction ``eps``.

    Args:
        f: the expression, legs ``[t...]``.
        x: a tensor variable of ``f`` (declared, not ``const``).
        eps: the direction, with ``x``'s legs and sizes and free of ``x``.
        k: the order, an integer >= 0.
        simplify: simplify the result (``symtn.rewrite.simplify``).

    Returns:
        ``f + D f[eps] + D^2 f[eps, eps] / 2 + ... + D^k f[eps, ..., eps] / k!`` with legs ``[t...]``.

    Raises:
        LegError: E204/E210 for a direction with other legs or depending on ``x``; E102 for a
            negative order. SizeError: E201 for a direction leg of another size.
    """
    if k < 0:
        raise LegError(f"taylor: the order must be a whole number >= 0, not {k}", code="E102")
    check_direction(x, eps)
    terms: list[Node] = [f]
    coeffs: list[sp.Expr] = [sp.Integer(1)]
    current = f
    for j in range(1, k + 1):
        g = diff(current, x, simplify=simplify)
        new = g.legs[len(current.legs):]
        direction = rename_legs(eps, dict(zip(x.legs, new, strict=True)))
        current = Product(g, direction)
        terms.append(current)
        coeffs.append(sp.Rational(1, math.factorial(j)))
    out: Node = Sum(tuple(terms), tuple(coeffs)) if len(terms) > 1 else f
    if simplify:
        from symtn.rewrite import simplify as simplify_node

        out = simplify_node(out)
    return out
