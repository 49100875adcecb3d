"""Jacobians of leg-acting bubbles, and the Hadamard-and-wire join used by the chain rule.

A bubble ``f[L](u)`` with lifted legs ``M``, consumed legs ``L`` and produced legs ``P`` has the
Jacobian ``J[M, P, L'] = d f[M, P] / d u[M, L']`` (block-diagonal in ``M``, so ``M`` appears once
and the diagonal is restored by a Hadamard product in the chain rule). ``L'`` are fresh copies of
``L``. The registry ``JACOBIANS`` maps a bubble name to a rule building ``J``; a name without a
rule gets the uninterpreted bubble ``jac[f]`` (an opaque user function, docs/language.md,
"User functions"), whose own derivative is ``jac[jac[f]]`` and so on.

Built-in rules (the bubbles ``symtn.lower`` evaluates):
    sum, mean      ones (divided by the count for ``mean``) on the lifted and primed legs.
    logsumexp      ``softmax[L]`` with produced legs ``L'``.
    softmax        ``s[P] * delta[P, L'] - s[P] * s[L']`` (P: produced legs, one per consumed).
    max, min       ``jac[max]``: the one-hot of the arg-max over ``L`` (no rule needed: the
                   uninterpreted form is evaluated as such by the backends).
    jac[max/min]   zero: the one-hot is piecewise constant (derivative zero almost everywhere).
    det[i, j]      ``det * inv[i, j]`` (Matrix Cookbook eq. 49: d det X / dX = det X X^-T).
    logdet[i, j]   ``inv[i, j]`` (Matrix Cookbook eq. 57).
    inv[i, j]      ``-inv @ (hole) @ inv`` (Matrix Cookbook eq. 59: dX^-1 = -X^-1 dX X^-1).

Here ``inv[i, j](X)`` keeps ``X``'s leg names and its entry at ``i = b, j = a`` is ``(X^-1)[a, b]``
(docs/language.md, "Functions"), so ``d det / d X[i = a, j = b] = det * inv[i = a, j = b]``.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import sympy as sp

from symtn.ir.algebra import scale
from symtn.ir.nodes import Bubble, Delta, Node, Product, Sum, Zero
from symtn.ir.walk import fresh, rename_legs

JacobianRule = Callable[[Bubble, dict[str, str]], Node]
"""``rule(node, primes) -> J``: ``primes`` maps each consumed leg to its fresh copy; ``J`` has
legs ``node.legs`` (lifted, then produced) plus the copies, in any order."""

JACOBIANS: dict[str, JacobianRule] = {}


def join(a: Node, b: Node, over: Sequence[str]) -> Node:
    """``a`` times ``b``: Hadamard (kept, via copy tensors) on ``over``, wires on other shared legs.

    Legs: ``over`` first (in that order), then the free legs of ``a``, then those of ``b``.
    """
    if not over:
        return Product(a, b)
    ra = {m: fresh(m) for m in over}
    rb = {m: fresh(m) for m in over}
    sizes = a.sizes
    deltas = [Delta(sizes[m], (m, ra[m], rb[m])) for m in over]
    return Product(*deltas, rename_legs(a, ra), rename_legs(b, rb))


def register_jacobian(name: str) -> Callable[[JacobianRule], JacobianRule]:
    """Decorator registering the Jacobian rule of the bubble named ``name``."""

    def deco(rule: JacobianRule) -> JacobianRule:
        JACOBIANS[name] = rule
        return rule

    return deco


def jac_name(name: str) -> str:
    """The name of the uninterpreted Jacobian bubble of ``name`` (``jac[f]``)."""
    return f"jac[{name}]"


def opaque_jacobian(node: Bubble, primes: dict[str, str]) -> Node:
    """``jac[f](u)``: consumes ``L``, produces ``P`` then ``L'`` (lifted over ``M``)."""
    sizes = node.operand.sizes
    produced = tuple(node.produced) + tuple((primes[c], sizes[c]) for c in node.consumed)
    return Bubble(jac_name(node.name), node.operand, node.consumed, produced)


def jacobian(node: Bubble, primes: dict[str, str]) -> Node:
    """The Jacobian ``J[M, P, L']`` of ``node`` (registered rule, else ``jac[f]``)."""
    rule = JACOBIANS.get(node.name, opaque_jacobian)
    return rule(node, primes)


def _lifted(node: Bubble) -> tuple[str, ...]:
    return tuple(leg for leg in node.operand.legs if leg not in node.consumed)


def _inv(node: Bubble, names: tuple[str, str]) -> Node:
    """``inv[i, j]`` of ``node``'s operand with its produced legs named ``names``."""
    i, j = node.consumed
    n = node.operand.size(i)
    return Bubble("inv", node.operand, (i, j), ((names[0], n), (names[1], n)))


def _ones(node: Bubble, primes: dict[str, str], scale_by: object = 1) -> Node:
    sizes = node.operand.sizes
    legs = [*_lifted(node), *(primes[c] for c in node.consumed)]
    src = [*_lifted(node), *node.consumed]
    ones = [Delta(sizes[s], (leg,)) for leg, s in zip(legs, src, strict=True)]
    return scale(ones[0] if len(ones) == 1 else Product(*ones), scale_by)  # Product() is 1


@register_jacobian("sum")
def _sum(node: Bubble, primes: dict[str, str]) -> Node:
    return _ones(node, primes)


@register_jacobian("mean")
def _mean(node: Bubble, primes: dict[str, str]) -> Node:
    sizes = node.operand.sizes
    count = sp.Integer(1)
    for c in node.consumed:
        count *= sizes[c]
    return _ones(node, primes, 1 / count)


def _softmax_of(node: Bubble, names: Sequence[str]) -> Node:
    sizes = node.operand.sizes
    produced = tuple((n, sizes[c]) for n, c in zip(names, node.consumed, strict=True))
    return Bubble("softmax", node.operand, node.consumed, produced)


@register_jacobian("logsumexp")
def _logsumexp(node: Bubble, primes: dict[str, str]) -> Node:
    return _softmax_of(node, [primes[c] for c in node.consumed])


@register_jacobian("softmax")
def _softmax(node: Bubble, primes: dict[str, str]) -> Node:
    # d s[P] / d u[L'] = s[P] * delta[P, L'] - s[P] * s[L'] (Hadamard on the lifted legs)
    produced = [leg for leg, _ in node.produced]
    tmp = {p: fresh(p) for p in produced}
    sizes = dict(node.produced)
    diagonal = Product(
        rename_legs(node, tmp),
        *(Delta(sizes[p], (p, tmp[p], primes[c])) for p, c in zip(produced, node.consumed, strict=True)),
    )
    outer = join(node, _softmax_of(node, [primes[c] for c in node.consumed]), _lifted(node))
    return Sum((diagonal, outer), (1, -1))


@register_jacobian("jac[max]")
@register_jacobian("jac[min]")
def _piecewise_constant(node: Bubble, primes: dict[str, str]) -> Node:
    sizes = node.operand.sizes
    return Zero(node.sig + tuple((primes[c], sizes[c]) for c in node.consumed))


@register_jacobian("det")
def _det(node: Bubble, primes: dict[str, str]) -> Node:
    i, j = node.consumed
    return join(node, _inv(node, (primes[i], primes[j])), _lifted(node))


@register_jacobian("logdet")
def _logdet(node: Bubble, primes: dict[str, str]) -> Node:
    i, j = node.consumed
    return _inv(node, (primes[i], primes[j]))


@register_jacobian("inv")
def _inverse(node: Bubble, primes: dict[str, str]) -> Node:
    i, j = node.consumed
    p, q = (leg for leg, _ in node.produced)
    # d inv[p = s, q = t] / d X[i = a, j = b] = -inv[p = a, q = t] * inv[p = s, q = b]
    left = rename_legs(node, {p: primes[i]})
    right = rename_legs(node, {q: primes[j]})
    return scale(join(left, right, _lifted(node)), -1)


__all__ = [
    "JACOBIANS",
    "JacobianRule",
    "jac_name",
    "jacobian",
    "join",
    "opaque_jacobian",
    "register_jacobian",
]
