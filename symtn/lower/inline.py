"""One network per contraction: nested products inlined into the network that uses them.

A program's IR keeps the nesting the user wrote: ``Ta @ Tb`` with ``Ta = Pa * Wa * Va -> [o, i, j]``
is a product whose two factors are products, and ``(Pa @ (Wa * Va)) @ (Pb @ (Wb * Vb))`` nests two
levels. Evaluating each nested product on its own materialises it: the ``[o, i, j]`` tensor of a
bilinear layer (d^3 entries, d^3 h FLOPs) where the whole network, contracted as one, needs only
``[k, l]`` Gram matrices. This module replaces a product factor by its own factors (its internal
legs renamed apart) whenever that is cheaper, so the path search sees the flat network.

The choice is made per network by the contraction cost model (:func:`symtn.lower.paths.choose`):

- *flat*: every nested product inlined, recursively;
- *private*: only the nested products used once (and not computed already) inlined;
- *nested*: the network as written, each nested product materialised;

then, from the cheapest, one product at a time is opened (its factors inlined, its own nested
products kept) while that lowers the cost. A product of one dense factor and copy tensors (a
broadcast, a relabelling: the form of many backpropagated errors) is always inlined.

A materialised product costs its own (recursively chosen) contraction, divided by the number of
networks that use it (shared work is done once, and a value computed already costs nothing).
Costs are FLOPs plus a weight per entry of the largest intermediate; ties keep the nesting. A
product recognised as a softmax is never inlined (it is computed by the stable kernel).
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from typing import Any

import sympy as sp

from symtn.ir.nodes import Delta, Node, Product, Reshape
from symtn.ir.walk import rename_legs
from symtn.lower.distribute import first_free, wire_name
from symtn.lower.factor import MEMORY_WEIGHT
from symtn.lower.paths import choose
from symtn.lower.plan import ReshapeConflict, plan_network
from symtn.lower.stable import softmax_parts
from symtn.rewrite.alpha import alpha_key

MAX_STEPS = 16
"""Products opened one at a time (after the flat candidates) per network, at most."""

MAX_OPERANDS = 64
"""A flattened network with more dense operands than this is not considered (planning time)."""


def inlinable(node: Node) -> bool:
    """A product factor that may be replaced by its factors (not a recognised softmax)."""
    return isinstance(node, Product) and softmax_parts(node) is None


def count_uses(roots: Iterable[Node]) -> Counter[str]:
    """How many distinct product networks use each inlinable product as a direct factor (over
    a DAG), both counted up to leg renaming (``alpha_key``): a renamed copy is the same value,
    and two renamed copies of one parent are computed once."""
    parents: dict[str, set[str]] = {}
    seen: set[int] = set()
    stack = list(roots)
    while stack:
        n = stack.pop()
        if id(n) in seen:
            continue
        seen.add(id(n))
        if isinstance(n, Product):
            for f in n.args:
                if inlinable(f):
                    parents.setdefault(alpha_key(f), set()).add(alpha_key(n))
        stack.extend(n.children)
    return Counter({k: len(v) for k, v in parents.items()})


class _Names:
    """Deterministic fresh wire names (:func:`~symtn.lower.distribute.wire_name`) above any such
    name already in the network, so the same network always flattens to the same factors
    (plans stay cached across calls)."""

    def __init__(self, factors: Sequence[Node]) -> None:
        self.next = first_free(factors)

    def take(self, old: str) -> str:
        self.next += 1
        return wire_name(old, self.next - 1)


def _open(node: Product, names: _Names) -> list[Node]:
    """The factors of ``node`` with its wires renamed to fresh names."""
    mapping = {w: names.take(w) for w in sorted(node.wires())}
    return [rename_legs(f, {k: v for k, v in mapping.items() if k in f.legset}) for f in node.args]


def flatten(factors: Sequence[Node], keep: Callable[[Node], bool]) -> list[Node]:
    """``factors`` with every inlinable product for which ``keep`` is false replaced by its
    factors, recursively (wires renamed apart)."""
    names = _Names(factors)
    out: list[Node] = []
    stack = list(reversed(factors))
    while stack:
        f = stack.pop()
        if inlinable(f) and not keep(f):
            assert isinstance(f, Product)
            stack.extend(reversed(_open(f, names)))
        else:
            out.append(f)
    return out


class Inliner:
    """Chooses, per network, which nested products to inline.

    Args:
        size_of: evaluates a size expression to an int.
        uses: product key (``alpha_key``) -> number of networks using it as a factor (:func:`count_uses`).
        have: whether a node's value is computed already (its materialisation is free).
    """

    def __init__(
        self, size_of: Callable[[sp.Expr], int], uses: Counter[str], have: Callable[[Node], bool]
    ) -> None:
        self.size_of = size_of
        self.uses = uses
        self.have = have
        self._cost: dict[Node, int] = {}

    def flops(self, factors: Sequence[Node], out_legs: Sequence[str]) -> int:
        """Cost of contracting ``factors`` as one network (nested products as dense operands):
        its FLOPs plus :data:`~symtn.lower.factor.MEMORY_WEIGHT` per entry of its largest
        intermediate (an outer product summed afterwards costs as many FLOPs as the contraction
        that never builds it, but not as much memory)."""
        try:
            plan = plan_network(list(factors), out_legs, self.size_of)
        except ReshapeConflict:
            return 0
        if len(plan.operands) < 2:  # a reduction (or nothing): one pass over the operand
            ops = plan.operands
            return math.prod(ops[0].shape) if ops and ops[0].labels != plan.einsum_out else 0
        c = choose([op.labels for op in plan.operands], plan.einsum_out, plan.label_sizes)
        return c.flops + MEMORY_WEIGHT * c.largest

    def node_cost(self, node: Node) -> int:
        """FLOPs of materialising a product (its network as this inliner would plan it)."""
        hit = self._cost.get(node)
        if hit is None:
            assert isinstance(node, Product)
            factors = self.choose(node.args, node.legs)
            hit = self._cost[node] = self._total(factors, node.legs)
        return hit

    def _total(self, factors: Sequence[Node], out_legs: Sequence[str]) -> int:
        total = self.flops(factors, out_legs)
        for f in factors:
            if inlinable(f) and not self.have(f):
                total += self.node_cost(f) // max(1, self.uses.get(alpha_key(f), 1))
        return total

    def choose(self, factors: Sequence[Node], out_legs: Sequence[str]) -> list[Node]:
        """The factor list to contract for the network ``factors -> out_legs``."""
        factors = list(factors)
        if not any(inlinable(f) for f in factors):
            return factors
        if any(_relabelling(f) for f in factors):  # never worth a value of its own
            factors = flatten(factors, lambda f: not _relabelling(f))
        had = frozenset(f for f in factors if inlinable(f) and self.have(f))
        key = (tuple(factors), tuple(out_legs), had, self._signature(factors))
        hit = _CHOICES.get(key)
        if hit is not None:
            return hit
        best, best_cost = factors, self._total(factors, out_legs)

        def shared(f: Node) -> bool:
            return self.have(f) or self.uses.get(alpha_key(f), 1) > 1

        for keep in (shared, lambda f: False):
            cand = flatten(factors, keep)
            if cand == best or _dense(cand) > MAX_OPERANDS:
                continue
            cost = self._total(cand, out_legs)
            if cost < best_cost:
                best, best_cost = cand, cost
        for _ in range(MAX_STEPS):  # then open one product at a time while that pays
            improved = False
            for i, f in enumerate(best):
                if not inlinable(f):
                    continue
                assert isinstance(f, Product)
                cand = best[:i] + _open(f, _Names(best)) + best[i + 1 :]
                if _dense(cand) > MAX_OPERANDS:
                    continue
                cost = self._total(cand, out_legs)
                if cost < best_cost:
                    best, best_cost, improved = cand, cost, True
                    break
            if not improved:
                break
        if len(_CHOICES) >= CACHE_SIZE:
            _CHOICES.pop(next(iter(_CHOICES)))
        _CHOICES[key] = best
        return best

    def _signature(self, factors: Sequence[Node]) -> tuple[tuple[int, ...], tuple[int, ...]]:
        """What the choice depends on besides the factors: the sizes of every leg and the use
        counts of every product reachable through products (for the cross-call cache)."""
        dims: list[int] = []
        uses: list[int] = []
        stack = list(factors)
        while stack:
            f = stack.pop()
            dims.extend(self.size_of(sz) for _, sz in f.sig)
            if inlinable(f):
                assert isinstance(f, Product)
                uses.append(self.uses.get(alpha_key(f), 1))
                stack.extend(f.args)
        return tuple(dims), tuple(uses)


CACHE_SIZE = 4096
_CHOICES: dict[Any, list[Node]] = {}


def _relabelling(node: Node) -> bool:
    """A product of one dense factor and copy tensors: that factor broadcast over new legs
    (ones), summed, renamed or put on a diagonal. Inlined always: it repeats no work, and as a
    value of its own it would be an array the contraction reads entry by entry (a broadcast
    operand keeps numpy's einsum off BLAS)."""
    return inlinable(node) and _dense(node.args) == 1


def _dense(factors: Sequence[Node]) -> int:
    return sum(1 for f in factors if not isinstance(f, (Delta, Reshape)))
