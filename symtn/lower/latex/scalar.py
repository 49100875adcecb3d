"""Scalar sympy expressions (elementwise rules, coefficients) as LaTeX.

Both LaTeX forms print a function bubble's rule through :func:`scalar_latex`, with a callback
that prints the rule's argument symbols ``x0, x1, ...`` (an index expression, or a matrix
expression). In matrix form a product of two arrays is the Hadamard product ``\\odot`` and an
array's power the Hadamard power ``x^{\\circ 2}``; scalars multiply by juxtaposition.

Exact rationals whose denominator divides a power of ten print as decimals (``0.044715``, as the
notation printer does); other constants go through ``sympy.latex`` (``\\frac{1}{2}``, ``\\pi``).
"""

from __future__ import annotations

import re
from collections.abc import Callable

import sympy as sp

from symtn.ir.printer import ADD, ATOM, MUL, NEG, POW, _equality, _gelu_argument, _sides, signed_number

Leaf = Callable[[sp.Symbol], "tuple[str, int]"]

FUNCTIONS = {
    "exp": r"\exp",
    "log": r"\log",
    "tanh": r"\tanh",
    "sin": r"\sin",
    "cos": r"\cos",
    "tan": r"\tan",
    "cosh": r"\cosh",
    "sinh": r"\sinh",
    "atan": r"\arctan",
    "erf": r"\operatorname{erf}",
    "sign": r"\operatorname{sign}",
    "Heaviside": r"\operatorname{step}",
}


GREEK = {
    "alpha", "beta", "gamma", "delta", "epsilon", "zeta", "eta", "theta", "iota", "kappa", "lambda",
    "mu", "nu", "xi", "pi", "rho", "sigma", "tau", "upsilon", "phi", "chi", "psi", "omega",
    "Gamma", "Delta", "Theta", "Lambda", "Xi", "Pi", "Sigma", "Upsilon", "Phi", "Psi", "Omega",
}  # fmt: skip


def name_latex(name: str) -> str:
    """A tensor or size name as a LaTeX atom: one letter as is, Greek names as symbols, ``W_Q``
    as ``W^{Q}``, ``W1`` (layer or site 1) as ``W^{(1)}``, longer names upright
    (``\\mathrm{tokens}``); primes kept."""
    base = name.rstrip("'")
    primes = name[len(base) :]
    numbered = re.fullmatch(r"([A-Za-z])([0-9]+)", base)
    if numbered:
        return f"{numbered.group(1)}^{{({numbered.group(2)})}}" + primes
    head, _, sup = base.partition("_")
    if head in GREEK:
        out = "\\" + head
    elif len(head) == 1:
        out = head
    else:
        out = r"\mathrm{" + head + "}"
    return out + ("^{" + sup.replace("_", r"\_") + "}" if sup else "") + primes


def leg_latex(leg: str) -> str:
    """A leg name: ``i``, ``i'``, ``k_{12}`` for ``k12``, Greek names as symbols, longer names
    upright (``\\mathrm{out}'``)."""
    base = leg.rstrip("'")
    primes = leg[len(base) :]
    if len(base) == 1:
        return leg
    if re.fullmatch(r"[A-Za-z][0-9]+", base):
        return f"{base[0]}_{{{base[1:]}}}{primes}"
    if base in GREEK:
        return "\\" + base + primes
    return r"\mathrm{" + base.replace("_", r"\_") + "}" + primes


def number_latex(x: sp.Expr) -> tuple[str, int]:
    """A number (or a size expression without argument symbols) as LaTeX, with its precedence."""
    found = signed_number(x, lambda p, q: (rf"\frac{{{p}}}{{{q}}}", ATOM))
    if found is not None:
        return found
    text = sp.latex(x)
    return (text, ATOM if x.is_Atom else MUL)


def paren(text: str) -> str:
    """``(text)``; ``\\left(text\\right)`` around tall content (fractions, sums, roots)."""
    if any(tall in text for tall in (r"\frac", r"\sum", r"\sqrt", r"\left")):
        return rf"\left({text}\right)"
    return f"({text})"


def superscript(base: str, sup: str) -> str:
    """``base^{sup}``, braced when ``base`` has a superscript or a prime (``{W^{Q}}^T``)."""
    sup = sup if len(sup) == 1 else f"{{{sup}}}"
    # a superscript of the name itself (W^{Q}, x'), not one inside parentheses
    braced = base.endswith("'") or ("^" in base and not base.endswith((")", r"\right)")))
    return f"{{{base}}}^{sup}" if braced else f"{base}^{sup}"


def wrap(pair: tuple[str, int], need: int) -> str:
    """``text`` in parentheses when its precedence is below ``need``."""
    text, prec = pair
    return text if prec >= need else paren(text)


def scalar_latex(
    expr: sp.Expr, leaf: Leaf, is_array: Callable[[sp.Expr], bool] | None = None
) -> tuple[str, int]:
    """Print ``expr`` as LaTeX; ``leaf`` prints an argument symbol with its precedence.

    Args:
        expr: a sympy expression in argument symbols (and size symbols, numbers).
        leaf: prints an argument symbol ``x0, x1, ...``.
        is_array: in matrix form, tells whether a sub-expression is an array (not a scalar);
            products of arrays print with ``\\odot``, powers with ``\\circ``. ``None``: index form.
    """
    array = is_array or (lambda e: False)

    def go(e: sp.Expr) -> tuple[str, int]:
        if e.is_Symbol:
            if e.name.startswith("x") and e.name[1:].isdigit():  # type: ignore[attr-defined]
                return leaf(e)  # type: ignore[arg-type]
            return name_latex(e.name), ATOM  # type: ignore[attr-defined]
        if e.is_Number or e in (sp.pi, sp.E):
            return number_latex(e)
        if e.is_Add:
            parts = sorted(e.args, key=_term_order)
            out = wrap(go(parts[0]), ADD)
            for a in parts[1:]:
                if a.could_extract_minus_sign():
                    out += " - " + wrap(go(-a), MUL)
                else:
                    out += " + " + wrap(go(a), MUL)
            return out, ADD
        u = _gelu_argument(e)
        if u is not None:
            return rf"\operatorname{{gelu}}{paren(go(u)[0])}", ATOM
        if e.is_Mul:
            return mul(e)
        if e.is_Pow:
            return power(e)
        if isinstance(e, sp.Max) and len(e.args) == 2 and sp.Integer(0) in e.args:
            other = [a for a in e.args if a != 0][0]
            return rf"\operatorname{{relu}}{paren(go(other)[0])}", ATOM
        if isinstance(e, (sp.Max, sp.Min)):
            name = r"\max" if isinstance(e, sp.Max) else r"\min"
            return rf"{name}{paren(', '.join(go(a)[0] for a in e.args))}", ATOM
        if isinstance(e, sp.Abs):
            return rf"\left|{go(e.args[0])[0]}\right|", ATOM
        if isinstance(e, sp.Heaviside) and len(e.args) == 2 and e.args[1] in (0, 1):
            left, right = _sides(e.args[0])
            op = ">" if e.args[1] == 0 else r"\geq"
            return rf"\left[{go(left)[0]} {op} {go(right)[0]}\right]", ATOM
        compared = _equality(e)
        if compared is not None:
            op, (a, b) = compared
            rel = "=" if op == "==" else r"\neq"
            return rf"\left[{go(a)[0]} {rel} {go(b)[0]}\right]", ATOM
        if isinstance(e, sp.Function):
            cls = type(e).__name__
            name = FUNCTIONS.get(cls, rf"\operatorname{{{cls}}}")
            return rf"{name}{paren(', '.join(go(a)[0] for a in e.args))}", ATOM
        return sp.latex(e), ATOM

    def mul(e: sp.Expr) -> tuple[str, int]:
        coeff, rest = e.as_coeff_Mul()
        flip = [f for f in sp.Mul.make_args(rest) if _flips(f)]
        if coeff == -1 and len(flip) == 1:  # -x (x - 1) -> x (1 - x)
            return mul(sp.Mul(*[-f if f is flip[0] else f for f in sp.Mul.make_args(rest)]))
        if coeff.is_negative:
            return "-" + wrap(go(-e), MUL), NEG
        num: list[sp.Expr] = []
        den: list[sp.Expr] = []
        for a in sp.Mul.make_args(e):
            if a.is_Pow and a.exp.is_negative and a.exp.is_Number and not _is_sigmoid(a):  # type: ignore[attr-defined]
                den.append(sp.Pow(a.base, -a.exp))  # type: ignore[attr-defined]
            elif a.is_Rational and not a.is_Integer:
                if a.p != 1:  # type: ignore[attr-defined]
                    num.append(sp.Integer(a.p))  # type: ignore[attr-defined]
                den.append(sp.Integer(a.q))  # type: ignore[attr-defined]
            else:
                num.append(a)
        num.sort(key=lambda a: (not a.is_Number, array(a), sp.default_sort_key(a)))
        text = ""
        for i, a in enumerate(num):
            # in matrix form a product of arrays is \odot: a matrix product inside it gets parentheses
            need = MUL if len(num) > 1 else ADD + 1
            if is_array is not None and array(a) and len(num) > 1:
                need = POW
            piece = wrap(go(a), need)
            if i == 0:
                text = piece
            elif array(a) and array(num[i - 1]):
                text += r" \odot " + piece
            elif a.is_Number or num[i - 1].is_Number and piece[:1].isdigit():
                text += r" \cdot " + piece
            else:
                text += " " + piece
        if den:
            bottom = den[0] if len(den) == 1 else sp.Mul(*den)
            return rf"\frac{{{text or '1'}}}{{{go(bottom)[0]}}}", ATOM
        return text, MUL

    def power(e: sp.Expr) -> tuple[str, int]:
        base, exp = e.args
        if _is_sigmoid(e):
            u = -[t for t in base.args if t != 1][0].args[0]
            sig = rf"\sigma{paren(go(u)[0])}"
            if exp == -1:
                return sig, ATOM
            return superscript(sig, ("\\circ " if array(base) else "") + str(-int(exp))), POW
        if exp.is_Number and exp.is_negative:
            return rf"\frac{{1}}{{{go(sp.Pow(base, -exp))[0]}}}", ATOM
        if exp == sp.Rational(1, 2):
            return rf"\sqrt{{{go(base)[0]}}}", ATOM
        hat = r"\circ " if array(base) else ""
        return superscript(wrap(go(base), ATOM), hat + go(exp)[0]), POW

    return go(expr)


def _is_sigmoid(e: sp.Expr) -> bool:
    """``1 / (1 + exp(-u))^k`` for a positive integer ``k`` (a power of ``sigma(u)``)."""
    if not (e.is_Pow and e.args[1].is_Integer and e.args[1] < 0 and e.args[0].is_Add):
        return False
    terms = e.args[0].args
    return len(terms) == 2 and sp.Integer(1) in terms and any(isinstance(t, sp.exp) for t in terms)


def _flips(f: sp.Expr) -> bool:
    """``x - 1`` reads better negated (``1 - x``): fewer minus terms, or a negative constant."""
    if not f.is_Add:
        return False

    def neg(g: sp.Expr) -> int:
        return sum(bool(t.could_extract_minus_sign()) for t in sp.Add.make_args(g))

    const = f.as_coeff_Add()[0]
    return neg(f) > neg(-f) or (neg(f) == neg(-f) and bool(const.is_negative))


def _term_order(a: sp.Expr) -> tuple[bool, bool, object]:
    """Terms of a sum: numbers first (``1 - s``), then positive terms, then sympy's order."""
    return (not a.is_Number, bool(a.could_extract_minus_sign()), sp.default_sort_key(a))
