"""Rules for elementwise function bubbles (scalar rules in ``x0 .. xk``).

Each rule takes an :class:`Elementwise` with simplified operands and returns an equal node with
the same free legs and sizes, or None.
"""

from __future__ import annotations

from functools import lru_cache

import sympy as sp

from symtn.ir import algebra
from symtn.ir.nodes import Delta, Elementwise, Node, Product, Sum, Zero, arg_symbols
from symtn.rewrite.canonical import is_isomorphic, sort_key

_BAD = (sp.zoo, sp.nan, sp.oo, -sp.oo)


def ones_like(node: Node) -> Node:
    """The all-ones tensor on ``node``'s legs (``1`` for a scalar)."""
    return algebra.ones(node.sig)


def scaled(node: Node, c: sp.Expr) -> Node:
    """``c * node`` as a node (``Zero`` for 0, ``node`` for 1)."""
    if c == 0:
        return Zero(node.sig)
    return node if c == 1 else Sum((node,), (c,))


def constant_value(node: Node) -> sp.Expr | None:
    """``c`` when ``node`` is the constant ``c`` on all its legs (zeros, ones, sizes), else None."""
    if isinstance(node, Zero):
        return sp.Integer(0)
    if isinstance(node, Delta) and node.order <= 1:
        return node.dim if node.order == 0 else sp.Integer(1)
    if isinstance(node, Product) and not node.wires():
        total = sp.Integer(1)
        for f in node.args:
            v = constant_value(f)
            if v is None:
                return None
            total *= v
        return total
    if isinstance(node, Sum) and len(node.terms) == 1:
        v = constant_value(node.terms[0])
        return None if v is None else node.coeffs[0] * v
    return None


def _rebuild(fn: sp.Expr, operands: list[Node], mapping: dict[sp.Symbol, sp.Expr], like: Node) -> Node:
    """``fn`` with ``mapping`` applied simultaneously; operands renumbered ``x0 ..``."""
    new = sp.sympify(fn).xreplace(mapping) if mapping else fn
    if not operands:
        if new.has(*_BAD):
            raise ValueError("non-finite constant")
        return scaled(ones_like(like), new)
    return Elementwise(new, tuple(operands))


MAX_FOLD_DEPTH = 3
"""Function applications a folded rule may nest (``tanh(tanh(tanh(x)))``). Deeper compositions
stay separate elementwise nodes: sympy re-evaluates a function of a deep argument at a cost that
grows steeply with the depth (a 10-fold ``tanh`` took 30 s to differentiate), and the lowering
computes a chain of nodes as fast as one folded rule."""


@lru_cache(maxsize=4096)
def call_depth(expr: sp.Expr) -> int:
    """How deeply function applications nest in ``expr`` (``x0 + 1``: 0, ``exp(tanh(x0))``: 2)."""
    if expr.is_Atom:
        return 0
    inner = max((call_depth(a) for a in expr.args), default=0)
    return inner + (1 if isinstance(expr, sp.Function) else 0)


def fold(node: Elementwise) -> Node | None:
    """``f(.., g(y..), ..) = (f o g)(.., y.., ..)``: substitute an inner rule into the outer,
    unless the result would nest more than :data:`MAX_FOLD_DEPTH` function applications.

    Terminates: the nesting depth of Elementwise nodes decreases.
    """
    if not any(isinstance(o, Elementwise) for o in node.operands):
        return None
    inner_depth = max(call_depth(o.fn) for o in node.operands if isinstance(o, Elementwise))
    if call_depth(node.fn) + inner_depth > MAX_FOLD_DEPTH:
        return None
    xs = arg_symbols(len(node.operands))
    temp: list[sp.Symbol] = []
    operands: list[Node] = []
    mapping: dict[sp.Symbol, sp.Expr] = {}

    def slot(o: Node) -> sp.Symbol:
        d = sp.Symbol(f"_fold{len(temp)}", real=True)  # fixed names: sympy caches compositions
        temp.append(d)
        operands.append(o)
        return d

    for x, o in zip(xs, node.operands, strict=True):
        if isinstance(o, Elementwise):
            inner = {y: slot(sub) for y, sub in zip(arg_symbols(len(o.operands)), o.operands, strict=True)}
            mapping[x] = o.fn.xreplace(inner)
        else:
            mapping[x] = slot(o)
    fn = node.fn.xreplace(mapping).xreplace(dict(zip(temp, arg_symbols(len(temp)), strict=True)))
    return Elementwise(fn, tuple(operands))


def constants(node: Elementwise) -> Node | None:
    """Substitute constant operands (zeros, ones, ``c * ones``, scaled operands) into the rule.

    ``f(c * ones) = f(c) * ones`` and ``f(.., c * t, ..) = f(.., c * x, ..)(.., t, ..)``. Skipped when
    the constant would be non-finite (``1/0``). Terminates: operands lose constants or vanish.
    """
    xs = arg_symbols(len(node.operands))
    mapping: dict[sp.Symbol, sp.Expr] = {}
    keep: list[Node] = []
    changed = False
    for x, o in zip(xs, node.operands, strict=True):
        c = constant_value(o)
        if c is not None:
            mapping[x] = c
            changed = True
            continue
        scale, inner = sp.Integer(1), o
        if isinstance(o, Sum) and len(o.terms) == 1:
            inner, scale, changed = o.terms[0], o.coeffs[0], True
        keep.append(inner)
        mapping[x] = scale * arg_symbols(len(keep))[-1]
    if not changed:
        return None
    try:
        return _rebuild(node.fn, keep, mapping, node)
    except ValueError:
        return None


def dedupe(node: Elementwise) -> Node | None:
    """Merge equal operands (identical, or isomorphic up to bound-leg renaming) and drop
    operands the rule does not use.

    ``f(x, x') = (x -> f(x, x))(x)`` when ``x' ≅ x``. Terminates: the operand count decreases.
    """
    xs = arg_symbols(len(node.operands))
    used = node.fn.free_symbols
    keep: list[Node] = []
    mapping: dict[sp.Symbol, sp.Expr] = {}
    for x, o in zip(xs, node.operands, strict=True):
        if x not in used:
            continue
        twin = next((k for k, prev in enumerate(keep) if prev is o or is_isomorphic(prev, o)), None)
        if twin is not None:
            mapping[x] = arg_symbols(len(keep))[twin]
        else:
            keep.append(o)
            mapping[x] = arg_symbols(len(keep))[-1]
    if len(keep) == len(xs):
        return None
    try:
        return _rebuild(node.fn, keep, mapping, node)
    except ValueError:
        return None


def trivial(node: Elementwise) -> Node | None:
    """``(x -> x_i)(.., t_i, ..) = t_i``; a constant rule ``c`` is ``c * ones``.

    Terminates: the Elementwise node disappears.
    """
    for x, o in zip(arg_symbols(len(node.operands)), node.operands, strict=True):
        if node.fn == x:
            return o
    if not node.fn.free_symbols and not node.fn.has(*_BAD):
        return scaled(ones_like(node), node.fn)
    return None


def linear(node: Elementwise) -> Node | None:
    """A rule affine in its arguments, ``a0 + sum a_i x_i``, is the weighted sum of its operands.

    Terminates: the Elementwise node becomes a Sum of its (smaller) operands.
    """
    xs = arg_symbols(len(node.operands))
    fn = node.fn
    if not fn.is_polynomial(*xs):
        return None
    poly = sp.Poly(fn, *xs)
    if poly.total_degree() > 1:
        return None
    terms: list[Node] = []
    coeffs: list[sp.Expr] = []
    for x, o in zip(xs, node.operands, strict=True):
        c = poly.coeff_monomial(x)
        if c != 0:
            terms.append(o)
            coeffs.append(c)
    c0 = poly.coeff_monomial(1)
    if c0 != 0:
        terms.append(ones_like(node))
        coeffs.append(c0)
    if not terms:
        return Zero(node.sig)
    return Sum(tuple(terms), tuple(coeffs))


def order(node: Elementwise) -> Node | None:
    """Sort operands canonically (by ``sort_key``), permuting the rule's arguments to match.

    Terminates: applies only to unsorted operands and leaves them sorted.
    """
    keys = [sort_key(o) for o in node.operands]
    perm = sorted(range(len(keys)), key=keys.__getitem__)
    if perm == list(range(len(keys))):
        return None
    xs = arg_symbols(len(keys))
    mapping = {xs[old]: xs[new] for new, old in enumerate(perm)}
    return Elementwise(node.fn.xreplace(mapping), tuple(node.operands[i] for i in perm))


RULES = (fold, constants, dedupe, trivial, linear, order)  # canonical shape: elementwise_canon
"""Elementwise rules in the order ``simplify`` tries them."""

__all__ = ["RULES", "constant_value", "ones_like", "scaled"]
