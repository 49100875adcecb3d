"""Expectations over a standard Gaussian input by Wick pairings, as tensor networks.

For ``x ~ N(0, I)`` the moment ``E[x_{a1} ... x_{a2n}]`` is the sum over perfect matchings of
the ``2n`` occurrences of products of deltas (Isserlis' / Wick's theorem); odd moments vanish.
So the expectation of a network polynomial in ``x`` is a sum of networks in which every
occurrence of ``x`` is removed and the occurrences are joined in pairs by copy tensors.
``simplify`` then collects the pairings that give isomorphic networks (the symmetry of the
network), so e.g. the two matchings of a symmetric bilinear layer count once with weight 2.

This gives the similarity of two layers as functions: ``E_x <f(x), g(x)>`` (Taylor, "Tensor
network similarity", background/ of the project), e.g. for bilinear layers
``f(x) = P @ ((W @ x) * (V @ x))`` (Pearce et al., "Bilinear MLPs enable weight-based mechanistic
interpretability", ICLR 2025).

Sources: L. Isserlis, Biometrika 12, 1918; G. C. Wick, Phys. Rev. 80, 1950.
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Mapping
from typing import Any

import sympy as sp

from symtn.errors import NoRuleError
from symtn.interp.similarity import joined, rename_tensors
from symtn.ir.nodes import Delta, Node, Product, Sum, Tensor, Zero
from symtn.ir.walk import preorder
from symtn.lower import evaluate
from symtn.rewrite import expand, simplify
from symtn.rewrite.rules import flat_factors


def matchings(items: list[int]) -> Iterator[list[tuple[int, int]]]:
    """All perfect matchings of ``items`` (``(2n-1)!!`` of them; none for an odd count)."""
    if not items:
        yield []
        return
    first, rest = items[0], items[1:]
    for i, other in enumerate(rest):
        for m in matchings(rest[:i] + rest[i + 1 :]):
            yield [(first, other), *m]


def _pair(a: Tensor, b: Tensor) -> list[Node]:
    out: list[Node] = []
    for (_, size), la, lb in zip(a.slots, a.args[2], b.args[2], strict=True):
        out.append(Delta(size, ()) if la == lb else Delta(size, (la, lb)))
    return out


def gaussian_expectation(expr: Node, x: str) -> Node:
    """``E[expr]`` over the tensor variable named ``x`` with i.i.d. standard normal entries.

    Args:
        expr: a polynomial in ``x``: after ``expand``, every occurrence of ``x`` is a factor of
            a network (not inside a function bubble).
        x: the name of the Gaussian tensor variable.

    Returns:
        The simplified sum over Wick pairings (``Zero`` when every term has odd degree).

    Raises:
        NoRuleError: when ``x`` occurs inside a non-polynomial bubble.
    """
    e = expand(expr)
    terms = list(zip(e.coeffs, e.terms, strict=True)) if isinstance(e, Sum) else [(sp.Integer(1), e)]
    out: list[Node] = []
    coeffs: list[sp.Expr] = []
    for c, t in terms:
        factors = flat_factors(t) if isinstance(t, Product) else [t]
        occ = [f for f in factors if isinstance(f, Tensor) and f.name == x]
        rest = [f for f in factors if not (isinstance(f, Tensor) and f.name == x)]
        for f in rest:
            if any(isinstance(n, Tensor) and n.name == x for n in preorder(f)):
                raise NoRuleError(f"{x} occurs inside {type(f).__name__}: not a polynomial network in {x}")
        for m in matchings(list(range(len(occ)))):
            deltas = [d for a, b in m for d in _pair(occ[a], occ[b])]
            out.append(Product(*rest, *deltas))
            coeffs.append(c)
    if not out:
        return Zero(expr.sig)
    return simplify(Sum(tuple(out), tuple(coeffs)))


def count_terms(node: Node) -> int:
    """The number of distinct networks in a simplified expectation."""
    return len(node.terms) if isinstance(node, Sum) else (0 if isinstance(node, Zero) else 1)


def function_inner(
    f: Node, g: Node, x: str, values: Mapping[str, Any], values_b: Mapping[str, Any] | None = None
) -> float:
    """``E_x <f(x), g(x)>`` for ``x`` standard normal: the similarity of two layers as functions.

    Args:
        f, g: networks polynomial in the input ``x`` with the same free legs.
        x: the input tensor's name (shared by ``f`` and ``g``; it needs no value).
        values: arrays for the other tensors; values_b: separate arrays for ``g`` (its tensors,
            except ``x``, are renamed apart).
    """
    if values_b is not None:
        avoid = {n.name for n in preorder(f) if isinstance(n, Tensor)}
        g, names = rename_tensors(g, "_b", avoid, keep=frozenset({x}))
        values = {**values, **{new: values_b[old] for old, new in names.items()}}
    return float(evaluate(gaussian_expectation(joined(f, g), x), values))


def function_cosine(f: Node, g: Node, x: str, values: Mapping[str, Any],
                    values_b: Mapping[str, Any] | None = None) -> float:
    """``E<f, g> / sqrt(E<f, f> E<g, g>)`` over a standard normal input ``x``."""
    fg = function_inner(f, g, x, values, values_b)
    ff = function_inner(f, f, x, values)
    gg = function_inner(g, g, x, values_b if values_b is not None else values)
    return fg / math.sqrt(ff * gg) if ff > 0 and gg > 0 else float("nan")
