"""Canonical shape of elementwise bubbles, so printed notation parses back to the same form.

The notation spells ``1 - tanh(x)^2`` as a sum and ``exp(-x) * (1 + exp(-x))^-2`` as a
Hadamard product of two bubbles, while ``sympy.diff`` hands back one rule for each. The
canonical form agrees with the notation:

- a rule's top level is never a sum or a product: ``f + g`` becomes a Sum of bubbles (constants
  become ``c * ones``), ``c * f`` a scaled bubble, ``f * g`` a Hadamard product of bubbles;
- an operand that is a linear combination of bubbles over the same operands (and constants) is
  folded into the rule: ``pow(1 + exp(-x), -2)`` is the single bubble ``(1 + exp(-x0))^-2``.

Both rules terminate: splitting shrinks each rule's top-level expression, folding removes one
level of Sum between bubbles.
"""

from __future__ import annotations

import sympy as sp

from symtn.ir import algebra
from symtn.ir.nodes import Elementwise, Node, Sum, arg_symbols
from symtn.rewrite.elementwise import constant_value, ones_like, scaled

_BAD = (sp.zoo, sp.nan, sp.oo, -sp.oo)


def rule_bubble(fn: sp.Expr, operands: tuple[Node, ...], like: Node) -> Node:
    """``fn`` over ``operands`` with unused operands dropped (a constant is ``c * ones``)."""
    xs = arg_symbols(len(operands))
    used = [i for i, x in enumerate(xs) if x in fn.free_symbols]
    if not used:
        return scaled(ones_like(like), fn)
    mapping = {xs[i]: arg_symbols(len(used))[k] for k, i in enumerate(used)}
    return Elementwise(fn.xreplace(mapping), tuple(operands[i] for i in used))


def split(node: Elementwise) -> Node | None:
    """``(f + g)(x) = f(x) + g(x)``; ``(c f)(x) = c f(x)``; ``(f g)(x) = f(x) * g(x)``."""
    fn = node.fn
    if fn.has(*_BAD):
        return None
    if fn.is_Add:
        terms: list[Node] = []
        coeffs: list[sp.Expr] = []
        for part in fn.args:
            c, rest = part.as_coeff_Mul()
            terms.append(rule_bubble(rest, node.operands, node))
            coeffs.append(c)
        return Sum(tuple(terms), tuple(coeffs))
    if fn.is_Mul:
        c, rest = fn.as_coeff_Mul()
        if c != 1:
            return scaled(rule_bubble(rest, node.operands, node), c)
        factors = [rule_bubble(f, node.operands, node) for f in rest.args]
        out = factors[0]
        for f in factors[1:]:
            out = algebra.hadamard(out, f)
        return out
    return None


def _linear_in_bubbles(operand: Node, operands: tuple[Node, ...]) -> sp.Expr | None:
    """``operand`` as a rule over ``operands`` when it is a combination of bubbles on them."""
    c = constant_value(operand)
    if c is not None:
        return c
    if isinstance(operand, Elementwise) and operand.operands == operands:
        return operand.fn
    if isinstance(operand, Sum):
        total = sp.Integer(0)
        for k, t in zip(operand.coeffs, operand.terms, strict=True):
            if any(s.is_Symbol and not s.name.startswith("x") for s in k.free_symbols):
                return None  # size-dependent coefficients stay outside the rule
            part = _linear_in_bubbles(t, operands)
            if part is None:
                return None
            total += k * part
        return total
    return None


def fold_sums(node: Elementwise) -> Node | None:
    """``f(c0 + c1 g1(y) + ...)`` = ``(f o (c0 + c1 g1 + ...))(y)`` for single-operand bubbles."""
    if len(node.operands) != 1:
        return None
    operand = node.operands[0]
    if not isinstance(operand, Sum):
        return None
    inner = next(
        (t.operands for t in operand.terms if isinstance(t, Elementwise)),
        None,
    )
    if inner is None:
        return None
    rule = _linear_in_bubbles(operand, inner)
    if rule is None:
        return None
    x0 = arg_symbols(1)[0]
    return Elementwise(node.fn.xreplace({x0: rule}), inner)


RULES = (split, fold_sums)
