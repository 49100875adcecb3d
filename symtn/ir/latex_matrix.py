"""LaTeX in matrix notation, for networks that are matrix expressions (as matrixcalculus.org writes).

A term (a network of scalars, vectors and matrices) is read as chains: from the result's row
leg through matrices (transposed where entered by their column leg) to its column leg, or to a
vector; two chains ending in vectors are an outer product ``u v^T``; a chain between two vectors
is ``u^T M v``. Copy tensors become ``\\operatorname{diag}(v)`` (one vector on them) or Hadamard
products ``u \\odot v``; vectors sharing a copy tensor merge into one elementwise function, and
terms that differ only inside one ``diag`` are added inside it. Elementwise functions of one
vector are recognised by value (sympy): ``\\sigma(u)`` and ``\\sigma(u) \\odot (1 - \\sigma(u))``.
A vector that occurs more than once is named (``p`` for a softmax, ``s`` for a sigmoid) and
defined after the expression: ``\\operatorname{diag}(p) - p p^T, \\quad p = \\operatorname{softmax}(z)``.
Anything else (a tensor of order 3, a copy tensor joining matrices) has no matrix form
(:class:`MatrixFormError`, E219).

Legs: a matrix's rows are its first declared leg, a vector is a column, and the result's rows
are the first leg of ``order``.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field

import sympy as sp

from symtn.errors import SymtnError
from symtn.ir.composite import Bubble, Elementwise, Product, Sum, arg_symbols
from symtn.ir.fold import match_softmax
from symtn.ir.latex import NAMED, SIGMOID, latex_index, name_tex, scalar_tex
from symtn.ir.leaves import Delta, Tensor
from symtn.ir.nodes import Node
from symtn.ir.walk import rename_legs

_X0 = arg_symbols(1)[0]
_FRESH = itertools.count()
RECOGNISED = [(SIGMOID, "\\sigma({u})", "s"), (SIGMOID * (1 - SIGMOID), "{s} \\odot (1 - {s})", None)]


class MatrixFormError(SymtnError):
    """The network is not a matrix expression (E219)."""

    default_code = "E219"


def _fresh() -> str:
    return f"_mx{next(_FRESH)}"


@dataclass
class _Names:
    """Vector atoms that occur more than once get a letter, defined after the expression."""

    texts: dict[str, str] = field(default_factory=dict)  # atom tex -> letter
    wanted: dict[str, str] = field(default_factory=dict)  # atom tex -> preferred letter
    counts: dict[str, int] = field(default_factory=dict)


def _distribute(node: Node) -> list[tuple[sp.Expr, Node]]:
    """``node`` as a sum of (coefficient, non-sum term), pushing product factors into sums."""
    if isinstance(node, Sum):
        pairs = zip(node.coeffs, node.terms, strict=True)
        return [(c * k, t) for c, term in pairs for k, t in _distribute(term)]
    if isinstance(node, Product):
        factors = _flatten(node)
        for pos, f in enumerate(factors):
            if isinstance(f, Sum):
                others = factors[:pos] + factors[pos + 1 :]
                return [(c, t) for k, term in zip(f.coeffs, f.terms, strict=True)
                        for c0, t in _distribute(Product(*others, term)) for c in [c0 * k]]
        return [(sp.Integer(1), Product(*factors))]
    return [(sp.Integer(1), node)]


def _flatten(node: Product) -> list[Node]:
    out: list[Node] = []
    for f in node.args:
        if isinstance(f, Product):
            mapping = {w: _fresh() for w in f.wires()}
            out += _flatten(Product(*[rename_legs(g, mapping) for g in f.args]))
        else:
            out.append(f)
    return out


def _split_powers(factors: list[Node]) -> list[Node]:
    """Scalar ``S^-k`` -> ``k`` factors ``S^-1`` (so that softmax numerators can each take one)."""
    out: list[Node] = []
    for f in factors:
        if isinstance(f, Elementwise) and not f.legs and len(f.operands) == 1:
            e = f.fn
            if e.is_Pow and e.base == _X0 and e.exp.is_Integer and e.exp < -1:
                out += [Elementwise(1 / _X0, f.operands)] * int(-e.exp)
                continue
        out.append(f)
    return out


def _softmaxes(factors: list[Node]) -> list[Node]:
    """Pair each ``exp(z)`` vector with a reciprocal normaliser into ``softmax(z)`` when they are one."""
    out = list(factors)
    for k, f in enumerate(out):
        if not (isinstance(f, Elementwise) and f.fn == sp.exp(_X0) and len(f.legs) == 1):
            continue
        for m, g in enumerate(out):
            if m != k and isinstance(g, Elementwise) and g.fn == 1 / _X0 and not g.legs:
                pair = Product(f, g)
                if match_softmax(pair) is not None:
                    out[k], out[m] = pair, Product()
                    break
    return [f for f in out if not (isinstance(f, Product) and not f.args)]


class _Term:
    """One term: scalars, vectors ``{leg: tex}`` and matrices ``(row, col, tex)``."""

    def __init__(self, printer: _Matrix, factors: list[Node]) -> None:
        self.p = printer
        self.scalars: list[str] = []
        self.vectors: list[tuple[str, Node | None, str]] = []  # (leg, elementwise source, tex)
        self.matrices: list[tuple[str, str, str]] = []
        copies: list[Delta] = []
        for f in factors:
            if not f.legs:
                self.scalars.append(printer.scalar(f))
            elif isinstance(f, Delta) and f.order >= 2:
                copies.append(f)
            elif len(f.legs) == 1:
                self.vectors.append((f.legs[0], f, printer.vector(f)))
            elif len(f.legs) == 2:
                self.matrices.append(printer.matrix(f))
            else:
                raise MatrixFormError(f"{len(f.legs)} legs on one factor: no matrix form ({latex_index(f)})")
        for d in copies:
            self._copy(d)

    def _copy(self, d: Delta) -> None:
        on = [v for v in self.vectors if v[0] in d.legs]
        legs = [leg for leg in d.legs if leg not in {v[0] for v in on}]
        ones = [v for v in on if isinstance(v[1], Delta)]  # a summed leg: drop it
        on = [v for v in on if v not in ones]
        for v in ones + on:
            self.vectors.remove(v)
        if not on:
            if len(legs) == 2:
                self.matrices.append((legs[0], legs[1], "I"))
                return
            if len(legs) == 1:
                self.vectors.append((legs[0], None, "\\mathbf{1}"))
                return
            self.scalars.append(scalar_tex(d.dim))
            return
        body = self.p.hadamard([v[1] for v in on], [v[2] for v in on])
        if len(legs) == 2:
            self.matrices.append((legs[0], legs[1], f"\\operatorname{{diag}}\\left({body}\\right)"))
        elif len(legs) == 1:
            self.vectors.append((legs[0], None, body))
        elif len(legs) == 0:
            self.scalars.append(f"\\mathbf{{1}}^T \\left({body}\\right)")
        else:
            raise MatrixFormError("a copy tensor joins three or more matrices: no matrix form")

    def chain(self, leg: str) -> tuple[list[str], str | None]:
        """Walk from ``leg``: texts of the factors met, and the free leg it ends on (None: a vector)."""
        out: list[str] = []
        while True:
            vec = next((v for v in self.vectors if v[0] == leg), None)
            if vec is not None:
                self.vectors.remove(vec)
                return out + [vec[2]], None
            mat = next((m for m in self.matrices if leg in (m[0], m[1])), None)
            if mat is None:
                return out, leg
            self.matrices.remove(mat)
            if mat[0] == leg:
                out.append(mat[2])
                leg = mat[1]
            else:
                out.append(_transpose(mat[2]))
                leg = mat[0]

    def tex(self, order: tuple[str, ...]) -> str:
        parts: list[str] = []
        if len(order) == 2:
            left, end = self.chain(order[0])
            if end == order[1]:
                parts.append(" ".join(left) or "I")
            else:
                right, _ = self.chain(order[1])
                parts.append(" ".join(left) + " " + " ".join(_transpose(t) for t in reversed(right)))
        elif len(order) == 1:
            left, end = self.chain(order[0])
            parts.append(" ".join(left))
        while self.vectors:  # scalars u^T M v
            leg, _, tex = self.vectors.pop(0)
            rest, end = self.chain(leg)
            if end is not None:
                raise MatrixFormError("a chain ends on a contracted leg: no matrix form")
            parts.insert(0, " ".join([_transpose(tex)] + rest))
        if self.matrices:
            raise MatrixFormError("a closed loop of matrices (a trace) is written in index form")
        return " ".join(self.scalars + parts).strip()


def _plain(e: Elementwise) -> tuple[sp.Expr, Node]:
    """``f(c * u)`` as ``(f(c x0), u)``: a scaled operand moves its scale into the rule."""
    operand, fn = e.operands[0], e.fn
    while isinstance(operand, Sum) and len(operand.terms) == 1:
        fn, operand = fn.subs(_X0, operand.coeffs[0] * _X0), operand.terms[0]
    return fn, operand


def _key(operand: Node) -> str:
    """Equal up to the names of legs: the same vector, wherever it sits in a network."""
    if not operand.legs:
        return latex_index(operand)
    return latex_index(rename_legs(operand, {operand.legs[0]: "_u"}))


def _transpose(tex: str) -> str:
    if tex.startswith("\u0000") and tex.endswith("\u0001") and tex.count("\u0000") == 1:
        return tex + "^T"  # one named atom: p^T once it has its letter
    if tex.endswith("^{-T}"):
        return tex[: -len("^{-T}")] + "^{-1}"
    if tex.endswith("^{-1}") and " " not in tex:
        return tex[: -len("^{-1}")] + "^{-T}"
    if tex.endswith("}^T") and tex.startswith("{"):
        return tex[1:-3]
    if tex.endswith("^T"):
        return tex[:-2]
    if "^" in tex and " " not in tex:  # W^{Q}: a name with a superscript
        return f"{{{tex}}}^T"
    if tex in ("I",):
        return tex
    simple = tex.isalnum() or (tex.startswith("\\") and tex[1:].isalpha()) or tex.endswith("}")
    return f"{tex}^T" if simple and " " not in tex else f"{{\\left({tex}\\right)}}^T"


class _Matrix:
    def __init__(self) -> None:
        self.names = _Names()
        self.records: list[tuple[sp.Expr, Node, str]] = []  # merged diag functions of the current term

    def scalar(self, f: Node) -> str:
        if isinstance(f, Bubble) and f.args[0] in ("det", "logdet"):
            m = self.matrix(f.args[1])
            op = "\\det" if f.args[0] == "det" else "\\log\\det"
            return f"{op}\\left({m[2] if m[0] == f.args[2][0] else _transpose(m[2])}\\right)"
        return latex_index(f)

    def matrix(self, f: Node) -> tuple[str, str, str]:
        if isinstance(f, Tensor):
            return f.legs[0], f.legs[1], name_tex(f.name)
        if isinstance(f, Delta):
            return f.legs[0], f.legs[1], "I"
        if isinstance(f, Bubble) and f.args[0] == "inv":
            _, operand, consumed, produced = f.args
            r, c, tex = self.matrix(operand)
            inner = tex if r == consumed[0] else _transpose(tex)
            # inv[i, j](X) has at i = b, j = a the entry (X^-1)[a, b]: in its leg order, X^-T
            return produced[0][0], produced[1][0], f"{inner}^{{-T}}"
        raise MatrixFormError(f"no matrix form for {latex_index(f)}")

    def vector(self, f: Node) -> str:
        if isinstance(f, Tensor):
            return name_tex(f.name)
        if isinstance(f, Delta):
            return "\\mathbf{1}"
        soft = match_softmax(f)
        if soft is not None:
            operand = soft[0]
            inner = self.expr(operand, operand.legs)
            return self.named(f"\\operatorname{{softmax}}\\left({inner}\\right)", "p")
        if isinstance(f, Elementwise) and len(f.operands) == 1:
            return self.function(f.fn, f.operands[0])
        if isinstance(f, (Sum, Product)):
            text = self.expr(f, f.legs)
            return text if isinstance(f, Product) else f"\\left({text}\\right)"
        raise MatrixFormError(f"no matrix form for the vector {latex_index(f)}")

    def function(self, fn: sp.Expr, operand: Node) -> str:
        u = self.expr(operand, operand.legs)
        for rule, form, letter in RECOGNISED:
            if sp.simplify(fn - rule) == 0:
                s = self.named(f"\\sigma\\left({u}\\right)", "s")
                return self.named(form.format(u=u, s=s), letter) if letter else form.format(u=u, s=s)
        if fn in NAMED:
            return f"{NAMED[fn]}\\left({u}\\right)"
        return sp.latex(fn, symbol_names={_X0: f"\\left({u}\\right)"})

    def hadamard(self, sources: list[Node | None], texts: list[str]) -> str:
        """Vectors on one copy tensor: one elementwise function when they act on one vector."""
        ops = [_plain(s) for s in sources if isinstance(s, Elementwise) and len(s.operands) == 1]
        if len(ops) == len(sources):
            keys = {_key(op) for _, op in ops}
            if len(keys) == 1:
                fn = sp.Mul(*[f for f, _ in ops])
                text = self.function(fn, ops[0][1])
                self.records.append((fn, ops[0][1], text))
                return text
        return " \\odot ".join(texts)

    def named(self, tex: str, letter: str) -> str:
        self.names.counts[tex] = self.names.counts.get(tex, 0) + 1
        self.names.wanted.setdefault(tex, letter)
        return f"\u0000{tex}\u0001"

    def expr(self, node: Node, order: tuple[str, ...]) -> str:
        if len(order) > 2:
            raise MatrixFormError(
                f"{len(order)} free legs [{', '.join(order)}]: a matrix expression has at most two"
            )
        rows: list[tuple[sp.Expr, str]] = []
        groups: dict[tuple[str, str], tuple[sp.Expr, Node]] = {}
        for c, term in _distribute(node):
            factors = _softmaxes(_split_powers(_flatten(term) if isinstance(term, Product) else [term]))
            saved, self.records = self.records, []
            text = _Term(self, factors).tex(tuple(order))
            records, self.records = self.records, saved
            if len(records) == 1 and text.count(records[0][2]) == 1:
                fn, operand, shown = records[0]
                key = (text.replace(shown, "\u0002"), _key(operand))
                if key in groups:
                    total, _ = groups[key]
                    groups[key] = (total + c * fn, operand)
                    continue
                groups[key] = (c * fn, operand)
                rows.append((sp.Integer(1), "\u0003" + repr(key)))
                continue
            rows.append((c, text))
        rows.sort(key=lambda row: row[0].could_extract_minus_sign())  # positive terms first
        out = ""
        for k, (c, text) in enumerate(rows):
            if text.startswith("\u0003"):
                key = next(key for key in groups if "\u0003" + repr(key) == text)
                total, operand = groups[key]
                text = key[0].replace("\u0002", self.function(sp.simplify(total), operand))
            negative = c.could_extract_minus_sign()
            mag = -c if negative else c
            body = text if mag == 1 else f"{scalar_tex(mag)} {text}"
            out += ("-" if negative else "") + body if k == 0 else (" - " if negative else " + ") + body
        return out


def latex_matrix(node: Node, order: tuple[str, ...] | None = None) -> str:
    """``node`` in matrix notation (see the module docstring).

    Args:
        node: an expression with at most two free legs whose factors are scalars, vectors,
            matrices and copy tensors.
        order: the result's legs, rows first (default ``node.legs``).

    Returns:
        A LaTeX math-mode string; repeated vectors are named and defined after ``\\quad``.

    Raises:
        MatrixFormError: E219 when the network is not a matrix expression.
    """
    printer = _Matrix()
    text = printer.expr(node, tuple(order or node.legs))
    return _finish(text, printer.names)


def _finish(text: str, names: _Names) -> str:
    letters: dict[str, str] = {}
    used: set[str] = set()

    def resolve(t: str) -> str:
        for tex in names.wanted:
            t = t.replace(f"\u0000{tex}\u0001", letters.get(tex, tex))
        return t

    for tex in names.wanted:
        if text.count(f"\u0000{tex}\u0001") > 1:
            letter = names.wanted[tex]
            while letter in used:
                letter += "'"
            used.add(letter)
            letters[tex] = letter
    for _ in range(4):  # atoms nest (s inside s (1 - s)): resolve inside out
        text = resolve(text)
    defs = [f"{letter} = {resolve(resolve(tex))}" for tex, letter in letters.items()]
    return text + "".join(f", \\quad {d}" for d in defs)


def latex(node: Node, form: str = "auto", order: tuple[str, ...] | None = None) -> str:
    """LaTeX for an expression: matrix notation where it is a matrix expression, else index notation.

    Args:
        node: any expression (simplify it first for the shortest form).
        form: ``"auto"`` (matrix form when the network has one, index form otherwise),
            ``"matrix"`` or ``"index"``.
        order: the result's legs, rows first, for the matrix form (default ``node.legs``).

    Returns:
        A LaTeX math-mode string, e.g. ``X^T \\operatorname{diag}\\left(s \\odot (1 - s)\\right) X,
        \\quad s = \\sigma\\left(X w\\right)`` for a logistic-regression Hessian.

    Raises:
        MatrixFormError: E219 with ``form="matrix"`` when the network is not a matrix expression.
        ValueError: for an unknown ``form``.
    """
    if form == "index":
        return latex_index(node)
    if form == "matrix":
        return latex_matrix(node, order)
    if form != "auto":
        raise ValueError(f"unknown LaTeX form {form!r}; use auto, matrix or index")
    try:
        return latex_matrix(node, order)
    except MatrixFormError:
        return latex_index(node)
