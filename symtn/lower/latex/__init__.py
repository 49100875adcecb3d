"""LaTeX output (docs/reference/latex.md): index form for any network, matrix form where it is one.

* **Index form** (:mod:`symtn.lower.latex.index`): Einstein/Ricci notation, ``A_{ij} x_{j}``.
* **Matrix form** (:mod:`symtn.lower.latex.mconvert`, :mod:`~symtn.lower.latex.mtidy`,
  :mod:`~symtn.lower.latex.mtree`): ``A^T x + A x``, ``\\operatorname{diag}(p) - p p^T``,
  ``X^T \\operatorname{diag}(s \\odot (1 - s)) X``, when every part has at most two legs and the
  wiring forms chains, traces, Hadamard and outer products.

Both print the simplified expression; the matrix form also tries the path expansion (a sum
under a network may hide a matrix form) and may name sub-expressions after earlier bindings.
"""

from __future__ import annotations

import dataclasses
import functools
import textwrap
from collections.abc import Mapping, Sequence
from typing import Any

import sympy as sp

from symtn.errors import MatrixFormError, SymtnError
from symtn.ir.composite import arg_symbols
from symtn.ir.nodes import Node, Tensor
from symtn.lower.latex.index import index_latex
from symtn.lower.latex.mconvert import Item, convert
from symtn.lower.latex.mtree import Add, Const, Func, M, Named, Sym, T, is_scalar, render, tr, transposes
from symtn.lower.latex.scalar import name_latex
from symtn.rewrite import expand, simplify

FORMS = ("auto", "index", "matrix")
MAX_TERMS = 200
"""Term budget of the path expansion tried for the matrix form."""

__all__ = ["FORMS", "MatrixFormError", "latex", "matrix_tree"]


def _map(m: M, f: Any) -> M:
    """``m`` with ``f`` applied to each child expression."""
    changes: dict[str, Any] = {}
    for field in dataclasses.fields(m):
        v = getattr(m, field.name)
        if isinstance(v, M):
            changes[field.name] = f(v)
        elif isinstance(v, tuple) and v and isinstance(v[0], M):
            changes[field.name] = tuple(f(x) for x in v)
        elif isinstance(v, tuple) and v and isinstance(v[0], tuple) and isinstance(v[0][1], M):
            changes[field.name] = tuple((c, f(x)) for c, x in v)
    return dataclasses.replace(m, **changes) if changes else m


def _term_key(term: tuple[sp.Expr, M]) -> tuple[bool, int, str]:
    """Positive terms first, then more transposes first (``A^T x + A x``), then by text."""
    c, m = term
    return (bool(c.could_extract_minus_sign()), -transposes(m), render(m)[0])


def _finish(m: M, named: list[tuple[str, M]], root: bool = True) -> M:
    if not root:
        for name, tree in named:
            if m == tree:
                return Named(name, tree)
            if m == tr(tree) and not isinstance(m, Const):
                return T(Named(name, tree))
    out = _map(m, lambda x: _finish(x, named, root=False))
    if isinstance(out, T) and isinstance(out.x, T):
        out = out.x.x
    if isinstance(out, T) and isinstance(out.x, Func):  # exp(A^T)^T -> exp(A)
        inner = Func(out.x.fn, tuple(tr(o) for o in out.x.ops))
        if transposes(inner) < transposes(out):
            out = inner
    if isinstance(out, Add):
        out = Add(tuple(sorted(out.terms, key=_term_key)))
    if isinstance(out, Func):
        out = _name_in_rule(out, named)
        arrays = [o for o in out.ops if not is_scalar(o)]
        if arrays and all(isinstance(o, T) for o in arrays):  # exp(A^T) -> exp(A)^T
            out = T(Func(out.fn, tuple(tr(o) for o in out.ops)))
    return out


def _name_in_rule(m: Func, named: list[tuple[str, M]]) -> Func:
    """Named elementwise functions inside a merged rule: ``\\log(1 - \\sigma(X w))`` -> ``\\log(1 - s)``."""
    fn, ops = m.fn, list(m.ops)
    for name, tree in named:
        if not isinstance(tree, Func) or not all(o in ops for o in tree.ops):
            continue
        args = arg_symbols(len(ops))
        pairs = zip(arg_symbols(len(tree.ops)), tree.ops, strict=True)
        own = tree.fn.xreplace({x: args[ops.index(o)] for x, o in pairs})
        if fn.has(own) and own != fn:
            new = sp.Symbol(f"x{len(ops)}", real=True)
            fn, ops = fn.subs(own, new), [*ops, Named(name, tree)]
    if fn is m.fn:
        return m
    used = [i for i, x in enumerate(arg_symbols(len(ops))) if fn.has(x)]
    ren = {arg_symbols(len(ops))[i]: sp.Symbol(f"x{k}", real=True) for k, i in enumerate(used)}
    return Func(fn.xreplace(ren), tuple(ops[i] for i in used))


@functools.lru_cache(maxsize=1024)  # nodes are hash-consed; earlier bindings are converted often
def _convert(node: Node, simplified: bool = True) -> Item:
    try:
        return convert(simplify(node) if simplified else node)
    except MatrixFormError as first:
        if not simplified:
            raise
        try:
            return convert(expand(node, max_terms=MAX_TERMS))
        except SymtnError:
            raise first from None


def matrix_tree(
    expr: Node,
    order: Sequence[str] | None = None,
    names: Mapping[str, Node] | None = None,
    simplified: bool = True,
) -> M:
    """The matrix expression of ``expr``: rows along ``order[0]`` (default ``expr.legs``), columns
    along ``order[1]``; vectors are columns. Sub-expressions equal to a value in ``names``
    (or its transpose) become that name. ``simplified=False`` converts ``expr`` as written.

    Raises:
        MatrixFormError: E219 when ``expr`` is not a matrix expression (says which part).
    """
    order = tuple(order or expr.legs)
    item = _convert(expr, simplified)
    m = item.oriented(*(list(order) + [None, None])[:2])  # type: ignore[arg-type]
    named: list[tuple[str, M]] = []
    for name, value in (names or {}).items():
        if isinstance(value, Tensor) or len(value.legs) > 2:
            continue
        try:
            tree = _convert(value).oriented(*(list(value.legs) + [None, None])[:2])  # type: ignore[arg-type]
        except SymtnError:
            continue
        if not isinstance(tree, (Sym, Const)):
            named.append((name, tree))
    named.sort(key=lambda nt: -len(repr(nt[1])))  # larger sub-expressions first
    return _finish(m, named)


def latex(
    expr: Node,
    form: str = "auto",
    *,
    order: Sequence[str] | None = None,
    names: Mapping[str, Node] | None = None,
    simplified: bool = True,
) -> str:
    """``expr`` (simplified) as LaTeX math.

    Args:
        expr: any expression.
        form: ``"index"`` (Einstein notation, any network), ``"matrix"`` (matrix notation) or
            ``"auto"`` (matrix notation when ``expr`` is a matrix expression, else index).
        order: the leg order of the result (rows, columns); default ``expr.legs``.
        names: name -> expression; in matrix form, sub-expressions equal to one of these print
            as its name (``symtn latex`` passes the program's earlier bindings).
        simplified: print ``simplify(expr)`` (default) or ``expr`` as written.

    Returns:
        The LaTeX text (no surrounding ``$``).

    Raises:
        MatrixFormError: E219 with ``form="matrix"`` when ``expr`` has no matrix form (a part
            with three or more legs, a copy tensor joining three matrix legs...).
        SymtnError: E300 for an unknown ``form``.
    """
    if form not in FORMS:
        raise SymtnError(f"unknown LaTeX form {form!r}", code="E300", help="auto, index or matrix")
    if form != "index":
        try:
            return render(matrix_tree(expr, order, names, simplified))[0]
        except MatrixFormError:
            if form == "matrix":
                raise
    return index_latex(simplify(expr) if simplified else expr)


def binding_latex(prog: Any, name: str, form: str = "auto", simplified: bool = True) -> str:
    """A program binding as LaTeX (what ``symtn latex FILE NAME`` prints).

    Args:
        prog: a :class:`symtn.Program`.
        name: one of its bindings; its documented leg order gives rows and columns.
        form: ``"auto"``, ``"index"`` or ``"matrix"`` (see :func:`latex`).
        simplified: ``False`` prints the binding as written (``--as-written``).

    Earlier bindings name the sub-expressions they equal (matrix form). Raises as :func:`latex`.
    """
    names: dict[str, Node] = {}
    for other in prog.bindings:
        if other == name:
            break
        names[other] = prog[other]
    return latex(prog[name], form, order=prog.order(name), names=names, simplified=simplified)


def document(lines: Sequence[tuple[str, str]]) -> str:
    """A small LaTeX document (article, amsmath) with one display equation ``name = latex`` per
    pair, its source lines wrapped at spaces so that pdflatex reads any length."""
    # short source lines (TeX reads a line into a fixed buffer; a newline in math is a space)
    body = "\n".join(
        textwrap.fill(f"\\[ {name_latex(n)} = {tex} \\]", 100, break_long_words=False, break_on_hyphens=False)
        for n, tex in lines
    )
    return (
        "\\documentclass{article}\n\\usepackage{amsmath,amssymb}\n\\begin{document}\n"
        f"{body}\n\\end{{document}}\n"
    )
