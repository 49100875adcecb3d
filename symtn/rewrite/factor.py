"""``factor``: the inverse of ``expand``: pull common sub-networks out of sums.

``A @ B + A @ C = A @ (B + C)``, also when the two ``A`` occurrences wire to the rest through
differently named bound legs (the factor is compared up to renaming of bound legs, and the
wires it shares with the rest of its term are renamed to common names). A common scalar
coefficient of the grouped terms is pulled out too: ``2 A @ B + 4 A @ C = 2 (A @ (B + 2 C))``.
The grouping is greedy: the factor shared by the most terms first, then the same inside the new
inner sum and among the remaining terms, so every step removes at least one term and it
terminates.
"""

from __future__ import annotations

from functools import reduce

import sympy as sp

from symtn.ir.nodes import ONE, Node, Product, Sum
from symtn.ir.walk import fresh, rename_legs
from symtn.rewrite.canonical import canonical_key, deep_recursion, shape_key, signed_match
from symtn.rewrite.simplify import postmap, simplify

Split = tuple[Node, Node, sp.Expr]
"""One way to write a term: (factor with wires renamed to placeholders, rest, coefficient)."""


def _factors(t: Node) -> tuple[Node, ...]:
    return t.args if isinstance(t, Product) and t is not ONE else (t,)


def _splits(t: Node) -> list[tuple[Node, tuple[str, ...], Node]]:
    """Each factor ``F`` of term ``t`` as ``(F, F's wire legs in order, rest of t)``."""
    fs = _factors(t)
    free = t.legset
    out = []
    for k, f in enumerate(fs):
        wires = tuple(leg for leg in f.legs if leg not in free)
        rest = fs[:k] + fs[k + 1 :]
        out.append((f, wires, Product(*rest) if len(rest) != 1 else rest[0]))
    return out


class _Groups:
    """Factors bucketed up to renaming: placeholders for wires, then exact signed matching."""

    def __init__(self) -> None:
        self.reps: list[Node] = []
        self.members: list[list[tuple[int, int, int]]] = []  # (term, split index, sign)
        self.index: dict[tuple[str, str], list[int]] = {}

    def add(self, f: Node, term: int, split: int) -> None:
        key = (shape_key(f), canonical_key(f))
        for g in self.index.get(key, ()):
            sign = signed_match(self.reps[g], f)
            if sign is not None:
                if all(m[0] != term for m in self.members[g]):
                    self.members[g].append((term, split, sign))
                return
        self.index.setdefault(key, []).append(len(self.reps))
        self.reps.append(f)
        self.members.append([(term, split, 1)])


def _content(coeffs: list[sp.Expr]) -> sp.Expr:
    """The common factor of exact ``coeffs`` (negative when all are), 1 for float ones."""
    if any(c.has(sp.Float) for c in coeffs):
        return sp.Integer(1)
    g = reduce(sp.gcd, coeffs)
    if g == 0:
        return sp.Integer(1)
    return -g if all(c.could_extract_minus_sign() for c in coeffs) else g


def factor_sum(s: Sum) -> Node:
    """``s`` with common factors pulled out of groups of its terms (see the module docstring).

    Keeps the free legs and the value; returns ``s`` itself when no two terms share a factor.
    """
    if len(s.terms) < 2:
        return s
    placeholders: dict[int, tuple[str, ...]] = {}
    splits = [_splits(t) for t in s.terms]
    groups = _Groups()
    for ti, options in enumerate(splits):
        for si, (f, wires, _) in enumerate(options):
            if len(wires) not in placeholders:
                placeholders[len(wires)] = tuple(fresh("f") for _ in wires)
            ph = placeholders[len(wires)]
            groups.add(rename_legs(f, dict(zip(wires, ph, strict=True))), ti, si)
    best = max(range(len(groups.reps)), key=lambda g: len(groups.members[g]), default=None)
    if best is None or len(groups.members[best]) < 2:
        return s
    rep = groups.reps[best]
    inner_terms: list[Node] = []
    inner_coeffs: list[sp.Expr] = []
    used: set[int] = set()
    for ti, si, sign in groups.members[best]:
        f, wires, rest = splits[ti][si]
        ph = placeholders[len(wires)]
        inner_terms.append(rename_legs(rest, dict(zip(wires, ph, strict=True))))
        inner_coeffs.append(sign * s.coeffs[ti])
        used.add(ti)
    g = _content(inner_coeffs)
    inner = factor_sum(Sum(tuple(inner_terms), tuple(c / g for c in inner_coeffs)))
    grouped = Product(rep, inner)
    others = [(t, c) for k, (t, c) in enumerate(zip(s.terms, s.coeffs, strict=True)) if k not in used]
    if not others:
        return grouped if g == 1 else Sum((grouped,), (g,))
    rest_sum = factor_sum(Sum(tuple(t for t, _ in others), tuple(c for _, c in others)))
    if isinstance(rest_sum, Sum):
        return Sum((grouped, *rest_sum.terms), (g, *rest_sum.coeffs))
    return Sum((grouped, rest_sum), (g, 1))


def factor(node: Node) -> Node:
    """The inverse of ``expand``: simplify, then pull common sub-networks out of every sum.

    ``A @ B + A @ C`` becomes ``A @ (B + C)`` (up to renaming of bound legs, so
    ``A[i, j] @ B[j, k] + A[i, w] @ C[w, k]`` factors too), a common scalar factor tensor
    ``s * X + s * Y`` becomes ``s * (X + Y)``, and the common coefficient of a factored group is
    pulled out. Factoring is greedy (most-shared factor first) and applied bottom-up.

    Args:
        node: any IR node, legs ``[t...]``.

    Returns:
        An equal node with the same free legs and sizes, usually with fewer tensor
        occurrences; ``simplify`` keeps the factored networks (it never distributes).
    """
    with deep_recursion():
        out = postmap(simplify(node), lambda n: factor_sum(n) if isinstance(n, Sum) else n)
    return simplify(out)


__all__ = ["factor", "factor_sum"]
