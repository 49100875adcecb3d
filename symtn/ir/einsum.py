"""Einsum strings: build a tensor network from ``"ij,jk->ik"`` and print a network as one.

Letters are bound positionally to each operand's legs in the operand's leg order (for a
declared tensor, its declared order). A letter on two legs is a wire; a letter on three or more
legs (or on an output leg and two inputs) is a copy tensor (hyperedge), as in numpy. Without
``->`` the output is numpy's implicit one: the letters that appear once, sorted. Each output
letter takes the leg name of the first operand leg it was bound to, and the result's legs are in
output order.
"""

from __future__ import annotations

import string
from collections.abc import Sequence

import sympy as sp

from symtn.errors import LegError, SizeError, Span, SymtnError, SymtnSyntaxError
from symtn.ir.composite import Product
from symtn.ir.leaves import Delta, Tensor
from symtn.ir.nodes import Node
from symtn.ir.walk import fresh, rename_legs

_LETTERS = set(string.ascii_letters)


def _err(
    cls: type[SymtnError], msg: str, spec: str, start: int, end: int, code: str, hint: str
) -> SymtnError:
    span = Span(1, start + 1, 1, end + 1, spec)
    return cls(msg, code=code, span=span, help=hint)


def parse_spec(spec: str, n_ops: int) -> tuple[list[tuple[str, int]], tuple[str, int] | None]:
    """Split an einsum string into operand terms and the output term, each with its offset.

    Raises:
        SymtnSyntaxError: E001 on a character other than letters, ``,``, ``->`` and spaces,
            a second ``->`` or a wrong operand count.
    """
    for pos, ch in enumerate(spec):
        if ch not in _LETTERS and ch not in ",-> ":
            raise _err(
                SymtnSyntaxError,
                f"einsum string has a bad character {ch!r}",
                spec,
                pos,
                pos + 1,
                "E001",
                "use letters a-z A-Z, commas between operands and one ->",
            )
    arrow = spec.find("->")
    if arrow >= 0 and spec.find("->", arrow + 2) >= 0:
        second = spec.find("->", arrow + 2)
        raise _err(
            SymtnSyntaxError,
            "einsum string has two ->",
            spec,
            second,
            second + 2,
            "E001",
            "write one output after a single ->",
        )
    lhs = spec if arrow < 0 else spec[:arrow]
    for pos, ch in enumerate(spec):
        if ch in "->" and not (arrow >= 0 and arrow <= pos <= arrow + 1):
            raise _err(
                SymtnSyntaxError,
                f"einsum string has a stray {ch!r}",
                spec,
                pos,
                pos + 1,
                "E001",
                "-> separates the inputs from the output",
            )
    terms: list[tuple[str, int]] = []
    start = 0
    for part in lhs.split(","):
        terms.append((part.replace(" ", ""), start + len(part) - len(part.lstrip())))
        start += len(part) + 1
    if len(terms) != n_ops:
        raise _err(
            SymtnError,
            f"einsum string names {len(terms)} operand(s) but {n_ops} were given",
            spec,
            0,
            len(lhs.rstrip()) or 1,
            "E102",
            "one comma-separated term per operand",
        )
    out = None
    if arrow >= 0:
        rest = spec[arrow + 2 :]
        if "," in rest:
            pos = arrow + 2 + rest.index(",")
            raise _err(
                SymtnSyntaxError,
                "einsum output has a comma",
                spec,
                pos,
                pos + 1,
                "E001",
                "the output is a single term",
            )
        out = (rest.replace(" ", ""), arrow + 2 + len(rest) - len(rest.lstrip()))
    return terms, out


def einsum(spec: str, *operands: Node) -> Node:
    """The network that ``numpy.einsum(spec, *operands)`` computes, with named legs.

    Args:
        spec: an einsum string such as ``"ij,jk->ik"``; ``->`` is optional (implicit mode: the
            letters that appear once, sorted).
        operands: one node per term; letters bind to ``node.legs`` in order (a tensor's declared
            leg order).

    Returns:
        A product of the operands (legs renamed apart) and copy tensors, one per letter. Output
        letter ``a`` becomes the leg name of the first operand leg bound to ``a``.

    Raises:
        SymtnSyntaxError: E001, bad characters or layout (caret on the string).
        LegError: E102 operand count or letter count against leg count; E205 output letter not
            among the inputs or repeated; E207 two output letters give the same leg name.
        SizeError: E201 when one letter binds legs of different sizes.
    """
    terms, out = parse_spec(spec, len(operands))
    occ: dict[str, list[tuple[str, sp.Expr]]] = {}
    first: dict[str, tuple[str, sp.Expr, int]] = {}
    renamed: list[Node] = []
    for (term, pos), op in zip(terms, operands, strict=True):
        if len(term) != len(op.legs):
            raise _err(
                LegError,
                f"einsum term {term!r} has {len(term)} letter(s) but the operand has "
                f"{len(op.legs)} leg(s) [{', '.join(op.legs)}]",
                spec,
                pos,
                pos + max(1, len(term)),
                "E102",
                "one letter per leg, in the operand's leg order",
            )
        mapping: dict[str, str] = {}
        for k, (letter, (leg, size)) in enumerate(zip(term, op.sig, strict=True)):
            if letter in first and first[letter][1] != size:
                raise _err(
                    SizeError,
                    f"einsum letter {letter} joins sizes {first[letter][1]} and {size}",
                    spec,
                    pos + k,
                    pos + k + 1,
                    "E201",
                    "a letter must bind legs of one size",
                )
            first.setdefault(letter, (leg, size, pos + k))
            mapping[leg] = fresh(letter)
            occ.setdefault(letter, []).append((mapping[leg], size))
        renamed.append(rename_legs(op, mapping) if mapping else op)
    if out is None:
        counts = {a: len(v) for a, v in occ.items()}
        out_letters = "".join(sorted(a for a, c in counts.items() if c == 1))
        out_pos = len(spec)
    else:
        out_letters, out_pos = out
    names: dict[str, str] = {}
    for k, letter in enumerate(out_letters):
        if letter not in occ or letter in names:
            why = "is not among the inputs" if letter not in occ else "appears twice"
            raise _err(
                LegError,
                f"einsum output letter {letter} {why}",
                spec,
                out_pos + k,
                out_pos + k + 1,
                "E205",
                "each output letter once, from the inputs",
            )
        leg = first[letter][0]
        if leg in names.values():
            other = next(a for a, g in names.items() if g == leg)
            raise _err(
                LegError,
                f"einsum output letters {other} and {letter} both take the leg name {leg}",
                spec,
                out_pos + k,
                out_pos + k + 1,
                "E207",
                "rename a leg of one operand first (x[a -> b]) so output legs differ",
            )
        names[letter] = leg
    # output copy tensors first, in output order: the product's legs then follow the output
    factors: list[Node] = []
    for letter in [*names, *(a for a in occ if a not in names)]:
        legs = occ[letter]
        wires = ([names[letter]] if letter in names else []) + [g for g, _ in legs]
        factors.append(Delta(legs[0][1], tuple(wires)))
    return Product(*factors, *renamed)


def to_einsum(expr: Node) -> tuple[str, list[Tensor], list[str]]:
    """Print a product network as an einsum string.

    Args:
        expr: a tensor, a copy tensor or a product of such (``A @ B``, ``A * B``...). Sums,
            bubbles and elementwise nodes are not einsum networks.

    Returns:
        ``(spec, operands, out_legs)``: ``numpy.einsum(spec, *arrays)`` with ``arrays[i]`` the
        value of ``operands[i]`` in its leg order gives ``expr`` with legs ``out_legs``. Copy
        tensors become repeated letters (no operand).

    Raises:
        SymtnError: E217 when ``expr`` is not a product of tensors and copy tensors.
    """
    factors = _flatten(expr)
    # union-find over leg names: a copy tensor merges all its legs into one letter
    parent: dict[str, str] = {}

    def find(a: str) -> str:
        while parent.setdefault(a, a) != a:
            a = parent[a]
        return a

    for f in factors:
        if isinstance(f, Delta):
            for leg in f.legs[1:]:
                parent[find(leg)] = find(f.legs[0])
    ops = [f for f in factors if isinstance(f, Tensor)]
    letters: dict[str, str] = {}
    pool = iter(string.ascii_letters)

    def letter(leg: str) -> str:
        root = find(leg)
        if root not in letters:
            try:
                letters[root] = next(pool)
            except StopIteration:
                raise SymtnError("network needs more than 52 einsum letters", code="E218") from None
        return letters[root]

    terms = ["".join(letter(g) for g in op.legs) for op in ops]
    out = "".join(letter(g) for g in expr.legs)
    used = "".join(terms)
    # a copy tensor wired to nothing but output legs: numpy cannot express it without an operand
    for g in expr.legs:
        if letter(g) not in used:
            raise SymtnError(
                f"output leg {g} is a copy tensor not bound to any operand; einsum cannot express it",
                code="E218",
                help="multiply by a tensor on that leg first",
            )
    return ",".join(terms) + "->" + out, ops, list(expr.legs)


def _flatten(expr: Node) -> list[Node]:
    if isinstance(expr, Product):
        out: list[Node] = []
        for f in expr.args:
            out.extend(_flatten(f))
        return out
    if isinstance(expr, Tensor | Delta):
        return [expr]
    raise SymtnError(
        f"{type(expr).__name__} is not a product of tensors; einsum prints networks only",
        code="E218",
        help="expand() a sum and print each term, or evaluate bubbles first",
    )


__all__: Sequence[str] = ("einsum", "to_einsum", "parse_spec")
