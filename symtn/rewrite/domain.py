"""Domain facts in elementwise rules: operands declared ``positive`` or ``nonnegative``.

A tensor declared ``x: [i] positive`` has every entry > 0, so in a rule over it sympy may use
that assumption: ``sqrt(x^2) = abs(x) = x``, ``log(x * x) = log(x^2) = 2 log(x)``,
``(x^a)^b = x^(a b)``. The rule's symbol for such an operand is replaced by a sympy symbol with
the assumption, the expression is simplified with the rewrites that assumption licenses
(``expand_log``, ``powdenest``) and the plain symbol is put back. Terminates: it fires only
when that changes the rule, and the result is a fixpoint of the same rewrites.
"""

from __future__ import annotations

import sympy as sp

from symtn.ir.nodes import Elementwise, Node, Tensor, arg_symbols
from symtn.rewrite.elementwise_canon import rule_bubble


def sign_fact(node: Node) -> str | None:
    """``"positive"`` / ``"nonnegative"`` when every entry of ``node`` is declared so, else None."""
    if isinstance(node, Tensor):
        for kind in ("positive", "nonnegative"):
            if node.fact(kind) is not None:
                return kind
    return None


def domain_facts(node: Elementwise) -> Node | None:
    """Simplify the rule of ``node`` using its operands' declared signs (see the module note)."""
    xs = arg_symbols(len(node.operands))
    assumed: dict[sp.Symbol, sp.Symbol] = {}
    for x, o in zip(xs, node.operands, strict=True):
        kind = sign_fact(o)
        if kind is not None:
            assumed[x] = sp.Symbol(f"{x.name}_{kind}", **{kind: True})
    if not assumed:
        return None
    fn = node.fn.xreplace(assumed)
    fn = sp.powdenest(sp.expand_log(fn), force=False)
    back = fn.xreplace({v: k for k, v in assumed.items()})
    if back == node.fn:
        return None
    return rule_bubble(back, node.operands, node)


RULES = (domain_facts,)

__all__ = ["RULES", "domain_facts", "sign_fact"]
