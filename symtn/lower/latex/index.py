"""Index (Einstein/Ricci) form: any network as LaTeX with its legs as subscripts.

A tensor prints with its legs as subscripts (``A_{ij} x_{j}``); a leg shared by two factors
of a network is summed by the Einstein convention. Sums the convention cannot express are
written out: a leg summed against the all-ones vector prints as ``\\sum_{j}`` over the rest of
the network, ``sum[j](...)`` as ``\\sum_{j}``. Copy tensors print as Kronecker deltas
``\\delta_{ijk}``, function bubbles as ``\\exp``, ``\\log``, ``\\tanh``, ``\\sigma`` or
``\\operatorname{name}``. Known compositions fold back to their builtins exactly as the notation
printer folds them (``\\operatorname{softmax}_{i}``, ``\\operatorname{logsumexp}_{i}``,
``\\operatorname{tr}``, ``\\operatorname{gelu}``, ``\\operatorname{layernorm}_{d}``). Bound legs get
fresh letters that no free leg, tensor or size uses.
"""

from __future__ import annotations

import sympy as sp

from symtn.ir.fold import match_logsumexp, match_softmax, match_trace
from symtn.ir.nodes import (
    ONE,
    Bubble,
    Delta,
    Elementwise,
    Frozen,
    Iverson,
    Node,
    Product,
    Reshape,
    Shifted,
    Sum,
    Tensor,
    Zero,
)
from symtn.ir.printer import FOLDS, leg_names
from symtn.lower.latex.scalar import (
    ADD,
    ATOM,
    MUL,
    NEG,
    leg_latex,
    name_latex,
    number_latex,
    paren,
    scalar_latex,
    superscript,
    wrap,
)

FRESH = "jklmnpqrstuvwabcdefgh"
IVERSON_TEX = {"<": "<", "<=": r"\leq", ">": ">", ">=": r"\geq", "==": "=", "!=": r"\neq"}
NAMED_BUBBLES = {"max": r"\max", "min": r"\min", "det": r"\det", "logdet": r"\log\det", "sum": r"\sum"}


def subscripts(legs: list[str]) -> str:
    """``ij`` for one-letter legs, ``i, j_{1}`` otherwise (already LaTeX names)."""
    simple = all(len(leg.rstrip("'")) == 1 for leg in legs)
    return ("" if simple else ", ").join(legs)


def size_latex(size: sp.Expr) -> tuple[str, int]:
    """A size or coefficient expression (``n``, ``\\frac{1}{n}``)."""
    if not size.free_symbols:
        return number_latex(size)
    return scalar_latex(size, lambda s: (name_latex(s.name), ATOM))


class IndexPrinter:
    """Prints IR nodes in index notation; bound legs get fresh letters not used in ``avoid``."""

    def __init__(self, avoid: set[str], free: tuple[str, ...] = ()) -> None:
        self.avoid = avoid
        self.free = {leg_latex(leg) for leg in free}
        self.count = 0

    def fresh(self) -> str:
        while True:
            k = self.count
            self.count += 1
            name = FRESH[k % len(FRESH)] + "'" * (k // len(FRESH))
            if name not in self.avoid:
                return name

    def legs(self, legs: tuple[str, ...] | list[str], env: dict[str, str]) -> list[str]:
        return [env.get(leg) or leg_latex(leg) for leg in legs]

    def sub(self, legs: tuple[str, ...] | list[str], env: dict[str, str]) -> str:
        return f"_{{{subscripts(self.legs(legs, env))}}}" if legs else ""

    def bind(self, legs: list[str] | tuple[str, ...] | frozenset[str], env: dict[str, str]) -> dict[str, str]:
        """Names for bound legs: the user's own name when it is free in this scope, else fresh."""
        scope = dict(env)
        taken = set(env.values()) | self.free
        for leg in sorted(legs):
            mine = leg_latex(leg)
            scope[leg] = mine if not leg.startswith("_") and mine not in taken else self.fresh()
            taken.add(scope[leg])
        return scope

    def operator(self, name: str, legs: list[str], args: list[Node], env: dict[str, str]) -> str:
        inner = ", ".join(self.pr(a, env)[0] for a in args)
        return rf"\operatorname{{{name}}}{self.sub(legs, env)}{paren(inner)}"

    def fold(self, node: Node, env: dict[str, str]) -> str | None:
        lse = match_logsumexp(node)
        if lse is not None:
            scope = self.bind(lse[0], env)
            return self.operator("logsumexp", lse[0], [lse[1]], scope)
        soft = match_softmax(node)
        if soft is not None:
            operand, ax, names = soft
            scope = dict(env)
            scope.update({leg: env.get(names[leg]) or leg_latex(names[leg]) for leg in operand.legs})
            return self.operator("softmax", ax, [operand], scope)
        tr = match_trace(node)
        if tr is not None:
            legs, operand = tr
            if isinstance(operand, Tensor) and len(operand.legs) == 2:
                return rf"\operatorname{{tr}}{paren(name_latex(operand.name))}"
            return self.operator("tr", legs, [operand], self.bind(legs, env))
        if node.children:
            for hook in FOLDS:
                found = hook(node)
                if found is not None:
                    name, axes, args = found
                    return self.operator(name, axes or [], args, env)
        return None

    def pr(self, node: Node, env: dict[str, str]) -> tuple[str, int]:
        """``(LaTeX, precedence)`` of ``node``; ``env`` maps IR legs to printed leg names."""
        if isinstance(node, Tensor):
            return name_latex(node.name) + self.sub(node.args[2], env), ATOM
        if isinstance(node, Delta):
            if node.order == 0:
                return size_latex(node.dim)
            head = r"\mathbf{1}" if node.order == 1 else r"\delta"
            return head + self.sub(node.legs, env), ATOM
        if isinstance(node, Shifted):
            _, a, b, k = node.args
            pa, pb = self.legs((a, b), env)
            off = f" + {k}" if k > 0 else (f" - {-k}" if k < 0 else "")
            return rf"\delta_{{{pa}, {pb}{off}}}", ATOM
        if isinstance(node, Iverson):
            _, a, op, b = node.args
            pa, pb = self.legs((a, b), env)
            return rf"\left[{pa} {IVERSON_TEX[op]} {pb}\right]", ATOM
        if isinstance(node, Zero):
            return "0", ATOM
        if isinstance(node, Reshape):
            parts = ", ".join(self.legs([leg for leg, _ in node.parts], env))
            return rf"\left[{self.legs([node.whole[0]], env)[0]} = ({parts})\right]", ATOM
        folded = self.fold(node, env)
        if folded is not None:
            return folded, ATOM
        if isinstance(node, Product):
            return self.product(node, env)
        if isinstance(node, Sum):
            return self.sum(node, env)
        if isinstance(node, Elementwise):
            ops = [self.pr(o, env) for o in node.operands]
            return scalar_latex(node.fn, lambda s: ops[int(s.name[1:])])
        if isinstance(node, Bubble):
            return self.bubble(node, env)
        if isinstance(node, Frozen):
            return rf"\operatorname{{frozen}}{paren(self.pr(node.inner, env)[0])}", ATOM
        raise TypeError(f"cannot print {type(node).__name__}")

    def product(self, node: Product, env: dict[str, str]) -> tuple[str, int]:
        if node is ONE:
            return "1", ATOM
        scope = self.bind(node.wires(), env)
        # a wire to the all-ones vector is a sum over the other factor's leg: \sum_{j} written out
        ones = [f for f in node.args if isinstance(f, Delta) and f.order == 1 and f.legs[0] in node.wires()]
        summed = [f.legs[0] for f in ones]
        coeffs: list[str] = []
        parts: list[str] = []
        for f in node.args:
            if f in ones:
                continue
            text, prec = self.pr(f, scope)
            if not f.sig and prec >= ATOM:
                coeffs.append(text)
            else:
                parts.append(text if prec >= MUL and not text.startswith("-") else paren(text))
        body = " ".join(coeffs + parts) or "1"
        if summed:
            return rf"\sum_{{{subscripts(self.legs(sorted(summed), scope))}}} {body}", ADD
        return body, (MUL if len(coeffs) + len(parts) > 1 else ATOM)

    def sum(self, node: Sum, env: dict[str, str]) -> tuple[str, int]:
        out = ""
        pairs = sorted(
            zip(node.coeffs, node.terms, strict=True), key=lambda ct: bool(ct[0].could_extract_minus_sign())
        )
        for i, (c, term) in enumerate(pairs):
            neg = bool(c.could_extract_minus_sign())
            mag = -c if neg else c
            if term is ONE:
                text = wrap(size_latex(mag), MUL)
            else:
                text_t, prec_t = self.pr(term, env)
                if mag == 1:
                    text = text_t if prec_t > ADD else paren(text_t)
                else:
                    body = text_t if prec_t >= MUL else paren(text_t)
                    text = wrap(size_latex(mag), NEG) + " " + body
            if i == 0:
                out = f"-{text}" if neg else text
            else:
                out += f" - {text}" if neg else f" + {text}"
        return out, (ADD if len(node.terms) > 1 or out.startswith("-") else MUL)

    def bubble(self, node: Bubble, env: dict[str, str]) -> tuple[str, int]:
        if node.name == "inv":  # inv produces the legs it consumes, under the produced names
            scope = dict(env)
            for c, (p, _) in zip(node.consumed, node.produced, strict=True):
                scope[c] = env.get(p) or leg_latex(p)
            op = node.operand
            if isinstance(op, Tensor) and set(op.legs) == set(node.consumed):
                legs = [scope[leg] for leg in op.args[2]][::-1]  # entry (i = c, j = r) is (X^-1)_{rc}
                inverse = superscript(name_latex(op.name), "-1")
                return rf"({inverse})_{{{subscripts(legs)}}}", ATOM
            inner = self.pr(op, self.bind(node.consumed, env))[0]
            sub = subscripts([scope[c] for c in node.consumed])
            return rf"\operatorname{{inv}}{paren(inner)}_{{{sub}}}", ATOM
        op = node.operand
        if node.name in ("det", "logdet") and isinstance(op, Tensor) and set(op.legs) == set(node.consumed):
            return rf"{NAMED_BUBBLES[node.name]}({name_latex(op.name)})", ATOM
        scope = self.bind(node.consumed, env)
        inner, prec = self.pr(op, scope)
        sub = self.sub(node.consumed, scope)
        if node.name == "sum":
            return rf"\sum{sub} {wrap((inner, prec), MUL)}", ADD
        head = NAMED_BUBBLES.get(node.name, r"\operatorname{" + node.name.replace("_", r"\_") + "}")
        return rf"{head}{sub}{paren(inner)}", ATOM


def index_latex(node: Node) -> str:
    """``node`` in index notation (free legs keep their names, bound legs get fresh letters)."""
    return IndexPrinter(leg_names(node), node.legs).pr(node, {})[0]
