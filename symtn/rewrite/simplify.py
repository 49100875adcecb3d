"""``simplify``, ``expand`` and ``strip_frozen``: the rules applied bottom-up to a fixpoint.

The driver rewrites children before parents and memoises every result (a node is simplified at
most once, and hash-consing makes shared sub-networks shared work). At each node it tries the
rules filed under the node's type in order; when one fires, the result is simplified again
(its new children first). When none fires, Product factors and Sum terms are put in canonical
order (``canonical.sort_key``). Results are cached on the nodes, so ``simplify(simplify(e)) is
simplify(e)`` and repeated calls are free.

Strategies (``chain``, ``exhaust``, ``bottom_up``) compose rules for callers who want a
different schedule.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

import sympy as sp

from symtn.ir.depth import allow_deep_nesting
from symtn.ir.nodes import Frozen, Node, Product, Sum
from symtn.ir.recipes import carry
from symtn.rewrite.canonical import deep_recursion, sort_key
from symtn.rewrite.powers import free_antisymmetric
from symtn.rewrite.rules import MAX_TERMS, PREPARE, Rule, rule_table

if TYPE_CHECKING:
    from symtn.rewrite.user_rules import UserRule


def canonical_order(node: Node) -> Node:
    """``node`` with Product factors / Sum terms sorted by ``sort_key`` (same value and legs)."""
    if isinstance(node, Product) and len(node.args) > 1:
        factors = sorted(node.args, key=sort_key)
        if any(a is not b for a, b in zip(factors, node.args, strict=True)):
            return Product(*factors)
    elif isinstance(node, Sum) and len(node.terms) > 1:
        pairs = list(zip(node.terms, node.coeffs, strict=True))
        ordered = sorted(pairs, key=lambda tc: (sort_key(tc[0]), sp.srepr(tc[1])))
        if any(a[0] is not b[0] for a, b in zip(ordered, pairs, strict=True)):
            return Sum(tuple(t for t, _ in ordered), tuple(c for _, c in ordered))
    return node


class Simplifier:
    """Applies a rule table bottom-up to a fixpoint, memoised.

    Args:
        table: rules by node type (see ``rules.rule_table``).
        prepare: rules applied to a node before its children are simplified (default
            ``rules.PREPARE``: flatten nested networks in one linear pass).
        cache_key: when given, results are also stored in each node's ``_cache`` under this key,
            so they persist across calls; None keeps them in this object only.
    """

    def __init__(
        self,
        table: dict[type[Node], tuple[Rule, ...]],
        cache_key: str | None = None,
        prepare: dict[type[Node], Rule] | None = None,
    ) -> None:
        self.table = table
        self.prepare = PREPARE if prepare is None else prepare
        self.cache_key = cache_key
        self.memo: dict[Node, Node] = {}
        self.fired = 0

    def __call__(self, node: Node) -> Node:
        with deep_recursion():
            return self.simp(node)

    def lookup(self, node: Node) -> Node | None:
        hit = self.memo.get(node)
        if hit is None and self.cache_key is not None:
            hit = node._cache.get(self.cache_key)
        return hit

    def store(self, node: Node, out: Node) -> None:
        self.memo[node] = out
        if self.cache_key is not None:
            node._cache[self.cache_key] = out

    def simp(self, node: Node) -> Node:
        """The simplified form of ``node`` (children first, then local rules to a fixpoint)."""
        hit = self.lookup(node)
        if hit is not None:
            return hit
        m = node
        pre = self.prepare.get(type(node))
        if pre is not None:
            m = pre(node) or node
        kids = m.children
        if kids:
            new: list[Node] = []
            for k in kids:  # a plain loop: no C frames per level, so deep trees do not crash
                new.append(self.simp(k))
            if any(a is not b for a, b in zip(new, kids, strict=True)):
                m = m.with_children(tuple(new))
        out = self.lookup(m) if m is not node else None
        if out is None:
            out = self.local(m)
        self.store(node, out)
        self.store(m, out)
        self.store(out, out)
        return out

    def local(self, node: Node) -> Node:
        """Try the node's rules; simplify the first result, or order a node no rule changes."""
        for rule in self.table.get(type(node), ()):
            result = rule(node)
            if result is not None and result is not node:
                self.fired += 1
                return self.simp(result)
        return canonical_order(node)


@allow_deep_nesting
def simplify(
    node: Node, *, expand: bool = False, max_terms: int = MAX_TERMS, rules: Sequence[UserRule] = ()
) -> Node:
    """Rewrite ``node`` to its simplified canonical form.

    Flattens networks and sums, absorbs and merges copy tensors, fuses reshapes, propagates
    zeros, folds function bubbles, uses declared facts (symmetric, antisymmetric, isometry),
    merges powers in elementwise products (``x * x = x^2``, ``x / x = 1`` with sympy's
    convention: equal wherever the input is finite, see ``rewrite.powers``), collects like terms
    (equal up to renaming of bound legs, exact sympy coefficients) and orders factors and terms
    canonically.

    Args:
        node: any IR node.
        expand: also distribute networks over sums (the path expansion; see ``expand``).
        max_terms: with ``expand``, the largest sum the expansion may build.
        rules: user rewrite rules (``symtn.rule``, ``Program.rules``) applied after the built-in
            ones wherever their left side matches (see ``rewrite.user_rules``); a network with a
            sum factor is distributed when that lets a rule fire in its terms.

    Returns:
        An equal node with the same free legs and sizes (leg *order* may differ: it follows the
        canonical factor order). ``simplify`` is idempotent: ``simplify(simplify(e)) is
        simplify(e)`` (without user rules). Without ``expand`` no built-in rule multiplies terms,
        so the result is never larger than the input's sum-free networks (deep networks are
        flattened in linear time).

    Raises:
        SymtnError: E420 when ``expand`` would build a sum of more than ``max_terms`` terms;
            E215 when user rules keep firing without reaching a fixpoint.
    """
    table = rule_table(expand=expand, max_terms=max_terms)
    if rules:
        from symtn.rewrite.rule_set import RuleSet

        run = Simplifier(RuleSet(rules).extend(table))
    else:
        run = Simplifier(table, f"rewrite.expand.{max_terms}" if expand else "rewrite.simplify")
    out = run(node)
    for _ in range(3):  # antisymmetric tensors on free legs: sorted legs, sign outside
        signed = free_antisymmetric(out)
        if signed is out:
            break
        out = run(signed)
    return carry(node, out)  # a simplified derivative still evaluates by the backward sweep


def expand(node: Node, max_terms: int = MAX_TERMS) -> Node:
    """The path expansion: ``simplify`` with networks distributed over sums.

    The result is a flat weighted sum of networks (``frozen`` is pushed to the leaves, so it
    stays a stop-gradient); function bubbles are kept whole. Expansion is opt-in and bounded:
    a network of ``k`` two-term sums has ``2^k`` paths, so every sum the expansion builds is
    checked against ``max_terms`` before it is built.

    Args:
        node: any IR node.
        max_terms: the term budget (default ``rules.MAX_TERMS`` = 10000).

    Raises:
        SymtnError: E420 naming the budget when a sum would exceed ``max_terms`` terms.
    """
    return simplify(node, expand=True, max_terms=max_terms)


def postmap(node: Node, fn: Callable[[Node], Node]) -> Node:
    """``walk.postmap`` with plain loops (no C frame per level), safe on very deep trees."""
    memo: dict[Node, Node] = {}

    def go(n: Node) -> Node:
        hit = memo.get(n)
        if hit is None:
            kids = n.children
            new: list[Node] = []
            for k in kids:
                new.append(go(k))
            m = n.with_children(tuple(new)) if any(a is not b for a, b in zip(new, kids, strict=True)) else n
            hit = memo[n] = fn(m)
        return hit

    with deep_recursion():
        return go(node)


def strip_frozen(node: Node) -> Node:
    """``node`` with every ``frozen(x)`` replaced by ``x`` (same value; for ``check``)."""
    return postmap(node, lambda n: n.inner if isinstance(n, Frozen) else n)


# ------------------------------------------------------------------ strategies
def chain(*rules: Rule) -> Rule:
    """A rule trying ``rules`` in order and returning the first result."""

    def first(node: Node) -> Node | None:
        for rule in rules:
            out = rule(node)
            if out is not None:
                return out
        return None

    return first


def exhaust(rule: Rule, limit: int = 10_000) -> Callable[[Node], Node]:
    """Apply ``rule`` at the root until it no longer applies (at most ``limit`` times)."""

    def run(node: Node) -> Node:
        for _ in range(limit):
            out = rule(node)
            if out is None or out is node:
                return node
            node = out
        return node

    return run


def bottom_up(fn: Callable[[Node], Node]) -> Callable[[Node], Node]:
    """Apply ``fn`` to every node, children first (memoised; see ``postmap``)."""

    return lambda node: postmap(node, fn)
