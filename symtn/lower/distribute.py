"""Distributing a network over a large sum factor before contracting.

A derivative often leaves a network ``F @ (t1 + t2)`` whose sum factor carries legs that ``F``
contracts away (a batch hyperedge, the new legs of a gradient). Evaluating the sum first would
materialise an intermediate over all of those legs; contracting ``F @ t1`` and ``F @ t2``
separately lets the contraction path sum them early. This is the one-level distributive law
``F @ (c1 t1 + c2 t2) = c1 (F @ t1) + c2 (F @ t2)``, applied only where the sum is larger than
both the result and every other factor.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Sequence

import sympy as sp

from symtn.ir.nodes import Delta, Node, Product, Reshape, Sum, Zero
from symtn.ir.walk import fresh, rename_legs

# distribute only when the sum's value is this many times larger than the result
RATIO = 4
MIN_ENTRIES = 4096


def _entries(node: Node, size_of: Callable[[sp.Expr], int]) -> int:
    return math.prod(size_of(s) for _, s in node.sig)


def large_sum(factors: Sequence[Node], out_entries: int, size_of: Callable[[sp.Expr], int]) -> int | None:
    """Index of the sum factor worth distributing over, or None."""
    best, best_size = None, 0
    # a copy tensor is never an array; it weighs as a three-legged one at most (a heuristic: a
    # many-legged delta, as in an attention gradient, would otherwise count as a huge factor and
    # block every split, while up to three legs it keeps the smaller sums whole, where a
    # contraction emitted earlier is reused)
    sized = [
        size_of(f.dim) ** min(f.order, 3) if isinstance(f, Delta) else _entries(f, size_of)
        for f in factors
        if not isinstance(f, (Sum, Reshape))
    ]
    others = max(sized, default=1)
    for i, f in enumerate(factors):
        if isinstance(f, Sum):
            n = _entries(f, size_of)
            if n >= MIN_ENTRIES and n > RATIO * max(out_entries, others) and n > best_size:
                best, best_size = i, n
    return best


def term_factors(term: Node, start: int | None = None) -> list[Node]:
    """A term's factors, with its wires renamed apart so they can join another network.

    With ``start``, the new names are :func:`wire_name` ``(wire, start)``, ``(wire, start + 1)``,
    ... (deterministic, so the same network splits into the same factors on every call and its
    plans stay cached); the caller picks ``start`` with :func:`first_free`. Without it,
    :func:`fresh` names.
    """
    if not isinstance(term, Product):
        return [term]
    wires = sorted(term.wires())
    if start is None:
        mapping = {w: fresh(w) for w in wires}
    else:
        mapping = {w: wire_name(w, start + k) for k, w in enumerate(wires)}
    return [rename_legs(f, {k: v for k, v in mapping.items() if k in f.legset}) for f in term.args]


_OURS = re.compile(r"^__(.*)\.(\d+)$")


def wire_name(old: str, n: int) -> str:
    """The ``n``-th deterministic wire name (``__k.7`` for a wire that was ``_k3`` or ``__k.2``):
    the original leg's letters stay readable in messages, the number keeps names apart."""
    m = _OURS.match(old)
    base = m.group(1) if m else old.lstrip("_").rstrip("'0123456789")
    return f"__{base}.{n}"


def first_free(nodes: Sequence[Node]) -> int:
    """One more than the largest :func:`wire_name` number among the nodes' free legs."""
    top = 0
    for n in nodes:
        for leg in n.legs:
            m = _OURS.match(leg)
            if m:
                top = max(top, int(m.group(2)))
    return top + 1


def split_terms(factors: Sequence[Node], index: int) -> list[tuple[sp.Expr, list[Node]]]:
    """For the sum at ``index``: (coefficient, factor list) per nonzero term."""
    s = factors[index]
    assert isinstance(s, Sum)
    rest = [f for i, f in enumerate(factors) if i != index]
    start = first_free(factors)
    return [
        (c, rest + term_factors(t, start))
        for c, t in zip(s.coeffs, s.terms, strict=True)
        if not isinstance(t, Zero) and c != 0
    ]


def error_first(
    factors: Sequence[Node],
    index: int,
    out_legs: Sequence[str],
    cost: Callable[[Sequence[Node], Sequence[str]], int],
) -> list[Node] | None:
    """``[E, S]`` with ``E`` the product of every factor but the sum ``S`` at ``index``, when
    contracting ``E`` once and then each term of ``S`` with it is cheaper than contracting every
    term with all of the other factors (reverse mode: a gradient's back-propagated error is the
    network around the sum of its local Jacobians; computed once, each term meets only it).

    Args:
        factors: the network's factors; ``factors[index]`` is a :class:`Sum`.
        out_legs: the network's free legs.
        cost: the cost of contracting a factor list to the given legs.

    Returns:
        The two factors, or None when the other factors are a single dense operand already
        or the split is not cheaper.
    """
    rest = [f for i, f in enumerate(factors) if i != index]
    if sum(1 for f in rest if not isinstance(f, (Delta, Reshape))) < 2:
        return None
    error = Product(*rest)
    terms = split_terms(factors, index)
    direct = sum(cost(fs, out_legs) for _, fs in terms)
    s = factors[index]
    assert isinstance(s, Sum)
    after = cost(rest, error.legs) + sum(
        cost([error, *term_factors(t, first_free(factors))], out_legs)
        for c, t in zip(s.coeffs, s.terms, strict=True)
        if not isinstance(t, Zero) and c != 0
    )
    return [error, s] if after < direct else None
