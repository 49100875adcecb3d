"""NumPy kernels for the numeric backend: constant masks, elementwise rules and function bubbles.

``BUBBLES`` is the registry of leg-acting functions. A kernel is called as
``kernel(array, axes, produced)``: ``array`` is the operand's value (axes in the operand's leg
order), ``axes`` the positions of the consumed legs (in the bubble's declared order) and
``produced`` the lengths of the produced legs. It returns an array whose axes are the lifted legs
(the operand's other legs, in order) followed by the produced legs.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np
import sympy as sp

from symtn.errors import EvaluationError, NoRuleError
from symtn.ir.nodes import arg_symbols

Kernel = Callable[[np.ndarray, tuple[int, ...], tuple[int, ...]], np.ndarray]

# ------------------------------------------------------------------ constant masks


def shifted_mask(n: int, offset: int, dtype: Any) -> np.ndarray:
    """``delta[a, b + offset]`` as an ``n x n`` matrix (rows ``a``, columns ``b``)."""
    return np.eye(n, k=-offset, dtype=dtype)


def iverson_mask(n: int, op: str, dtype: Any) -> np.ndarray:
    """``iverson[a op b]`` as an ``n x n`` 0/1 matrix (rows ``a``, columns ``b``)."""
    if op == "<":
        return 1 - np.tri(n, k=0, dtype=dtype)
    if op == "<=":
        return 1 - np.tri(n, k=-1, dtype=dtype)
    if op == ">":
        return np.tri(n, k=-1, dtype=dtype)
    if op == ">=":
        return np.tri(n, k=0, dtype=dtype)
    if op == "!=":
        return 1 - np.eye(n, dtype=dtype)
    raise NoRuleError(f"no numeric rule for iverson comparison {op!r}")


def embed_diagonal(core: np.ndarray, labels: tuple[int, ...], sizes: dict[int, int]) -> np.ndarray:
    """Place ``core`` (one axis per distinct label, first-appearance order) on the diagonal of a
    zero array with one axis per entry of ``labels`` (repeated labels share an index)."""
    out = np.zeros(tuple(sizes[x] for x in labels), dtype=core.dtype)
    distinct = tuple(dict.fromkeys(labels))
    strides = [sum(out.strides[i] for i, x in enumerate(labels) if x == lab) for lab in distinct]
    view = np.lib.stride_tricks.as_strided(
        out, shape=tuple(sizes[x] for x in distinct), strides=strides, writeable=True
    )
    view[...] = core
    return out


# ------------------------------------------------------------------ elementwise rules

_LAMBDAS: dict[tuple[sp.Expr, int], Callable[..., Any]] = {}
_erf = np.vectorize(math.erf, otypes=[float])
_erfc = np.vectorize(math.erfc, otypes=[float])
_EXTRA = {"erf": _erf, "erfc": _erfc}


def elementwise_kernel(fn: sp.Expr, k: int) -> Callable[..., Any]:
    """The numpy function of an elementwise rule in ``x0..x{k-1}`` (cached per rule).

    Raises:
        NoRuleError: sympy cannot print the rule for numpy (names the function).
    """
    key = (fn, k)
    hit = _LAMBDAS.get(key)
    if hit is None:
        try:
            hit = sp.lambdify(arg_symbols(k), fn, modules=[_EXTRA, "numpy"])
        except Exception as exc:
            raise NoRuleError(f"no numeric rule for elementwise function {fn}: {exc}") from None
        _LAMBDAS[key] = hit
    return hit


# ------------------------------------------------------------------ function bubbles


def _to_end(a: np.ndarray, axes: tuple[int, ...]) -> np.ndarray:
    """Move ``axes`` (in order) to the end of ``a``."""
    return np.moveaxis(a, axes, tuple(range(a.ndim - len(axes), a.ndim)))


def _reduction(fn: Callable[..., np.ndarray]) -> Kernel:
    def kernel(a: np.ndarray, axes: tuple[int, ...], produced: tuple[int, ...]) -> np.ndarray:
        if produced:
            raise EvaluationError(f"a reduction produces no legs, got sizes {produced}")
        return np.asarray(fn(a, axis=axes))

    return kernel


def _same_legs(name: str, a: np.ndarray, axes: tuple[int, ...], produced: tuple[int, ...]) -> np.ndarray:
    if tuple(a.shape[i] for i in axes) != produced:
        raise EvaluationError(
            f"{name} must produce legs of the sizes it consumes: {tuple(a.shape[i] for i in axes)} "
            f"against {produced}"
        )
    return _to_end(a, axes)


def _last(k: int, ndim: int) -> tuple[int, ...]:
    return tuple(range(ndim - k, ndim))


def logsumexp(a: np.ndarray, axis: tuple[int, ...]) -> np.ndarray:
    """``log(sum(exp(a)))`` over ``axis``, computed stably (the maximum is subtracted first)."""
    m = np.max(a, axis=axis, keepdims=True)
    m = np.where(np.isfinite(m), m, 0)
    with np.errstate(divide="ignore"):
        s = np.log(np.sum(np.exp(a - m), axis=axis, keepdims=True))
    return np.squeeze(s + m, axis=axis)


def _softmax(a: np.ndarray, axes: tuple[int, ...], produced: tuple[int, ...]) -> np.ndarray:
    b = _same_legs("softmax", a, axes, produced)
    last = _last(len(axes), b.ndim)
    m = np.max(b, axis=last, keepdims=True)
    e = np.exp(b - np.where(np.isfinite(m), m, 0))
    return np.asarray(e / np.sum(e, axis=last, keepdims=True))


def _arg_onehot(fn: Callable[..., np.ndarray]) -> Kernel:
    """Jacobian of max/min over the consumed legs: the one-hot of the arg-extremum (ties split)."""

    def kernel(a: np.ndarray, axes: tuple[int, ...], produced: tuple[int, ...]) -> np.ndarray:
        b = _same_legs("the Jacobian of max/min", a, axes, produced)
        last = _last(len(axes), b.ndim)
        hit = (b == fn(b, axis=last, keepdims=True)).astype(b.dtype)
        return np.asarray(hit / np.sum(hit, axis=last, keepdims=True))

    return kernel


def _square(name: str, a: np.ndarray, axes: tuple[int, ...]) -> np.ndarray:
    if len(axes) != 2 or a.shape[axes[0]] != a.shape[axes[1]]:
        raise EvaluationError(f"{name} acts on two legs of one size, got shape {a.shape} and legs {axes}")
    return _to_end(a, axes)


def _det(a: np.ndarray, axes: tuple[int, ...], produced: tuple[int, ...]) -> np.ndarray:
    return np.asarray(np.linalg.det(_square("det", a, axes)))


def _logdet(a: np.ndarray, axes: tuple[int, ...], produced: tuple[int, ...]) -> np.ndarray:
    sign, logabs = np.linalg.slogdet(_square("logdet", a, axes))
    with np.errstate(invalid="ignore"):
        return np.asarray(np.where(sign > 0, logabs, np.log(sign) + logabs))


def _inv(a: np.ndarray, axes: tuple[int, ...], produced: tuple[int, ...]) -> np.ndarray:
    """``inv[i, j](X)``: its entry at ``i = b, j = a`` is ``(X^-1)[a, b]`` (docs/language.md, "Functions")."""
    m = _square("inv", a, axes)
    if produced != m.shape[-2:]:
        raise EvaluationError(f"inv produces two legs of size {m.shape[-1]}, got sizes {produced}")
    return np.swapaxes(np.linalg.inv(m), -1, -2)


BUBBLES: dict[str, Kernel] = {
    "max": _reduction(np.max),
    "min": _reduction(np.min),
    "sum": _reduction(np.sum),
    "mean": _reduction(np.mean),
    "logsumexp": _reduction(logsumexp),
    "softmax": _softmax,
    "jac[max]": _arg_onehot(np.max),
    "jac[min]": _arg_onehot(np.min),
    "det": _det,
    "logdet": _logdet,
    "inv": _inv,
}
"""Numeric rules of leg-acting function bubbles, by bubble name (extend to register more)."""


def bubble_kernel(name: str) -> Kernel:
    """The registered kernel of bubble ``name``.

    Raises:
        NoRuleError: no kernel is registered (e.g. an opaque user function ``f`` or ``jac[f]``).
    """
    kernel = BUBBLES.get(name)
    if kernel is None:
        raise NoRuleError(
            f"no numeric rule for function `{name}`",
            help="give the function a body, or register a kernel in symtn.lower.BUBBLES",
        )
    return kernel
