"""Deciding identities: symbolic first, then a numeric test on random values (NOTATION 7.8).

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
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import sympy as sp

from symtn.ir.algebra import add
from symtn.ir.nodes import Delta, Node, Sum, Tensor, Zero
from symtn.ir.walk import preorder, tensors
from symtn.lower import evaluate
from symtn.rewrite import expand, is_isomorphic, simplify, strip_frozen

if TYPE_CHECKING:
    from symtn.rewrite.user_rules import UserRule


@dataclass
class CheckResult:
    """Outcome of deciding ``lhs == rhs``.

    Attributes:
        holds: whether the identity holds.
        method: ``"symbolic"`` (canonical forms agree) or ``"numeric"`` (random values).
        max_diff: largest absolute difference seen (numeric refutations), else 0.
        where: the entry where it was seen, as ``{leg: index}``.
        sizes: the sizes used for a numeric test.
    """

    holds: bool
    method: str
    max_diff: float = 0.0
    where: dict[str, int] | None = None
    sizes: dict[str, int] | None = None

    def describe(self) -> str:
        if self.holds:
            return "proved symbolically" if self.method == "symbolic" else "verified numerically"
        at = ", ".join(f"{k}={v}" for k, v in (self.where or {}).items())
        sz = ", ".join(f"{k}={v}" for k, v in (self.sizes or {}).items())
        return (
            f"refuted numerically: largest difference {self.max_diff:.3g}"
            + (f" at [{at}]" if at else "")
            + (f" (sizes {sz})" if sz else "")
        )


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


def choose_sizes(node: Node) -> dict[sp.Symbol, int]:
    """Small distinct sizes (>= 2) for the size symbols of ``node``, satisfying declared facts."""
    syms = _symbols(node)
    ts = tensors(node)
    values = list(range(2, 2 + max(len(syms), 1) + 3))
    for perm in itertools.islice(itertools.permutations(values, len(syms)), 5000):
        sizes = dict(zip(syms, perm, strict=True))
        if _constraints_ok(ts, sizes):
            return sizes
    return dict(zip(syms, values, strict=False))


def random_value(
    t: Tensor, sizes: dict[sp.Symbol, int], rng: np.random.Generator, positive: bool
) -> np.ndarray:
    """A random array for ``t`` (axes in slot order) satisfying its declared facts."""
    shape = tuple(int(s.subs(sizes)) for _, s in t.slots)
    x = rng.uniform(0.5, 1.5, shape) if positive else rng.standard_normal(shape)
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


def decide(
    lhs: Node,
    rhs: Node | None,
    *,
    seeds: int = 3,
    symbolic: bool = True,
    sizes: dict[sp.Symbol, int] | None = None,
    rules: Sequence[UserRule] = (),
) -> CheckResult:
    """Decide ``lhs == rhs`` (``rhs`` None means ``0``).

    Args:
        lhs, rhs: nodes with the same free legs and sizes.
        seeds: random draws for the numeric test.
        symbolic: try canonical forms first.
        sizes: values for the size symbols of the numeric test (default ``choose_sizes``).
        rules: user rewrite rules (identities and value constraints) used when simplifying.
            With value constraints the numeric test evaluates the sides simplified with the
            rules (random draws cannot satisfy a constraint); a constraint that fires nowhere
            is unknown to it, so it may still refute a check that holds only under it.
    """
    lhs = strip_frozen(lhs)
    rhs = Zero(lhs.sig) if rhs is None else strip_frozen(rhs)
    if symbolic:
        a, b = simplify(lhs, rules=rules), simplify(rhs, rules=rules)
        if a is b or is_isomorphic(a, b) or isinstance(simplify(add(a, b, sign=-1), rules=rules), Zero):
            return CheckResult(True, "symbolic")
        ea, eb = expand(a), expand(b)
        if rules:
            ea, eb = simplify(ea, rules=rules), simplify(eb, rules=rules)
        if is_isomorphic(ea, eb) or isinstance(
            simplify(add(ea, eb, sign=-1), expand=True, rules=rules), Zero
        ):
            return CheckResult(True, "symbolic")
        if any(r.assumption for r in rules):
            # random values cannot satisfy a value constraint (``sum(y) => 1``): test the sides
            # the rules rewrote (identity rules keep values, constraints are applied where they fire)
            lhs, rhs = a, b
    diff_node = add(lhs, rhs, sign=-1)
    sizes = choose_sizes(diff_node) if sizes is None else sizes
    ts = tensors(diff_node)
    order = lhs.legs
    worst = CheckResult(True, "numeric", sizes={s.name: v for s, v in sizes.items()})
    for seed in range(seeds):
        for positive in (False, True):
            rng = np.random.default_rng(seed)
            values = {t.name: random_value(t, sizes, rng, positive) for t in ts}
            with np.errstate(all="ignore"):
                lv = np.asarray(evaluate(lhs, values, order=order, sizes=sizes))
                rv = np.asarray(evaluate(rhs, values, order=order, sizes=sizes))
            if not (np.all(np.isfinite(lv)) and np.all(np.isfinite(rv))):
                continue  # e.g. log of a negative draw: retry with positive values
            diff = np.abs(lv - rv)
            scale = max(1.0, float(np.max(np.abs(lv), initial=0.0)), float(np.max(np.abs(rv), initial=0.0)))
            m = float(np.max(diff, initial=0.0))
            if m > 1e-8 * scale:
                idx = np.unravel_index(int(np.argmax(diff)), diff.shape) if diff.shape else ()
                worst = CheckResult(
                    False, "numeric", m, dict(zip(order, map(int, idx), strict=True)), worst.sizes
                )
                return worst
            break
    return worst
