"""Bind symbolic sizes to integers from input arrays (docs/errors.md).

Every tensor variable declares a signature ``[(leg, size), ...]``; its input array has one axis
per declared slot, in the declared order. Binding unifies the declared sizes with the array
shapes: a size that is a plain symbol (``dim n``) is bound by the first array that carries it,
compound sizes (``m * n``) are checked once their symbols are known (or solved for a single
unknown symbol), and every later occurrence is checked against the binding.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import sympy as sp

from symtn.errors import EvaluationError
from symtn.ir.nodes import Delta, Node, Sum, Tensor, size_str
from symtn.ir.walk import preorder, tensors

SizeMap = dict[sp.Symbol, int]


def _sig_str(t: Tensor) -> str:
    return f"{t.name} [{', '.join(leg for leg, _ in t.slots)}]"


def _positive_int(value: Any, what: str) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer, sp.Integer)):
        raise EvaluationError(f"{what} must be a positive integer, got {value!r}")
    if int(value) < 1:
        raise EvaluationError(f"{what} must be a positive integer, got {value!r}")
    return int(value)


def node_symbols(node: Node) -> dict[str, sp.Symbol]:
    """Every size symbol used in ``node`` (signatures, delta sizes, sum coefficients), by name."""
    found: dict[str, sp.Symbol] = {}
    for n in preorder(node):
        exprs: list[sp.Expr] = [size for _, size in n.sig]
        if isinstance(n, Tensor):
            exprs.extend(size for _, size in n.slots)
        elif isinstance(n, Delta):
            exprs.append(n.dim)
        elif isinstance(n, Sum):
            exprs.extend(n.coeffs)
        for e in exprs:
            for s in sorted(e.free_symbols, key=str):
                if isinstance(s, sp.Symbol):
                    found.setdefault(s.name, s)
    return found


def input_shape(name: str, value: Any) -> tuple[int, ...]:
    """The shape of an input value, or EvaluationError if it is not array-like."""
    try:
        return tuple(int(d) for d in np.shape(value))
    except Exception as exc:  # ragged lists and the like
        raise EvaluationError(f"input for tensor {name} is not an array: {exc}") from None


class _Binder:
    """Unification state: symbol name -> (value, who bound it)."""

    def __init__(self) -> None:
        self.bound: dict[str, tuple[int, str]] = {}

    def value(self, expr: sp.Expr) -> sp.Expr:
        subs = {s: self.bound[s.name][0] for s in expr.free_symbols if s.name in self.bound}
        return expr.subs(subs) if subs else expr

    def origin(self, name: str) -> str:
        src = self.bound[name][1]
        return src if src == "sizes=" else f"`{src}`"

    def plain(self, t: Tensor, leg: str, size: sp.Symbol, actual: int) -> None:
        hit = self.bound.get(size.name)
        if hit is None:
            self.bound[size.name] = (actual, t.name)
        elif hit[0] != actual:
            raise EvaluationError(
                f"leg `{leg}` of `{t.name}` has size {actual} but `{size.name}` was bound to "
                f"{hit[0]} by {self.origin(size.name)}",
                help=f"every leg of size {size.name} must have the same length",
            )

    def compound(self, t: Tensor, leg: str, size: sp.Expr, actual: int) -> bool:
        """Check or solve a compound size; True if it is settled (checked or solved)."""
        v = self.value(size)
        if v.is_number:
            if v != actual:
                known = ", ".join(
                    f"{s.name} = {self.bound[s.name][0]} (from {self.origin(s.name)})"
                    for s in sorted(size.free_symbols, key=str)
                )
                raise EvaluationError(
                    f"leg `{leg}` of `{t.name}` has size {actual} but is declared "
                    f"{size_str(size)} = {v}" + (f" with {known}" if known else "")
                )
            return True
        free = [s for s in v.free_symbols if isinstance(s, sp.Symbol)]
        if len(free) != 1:
            return False
        sols = [s for s in sp.solve(sp.Eq(v, actual), free[0]) if s.is_Integer and s > 0]
        if len(sols) != 1:
            return False
        self.bound[free[0].name] = (int(sols[0]), t.name)
        return True


def bind_sizes(
    node: Node,
    values: Mapping[str, Any],
    sizes: Mapping[str | sp.Symbol, int] | None = None,
) -> SizeMap:
    """Unify declared sizes with input shapes and return the value of every size symbol.

    Args:
        node: the expression to be evaluated.
        values: input arrays by tensor name; the axes of ``values[W]`` follow ``W``'s declared
            slot order (not the leg names of an occurrence). Extra entries are ignored.
        sizes: explicit sizes by symbol or symbol name (needed for sizes no input determines,
            e.g. a delta or ``ones`` on a leg no tensor carries).

    Returns:
        Every size symbol of ``node`` (and of ``sizes``) mapped to a positive integer.

    Raises:
        EvaluationError: a tensor has no input ("missing input for tensor W1 [hid, inp]"), an
            input has the wrong number of axes ("x has 3 axes but is declared [t, d]"), two
            inputs disagree on a size ("leg `t` of `x` has size 12 but `n_ctx` was bound to 10
            by `A`"), or a size symbol is determined by no input ("size n is not bound: pass
            sizes={'n': ...}").
    """
    binder = _Binder()
    for key, val in (sizes or {}).items():
        name = key.name if isinstance(key, sp.Symbol) else str(key)
        binder.bound[name] = (_positive_int(val, f"sizes[{name!r}]"), "sizes=")

    pending: list[tuple[Tensor, str, sp.Expr, int]] = []
    for t in tensors(node):
        if t.name not in values:
            raise EvaluationError(
                f"missing input for tensor {_sig_str(t)}",
                help=f"pass values={{'{t.name}': array}} with axes in declared order",
            )
        shape = input_shape(t.name, values[t.name])
        if len(shape) != len(t.slots):
            raise EvaluationError(
                f"{t.name} has {len(shape)} axes but is declared [{', '.join(leg for leg, _ in t.slots)}]",
                help=f"the input shape is {shape}",
            )
        for (leg, declared), actual in zip(t.slots, shape, strict=True):
            size: sp.Expr = declared
            if size.is_Integer:
                if int(size) != actual:
                    raise EvaluationError(
                        f"leg `{leg}` of `{t.name}` has size {actual} but is declared {size}"
                    )
            elif isinstance(size, sp.Symbol):
                binder.plain(t, leg, size, actual)
            else:
                pending.append((t, leg, size, actual))

    progress = True
    while pending and progress:
        progress = False
        for item in list(pending):
            if binder.compound(*item):
                pending.remove(item)
                progress = True
    for t, leg, size, actual in pending:
        missing = sorted(s.name for s in binder.value(size).free_symbols if isinstance(s, sp.Symbol))
        raise EvaluationError(
            f"leg `{leg}` of `{t.name}` has size {actual} = {size_str(size)}, which does not "
            f"determine {', '.join(missing)}",
            help=f"pass sizes={{'{missing[0]}': ...}}",
        )

    symbols = node_symbols(node)
    out: SizeMap = {}
    for name, sym in symbols.items():
        if name not in binder.bound:
            raise EvaluationError(
                f"size {name} is not bound: pass sizes={{'{name}': ...}}",
                help="no input array has a leg of this size",
            )
        out[sym] = binder.bound[name][0]
    for name, (val, _) in binder.bound.items():
        if name not in symbols:
            out[sp.Symbol(name, integer=True, positive=True)] = val
    return out


def size_value(expr: sp.Expr, bound: Mapping[sp.Symbol, int]) -> sp.Expr:
    """Substitute bound sizes into a size or coefficient expression (matched by symbol name)."""
    by_name = {s.name: v for s, v in bound.items()}
    subs = {s: by_name[s.name] for s in expr.free_symbols if isinstance(s, sp.Symbol) and s.name in by_name}
    out = expr.subs(subs) if subs else expr
    if not out.is_number:
        names = ", ".join(sorted(str(s) for s in out.free_symbols))
        raise EvaluationError(f"size {names} is not bound: pass sizes={{'{names}': ...}}")
    return out


def int_size(expr: sp.Expr, bound: Mapping[sp.Symbol, int]) -> int:
    """A leg size as a positive Python int (EvaluationError if it is not one)."""
    v = size_value(expr, bound)
    if not v.is_Integer or int(v) < 1:
        raise EvaluationError(f"size {size_str(expr)} evaluates to {v}, not a positive integer")
    return int(v)
