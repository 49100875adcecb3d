"""Immutable, hash-consed IR nodes of a symbolic tensor network.

Every node has an ordered signature ``sig``: a tuple of ``(leg, size)`` pairs naming its free
legs (leg order is canonical for printing and evaluation, never part of meaning). Sizes are
sympy expressions. Nodes are interned: building the same node twice returns the same object,
so ``==`` is identity and ``e.func(*e.args) is e`` holds for every node ``e``. Constructors
validate (leg multiplicity, size agreement, payload types) and never simplify.

Node kinds (DESIGN.md section 3):
    Tensor      a variable ``W`` with declared slots, the actual leg names and its facts.
    Delta       the copy tensor of any order (0: the size, 1: ones, 2: identity, >=3: copy).
    Shifted     the shifted delta ``delta[a, b + k]`` (1 where ``a = b + k``).
    Iverson     the Iverson bracket ``iverson[a op b]``.
    Reshape     the constant tensor joining legs ``x1..xk`` (C order) to one leg ``y``.
    Zero        the zero tensor with given legs.
    Product     a tensor network: legs shared by two factors are wires (summed).
    Sum         a weighted sum of terms with equal leg sets; weights are exact sympy numbers.
    Elementwise a function bubble applied entrywise; its rule is a sympy expression in x0..xk.
    Bubble      a leg-acting function (opaque user function, max/min, Jacobian bubbles).
    Frozen      stop-gradient: the value of its argument, derivative zero.
"""

from __future__ import annotations

import weakref
from collections.abc import Iterable
from typing import Any, ClassVar, TypeAlias

import sympy as sp

from symtn.errors import LegError, SizeError

Size: TypeAlias = sp.Expr
Sig: TypeAlias = tuple[tuple[str, Size], ...]

_TABLE: weakref.WeakValueDictionary[Any, Node] = weakref.WeakValueDictionary()


def as_size(value: int | str | sp.Expr) -> sp.Expr:
    """Normalise a size: int -> sympy Integer, str -> Symbol (positive integer), expr kept."""
    if isinstance(value, bool):
        raise SizeError(f"a size must be an integer or a symbol, not {value!r}", code="E110")
    if isinstance(value, int):
        if value < 1:
            raise SizeError(f"a size must be positive, not {value}", code="E110")
        return sp.Integer(value)
    if isinstance(value, str):
        return sp.Symbol(value, integer=True, positive=True)
    if isinstance(value, sp.Expr):
        return value
    raise SizeError(f"a size must be an integer or a symbol, not {value!r}", code="E110")


def _typed(x: Any) -> Any:
    """A hashing key that tells 1, 1.0 and True apart (recursively through tuples)."""
    if isinstance(x, Node):
        return x
    if isinstance(x, tuple):
        return tuple(_typed(v) for v in x)
    return (type(x).__name__, x)


def size_str(size: Size) -> str:
    """Print a size in the notation's size syntax (``m * n``, ``768``)."""
    return str(size).replace("**", "^")


class Node:
    """Base of all IR nodes: interned, immutable, with a free-leg signature ``sig``."""

    __slots__ = ("args", "sig", "_hash", "_legset", "_cache", "__weakref__")
    args: tuple[Any, ...]
    sig: Sig
    _hash: int
    _legset: frozenset[str]
    _cache: dict[str, Any]
    kind_order: ClassVar[int] = 0

    def __new__(cls, *args: Any) -> Node:
        args = cls._normalise(*args)
        key = (cls, _typed(args))
        hit = _TABLE.get(key)
        if hit is not None:
            return hit
        self = object.__new__(cls)
        sig = cls._signature(args)
        object.__setattr__(self, "args", args)
        object.__setattr__(self, "sig", sig)
        object.__setattr__(self, "_hash", hash(key))
        object.__setattr__(self, "_legset", frozenset(leg for leg, _ in sig))
        object.__setattr__(self, "_cache", {})
        _TABLE[key] = self
        return self

    def __setattr__(self, name: str, value: Any) -> None:
        raise AttributeError(f"{type(self).__name__} nodes are immutable")

    def __hash__(self) -> int:
        return self._hash

    def __eq__(self, other: object) -> bool:
        return self is other

    def __reduce__(self) -> tuple[Any, ...]:
        return (self.func, self.args)

    # ------------------------------------------------------------- structure
    @classmethod
    def _normalise(cls, *args: Any) -> tuple[Any, ...]:
        return args

    @classmethod
    def _signature(cls, args: tuple[Any, ...]) -> Sig:
        raise NotImplementedError

    @property
    def func(self) -> type[Node]:
        """The constructor: ``e.func(*e.args) is e``."""
        return type(self)

    @property
    def children(self) -> tuple[Node, ...]:
        """The child nodes, in order (reached through ``args``)."""
        return ()

    def with_children(self, children: tuple[Node, ...]) -> Node:
        """The same node with its children replaced (same count, same order)."""
        return self

    # ------------------------------------------------------------- legs
    @property
    def legs(self) -> tuple[str, ...]:
        """Free leg names in canonical order."""
        return tuple(leg for leg, _ in self.sig)

    @property
    def legset(self) -> frozenset[str]:
        """Free leg names as a set."""
        return self._legset

    def size(self, leg: str) -> Size:
        """The size of free leg ``leg``."""
        for name, size in self.sig:
            if name == leg:
                return size
        raise LegError(f"{self} has legs [{', '.join(self.legs)}]; no leg {leg}", code="E103")

    @property
    def sizes(self) -> dict[str, Size]:
        """Free legs mapped to their sizes."""
        return dict(self.sig)

    # ------------------------------------------------------------- python api
    def __str__(self) -> str:
        from symtn.ir.printer import to_notation

        return to_notation(self)

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self} : [{', '.join(self.legs)}]>"

    def _repr_svg_(self) -> str | None:
        """The expression drawn in graphical notation, for Jupyter (``symtn.draw``).

        The drawing stage is looked up when called, never imported by the IR package.
        """
        import importlib

        return str(importlib.import_module("symtn.lower.draw").draw(self))

    def __matmul__(self, other: Any) -> Node:
        from symtn.ir import algebra

        return algebra.contract(self, algebra.lift(other))

    def __rmatmul__(self, other: Any) -> Node:
        from symtn.ir import algebra

        return algebra.contract(algebra.lift(other), self)

    def __mul__(self, other: Any) -> Node:
        from symtn.ir import algebra

        return algebra.hadamard(self, algebra.lift(other))

    def __rmul__(self, other: Any) -> Node:
        from symtn.ir import algebra

        return algebra.hadamard(algebra.lift(other), self)

    def __truediv__(self, other: Any) -> Node:
        from symtn.ir import algebra

        return algebra.divide(self, algebra.lift(other))

    def __rtruediv__(self, other: Any) -> Node:
        from symtn.ir import algebra

        return algebra.divide(algebra.lift(other), self)

    def __add__(self, other: Any) -> Node:
        from symtn.ir import algebra

        return algebra.add(self, algebra.lift(other))

    def __radd__(self, other: Any) -> Node:
        from symtn.ir import algebra

        return algebra.add(algebra.lift(other), self)

    def __sub__(self, other: Any) -> Node:
        from symtn.ir import algebra

        return algebra.add(self, algebra.lift(other), sign=-1)

    def __rsub__(self, other: Any) -> Node:
        from symtn.ir import algebra

        return algebra.add(algebra.lift(other), self, sign=-1)

    def __neg__(self) -> Node:
        from symtn.ir import algebra

        return algebra.scale(self, -1)

    def __pow__(self, other: Any) -> Node:
        from symtn.ir import algebra

        return algebra.power(self, algebra.lift(other))

    def rename(self, mapping: dict[str, str] | None = None, **legs: str) -> Node:
        """Rename free legs simultaneously (``x.rename(t="s")``); raises LegError (E103, E207)."""
        from symtn.ir import algebra

        return algebra.rename(self, {**(mapping or {}), **legs})

    def __getitem__(self, mapping: dict[str, str]) -> Node:
        if not isinstance(mapping, dict):
            raise TypeError("index a tensor with a rename dict: x[{'t': 's'}]")
        return self.rename(mapping)


def _check_legs(legs: Iterable[str], what: str) -> tuple[str, ...]:
    legs = tuple(legs)
    for leg in legs:
        if not isinstance(leg, str) or not leg:
            raise LegError(f"{what}: leg names must be non-empty strings, got {leg!r}", code="E111")
    if len(set(legs)) != len(legs):
        dup = sorted({leg for leg in legs if legs.count(leg) > 1})
        raise LegError(f"{what}: duplicate leg name(s) {', '.join(dup)}", code="E207")
    return legs


class Tensor(Node):
    """A tensor variable occurrence.

    Args (in ``args`` order):
        name: the variable's name.
        slots: its declared signature ``((leg, size), ...)``; with ``name`` and ``facts`` this
            is the variable's identity.
        legs: the actual leg names of this occurrence, slot by slot.
        facts: sorted tuple of declared facts: ``("const",)``, ``("symmetric", groups)``,
            ``("antisymmetric", groups)``, ``("isometry", legs)``; groups are tuples of slot
            leg-name tuples (a plain symmetry lists groups of one leg).
    """

    __slots__ = ()
    kind_order = 1

    @classmethod
    def _normalise(cls, *args: Any) -> tuple[Any, ...]:
        name, slots, legs, facts = args
        if not isinstance(name, str) or not name:
            raise LegError(f"tensor name must be a non-empty string, got {name!r}", code="E101")
        slots = tuple((str(leg), as_size(size)) for leg, size in slots)
        _check_legs((leg for leg, _ in slots), f"tensor {name}")
        legs = _check_legs(legs, f"tensor {name}")
        if len(legs) != len(slots):
            raise LegError(
                f"{name} has {len(slots)} legs [{', '.join(s for s, _ in slots)}] "
                f"but {len(legs)} names were given",
                code="E102",
            )
        return (name, slots, legs, tuple(sorted(facts, key=repr)))

    @classmethod
    def _signature(cls, args: tuple[Any, ...]) -> Sig:
        return tuple((leg, size) for leg, (_, size) in zip(args[2], args[1], strict=True))

    @property
    def name(self) -> str:
        return str(self.args[0])

    @property
    def slots(self) -> Sig:
        return self.args[1]  # type: ignore[no-any-return]

    @property
    def facts(self) -> tuple[tuple[Any, ...], ...]:
        return self.args[3]  # type: ignore[no-any-return]

    @property
    def is_const(self) -> bool:
        return any(f[0] == "const" for f in self.facts)

    @property
    def variable(self) -> Tensor:
        """The declared form of this variable (legs named as its slots)."""
        return Tensor(self.name, self.slots, tuple(s for s, _ in self.slots), self.facts)

    def fact(self, kind: str) -> tuple[Any, ...] | None:
        for f in self.facts:
            if f[0] == kind:
                return f
        return None


class Delta(Node):
    """The copy tensor ``delta[l1, ..., lk]`` with all legs of one size.

    Value: 1 where all indices are equal. Order 0 is the size, order 1 the ones vector, order 2
    the identity matrix, order >= 3 a copy tensor (the "dot" of the diagrams).
    """

    __slots__ = ()
    kind_order = 2

    @classmethod
    def _normalise(cls, *args: Any) -> tuple[Any, ...]:
        size, legs = args
        return (as_size(size), _check_legs(legs, "delta"))

    @classmethod
    def _signature(cls, args: tuple[Any, ...]) -> Sig:
        return tuple((leg, args[0]) for leg in args[1])

    @property
    def dim(self) -> Size:
        return self.args[0]  # type: ignore[no-any-return]

    @property
    def order(self) -> int:
        return len(self.args[1])


class Shifted(Node):
    """The shifted delta ``delta[a, b + offset]``: 1 where ``a == b + offset``, else 0."""

    __slots__ = ()
    kind_order = 3

    @classmethod
    def _normalise(cls, *args: Any) -> tuple[Any, ...]:
        size, a, b, offset = args
        _check_legs((a, b), "delta")
        if not isinstance(offset, int) or isinstance(offset, bool):
            raise LegError(f"offset must be an integer, got {offset!r}", code="E113")
        return (as_size(size), a, b, offset)

    @classmethod
    def _signature(cls, args: tuple[Any, ...]) -> Sig:
        return ((args[1], args[0]), (args[2], args[0]))


IVERSON_OPS = ("<", "<=", ">", ">=", "!=")


class Iverson(Node):
    """The Iverson bracket ``iverson[a op b]``: 1 where the comparison of indices holds."""

    __slots__ = ()
    kind_order = 4

    @classmethod
    def _normalise(cls, *args: Any) -> tuple[Any, ...]:
        size, a, op, b = args
        _check_legs((a, b), "iverson")
        if op not in IVERSON_OPS:
            raise LegError(f"iverson: unknown comparison {op!r}", code="E113")
        return (as_size(size), a, op, b)

    @classmethod
    def _signature(cls, args: tuple[Any, ...]) -> Sig:
        return ((args[1], args[0]), (args[3], args[0]))


class Reshape(Node):
    """The constant reshape tensor ``R[x1, ..., xk, y]``: 1 where ``y`` is the C-order index
    of ``(x1, ..., xk)`` (x1 slowest). Contracting it merges or splits legs (einops, D6)."""

    __slots__ = ()
    kind_order = 5

    @classmethod
    def _normalise(cls, *args: Any) -> tuple[Any, ...]:
        parts, whole = args
        parts = tuple((str(leg), as_size(size)) for leg, size in parts)
        whole = (str(whole[0]), as_size(whole[1]))
        _check_legs([p for p, _ in parts] + [whole[0]], "reshape")
        total = sp.Integer(1)
        for _, size in parts:
            total *= size
        if sp.simplify(total - whole[1]) != 0:
            raise SizeError(
                f"reshape: {' * '.join(size_str(s) for _, s in parts)} does not equal {size_str(whole[1])}",
                code="E208",
            )
        return (parts, whole)

    @classmethod
    def _signature(cls, args: tuple[Any, ...]) -> Sig:
        return tuple(args[0]) + (args[1],)

    @property
    def parts(self) -> Sig:
        return self.args[0]  # type: ignore[no-any-return]

    @property
    def whole(self) -> tuple[str, Size]:
        return self.args[1]  # type: ignore[no-any-return]


class Zero(Node):
    """The zero tensor with the given legs."""

    __slots__ = ()
    kind_order = 0

    @classmethod
    def _normalise(cls, *args: Any) -> tuple[Any, ...]:
        (sig,) = args
        sig = tuple((str(leg), as_size(size)) for leg, size in sig)
        _check_legs((leg for leg, _ in sig), "zeros")
        return (sig,)

    @classmethod
    def _signature(cls, args: tuple[Any, ...]) -> Sig:
        return args[0]  # type: ignore[no-any-return]


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
                    raise SizeError(
                        f"leg {leg} joins sizes {size_str(size[leg])} and {size_str(s)}",
                        code="E201",
                    )
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
