"""The shared part of code emission: variables, pruning and the lowering of tensor networks.

:class:`EmitterBase` holds the emitted lines and lowers a network through
:func:`~symtn.lower.plan.plan_network` (copy tensors become repeated einsum labels, never arrays)
with a contraction path chosen by :mod:`symtn.lower.paths` (opt_einsum or cotengra), recording
every contraction as a :class:`Step`; :class:`symtn.lower.emit.Emitter` adds the other node kinds.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import replace
from typing import Any

import opt_einsum
import sympy as sp

from symtn.ir.nodes import (
    Elementwise,
    Frozen,
    Node,
    Product,
    Sum,
)
from symtn.lower.codegen_backends import Backend, _tup
from symtn.lower.distribute import error_first, large_sum, split_terms
from symtn.lower.factor import MEMORY_WEIGHT, Group, TermOps, group_terms, weights
from symtn.lower.inline import Inliner, count_uses
from symtn.lower.memory import sliced_tree
from symtn.lower.numpy_backend import alpha_key
from symtn.lower.pairwise import PairCache, lower_path, reuse_pairs
from symtn.lower.paths import Contraction, choose
from symtn.lower.plan import NetworkPlan, Operand, ReshapeConflict, plan_network
from symtn.lower.stable import InverseSumExp, exp_argument, inverse_sum_exp
from symtn.lower.steps import Step

_Member = tuple[float, list[tuple[str, tuple[int, ...]]], tuple[int, ...]]
"""A group member: coefficient, (variable, labels) of its own operands, labels it shares."""

MAX_TERMS = 256
"""Terms a distributed sum is expanded into (nested large sums included) before grouping."""


_VAR = re.compile(r"\bt_\d+\b")


def _labels(plan: NetworkPlan) -> tuple[tuple[str, str, int], ...]:
    """The plan's einsum labels with their legs and sizes (for :attr:`Step.labels`)."""
    return tuple(
        (opt_einsum.get_symbol(x), plan.label_legs.get(x, opt_einsum.get_symbol(x)), n)
        for x, n in plan.label_sizes.items()
    )


def _perm(have: Sequence[str], want: Sequence[str]) -> list[int] | None:
    """The transpose taking axes named ``have`` to ``want`` (None when already aligned)."""
    if tuple(have) == tuple(want):
        return None
    return [list(have).index(leg) for leg in want]


def _linear(parts: list[tuple[float, str]]) -> str:
    """``c1 * v1 + c2 * v2 ...`` with unit coefficients and signs printed plainly."""
    out = ""
    for k, v in sorted(parts, key=lambda p: (p[0] < 0, p[1])):
        sign, mag = ("-" if k < 0 else "+"), abs(k)
        term = repr(mag) if v == "1.0" else v if mag == 1 else f"{mag!r} * {v}"
        out = (f"-{term}" if sign == "-" else term) if not out else f"{out} {sign} {term}"
    return out


class EmitterBase:
    """Shared state and the network lowering of :class:`symtn.lower.emit.Emitter`.

    Args:
        backend: the flavour of the generated code.
        size_of: evaluates a size expression to an int.
        inputs: tensor name -> the (sanitised) parameter holding its array.
    """

    def __init__(self, backend: Backend, size_of: Callable[[sp.Expr], int], inputs: dict[str, str]) -> None:
        self.backend = backend
        self.size_of = size_of
        self.inputs = inputs
        self.lines: list[str] = []
        self.defines: list[str] = []
        self.diag: dict[str, tuple[str, str]] = {}
        self.ones: set[str] = set()
        self.steps: list[Step] = []
        self.memory_limit: int | None = None
        """Bytes an intermediate may take (float64 entries); above it a contraction is sliced."""
        self.runtime_slicing = False  # numpy contractions through _sliced_contract (cotengra, run time)
        self.memo: dict[Node, str] = {}
        self.alpha: dict[str, str] = {}
        self.exprs: dict[str, str] = {}
        self.shapes: dict[str, tuple[int, ...]] = {}
        self.broadcasts: dict[str, str] = {}
        self.pairs = PairCache()
        self.sums: dict[frozenset[tuple[float, str]], str] = {}
        self.transposed: dict[str, tuple[str, list[int] | None]] = {}
        self.count = 0
        self.inliner = Inliner(size_of, Counter(), self.has_value)

    def has_value(self, node: Node) -> bool:
        """Whether ``node``'s value (or a renamed copy's) is emitted already."""
        return node in self.memo or alpha_key(node) in self.alpha

    def plan_roots(self, nodes: Sequence[Node]) -> None:
        """Count how often each nested product is used in ``nodes`` (for inlining decisions)."""
        self.inliner = Inliner(self.size_of, count_uses(nodes), self.has_value)

    # ----------------------------------------------------------------- plumbing
    def assign(self, expr: str, comment: str = "") -> str:
        """Emit ``t_k = expr`` and return ``t_k`` (an expression emitted before reuses its variable)."""
        hit = self.exprs.get(expr)
        if hit is not None:
            return hit
        self.count += 1
        var = f"t_{self.count}"
        self.emit(f"{var} = {expr}", var, comment)
        self.exprs[expr] = var
        return var

    def emit(self, line: str, var: str, comment: str = "") -> None:
        """Append a line (with an optional comment) that defines or updates ``var``."""
        self.lines.append(f"# {comment}\n{line}" if comment else line)
        self.defines.append(var)

    def prune(self, results: Sequence[str]) -> list[str]:
        """The emitted lines without those whose variable no result depends on."""
        needed = {v for r in results for v in _VAR.findall(r)}
        kept: list[str] = []
        for line, var in zip(reversed(self.lines), reversed(self.defines), strict=True):
            if var in needed:
                kept.append(line)
                needed |= set(_VAR.findall(line.split("\n")[-1].split("=", 1)[-1]))
                needed |= set(_VAR.findall(line.split("\n")[-1].split("=", 1)[0]))
        return kept[::-1]

    def shape(self, node: Node) -> tuple[int, ...]:
        return tuple(self.size_of(s) for _, s in node.sig)

    def aligned(self, var: str, have: Sequence[str], want: Sequence[str]) -> str:
        perm = _perm(have, want)
        return var if perm is None else self.backend.transpose(var, perm)

    def value(self, node: Node) -> str:
        """The variable holding ``node``'s value (defined by the subclass)."""
        raise NotImplementedError

    def _realign(self, var: str, have: Sequence[str], want: Sequence[str]) -> str:
        return var if _perm(have, want) is None else self.assign(self.aligned(var, have, want))

    def network(self, factors: Sequence[Node], out_legs: Sequence[str], scale: float = 1.0) -> str:
        """Contract factors to ``out_legs`` times ``scale`` (distributing over a large sum factor
        first; a scale is applied to the smallest operand, not to the result). Nested products
        are inlined where that is cheaper (:mod:`symtn.lower.inline`)."""
        factors = self.inliner.choose(factors, out_legs)
        sizes = {leg: s for f in factors for leg, s in f.sig}
        out_entries = math.prod(self.size_of(sizes[leg]) for leg in out_legs)
        big = large_sum(factors, out_entries, self.size_of)
        if big is not None:
            pre = error_first(factors, big, out_legs, self._flops)
            if pre is not None:  # the back-propagated error once, then each term with it
                self.value(pre[0])
                factors, big = pre, 1
        terms = split_terms(factors, big) if big is not None else []
        if big is not None and self._split_pays(factors, big, terms, out_legs):
            shape = tuple(self.size_of(sizes[leg]) for leg in out_legs)
            return self._distributed(terms, out_legs, scale, shape, out_entries)
        work, plan = self._plan(factors, out_legs)
        if plan.zero:
            return self.assign(self.backend.zeros(plan.out_shape))
        return self._contract(self._operand_vars(work, plan), plan, scale)

    def _plan(self, factors: Sequence[Node], out_legs: Sequence[str]) -> tuple[list[Node], NetworkPlan]:
        """The network's plan (a reshape that conflicts with the others is evaluated alone)."""
        work = list(factors)
        while True:
            try:
                return work, plan_network(work, out_legs, self.size_of)
            except ReshapeConflict as conflict:
                work[conflict.index] = Frozen(work[conflict.index])

    def _operand_vars(self, work: Sequence[Node], plan: NetworkPlan) -> list[str]:
        """The variables (viewed in the plan's shapes) of the plan's dense operands."""
        ops = []
        stable = self._shifted(work, plan)
        for pos, op in enumerate(plan.operands):
            var = stable[pos] if pos in stable else self.value(work[op.index])
            ops.append(var if op.shape == self.shape(work[op.index]) else self.backend.reshape(var, op.shape))
        return ops

    def _distributed(
        self,
        terms: list[tuple[sp.Expr, list[Node]]],
        out_legs: Sequence[str],
        scale: float,
        shape: tuple[int, ...],
        out_entries: int,
    ) -> str:
        """``sum_t c_t network_t``, terms sharing a common sub-network contracted together
        through it (:mod:`symtn.lower.factor`)."""
        parts = self.grouped_terms(terms, out_legs, scale, out_entries)
        expr = _linear(parts) if parts else self.backend.zeros(shape)
        return expr if expr.isidentifier() else self.assign(expr, "distributed over a large sum")

    def grouped_terms(
        self,
        terms: list[tuple[sp.Expr, list[Node]]],
        out_legs: Sequence[str],
        scale: float,
        out_entries: int,
        only_groups: bool = False,
    ) -> list[tuple[float, str]]:
        """``(coefficient, variable)`` parts whose sum is ``scale * sum_t c_t network_t``, each
        network planned to the legs ``out_legs`` (so a term written transposed matches the
        others) and terms with a common sub-network grouped (:func:`symtn.lower.factor.group_terms`).
        With ``only_groups``, nothing is emitted unless some group has two or more members
        (the result is then empty)."""
        parts: list[tuple[float, str]] = []
        cands: list[tuple[TermOps, NetworkPlan]] = []
        rest: list[tuple[float, list[Node]]] = []
        for k, fs in self._expand(terms, out_legs, out_entries):
            if large_sum(fs, out_entries, self.size_of) is not None:
                rest.append((k * scale, fs))
                continue
            work, plan = self._plan(fs, out_legs)
            if plan.zero:
                continue
            if len(plan.out_labels) != len(plan.out_shape) or not plan.operands:
                rest.append((k * scale, fs))
                continue
            ops = self._operand_vars(work, plan)
            labels = tuple(op.labels for op in plan.operands)
            term = TermOps(k * plan.scale, tuple(ops), labels, plan.out_labels, dict(plan.label_sizes))
            cands.append((term, replace(plan, scale=1)))
        tops = [t for t, _ in cands]
        groups = group_terms(tops)
        if only_groups and all(len(g.members) == 1 for g in groups):
            return []
        for k, fs in rest:
            parts.append((k, self.network(fs, out_legs)))
        for g in groups:
            if len(g.members) == 1:  # the coefficient scales the smallest operand
                k = tops[g.rep].coeff * scale
                parts.append((1.0, self._contract(list(tops[g.rep].vars), cands[g.rep][1], k)))
            else:
                parts.append((1.0, self._grouped(tops, g, cands[g.rep][1], scale)))
        return parts

    def _expand(
        self, terms: list[tuple[sp.Expr, list[Node]]], out_legs: Sequence[str], out_entries: int
    ) -> list[tuple[float, list[Node]]]:
        """The terms with their own large sums distributed too (each after its back-propagated
        error is contracted, :func:`~symtn.lower.distribute.error_first`), into one list of
        (coefficient, factors), so that terms reached along different paths are grouped by their
        common factors together (reverse mode: errors arriving at one place are summed before
        they travel on). At most :data:`MAX_TERMS` terms; a split that does not pay is kept."""
        out: list[tuple[float, list[Node]]] = []
        queue = [(self._coeff(c), list(fs)) for c, fs in terms]
        while queue:
            k, fs = queue.pop(0)
            fs = self.inliner.choose(fs, out_legs)
            big = large_sum(fs, out_entries, self.size_of)
            if big is None or len(out) + len(queue) >= MAX_TERMS:
                out.append((k, fs))
                continue
            pre = error_first(fs, big, out_legs, self._flops)
            if pre is not None:
                self.value(pre[0])
                fs, big = pre, 1
            sub = split_terms(fs, big)
            if not self._split_pays(fs, big, sub, out_legs):
                out.append((k, fs))
                continue
            queue.extend((k * self._coeff(c), f) for c, f in sub)
        return out

    def _grouped(self, terms: list[TermOps], group: Group, plan: NetworkPlan, scale: float) -> str:
        """One contraction of the group's common operands with the sum of its members' others
        (times ``scale``, folded into the coefficients of that sum)."""
        rep = terms[group.rep]
        sizes = dict(rep.sizes)
        found = []
        for t in group.members:
            ops, shared, more = weights(terms, group, t)
            sizes.update(more)
            found.append((terms[t].coeff * scale, ops, shared))
        every = tuple(sorted({x for _, _, shared in found for x in shared}))
        lin, found = self._subgrouped(found, every, sizes)
        for k, ops, shared in found:
            var = self._small_network(ops, shared, sizes)
            if var != "1.0" and shared != every:
                var = self.backend.reshape(var, tuple(sizes[x] if x in shared else 1 for x in every))
            lin.append((k, var))
        total = _linear(lin)
        if all(v == "1.0" for _, v in lin):
            total = self.backend.asarray(total)
        weight = self.assign(total, "the terms' other factors, summed before the common contraction")
        common = sorted(group.common)
        labels = [rep.labels[j] for j in common] + [every]
        operands = tuple(Operand(-1, tuple(sizes[x] for x in labs), labs) for labs in labels)
        carried = {x for labs in labels for x in labs}
        merged = replace(
            plan,
            operands=operands,
            einsum_out=tuple(dict.fromkeys(x for x in rep.out if x in carried)),
            label_sizes=sizes,
        )
        return self._contract([rep.vars[j] for j in common] + [weight], merged, 1.0)

    def _subgrouped(
        self,
        found: list[_Member], every: tuple[int, ...], sizes: dict[int, int]
    ) -> tuple[list[tuple[float, str]], list[_Member]]:
        """Group the members' other factors again by what they share (a large group's members
        often differ only in a small error tensor in front of a common weight): returns the
        ``(1.0, variable)`` parts of the subgroups of two or more and the members left alone."""
        full = [i for i, (_, ops, shared) in enumerate(found) if shared == every and len(ops) >= 2]
        if len(full) < 2:
            return [], found
        sub = [
            TermOps(found[i][0], tuple(v for v, _ in found[i][1]), tuple(labs for _, labs in found[i][1]),
                    every, sizes)
            for i in full
        ]
        parts: list[tuple[float, str]] = []
        alone = set(range(len(found))) - set(full)
        for g in group_terms(sub):
            if len(g.members) == 1:
                alone.add(full[g.rep])
                continue
            rep = sub[g.rep]
            plan = NetworkPlan(
                operands=tuple(Operand(-1, tuple(sizes[x] for x in labs), labs) for labs in rep.labels),
                einsum_out=every, out_labels=every, label_sizes=sizes,
                out_shape=tuple(sizes[x] for x in every), scale=1, zero=False,
            )
            parts.append((1.0, self._grouped(sub, g, plan, 1.0)))
        return parts, [found[i] for i in sorted(alone)]

    def _small_network(
        self, ops: list[tuple[str, tuple[int, ...]]], out: tuple[int, ...], sizes: dict[int, int]
    ) -> str:
        """Contract ``(variable, labels)`` operands to the labels ``out`` ("1.0" for none)."""
        if not ops:
            return "1.0"
        if len(ops) == 1 and ops[0][1] == out:
            return ops[0][0]
        canon: dict[int, int] = {}
        for _, labs in ops:
            for x in labs:
                canon.setdefault(x, len(canon))
        operands = tuple(
            Operand(-1, tuple(sizes[x] for x in labs), tuple(canon[x] for x in labs)) for _, labs in ops
        )
        plan = NetworkPlan(
            operands=operands,
            einsum_out=tuple(canon[x] for x in out),
            out_labels=tuple(canon[x] for x in out),
            label_sizes={canon[x]: sizes[x] for x in canon},
            out_shape=tuple(sizes[x] for x in out),
            scale=1,
            zero=False,
        )
        return self._contract([v for v, _ in ops], plan, 1.0)

    def _contract(self, ops: list[str], plan: NetworkPlan, scale: float) -> str:
        """The einsum of ``ops`` (the plan's operands) times ``scale``, with the plan's corners."""
        b = self.backend
        trivial = len(plan.operands) == 1 and plan.operands[0].labels == plan.einsum_out
        rest = plan.scale * scale  # a size-dependent scale keeps its source (codegen_sizes)
        if rest != 1 and len(ops) >= 2:
            small = min(range(len(ops)), key=lambda i: math.prod(plan.operands[i].shape))
            ops[small] = self.assign(f"{rest!r} * {ops[small]}")
            rest = 1
        core: str | None = None
        if trivial:
            core = ops[0]
        elif ops:
            shapes = [op.shape for op in plan.operands]
            c = choose([op.labels for op in plan.operands], plan.einsum_out, plan.label_sizes)
            eq, path, flops, big = c.equation, [tuple(p) for p in c.path], c.flops, c.largest
            method = c.method
            note = f"{eq}: {flops:,} flops, largest intermediate {big:,}"
            sliced = self._sliced(c, plan) if b.name == "numpy" else None
            if sliced is not None:
                tree, legs = sliced
                labels = "".join(tree.sliced_inds)
                note += f"; sliced over [{', '.join(legs)}] ({tree.nslices} slices)"
                call = f'{b.helper("_sliced_einsum")}("{eq}", "{labels}", {path!r}, {", ".join(ops)})'
                core = self.assign(call, note)
                big = max(int(tree.max_size()), math.prod(plan.label_sizes[x] for x in plan.einsum_out))
                how = f"{c.method}; sliced over [{', '.join(legs)}] in {tree.nslices} slices"
                self.steps.append(Step(core, eq, flops, big, tuple(path), how, (), _labels(plan)))
            elif self.runtime_slicing and b.name == "numpy":
                call = f'{b.helper("_sliced_contract")}("{eq}", {path!r}, {", ".join(ops)})'
                core, method = self.assign(call, note + "; sliced at run time if over"), "sliced at run time"
            elif b.name == "numpy":  # one numpy statement per pairwise step (no per-call overhead)
                eq, ops, shapes, path, flops = self._reuse(eq, ops, shapes, path, flops, plan.label_sizes)
                before = self.count
                core = lower_path(eq, ops, shapes, path, self.assign, note, self.pairs)
                core = core if core.isidentifier() else self.assign(core)
                if self.count == before:  # every statement was emitted before: nothing new to run
                    flops, method = 0, "reused"
            else:
                core = self.assign(b.einsum(eq, ops, path, shapes), note)
            if sliced is None:
                names = {opt_einsum.get_symbol(lab): leg for lab, leg in plan.label_legs.items()}
                legs = tuple(names.get(ch, ch) for ch in c.largest_labels)
                self.steps.append(Step(core, eq, flops, big, tuple(path), method, legs, _labels(plan)))
        expr = self._corners(core, plan.einsum_out, plan.out_labels, plan.label_sizes)
        if len(plan.out_labels) != len(plan.out_shape):
            expr = b.reshape(expr, plan.out_shape)
        if rest != 1 or expr == "1.0":
            expr = f"{rest!r} * {expr}" if expr != "1.0" else b.asarray(f"{rest!r}")
        return expr if expr.isidentifier() else self.assign(expr)

    def _sliced(self, c: Contraction, plan: NetworkPlan) -> tuple[Any, tuple[str, ...]] | None:
        """A cotengra tree slicing ``c`` under the memory limit, with the sliced legs, when the
        largest intermediate is above it and slicing brings it (and the output) under it."""
        if self.memory_limit is None or c.largest * 8 <= self.memory_limit:
            return None
        limit = self.memory_limit // 8
        if math.prod(plan.label_sizes[x] for x in plan.einsum_out) > limit:
            return None  # the output itself is too big: refused by check_steps
        tree = sliced_tree(c, limit)
        if tree is None:
            return None
        names = {opt_einsum.get_symbol(lab): leg for lab, leg in plan.label_legs.items()}
        return tree, tuple(names.get(ch, ch) for ch in tree.sliced_inds)

    def _reuse(
        self,
        eq: str,
        ops: list[str],
        shapes: list[tuple[int, ...]],
        path: list[tuple[int, ...]],
        flops: int,
        label_sizes: dict[int, int],
    ) -> tuple[str, list[str], list[tuple[int, ...]], list[tuple[int, ...]], int]:
        """The contraction with products of operand pairs emitted by earlier networks reused
        (a gradient's back-propagated error times a weight, needed by two gradients), when the
        rest costs no more FLOPs than the whole did. Returns the contraction to run and its FLOPs
        (the reused products were counted where they were first computed)."""
        ins, out = eq.split("->")
        new_ops, terms = reuse_pairs(ops, ins.split(","), out, self.pairs)
        if new_ops == ops:
            return eq, ops, shapes, path, flops
        label = {opt_einsum.get_symbol(x): x for x in label_sizes}
        c = choose([[label[ch] for ch in t] for t in terms], [label[ch] for ch in out], label_sizes)
        if c.flops > flops:
            return eq, ops, shapes, path, flops
        shapes = [tuple(label_sizes[label[ch]] for ch in t) for t in c.equation.split("->")[0].split(",")]
        return c.equation, new_ops, shapes, [tuple(p) for p in c.path], c.flops

    def _shifted(self, work: Sequence[Node], plan: NetworkPlan) -> dict[int, str]:
        """Stable replacements for ``exp(y)`` and ``(sum[L](exp(y)))^-k`` operands (by position).

        When the ``exp(y)`` operands carry, on the legs the sum keeps, the same labels as the
        inverse sums (each counted ``k`` times), the network is unchanged by shifting ``y`` by
        its maximum over ``L``: the shifts cancel. The shifted factors never overflow
        (``softmax`` written out, as the Hessian of ``logsumexp`` is, stays finite at 1000).
        """
        dens: dict[str, list[tuple[int, InverseSumExp]]] = {}
        for pos, op in enumerate(plan.operands):
            found = inverse_sum_exp(work[op.index])
            if found is not None and op.shape == self.shape(work[op.index]):
                dens.setdefault(alpha_key(found.y), []).append((pos, found))
        out: dict[int, str] = {}
        for key, group in dens.items():
            y = group[0][1].y
            kept = [y.legs.index(leg) for leg in group[0][1].kept]
            want: Counter[tuple[int, ...]] = Counter()
            for pos, den in group:
                node = work[plan.operands[pos].index]
                labels = tuple(plan.operands[pos].labels[node.legs.index(leg)] for leg in den.kept)
                want[labels] += den.power
            exps = []
            for pos, op in enumerate(plan.operands):
                u = exp_argument(work[op.index])
                if u is not None and alpha_key(u) == key and op.shape == self.shape(work[op.index]):
                    exps.append(pos)
            have = Counter(tuple(plan.operands[pos].labels[i] for i in kept) for pos in exps)
            if have != want:
                continue
            b = self.backend
            axes = tuple(y.legs.index(leg) for leg in group[0][1].summed)
            call = f"{b.helper('_exp_shifted')}({self.value(y)}, {_tup(axes)})"
            pair = self.assign(call, "exp shifted by its max")
            e, total = self.assign(f"{pair}[0]"), self.assign(f"{pair}[1]")
            for pos in exps:
                out[pos] = e
            for pos, den in group:
                node = work[plan.operands[pos].index]
                assert isinstance(node, Elementwise)
                power = self.assign(b.print_expr(b.substitute(node.fn, [total])))
                out[pos] = self._realign(power, den.kept, node.legs)
        return out

    def _flops(self, factors: Sequence[Node], out_legs: Sequence[str]) -> int:
        """The FLOP count of contracting ``factors`` as one network (sums as dense operands)."""
        try:
            plan = plan_network(list(factors), out_legs, self.size_of)
        except ReshapeConflict:
            return 0
        if len(plan.operands) < 2:
            return 0
        return choose([op.labels for op in plan.operands], plan.einsum_out, plan.label_sizes).flops

    def _split_pays(
        self,
        factors: Sequence[Node],
        big: int,
        terms: list[tuple[sp.Expr, list[Node]]],
        out_legs: Sequence[str],
    ) -> bool:
        """Distribute over the sum only when the term networks cost fewer FLOPs than building
        the sum (one pass per term) and contracting it once."""
        total = factors[big]
        assert isinstance(total, Sum)
        entries = math.prod(self.size_of(sz) for _, sz in total.sig)
        build = sum(self._flops(t.args, t.legs) for t in total.terms if isinstance(t, Product))
        # a pass over memory costs more than a BLAS flop: weigh the sum's entries by MEMORY_WEIGHT
        whole = self._flops(factors, out_legs) + build + MEMORY_WEIGHT * entries * len(terms)
        split = sum(self._flops(fs, out_legs) for _, fs in terms)
        return split <= whole

    def _corners(
        self, core: str | None, carried: tuple[int, ...], labels: tuple[int, ...], sizes: dict[int, int]
    ) -> str:
        """Broadcast output labels no operand carries and embed diagonals of repeated labels,
        with one einsum against ones vectors / identity matrices (the output's own legs only)."""
        if tuple(labels) == tuple(carried):
            return core if core is not None else "1.0"
        b = self.backend
        if len(set(labels)) == len(labels):  # no diagonal: a broadcast view
            full = tuple(sizes[x] for x in labels)
            if core is None:
                var = self.assign(b.broadcast(b.asarray("1.0"), full))
                self.ones.add(var)
                return var
            ones = tuple(sizes[x] if x in carried else 1 for x in labels)
            view = b.reshape(core, ones)
            var = self.assign(b.broadcast(view, full), "broadcast over legs on deltas only")
            self.broadcasts[var] = view
            return var
        sym = opt_einsum.get_symbol
        ops = [] if core is None else [core]
        subs = [] if core is None else ["".join(sym(x) for x in carried)]
        seen, out = set(carried), []
        fresh = max(list(sizes) + [0]) + 1
        for x in labels:
            if x not in seen:
                ops.append(self.backend.ones(sizes[x]))
                subs.append(sym(x))
                seen.add(x)
                out.append(sym(x))
            elif sym(x) in out:
                ops.append(self.backend.eye(sizes[x]))
                subs.append(sym(x) + sym(fresh))
                out.append(sym(fresh))
                fresh += 1
            else:
                out.append(sym(x))
        eq = f"{','.join(subs)}->{''.join(out)}"
        if b.name == "numpy" and core is not None and set(labels) <= set(carried):
            # a zero array with the core written onto its diagonal view (no identity matrices)
            view = "".join(sym(x) for x in labels) + "->" + "".join(sym(x) for x in carried)
            self.count += 1
            var = f"t_{self.count}"
            shape = tuple(sizes[x] for x in labels)
            self.emit(f"{var} = {b.zeros(shape)}", var, "output legs joined by a delta: fill the diagonal")
            self.emit(f'numpy.einsum("{view}", {var})[...] = {core}', var)
            self.diag[var] = (core, view)
            return var
        path = [tuple(range(len(ops)))]
        return self.assign(b.einsum(eq, ops, path), "output legs joined by a delta")

    def _coeff(self, c: sp.Expr) -> float:
        coeff = getattr(self.size_of, "coeff", None)
        if coeff is not None:  # generated code: a size-dependent coefficient keeps its source
            return coeff(c)  # type: ignore[no-any-return]
        subs = {s: self.size_of(s) for s in c.free_symbols}
        return float(c.subs(subs))
