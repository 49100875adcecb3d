"""Making user rewrite rules: well-formedness, numeric verification, and the value-constraint
convention (docs/language.md).

A rule whose sides mention only its pattern tensors is an *identity*: it must hold for every
value of them, so it is evaluated on random values (seeded, for a couple of size assignments of
the symbolic dims, respecting declared facts of the pattern tensors) before it is accepted; a
false rule raises E213 with the counterexample (largest difference, where, sizes), exactly as a
refuted ``check``. A rule that also mentions declared tensors of the program is a *value
constraint* (``sum(y) => 1`` for a probability vector ``y``): it states something about those
values, cannot be verified, and is accepted as an assumption.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import sympy as sp

from symtn.checking import CheckResult, _constraints_ok, _symbols, choose_sizes, decide
from symtn.errors import LegError, SymtnError
from symtn.ir.algebra import add
from symtn.ir.nodes import Node, Tensor, Zero, size_str
from symtn.ir.walk import postmap, tensors
from symtn.rewrite import simplify
from symtn.rewrite.user_rules import UserRule

SIZE_ASSIGNMENTS = 2
"""Size assignments of the symbolic dims a rule is verified on."""


def size_assignments(node: Node, count: int = SIZE_ASSIGNMENTS, seed: int = 0) -> list[dict[sp.Symbol, int]]:
    """``count`` distinct assignments of small sizes (2..7) to the size symbols of ``node``.

    The first is ``checking.choose_sizes``; the others are drawn at random (seeded) among those
    satisfying the declared facts (an isometry is not wider than tall, antisymmetric blocks fit).
    """
    first = choose_sizes(node)
    out = [first]
    syms = _symbols(node)
    if not syms:
        return out
    rng = np.random.default_rng(seed)
    ts = tensors(node)
    for _ in range(200):
        if len(out) >= count:
            break
        cand = {s: int(v) for s, v in zip(syms, rng.integers(2, 8, len(syms)), strict=True)}
        if cand not in out and _constraints_ok(ts, cand):
            out.append(cand)
    return out


def verify_rule(lhs: Node, rhs: Node, seeds: int = 2) -> CheckResult:
    """Evaluate ``lhs`` and ``rhs`` on random values for each of ``size_assignments``.

    Returns:
        The first refutation found, else a passing numeric result.
    """
    last = CheckResult(True, "numeric")
    for sizes in size_assignments(add(lhs, rhs, sign=-1)):
        res = decide(lhs, rhs, symbolic=False, sizes=sizes, seeds=seeds)
        if not res.holds and not res.undecided:
            return res
        if res.holds:
            last = res
    return last


def check_same_legs(lhs: Node, rhs: Node, what: str) -> None:
    """E206 unless both sides have the same free legs with equal sizes."""
    if lhs.legset != rhs.legset:
        raise LegError(
            f"{what}: sides have different legs: [{', '.join(lhs.legs)}] and [{', '.join(rhs.legs)}]",
            code="E206",
            help="both sides of a rule must have the same free legs (rename or sum the extra ones)",
        )
    ls, rs = lhs.sizes, rhs.sizes
    for leg in ls:
        if ls[leg] != rs[leg] and sp.simplify(ls[leg] - rs[leg]) != 0:
            raise LegError(
                f"{what}: leg {leg} has size {size_str(ls[leg])} on the left and {size_str(rs[leg])} "
                "on the right",
                code="E206",
            )


def _normalise(lhs: Node, patterns: Sequence[Tensor]) -> Node:
    """``lhs`` in the shape targets have: simplified with the pattern tensors' facts set aside
    (a pattern ``S: [i, j] symmetric(i, j)`` binds sub-expressions such as ``A + A^T`` that are
    not declared symmetric, so the built-in rules must not use the fact to reshape the pattern),
    then the facts put back on the pattern tensors (``match`` checks them on each binding)."""
    facts = {p.variable: p.facts for p in patterns if p.facts}
    if not facts:
        return simplify(lhs)
    plain = {Tensor(v.name, v.slots, v.legs, ()): f for v, f in facts.items()}

    def strip(n: Node) -> Node:
        if isinstance(n, Tensor) and n.variable in facts:
            return Tensor(n.name, n.slots, n.legs, ())
        return n

    def restore(n: Node) -> Node:
        if isinstance(n, Tensor) and n.variable in plain:
            return Tensor(n.name, n.slots, n.legs, plain[n.variable])
        return n

    return postmap(simplify(postmap(lhs, strip)), restore)


def rule(
    lhs: Node,
    rhs: Node,
    patterns: Sequence[Tensor] = (),
    name: str = "rule",
    *,
    text: str = "",
    line: int | None = None,
) -> UserRule:
    """Make a user rewrite rule ``lhs => rhs`` for ``simplify(e, rules=[...])``.

    Args:
        lhs: the left side (a network, a function bubble, ...); any free legs.
        rhs: the right side, with the same free legs and sizes as ``lhs``.
        patterns: the pattern tensors: variables standing for any sub-expression with as many
            legs of the same sizes (``symtn.tensor("A", i=n, j=m)``). Every other tensor in the
            rule is a declared tensor that matches only itself.
        name: the rule's group name.
        text: the rule as written, for messages.
        line: its source line, for messages.

    Returns:
        A :class:`UserRule`. A rule mentioning only pattern tensors was verified numerically
        (an identity); one that mentions other tensors is a value constraint (``assumption``),
        accepted unverified.

    Raises:
        LegError: E206 if the sides' free legs or sizes differ.
        SymtnError: E213 if the identity is false (with the largest difference, where and the
            sizes used); E214 if the rule is unusable (a right-side pattern tensor missing on
            the left, or a left side that is a bare pattern tensor and would match anything).
    """
    what = f"rule {name}"
    for p in patterns:
        if not isinstance(p, Tensor):
            raise SymtnError(f"{what}: a pattern must be a tensor variable, got {p!r}", code="E214")
    check_same_legs(lhs, rhs, what)
    pvars = frozenset(p.variable for p in patterns)
    left = {t.variable for t in tensors(lhs)}
    missing = sorted(t.name for t in tensors(rhs) if t.variable in pvars and t.variable not in left)
    if missing:
        raise SymtnError(
            f"{what}: the right side uses pattern tensor {missing[0]}, which the left side does not bind",
            code="E214",
        )
    assumption = any(t.variable not in pvars for t in tensors(lhs) + tensors(rhs))
    norm = _normalise(lhs, patterns)
    if isinstance(norm, Zero):
        raise SymtnError(
            f"{what}: the left side simplifies to 0 with the built-in rules, so the rule would never fire",
            code="E214",
            help="the built-in rules already decide this; `show simplify(...)` of the left side shows it",
        )
    if isinstance(norm, Tensor) and norm.variable in pvars:
        raise SymtnError(
            f"{what}: the left side simplifies to the bare pattern tensor {norm.name}, which would match "
            "every expression",
            code="E214",
        )
    text = text or f"rule {name}: {lhs} => {rhs}"
    if not assumption:
        res = verify_rule(lhs, rhs)
        if not res.holds:
            raise SymtnError(
                f"{what} is false: {res.describe()}",
                code="E213",
                help="a rule must hold for every value of its pattern tensors; state a value "
                "constraint by naming declared tensors instead",
                notes=(text,),
            )
    return UserRule(name, norm, rhs, tuple(p.variable for p in patterns), assumption, text, line)
