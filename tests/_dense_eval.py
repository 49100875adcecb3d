"""A minimal dense reference evaluator for IR nodes, used by the derivative tests.

Deliberately naive: every constant (copy tensors, shifted deltas, Iverson brackets, reshape
tensors) is materialised and every network is one ``opt_einsum.contract`` call, so it shares no
code with ``symtn.lower``. Arrays are keyed by tensor name with axes in declared slot order.
Leg-acting bubbles: ``max``/``min``, their Jacobians ``jac[max]``/``jac[min]`` (one-hot of the
arg-max), ``det``/``logdet``/``inv`` on two legs, and any other name from ``functions``: a callable
taking the operand with the lifted axes first and the consumed axes last, returning the lifted
axes followed by the produced axes.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import opt_einsum as oe
import scipy.special
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
from symtn.ir.walk import preorder

Fn = Callable[[np.ndarray], np.ndarray]

_MODULES: list[Any] = [
    {
        "Heaviside": lambda x, h=0.5: np.where(x > 0, 1.0, np.where(x < 0, 0.0, h)),
        "DiracDelta": lambda x, *_: np.zeros_like(x),
        "erf": scipy.special.erf,
        "sign": np.sign,
        "Abs": np.abs,
    },
    "numpy",
]


def _onehot_arg(x: np.ndarray, k: int, pick: Callable[..., np.ndarray]) -> np.ndarray:
    batch, tail = x.shape[: x.ndim - k], x.shape[x.ndim - k :]
    flat = x.reshape(batch + (-1,))
    idx = pick(flat, axis=-1)
    out = np.zeros_like(flat)
    np.put_along_axis(out, idx[..., None], 1.0, axis=-1)
    return out.reshape(batch + tail)


def _flat(x: np.ndarray, k: int) -> np.ndarray:
    return x.reshape(x.shape[: x.ndim - k] + (-1,))


def _softmax(x: np.ndarray, k: int) -> np.ndarray:
    e = np.exp(_flat(x, k))
    return (e / e.sum(-1, keepdims=True)).reshape(x.shape)


BUILTINS: dict[str, Callable[[np.ndarray, int], np.ndarray]] = {
    "sum": lambda x, k: _flat(x, k).sum(-1),
    "mean": lambda x, k: _flat(x, k).mean(-1),
    "logsumexp": lambda x, k: np.log(np.exp(_flat(x, k)).sum(-1)),
    "softmax": _softmax,
    "max": lambda x, k: _flat(x, k).max(-1),
    "min": lambda x, k: _flat(x, k).min(-1),
    "jac[max]": lambda x, k: _onehot_arg(x, k, np.argmax),
    "jac[min]": lambda x, k: _onehot_arg(x, k, np.argmin),
    "det": lambda x, k: np.linalg.det(x),
    "logdet": lambda x, k: np.log(np.linalg.det(x)),
    "inv": lambda x, k: np.swapaxes(np.linalg.inv(x), -1, -2),
}


class DenseEvaluator:
    """Evaluate nodes to numpy arrays (axes in ``node.legs`` order), memoised per node."""

    def __init__(self, values: dict[str, np.ndarray], functions: dict[str, Fn] | None = None) -> None:
        self.values = values
        self.functions = functions or {}
        self.env: dict[sp.Symbol, int] = {}
        self.memo: dict[Node, np.ndarray] = {}

    def bind(self, root: Node) -> None:
        for n in preorder(root):
            if isinstance(n, Tensor):
                arr = self.values[n.name]
                assert arr.ndim == len(n.slots), (n.name, arr.shape)
                for (_, size), got in zip(n.slots, arr.shape, strict=True):
                    if isinstance(size, sp.Symbol):
                        assert self.env.setdefault(size, got) == got
                    else:
                        assert int(sp.sympify(size).subs(self.env)) == got

    def size(self, s: sp.Expr) -> int:
        return int(sp.sympify(s).subs(self.env))

    def __call__(self, node: Node) -> np.ndarray:
        hit = self.memo.get(node)
        if hit is None:
            hit = self.memo[node] = np.asarray(self.compute(node), dtype=float)
            assert hit.shape == tuple(self.size(s) for _, s in node.sig), (node, hit.shape)
        return hit

    def aligned(self, node: Node, legs: Sequence[str]) -> np.ndarray:
        return np.transpose(self(node), [node.legs.index(leg) for leg in legs])

    def compute(self, node: Node) -> np.ndarray:
        shape = tuple(self.size(s) for _, s in node.sig)
        if isinstance(node, Tensor):
            return self.values[node.name]
        if isinstance(node, Delta):
            n = self.size(node.dim)
            if node.order == 0:
                return np.array(float(n))
            out = np.zeros(shape)
            out[(np.arange(n),) * node.order] = 1.0
            return out
        if isinstance(node, Shifted):
            n, k = self.size(node.args[0]), node.args[3]
            return np.eye(n, k=-k)
        if isinstance(node, Iverson):
            n, op = self.size(node.args[0]), node.args[2]
            a, b = np.arange(n)[:, None], np.arange(n)[None, :]
            table = {"<": a < b, "<=": a <= b, ">": a > b, ">=": a >= b, "!=": a != b}
            return table[op].astype(float)
        if isinstance(node, Reshape):
            total = int(np.prod(shape[:-1], dtype=int))
            return np.eye(total).reshape(shape)
        if isinstance(node, Zero):
            return np.zeros(shape)
        if isinstance(node, Frozen):
            return self(node.inner)
        if isinstance(node, Sum):
            out = np.zeros(shape)
            for c, t in zip(node.coeffs, node.terms, strict=True):
                out = out + float(sp.sympify(c).subs(self.env)) * self.aligned(t, node.legs)
            return out
        if isinstance(node, Product):
            labels: dict[str, str] = {}
            operands: list[Any] = []
            for f in node.args:
                sub = "".join(labels.setdefault(leg, oe.get_symbol(len(labels))) for leg in f.legs)
                operands += [sub]
            spec = ",".join(operands) + "->" + "".join(labels[leg] for leg in node.legs)
            return oe.contract(spec, *(self(f) for f in node.args)) if node.args else np.array(1.0)
        if isinstance(node, Elementwise):
            fn = sp.lambdify(arg_symbols(len(node.operands)), node.fn, modules=_MODULES)
            args = [self.aligned(o, node.legs) for o in node.operands]
            return np.broadcast_to(fn(*args), shape)
        if isinstance(node, Bubble):
            lifted = [leg for leg in node.operand.legs if leg not in node.consumed]
            x = self.aligned(node.operand, lifted + list(node.consumed))
            if node.name in self.functions:
                out = self.functions[node.name](x)
            else:
                out = BUILTINS[node.name](x, len(node.consumed))
            return np.reshape(out, shape)
        raise TypeError(type(node).__name__)


def evaluate(
    node: Node,
    values: dict[str, np.ndarray],
    order: Sequence[str] | None = None,
    functions: dict[str, Fn] | None = None,
) -> np.ndarray:
    """The value of ``node`` with axes in ``order`` (default ``node.legs``)."""
    ev = DenseEvaluator(values, functions)
    ev.bind(node)
    return ev.aligned(node, list(order) if order is not None else list(node.legs))
