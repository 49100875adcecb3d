"""Deciding identities: symbolic first, then a numeric test on random values (docs/reference/checking.md).

1. Simplify both sides (frozen is transparent) and compare canonical forms (graph isomorphism
   with free legs matched by name); then the same after expansion.
2. Otherwise evaluate both sides on random values over several seeds, with symbolic sizes set
   to small distinct values (never 1) and random values satisfying the declared facts:
   symmetric / antisymmetric tensors are (anti)symmetrised, isometries are drawn orthonormal.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np
import sympy as sp

from symtn.ir.algebra import add
from symtn.ir.nodes import Delta, Node, Product, Sum, Tensor, Zero
from symtn.ir.walk import preorder, tensors
from symtn.lower import evaluate
from symtn.rewrite import expand, is_isomorphic, simplify, strip_frozen

if TYPE_CHECKING:
    from symtn.rewrite.user_rules import UserRule


#: exit status of ``symtn run`` when no check fails but one could not be decided
EXIT_UNDECIDED = 3

#: input domains tried in turn until both sides are finite: (kind, shift)
DOMAINS: tuple[tuple[str, float], ...] = (
    ("normal", 0.0),
    ("positive", 0.0),
    ("positive", 10.0),
    ("positive", 100.0),
    ("positive", 1000.0),
    ("positive", -11.5),
    ("positive", -101.5),
    ("positive", -1001.5),
)

_RTOL = 1e-8


@dataclass
class CheckResult:
    """Outcome of deciding ``lhs == rhs``.

    Attributes:
        holds: whether the identity holds (False when refuted and when undecided).
        method: ``"symbolic"`` (decided exactly), ``"numeric"`` (random values) or
            ``"undecided"`` (no random draw made both sides finite).
        max_diff: largest absolute difference seen (numeric refutations), else 0.
        where: the entry where it was seen, as ``{leg: index}``.
        sizes: the sizes of the refuting draw (numeric refutations).
        draws: how many finite random draws were compared.
        size_sets: every size assignment tried by the numeric test.
        reason: for a symbolic refutation, the nonzero difference (a size polynomial).
    """

    holds: bool
    method: str
    max_diff: float = 0.0
    where: dict[str, int] | None = None
    sizes: dict[str, int] | None = None
    draws: int = 0
    size_sets: list[dict[str, int]] = field(default_factory=list)
    reason: str = ""

    @property
    def undecided(self) -> bool:
        """True when neither proved nor refuted (no finite random draw)."""
        return self.method == "undecided"

    def _sizes_text(self) -> str:
        syms = sorted({k for d in self.size_sets for k in d})
        if not syms:
            return ""
        parts = [f"{k}=" + ",".join(str(d[k]) for d in self.size_sets if k in d) for k in syms]
        return " at sizes " + "; ".join(parts)

    def describe(self) -> str:
        """One line saying the verdict and how it was reached."""
        if self.method == "symbolic":
            if self.holds:
                return "proved symbolically"
            return f"refuted symbolically: the sides differ by {self.reason}"
        if self.undecided:
            return (
                "UNDECIDED: no random draw made both sides finite"
                + self._sizes_text()
                + " (tried normal, positive and shifted inputs)"
            )
        if self.holds:
            return f"verified numerically: {self.draws} random draws" + self._sizes_text()
        at = ", ".join(f"{k}={v}" for k, v in (self.where or {}).items())
        sz = ", ".join(f"{k}={v}" for k, v in (self.sizes or {}).items())
        return (
            f"refuted numerically: largest difference {self.max_diff:.3g}"
            + (f" at [{at}]" if at else "")
            + (f" (sizes {sz})" if sz else "")
        )


def size_value(node: Node) -> sp.Expr | None:
    """The exact value of a legless node built from sizes only (``|n|^2 - 2 * |n|``), else None."""
    if node.sig:
        return None
    if isinstance(node, Zero):
        return sp.Integer(0)
    if isinstance(node, Delta):
        return node.dim if node.order == 0 else None
    if isinstance(node, Sum):
        vals = [size_value(t) for t in node.terms]
        if any(v is None for v in vals):
            return None
        return sp.expand(sum((c * v for c, v in zip(node.coeffs, vals, strict=True)), sp.Integer(0)))
    if isinstance(node, Product):
        total: sp.Expr = sp.Integer(1)
        for f in node.args:
            v = size_value(f)
            if v is None:
                return None
            total = total * v
        return sp.expand(total)
    return None


def _exact_refutation(diff: Node) -> str | None:
    """The difference as text when it is provably nonzero, else None.

    Provably nonzero: a nonzero size polynomial (sizes are positive integers, so a polynomial that
    is not identically zero is refuted at some size; the ``check`` must hold for every size).
    """
    v = size_value(diff)
    if v is not None and sp.simplify(v) != 0:
        return str(v).replace("**", "^")
    return None


def _symbols(node: Node) -> list[sp.Symbol]:
    """Size symbols used anywhere in ``node`` (legs, slots, size coefficients)."""
    syms: set[sp.Symbol] = set()
    for n in preorder(node):
        for _, s in n.sig:
            syms |= s.free_symbols  # type: ignore[arg-type]
        if isinstance(n, Tensor):
            for _, s in n.slots:
                syms |= s.free_symbols  # type: ignore[arg-type]
        elif isinstance(n, Sum):
            for c in n.coeffs:
                syms |= c.free_symbols  # type: ignore[arg-type]
        elif isinstance(n, Delta):
            syms |= n.dim.free_symbols  # type: ignore[arg-type]
    return sorted(syms, key=lambda s: s.name)


def _constraints_ok(ts: list[Tensor], sizes: dict[sp.Symbol, int]) -> bool:
    def val(e: sp.Expr) -> int:
        return int(e.subs(sizes))

    for t in ts:
        for f in t.facts:
            if f[0] == "isometry":
                iso = math.prod(val(s) for leg, s in t.slots if leg in f[1])
                rest = math.prod(val(s) for leg, s in t.slots if leg not in f[1])
                if iso > rest:
                    return False
            if f[0] == "antisymmetric":
                order = len(f[1])
                slot = dict(t.slots)
                if any(val(slot[leg]) < order for g in f[1] for leg in g):
                    return False
    return True


def _first_fitting(
    syms: list[sp.Symbol], ts: list[Tensor], values: list[int]
) -> dict[sp.Symbol, int] | None:
    for perm in itertools.islice(itertools.permutations(values, len(syms)), 5000):
        sizes = dict(zip(syms, perm, strict=True))
        if _constraints_ok(ts, sizes):
            return sizes
    return None


def choose_sizes(node: Node) -> dict[sp.Symbol, int]:
    """Small distinct sizes (>= 2) for the size symbols of ``node``, satisfying declared facts."""
    syms = _symbols(node)
    values = list(range(2, 2 + max(len(syms), 1) + 3))
    got = _first_fitting(syms, tensors(node), values)
    return got if got is not None else dict(zip(syms, values, strict=False))


def size_assignments(node: Node) -> list[dict[sp.Symbol, int]]:
    """Three size assignments for the numeric test of ``node``.

    Each size symbol takes three distinct values (the first is ``choose_sizes``: 2, 3, ...; then
    sizes from 3 and from 5 upwards, the last in reversed symbol order so that symbols that were
    equal-ranked differ), always satisfying declared facts (isometry, antisymmetry).
    """
    syms = _symbols(node)
    if not syms:
        return [{}]
    ts = tensors(node)
    k = len(syms)
    out = [choose_sizes(node)]
    for values in (
        list(range(3, 3 + k + 3)),
        list(reversed(range(5, 5 + k))) + list(range(5 + k, 8 + k)),
    ):
        got = _first_fitting(syms, ts, values)
        if got is not None and got not in out:
            out.append(got)
    return out


def random_value(
    t: Tensor,
    sizes: dict[sp.Symbol, int],
    rng: np.random.Generator,
    positive: bool,
    shift: float = 0.0,
) -> np.ndarray:
    """A random array for ``t`` (axes in slot order) satisfying its declared facts.

    Entries are standard normal, or uniform in ``[0.5, 1.5]`` when ``positive`` (plus ``shift``).
    """
    shape = tuple(int(s.subs(sizes)) for _, s in t.slots)
    x = rng.uniform(0.5, 1.5, shape) + shift if positive else rng.standard_normal(shape)
    names = [leg for leg, _ in t.slots]
    if t.fact("positive") is not None:
        x = np.abs(x) + 0.1
    elif t.fact("nonnegative") is not None:
        x = np.abs(x)
    for f in t.facts:
        if f[0] in ("symmetric", "antisymmetric"):
            groups = f[1]
            total = np.zeros_like(x)
            count = 0
            for perm in itertools.permutations(range(len(groups))):
                axes = list(range(len(names)))
                for src, dst in zip(range(len(groups)), perm, strict=True):
                    for a, b in zip(groups[src], groups[dst], strict=True):
                        axes[names.index(a)] = names.index(b)
                sign = 1
                if f[0] == "antisymmetric":
                    sign = int(np.linalg.det(np.eye(len(perm))[list(perm)]))
                total += sign * np.transpose(x, axes)
                count += 1
            x = total / count
        if f[0] == "isometry":
            iso = [names.index(leg) for leg in f[1]]
            rest = [i for i in range(len(names)) if i not in iso]
            perm_axes = rest + iso
            moved = np.transpose(x, perm_axes)
            m = moved.reshape(math.prod(moved.shape[: len(rest)]), -1)
            q, _ = np.linalg.qr(m)
            moved = q.reshape(moved.shape)
            x = np.transpose(moved, np.argsort(perm_axes))
    return x


def _terms(node: Node, expanded: Node | None) -> list[tuple[float | sp.Expr, Node]]:
    """``(coefficient, term)`` pairs whose magnitudes set the numeric tolerance."""
    for cand in (expanded, node):
        if isinstance(cand, Sum) and len(cand.terms) <= 32:
            return list(zip(cand.coeffs, cand.terms, strict=True))
    return [(1, node)]


def _magnitude(
    terms: list[tuple[float | sp.Expr, Node]],
    values: dict[str, np.ndarray],
    order: tuple[str, ...],
    sizes: dict[sp.Symbol, int],
) -> float:
    best = 0.0
    for c, t in terms:
        if isinstance(t, Zero):
            continue
        v = np.asarray(evaluate(t, values, order=order, sizes=sizes))
        coeff = abs(float(sp.sympify(c).subs(sizes)))
        best = max(best, coeff * float(np.max(np.abs(v), initial=0.0)))
    return best


def decide(
    lhs: Node,
    rhs: Node | None,
    *,
    seeds: int = 2,
    symbolic: bool = True,
    sizes: dict[sp.Symbol, int] | None = None,
    rules: Sequence[UserRule] = (),
) -> CheckResult:
    """Decide ``lhs == rhs`` (``rhs`` None means ``0``).

    Exact first: canonical forms (plain, then expanded); a difference that reduces to a nonzero
    size polynomial is refuted exactly. Otherwise random values at several size assignments
    (``size_assignments``) and ``seeds`` seeds each, with a tolerance relative to the largest
    term of either side. A draw that leaves a side non-finite is redrawn from the next input
    domain (``DOMAINS``: normal, positive, shifted); when no draw is finite the result is
    ``undecided``, never a success.

    Args:
        lhs: a node.
        rhs: a node with the same free legs and sizes as ``lhs``.
        seeds: random draws per size assignment for the numeric test.
        symbolic: try canonical forms first.
        sizes: one fixed size assignment for the numeric test (default: ``size_assignments``).
        rules: user rewrite rules (identities and value constraints) used when simplifying.
            With value constraints the numeric test evaluates the sides simplified with the
            rules (random draws cannot satisfy a constraint); a constraint that fires nowhere
            is unknown to it, so it may still refute a check that holds only under it.

    Returns:
        A ``CheckResult``; ``describe()`` says how it was decided.
    """
    lhs = strip_frozen(lhs)
    rhs = Zero(lhs.sig) if rhs is None else strip_frozen(rhs)
    ea: Node | None = None
    eb: Node | None = None
    if symbolic:
        a, b = simplify(lhs, rules=rules), simplify(rhs, rules=rules)
        d1 = simplify(add(a, b, sign=-1), rules=rules)
        if a is b or is_isomorphic(a, b) or isinstance(d1, Zero):
            return CheckResult(True, "symbolic")
        ea, eb = expand(a), expand(b)
        if rules:
            ea, eb = simplify(ea, rules=rules), simplify(eb, rules=rules)
        d2 = simplify(add(ea, eb, sign=-1), expand=True, rules=rules)
        if is_isomorphic(ea, eb) or isinstance(d2, Zero):
            return CheckResult(True, "symbolic")
        for d in (d2, d1):
            why = _exact_refutation(d)
            if why is not None:
                return CheckResult(False, "symbolic", reason=why)
        if any(r.assumption for r in rules):
            # random values cannot satisfy a value constraint (``sum(y) => 1``): test the sides
            # the rules rewrote (identity rules keep values, constraints are applied where they fire)
            lhs, rhs = a, b
    diff_node = add(lhs, rhs, sign=-1)
    size_sets = size_assignments(diff_node) if sizes is None else [sizes]
    named = [{s.name: v for s, v in sz.items()} for sz in size_sets]
    terms = _terms(lhs, ea) + _terms(rhs, eb)
    ts = tensors(diff_node)
    order = lhs.legs
    draws = 0
    for sz, sz_named in zip(size_sets, named, strict=True):
        for seed in range(seeds):
            for kind, shift in DOMAINS:
                rng = np.random.default_rng(seed)
                values = {t.name: random_value(t, sz, rng, kind == "positive", shift) for t in ts}
                with np.errstate(all="ignore"):
                    lv = np.asarray(evaluate(lhs, values, order=order, sizes=sz))
                    rv = np.asarray(evaluate(rhs, values, order=order, sizes=sz))
                    if not (np.all(np.isfinite(lv)) and np.all(np.isfinite(rv))):
                        continue  # e.g. log of a negative draw: redraw from the next domain
                    scale = max(
                        float(np.max(np.abs(lv), initial=0.0)),
                        float(np.max(np.abs(rv), initial=0.0)),
                    )
                    # the terms' magnitudes: each summand, and each side at |values| (the sum
                    # of |products| of a contraction, which may cancel: v @ Q @ v for Q antisym.)
                    absvalues = {k: np.abs(v) for k, v in values.items()}
                    for mag in (
                        _magnitude(terms, values, order, sz),
                        _magnitude([(1, lhs), (1, rhs)], absvalues, order, sz),
                    ):
                        if math.isfinite(mag):  # a term may overflow where the side does not
                            scale = max(scale, mag)
                diff = np.abs(lv - rv)
                m = float(np.max(diff, initial=0.0))
                if m > _RTOL * scale:
                    idx = np.unravel_index(int(np.argmax(diff)), diff.shape) if diff.shape else ()
                    return CheckResult(
                        False,
                        "numeric",
                        m,
                        dict(zip(order, map(int, idx), strict=True)),
                        sz_named,
                        draws + 1,
                        named,
                    )
                draws += 1
                break
    if draws == 0:
        return CheckResult(False, "undecided", size_sets=named)
    return CheckResult(True, "numeric", draws=draws, size_sets=named)
