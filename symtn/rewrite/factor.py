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

import math
from functools import reduce

import sympy as sp

from symtn.ir.nodes import ONE, Node, Product, Sum
from symtn.ir.walk import fresh, rename_legs
from symtn.rewrite.canonical import canonical_key, deep_recursion, shape_key, signed_match
from symtn.rewrite.simplify import postmap, simplify


def _factors(t: Node) -> tuple[Node, ...]:
    return t.args if isinstance(t, Product) and t is not ONE else (t,)


def _splits(t: Node) -> list[tuple[Node, tuple[str, ...]]]:
    """Each factor ``F`` of term ``t`` as ``(F, F's wire legs in order)``."""
    free = t.legset
    return [(f, tuple(leg for leg in f.legs if leg not in free)) for f in _factors(t)]


def _rest(t: Node, k: int) -> Node:
    """Term ``t`` without its ``k``-th factor (``1`` when nothing is left)."""
    fs = _factors(t)
    rest = fs[:k] + fs[k + 1 :]
    return rest[0] if len(rest) == 1 else Product(*rest)


class _Groups:
    """Factors bucketed up to renaming: placeholders for wires, then exact signed matching."""

    def __init__(self) -> None:
        self.reps: list[Node] = []
        self.members: list[list[tuple[int, int, int]]] = []  # (term, split index, sign)
        self.index: dict[tuple[str, str], list[int]] = {}
        self.exact: dict[Node, int] = {}

    def add(self, f: Node, term: int, split: int) -> None:
        hit = self.exact.get(f)
        if hit is not None:
            if all(m[0] != term for m in self.members[hit]):
                self.members[hit].append((term, split, 1))
            return
        key = (shape_key(f), canonical_key(f))
        for g in self.index.get(key, ()):
            sign = signed_match(self.reps[g], f)
            if sign is not None:
                if all(m[0] != term for m in self.members[g]):
                    self.members[g].append((term, split, sign))
                return
        self.index.setdefault(key, []).append(len(self.reps))
        self.exact[f] = len(self.reps)
        self.reps.append(f)
        self.members.append([(term, split, 1)])


def _content(coeffs: list[sp.Expr]) -> sp.Expr:
    """The common factor of exact ``coeffs`` (negative when all are), 1 for float ones."""
    if any(c.has(sp.Float) for c in coeffs):
        return sp.Integer(1)
    if all(c.is_Rational for c in coeffs):
        num = reduce(math.gcd, (int(c.p) for c in coeffs))  # type: ignore[attr-defined]
        den = reduce(math.lcm, (int(c.q) for c in coeffs))  # type: ignore[attr-defined]
        g = sp.Rational(num, den)
    else:
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
    placeholders: dict[int, tuple[str, ...]] = {}  # fresh wire names, by number of wires
    memo: dict[tuple[Node, tuple[str, ...]], Node] = {}  # factor -> its placeholder form
    splits = [_splits(t) for t in s.terms]
    groups = _Groups()
    for ti, options in enumerate(splits):
        for si, (f, wires) in enumerate(options):
            if len(wires) not in placeholders:
                placeholders[len(wires)] = tuple(fresh("f") for _ in wires)
            keyed = memo.get((f, wires))
            if keyed is None:
                ph = placeholders[len(wires)]
                keyed = memo[(f, wires)] = rename_legs(f, dict(zip(wires, ph, strict=True)))
            groups.add(keyed, ti, si)
    best = max(range(len(groups.reps)), key=lambda g: len(groups.members[g]), default=None)
    if best is None or len(groups.members[best]) < 2:
        return s
    rep = groups.reps[best]
    inner_terms: list[Node] = []
    inner_coeffs: list[sp.Expr] = []
    used: set[int] = set()
    for ti, si, sign in groups.members[best]:
        _, wires = splits[ti][si]
        ph = placeholders[len(wires)]
        inner_terms.append(rename_legs(_rest(s.terms[ti], si), dict(zip(wires, ph, strict=True))))
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
