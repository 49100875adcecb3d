"""A TEST-ONLY dense reference evaluator for IR nodes (independent of symtn.lower).

Every constant tensor (copy tensors, shifted deltas, Iverson brackets, reshapes) is
materialised densely; networks are one ``np.einsum``; elementwise rules are lambdified with
numpy; sums align legs by name; ``frozen`` is transparent. Slow and simple on purpose.
"""

from __future__ import annotations

import operator
from collections.abc import Callable, Mapping
from typing import Any

import numpy as np
import sympy as sp

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
    arg_symbols,
)
from symtn.rewrite.canonical import symmetry_blocks

_OPS = {"<": operator.lt, "<=": operator.le, ">": operator.gt, ">=": operator.ge, "!=": operator.ne}

BubbleFn = Callable[[np.ndarray, int, tuple[int, ...]], np.ndarray]
"""A bubble implementation: (array with consumed axes last, number of consumed axes, produced
sizes) -> array with the produced axes last."""


def _max_bubble(x: np.ndarray, k: int, produced: tuple[int, ...]) -> np.ndarray:
    return x.reshape(tuple(x.shape)[: x.ndim - k] + (-1,)).max(axis=-1) if k else x


def _mix_bubble(x: np.ndarray, k: int, produced: tuple[int, ...]) -> np.ndarray:
    """An opaque nonlinear map: flatten consumed axes, a fixed matrix, tanh, reshape."""
    flat = x.reshape(tuple(x.shape)[: x.ndim - k] + (-1,))
    n_out = int(np.prod(produced)) if produced else 1
    rng = np.random.default_rng(flat.shape[-1] * 1000 + n_out)
    m = rng.standard_normal((flat.shape[-1], n_out))
    out = np.tanh(flat @ m)
    return out.reshape(out.shape[:-1] + tuple(produced))


BUBBLES: dict[str, BubbleFn] = {
    "max": _max_bubble,
    "mix": _mix_bubble,
    "det": lambda x, k, produced: np.linalg.det(x),
    "logdet": lambda x, k, produced: np.log(np.linalg.det(x)),
    # inv[i, j](X) at i = c, j = r is (X^-1)[r, c] (docs/reference/matrix-functions.md)
    "inv": lambda x, k, produced: np.swapaxes(np.linalg.inv(x), -1, -2),
}


def size_of(size: sp.Expr, sizes: Mapping[str, int]) -> int:
    """An integer size with symbol values substituted from ``sizes``."""
    value = size.subs({s: sizes[s.name] for s in size.free_symbols})  # type: ignore[attr-defined]
    return int(value)


def random_values(node: Node, sizes: Mapping[str, int], seed: int) -> dict[str, np.ndarray]:
    """Random arrays for every tensor variable in ``node`` that satisfy its declared facts
    (symmetric / antisymmetric groups of single slots are (anti)symmetrised; positive and
    nonnegative tensors drawn so)."""
    from itertools import permutations

    from symtn.ir.walk import tensors

    rng = np.random.default_rng(seed)
    out: dict[str, np.ndarray] = {}
    for t in tensors(node):
        shape = tuple(size_of(s, sizes) for _, s in t.slots)
        a = rng.standard_normal(shape)
        if t.fact("positive") is not None:
            a = np.abs(a) + 0.1
        elif t.fact("nonnegative") is not None:
            a = np.abs(a)
        for kind in ("symmetric", "antisymmetric"):
            for _, blocks in symmetry_blocks(t, kind):
                if any(len(b) != 1 for b in blocks):
                    continue
                axes = [b[0] for b in blocks]
                acc = np.zeros_like(a)
                for perm in permutations(range(len(axes))):
                    order = list(range(a.ndim))
                    for src, dst in zip(axes, (axes[p] for p in perm), strict=True):
                        order[src] = dst
                    sign = _sign(perm) if kind == "antisymmetric" else 1
                    acc += sign * np.transpose(a, order)
                a = acc
        iso = t.fact("isometry")
        if iso is not None:
            a = _orthonormal(a, [i for i, (s, _) in enumerate(t.slots) if s in iso[1]], rng)
        out[t.name] = a
    return out


def _orthonormal(a: np.ndarray, keep: list[int], rng: np.random.Generator) -> np.ndarray:
    """Rows (over the ``keep`` axes) orthonormal over the other axes: ``X @ X[k -> k'] = delta``."""
    rest = [i for i in range(a.ndim) if i not in keep]
    moved = np.transpose(a, keep + rest)
    rows = int(np.prod([a.shape[i] for i in keep]))
    cols = moved.size // rows
    q, _ = np.linalg.qr(rng.standard_normal((cols, rows)))
    out = q.T.reshape(moved.shape)
    return np.transpose(out, np.argsort(keep + rest))


def _sign(perm: tuple[int, ...]) -> int:
    sign = 1
    p = list(perm)
    for i in range(len(p)):
        while p[i] != i:
            j = p[i]
            p[i], p[j] = p[j], p[i]
            sign = -sign
    return sign


def align(node: Node, array: np.ndarray, legs: tuple[str, ...]) -> np.ndarray:
    """``array`` (axes in ``node.legs`` order) transposed to ``legs`` order."""
    return np.transpose(array, [node.legs.index(leg) for leg in legs]) if legs else array


class RefEval:
    """Evaluate nodes densely; arrays have axes in ``node.legs`` order."""

    def __init__(self, values: Mapping[str, np.ndarray], sizes: Mapping[str, int]) -> None:
        self.values = values
        self.sizes = sizes
        self.memo: dict[Node, np.ndarray] = {}

    def dim(self, size: sp.Expr) -> int:
        return size_of(size, self.sizes)

    def __call__(self, node: Node) -> np.ndarray:
        hit = self.memo.get(node)
        if hit is None:
            hit = self.memo[node] = np.asarray(self.eval(node), dtype=float)
        return hit

    def eval(self, node: Node) -> Any:
        if isinstance(node, Tensor):
            return self.values[node.name]
        if isinstance(node, Delta):
            n, k = self.dim(node.dim), node.order
            out = np.zeros((n,) * k) if k else np.array(float(n))
            if k:
                out[(np.arange(n),) * k] = 1.0
            return out
        if isinstance(node, (Shifted, Iverson)):
            n = self.dim(node.args[0])
            i, j = np.meshgrid(np.arange(n), np.arange(n), indexing="ij")
            if isinstance(node, Shifted):
                return (i == j + node.args[3]).astype(float)
            return _OPS[node.args[2]](i, j).astype(float)
        if isinstance(node, Reshape):
            dims = [self.dim(s) for _, s in node.parts]
            whole = int(np.prod(dims)) if dims else 1
            return np.eye(whole).reshape(tuple(dims) + (whole,))
        if isinstance(node, Zero):
            return np.zeros(tuple(self.dim(s) for _, s in node.sig))
        if isinstance(node, Product):
            return self.product(node)
        if isinstance(node, Sum):
            total = np.zeros(tuple(self.dim(s) for _, s in node.sig))
            for t, c in zip(node.terms, node.coeffs, strict=True):
                coeff = float(c.subs({s: self.sizes[s.name] for s in c.free_symbols}))
                total = total + coeff * align(t, self(t), node.legs)
            return total
        if isinstance(node, Elementwise):
            fn = sp.lambdify(arg_symbols(len(node.operands)), node.fn, modules="numpy")
            args = [align(o, self(o), node.legs) for o in node.operands]
            shape = tuple(self.dim(s) for _, s in node.sig)
            return np.broadcast_to(np.asarray(fn(*args), dtype=float), shape)
        if isinstance(node, Bubble):
            x = self(node.operand)
            lifted = [leg for leg in node.operand.legs if leg not in node.consumed]
            x = align(node.operand, x, tuple(lifted) + node.consumed)
            produced = tuple(self.dim(s) for _, s in node.produced)
            return BUBBLES[node.name](x, len(node.consumed), produced)
        if isinstance(node, Frozen):
            return self(node.inner)
        raise TypeError(type(node).__name__)

    def product(self, node: Product) -> np.ndarray:
        letters: dict[str, int] = {}
        operands: list[Any] = []
        for f in node.args:
            operands.append(self(f))
            operands.append([letters.setdefault(leg, len(letters)) for leg in f.legs])
        operands.append([letters[leg] for leg in node.legs])
        if not node.args:
            return np.array(1.0)
        return np.einsum(*operands, optimize="greedy")


def evaluate(node: Node, values: Mapping[str, np.ndarray], sizes: Mapping[str, int]) -> np.ndarray:
    """The dense value of ``node`` (axes in ``node.legs`` order)."""
    return RefEval(values, sizes)(node)
