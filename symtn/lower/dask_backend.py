"""The dask backend: evaluate an IR expression on chunked dask arrays, out-of-core or distributed.

:class:`DaskEvaluator` walks nodes exactly as the numpy :class:`~symtn.lower.numpy_backend.Evaluator`
does (same plans, same contraction paths, same memo of shared subexpressions) but builds a lazy
dask graph: inputs become chunked dask arrays (``chunk_size`` per axis, or bytes per chunk),
networks are contracted by opt_einsum on dask arrays (``tensordot``/``einsum`` chunk by chunk)
along the plan's opt_einsum/cotengra path, elementwise rules and function bubbles run block by
block (``map_blocks``; a bubble's consumed legs are rechunked whole). All requested bindings are
computed by one ``dask.compute`` call, so shared work runs once; when a ``distributed.Client``
is active, dask runs the graph on its cluster.

Memory: intermediate values are chunked, so only the results (returned as numpy arrays) must
fit; a contraction whose largest intermediate exceeds the memory limit is still sliced with
cotengra (each slice a smaller dask graph), and results above the limit are refused before any
work (:mod:`symtn.lower.memory`).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import sympy as sp

from symtn.errors import EvaluationError, NoRuleError, SymtnError
from symtn.ir.nodes import Bubble, Elementwise, Node, Shifted, Tensor, Zero
from symtn.lower.kernels import bubble_kernel, elementwise_kernel
from symtn.lower.memory import contract_sliced, parse_memory
from symtn.lower.numpy_backend import Evaluator, _align
from symtn.lower.stable import logsumexp_parts


def _dask() -> Any:
    try:
        import dask.array as da
    except ImportError:
        raise EvaluationError(
            "backend='dask' needs dask: pip install 'symtn[dask]'", code="E300"
        ) from None
    return da


class DaskEvaluator(Evaluator):
    """Evaluates nodes as lazy dask arrays (see the module docstring).

    Args:
        values: input arrays by tensor name (numpy arrays, memory maps or dask arrays).
        sizes: every size symbol bound to an integer.
        dtype: the floating dtype of all arrays.
        memory_limit: bytes a result or a contraction's intermediate may take (None: unbounded).
        chunk_size: chunk length per axis (int), bytes per chunk (``"64MiB"``) or None for dask's
            ``"auto"``.

    Raises:
        EvaluationError: dask is not installed, or ``chunk_size`` is malformed.
    """

    def __init__(
        self,
        values: Mapping[str, Any],
        sizes: Mapping[sp.Symbol, int],
        dtype: Any,
        memory_limit: int | None = None,
        chunk_size: int | str | None = None,
    ) -> None:
        super().__init__(values, sizes, dtype, memory_limit)
        self.da = _dask()
        if chunk_size is None:
            self.chunks: Any = "auto"
        elif isinstance(chunk_size, (int, np.integer)) and not isinstance(chunk_size, bool):
            if chunk_size < 1:
                raise EvaluationError(f"chunk_size must be positive, got {chunk_size}", code="E300")
            self.chunks = int(chunk_size)
        else:
            self.chunks = f"{parse_memory(chunk_size)}B"

    # ------------------------------------------------------------------ array hooks
    def check_value(self, node: Node) -> None:
        """Intermediate values are chunked: only results (checked by evaluate_many) must fit."""

    def zeros(self, shape: tuple[int, ...]) -> Any:
        return self.da.zeros(shape, dtype=self.dtype, chunks=self.chunks)

    def as_dtype(self, x: Any) -> Any:
        return x.astype(self.dtype) if isinstance(x, self.da.Array) else np.asarray(x, dtype=self.dtype)

    def _lazy(self, x: Any) -> Any:
        return x if isinstance(x, self.da.Array) else self.da.from_array(np.asarray(x), chunks=self.chunks)

    def contract(self, run: Any, arrays: list[Any]) -> Any:
        return run(*[self._lazy(a) for a in arrays])

    def contract_sliced(self, tree: Any, arrays: list[Any]) -> Any:
        return contract_sliced(tree, [self._lazy(a) for a in arrays], backend="dask")

    def embed(self, core: Any, labels: tuple[int, ...], sizes: dict[int, int]) -> Any:
        """Repeated output labels: ``core`` times identity matrices, one einsum (no strided view)."""
        from opt_einsum import get_symbol

        distinct = tuple(dict.fromkeys(labels))
        ops, subs, out = [self._lazy(core)], ["".join(get_symbol(x) for x in distinct)], []
        fresh = max(sizes) + 1
        for x in labels:
            if get_symbol(x) not in out:
                out.append(get_symbol(x))
                continue
            ops.append(self.da.eye(sizes[x], dtype=self.dtype, chunks=self.chunks))
            subs.append(get_symbol(x) + get_symbol(fresh))
            out.append(get_symbol(fresh))
            fresh += 1
        return self.da.einsum(f"{','.join(subs)}->{''.join(out)}", *ops)

    def finish(self, results: dict[str, Any]) -> dict[str, np.ndarray]:
        """Compute every result in one ``dask.compute`` (shared work once; a distributed.Client
        runs it on its cluster)."""
        import dask

        names = list(results)
        try:
            done = dask.compute(*[results[k] for k in names])
        except SymtnError:
            raise
        except (NameError, AttributeError) as exc:
            raise NoRuleError(f"no numeric rule in the dask backend: {exc}") from None
        except (ValueError, IndexError, FloatingPointError) as exc:
            raise EvaluationError(f"numeric evaluation with dask failed: {exc}") from exc
        return {k: np.array(v, dtype=self.dtype, copy=True) for k, v in zip(names, done, strict=True)}

    # ------------------------------------------------------------------ node kinds
    def compute(self, node: Node) -> Any:
        if isinstance(node, Zero):
            return self.zeros(self.shape(node))
        if isinstance(node, Shifted):
            n = self.size(node.args[0])
            return self.da.eye(n, k=-node.args[3], dtype=self.dtype, chunks=self.chunks)
        return super().compute(node)

    def _tensor(self, node: Tensor) -> Any:
        v = self.values[node.name]
        if not isinstance(v, self.da.Array):
            if not (hasattr(v, "shape") and hasattr(v, "dtype")):
                try:
                    v = np.asarray(v, dtype=self.dtype)
                except (TypeError, ValueError) as exc:
                    raise EvaluationError(
                        f"input for tensor {node.name} cannot be converted to {self.dtype}: {exc}"
                    ) from None
            v = self.da.from_array(v, chunks=self.chunks)
        elif not isinstance(self.chunks, str):
            v = v.rechunk(self.chunks)
        if np.dtype(v.dtype).kind not in "biufc":
            raise EvaluationError(f"input for tensor {node.name} has dtype {v.dtype}, not a number")
        if tuple(v.shape) != self.shape(node):
            raise EvaluationError(
                f"input for tensor {node.name} has shape {tuple(v.shape)}, expected {self.shape(node)}"
            )
        return v.astype(self.dtype) if v.dtype != self.dtype else v

    def _elementwise(self, node: Elementwise) -> Any:
        if logsumexp_parts(node) is not None:  # numpy reductions dispatch to dask
            return super()._elementwise(node)
        fn = elementwise_kernel(node.fn, len(node.operands))
        shape = self.shape(node)
        args = [self._lazy(_align(self.value(o), o.legs, node.legs)) for o in node.operands]
        if len(args) > 1:  # a broadcast operand (unit axes) gets the full shape: blocks then align
            args = [a if tuple(a.shape) == shape else self.da.broadcast_to(a, shape) for a in args]
            args = [a.rechunk(args[0].chunks) for a in args]
        try:  # a rule numpy cannot evaluate fails here, not inside the graph
            probe = np.asarray(fn(*[np.ones((1,) * len(shape), self.dtype) for _ in args]))
        except (NameError, AttributeError) as exc:
            raise NoRuleError(f"no numeric rule for elementwise function {node.fn}: {exc}") from None
        if not args:
            return self.da.full(shape, probe.reshape(()).item(), dtype=self.dtype, chunks=self.chunks)
        dtype = self.dtype

        def block(*bs: np.ndarray) -> np.ndarray:
            out = np.asarray(fn(*bs), dtype=dtype)
            want = np.broadcast_shapes(*(b.shape for b in bs))
            return out if out.shape == want else np.broadcast_to(out, want).copy()

        out = self.da.map_blocks(block, *args, dtype=dtype, meta=np.empty((0,) * len(shape), dtype))
        return out if tuple(out.shape) == shape else self.da.broadcast_to(out, shape)

    def linsolve(self, u: Any, b: Any) -> Any:
        """The solve on whole (one-chunk) operands: dask's LU needs square chunks."""
        return self.da.linalg.solve(self._lazy(u).rechunk(-1), self._lazy(b).rechunk(-1))

    def _bubble(self, node: Bubble) -> Any:
        """The kernel block by block over the lifted legs; consumed legs are one chunk each."""
        kernel = bubble_kernel(node.name)
        x = self._lazy(self.value(node.operand))
        n, k = x.ndim, len(node.consumed)
        axes = tuple(node.operand.legs.index(leg) for leg in node.consumed)
        last = tuple(range(n - k, n))
        x = self.da.moveaxis(x, axes, last).rechunk({i: -1 for i in last})
        produced = tuple(self.size(s) for _, s in node.produced)
        p = len(produced)
        chunks = tuple(x.chunks[: n - k]) + tuple((s,) for s in produced)
        extra: dict[str, Any] = {}
        if k > p:
            extra["drop_axis"] = list(range(n - k + p, n))
        elif p > k:
            extra["new_axis"] = list(range(n, n - k + p))
        dtype = self.dtype

        def block(b: np.ndarray) -> np.ndarray:
            return np.asarray(kernel(b, last, produced), dtype=dtype)

        meta = np.empty((0,) * (n - k + p), dtype)
        out = self.da.map_blocks(block, x, dtype=dtype, chunks=chunks, meta=meta, **extra)
        if tuple(out.shape) != self.shape(node):
            raise EvaluationError(
                f"function `{node.name}` returns shape {tuple(out.shape)}, expected {self.shape(node)}"
            )
        return out
