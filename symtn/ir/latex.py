"""LaTeX in index (Ricci) notation for any tensor network.

Each tensor prints with its legs as subscripts (``A_{ij} x_{j}``), every contracted leg of a
network under an explicit ``\\sum`` (so hyperedges through copy tensors stay unambiguous), copy
tensors as ``\\delta``, the ones vector as ``\\mathbf{1}``, function bubbles as ``\\exp``,
``\\tanh``, ``\\sigma`` (sigmoid) or ``\\operatorname{name}`` with the legs they act on as a
subscript, and scalar coefficients exactly (sympy's LaTeX printer). Known compositions are
folded back first: ``\\operatorname{softmax}_{s}``, ``\\operatorname{tr}``.

The matrix form (``A^T x + A x``) of networks that are matrix expressions is in
:mod:`symtn.ir.latex_matrix`.
"""

from __future__ import annotations

import itertools
import re

import sympy as sp

from symtn.ir.composite import Bubble, Elementwise, Frozen, Product, Sum, arg_symbols
from symtn.ir.fold import match_softmax
from symtn.ir.leaves import Delta, Iverson, Reshape, Shifted, Tensor, Zero
from symtn.ir.nodes import Node
from symtn.ir.walk import rename_legs

_X0 = arg_symbols(1)[0]
SIGMOID = 1 / (1 + sp.exp(-_X0))
#: scalar rules printed as a named function of their operand
NAMED = {sp.tanh(_X0): "\\tanh", sp.exp(_X0): "\\exp", sp.log(_X0): "\\log", SIGMOID: "\\sigma",
         sp.sin(_X0): "\\sin", sp.cos(_X0): "\\cos"}
GREEK = {"alpha", "beta", "gamma", "delta", "epsilon", "zeta", "eta", "theta", "iota", "kappa", "lambda",
         "mu", "nu", "xi", "pi", "rho", "sigma", "tau", "upsilon", "phi", "chi", "psi", "omega",
         "Gamma", "Delta", "Theta", "Lambda", "Xi", "Pi", "Sigma", "Phi", "Psi", "Omega"}
ATOM, PRODUCT, SUM = 3, 2, 1
LETTERS = "abcdefghpqrstuvwyz"


def readable(node: Node, avoid: frozenset[str] = frozenset()) -> Node:
    """``node`` with machine-made bound legs (``_i3``) renamed to letters used nowhere else in it,
    so that no sum or bubble shadows another's leg names."""
    from collections import Counter

    from symtn.ir.walk import preorder

    nodes = list(preorder(node))
    used = set(avoid) | {leg for n in nodes for leg in n.legs if not leg.startswith("_")}
    bound: Counter[str] = Counter()
    for n in nodes:
        if isinstance(n, Product):
            bound.update(n.wires())
        elif isinstance(n, Bubble):
            bound.update(n.args[2])

    def clash(leg: str) -> bool:  # machine-made, a free leg of the whole, or bound in two scopes
        return leg.startswith("_") or leg in avoid or bound[leg] > 1
    names = (letter + "'" * primes for primes in range(8) for letter in LETTERS)
    memo: dict[Node, Node] = {}

    numbered = (f"k{k}" for k in itertools.count(1))

    def fresh() -> str:
        for name in itertools.chain(names, numbered):  # letters, then k1, k2, ...
            if name not in used:
                used.add(name)
                return name
        raise AssertionError("unreachable")  # pragma: no cover

    def tidy(n: Node) -> Node:
        hit = memo.get(n)
        if hit is not None:
            return hit
        out = n.with_children(tuple(tidy(c) for c in n.children)) if n.children else n
        if isinstance(out, Product):
            mapping = {w: fresh() for w in sorted(out.wires()) if clash(w)}
            if mapping:
                out = Product(*[rename_legs(f, mapping) for f in out.args])
        elif isinstance(out, Bubble) and any(clash(leg) for leg in out.args[2]):
            name, operand, consumed, produced = out.args
            mapping = {w: fresh() for w in consumed if clash(w)}
            out = Bubble(name, rename_legs(operand, mapping), tuple(mapping.get(c, c) for c in consumed),
                         produced)
        memo[n] = out
        return out

    out = tidy(node)
    memo.clear()
    bound.clear()  # a second pass only tidies names that renaming an outer scope made again
    return tidy(out)


def name_tex(name: str) -> str:
    """A tensor name: one letter as is, Greek names as symbols, ``W_Q`` as ``W^{Q}``, ``W1`` as
    ``W^{(1)}``, longer names upright (``\\mathrm{tokens}``)."""
    numbered = re.fullmatch(r"([A-Za-z])([0-9]+)", name)
    if numbered:  # W1, G3: layer or site k as W^{(1)}
        return f"{numbered.group(1)}^{{({numbered.group(2)})}}"
    base, _, sup = name.partition("_")
    if base in GREEK:
        head = "\\" + base
    elif len(base) == 1:
        head = base
    else:
        head = "\\mathrm{" + base.replace("_", "\\_") + "}"
    return head + ("^{" + sup.replace("_", "\\_") + "}" if sup else "")


def leg_tex(leg: str) -> str:
    """A leg name: ``i``, ``i'``, or an upright word with its primes (``\\mathrm{out}'``)."""
    base = leg.rstrip("'")
    primes = leg[len(base):]
    if len(base) == 1:
        return leg
    if re.fullmatch(r"[a-z][0-9]+", base):  # k12 -> k_{12}
        return f"{base[0]}_{{{base[1:]}}}{primes}"
    if base in GREEK:
        return "\\" + base + primes
    return "\\mathrm{" + base.replace("_", "\\_") + "}" + primes


def legs_tex(legs: tuple[str, ...] | list[str]) -> str:
    parts = [leg_tex(leg) for leg in legs]
    sep = "" if all(len(leg.rstrip("'")) == 1 for leg in legs) else ","
    return sep.join(parts)


def sub(legs: tuple[str, ...] | list[str]) -> str:
    return "_{" + legs_tex(legs) + "}" if legs else ""


def scalar_tex(c: sp.Expr) -> str:
    """An exact coefficient or size expression; sizes print as ``|n|``-free symbols (``n``)."""
    return sp.latex(c)


def paren(text: str, prec: int, need: int) -> str:
    return f"\\left({text}\\right)" if prec < need else text


class _Index:
    def tex(self, node: Node) -> tuple[str, int]:
        folded = self.fold(node)
        if folded is not None:
            return folded
        if isinstance(node, Tensor):
            return name_tex(node.name) + sub(node.legs), ATOM
        if isinstance(node, Delta):
            if node.order == 0:
                return scalar_tex(node.dim), ATOM
            if node.order == 1:
                return "\\mathbf{1}" + sub(node.legs), ATOM
            return "\\delta" + sub(node.legs), ATOM
        if isinstance(node, Zero):
            return "0", ATOM
        if isinstance(node, (Shifted, Iverson, Reshape)):
            return self.constant(node), ATOM
        if isinstance(node, Product):
            return self.product(node)
        if isinstance(node, Sum):
            return self.sum(node)
        if isinstance(node, Elementwise):
            return self.elementwise(node)
        if isinstance(node, Bubble):
            name, operand, consumed, produced = node.args
            arg, _ = self.tex(operand)
            made = sub([leg for leg, _ in produced])
            return f"\\operatorname{{{name}}}{sub(consumed)}\\left({arg}\\right){made}", ATOM
        if isinstance(node, Frozen):
            arg, _ = self.tex(node.children[0])
            return f"\\operatorname{{sg}}\\left({arg}\\right)", ATOM
        raise TypeError(f"no LaTeX form for {type(node).__name__}")

    def constant(self, node: Node) -> str:
        text = str(node)  # delta[t, s + 1], iverson[s <= t], reshape tensors: keep the notation
        text = text.replace("<=", "\\le ").replace(">=", "\\ge ").replace("!=", "\\ne ")
        head, _, rest = text.partition("[")
        inner = rest.rsplit("]", 1)[0]
        if head == "iverson":
            return f"[{inner}]"
        return ("\\delta" if head == "delta" else "\\operatorname{" + head + "}") + "_{" + inner + "}"

    def fold(self, node: Node) -> tuple[str, int] | None:
        soft = match_softmax(node)
        if soft is not None:
            operand, ax, names = soft
            arg, _ = self.tex(operand)
            return f"\\operatorname{{softmax}}{sub([names.get(a, a) for a in ax])}\\left({arg}\\right)", ATOM
        if isinstance(node, Product) and len(node.args) == 2:
            d = [f for f in node.args if isinstance(f, Delta) and f.order == 2]
            if len(d) == 1 and set(d[0].legs) == node.wires() and len(node.wires()) == 2:
                other = node.args[0] if node.args[1] is d[0] else node.args[1]
                if not isinstance(other, Delta):
                    arg, _ = self.tex(other)
                    return f"\\operatorname{{tr}}{sub(list(d[0].legs))}\\left({arg}\\right)", ATOM
        return None

    def product(self, node: Product) -> tuple[str, int]:
        if not node.args:
            return "1", ATOM
        wired = node.wires()
        # a ones vector on a contracted leg only says "sum over it": the \\sum shows that
        kept = [f for f in node.args if not (isinstance(f, Delta) and f.order == 1 and f.legs[0] in wired)]
        scalars = [f for f in kept if not f.legs]
        rest = [f for f in kept if f.legs]
        parts = [paren(*self.tex(f), PRODUCT + 1) for f in scalars + rest]
        body = " ".join(parts)
        wires = sorted(node.wires())
        if wires:
            body = "\\sum" + sub(wires) + " " + body
        return body, PRODUCT

    def sum(self, node: Sum) -> tuple[str, int]:
        out = ""
        for k, (c, term) in enumerate(zip(node.coeffs, node.terms, strict=True)):
            text, prec = self.tex(term)
            negative = c.could_extract_minus_sign()
            mag = -c if negative else c
            body = text if mag == 1 else f"{scalar_tex(mag)} {paren(text, prec, PRODUCT + 1)}"
            if k == 0:
                out = ("-" if negative else "") + body
            else:
                out += (" - " if negative else " + ") + body
        return out, SUM

    def elementwise(self, node: Elementwise) -> tuple[str, int]:
        if len(node.operands) == 1 and node.fn in NAMED:
            arg, _ = self.tex(node.operands[0])
            return f"{NAMED[node.fn]}\\left({arg}\\right)", ATOM
        syms = arg_symbols(len(node.operands))
        names = {}
        for s, operand in zip(syms, node.operands, strict=True):
            text, prec = self.tex(operand)
            names[s] = text if prec == ATOM else f"\\left({text}\\right)"
        text = sp.latex(node.fn, symbol_names=names)
        return text, (SUM if node.fn.is_Add else PRODUCT if node.fn.is_Mul else ATOM)


def latex_index(node: Node) -> str:
    """``node`` in index notation (see the module docstring).

    Args:
        node: any expression.

    Returns:
        A LaTeX math-mode string (no surrounding ``$``).
    """
    text, _ = _Index().tex(readable(node, frozenset(node.legs)))
    return re.sub(r" +", " ", text).strip()
