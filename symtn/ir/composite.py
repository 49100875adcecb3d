"""Composite node kinds of the IR: networks, sums and function bubbles (re-exported by nodes)."""

from __future__ import annotations

from typing import Any

import sympy as sp

from symtn.errors import LegError, SizeError
from symtn.ir.nodes import Node, Sig, Size, _check_legs, as_size, size_mismatch, size_str


def network_legs(factors: tuple[Node, ...]) -> tuple[Sig, dict[str, int]]:
    """Free legs (first-appearance order) and occurrence counts of a list of factors.

    Raises:
        LegError: E202 when a leg name is shared by three or more factors.
        SizeError: E201 when a wire joins two different sizes.
    """
    count: dict[str, int] = {}
    size: dict[str, Size] = {}
    for f in factors:
        for leg, s in f.sig:
            if leg in count:
                if s != size[leg] and sp.simplify(s - size[leg]) != 0:
                    raise size_mismatch(leg, size[leg], s)
                count[leg] += 1
            else:
                count[leg] = 1
                size[leg] = s
    over = [leg for leg, c in count.items() if c > 2]
    if over:
        raise LegError(
            f"leg {over[0]} is shared by {count[over[0]]} factors of @",
            code="E202",
            help="a wire joins exactly two tensors: use `*` to keep a shared leg, a copy "
            "tensor delta[...] for a hyperedge, or relabel a chain: A[i, j] @ B[j, k] @ C[k, l]",
        )
    free = tuple((leg, size[leg]) for leg in count if count[leg] == 1)
    return free, count


class Product(Node):
    """A tensor network: the product of its factors, summed over wires.

    A leg name carried by exactly two factors is a wire (contracted and hidden); a leg carried
    by one factor is free. Three or more is E202. The empty product is the scalar 1.
    """

    __slots__ = ()
    kind_order = 6

    @classmethod
    def _normalise(cls, *args: Any) -> tuple[Any, ...]:
        for f in args:
            if not isinstance(f, Node):
                raise TypeError(f"Product factors must be nodes, got {f!r}")
        network_legs(args)
        return args

    @classmethod
    def _signature(cls, args: tuple[Any, ...]) -> Sig:
        return network_legs(args)[0]

    @property
    def children(self) -> tuple[Node, ...]:
        return self.args

    def with_children(self, children: tuple[Node, ...]) -> Node:
        return Product(*children)

    def wires(self) -> frozenset[str]:
        """Leg names joined between two factors."""
        if "wires" not in self._cache:
            _, count = network_legs(self.args)
            self._cache["wires"] = frozenset(leg for leg, c in count.items() if c == 2)
        return self._cache["wires"]  # type: ignore[no-any-return]


def _as_coeff(c: Any) -> sp.Expr:
    if isinstance(c, bool):
        raise TypeError("a coefficient must be a number")
    if isinstance(c, float):
        return sp.Float(c)
    return sp.sympify(c)  # type: ignore[no-any-return]


class Sum(Node):
    """A weighted sum ``c1 * t1 + c2 * t2 + ...`` of terms with equal leg sets.

    Args (in ``args`` order):
        terms: the terms (nodes with the same free legs and sizes).
        coeffs: exact sympy numbers or size expressions, one per term.
    The legs are ordered as the first term's.
    """

    __slots__ = ()
    kind_order = 7

    @classmethod
    def _normalise(cls, *args: Any) -> tuple[Any, ...]:
        terms, coeffs = args
        terms = tuple(terms)
        coeffs = tuple(_as_coeff(c) for c in coeffs)
        if not terms or len(terms) != len(coeffs):
            raise ValueError("a Sum needs one coefficient per term and at least one term")
        first = dict(terms[0].sig)
        for t in terms[1:]:
            other = dict(t.sig)
            if set(other) != set(first):
                raise LegError(
                    f"terms of a sum have legs [{', '.join(first)}] and [{', '.join(other)}]",
                    code="E203",
                )
            for leg, s in other.items():
                if s != first[leg] and sp.simplify(s - first[leg]) != 0:
                    raise SizeError(
                        f"leg {leg} has sizes {size_str(first[leg])} and {size_str(s)} in the terms of a sum",
                        code="E201",
                    )
        return (terms, coeffs)

    @classmethod
    def _signature(cls, args: tuple[Any, ...]) -> Sig:
        return args[0][0].sig  # type: ignore[no-any-return]

    @property
    def terms(self) -> tuple[Node, ...]:
        return self.args[0]  # type: ignore[no-any-return]

    @property
    def coeffs(self) -> tuple[sp.Expr, ...]:
        return self.args[1]  # type: ignore[no-any-return]

    @property
    def children(self) -> tuple[Node, ...]:
        return self.terms

    def with_children(self, children: tuple[Node, ...]) -> Node:
        return Sum(children, self.coeffs)


def arg_symbols(k: int) -> tuple[sp.Symbol, ...]:
    """The symbols ``x0 .. x{k-1}`` standing for an elementwise function's arguments."""
    return tuple(sp.Symbol(f"x{i}", real=True) for i in range(k))


class Elementwise(Node):
    """A function applied entry by entry: ``tanh(x)``, ``x^2``, ``pow(x, y)``.

    Args (in ``args`` order):
        fn: the scalar rule, a sympy expression in ``x0 .. x{k-1}`` (see ``arg_symbols``).
        operands: ``k`` nodes with the same leg set; the result has the first's legs.
    """

    __slots__ = ()
    kind_order = 8

    @classmethod
    def _normalise(cls, *args: Any) -> tuple[Any, ...]:
        fn, operands = args
        fn = sp.sympify(fn)
        operands = tuple(operands)
        if not operands:
            raise ValueError("an elementwise function needs at least one operand")
        legs = operands[0].legset
        for o in operands[1:]:
            if o.legset != legs:
                raise LegError(
                    "operands of an elementwise function must have the same legs: "
                    f"[{', '.join(operands[0].legs)}] and [{', '.join(o.legs)}]",
                    code="E203",
                )
        allowed = set(arg_symbols(len(operands)))
        if not fn.free_symbols <= allowed:
            raise ValueError(f"elementwise rule {fn} uses symbols outside {sorted(map(str, allowed))}")
        return (fn, operands)

    @classmethod
    def _signature(cls, args: tuple[Any, ...]) -> Sig:
        return args[1][0].sig  # type: ignore[no-any-return]

    @property
    def fn(self) -> sp.Expr:
        return self.args[0]  # type: ignore[no-any-return]

    @property
    def operands(self) -> tuple[Node, ...]:
        return self.args[1]  # type: ignore[no-any-return]

    @property
    def children(self) -> tuple[Node, ...]:
        return self.operands

    def with_children(self, children: tuple[Node, ...]) -> Node:
        return Elementwise(self.fn, children)


class Bubble(Node):
    """A leg-acting function bubble, lifted over the legs it does not act on.

    Args (in ``args`` order):
        name: the function (``max``, ``min``, a user's opaque ``f``, ``jac[f]``...).
        operand: the argument node.
        consumed: legs of ``operand`` the function acts on (in the function's declared order).
        produced: ``((leg, size), ...)`` legs the function creates.
    Legs of the result: the operand's other (lifted) legs, then ``produced``.
    """

    __slots__ = ()
    kind_order = 9

    @classmethod
    def _normalise(cls, *args: Any) -> tuple[Any, ...]:
        name, operand, consumed, produced = args
        consumed = tuple(consumed)
        produced = tuple((str(leg), as_size(size)) for leg, size in produced)
        for leg in consumed:
            if leg not in operand.legset:
                raise LegError(
                    f"{name} acts on leg {leg}, which is not a leg of its argument "
                    f"[{', '.join(operand.legs)}]",
                    code="E205",
                )
        lifted = [leg for leg in operand.legs if leg not in consumed]
        _check_legs(lifted + [p for p, _ in produced], f"{name}(...)")
        return (str(name), operand, consumed, produced)

    @classmethod
    def _signature(cls, args: tuple[Any, ...]) -> Sig:
        operand, consumed = args[1], args[2]
        return tuple(p for p in operand.sig if p[0] not in consumed) + tuple(args[3])

    @property
    def name(self) -> str:
        return str(self.args[0])

    @property
    def operand(self) -> Node:
        return self.args[1]  # type: ignore[no-any-return]

    @property
    def consumed(self) -> tuple[str, ...]:
        return self.args[2]  # type: ignore[no-any-return]

    @property
    def produced(self) -> Sig:
        return self.args[3]  # type: ignore[no-any-return]

    @property
    def children(self) -> tuple[Node, ...]:
        return (self.operand,)

    def with_children(self, children: tuple[Node, ...]) -> Node:
        return Bubble(self.name, children[0], self.consumed, self.produced)


class Frozen(Node):
    """``frozen(e)``: the value of ``e`` with derivative zero (stop-gradient)."""

    __slots__ = ()
    kind_order = 10

    @classmethod
    def _normalise(cls, *args: Any) -> tuple[Any, ...]:
        (inner,) = args
        if not isinstance(inner, Node):
            raise TypeError("frozen() takes a node")
        return (inner,)

    @classmethod
    def _signature(cls, args: tuple[Any, ...]) -> Sig:
        return args[0].sig  # type: ignore[no-any-return]

    @property
    def inner(self) -> Node:
        return self.args[0]  # type: ignore[no-any-return]

    @property
    def children(self) -> tuple[Node, ...]:
        return (self.args[0],)

    def with_children(self, children: tuple[Node, ...]) -> Node:
        return Frozen(children[0])


ONE = Product()
"""The scalar 1 (the empty network)."""
