"""Sizes in generated code: numbers that remember the source text of the size they stand for.

A module generated without values for its size symbols reads the sizes from its input arrays.
The emitter still needs numbers to plan (contraction orders, which sum to distribute over,
which sums to tile), so every open symbol gets a *representative* value; the size is a
:class:`SizeInt`, an ``int`` whose ``str``/``repr`` is the Python expression of the size
(``_n_batch_`` or ``(_n_batch_ * 768)``). Arithmetic between sizes keeps the expression, so the
shapes printed into the code (``numpy.zeros((_n_batch_, 10))``, a reshape to a merged leg) are
expressions in the function's size variables, while planning sees plain numbers.

A coefficient that depends on a size (``1 / |b|`` of a mean) is a :class:`SizeFloat`.

Generation runs twice with different representative values; equal texts prove that no size
was printed as a literal (see :func:`symtn.lower.codegen.generate`).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import sympy as sp

from symtn.errors import EvaluationError
from symtn.lower.sizes import int_size

REPRESENTATIVE = (64, 71)
"""Base values of open size symbols in the two generation passes (symbol k gets base + 2k)."""


def _src(x: Any) -> str:
    return x.src if isinstance(x, (SizeInt, SizeFloat)) else repr(x)


def _wrap(value: Any, src: str) -> Any:
    if isinstance(value, bool):
        return value
    if isinstance(value, int):
        return SizeInt(value, src)
    if isinstance(value, float):
        return SizeFloat(value, src)
    return value


def _op(sym: str, fn: Callable[[Any, Any], Any], reflected: bool = False) -> Callable[[Any, Any], Any]:
    def method(self: Any, other: Any) -> Any:
        if not isinstance(other, (int, float)) or isinstance(other, bool):
            return NotImplemented
        a, b = (other, self) if reflected else (self, other)
        value = fn(a.real if isinstance(a, (SizeInt, SizeFloat)) else a, b.real if isinstance(b, (SizeInt, SizeFloat)) else b)
        if sym == "*" and (_src(a) in ("1", "1.0") or _src(b) in ("1", "1.0")):  # math.prod starts at 1
            return _wrap(value, _src(b) if _src(a) in ("1", "1.0") else _src(a))
        if sym == "*" and (_src(a) in ("-1", "-1.0") or _src(b) in ("-1", "-1.0")):
            return _wrap(value, f"(-{_src(b) if _src(a) in ('-1', '-1.0') else _src(a)})")
        return _wrap(value, f"({_src(a)} {sym} {_src(b)})")

    return method


class SizeInt(int):
    """An int standing for a size expression of the generated code (``str`` gives its source)."""

    src: str

    def __new__(cls, value: int, src: str) -> SizeInt:
        obj = super().__new__(cls, value)
        obj.src = src
        return obj

    def __str__(self) -> str:
        return self.src

    __repr__ = __str__
    __add__ = _op("+", lambda a, b: a + b)
    __radd__ = _op("+", lambda a, b: a + b, reflected=True)
    __sub__ = _op("-", lambda a, b: a - b)
    __rsub__ = _op("-", lambda a, b: a - b, reflected=True)
    __mul__ = _op("*", lambda a, b: a * b)
    __rmul__ = _op("*", lambda a, b: a * b, reflected=True)
    __floordiv__ = _op("//", lambda a, b: a // b)
    __rfloordiv__ = _op("//", lambda a, b: a // b, reflected=True)
    __truediv__ = _op("/", lambda a, b: a / b)
    __rtruediv__ = _op("/", lambda a, b: a / b, reflected=True)

    def __neg__(self) -> SizeInt:
        return SizeInt(-int(self), f"(-{self.src})")

    def __abs__(self) -> SizeInt:
        return SizeInt(abs(int(self)), f"abs({self.src})")


class SizeFloat(float):
    """A float standing for a size-dependent coefficient (``repr`` gives its source)."""

    src: str

    def __new__(cls, value: float, src: str) -> SizeFloat:
        obj = super().__new__(cls, value)
        obj.src = src
        return obj

    def __str__(self) -> str:
        return self.src

    __repr__ = __str__
    __add__ = _op("+", lambda a, b: a + b)
    __radd__ = _op("+", lambda a, b: a + b, reflected=True)
    __sub__ = _op("-", lambda a, b: a - b)
    __rsub__ = _op("-", lambda a, b: a - b, reflected=True)
    __mul__ = _op("*", lambda a, b: a * b)
    __rmul__ = _op("*", lambda a, b: a * b, reflected=True)
    __truediv__ = _op("/", lambda a, b: a / b)
    __rtruediv__ = _op("/", lambda a, b: a / b, reflected=True)

    def __neg__(self) -> SizeFloat:
        return SizeFloat(-float(self), f"(-{self.src})")

    def __abs__(self) -> SizeFloat:
        return SizeFloat(abs(float(self)), f"abs({self.src})")


class SizeFunction:
    """``size_of`` for the emitter: a size expression -> an int (a :class:`SizeInt` when it
    depends on an open symbol); :meth:`coeff` does the same for sum coefficients.

    Args:
        fixed: symbol name -> value (given at generation time, or fixed in the program).
        open_vars: open symbol name -> the variable holding it in generated functions.
        values: open symbol name -> its representative value for this pass.
    """

    def __init__(self, fixed: Mapping[str, int], open_vars: Mapping[str, str], values: Mapping[str, int]) -> None:
        self.fixed = dict(fixed)
        self.open_vars = dict(open_vars)
        self.values = dict(values)
        self.cache: dict[sp.Expr, Any] = {}

    def _source(self, expr: sp.Expr) -> str:
        subs = {s: sp.Symbol(self.open_vars[s.name]) for s in expr.free_symbols if s.name in self.open_vars}
        subs.update({s: sp.Integer(self.fixed[s.name]) for s in expr.free_symbols if s.name in self.fixed})
        return str(sp.pycode(expr.xreplace(subs)))

    def _bound(self) -> dict[sp.Symbol, int]:
        out = {sp.Symbol(k): v for k, v in self.fixed.items()}
        out.update({sp.Symbol(k): v for k, v in self.values.items()})
        return out

    def __call__(self, expr: sp.Expr) -> Any:
        hit = self.cache.get(expr)
        if hit is None:
            if expr.is_Integer:
                hit = int(expr)
            else:
                value = int_size(expr, self._bound())
                opened = any(s.name in self.open_vars for s in expr.free_symbols)
                if not opened:
                    hit = value
                elif isinstance(expr, sp.Symbol):
                    hit = SizeInt(value, self.open_vars[expr.name])
                else:
                    hit = SizeInt(value, f"int({self._source(expr)})")
            self.cache[expr] = hit
        return hit

    def coeff(self, c: sp.Expr) -> float:
        """A sum coefficient's value (a :class:`SizeFloat` when it depends on an open size)."""
        by_name = self._bound()
        value = float(c.xreplace({s: by_name.get(sp.Symbol(s.name), s) for s in c.free_symbols}))
        if any(s.name in self.open_vars for s in c.free_symbols):
            return SizeFloat(value, f"float({self._source(c)})")
        return value


def open_symbols(symbols: Mapping[str, sp.Symbol], given: Mapping[str, int]) -> list[str]:
    """The size symbols (by name) no value was given for, sorted."""
    return sorted(name for name in symbols if name not in given)


def check_determined(names: list[str], determined: set[str]) -> None:
    """Raise E300 for open symbols no input leg carries as a plain size (they need ``--size``)."""
    missing = [n for n in names if n not in determined]
    if missing:
        raise EvaluationError(
            f"codegen needs a value for the size(s) {', '.join(missing)}: no input leg has exactly "
            "that size, so the generated code cannot read it from its arrays",
            code="E300",
            help=f"pass sizes={{'{missing[0]}': 64}} (CLI: --size {missing[0]}=64)",
        )
