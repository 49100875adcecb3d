"""Sizes in generated code: numbers that remember the source text of the size they stand for.

A module generated without values for its size symbols reads the sizes from its input arrays.
The emitter still needs numbers to plan (contraction orders, which sum to distribute over,
which sums to tile), so every open symbol gets a *representative* value; the size is a
:class:`SizeInt`, an ``int`` whose ``str``/``repr`` is the Python expression of the size
(``_n_batch_`` or ``(_n_batch_ * 768)``). Arithmetic between sizes keeps the expression, so the
shapes printed into the code (``numpy.zeros((_n_batch_, 10))``, a reshape to a merged leg) are
expressions in the function's size variables, while planning sees plain numbers.

A coefficient that depends on a size (``1 / |b|`` of a mean) is a :class:`SizeFloat`.

The representative values are distinct primes that divide no size fixed in the program, so a
size printed as a number by mistake (a literal divisible by one of them, or a float whose
product or quotient with one is a whole number) is found by scanning the generated code
(:func:`leaked_literal`); generation then refuses rather than write code that would be
silently wrong at other sizes.
"""

from __future__ import annotations

import io
import math
import tokenize
from collections.abc import Callable, Iterable, Mapping
from typing import Any

import sympy as sp

from symtn.errors import EvaluationError
from symtn.lower.sizes import int_size

FIRST_PRIME = 509
"""Open size symbols are planned with distinct primes from this one up (509, 521, 523...): sizes
of a typical model, large enough that size-dependent choices (cache-blocked sums, BLAS
orientation) are made as they would be for real data."""

SMALL_PRIME = 31
"""A shape-generic function is planned a second time with primes from this one up (31, 37...);
when the contraction order differs (a Gram matrix of a small hidden layer instead of a large
outer product), it keeps both plans and picks the cheaper at each call's sizes."""


def _src(x: Any) -> str:
    return x.src if isinstance(x, (SizeInt, SizeFloat)) else repr(x)


def _wrap(value: Any, parts: tuple[str, Any, Any]) -> Any:
    if isinstance(value, bool):
        return value
    if isinstance(value, int):
        return SizeInt(value, None, parts)
    if isinstance(value, float):
        return SizeFloat(value, None, parts)
    return value


def _op(sym: str, fn: Callable[[Any, Any], Any], reflected: bool = False) -> Callable[[Any, Any], Any]:
    def method(self: Any, other: Any) -> Any:
        kind = type(other)
        if kind is bool or not isinstance(other, (int, float)):
            return NotImplemented
        a, b = (other, self) if reflected else (self, other)
        value = fn(a.real, b.real)  # .real: the plain number
        if sym == "*":  # math.prod starts at 1; _linear multiplies by +-1.0
            if (kind is int or kind is float) and other in (1, -1):
                return self if other == 1 else -self
        return _wrap(value, (sym, a, b))

    return method


class _Source:
    """The lazily printed source of a size or coefficient (built only when printed: planning
    does a great deal of arithmetic on sizes and prints little of it)."""

    _s: str | None
    _p: tuple[str, Any, Any] | None

    # arithmetic shared by sizes and coefficients: the value, and the source built on demand
    __add__ = _op("+", lambda a, b: a + b)
    __radd__ = _op("+", lambda a, b: a + b, reflected=True)
    __sub__ = _op("-", lambda a, b: a - b)
    __rsub__ = _op("-", lambda a, b: a - b, reflected=True)
    __mul__ = _op("*", lambda a, b: a * b)
    __rmul__ = _op("*", lambda a, b: a * b, reflected=True)
    __truediv__ = _op("/", lambda a, b: a / b)
    __rtruediv__ = _op("/", lambda a, b: a / b, reflected=True)

    @property
    def src(self) -> str:
        if self._s is None:
            assert self._p is not None
            sym, a, b = self._p
            self._s = f"({_src(a)} {sym} {_src(b)})" if sym != "neg" else f"(-{_src(a)})"
            self._p = None
        return self._s

    def __str__(self) -> str:
        return self.src

    __repr__ = __str__


class SizeInt(_Source, int):
    """An int standing for a size expression of the generated code (``str`` gives its source)."""

    def __new__(cls, value: int, src: str | None, parts: tuple[str, Any, Any] | None = None) -> SizeInt:
        obj = super().__new__(cls, value)
        obj._s, obj._p = src, parts
        return obj

    __str__ = _Source.__str__
    __repr__ = _Source.__repr__
    __floordiv__ = _op("//", lambda a, b: a // b)
    __rfloordiv__ = _op("//", lambda a, b: a // b, reflected=True)

    def __neg__(self) -> SizeInt:
        return SizeInt(-self.real, None, ("neg", self, None))

    def __abs__(self) -> SizeInt:
        return self if self.real >= 0 else -self


class SizeFloat(_Source, float):
    """A float standing for a size-dependent coefficient (``repr`` gives its source)."""

    def __new__(cls, value: float, src: str | None, parts: tuple[str, Any, Any] | None = None) -> SizeFloat:
        obj = super().__new__(cls, value)
        obj._s, obj._p = src, parts
        return obj

    __str__ = _Source.__str__
    __repr__ = _Source.__repr__

    def __neg__(self) -> SizeFloat:
        return SizeFloat(-self.real, None, ("neg", self, None))

    def __abs__(self) -> SizeFloat:
        return self if self.real >= 0 else -self


class SizeFunction:
    """``size_of`` for the emitter: a size expression -> an int (a :class:`SizeInt` when it
    depends on an open symbol); :meth:`coeff` does the same for sum coefficients.

    Args:
        fixed: symbol name -> value (given at generation time, or fixed in the program).
        open_vars: open symbol name -> the variable holding it in generated functions.
        values: open symbol name -> its representative value for this pass.
    """

    def __init__(
        self, fixed: Mapping[str, int], open_vars: Mapping[str, str], values: Mapping[str, int]
    ) -> None:
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


def representative(opened: list[str], fixed: Iterable[float], first: int = FIRST_PRIME) -> dict[str, int]:
    """Distinct primes (from ``first``) for the open symbols, none of which would make a number
    of the program (a fixed size, a constant) look derived from it."""
    fixed = [float(v) for v in fixed]
    out: dict[str, int] = {}
    p = first - 1
    for name in opened:
        p = int(sp.nextprime(p))
        while any(_suspicious(v, [p]) for v in fixed):
            p = int(sp.nextprime(p))
        out[name] = p
    return out


def _whole(x: float) -> bool:
    return abs(x) >= 0.5 and abs(x - round(x)) <= 1e-9 * abs(x)


def _suspicious(value: float, primes: Iterable[int]) -> bool:
    """True when ``value`` looks like an expression of the primes: a whole multiple of one
    (``p``, ``7 p / 2``), its reciprocal times a simple fraction (``1 / p``) or the same for its
    square (``sqrt(p)``, ``1 / sqrt(p)``)."""
    if not math.isfinite(value) or value == 0:
        return False
    for p in primes:
        for v in (value, value * value):
            for d in (1, 2, 3, 4, 6, 8, 12):
                if _whole(v * d) and round(v * d) % p == 0:
                    return True
                if not _whole(v * d) and _whole(v * d * p):
                    return True
    return False


def leaked_literal(text: str, primes: Iterable[int]) -> str | None:
    """The first code line of ``text`` with a number that is an expression of the representative
    ``primes`` (comments and strings are not code), or None."""
    primes = list(primes)
    if not primes:
        return None
    lines = text.splitlines()
    for tok in tokenize.generate_tokens(io.StringIO(text).readline):
        if tok.type != tokenize.NUMBER:
            continue
        try:
            value = float(tok.string.replace("_", ""))
        except ValueError:
            continue
        if _suspicious(value, primes):
            return lines[tok.start[0] - 1].strip()
    return None
