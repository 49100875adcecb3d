"""Expectations over a standard Gaussian input by Wick pairings, as tensor networks.

For ``x ~ N(0, I)`` the moment ``E[x_{a1} ... x_{a2n}]`` is the sum over perfect matchings of
the ``2n`` occurrences of products of deltas (Isserlis' / Wick's theorem); odd moments vanish.
So the expectation of a network polynomial in ``x`` is a sum of networks in which every
occurrence of ``x`` is removed and the occurrences are joined in pairs by copy tensors.
``simplify`` then collects the pairings that give isomorphic networks (the symmetry of the
network), so e.g. the two matchings of a symmetric bilinear layer count once with weight 2.

This gives the similarity of two layers as functions: ``E_x <f(x), g(x)>`` (Taylor, "Tensor
network similarity", LessWrong post), e.g. for bilinear layers
``f(x) = P @ ((W @ x) * (V @ x))`` (Pearce et al., "Bilinear MLPs enable weight-based mechanistic
interpretability", ICLR 2025).

Sources: L. Isserlis, Biometrika 12, 1918; G. C. Wick, Phys. Rev. 80, 1950.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from symtn.interp.similarity import joined, rename_tensors
from symtn.ir.nodes import Node, Tensor
from symtn.ir.walk import preorder
from symtn.lower import evaluate
from symtn.rewrite.gaussian import count_terms, expectation, matchings

__all__ = ["count_terms", "function_cosine", "function_inner", "gaussian_expectation", "matchings"]


def gaussian_expectation(expr: Node, x: str) -> Node:
    """``E[expr]`` over the tensor variable named ``x`` with i.i.d. standard normal entries.

    A thin wrapper of :func:`symtn.rewrite.gaussian.expectation` with ``N(0, I)``.

    Args:
        expr: a polynomial network in ``x`` (``x`` not inside a non-polynomial bubble).
        x: the name of the Gaussian tensor variable.

    Returns:
        The simplified sum over Wick pairings (``Zero`` when every term has odd degree).

    Raises:
        NoRuleError: E233 when ``x`` occurs inside a non-polynomial bubble.
    """
    return expectation(expr, x)


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
