"""Rewrite rules of the matrix functions ``det``, ``logdet`` and ``inv`` (``symtn.ir.matrix``).

Identities (The Matrix Cookbook, Petersen & Pedersen 2012, eqs. 18, 25, 26, 27 and 1.1):

- ``det[j, i](X) = det[i, j](X)`` (``det X^T = det X``), same for ``logdet``, and
  ``inv[j, i](X) = inv[i, j](X)`` with its produced legs swapped: consumed legs are put in the
  operand's leg order, so both spellings have one canonical form;
- ``inv(inv(X)) = X`` (the legs come back as they were, lifted legs untouched);
- ``X @ inv(X)[i -> i'] = delta[i, i']`` and ``inv(X)[j -> j'] @ X = delta[j, j']``; wired on
  both legs it is the trace of the identity, the size ``n``;
- ``det(A @ B @ ...) = det(A) det(B) ...`` and ``inv(A @ B) = inv(B) @ inv(A)`` for a chain of
  square factors; ``det(I) = 1``, ``logdet(I) = 0``, ``inv(I) = I``;
  ``det(c X) = c^n det(X)``, ``inv(c X) = inv(X) / c``.

Each rule returns None when it does not apply; each removes a bubble, a factor or a coefficient,
or sorts two legs, so repeated application terminates.
"""

from __future__ import annotations

from symtn.ir.nodes import Bubble, Delta, Node, Product, Sum, Zero
from symtn.ir.walk import rename_legs

_SQUARE = ("det", "logdet", "inv")


def matrix_leg_order(b: Bubble) -> Node | None:
    """Consumed legs in the operand's leg order (``det X^T = det X``; for ``inv`` the produced
    legs swap with them, which is the same tensor)."""
    if b.name not in _SQUARE or len(b.consumed) != 2:
        return None
    i, j = b.consumed
    legs = b.operand.legs
    if legs.index(i) < legs.index(j):
        return None
    produced = b.produced[::-1] if b.name == "inv" else b.produced
    return Bubble(b.name, b.operand, (j, i), produced)


def inv_inv(b: Bubble) -> Node | None:
    """``inv(inv(U)) = U``, legs renamed to the outer bubble's produced legs."""
    inner = b.operand
    if b.name != "inv" or not isinstance(inner, Bubble) or inner.name != "inv":
        return None
    c1, c2 = inner.consumed
    (p1, _), (p2, _) = inner.produced
    (q1, _), (q2, _) = b.produced
    if b.consumed == (p1, p2):
        return rename_legs(inner.operand, {c1: q1, c2: q2})
    if b.consumed == (p2, p1):
        return rename_legs(inner.operand, {c1: q2, c2: q1})
    return None


def matrix_scalar(b: Bubble) -> Node | None:
    """``det(c X) = c^n det(X)`` and ``inv(c X) = inv(X) / c`` (``n`` the matrix size)."""
    s = b.operand
    if b.name not in ("det", "inv") or not isinstance(s, Sum) or len(s.terms) != 1:
        return None
    c = s.coeffs[0]
    inner = Bubble(b.name, s.terms[0], b.consumed, b.produced)
    n = s.terms[0].size(b.consumed[0])
    return Sum((inner,), (c**n if b.name == "det" else 1 / c,))


def _chain(b: Bubble) -> list[tuple[Node, str, str]] | None:
    """The operand of ``b`` as a path of square matrices from its first consumed leg to its second:
    ``(factor, leg entered, leg left)`` in order, or None when it is not one.

    Applies when the operand is a network with exactly the two consumed legs free, every factor
    has exactly two legs of the matrix size and the factors form one path (a factor off the path
    would be a trace, a scalar)."""
    p = b.operand
    if not isinstance(p, Product) or len(p.args) < 2 or p.legset != set(b.consumed):
        return None
    n = p.size(b.consumed[0])
    for f in p.args:
        if len(f.sig) != 2 or any(s != n for _, s in f.sig):
            return None
    by_leg: dict[str, list[int]] = {}
    for k, f in enumerate(p.args):
        for leg in f.legs:
            by_leg.setdefault(leg, []).append(k)
    seen: list[int] = []
    path: list[tuple[Node, str, str]] = []
    leg = b.consumed[0]
    while True:
        nxt = [k for k in by_leg[leg] if k not in seen]
        if not nxt:
            break
        k = nxt[0]
        seen.append(k)
        (out,) = [x for x in p.args[k].legs if x != leg]
        path.append((p.args[k], leg, out))
        leg = out
    if len(seen) != len(p.args) or leg != b.consumed[1]:
        return None
    return path


def det_product(b: Bubble) -> Node | None:
    """``det(A @ B @ ...) = det(A) det(B) ...`` when the operand is a chain of square matrices
    (copy tensors on the path, det 1, drop)."""
    path = _chain(b) if b.name == "det" else None
    if path is None:
        return None
    return Product(*[Bubble("det", f, f.legs, ()) for f, _, _ in path if not isinstance(f, Delta)])


def inv_product(b: Bubble) -> Node | None:
    """``inv(A @ B) = inv(B) @ inv(A)`` for a chain of square matrices (Matrix Cookbook eq. 18).

    With symtn's convention (``inv[i, j](X)`` holds ``(X^-1)[a, b]`` at ``i = b, j = a``, the
    transpose of the inverse in its leg order) the reversed product keeps the chain's wiring:
    ``inv[i, j](A[i, k] @ B[k, j]) = inv[i, k](A) @ inv[k, j](B)``; copy tensors stay as they are."""
    path = _chain(b) if b.name == "inv" else None
    if path is None:
        return None
    n = b.operand.size(b.consumed[0])
    factors = [f if isinstance(f, Delta) else Bubble("inv", f, (u, v), ((u, n), (v, n))) for f, u, v in path]
    (q1, _), (q2, _) = b.produced
    return rename_legs(Product(*factors), {b.consumed[0]: q1, b.consumed[1]: q2})


def matrix_identity(b: Bubble) -> Node | None:
    """``det(I) = 1``, ``logdet(I) = 0``, ``inv(I) = I`` for a copy tensor on the consumed legs."""
    d = b.operand
    if b.name not in _SQUARE or not isinstance(d, Delta) or d.order != 2 or set(d.legs) != set(b.consumed):
        return None
    if b.name == "det":
        return Product()
    if b.name == "logdet":
        return Zero(())
    (q1, s1), (q2, _) = b.produced
    return Delta(s1, (q1, q2))


def inv_cancel(p: Product) -> Node | None:
    """``X @ inv(X)[i -> i'] = delta[i, i']``: a factor wired to the inverse of itself.

    ``inv[c1, c2](U)`` (no lifted legs) at ``p1 = b, p2 = a`` is ``U^-1[a, b]``; a factor equal
    to ``U`` with ``c2`` wired to ``p2`` leaves ``delta[U's c1 leg, p1]``, one with ``c1`` wired
    to ``p1`` leaves ``delta[p2, U's c2 leg]``; both wired is ``n``.
    """
    factors = p.args
    for k, f in enumerate(factors):
        if not (isinstance(f, Bubble) and f.name == "inv" and f.operand.legset == set(f.consumed)):
            continue
        u = f.operand
        c1, c2 = f.consumed
        (p1, n), (p2, _) = f.produced
        for m, g in enumerate(factors):
            if m == k or len(g.legs) != 2:
                continue
            g0, g1 = g.legs
            for a, b_ in ((g0, g1), (g1, g0)):
                if rename_legs(u, {c1: a, c2: b_}) is not g:
                    continue
                if b_ == p2 and a == p1:
                    out: Node = Delta(n, ())
                elif b_ == p2:
                    out = Delta(n, (a, p1))
                elif a == p1:
                    out = Delta(n, (p2, b_))
                else:
                    continue
                rest = [x for t, x in enumerate(factors) if t not in (k, m)]
                return Product(out, *rest)
    return None


BUBBLE_RULES = (matrix_leg_order, inv_inv, matrix_scalar, det_product, inv_product, matrix_identity)
"""Rules filed under Bubble."""

PRODUCT_RULES = (inv_cancel,)
"""Rules filed under Product."""

__all__ = ["BUBBLE_RULES", "PRODUCT_RULES", "det_product", "inv_cancel", "inv_inv", "matrix_leg_order"]
