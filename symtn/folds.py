"""Printer folds that need simplification to check: ``gelu`` and ``layernorm`` after ``simplify``.

Simplification takes the builtins apart: ``gelu(u)`` becomes ``(1/2) * u @ delta @ (1 +
tanh(c u + c k u^3))`` with the constants multiplied out, ``layernorm[ax](x, g, b)`` a sum of
``b`` and a network of centred copies of ``x`` and ``(var + 1e-5)^(-1/2)``. A structural
scan proposes candidates (the operand of the gelu ``tanh``; the uncentred term, the scale
tensor and the shift of a layernorm) and a candidate is accepted only when the builtin rebuilt
from it simplifies to an expression isomorphic to the node: a fold never changes the value.

The folds are registered with :data:`symtn.ir.printer.FOLDS` on import (``import symtn`` imports
this module), so ``ir`` need not import the rewriter. It sits at the top of the package because
it needs both the builtins (``frontend``) and ``simplify`` (``rewrite``).
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator

import sympy as sp

from symtn.errors import SymtnError
from symtn.frontend.builtins import ELEMENTWISE, apply_leg_acting
from symtn.ir import algebra as A
from symtn.ir.nodes import Delta, Elementwise, Node, Product, Sum
from symtn.ir.printer import FOLDS, Fold
from symtn.ir.walk import preorder, rename_legs
from symtn.rewrite.canonical import is_isomorphic
from symtn.rewrite.simplify import simplify

_X0 = sp.Symbol("x0", real=True)
GELU = ELEMENTWISE["gelu"][1]
_C, _K = sp.Rational("0.7978845608"), sp.Rational("0.044715")
_TANH_ARGS = (sp.tanh(_C * _X0 + _C * _K * _X0**3), sp.tanh(_C * (_X0 + _K * _X0**3)))
_EPS = sp.Rational(1, 100000)
MAX_NODES = 400
"""Nodes larger than this (distinct sub-nodes) are not tried: the check simplifies them."""

_memo: dict[Node, Fold | None] = {}


def _small(node: Node) -> list[Node] | None:
    nodes = []
    for n in preorder(node):
        nodes.append(n)
        if len(nodes) > MAX_NODES:
            return None
    return nodes


def _same(candidate: Node, node: Node) -> bool:
    if dict(candidate.sig) != dict(node.sig):
        return False
    try:
        return is_isomorphic(simplify(candidate), simplify(node))
    except SymtnError:
        return False


def _mappings(src: Node, node: Node) -> Iterator[dict[str, str]]:
    """Injective maps of the free legs of ``src`` onto free legs of ``node`` of equal sizes."""
    sizes = dict(node.sig)
    for image in itertools.permutations(node.legs, len(src.legs)):
        if all(sizes[b] == s for (_, s), b in zip(src.sig, image, strict=True)):
            yield dict(zip(src.legs, image, strict=True))


def fold_gelu(node: Node) -> Fold | None:
    """``("gelu", None, [u])`` when ``node`` is ``gelu(u)`` (``u`` with the node's legs)."""
    nodes = _small(node)
    if nodes is None or isinstance(node, Elementwise):  # an unsimplified gelu prints by its rule
        return None
    for e in nodes:
        if not (isinstance(e, Elementwise) and len(e.operands) == 1 and e.fn in _TANH_ARGS):
            continue
        u = e.operands[0]
        if len(u.legs) != len(node.legs):
            continue
        for m in _mappings(u, node):
            v = rename_legs(u, m)
            if _same(A.elementwise(GELU, v), node):
                return ("gelu", None, [v])
    return None


def _has_eps(n: Node) -> bool:
    return isinstance(n, Elementwise) and n.fn.has(_EPS) and bool(n.fn.atoms(sp.Pow))


def _uncentred(centred: Sum) -> Node:
    """``x`` from ``x - mean(x)``: the terms whose coefficients are numbers (no ``|n|^-1``)."""
    out: Node | None = None
    for c, t in zip(centred.coeffs, centred.terms, strict=True):
        if not c.free_symbols:
            term = A.scale(t, c)
            out = term if out is None else A.add(out, term)
    return out if out is not None else centred


def fold_layernorm(node: Node) -> Fold | None:
    """``("layernorm", ax, [x, g, b])`` when ``node`` is ``layernorm[ax](x, g, b)``."""
    if not (isinstance(node, Sum) and len(node.terms) == 2 and all(c == 1 for c in node.coeffs)):
        return None
    if _small(node) is None:
        return None
    for beta, body in (node.terms, node.terms[::-1]):
        if not isinstance(body, Product) or not any(_has_eps(f) for f in body.args):
            continue
        xs = [_uncentred(f) for f in body.args if isinstance(f, Sum)]
        gammas = [f for f in body.args if not isinstance(f, (Delta, Sum)) and not _has_eps(f)]
        for x, g in itertools.product(xs, gammas):
            if len(x.legs) != len(node.legs):
                continue
            for mx in _mappings(x, node):
                xv = rename_legs(x, mx)
                for mg in _mappings(g, node):
                    gv = rename_legs(g, mg)
                    for k in range(1, len(node.legs) + 1):
                        for ax in itertools.combinations(node.legs, k):
                            try:
                                cand = apply_leg_acting("layernorm", list(ax), [xv, gv, beta])
                            except SymtnError:
                                continue
                            if _same(cand, node):
                                return ("layernorm", list(ax), [xv, gv, beta])
    return None


def fold(node: Node) -> Fold | None:
    """The first fold that applies to ``node`` (memoised: nodes are hash-consed)."""
    if node in _memo:
        return _memo[node]
    out = fold_gelu(node) or fold_layernorm(node)
    if len(_memo) > 10_000:
        _memo.clear()
    _memo[node] = out
    return out


if fold not in FOLDS:
    FOLDS.append(fold)
