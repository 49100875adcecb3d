"""Named rewrite rules ``Node -> Node | None`` and the table ``simplify`` draws them from.

Every rule is pure, keeps free legs and their sizes, and keeps the numeric value; its docstring
states the identity and why repeated application terminates. A rule returns None when it does
not apply. Rules assume the node's children are already simplified (``simplify`` rewrites
bottom-up), which keeps each rule local and cheap.

Network rules (copy tensors, reshapes, symmetry facts) live in :mod:`symtn.rewrite.networks`,
function-bubble rules in :mod:`symtn.rewrite.elementwise`.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from typing import Any

import sympy as sp

from symtn.errors import SymtnError
from symtn.ir.nodes import (
    ONE,
    Bubble,
    Delta,
    Elementwise,
    Frozen,
    Node,
    Product,
    Reshape,
    Shifted,
    Sum,
    Tensor,
    Zero,
)
from symtn.ir.walk import fresh, rename_legs
from symtn.rewrite import domain, elementwise, elementwise_canon, matrix, networks, powers
from symtn.rewrite.canonical import canonical_key, shape_key, signed_match
from symtn.rewrite.elementwise import scaled

Rule = Callable[[Any], "Node | None"]
"""A rule: a node of the kind it is filed under -> an equal node, or None."""


def is_zero(c: sp.Expr) -> bool:
    """True if the coefficient ``c`` is exactly zero (expanding size expressions)."""
    if c == 0:
        return True
    return bool(c.free_symbols) and sp.expand(c) == 0


# ------------------------------------------------------------------ products
def flat_factors(p: Product) -> list[Node]:
    """The non-Product factors of ``p`` and of all Products nested in it, wired as before.

    Wires of nested networks keep their names unless the name is already taken (by a free leg
    of ``p`` or a wire met earlier), in which case they get a ``walk.fresh`` name. Linear in
    the size of the Product tree, however deep.
    """
    taken = set(p.legs)
    out: list[Node] = []

    def go(q: Product, mapping: dict[str, str]) -> None:
        local = dict(mapping)
        for w in sorted(q.wires()):
            local[w] = fresh(w) if w in taken else w
            taken.add(local[w])
        for f in q.args:
            if isinstance(f, Product):
                go(f, {leg: local[leg] for leg in f.legs})
            else:
                sub = {leg: local[leg] for leg in f.legs if local[leg] != leg}
                out.append(rename_legs(f, sub) if sub else f)

    go(p, {leg: leg for leg in p.legs})
    return out


def flatten_product(p: Product) -> Node | None:
    """``(A @ B) @ C = A @ B @ C``: splice nested networks into their parent, all levels at once.

    Inner wires whose names are taken are renamed apart with ``walk.fresh`` first (they are
    bound, so renaming keeps the value). The empty network ``1`` disappears. Terminates: the
    result has no Product factor.
    """
    if not networks.features(p)["Product"]:
        return None
    return Product(*flat_factors(p))


def product_single(p: Product) -> Node | None:
    """A network of one factor is that factor. Terminates: removes a Product node."""
    return p.args[0] if len(p.args) == 1 else None


def product_coefficients(p: Product) -> Node | None:
    """``A @ (c * B) = c * (A @ B)``: pull one-term-sum coefficients out of a network.

    Terminates: the number of one-term Sum factors decreases (the result is one such Sum,
    outside the network).
    """
    if not networks.features(p)["Scaled"]:
        return None
    c = sp.Integer(1)
    factors: list[Node] = []
    for f in p.args:
        if isinstance(f, Sum) and len(f.terms) == 1:
            c *= f.coeffs[0]
            factors.append(f.terms[0])
        else:
            factors.append(f)
    return scaled(Product(*factors), c)


def zero_product(p: Product) -> Node | None:
    """``0 @ A = 0`` with the network's free legs. Terminates: the result is a leaf."""
    return Zero(p.sig) if networks.features(p)["Zero"] else None


def delta_scalar(d: Delta) -> Node | None:
    """``delta[]`` (order 0) is the coefficient ``|n|``. Terminates: removes a Delta."""
    return Sum((ONE,), (d.dim,)) if d.order == 0 else None


# ------------------------------------------------------------------ sums
def flatten_sum(s: Sum) -> Node | None:
    """``a * (b * X + c * Y) + d * Z = ab * X + ac * Y + d * Z``: splice nested sums.

    Terminates: the nesting depth of Sums decreases.
    """
    if not any(isinstance(t, Sum) for t in s.terms):
        return None
    terms: list[Node] = []
    coeffs: list[sp.Expr] = []
    for t, c in zip(s.terms, s.coeffs, strict=True):
        if isinstance(t, Sum):
            terms.extend(t.terms)
            coeffs.extend(c * k for k in t.coeffs)
        else:
            terms.append(t)
            coeffs.append(c)
    return Sum(tuple(terms), tuple(coeffs))


_flatten_sum = flatten_sum


def collect_terms(s: Sum) -> Node | None:
    """``a * X + b * X' = (a + s b) * X`` when ``X' = s X`` up to renaming (``s = ±1``).

    Terms are bucketed by ``canonical.shape_key``, then (only when a bucket is shared) by the
    exact, cached ``canonical_key``; ``signed_match`` within a bucket only reads the cached
    canonical signs, so the cost is near linear in the number of terms; coefficients add exactly in
    sympy. Zero terms and zero coefficients are dropped; nothing left is ``Zero``.
    Terminates: the number of terms decreases.
    """
    reps: list[Node] = []
    totals: list[sp.Expr] = []
    same: dict[Node, int] = {}
    by_shape: dict[str, list[int]] = {}
    by_key: dict[tuple[str, str], list[int]] = {}
    keyed: set[str] = set()  # shapes shared by two terms: their reps are also indexed by WL key

    def index(gi: int) -> None:
        by_key.setdefault((shape_key(reps[gi]), canonical_key(reps[gi])), []).append(gi)

    changed = False
    for t, c in zip(s.terms, s.coeffs, strict=True):
        if isinstance(t, Zero) or is_zero(c):
            changed = True
            continue
        shape = shape_key(t)
        hit, sign = same.get(t), 1
        members = by_shape.setdefault(shape, [])
        if hit is None and members:
            if shape not in keyed:
                keyed.add(shape)
                for gi in members:
                    index(gi)
            for gi in by_key.get((shape, canonical_key(t)), ()):
                found = signed_match(reps[gi], t)
                if found is not None:
                    hit, sign = gi, found
                    break
        if hit is None:
            same[t] = len(reps)
            members.append(len(reps))
            reps.append(t)
            totals.append(c)
            if shape in keyed:
                index(len(reps) - 1)
        else:
            totals[hit] = totals[hit] + sign * c
            changed = True
    if not changed:
        return None
    kept = [(t, c) for t, c in zip(reps, totals, strict=True) if not is_zero(c)]
    if not kept:
        return Zero(s.sig)
    return Sum(tuple(t for t, _ in kept), tuple(c for _, c in kept))


def sum_single(s: Sum) -> Node | None:
    """``1 * X = X``. Terminates: removes a Sum node."""
    if len(s.terms) == 1 and s.coeffs[0] == 1:
        return s.terms[0]
    return None


# ------------------------------------------------------------------ frozen
def frozen_nested(f: Frozen) -> Node | None:
    """``frozen(frozen(X)) = frozen(X)``. Terminates: removes a Frozen node."""
    return f.inner if isinstance(f.inner, Frozen) else None


def has_variables(node: Node) -> bool:
    """True if a non-``const`` tensor variable occurs in ``node`` (memoised)."""
    hit = node._cache.get("variables")
    if hit is None:
        hit = isinstance(node, Tensor) and not node.is_const
        for k in node.children:
            if hit:
                break
            hit = has_variables(k)
        node._cache["variables"] = hit
    return bool(hit)


def frozen_constant(f: Frozen) -> Node | None:
    """``frozen(X) = X`` when ``X`` has no variables (its derivative is zero anyway), and
    ``frozen(c * X) = c * frozen(X)``. Terminates: removes or shrinks a Frozen node's argument."""
    if not has_variables(f.inner):
        return f.inner
    if isinstance(f.inner, Sum) and len(f.inner.terms) == 1:
        return scaled(Frozen(f.inner.terms[0]), f.inner.coeffs[0])
    return None


# ------------------------------------------------------------------ expansion (opt-in)
MAX_TERMS = 10_000
"""The default term budget of ``expand``: no Sum it builds may have more terms."""


def over_budget(count: int, max_terms: int, what: str) -> SymtnError:
    """The E420 error for an expansion of ``count`` terms over the budget ``max_terms``."""
    return SymtnError(
        f"expand: {what} would have {count} terms, over the budget max_terms={max_terms}",
        code="E420",
        help="raise the budget (expand(e, max_terms=...)), or keep the network factored: "
        "simplify(e) never expands, and factor(e) pulls common sub-networks out of sums",
    )


def bounded_distribute(max_terms: int) -> Rule:
    """``distribute`` that raises E420 instead of building more than ``max_terms`` terms."""

    def distribute(p: Product) -> Node | None:
        """``A @ (B + C) = A @ B + A @ C`` for every Sum factor at once (the path expansion).

        Each term keeps the network's wiring, so the free legs are unchanged. Elementwise
        products are not distributed (functions are not linear). The number of terms (the
        product of the Sum factors' term counts) is checked against the budget before any is
        built. Terminates: the Sums move above the Product, and no new Sum factor is created.
        """
        if not networks.features(p)["Sum"]:
            return None
        choices: list[list[tuple[Node, sp.Expr]]] = []
        for f in p.args:
            if isinstance(f, Sum):
                choices.append(list(zip(f.terms, f.coeffs, strict=True)))
            else:
                choices.append([(f, sp.Integer(1))])
        if all(len(c) == 1 for c in choices):
            return None
        count = 1
        for c in choices:
            count *= len(c)
        if count > max_terms:
            raise over_budget(count, max_terms, f"a network of {len(p.args)} factors")
        terms: list[Node] = []
        coeffs: list[sp.Expr] = []
        for combo in itertools.product(*choices):
            terms.append(Product(*(t for t, _ in combo)))
            coeffs.append(sp.Mul(*(c for _, c in combo)))
        return Sum(tuple(terms), tuple(coeffs))

    return distribute


def bounded_flatten_sum(max_terms: int) -> Rule:
    """``flatten_sum`` that raises E420 when the flattened sum has more than ``max_terms`` terms."""

    def flatten_sum(s: Sum) -> Node | None:  # same __name__ as the rule it bounds
        count = sum(len(t.terms) if isinstance(t, Sum) else 1 for t in s.terms)
        if count > max_terms:
            raise over_budget(count, max_terms, "a sum")
        return _flatten_sum(s)

    flatten_sum.__doc__ = _flatten_sum.__doc__
    return flatten_sum


distribute = bounded_distribute(MAX_TERMS)


def frozen_distribute(f: Frozen) -> Node | None:
    """``frozen(A + B) = frozen(A) + frozen(B)`` and ``frozen(A @ B) = frozen(A) @ frozen(B)``.

    Both sides have the same value and zero derivative. Terminates: Frozen moves to the leaves.
    """
    inner = f.inner
    if isinstance(inner, Sum):
        return Sum(tuple(Frozen(t) for t in inner.terms), inner.coeffs)
    if isinstance(inner, Product) and inner is not ONE:
        return Product(*(Frozen(t) for t in inner.args))
    return None


def inline_frozen(f: Frozen) -> Node | None:
    """``frozen(X) = X`` in value (for ``check``; loses the stop-gradient). Terminates."""
    return f.inner


# ------------------------------------------------------------------ tables
CORE: dict[type[Node], tuple[Rule, ...]] = {
    Product: (
        zero_product,
        flatten_product,
        product_single,
        product_coefficients,
        networks.delta_merge,
        networks.delta_absorb,
        networks.reshape_fusion,
        networks.antisymmetric_zero,
        networks.isometry,
        networks.odd_symmetry_zero,
        powers.hadamard_power,
        powers.summed_square,
        powers.wired_power,
        *matrix.PRODUCT_RULES,
    ),
    Sum: (flatten_sum, collect_terms, sum_single),
    Delta: (delta_scalar,),
    Shifted: (networks.shifted_zero,),
    Reshape: (networks.reshape_trivial,),
    Frozen: (frozen_nested, frozen_constant),
    Elementwise: elementwise.RULES + elementwise_canon.RULES + domain.RULES,
    Tensor: (powers.symmetry_canon,),
    Zero: (),
    Bubble: matrix.BUBBLE_RULES,
}
"""The default rules by node type, in the order they are tried."""

PREPARE: dict[type[Node], Rule] = {Product: flatten_product}
"""Rules ``simplify`` applies top-down *before* simplifying a node's children (flattening a
deep network once is linear; flattening it level by level would be quadratic)."""


def rule_table(
    *, expand: bool = False, strip: bool = False, max_terms: int = MAX_TERMS
) -> dict[type[Node], tuple[Rule, ...]]:
    """The rules ``simplify`` uses: ``CORE`` plus distribution (``expand``) and ``inline_frozen``
    (``strip``). Distribution runs after the cheap network rules; with ``expand`` no sum may
    exceed ``max_terms`` terms (E420)."""
    table = dict(CORE)
    if expand:
        flat = bounded_flatten_sum(max_terms)
        table[Sum] = tuple(flat if r is flatten_sum else r for r in table[Sum])
        table[Product] = table[Product] + (bounded_distribute(max_terms),)
        table[Frozen] = table[Frozen] + (frozen_distribute,)
    if strip:
        table[Frozen] = (inline_frozen,)
    return table
