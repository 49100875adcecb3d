"""Recognise numerically delicate patterns so backends can evaluate them stably.

The prelude defines ``logsumexp[L](x) = log(sum[L](exp(x)))`` and ``softmax[L](x) = exp(x) /
sum[L](exp(x))``; evaluated naively both overflow for inputs around 1000. These matchers find
the two shapes in the IR (as built by ``symtn.ir.algebra``) so a backend can subtract the maximum
first. They only read the IR; they never change values.
"""

from __future__ import annotations

from dataclasses import dataclass

import sympy as sp

from symtn.ir.nodes import Delta, Elementwise, Node, Product, arg_symbols
from symtn.ir.walk import rename_legs

_X0 = arg_symbols(1)[0]
LOG, EXP, INV = sp.log(_X0), sp.exp(_X0), _X0**-1


def _unary(node: Node, fn: sp.Expr) -> Node | None:
    """The operand of ``fn(operand)`` if ``node`` is that elementwise node, else None."""
    if isinstance(node, Elementwise) and node.fn == fn and len(node.operands) == 1:
        return node.operands[0]
    return None


def sum_exp_parts(node: Node) -> tuple[Node, tuple[str, ...]] | None:
    """Recognise ``sum[L](exp(x))`` (one ``exp`` and order-1 deltas on its legs): ``(x, L)``."""
    if not isinstance(node, Product):
        return None
    exps = [f for f in node.args if _unary(f, EXP) is not None]
    if len(exps) != 1:
        return None
    summed: list[str] = []
    for f in node.args:
        if f is exps[0]:
            continue
        if not (isinstance(f, Delta) and f.order == 1 and f.legs[0] in exps[0].legset):
            return None
        summed.append(f.legs[0])
    if not summed:
        return None
    return exps[0].args[1][0], tuple(summed)


def logsumexp_parts(node: Node) -> tuple[Node, tuple[str, ...]] | None:
    """Recognise ``log(sum[L](exp(x)))`` and return ``(x, L)``, else None.

    The value has the legs of ``x`` other than ``L``.
    """
    inner = _unary(node, LOG)
    return None if inner is None else sum_exp_parts(inner)


@dataclass(frozen=True)
class SoftmaxParts:
    """``softmax[L](x)`` found in a network.

    Attributes:
        x: the logits (legs: the kept legs ``M`` under names of the denominator side, and ``L``).
        summed: the legs ``L`` normalised over.
        rename: the leg names of the result for ``x``'s kept legs (``M`` side name -> free leg).
    """

    x: Node
    summed: tuple[str, ...]
    rename: dict[str, str]


def softmax_parts(node: Node) -> SoftmaxParts | None:
    """Recognise ``exp(x) / sum[L](exp(x))`` in the form ``algebra.divide`` builds.

    That form is a network of ``exp(z)``, ``(sum[L](exp(y)))^-1`` and, for every kept leg ``m``,
    a copy tensor ``delta[m, a, b]`` joining ``z``'s leg ``a`` to ``y``'s leg ``b``, where ``z``
    is ``y`` with each ``b`` renamed to its ``a``.
    """
    if not isinstance(node, Product):
        return None
    nums = [f for f in node.args if _unary(f, EXP) is not None]
    dens = [f for f in node.args if _unary(f, INV) is not None]
    if len(nums) != 1 or len(dens) != 1:
        return None
    num, den = nums[0], dens[0]
    found = sum_exp_parts(den.args[1][0])
    if found is None:
        return None
    y, summed = found
    b_to_a: dict[str, str] = {}
    b_to_m: dict[str, str] = {}
    for f in node.args:
        if f is num or f is den:
            continue
        if not (isinstance(f, Delta) and f.order == 3):
            return None
        on_num = [leg for leg in f.legs if leg in num.legset]
        on_den = [leg for leg in f.legs if leg in den.legset]
        free = [leg for leg in f.legs if leg in node.legset]
        if len(on_num) != 1 or len(on_den) != 1 or len(free) != 1:
            return None
        b_to_a[on_den[0]] = on_num[0]
        b_to_m[on_den[0]] = free[0]
    if set(b_to_a) != den.legset:
        return None
    if rename_legs(y, b_to_a) is not num.args[1][0]:
        return None
    return SoftmaxParts(y, summed, b_to_m)


@dataclass(frozen=True)
class InverseSumExp:
    """``(sum[L](exp(y)))^-k`` found as one factor of a network.

    Attributes:
        y: the exponent's argument (in the factor's own leg names).
        summed: the legs ``L`` summed over.
        kept: the other legs of ``y`` in ``y``'s order (the factor's legs, maybe reordered).
        power: the positive integer ``k``.
    """

    y: Node
    summed: tuple[str, ...]
    kept: tuple[str, ...]
    power: int


def inverse_sum_exp(node: Node) -> InverseSumExp | None:
    """Recognise ``(sum[L](exp(y)))^-k`` for a positive integer ``k``, else None."""
    if not (isinstance(node, Elementwise) and len(node.operands) == 1):
        return None
    fn = node.fn
    if not (fn.is_Pow and fn.args[0] == _X0 and fn.args[1].is_number):
        return None
    power = -float(fn.args[1])
    if power <= 0 or power != int(power):
        return None
    found = sum_exp_parts(node.operands[0])
    if found is None:
        return None
    y, summed = found
    return InverseSumExp(y, summed, tuple(leg for leg in y.legs if leg not in summed), int(power))


def exp_argument(node: Node) -> Node | None:
    """The argument ``u`` of an elementwise ``exp(u)``, else None."""
    return _unary(node, EXP)
