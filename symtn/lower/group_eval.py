"""Terms of a sum contracted through their common factors, in the numpy evaluator.

The evaluator's twin of the generated code's grouping (:mod:`symtn.lower.factor`,
``EmitterBase.grouped_terms``): each term is planned to the sum's legs (so a term that comes
out transposed matches the others), terms sharing a sub-network are grouped, each member's
other factors are contracted to the labels it shares and summed, and the common factors are
contracted once with that sum. The logistic-regression Hessian ``X^T D1 X - (X^T D2 X)^T`` is
one matrix product however it is written.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
import opt_einsum

from symtn.ir.nodes import Node
from symtn.lower.distribute import large_sum
from symtn.lower.factor import Group, TermOps, group_terms, weights
from symtn.lower.paths import choose

if TYPE_CHECKING:
    from symtn.lower.numpy_backend import Evaluator


def _einsum(
    arrays: Sequence[Any], labels: Sequence[tuple[int, ...]], out: tuple[int, ...], sizes: dict[int, int]
) -> Any:
    """The contraction along the cached path of :func:`symtn.lower.paths.choose`."""
    if len(arrays) == 1 and tuple(labels[0]) == out:
        return arrays[0]
    canon: dict[int, int] = {}
    for x in [*(x for labs in labels for x in labs), *out]:
        canon.setdefault(x, len(canon))
    c = choose([tuple(canon[x] for x in labs) for labs in labels], [canon[x] for x in out],
               {canon[x]: sizes[x] for x in canon})
    return opt_einsum.contract(c.equation, *arrays, optimize=[tuple(p) for p in c.path])


def grouped_sum(
    ev: Evaluator, terms: list[tuple[float, Sequence[Node]]], out_legs: Sequence[str]
) -> np.ndarray | None:
    """``sum_t k_t network_t`` with terms grouped by common factors, or None when no two terms
    share anything worth grouping (or a term is not a plain network: the caller sums them).

    Args:
        ev: the evaluator (values, plans, sizes).
        terms: (coefficient, factors) per term; each network's free legs are ``out_legs``.
        out_legs: the legs of the result, in axis order.
    """
    cands: list[tuple[TermOps, Any]] = []
    arrays: dict[str, Any] = {}
    for k, factors in terms:
        fs = ev.inliner.choose(factors, out_legs)
        leg_sizes = {leg: s for f in fs for leg, s in f.sig}
        out_entries = math.prod(ev.size(leg_sizes[leg]) for leg in out_legs)
        nested = large_sum(fs, out_entries, ev.size) is not None
        work, plan, _, contraction = ev._plan(tuple(fs), tuple(out_legs))
        if plan.zero:
            continue
        if nested or not plan.operands or plan.out_labels != plan.einsum_out:
            return None  # a corner case (broadcast, diagonal, nested large sum): sum plainly
        if ev._sliced(plan, contraction) is not None:
            return None  # above the memory limit: the sliced path
        names = []
        for op in plan.operands:
            value = ev.value(work[op.index])
            if type(value) is not np.ndarray:
                return None  # dask (chunked, lazy): the plain sum keeps it out of core
            name = f"{id(value)}:{op.shape}"
            arrays[name] = value.reshape(op.shape)
            names.append(name)
        labels = tuple(op.labels for op in plan.operands)
        term = TermOps(k * plan.scale, tuple(names), labels, plan.out_labels, dict(plan.label_sizes))
        cands.append((term, plan))
    tops = [t for t, _ in cands]
    groups = group_terms(tops)
    if not cands or all(len(g.members) == 1 for g in groups):
        return None
    total: Any = None
    for g in groups:
        part = _group_value(tops, g, arrays)
        total = part if total is None else total + part
    plan = cands[0][1]
    return np.asarray(total).reshape(plan.out_shape)


def _group_value(terms: list[TermOps], group: Group, arrays: dict[str, Any]) -> Any:
    """One group: its members' other factors summed, then one contraction with the common ones."""
    rep = terms[group.rep]
    if len(group.members) == 1:
        return rep.coeff * _einsum([arrays[v] for v in rep.vars], rep.labels, rep.out, rep.sizes)
    sizes = dict(rep.sizes)
    found = []
    for t in group.members:
        ops, shared, more = weights(terms, group, t)
        sizes.update(more)
        found.append((terms[t].coeff, ops, shared))
    every = tuple(sorted({x for _, _, shared in found for x in shared}))
    weight: Any = 0.0
    for k, ops, shared in found:
        if ops:
            w = _einsum([arrays[v] for v, _ in ops], [labs for _, labs in ops], shared, sizes)
            w = np.reshape(w, tuple(sizes[x] if x in shared else 1 for x in every))
        else:
            w = 1.0
        weight = weight + k * w
    weight = np.broadcast_to(np.asarray(weight), tuple(sizes[x] for x in every))
    common = sorted(group.common)
    labels = [rep.labels[j] for j in common] + [every]
    out = _einsum([arrays[rep.vars[j]] for j in common] + [weight], labels, rep.out, sizes)
    assert math.prod(np.shape(out)) == math.prod(sizes[x] for x in rep.out)
    return out
