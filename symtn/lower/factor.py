"""Collecting common factors of the terms of a distributed sum before contracting them.

A derivative often yields ``c1 (F . W1) + c2 (F . W2)``: the same heavy sub-network ``F`` (the data
matrix twice in a logistic-regression Hessian, the weights and activations a back-propagated error
meets) joined to different light factors ``Wi`` (the per-sample weights ``p`` and ``p^2``, the two
halves of a softmax cross-entropy error). Contracting each term costs one large contraction per
term; the distributive law ``F . (c1 W1 + c2 W2)`` costs one, after the small factors are
summed. This module finds, on einsum labels, the largest sub-network two terms share (a matching
of operands holding the same array, with a consistent bijection of labels that fixes the output
labels), and groups terms where that is cheaper by the contraction cost model.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import opt_einsum

MAX_SEARCH = 20000
"""Search nodes spent matching two terms before the best matching so far is used."""

MAX_MATCHINGS = 32
"""Matchings (largest first) whose contraction cost is compared when a term joins a group."""

MEMORY_WEIGHT = 4
"""FLOPs one entry written and read back is worth (here and when choosing whether to distribute)."""


@dataclass(frozen=True)
class TermOps:
    """One term of a sum as an einsum: dense operands, output labels and coefficient.

    Attributes:
        coeff: the term's coefficient (with the network's integer scale folded in).
        vars: the variable holding each operand.
        labels: each operand's labels (one per axis).
        out: the output labels (one per axis of the result).
        sizes: the length of every label.
    """

    coeff: float
    vars: tuple[str, ...]
    labels: tuple[tuple[int, ...], ...]
    out: tuple[int, ...]
    sizes: dict[int, int]

    def entries(self, i: int) -> int:
        return math.prod(self.sizes[x] for x in self.labels[i])


@dataclass
class Group:
    """Terms contracted together through their common operands.

    Attributes:
        rep: index of the representative term (its labels name the combined network).
        common: the representative's operands shared by every member.
        members: term index -> (operand matching term op -> rep op, label map term -> rep);
            the representative maps to itself.
    """

    rep: int
    common: frozenset[int]
    members: dict[int, tuple[dict[int, int], dict[int, int]]] = field(default_factory=dict)


def match(
    rep: TermOps, common: frozenset[int], term: TermOps, keep: int = MAX_MATCHINGS
) -> list[tuple[dict[int, int], dict[int, int]]]:
    """Matchings of ``term``'s operands to ``rep``'s ``common`` operands, largest (entries) first.

    Matched operands hold the same variable and their labels correspond under one bijection that
    maps output labels position by position. Returns up to ``keep`` (operand map, label map)
    pairs, none when the outputs disagree or nothing matches.
    """
    if len(rep.out) != len(term.out):
        return []
    base: dict[int, int] = {}
    for a, b in zip(term.out, rep.out, strict=True):
        if base.setdefault(a, b) != b:
            return []
    if len(set(base.values())) != len(base):
        return []
    order = sorted(range(len(term.vars)), key=lambda i: -term.entries(i))
    found: dict[frozenset[tuple[int, int]], tuple[int, dict[int, int], dict[int, int]]] = {}
    budget = [MAX_SEARCH]

    def extend(labmap: dict[int, int], a: tuple[int, ...], b: tuple[int, ...]) -> dict[int, int] | None:
        out = dict(labmap)
        used = set(out.values())
        for x, y in zip(a, b, strict=True):
            got = out.get(x)
            if got is None:
                if y in used:
                    return None
                out[x] = y
                used.add(y)
            elif got != y:
                return None
        return out

    def search(k: int, score: int, ops: dict[int, int], labmap: dict[int, int]) -> None:
        budget[0] -= 1
        if k == len(order) or budget[0] <= 0:
            if score:
                found.setdefault(frozenset(ops.items()), (score, dict(ops), labmap))
            return
        i = order[k]
        taken = set(ops.values())
        for j in sorted(common):
            if j in taken or rep.vars[j] != term.vars[i] or len(rep.labels[j]) != len(term.labels[i]):
                continue
            ext = extend(labmap, term.labels[i], rep.labels[j])
            if ext is not None:
                ops[i] = j
                search(k + 1, score + term.entries(i), ops, ext)
                del ops[i]
        search(k + 1, score, ops, labmap)

    search(0, 0, {}, base)
    best = sorted(found.values(), key=lambda f: -f[0])[:keep]
    return [(ops, labmap) for _, ops, labmap in best]


def weights(
    terms: Sequence[TermOps], group: Group, t: int, common: frozenset[int] | None = None
) -> tuple[list[tuple[str, tuple[int, ...]]], tuple[int, ...], dict[int, int]]:
    """Term ``t``'s operands outside the common part, relabelled into the representative's labels.

    Returns:
        (variable, labels) per operand; the labels ``L_t`` they share with the common part or
        the output (increasing); and the sizes of every label they carry (labels private to
        the term get fresh numbers, above every label of every term).
    """
    common = group.common if common is None else common
    rep = terms[group.rep]
    ops, labmap = group.members[t]
    term = terms[t]
    every = [x for tm in terms for labs in tm.labels for x in labs] + [x for tm in terms for x in tm.out]
    top = max(every + [0])
    fresh = top + 1 + t * (1 + sum(len(labs) for labs in term.labels))
    rename = dict(labmap)
    sizes = dict(rep.sizes)
    out: list[tuple[str, tuple[int, ...]]] = []
    for i, (var, labs) in enumerate(zip(term.vars, term.labels, strict=True)):
        if ops.get(i) in common:
            continue
        mapped = []
        for x in labs:
            if x not in rename:
                rename[x] = fresh
                fresh += 1
            mapped.append(rename[x])
            sizes[rename[x]] = term.sizes[x]
        out.append((var, tuple(mapped)))
    visible = {x for j in common for x in rep.labels[j]} | set(rep.out)
    shared = tuple(sorted({x for _, labs in out for x in labs if x in visible}))
    return out, shared, sizes


_FLOPS: dict[tuple[Any, ...], int] = {}


def _flops(labels: Sequence[tuple[int, ...]], out: Sequence[int], sizes: dict[int, int]) -> int:
    if len(labels) < 2:
        return math.prod(sizes[x] for x in labels[0]) if labels else 0
    used = sorted({x for labs in labels for x in labs})
    key = (tuple(labels), tuple(out), tuple(sizes[x] for x in used))
    hit = _FLOPS.get(key)
    if hit is None:
        hit = _FLOPS[key] = _path_flops(labels, out, sizes)
        if len(_FLOPS) > 4096:
            _FLOPS.clear()
    return hit


def _path_flops(labels: Sequence[tuple[int, ...]], out: Sequence[int], sizes: dict[int, int]) -> int:
    sym = opt_einsum.get_symbol
    eq = ",".join("".join(sym(x) for x in labs) for labs in labels) + "->" + "".join(sym(x) for x in out)
    shapes = [tuple(sizes[x] for x in labs) for labs in labels]
    # an estimate for comparing groupings: exhaustive up to 4 operands, greedy above (the
    # branch search of "auto" costs milliseconds per call, and this runs hundreds of times)
    optimize = "greedy" if len(labels) > 4 else "optimal"
    return int(opt_einsum.contract_path(eq, *shapes, shapes=True, optimize=optimize)[1].opt_cost)


def term_cost(term: TermOps) -> int:
    """FLOPs of contracting one term on its own (plus writing its result)."""
    out = tuple(dict.fromkeys(x for x in term.out if any(x in labs for labs in term.labels)))
    return _flops(term.labels, out, term.sizes) + MEMORY_WEIGHT * math.prod(term.sizes[x] for x in term.out)


def group_cost(terms: Sequence[TermOps], group: Group, common: frozenset[int]) -> int:
    """FLOPs of a group: each member's other factors to ``L``, their sum, one common contraction."""
    rep = terms[group.rep]
    total, shared_all, sizes = 0, set(), dict(rep.sizes)
    for t in group.members:
        ops, shared, more = weights(terms, group, t, common)
        sizes.update(more)
        total += _flops([labs for _, labs in ops], shared, more)
        shared_all |= set(shared)
    entries = math.prod(sizes[x] for x in shared_all)
    total += MEMORY_WEIGHT * entries * len(group.members)
    labels = [rep.labels[j] for j in sorted(common)] + [tuple(sorted(shared_all))]
    carried = {x for labs in labels for x in labs}
    out = tuple(dict.fromkeys(x for x in rep.out if x in carried))
    return total + _flops(labels, out, sizes) + MEMORY_WEIGHT * math.prod(rep.sizes[x] for x in rep.out)


def group_terms(terms: Sequence[TermOps]) -> list[Group]:
    """Partition the terms into groups sharing a common sub-network where that saves FLOPs.

    Greedy: each term joins the existing group whose common part it matches most cheaply (the
    group's common part may shrink to what the term shares), or starts its own group.
    """
    groups: list[Group] = []
    for t, term in enumerate(terms):
        best: tuple[int, Group, frozenset[int], tuple[dict[int, int], dict[int, int]]] | None = None
        alone = term_cost(term)
        for g in groups:
            before = term_cost(terms[g.rep]) if len(g.members) == 1 else group_cost(terms, g, g.common)
            for found in match(terms[g.rep], g.common, term):
                common = frozenset(found[0].values())
                trial = Group(g.rep, common, {**g.members, t: found})
                saving = before + alone - group_cost(terms, trial, common)
                if saving > 0 and (best is None or saving > best[0]):
                    best = (saving, g, common, found)
        if best is None:
            ident = {i: i for i in range(len(term.vars))}
            labs = {x: x for labs in term.labels for x in labs} | {x: x for x in term.out}
            groups.append(Group(t, frozenset(range(len(term.vars))), {t: (ident, labs)}))
        else:
            _, g, common, found = best
            g.common = common
            g.members[t] = found
    return groups
