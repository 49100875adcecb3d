"""Checked builders for IR expressions: the operators of the notation on nodes.

These implement docs/language.md (products, sums, relabelling, broadcasting) for both the
text frontend and the Python API, so both raise the same leg errors. They build nodes and never
simplify beyond trivial constant handling (a number times a node is a one-term Sum).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import sympy as sp

from symtn.errors import LegError, SizeError
from symtn.ir.nodes import (
    ONE,
    Bubble,
    Delta,
    Elementwise,
    Frozen,
    Node,
    Product,
    Reshape,
    Size,
    Sum,
    Tensor,
    Zero,
    arg_symbols,
    as_size,
    network_legs,
    size_mismatch,
    size_str,
)
from symtn.ir.walk import fresh, rename_legs

X0 = arg_symbols(1)[0]


def const(value: Any) -> Node:
    """A scalar constant (a sympy number or size expression) as a node."""
    c = sp.Float(value) if isinstance(value, float) else sp.sympify(value)
    if c == 0:
        return Zero(())
    if c == 1:
        return ONE
    return Sum((ONE,), (c,))


def lift(value: Any) -> Node:
    """Turn Python numbers and sympy scalars into nodes; nodes pass through."""
    if isinstance(value, Node):
        return value
    if isinstance(value, (int, float, sp.Expr)) and not isinstance(value, bool):
        return const(value)
    raise TypeError(f"cannot use {value!r} in a tensor expression")


def scalar_value(node: Node) -> sp.Expr | None:
    """The value of a constant scalar node (``const``), or None if ``node`` is not one."""
    if node is ONE:
        return sp.Integer(1)
    if isinstance(node, Zero) and not node.sig:
        return sp.Integer(0)
    if isinstance(node, Sum) and not node.sig:
        total = sp.Integer(0)
        for c, t in zip(node.coeffs, node.terms, strict=True):
            v = scalar_value(t)
            if v is None:
                return None
            total += c * v
        return total
    if isinstance(node, Delta) and node.order == 0:
        return node.dim
    return None


def scale(node: Node, c: Any) -> Node:
    """``c * node`` for a scalar coefficient ``c``."""
    c = sp.Float(c) if isinstance(c, float) else sp.sympify(c)
    if c == 1:
        return node
    if c == 0:
        return Zero(node.sig)
    if isinstance(node, Sum):
        return Sum(node.terms, tuple(c * k for k in node.coeffs))
    return Sum((node,), (c,))


def ones(sig: Sequence[tuple[str, Size]]) -> Node:
    """The all-ones tensor on the given legs (order-1 deltas)."""
    factors = [Delta(size, (leg,)) for leg, size in sig]
    return factors[0] if len(factors) == 1 else Product(*factors)  # no legs: the scalar 1


def delta(*legs: str, size: int | str | sp.Expr) -> Node:
    """The copy tensor ``delta[legs]`` of one size (identity for two legs)."""
    return Delta(as_size(size), legs)


def tensor(
    name: str,
    *legs: str | tuple[str, Any],
    facts: Sequence[tuple[Any, ...]] = (),
    positive: bool = False,
    nonnegative: bool = False,
    **sized: Any,
) -> Tensor:
    """A tensor variable: ``tensor("W", out=n, inp=m)`` or ``tensor("W", ("out", n), ("inp", m))``.

    Sizes are ints, sympy expressions, or strings (symbol names). ``positive=True`` /
    ``nonnegative=True`` declare every entry > 0 / >= 0 (the notation's modifiers of the same
    name): ``simplify`` uses them and ``check`` draws values that satisfy them.
    """
    signs = [(kind,) for kind, on in (("positive", positive), ("nonnegative", nonnegative)) if on]
    facts = (*facts, *signs)
    slots: list[tuple[str, Size]] = []
    for leg in legs:
        if isinstance(leg, tuple):
            slots.append((leg[0], as_size(leg[1])))
        else:  # a bare leg name: its size is the dim of the same name (docs/language.md, "Sizes and legs")
            slots.append((leg, as_size(leg)))
    slots.extend((k, as_size(v)) for k, v in sized.items())
    return Tensor(name, tuple(slots), tuple(s for s, _ in slots), tuple(facts))


def contract(*factors: Node) -> Node:
    """The wire product ``f1 @ f2 @ ...`` (E201 on size mismatch, E202 on a hyperedge)."""
    return Product(*factors)


def _kron_parts(a: Node, b: Node, shared: set[str]) -> tuple[Node, Node, list[Delta]]:
    """Rename shared legs apart in ``a`` and ``b`` and join them with order-3 copy tensors."""
    ma = {leg: fresh(leg) for leg in shared}
    mb = {leg: fresh(leg) for leg in shared}
    sizes = a.sizes
    deltas = [Delta(sizes[leg], (leg, ma[leg], mb[leg])) for leg in sorted(shared)]
    return rename_legs(a, ma), rename_legs(b, mb), deltas


def _check_shared_sizes(a: Node, b: Node) -> set[str]:
    sa, sb = a.sizes, b.sizes
    shared = set(sa) & set(sb)
    for leg in shared:
        if sa[leg] != sb[leg] and sp.simplify(sa[leg] - sb[leg]) != 0:
            raise size_mismatch(leg, sa[leg], sb[leg])
    return shared


def hadamard(a: Node, b: Node) -> Node:
    """Elementwise/outer product ``a * b``: shared legs are identified and kept (copy tensors)."""
    ca, cb = scalar_value(a), scalar_value(b)
    if ca is not None:
        return scale(b, ca)
    if cb is not None:
        return scale(a, cb)
    shared = _check_shared_sizes(a, b)
    if not shared:
        return Product(a, b)
    a2, b2, deltas = _kron_parts(a, b, shared)
    return Product(a2, b2, *deltas)


def contract_over(a: Node, b: Node, legs: Sequence[str]) -> Node:
    """``a *[L] b`` = ``sum[L](a * b)``: contract only ``L``, keep other shared legs (E205)."""
    for leg in legs:
        for side in (a, b):
            if leg not in side.legset:
                raise LegError(
                    f"*[{', '.join(legs)}] names {leg}, which is not a leg of an operand "
                    f"[{', '.join(side.legs)}]",
                    code="E205",
                )
    return sum_legs(hadamard(a, b), legs)


def outer(a: Node, b: Node) -> Node:
    """The strict outer product ``a ⊗ b`` (E209 if the operands share legs)."""
    shared = a.legset & b.legset
    if shared:
        raise LegError(
            f"⊗ operands share legs {', '.join(sorted(shared))}",
            code="E209",
            help="use `*` for an elementwise product over shared legs",
        )
    return hadamard(a, b)


def broadcast(node: Node, sig: Sequence[tuple[str, Size]]) -> Node:
    """Multiply ``node`` by ones on the legs of ``sig`` it lacks."""
    missing = [(leg, s) for leg, s in sig if leg not in node.legset]
    if not missing:
        return node
    c = scalar_value(node)
    if c is not None:
        return scale(ones(missing), c)
    return Product(node, *(Delta(s, (leg,)) for leg, s in missing))


def add(a: Node, b: Node, sign: int = 1) -> Node:
    """``a + b`` (``sign=-1``: ``a - b``); legs must nest (E203), the smaller side broadcasts."""
    la, lb = a.legset, b.legset
    if not (la <= lb or lb <= la):
        only_a = sorted(la - lb)
        only_b = sorted(lb - la)
        raise LegError(
            f"cannot add [{', '.join(a.legs)}] and [{', '.join(b.legs)}]: "
            f"neither leg set contains the other (only left: {', '.join(only_a)}; "
            f"only right: {', '.join(only_b)})",
            code="E203",
            help="`+` broadcasts only when one side's legs are a subset of the other's; "
            "check for a misspelt leg, or write an outer sum with `ones[...]`",
        )
    _check_shared_sizes(a, b)
    order = list(a.sig) + [p for p in b.sig if p[0] not in la]
    a2, b2 = broadcast(a, order), broadcast(b, order)
    terms: list[Node] = []
    coeffs: list[sp.Expr] = []
    for node, s in ((a2, 1), (b2, sign)):
        if isinstance(node, Zero):
            continue
        if isinstance(node, Sum):
            terms.extend(node.terms)
            coeffs.extend(s * c for c in node.coeffs)
        else:
            terms.append(node)
            coeffs.append(sp.Integer(s))
    if not terms:
        return Zero(tuple(order))
    return Sum(tuple(terms), tuple(coeffs))


def elementwise(fn: sp.Expr, *operands: Node) -> Node:
    """Apply the scalar rule ``fn(x0, ..., xk)`` entrywise; operands broadcast like ``*``."""
    fn = sp.sympify(fn)
    symbols = arg_symbols(len(operands))
    consts = [scalar_value(o) for o in operands]
    if any(c is not None for c in consts):
        fn = fn.subs({s: c for s, c in zip(symbols, consts, strict=True) if c is not None})
        keep = [o for o, c in zip(operands, consts, strict=True) if c is None]
        old = [s for s, c in zip(symbols, consts, strict=True) if c is None]
        fn = fn.subs(dict(zip(old, arg_symbols(len(keep)), strict=True)), simultaneous=True)
        operands = tuple(keep)
        symbols = arg_symbols(len(operands))
    if not operands:
        return const(sp.nsimplify(fn) if fn.is_Float else fn)
    order: list[tuple[str, Size]] = []
    for o in operands:
        for p in o.sig:
            if p[0] not in {x for x, _ in order}:
                order.append(p)
    for i in range(len(operands)):
        for j in range(i):
            _check_shared_sizes(operands[i], operands[j])
    operands = tuple(broadcast(o, order) for o in operands)
    if not fn.free_symbols:
        return scale(ones(order), fn) if order else const(fn)
    if fn == symbols[0] and len(operands) == 1:
        return operands[0]
    return Elementwise(fn, operands)


def divide(a: Node, b: Node) -> Node:
    """``a / b``: by a scalar constant, a coefficient; otherwise ``a * b^-1`` elementwise."""
    c = scalar_value(b)
    if c is not None:
        if c == 0:
            raise ValueError("division by the constant zero")
        return scale(a, 1 / c)
    return hadamard(a, elementwise(X0**-1, b))


def power(a: Node, k: Node) -> Node:
    """``a ^ k`` elementwise (``k`` a constant or a tensor broadcast like ``*``)."""
    c = scalar_value(k)
    base = scalar_value(a)
    if c is not None and base is not None:
        return const(sp.sympify(base) ** sp.sympify(c))
    if c is not None and sp.sympify(c).free_symbols:
        raise SizeError(
            f"the exponent {size_str(sp.sympify(c))} is a size: an elementwise power needs a number",
            code="E217",
            help="write a numeric exponent, or repeat the product (x * x) for a fixed size",
        )
    if c is not None:
        return elementwise(X0**c, a)
    x0, x1 = arg_symbols(2)
    return elementwise(x0**x1, a, k)


def sum_legs(node: Node, legs: Sequence[str]) -> Node:
    """``sum[L](node)``: contract each leg in ``L`` with a ones vector (E205 if not a leg)."""
    for leg in legs:
        if leg not in node.legset:
            raise LegError(
                f"sum[{', '.join(legs)}] names {leg}, which is not a leg of its argument "
                f"[{', '.join(node.legs)}]",
                code="E205",
            )
    if not legs:
        return node
    sizes = node.sizes
    return Product(node, *(Delta(sizes[leg], (leg,)) for leg in legs))


def project(node: Node, keep: Sequence[str]) -> Node:
    """``node -> [keep]``: sum every other free leg (E205 if a kept leg is missing)."""
    for leg in keep:
        if leg not in node.legset:
            raise LegError(
                f"-> [{', '.join(keep)}] names {leg}, which is not a leg of [{', '.join(node.legs)}]",
                code="E205",
            )
    return sum_legs(node, [leg for leg in node.legs if leg not in keep])


def rename(node: Node, mapping: dict[str, str]) -> Node:
    """Simultaneous rename of free legs (E103 for a missing source, E207 for a duplicate)."""
    for src in mapping:
        if src not in node.legset:
            from difflib import get_close_matches

            near = get_close_matches(src, node.legs, n=1)
            raise LegError(
                f"{'tensor' if isinstance(node, Tensor) else 'expression'} has legs "
                f"[{', '.join(node.legs)}]; no leg {src} to rename",
                code="E103",
                help=f"did you mean {near[0]}?" if near else None,
            )
    result = [mapping.get(leg, leg) for leg in node.legs]
    dup = sorted({x for x in result if result.count(x) > 1})
    if dup:
        raise LegError(f"renaming gives two legs named {', '.join(dup)}", code="E207")
    return rename_legs(node, mapping)


def merge(node: Node, parts: Sequence[str], whole: str) -> Node:
    """Merge legs ``parts`` into one leg ``whole`` (C order, first part slowest; E103)."""
    for p in parts:
        if p not in node.legset:
            raise LegError(f"expression has legs [{', '.join(node.legs)}]; no leg {p} to merge", code="E103")
    sizes = node.sizes
    total = sp.Integer(1)
    for p in parts:
        total *= sizes[p]
    if whole in node.legset and whole not in parts:
        raise LegError(f"merging gives two legs named {whole}", code="E207")
    tmp = {p: fresh(p) for p in parts}
    moved = rename_legs(node, tmp)
    return Product(moved, Reshape(tuple((tmp[p], sizes[p]) for p in parts), (whole, total)))


def split(node: Node, whole: str, parts: Sequence[tuple[str, Size]]) -> Node:
    """Split leg ``whole`` into ``parts`` (sizes must multiply to its size; E208)."""
    if whole not in node.legset:
        raise LegError(f"expression has legs [{', '.join(node.legs)}]; no leg {whole} to split", code="E103")
    for p, _ in parts:
        if p in node.legset and p != whole:
            raise LegError(f"splitting gives two legs named {p}", code="E207")
    tmp = fresh(whole)
    moved = rename_legs(node, {whole: tmp})
    return Product(moved, Reshape(tuple(parts), (tmp, node.size(whole))))


def frozen(node: Node) -> Node:
    """``frozen(node)``: stop-gradient."""
    return Frozen(node)


def bubble(name: str, operand: Node, consumed: Sequence[str], produced: Sequence[tuple[str, Size]]) -> Node:
    """A leg-acting bubble (E205 when a consumed leg is not a leg of ``operand``)."""
    return Bubble(name, operand, tuple(consumed), tuple(produced))


__all__ = [
    "add",
    "broadcast",
    "bubble",
    "const",
    "contract",
    "contract_over",
    "delta",
    "divide",
    "elementwise",
    "frozen",
    "hadamard",
    "lift",
    "merge",
    "network_legs",
    "ones",
    "outer",
    "power",
    "project",
    "rename",
    "scalar_value",
    "scale",
    "split",
    "sum_legs",
    "tensor",
]
