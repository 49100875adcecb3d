"""User rules inside ``simplify``: extra entries of the rule table, with a firing budget.

``RuleSet.extend(table)`` files each network rule under Product (after the built-in rules, so
networks are flat and canonical when a rule is tried) and each single-node rule under its left
side's node kind. A firing whose result the built-in rules turn back into the node (a
commutation, say) does not count as a firing; any other firing counts against a budget, so two
rules that undo each other stop with E215 instead of recursing without end.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from functools import partial
from typing import Any

from symtn.errors import SymtnError
from symtn.ir.nodes import Node, Product, Sum
from symtn.rewrite.canonical import is_isomorphic
from symtn.rewrite.user_rules import UserRule, apply_network, apply_single, find_in_network

FIRING_BUDGET = 1000
"""User-rule firings allowed in one ``simplify`` call (guards rules that re-create their lhs)."""


class RuleSet:
    """User rules as extra entries of a ``simplify`` rule table, with a firing budget.

    Args:
        rules: the user rules, tried in order after the built-in rules of each node kind.
        budget: total firings allowed per ``simplify`` call; beyond it E215 is raised (a rule
            whose right side re-creates its left side would otherwise never stop).
    """

    def __init__(self, rules: Sequence[UserRule], budget: int = FIRING_BUDGET) -> None:
        for r in rules:
            if not isinstance(r, UserRule):
                raise SymtnError(
                    f"simplify(rules=...) takes rules made by symtn.rule, got {type(r).__name__}",
                    code="E214",
                )
        self.rules = tuple(rules)
        self.budget = budget
        self.fired = 0

    def extend(
        self, table: dict[type[Node], tuple[Callable[[Any], Node | None], ...]]
    ) -> dict[type[Node], tuple[Callable[[Any], Node | None], ...]]:
        """``table`` with this set's rules appended under the node kinds they can match."""
        out = dict(table)
        network = [r for r in self.rules if r.network is not None]
        if network:
            out[Product] = out.get(Product, ()) + (
                self._network_rule(network),
                self._distribute_rule(network),
            )
        for r in self.rules:
            if r.network is None:
                kind = type(r.lhs)
                out[kind] = out.get(kind, ()) + (self._single_rule(r),)
        return out

    def _fire(self, rule: UserRule, node: Node, result: Node, noop_check: bool = True) -> Node | None:
        if noop_check and (result is node or is_isomorphic(_builtin(result), node)):
            return None  # a firing the built-in rules undo (e.g. a commutation) is no firing
        self.fired += 1
        rule.stats["fired"] = rule.stats.get("fired", 0) + 1
        if self.fired > self.budget:
            raise SymtnError(
                f"user rules fired {self.budget} times without reaching a fixpoint (last: rule {rule.name})",
                code="E215",
                help=f"the right side of rule {rule.name} probably re-creates its left side; "
                "a rule must make progress (fewer factors, simpler functions)",
                notes=(str(rule),),
            )
        return result

    def _try(
        self, rule: UserRule, node: Node, kind: str, attempt: Callable[[UserRule], Node | None]
    ) -> Node | None:
        """Try ``rule`` (and its size specialisations) at ``node``; remember a miss on the node.

        Nodes are immutable, so what ``rule`` does at ``node`` (nothing, or one result) stays
        true: later visits (other ``simplify`` calls, shared sub-networks) skip the search.
        """
        misses, hits = rule.misses[kind], rule.hits[kind]
        if node in misses:
            return None
        hit = hits.get(node)
        if hit is not None:
            return self._fire(hit[0], node, hit[1], noop_check=False)
        for r in rule.at(node):
            out = attempt(r)
            if out is not None:
                fired = self._fire(r, node, out, noop_check=not kind.startswith("distribute"))
                if fired is not None:
                    hits[node] = (r, fired)
                    return fired
        misses.add(node)
        return None

    def _network_rule(self, rules: list[UserRule]) -> Callable[[Product], Node | None]:
        def fire(p: Product) -> Node | None:
            for rule in rules:
                out = self._try(rule, p, "network", lambda r: apply_network(r, p))
                if out is not None:
                    return out
            return None

        return fire

    def _distribute_rule(self, rules: list[UserRule]) -> Callable[[Product], Node | None]:
        """Distribute one sum factor of a network when that lets a network rule fire in its terms
        (``y @ (A + B)`` with ``y @ delta => 1`` hiding inside ``A`` and ``B``)."""

        def fire(p: Product) -> Node | None:
            for i, s in enumerate(p.args):
                if not isinstance(s, Sum) or len(s.terms) > 16:
                    continue
                others = p.args[:i] + p.args[i + 1 :]
                terms = [_flat(Product(*others, t)) for t in s.terms]
                spread = Sum(tuple(terms), s.coeffs)

                for rule in rules:
                    out = self._try(rule, p, f"distribute{i}", partial(_spread_if_match, terms, spread))
                    if out is not None:
                        return out
            return None

        return fire

    def _single_rule(self, rule: UserRule) -> Callable[[Node], Node | None]:
        def fire(node: Node) -> Node | None:
            return self._try(rule, node, "single", lambda r: apply_single(r, node))

        return fire


def _spread_if_match(terms: list[Node], spread: Node, r: UserRule) -> Node | None:
    """``spread`` (the distributed network) if ``r`` matches in one of its ``terms``."""
    hit = any(isinstance(t, Product) and find_in_network(r, t.args) for t in terms)
    return spread if hit else None


def _builtin(node: Node) -> Node:
    from symtn.rewrite.simplify import simplify

    return simplify(node)


def _flat(p: Product) -> Node:
    from symtn.rewrite.rules import flatten_product

    return flatten_product(p) or p
