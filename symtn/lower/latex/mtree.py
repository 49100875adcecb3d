"""Matrix expressions: the tree the matrix LaTeX form is printed from (and checked against numpy).

A node of this tree has no leg names, only a shape: a scalar, a column vector (vectors are
columns), a row vector (a transposed column) or a matrix. :mod:`symtn.lower.latex.mconvert`
builds it from an IR network; :func:`render` prints it as LaTeX and :func:`to_numpy` computes
it with numpy, so a test can compare the printed structure with symtn's own evaluation.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, TypeAlias

import numpy as np
import sympy as sp

from symtn.ir.composite import arg_symbols
from symtn.lower.latex.index import size_latex
from symtn.lower.latex.scalar import (
    ADD,
    ATOM,
    MUL,
    NEG,
    POW,
    name_latex,
    paren,
    scalar_latex,
    superscript,
    wrap,
)

Dim: TypeAlias = "sp.Expr | None"  # None: length 1 (the missing side of a vector or scalar)


@dataclass(frozen=True)
class M:
    """A matrix expression; ``rows``/``cols`` give its shape (None for 1)."""

    @property
    def shape(self) -> tuple[Dim, Dim]:
        raise NotImplementedError


@dataclass(frozen=True)
class Sym(M):
    name: str
    dims: tuple[Dim, Dim]

    @property
    def shape(self) -> tuple[Dim, Dim]:
        return self.dims


@dataclass(frozen=True)
class Const(M):
    value: sp.Expr

    @property
    def shape(self) -> tuple[Dim, Dim]:
        return (None, None)


@dataclass(frozen=True)
class Ones(M):
    n: sp.Expr

    @property
    def shape(self) -> tuple[Dim, Dim]:
        return (self.n, None)


@dataclass(frozen=True)
class Ident(M):
    n: sp.Expr

    @property
    def shape(self) -> tuple[Dim, Dim]:
        return (self.n, self.n)


@dataclass(frozen=True)
class Zeros(M):
    dims: tuple[Dim, Dim]

    @property
    def shape(self) -> tuple[Dim, Dim]:
        return self.dims


@dataclass(frozen=True)
class T(M):
    x: M

    @property
    def shape(self) -> tuple[Dim, Dim]:
        return self.x.shape[::-1]  # type: ignore[return-value]


@dataclass(frozen=True)
class MatMul(M):
    factors: tuple[M, ...]

    @property
    def shape(self) -> tuple[Dim, Dim]:
        mats = [f for f in self.factors if f.shape != (None, None)]
        return (mats[0].shape[0], mats[-1].shape[1]) if mats else (None, None)


@dataclass(frozen=True)
class Add(M):
    terms: tuple[tuple[sp.Expr, M], ...]

    @property
    def shape(self) -> tuple[Dim, Dim]:
        return self.terms[0][1].shape


@dataclass(frozen=True)
class Func(M):
    """An elementwise function: ``fn`` in ``x0, x1, ...`` of same-shaped (or scalar) operands."""

    fn: sp.Expr
    ops: tuple[M, ...]

    @property
    def shape(self) -> tuple[Dim, Dim]:
        return max((o.shape for o in self.ops), key=lambda s: (s[0] is not None) + (s[1] is not None))


@dataclass(frozen=True)
class Diag(M):
    x: M

    @property
    def shape(self) -> tuple[Dim, Dim]:
        return (self.x.shape[0], self.x.shape[0])


@dataclass(frozen=True)
class DiagOf(M):
    x: M

    @property
    def shape(self) -> tuple[Dim, Dim]:
        return (self.x.shape[0], None)


@dataclass(frozen=True)
class Op(M):
    """``softmax``/``logsumexp`` of a vector, ``inv``/``det``/``logdet``/``tr`` of a matrix, or
    ``frozen`` (a stop-gradient: the value of its argument)."""

    name: str
    x: M

    @property
    def shape(self) -> tuple[Dim, Dim]:
        if self.name in ("softmax", "inv", "frozen"):
            return self.x.shape
        return (None, None)


@dataclass(frozen=True)
class Named(M):
    name: str
    x: M

    @property
    def shape(self) -> tuple[Dim, Dim]:
        return self.x.shape


def is_scalar(m: M) -> bool:
    return m.shape == (None, None)


def tr(m: M) -> M:
    """The transpose, pushed down to the leaves (``(A x)^T = x^T A^T``)."""
    if is_scalar(m) or isinstance(m, (Diag, Ident)):
        return m
    if isinstance(m, T):
        return m.x
    if isinstance(m, MatMul):
        return MatMul(tuple(tr(f) for f in reversed(m.factors)))
    if isinstance(m, Add):
        return Add(tuple((c, tr(x)) for c, x in m.terms))
    if isinstance(m, Func) and any(isinstance(o, T) for o in m.ops):
        return Func(m.fn, tuple(tr(o) for o in m.ops))
    if isinstance(m, Zeros):
        return Zeros(m.dims[::-1])  # type: ignore[arg-type]
    return T(m)


def transposes(m: M) -> int:
    """How many transposes ``m`` prints (to prefer the orientation with fewest)."""
    own = int(isinstance(m, T))
    kids: list[Any] = [v for v in vars(m).values()]
    total = own
    for k in kids:
        if isinstance(k, M):
            total += transposes(k)
        elif isinstance(k, tuple):
            total += sum(transposes(x if isinstance(x, M) else x[1]) for x in k if isinstance(x, (M, tuple)))
    return total


def render(m: M) -> tuple[str, int]:
    """``(LaTeX, precedence)`` of a matrix expression."""
    if isinstance(m, Sym):
        return name_latex(m.name), ATOM
    if isinstance(m, Named):
        return name_latex(m.name), ATOM
    if isinstance(m, Const):
        return size_latex(m.value)
    if isinstance(m, Ones):
        return r"\mathbf{1}", ATOM
    if isinstance(m, Ident):
        return "I", ATOM
    if isinstance(m, Zeros):
        return "0", ATOM
    if isinstance(m, T):
        return superscript(wrap(render(m.x), ATOM), "T"), POW
    if isinstance(m, MatMul):
        parts = [render(f) for f in m.factors]
        text = " ".join(wrap(p, MUL if i == 0 and p[1] == NEG else POW) for i, p in enumerate(parts))
        return text, MUL
    if isinstance(m, Add):
        out = ""
        for i, (c, x) in enumerate(m.terms):
            neg = bool(c.could_extract_minus_sign())
            mag = -c if neg else c
            body = wrap(render(x), ADD + 1)
            text = body if mag == 1 else wrap(size_latex(mag), NEG) + " " + wrap(render(x), MUL)
            out += ("-" if neg else "") + text if i == 0 else (" - " if neg else " + ") + text
        return out, ADD
    if isinstance(m, Func):
        syms = arg_symbols(len(m.ops))
        arrays = {s for s, o in zip(syms, m.ops, strict=True) if not is_scalar(o)}
        return scalar_latex(
            m.fn, lambda s: render(m.ops[int(s.name[1:])]), lambda e: bool(e.free_symbols & arrays)
        )
    if isinstance(m, (Diag, DiagOf)):
        return rf"\operatorname{{diag}}{paren(render(m.x)[0])}", ATOM
    if isinstance(m, Op):
        if m.name == "inv":
            return superscript(wrap(render(m.x), ATOM), "-1"), POW
        head = {"det": r"\det", "logdet": r"\log\det", "tr": r"\operatorname{tr}"}.get(
            m.name, rf"\operatorname{{{m.name}}}"
        )
        return rf"{head}{paren(render(m.x)[0])}", ATOM
    raise TypeError(f"cannot render {type(m).__name__}")


def to_numpy(m: M, values: dict[str, np.ndarray], sizes: dict[str, int]) -> np.ndarray:
    """Compute a matrix expression with numpy (every value a 2-D array; vectors are columns)."""
    def bind(x: sp.Expr) -> sp.Expr:  # size symbols by name
        x = sp.sympify(x)
        return x.xreplace({s: sp.Integer(sizes[s.name]) for s in x.free_symbols if s.name in sizes})

    def num(x: sp.Expr) -> float:
        return float(bind(x))

    def dim(d: Dim) -> int:
        return 1 if d is None else int(num(d))

    def go(m: M) -> np.ndarray:
        if isinstance(m, Sym):
            return np.asarray(values[m.name], dtype=float).reshape(dim(m.dims[0]), dim(m.dims[1]))
        if isinstance(m, Named):
            return go(m.x)
        if isinstance(m, Const):
            return np.array([[num(m.value)]])
        if isinstance(m, Ones):
            return np.ones((dim(m.n), 1))
        if isinstance(m, Ident):
            return np.eye(dim(m.n))
        if isinstance(m, Zeros):
            return np.zeros((dim(m.dims[0]), dim(m.dims[1])))
        if isinstance(m, T):
            return go(m.x).T
        if isinstance(m, MatMul):
            scale, out = 1.0, None
            for f in m.factors:
                v = go(f)
                if is_scalar(f):
                    scale = scale * v[0, 0]
                else:
                    out = v if out is None else out @ v
            return scale * (out if out is not None else np.ones((1, 1)))
        if isinstance(m, Add):
            return sum((num(c) * go(x) for c, x in m.terms), np.zeros((1, 1)))
        if isinstance(m, Func):
            fn = sp.lambdify(arg_symbols(len(m.ops)), bind(m.fn), "numpy")
            shape = tuple(dim(d) for d in m.shape)
            return np.broadcast_to(fn(*(go(o) for o in m.ops)), shape).astype(float)
        if isinstance(m, Diag):
            return np.diag(go(m.x)[:, 0])
        if isinstance(m, DiagOf):
            return np.diag(go(m.x))[:, None].copy()
        if isinstance(m, Op):
            x = go(m.x)
            if m.name == "frozen":
                return x
            if m.name == "softmax":
                e = np.exp(x - x.max())
                return e / e.sum()
            if m.name == "logsumexp":
                return np.array([[np.log(np.exp(x - x.max()).sum()) + x.max()]])
            if m.name == "inv":
                return np.linalg.inv(x)
            if m.name == "det":
                return np.array([[np.linalg.det(x)]])
            if m.name == "logdet":
                return np.array([[np.linalg.slogdet(x)[1]]])
            if m.name == "tr":
                return np.array([[np.trace(x)]])
        raise TypeError(f"cannot compute {type(m).__name__}")

    return go(m)
