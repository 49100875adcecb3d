"""Straight-line code emission for IR nodes (the code-generating twin of the numpy Evaluator).

An :class:`Emitter` walks nodes exactly as :class:`symtn.lower.numpy_backend.Evaluator` does, but
instead of computing arrays it appends assignments to a list of source lines and returns the
variable holding each value (axes in ``node.legs`` order). Values are memoised by node and by
:func:`~symtn.lower.numpy_backend.alpha_key`, so a sub-network reached under several leg
renamings (a forward pass reused by each gradient) is emitted once. Networks go through
:func:`~symtn.lower.plan.plan_network` (copy tensors become repeated einsum labels, never arrays)
with a contraction path precomputed by opt_einsum; every contraction is recorded as a
:class:`Step` with its FLOP count and largest intermediate.
"""

from __future__ import annotations

import math
from typing import Any

import sympy as sp

from symtn.errors import NoRuleError
from symtn.ir.nodes import (
    Bubble,
    Delta,
    Elementwise,
    Frozen,
    Iverson,
    Node,
    Product,
    Reshape,
    Shifted,
    Sum,
    Tensor,
    Zero,
)
from symtn.lower.codegen_backends import _tup
from symtn.lower.emit_base import EmitterBase, Step, _linear, _perm
from symtn.lower.numpy_backend import alpha_key
from symtn.lower.solve import SolveParts, solve_parts
from symtn.lower.stable import logsumexp_parts, softmax_parts
from symtn.lower.tiled import TILED_MIN, matrix_view, tiled_sum_expr
from symtn.rewrite.alpha import sum_key

__all__ = ["Emitter", "Step"]

_REDUCTIONS = {"max": "max", "min": "min", "sum": "sum", "mean": "mean"}


def _sum_key(node: Sum) -> str:
    """A key for a sum up to leg renaming and the order of its terms (``a + b`` is ``b + a``)."""
    return sum_key(node)


class Emitter(EmitterBase):
    """Emits the code of nodes into ``lines``.

    Args:
        backend: the flavour of the generated code.
        size_of: evaluates a size expression to an int.
        inputs: tensor name -> the (sanitised) parameter holding its array.
    """

    def value(self, node: Node) -> str:
        """The variable holding ``node``'s value (emitting its code the first time)."""
        hit = self.memo.get(node)
        if hit is None:
            key = _sum_key(node) if isinstance(node, Sum) else alpha_key(node)
            hit = self.alpha.get(key)
            if hit is None:
                hit = self.compute(node)
                self.alpha[key] = hit
            self.memo[node] = hit
        return hit

    # ----------------------------------------------------------------- node kinds
    def compute(self, node: Node) -> str:
        b = self.backend
        if isinstance(node, Tensor):
            return self.inputs[node.name]
        if isinstance(node, Product):
            soft = softmax_parts(node)
            if soft is not None:
                x = self.value(soft.x)
                axes = tuple(soft.x.legs.index(leg) for leg in soft.summed)
                out = self.assign(b.softmax(x, axes), f"softmax over {', '.join(soft.summed)}")
                renamed = [soft.rename.get(leg, leg) for leg in soft.x.legs]
                return self._realign(out, renamed, node.legs)
            parts = solve_parts(node)
            if parts is not None:
                return self._solve(node, parts)
            return self.network(node.args, node.legs)
        if isinstance(node, (Delta, Reshape)):
            return self.network((node,), node.legs)
        if isinstance(node, Shifted):
            return self.assign(b.eye(self.size_of(node.args[0]), -node.args[3]))
        if isinstance(node, Iverson):
            return self.assign(self._iverson(self.size_of(node.args[0]), node.args[2]))
        if isinstance(node, Zero):
            return self.assign(b.zeros(self.shape(node)))
        if isinstance(node, Sum):
            return self._sum(node)
        if isinstance(node, Elementwise):
            return self._elementwise(node)
        if isinstance(node, Bubble):
            return self._bubble(node)
        if isinstance(node, Frozen):
            return self.value(node.inner)
        raise NoRuleError(f"no code generation rule for {type(node).__name__} nodes")

    def _iverson(self, n: int, op: str) -> str:
        b = self.backend
        table = {"<": f"1 - {b.tri(n, 0)}", "<=": f"1 - {b.tri(n, -1)}", ">": b.tri(n, -1)}
        table.update({">=": b.tri(n, 0), "!=": f"1 - {b.eye(n)}"})
        return table[op]

    def _sum(self, node: Sum) -> str:
        pairs = zip(node.coeffs, node.terms, strict=True)
        live = [(c, t) for c, t in pairs if c != 0 and not isinstance(t, Zero)]
        if len(live) == 1 and isinstance(live[0][1], Product) and not softmax_parts(live[0][1]):
            k, net = self._coeff(live[0][0]), live[0][1]
            if k != 1:  # c * (network): the coefficient scales the network's smallest operand
                var = self.network(net.args, net.legs, scale=k)
                return self._realign(var, net.legs, node.legs)
        grouped = self._factored(live, node)
        if grouped is not None:
            return grouped
        parts = []
        for c, term in live:
            k = self._coeff(c)
            var = self.value(term)
            part = self.aligned(var, term.legs, node.legs)
            self.shapes[var] = self.shape(term)
            if part != var:
                self.transposed[part] = (var, _perm(term.legs, node.legs))
            parts.append((k, part))
        if not parts:
            return self.assign(self.backend.zeros(self.shape(node)))
        if any(v not in self.ones for _, v in parts):  # a constant term broadcasts as a number
            parts = [(k, "1.0" if v in self.ones else v) for k, v in parts]
        diag = [p for p in parts if p[1] in self.diag]
        if len(diag) == 1 and len(parts) > 1:  # add the diagonal term in place: one pass fewer
            k, var = diag[0]
            others = [p for p in parts if p is not diag[0]]
            total = self._scaled_fresh(others, live, node)
            if total is None:  # a new full-shape array (never a memoised one: it changes in place)
                rest = _linear(others)
                arrays = any(v != "1.0" for _, v in others)
                fresh = arrays and (rest.startswith("-") or any(o in rest for o in (" + ", " - ", " * ")))
                if not fresh:
                    rest = f"{self.backend.broadcast(rest, self.shape(node))}.copy()"
                self.count += 1
                total = f"t_{self.count}"
                self.emit(f"{total} = {rest}", total)
            core, view = self.diag[var]
            op = "+=" if k > 0 else "-="
            scaled = core if abs(k) == 1 else f"{abs(k)!r} * {core}"
            self.emit(
                f'numpy.einsum("{view}", {total})[...] {op} {scaled}', total, "add the diagonal in place"
            )
            return total
        if any(v.isidentifier() and v not in self.broadcasts for _, v in parts):
            # a full-shape term fixes the shape: broadcast terms enter as unit-axis views
            parts = [(k, self._unbroadcast(v)) for k, v in parts]
        parts = self._reuse_sum(parts)
        tiled = self._tiled(node, parts)
        total = self.assign(tiled if tiled is not None else _linear(parts))
        if tiled is None and len(parts) > 1 and all(v.isidentifier() or "." in v for _, v in parts):
            self.sums.setdefault(frozenset(parts), total)
        return total

    def _factored(self, live: list[tuple[Any, Node]], node: Sum) -> str | None:
        """A sum of networks (two or more, nothing else) whose terms share a common sub-network
        up to leg renaming and transposition (``X^T D1 X - (X^T D2 X)^T``): the terms planned to
        the sum's legs and grouped, so the common part is contracted once; None otherwise."""
        if len(live) < 2 or not all(isinstance(t, Product) and not softmax_parts(t) for _, t in live):
            return None
        if any(t in self.memo for _, t in live):
            return None
        terms = [(c, list(t.args)) for c, t in live]
        entries = math.prod(self.shape(node))
        parts = self.grouped_terms(terms, node.legs, 1.0, entries, only_groups=True)
        if not parts:
            return None
        expr = _linear(parts)
        return expr if expr.isidentifier() else self.assign(expr, "terms grouped by their common factors")

    def _unbroadcast(self, text: str) -> str:
        """The unit-axis view behind a broadcast variable (or its transpose), else ``text``."""
        if text in self.broadcasts:
            return self.broadcasts[text]
        var, perm = self.transposed.get(text, (text, None))
        if perm is not None and var in self.broadcasts:
            return self.backend.transpose(self.broadcasts[var], perm)
        return text

    def _reuse_sum(self, parts: list[tuple[float, str]]) -> list[tuple[float, str]]:
        """Replace terms that form a sum emitted before (``logits - lse`` after ``logits``) by
        its variable; record this sum's terms for later ones."""
        have = set(parts)
        for terms, var in self.sums.items():
            if len(terms) < len(have) and terms <= have:
                parts = [p for p in parts if p not in terms] + [(1.0, var)]
                break
        return parts

    def _scaled_fresh(
        self, others: list[tuple[float, str]], live: list[tuple[Any, Node]], node: Sum
    ) -> str | None:
        """For ``diagonal + c * network``: the network computed anew with ``c`` folded into its
        smallest operand, as a variable nothing else reads (so the diagonal is added in place
        without a copy or a pass for ``c``); None when that does not apply."""
        if len(others) != 1 or others[0][0] == 1:
            return None
        k, text = others[0]
        nets = [t for _, t in live if isinstance(t, Product) and self.memo.get(t) == text]
        if not nets or softmax_parts(nets[0]) or tuple(nets[0].legs) != tuple(node.legs):
            return None
        before = self.count
        var = self.network(nets[0].args, nets[0].legs, scale=k)
        if not (var.startswith("t_") and var[2:].isdigit() and int(var[2:]) > before):
            return None
        for expr in [e for e, v in self.exprs.items() if v == var]:
            del self.exprs[expr]  # the variable is about to change: never reuse it
        for key in [key for key, hit in self.pairs.items() if hit[0] == var]:
            del self.pairs[key]
        return var

    def _tiled(self, node: Sum, parts: list[tuple[float, str]]) -> str | None:
        """A cache-blocked ``_tiled_sum`` call for a large sum of transposed arrays, or None."""
        shape = self.shape(node)
        if self.backend.name != "numpy" or len(parts) < 2 or math.prod(shape) < TILED_MIN:
            return None
        found = []  # (coefficient, printed term, variable, permutation) in the order _linear adds
        for k, text in parts:
            var, perm = self.transposed.get(text, (text, None))
            if not var.isidentifier() or var in self.ones or var not in self.shapes:
                return None
            found.append((k, text, var, perm))
        found.sort(key=lambda p: (p[0] < 0, p[1]))
        view = matrix_view(shape, [p[3] for p in found])
        if view is None:
            return None
        terms = [(k, var) for k, _, var, _ in found]
        shapes = [self.shapes[var] for _, _, var, _ in found]
        return tiled_sum_expr(terms, view, shape, shapes, self.backend.helper("_tiled_sum"))

    def _elementwise(self, node: Elementwise) -> str:
        lse = logsumexp_parts(node)
        if lse is not None:
            x, summed = lse
            axes = tuple(x.legs.index(leg) for leg in summed)
            note = f"logsumexp over {', '.join(summed)}"
            out = self._logsumexp(self.value(x), axes, note)
            return self._realign(out, [leg for leg in x.legs if leg not in summed], node.legs)
        args = [self.aligned(self.value(o), o.legs, node.legs) for o in node.operands]
        named = []
        for a in args:  # a transposed operand gets its own name so the rule prints cleanly
            named.append(a if a.isidentifier() else self.assign(a))
        expr = self._print_rule(self.backend.substitute(node.fn, named))
        if not node.fn.free_symbols:
            expr = self.backend.broadcast(expr, self.shape(node))
        return self.assign(expr)

    def _logsumexp(self, x: str, axes: tuple[int, ...], note: str = "") -> str:
        """logsumexp of ``x`` over ``axes``; in numpy through the shifted exponentials, so the
        softmax factors of its derivatives (:meth:`_shifted`) reuse the same pass."""
        b = self.backend
        if b.name != "numpy":
            return self.assign(b.logsumexp(x, axes), note)
        pair = self.assign(f"{b.helper('_exp_shifted')}({x}, {_tup(axes)})", "exp shifted by its max")
        return self.assign(f"numpy.log({pair}[1]) + {pair}[2]", note)

    def _print_rule(self, rule: sp.Expr) -> str:
        """Print a rule, reusing variables for sub-expressions already emitted (``tanh(z)`` in
        ``1 - tanh(z)**2`` when the forward pass computed ``tanh(z)``)."""
        found: dict[sp.Expr, sp.Expr] = {}

        def scan(e: sp.Expr) -> None:
            if e.is_Atom or not isinstance(e, sp.Expr):  # conditions of a Piecewise: not values
                return
            hit = self.exprs.get(self.backend.print_expr(e))
            if hit is not None and e is not rule:
                found[e] = sp.Symbol(hit, real=True)
                return
            for a in e.args:
                scan(a)

        scan(rule)
        rule = rule.xreplace(found) if found else rule
        # a function of a variable inside a larger rule (tanh(z) in 1 - tanh(z)**2) gets its own
        # variable, so the forward value emitted later (or earlier) is the same line
        calls = {
            e: sp.Symbol(self.assign(self.backend.print_expr(e)), real=True)
            for e in sp.preorder_traversal(rule)
            if isinstance(e, sp.Function) and e is not rule and all(a.is_Symbol for a in e.args)
        }
        return self.backend.print_expr(rule.xreplace(calls) if calls else rule)

    def _solve(self, node: Product, parts: SolveParts) -> str:
        """``inv(U) @ b`` as a linear solve (the inverse is never formed)."""
        b = self.backend
        u = self.aligned(self.value(parts.matrix), parts.matrix.legs, (parts.rows, parts.cols))
        rhs_legs = (parts.wire, *parts.rest)
        rhs = self.aligned(self.value(parts.rhs), parts.rhs.legs, rhs_legs)
        shape = tuple(self.size_of(parts.rhs.size(leg)) for leg in rhs_legs)
        flat = b.reshape(rhs, (shape[0], math.prod(shape[1:])))
        x = self.assign(b.reshape(b.solve(u, flat), shape), "solve: inv(A) @ b without the inverse")
        return self._realign(x, (parts.out, *parts.rest), node.legs)

    def _bubble(self, node: Bubble) -> str:
        b = self.backend
        x, op = self.value(node.operand), node.operand
        axes = tuple(op.legs.index(leg) for leg in node.consumed)
        name = node.name
        if name in _REDUCTIONS:
            return self.assign(b.reduce(_REDUCTIONS[name], x, axes))
        if name == "logsumexp":
            return self._logsumexp(x, axes)
        if name == "softmax":
            return self.assign(b.to_end(b.softmax(x, axes), axes, len(op.legs)))
        if name in ("jac[max]", "jac[min]"):
            return self.assign(b.to_end(b.argext(name[4:7], x, axes), axes, len(op.legs)))
        if name in ("det", "logdet", "inv"):
            return self.assign(b.linalg(name, b.to_end(x, axes, len(op.legs))))
        raise NoRuleError(
            f"no code generation rule for function `{name}`",
            help="give the function a body so it lowers to tensor operations",
        )
