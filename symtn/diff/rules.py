"""Derivative rules: hole-poking on networks and the chain rule through bubbles.

``derivative(f, X, hole)`` is the tensor ``[d f / d X][legs(f), new legs]`` (docs/language.md,
"Derivatives"): one rule per node kind, applied bottom-up once per distinct node (nodes
are hash-consed, so a shared subexpression is differentiated once).

- An occurrence of ``X`` (any relabelling ``X[i -> j]``) becomes identity deltas pairing its legs,
  slot by slot, with the new legs ("poking a hole"); other tensors, ``const`` tensors, constants
  and ``frozen(...)`` give zero.
- Sums are linear; a network gives one term per factor that depends on ``X`` (product rule).
- ``f(u1, ..., uk)`` elementwise gives ``sum_i f_i(u) * d(u_i)``, the partials from
  ``sympy.diff``, Hadamard over ``f``'s legs (NTN: the lifted derivative times an identity).
- A leg-acting bubble gives its Jacobian ``J[lifted, produced, consumed']``, wired to the
  operand's derivative on the consumed legs and Hadamard on the lifted ones. Jacobians come from
  ``jacobians.JACOBIANS`` (``max``/``min``, ``det``, ``logdet``, ``inv``), else the uninterpreted
  bubble ``jac[f]``.

Sources: Named Tensor Notation (Chiang, Rush & Barak, arXiv 2102.13196), section on
differentiation; The Matrix Cookbook (Petersen & Pedersen, 2012), sections 2.1-2.4.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import lru_cache

import sympy as sp

from symtn.diff.jacobians import jacobian, join
from symtn.errors import LegError
from symtn.ir.algebra import scale
from symtn.ir.nodes import (
    Bubble,
    Delta,
    Elementwise,
    Frozen,
    Node,
    Product,
    Sig,
    Sum,
    Tensor,
    Zero,
    arg_symbols,
)
from symtn.ir.walk import fresh, rename_legs

Hole = tuple[tuple[str, str], ...]


@lru_cache(maxsize=4096)
def _partial(fn: sp.Expr, x: sp.Symbol) -> sp.Expr:
    """``d fn / d x`` almost everywhere (memoised: a rule is differentiated once per process)."""
    return almost_everywhere(sp.diff(fn, x))


def almost_everywhere(expr: sp.Expr) -> sp.Expr:
    """Drop ``DiracDelta`` terms: the derivative of a step is zero almost everywhere.

    A step whose value at 0 sympy leaves open (``d max(x, y) / dx = Heaviside(x - y)``) is
    taken as 0 there, so it is ``iverson(x > y)``: the one-sided derivative convention of
    ``relu'(0) = 0`` (the values differ only on a set of measure zero).
    """
    out = expr.replace(sp.DiracDelta, lambda *_: sp.Integer(0))
    return out.replace(  # type: ignore[no-any-return]
        lambda h: isinstance(h, sp.Heaviside) and (len(h.args) == 1 or h.args[1] == sp.S.Half),
        lambda h: sp.Heaviside(h.args[0], 0),
    )


def apply_rule(fn: sp.Expr, operands: Sequence[Node]) -> sp.Expr | Node:
    """``fn`` applied to ``operands`` entrywise, keeping only the operands it uses.

    Returns a sympy number when ``fn`` is constant, the operand itself when ``fn`` is ``x_j``,
    otherwise an Elementwise node over the used operands (renumbered ``x0, x1, ...``).
    """
    xs = arg_symbols(len(operands))
    used = [i for i, x in enumerate(xs) if x in fn.free_symbols]
    if not used:
        return fn
    if len(used) == 1 and fn == xs[used[0]]:
        return operands[used[0]]
    new = arg_symbols(len(used))
    fn = fn.subs({xs[i]: new[k] for k, i in enumerate(used)}, simultaneous=True)
    return Elementwise(fn, tuple(operands[i] for i in used))


def reorder(node: Node, legs: Sequence[str]) -> Node:
    """``node`` with its free legs in the order ``legs`` (same set), via identity deltas.

    Leg order is not part of a value; this only fixes the canonical order of a result by
    renaming the legs to fresh names and wiring them to identity deltas listed first.
    """
    legs = tuple(legs)
    if node.legs == legs:
        return node
    if set(legs) != node.legset:
        raise LegError(f"cannot reorder [{', '.join(node.legs)}] as [{', '.join(legs)}]", code="E204")
    tmp = {leg: fresh(leg) for leg in legs}
    moved = rename_legs(node, tmp)
    sizes = node.sizes
    deltas = [Delta(sizes[leg], (leg, tmp[leg])) for leg in legs]
    if isinstance(moved, Product):
        return Product(*deltas, *moved.args)
    return Product(*deltas, moved)


def add_terms(terms: Sequence[tuple[sp.Expr, Node]], sig: Sig) -> Node:
    """``sum c_k t_k`` with zero terms dropped and nested sums flattened (``sig`` if empty)."""
    flat: list[tuple[sp.Expr, Node]] = []
    for c, t in terms:
        if isinstance(t, Zero) or c == 0:
            continue
        if isinstance(t, Sum):
            flat.extend((c * k, s) for k, s in zip(t.coeffs, t.terms, strict=True))
        else:
            flat.append((sp.sympify(c), t))
    if not flat:
        return Zero(sig)
    if len(flat) == 1 and flat[0][0] == 1:
        return flat[0][1]
    return Sum(tuple(t for _, t in flat), tuple(c for c, _ in flat))


class _Differentiator:
    """One derivative computation: the variable, its hole and the memo of node -> derivative."""

    def __init__(self, wrt: Tensor, hole: Hole) -> None:
        self.wrt = wrt
        self.new_of_slot = dict(hole)
        sizes = dict(wrt.slots)
        self.hole_sig: Sig = tuple((new, sizes[slot]) for slot, new in hole)
        self.memo: dict[Node, Node] = {}

    def zero(self, node: Node) -> Node:
        return Zero(node.sig + self.hole_sig)

    def run(self, root: Node) -> Node:
        """Differentiate ``root``: iterative post-order, each distinct node once."""
        stack: list[tuple[Node, bool]] = [(root, False)]
        memo = self.memo
        while stack:
            node, ready = stack.pop()
            if node in memo:
                continue
            kids = () if isinstance(node, (Tensor, Frozen)) else node.children
            if ready or not kids:
                memo[node] = self.rule(node)
            else:
                stack.append((node, True))
                stack.extend((k, False) for k in reversed(kids) if k not in memo)
        return memo[root]

    def rule(self, node: Node) -> Node:
        if isinstance(node, Tensor):
            return self.tensor(node)
        if isinstance(node, Sum):
            return add_terms(
                [(c, self.memo[t]) for c, t in zip(node.coeffs, node.terms, strict=True)],
                self.zero(node).sig,
            )
        if isinstance(node, Product):
            return self.product(node)
        if isinstance(node, Elementwise):
            return self.elementwise(node)
        if isinstance(node, Bubble):
            return self.bubble(node)
        # Delta, Shifted, Iverson, Reshape, Zero, Frozen: constants.
        return self.zero(node)

    def tensor(self, node: Tensor) -> Node:
        """``dX[legs]/dX[new]`` = product of ``delta[leg_k, new_k]`` (slot k of the occurrence)."""
        if node.is_const or node.variable is not self.wrt:
            return self.zero(node)
        deltas = [
            Delta(size, (leg, self.new_of_slot[slot]))
            for leg, (slot, size) in zip(node.legs, node.slots, strict=True)
        ]
        return deltas[0] if len(deltas) == 1 else Product(*deltas)

    def product(self, node: Product) -> Node:
        """Product rule: the factor replaced by its derivative, one term per dependent factor."""
        factors = node.args
        terms: list[tuple[sp.Expr, Node]] = []
        for k, f in enumerate(factors):
            df = self.memo[f]
            if isinstance(df, Zero):
                continue
            terms.append((sp.Integer(1), Product(*factors[:k], df, *factors[k + 1 :])))
        return add_terms(terms, self.zero(node).sig)

    def elementwise(self, node: Elementwise) -> Node:
        """Chain rule ``d f(u) = sum_i (df/dx_i)(u) * d(u_i)`` (Hadamard over ``f``'s legs)."""
        xs = arg_symbols(len(node.operands))
        terms: list[tuple[sp.Expr, Node]] = []
        for i, u in enumerate(node.operands):
            du = self.memo[u]
            if isinstance(du, Zero):
                continue
            partial = _partial(node.fn, xs[i])
            if partial == 0:
                continue
            g = apply_rule(partial, node.operands)
            if isinstance(g, Node):
                terms.append((sp.Integer(1), join(g, du, node.legs)))
            else:
                terms.append((sp.Integer(1), scale(du, g)))
        return add_terms(terms, self.zero(node).sig)

    def bubble(self, node: Bubble) -> Node:
        """Chain rule through a leg-acting bubble ``f[L](u)`` lifted over legs ``M``.

        ``d f[M, P, H] = sum_{L'} J[M, P, L'] * du[M, L -> L', H]``, Hadamard on ``M``.
        """
        du = self.memo[node.operand]
        if isinstance(du, Zero):
            return self.zero(node)
        primes = {leg: fresh(leg) for leg in node.consumed}
        jac = jacobian(node, primes)
        if isinstance(jac, Zero):
            return self.zero(node)
        lifted = tuple(leg for leg in node.operand.legs if leg not in node.consumed)
        return join(jac, rename_legs(du, primes), lifted)


def derivative(node: Node, wrt: Tensor, hole: Hole) -> Node:
    """The derivative of ``node`` by the variable ``wrt`` with new legs named by ``hole``.

    Args:
        node: the expression ``f`` with legs ``[t...]``.
        wrt: the variable ``X`` (its declared form is used; an occurrence maps slot by slot).
        hole: pairs ``(slot leg of X, new leg)`` covering each slot once; new legs must be
            fresh (not legs of ``node``).

    Returns:
        ``[d f/d X][t..., new...]`` with legs ``node.legs`` followed by the new legs in the
        order of ``hole``, sizes those of the slots. Not simplified.

    Raises:
        LegError: E210 if ``wrt`` is not a tensor or is const; E207 if a new leg is taken.
    """
    if not isinstance(wrt, Tensor):
        raise LegError(f"d(...)/d(...): can only differentiate by a tensor variable, not {wrt}", code="E210")
    var = wrt.variable
    if var.is_const:
        raise LegError(f"d(...)/d({var.name}): {var.name} is const", code="E210")
    slots = [s for s, _ in var.slots]
    if sorted(s for s, _ in hole) != sorted(slots):
        raise LegError(f"hole {hole} must pair each leg of {var.name} [{', '.join(slots)}] once", code="E102")
    new = [n for _, n in hole]
    taken = sorted({n for n in new if n in node.legset or new.count(n) > 1})
    if taken:
        raise LegError(f"derivative leg name(s) {', '.join(taken)} already used", code="E207")
    result = _Differentiator(var, hole).run(node)
    return reorder(result, node.legs + tuple(new))


__all__ = ["Hole", "add_terms", "almost_everywhere", "apply_rule", "derivative", "reorder"]
