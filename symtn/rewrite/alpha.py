"""Alpha keys: structural hashes of expressions up to an order-preserving renaming of legs.

``alpha_key(a) == alpha_key(b)`` means ``b`` is ``a`` with its legs renamed, free legs matched
by position in ``sig`` (bound legs anything): the two have equal values with axes in the same
order, so an evaluator may compute one array for both. Unlike :func:`canonical.canonical_key`
this does not identify reordered factors or terms (it is a syntactic key, not a canonical
form), but it is compositional: each node's key is built from its children's cached keys, so
keying every node of a DAG costs time linear in its size, however deep (the printed notation
up to renaming, used before, costs the size of each subtree per node).
"""

from __future__ import annotations

import hashlib
from typing import Any

import sympy as sp

from symtn.ir.nodes import Node, Sum, Tensor
from symtn.rewrite.encoding import deep_recursion, srepr


def _payload(x: Any, code: dict[str, str]) -> str:
    """The non-node arguments of a node, with leg names replaced by their codes."""
    if isinstance(x, Node):
        return "@"
    if isinstance(x, str):
        return code.get(x) or "s" + repr(x)
    if isinstance(x, tuple):
        return "(" + ",".join(_payload(v, code) for v in x) + ")"
    if isinstance(x, sp.Basic):
        return srepr(x)
    return f"{type(x).__name__}:{x!r}"


def _digest(*parts: str) -> str:
    return hashlib.blake2b("\x1f".join(parts).encode(), digest_size=16).hexdigest()


def _codes(node: Node) -> tuple[dict[str, str], list[str]]:
    """Free legs coded by position (``#k``), other legs met in the children by first
    appearance (``wk``); and each child's entry: its key with its legs' codes."""
    code = {leg: f"#{k}" for k, (leg, _) in enumerate(node.sig)}
    kids = []
    for child in node.children:
        legs = []
        for leg in child.legs:
            c = code.get(leg)
            if c is None:
                c = code[leg] = f"w{len(code)}"
            legs.append(c)
        kids.append(f"{alpha_key(child)}({','.join(legs)})")
    return code, kids


def alpha_key(node: Node) -> str:
    """The key of ``node`` up to an order-preserving renaming of its legs (cached on the node).

    Equal keys imply equal values with axes in ``sig`` order; computed from the node's kind,
    its payload (sizes, names, coefficients, rules, with leg names coded) and its children's
    keys with the codes of their legs.
    """
    key = node._cache.get("alpha")
    if key is None:
        with deep_recursion():
            code, kids = _codes(node)
        if isinstance(node, Tensor):  # slot names and facts are the variable's, never legs
            payload = _payload((node.name, node.slots, node.facts), {}) + _payload(node.legs, code)
        else:
            payload = _payload(node.args, code)
        key = node._cache["alpha"] = _digest(type(node).__name__, payload, *kids)
    return key  # type: ignore[no-any-return]


def sum_key(node: Sum) -> str:
    """Like :func:`alpha_key` for a sum, but also ignoring the order of its terms."""
    key = node._cache.get("alpha.sum")
    if key is None:
        code = {leg: f"#{k}" for k, (leg, _) in enumerate(node.sig)}
        terms = sorted(
            f"{srepr(c)}*{alpha_key(t)}({','.join(code[leg] for leg in t.legs)})"
            for c, t in zip(node.coeffs, node.terms, strict=True)
        )
        key = node._cache["alpha.sum"] = "SUM" + _digest(*terms)
    return key  # type: ignore[no-any-return]
