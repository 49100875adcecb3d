"""Texts of a diagram: metrics, escaping for XML and LaTeX, displayed leg names, bubble labels
and sum coefficients.

Diagrams use a monospace font, so a label's width is its length times a fixed advance; this
keeps the layout independent of any font machinery and identical on every machine.
"""

from __future__ import annotations

import re
import unicodedata

import sympy as sp

from symtn.ir.nodes import Node, Sum
from symtn.ir.printer import ATOM, scalar_str, size_expr_str

FONT = "DejaVu Sans Mono, Menlo, Consolas, monospace"
ADVANCE = 0.61
"""Width of one monospace character per unit of font size."""


def text_width(text: str, size: float) -> float:
    """Rendered width of ``text`` at font ``size`` (pixels)."""
    wide = sum(1 for ch in text if unicodedata.east_asian_width(ch) in ("W", "F"))
    return (len(text) + wide) * size * ADVANCE


def xml_escape(text: str) -> str:
    """Escape text for XML content and attribute values."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace('"', "&quot;")


_TEX = {
    "_": r"\_",
    "^": r"\^{}",
    "|": r"\textbar{}",
    "&": r"\&",
    "%": r"\%",
    "#": r"\#",
    "$": r"\$",
    "{": r"\{",
    "}": r"\}",
    "~": r"\~{}",
    "\\": r"\textbackslash{}",
    "·": r"$\cdot$",
    "−": "-",
    "→": r"$\to$",
    "≤": r"$\le$",
    "≥": r"$\ge$",
    "≠": r"$\ne$",
    "∂": r"$\partial$",
    "×": r"$\times$",
    "δ": r"$\delta$",
    "Σ": r"$\Sigma$",
}


def tex_escape(text: str) -> str:
    """Escape text for pdflatex; Greek letters become math symbols (``σ`` -> ``$\\sigma$``)."""
    out = []
    for ch in text:
        if ch in _TEX:
            out.append(_TEX[ch])
        elif ch.isascii():
            out.append(ch)
        else:
            out.append(_greek(ch))
    return "".join(out)


_CAPITALS = ("Gamma", "Delta", "Theta", "Lambda", "Xi", "Pi", "Sigma", "Upsilon", "Phi", "Psi", "Omega")


def _greek(ch: str) -> str:
    name = unicodedata.name(ch, "")
    if not name.startswith("GREEK ") or " LETTER " not in name:
        return "?"
    word = name.rsplit(" ", 1)[1].lower().replace("lamda", "lambda")
    if "SMALL" in name:
        return "$\\" + word + "$" if word != "omicron" else "o"
    cap = word.capitalize()
    return "$\\" + cap + "$" if cap in _CAPITALS else cap[0]


class Namer:
    """Display names of legs: user names as written; bound names the engine made up (``_k3``,
    ``_k17``) show as their base (``k``), primed when two different legs would look alike
    (``k``, ``k'``, ``k''``); bare counters (``_7``) show as nothing."""

    def __init__(self, reserved: set[str]) -> None:
        self.reserved = reserved
        self.names: dict[str, str] = {}
        self.used: set[str] = set()

    @staticmethod
    def base(name: str) -> str:
        """The leg's family name without any priming (what a wire is labelled with)."""
        return re.sub(r"\d+$", "", name.lstrip("_")) if name.startswith("_") else name

    def __call__(self, name: str) -> str:
        if not name.startswith("_"):
            return name
        hit = self.names.get(name)
        if hit is None:
            base = re.sub(r"\d+$", "", name.lstrip("_"))
            hit = base
            while base and (hit in self.used or hit in self.reserved):
                hit += "'"
            self.names[name] = hit
            self.used.add(hit)
        return hit


def fn_label(fn: sp.Expr, k: int) -> str:
    """A bubble's label: ``tanh`` for ``tanh(x0)``, else the rule in ``x`` (``x^2``, ``x0 / x1``)."""
    if k == 1:  # a named function of the argument alone: just its name
        whole = scalar_str(fn, lambda s: ("x", ATOM))[0]
        if re.fullmatch(r"[A-Za-z_]\w*\(x\)", whole):
            return whole[:-3]
    names = ["x"] if k == 1 else [f"x{i}" for i in range(k)]

    def text(e: sp.Expr) -> str:
        return scalar_str(e, lambda s: (names[int(s.name[1:])], ATOM))[0]

    num, den = sp.fraction(fn)
    if den == 1:
        return text(fn)
    return f"{text(num)}/" + (text(den) if den.is_Symbol or den.is_Function else f"({text(den)})")


def fact_text(arg: object) -> str:
    """A declared fact's argument as written: ``k`` or ``(i, j)``."""
    if isinstance(arg, tuple):
        return "(" + ", ".join(map(str, arg)) + ")" if len(arg) > 1 else str(arg[0])
    return str(arg)


def flatten_sum(node: Sum) -> list[tuple[sp.Expr, Node]]:
    """The terms of a sum with nested sums spliced in (coefficients multiplied)."""
    out: list[tuple[sp.Expr, Node]] = []
    for c, t in zip(node.coeffs, node.terms, strict=True):
        if isinstance(t, Sum):
            out.extend((c * c2, t2) for c2, t2 in flatten_sum(t))
        else:
            out.append((c, t))
    return out


def coeff_text(c: sp.Expr, first: bool, alone: bool) -> str:
    """The text before a term: ``""``, ``"−"``, ``"+ 2"``, ``"− 1/|b|"``; ``alone`` for a bare number."""
    neg = bool(c.could_extract_minus_sign())
    mag = -c if neg else c
    num, den = sp.fraction(mag)
    body = size_expr_str(num)[0] + (f"/{size_expr_str(den)[0]}" if den != 1 else "")
    body = "" if mag == 1 and not alone else body
    sign = ("−" if neg else "") if first else ("− " if neg else "+ ")
    return (sign + body).strip() if first else (sign + body).rstrip()
