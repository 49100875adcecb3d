"""The numpy reference backend: evaluate an IR expression on concrete arrays.

Every node is computed once per call (nodes are hash-consed, so a shared subexpression is the
same object and is looked up in a memo). Networks are contracted by opt_einsum following a
:mod:`symtn.lower.plan` plan, so copy tensors and reshapes never become arrays, along a path
chosen by :mod:`symtn.lower.paths` (opt_einsum or cotengra); plans and their compiled
contractions (``contract_expression``) are cached across calls by factors and sizes. Sizes are
checked against a memory limit before anything is allocated (:mod:`symtn.lower.memory`): a
contraction whose largest intermediate is too big is sliced, a value that is itself too big is
refused.
Recognised softmax / logsumexp patterns (:mod:`symtn.lower.stable`) subtract the maximum first.
"""

from __future__ import annotations

import math
from collections import Counter, OrderedDict
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np
import sympy as sp
from opt_einsum import get_symbol

from symtn.errors import EvaluationError, NoRuleError, SymtnError
from symtn.ir.depth import allow_deep_nesting
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
from symtn.lower.backprop import reverse_form
from symtn.lower.compiled import Compiled
from symtn.lower.distribute import error_first, large_sum, split_terms
from symtn.lower.group_eval import grouped_sum
from symtn.lower.inline import Inliner, count_uses
from symtn.lower.kernels import (
    bubble_kernel,
    elementwise_kernel,
    embed_diagonal,
    iverson_mask,
    logsumexp,
    shifted_mask,
)
from symtn.lower.memory import contract_sliced, refusal, resolve_limit, sliced_tree
from symtn.lower.paths import OPT_EINSUM_MAX, Contraction, choose
from symtn.lower.plan import NetworkPlan, ReshapeConflict, plan_network
from symtn.lower.sizes import bind_sizes, int_size, size_value
from symtn.lower.solve import SolveParts, solve_parts
from symtn.lower.stable import SoftmaxParts, logsumexp_parts, softmax_parts
from symtn.lower.stable_eval import shifted_operands
from symtn.rewrite.alpha import alpha_key as structure_key

GREEDY_ABOVE = OPT_EINSUM_MAX
"""Networks with more dense operands than this are planned by cotengra (see symtn.lower.paths)."""


def alpha_key(node: Node) -> str:
    """The node's key up to renaming of all its legs, free legs by position
    (``symtn.rewrite.alpha.alpha_key``, compositional and cached). Nodes with equal keys have
    equal values with axes in the same order, so one array serves every renamed copy of a
    sub-network."""
    return structure_key(node)


PLAN_CACHE_SIZE = 4096
"""How many network plans (with their compiled contractions) are kept across calls."""

_Planned = tuple[tuple[Node, ...], NetworkPlan, Callable[..., Any] | None, Contraction | None]
_PLANS: OrderedDict[tuple[Any, ...], _Planned] = OrderedDict()


def _align(a: np.ndarray, have: Sequence[str], want: Sequence[str]) -> np.ndarray:
    """Transpose ``a`` (axes named ``have``) so that its axes are named ``want``."""
    if tuple(have) == tuple(want):
        return a
    return np.transpose(a, [list(have).index(leg) for leg in want])


class Evaluator:
    """Evaluates nodes on bound inputs, memoising every node for the lifetime of the object.

    Args:
        values: input arrays by tensor name (axes in declared slot order).
        sizes: every size symbol bound to an integer (see :func:`bind_sizes`).
        dtype: the floating dtype of all arrays.
        memory_limit: bytes any one allocated array may take (None: unbounded); see
            :mod:`symtn.lower.memory`.

    Attributes:
        binding: the name of the binding being evaluated (for error messages).
    """

    def __init__(
        self,
        values: Mapping[str, Any],
        sizes: Mapping[sp.Symbol, int],
        dtype: Any,
        memory_limit: int | None = None,
    ) -> None:
        self.values = values
        self.sizes = sizes
        self.dtype = np.dtype(dtype)
        self.memory_limit = memory_limit
        self.binding = ""
        self.memo: dict[Node, np.ndarray] = {}
        self.alpha: dict[str, np.ndarray] = {}
        self.inputs: list[np.ndarray] = []
        self._sizes: dict[sp.Expr, int] = {}
        self._coeffs: dict[sp.Expr, float | complex] = {}
        self.inliner = Inliner(self.size, Counter(), self.has_value)

    def has_value(self, node: Node) -> bool:
        """Whether ``node``'s value (or a renamed copy's) is computed already."""
        return node in self.memo or alpha_key(node) in self.alpha

    def plan_roots(self, nodes: Sequence[Node]) -> None:
        """Count how often each nested product is used in ``nodes`` (for inlining decisions)."""
        self.inliner = Inliner(self.size, count_uses(nodes), self.has_value)

    def size(self, expr: sp.Expr) -> int:
        """A size expression as an int (cached per expression)."""
        hit = self._sizes.get(expr)
        if hit is None:
            hit = int(expr) if expr.is_Integer else int_size(expr, self.sizes)
            self._sizes[expr] = hit
        return hit

    def coefficient(self, expr: sp.Expr) -> float | complex:
        """A sum coefficient (exact, possibly in sizes) as a Python number."""
        hit = self._coeffs.get(expr)
        if hit is None:
            c = complex(size_value(expr, self.sizes))
            hit = c.real if c.imag == 0 else c
            self._coeffs[expr] = hit
        return hit

    def shape(self, node: Node) -> tuple[int, ...]:
        """The shape of ``node``'s value (axes in ``node.legs`` order)."""
        return tuple(self.size(s) for _, s in node.sig)

    def value(self, node: Node) -> np.ndarray:
        """The value of ``node`` with axes in ``node.legs`` order (memoised).

        The memo is keyed by the node's alpha-normal form, so sub-networks that differ only in
        the names of their bound legs (a forward pass reached from several gradient terms) are
        computed once.
        """
        hit = self.memo.get(node)
        if hit is None:
            key = alpha_key(node)
            hit = self.alpha.get(key)
            if hit is None:
                if not isinstance(node, Tensor):
                    self.check_value(node)
                hit = self.compute(node)
                self.alpha[key] = hit
            self.memo[node] = hit
        return hit

    def check_value(self, node: Node) -> None:
        """Refuse (before allocating it) a value above the memory limit.

        Raises:
            MemoryLimitError: the value's bytes exceed ``memory_limit``.
        """
        if self.memory_limit is None:
            return
        nbytes = math.prod(self.shape(node)) * self.dtype.itemsize
        if nbytes > self.memory_limit:
            kind = type(node).__name__.lower()
            what = f"{'an' if kind[0] in 'aeiou' else 'a'} {kind} value"
            raise refusal(self.binding, what, node.legs, nbytes, self.memory_limit,
                          "slicing cannot split a value that must be held whole")

    def compute(self, node: Node) -> np.ndarray:
        """Compute ``node`` from the memoised values of its children."""
        if isinstance(node, Tensor):
            return self._tensor(node)
        if isinstance(node, Product):
            soft = softmax_parts(node)
            if soft is not None:
                return self._softmax(node, soft)
            parts = solve_parts(node)
            if parts is not None:
                return self._solve(node, parts)
            return self.network(node.args, node.legs)
        if isinstance(node, (Delta, Reshape)):
            return self.network((node,), node.legs)
        if isinstance(node, Shifted):
            return shifted_mask(self.size(node.args[0]), node.args[3], self.dtype)
        if isinstance(node, Iverson):
            return iverson_mask(self.size(node.args[0]), node.args[2], self.dtype)
        if isinstance(node, Zero):
            return self.zeros(self.shape(node))
        if isinstance(node, Sum):
            return self._sum(node)
        if isinstance(node, Elementwise):
            return self._elementwise(node)
        if isinstance(node, Bubble):
            return self._bubble(node)
        if isinstance(node, Frozen):
            return self.value(node.inner)
        raise NoRuleError(f"no numeric rule for {type(node).__name__} nodes")

    def _tensor(self, node: Tensor) -> np.ndarray:
        try:
            a = np.asarray(self.values[node.name], dtype=self.dtype)
        except (TypeError, ValueError) as exc:
            raise EvaluationError(
                f"input for tensor {node.name} cannot be converted to {self.dtype}: {exc}"
            ) from None
        self.inputs.append(a)
        if a.shape != self.shape(node):
            raise EvaluationError(
                f"input for tensor {node.name} has shape {a.shape}, expected {self.shape(node)}"
            )
        return a

    def network(self, factors: Sequence[Node], out_legs: Sequence[str]) -> np.ndarray:
        """Contract a list of factors to the free legs ``out_legs`` (in that order); nested
        products are inlined where that is cheaper (:mod:`symtn.lower.inline`)."""
        factors = self.inliner.choose(factors, out_legs)
        out_entries = 1
        leg_sizes = {leg: s for f in factors for leg, s in f.sig}
        for leg in out_legs:
            out_entries *= self.size(leg_sizes[leg])
        big = large_sum(factors, out_entries, self.size)
        if big is not None:
            pre = error_first(factors, big, out_legs, self.inliner.flops)
            if pre is not None:  # the back-propagated error once, then each term with it
                self.value(pre[0])
                factors, big = pre, 1
            split = split_terms(factors, big)
            terms = [(self.coefficient(c), parts) for c, parts in split]
            grouped = grouped_sum(self, terms, out_legs)  # type: ignore[arg-type]
            if grouped is not None:
                return grouped
            total: np.ndarray | None = None
            for c, parts in split:
                part = self.network(parts, out_legs)
                k = complex(size_value(c, self.sizes))
                part = part * (k.real if k.imag == 0 else k)
                total = part if total is None else total + part
            return (
                total
                if total is not None
                else self.zeros(tuple(self.size(leg_sizes[x]) for x in out_legs))
            )
        factors, plan, run, contraction = self._plan(tuple(factors), tuple(out_legs))
        if plan.zero:
            return self.zeros(plan.out_shape)
        sliced = self._sliced(plan, contraction)
        stable = shifted_operands(factors, plan.operands, self.shape, self.value)
        arrays = [
            stable[pos] if pos in stable else self.value(factors[op.index]).reshape(op.shape)
            for pos, op in enumerate(plan.operands)
        ]
        if sliced is not None:
            core = self.contract_sliced(sliced, arrays)
        elif run is None:
            core = arrays[0] if arrays else np.ones((), dtype=self.dtype)
        else:
            core = self.contract(run, arrays)
        distinct = tuple(dict.fromkeys(plan.out_labels))
        sizes = plan.label_sizes
        if len(distinct) != len(plan.einsum_out):  # output labels carried by deltas only
            ones_shape = tuple(sizes[x] if x in plan.einsum_out else 1 for x in distinct)
            core = np.broadcast_to(core.reshape(ones_shape), tuple(sizes[x] for x in distinct))
        if len(distinct) != len(plan.out_labels):  # two free legs joined by a delta
            core = self.embed(core, plan.out_labels, sizes)
        core = core.reshape(plan.out_shape)
        if plan.scale != 1:
            core = core * self.dtype.type(plan.scale)
        return core

    def zeros(self, shape: tuple[int, ...]) -> Any:
        """A zero array of the evaluation dtype."""
        return np.zeros(shape, dtype=self.dtype)

    def as_dtype(self, x: Any) -> Any:
        """``x`` (a kernel's result, possibly a Python scalar) as an array of the evaluation dtype."""
        return np.asarray(x, dtype=self.dtype)

    def embed(self, core: Any, labels: tuple[int, ...], sizes: dict[int, int]) -> Any:
        """Place ``core`` on the diagonal of repeated output labels (see ``embed_diagonal``)."""
        return embed_diagonal(core, labels, sizes)

    def finish(self, results: dict[str, Any]) -> dict[str, np.ndarray]:
        """The results as new arrays of the evaluation dtype (each a copy, never an input)."""
        return {k: np.array(v, dtype=self.dtype, copy=True) for k, v in results.items()}

    def contract(self, run: Callable[..., Any], arrays: list[Any]) -> Any:
        """Run a compiled contraction on the operands."""
        return np.asarray(run(*arrays))

    def contract_sliced(self, tree: Any, arrays: list[Any]) -> Any:
        """Contract along a sliced cotengra tree (slices summed one at a time)."""
        return np.asarray(contract_sliced(tree, arrays))

    def _sliced(self, plan: NetworkPlan, c: Contraction | None) -> Any:
        """A sliced tree when the contraction's largest intermediate exceeds the memory limit
        (None when it fits).

        Raises:
            MemoryLimitError: slicing cannot bring the intermediates under the limit.
        """
        limit = self.memory_limit
        if limit is None or c is None or c.largest * self.dtype.itemsize <= limit:
            return None
        tree = sliced_tree(c, max(1, limit // self.dtype.itemsize))
        if tree is None:
            names = {get_symbol(lab): leg for lab, leg in plan.label_legs.items()}
            legs = [names.get(ch, ch) for ch in c.largest_labels]
            raise refusal(
                self.binding, f"an intermediate of the contraction {c.equation}", legs,
                c.largest * self.dtype.itemsize, limit,
                "slicing cannot bring its intermediates under the limit",
            )
        return tree

    def _plan(self, factors: tuple[Node, ...], out_legs: tuple[str, ...]) -> _Planned:
        """The plan of a network (cached across calls by factors, output legs and sizes)."""
        dims = tuple(self.size(s) for f in factors for _, s in f.sig)
        dims += tuple(self.size(f.dim) for f in factors if isinstance(f, Delta) and f.order == 0)
        key = (factors, out_legs, dims)
        hit = _PLANS.get(key)
        if hit is not None:
            _PLANS.move_to_end(key)
            return hit
        work = list(factors)
        while True:
            try:
                plan = plan_network(work, out_legs, self.size)
                break
            except ReshapeConflict as conflict:
                # two reshapes factor one leg differently: this one becomes a dense 0/1 operand
                # (Frozen is transparent for values and is not lowered to einsum labels)
                work[conflict.index] = Frozen(work[conflict.index])
        factors = tuple(work)
        run, contraction = None, None
        trivial = len(plan.operands) == 1 and plan.operands[0].labels == plan.einsum_out
        if plan.operands and not trivial:
            contraction = choose([op.labels for op in plan.operands], plan.einsum_out, plan.label_sizes)
            shapes = [op.shape for op in plan.operands]
            path = [tuple(p) for p in contraction.path]
            run = Compiled(contraction.equation, shapes, path)
        _PLANS[key] = (factors, plan, run, contraction)
        if len(_PLANS) > PLAN_CACHE_SIZE:
            _PLANS.popitem(last=False)
        return factors, plan, run, contraction

    def _sum(self, node: Sum) -> np.ndarray:
        live = [(c, t) for c, t in zip(node.coeffs, node.terms, strict=True) if not isinstance(t, Zero)]
        if len(live) > 1 and all(isinstance(t, Product) and softmax_parts(t) is None for _, t in live):
            terms = [(self.coefficient(c), list(t.args)) for c, t in live]
            grouped = grouped_sum(self, terms, node.legs)  # type: ignore[arg-type]
            if grouped is not None:
                return grouped
        total = self.zeros(self.shape(node))
        for c, term in zip(node.coeffs, node.terms, strict=True):
            if isinstance(term, Zero):
                continue
            k = self.coefficient(c)
            part = _align(self.value(term), term.legs, node.legs)
            total = total + (part if k == 1 else k * part)
        return total

    def _softmax(self, node: Product, parts: SoftmaxParts) -> np.ndarray:
        x = self.value(parts.x)
        axes = tuple(parts.x.legs.index(leg) for leg in parts.summed)
        out = np.exp(x - np.expand_dims(logsumexp(x, axes), axes))
        return _align(out, [parts.rename.get(leg, leg) for leg in parts.x.legs], node.legs)

    def _elementwise(self, node: Elementwise) -> np.ndarray:
        lse = logsumexp_parts(node)
        if lse is not None:
            x, summed = lse
            kept = [leg for leg in x.legs if leg not in summed]
            axes = tuple(x.legs.index(leg) for leg in summed)
            return _align(logsumexp(self.value(x), axes), kept, node.legs)
        fn = elementwise_kernel(node.fn, len(node.operands))
        args = [_align(self.value(o), o.legs, node.legs) for o in node.operands]
        try:
            out = self.as_dtype(fn(*args))
        except (NameError, AttributeError) as exc:
            raise NoRuleError(f"no numeric rule for elementwise function {node.fn}: {exc}") from None
        shape = self.shape(node)
        return out if out.shape == shape else np.broadcast_to(out, shape).copy()

    def _solve(self, node: Product, parts: SolveParts) -> np.ndarray:
        """``inv(U) @ b`` by ``numpy.linalg.solve`` (the inverse is never formed)."""
        u = _align(self.value(parts.matrix), parts.matrix.legs, (parts.rows, parts.cols))
        b = _align(self.value(parts.rhs), parts.rhs.legs, (parts.wire, *parts.rest))
        x = self.linsolve(u, b.reshape(u.shape[0], -1)).reshape(b.shape)
        return _align(x, (parts.out, *parts.rest), node.legs)

    def linsolve(self, u: Any, b: Any) -> Any:
        """``u^-1 b`` for a square matrix ``u`` and a matrix ``b`` (a linear solve)."""
        return np.linalg.solve(u, b)

    def _bubble(self, node: Bubble) -> np.ndarray:
        kernel = bubble_kernel(node.name)
        operand = node.operand
        axes = tuple(operand.legs.index(leg) for leg in node.consumed)
        produced = tuple(self.size(s) for _, s in node.produced)
        out = np.asarray(kernel(self.value(operand), axes, produced), dtype=self.dtype)
        if out.shape != self.shape(node):
            raise EvaluationError(
                f"function `{node.name}` returned shape {out.shape}, expected {self.shape(node)}"
            )
        return out


BACKENDS = ("numpy", "dask")
"""Evaluation backends: numpy (in memory) and dask (chunked, out-of-core or distributed)."""


def evaluate(
    node: Node,
    values: Mapping[str, Any],
    *,
    order: Sequence[str] | None = None,
    sizes: Mapping[str | sp.Symbol, int] | None = None,
    dtype: Any = np.float64,
    backend: str = "numpy",
    memory_limit: int | float | str | None = None,
    chunk_size: int | str | None = None,
) -> np.ndarray:
    """Evaluate ``node`` on concrete inputs with numpy (or dask).

    Args:
        node: the expression; its free legs are the axes of the result.
        values: one array per tensor variable, by name; axes follow the variable's declared
            slot order, lengths must agree with the declared sizes. With ``backend="dask"``
            they may be dask arrays (or memory-mapped numpy arrays) larger than memory.
        order: the legs of the result in the wanted axis order (default ``node.legs``); must be
            a permutation of the node's free legs.
        sizes: values of size symbols that no input determines (by symbol or name).
        dtype: the dtype of the computation and of the result.
        backend: ``"numpy"`` or ``"dask"`` (chunked arrays; a contraction whose operands or
            intermediates exceed memory runs out-of-core, on a dask.distributed cluster when a
            ``distributed.Client`` is active).
        memory_limit: the most bytes any one array may take: an int, or a string such as
            ``"2GB"`` / ``"512MiB"``; default half the memory available now. A contraction
            whose largest intermediate is larger is sliced (cotengra); a value that must be
            held whole and is larger is refused (see :mod:`symtn.lower.memory`).
        chunk_size: dask only: chunk length per axis (int) or bytes per chunk (``"64MiB"``);
            default dask's ``"auto"``.

    Returns:
        A new array with one axis per leg of ``order``, of the legs' bound sizes.

    Raises:
        EvaluationError: a missing input, a shape that disagrees with the declared sizes, an
            unbound size, an ``order`` that is not a permutation of the free legs, an unknown
            backend or a malformed memory limit.
        MemoryLimitError: E310, an array above the memory limit that slicing cannot split
            (names the binding, the array's legs and its bytes); raised before allocating it.
        NoRuleError: a function bubble with no numeric kernel (e.g. an opaque user function).
    """
    orders = {"": tuple(node.legs if order is None else order)}
    return evaluate_many(
        {"": node}, values, orders=orders, sizes=sizes, dtype=dtype, backend=backend,
        memory_limit=memory_limit, chunk_size=chunk_size,
    )[""]


@allow_deep_nesting
def evaluate_many(
    nodes: Mapping[str, Node],
    values: Mapping[str, Any],
    *,
    orders: Mapping[str, Sequence[str]] | None = None,
    sizes: Mapping[str | sp.Symbol, int] | None = None,
    dtype: Any = np.float64,
    backend: str = "numpy",
    memory_limit: int | float | str | None = None,
    chunk_size: int | str | None = None,
) -> dict[str, np.ndarray]:
    """Evaluate several expressions in one pass, computing shared subexpressions once.

    A loss and its gradients share their forward values (hash-consing makes equal nodes one
    object), so evaluating them together is a forward pass plus the gradient-specific work.

    Args:
        nodes: name -> expression.
        values: inputs as for :func:`evaluate`.
        orders: name -> wanted leg order of that result (default: its canonical order).
        sizes: values of size symbols that no input determines.
        dtype: the dtype of the computation.
        backend, memory_limit, chunk_size: as for :func:`evaluate`.

    Returns:
        name -> array with axes in the wanted order.

    Raises:
        EvaluationError, MemoryLimitError, NoRuleError: as :func:`evaluate`; every result's size
        is checked against the memory limit before any work is done.
    """
    if backend not in BACKENDS:
        choices = ", ".join(BACKENDS)
        raise EvaluationError(f"unknown backend {backend!r}; choose one of {choices}", code="E300")
    limit = resolve_limit(memory_limit)
    orders = orders or {}
    given = {str(k): v for k, v in (sizes or {}).items()}
    bound: dict[sp.Symbol, int] = {}
    for n in nodes.values():
        bound.update(bind_sizes(n, values, {**{str(k): v for k, v in bound.items()}, **given}))
    evaluator: Evaluator
    if backend == "dask":
        from symtn.lower.dask_backend import DaskEvaluator

        evaluator = DaskEvaluator(values, bound, dtype, limit, chunk_size)
    else:
        evaluator = Evaluator(values, bound, dtype, limit)
    nodes = {name: reverse_form(node) or node for name, node in nodes.items()}
    evaluator.plan_roots(list(nodes.values()))
    wants: dict[str, tuple[str, ...]] = {}
    for name, node in nodes.items():
        want = tuple(orders.get(name, node.legs))
        if sorted(want) != sorted(node.legs):
            raise EvaluationError(
                f"order [{', '.join(want)}] is not a permutation of the legs "
                f"[{', '.join(node.legs)}]{' of ' + name if name else ''}"
            )
        wants[name] = want
        evaluator.binding = name
        Evaluator.check_value(evaluator, node)  # every result fits, before any work
    out: dict[str, Any] = {}
    for name, node in nodes.items():
        evaluator.binding = name
        try:
            with np.errstate(all="ignore"):  # overflow shows as inf/nan in the result, not a warning
                arr = evaluator.value(node)
        except SymtnError:
            raise
        except (ValueError, IndexError, FloatingPointError) as exc:
            raise EvaluationError(f"numeric evaluation{' of ' + name if name else ''} failed: {exc}") from exc
        out[name] = _align(arr, node.legs, wants[name])
    return evaluator.finish(out)
