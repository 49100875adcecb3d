"""Immutable, hash-consed IR nodes of a symbolic tensor network.

Every node has an ordered signature ``sig``: a tuple of ``(leg, size)`` pairs naming its free
legs (leg order is canonical for printing and evaluation, never part of meaning). Sizes are
sympy expressions. Nodes are interned: building the same node twice returns the same object,
so ``==`` is identity and ``e.func(*e.args) is e`` holds for every node ``e``. Constructors
validate (leg multiplicity, size agreement, payload types) and never simplify.

Node kinds:
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

from symtn.errors import LegError, SizeError, SymtnError

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
    """A hashing key that tells 1, 1.0 and True apart (recursively through tuples). Strings and
    nodes are their own keys (nothing of another type compares equal to them)."""
    if isinstance(x, (str, Node)):
        return x
    if isinstance(x, tuple):
        return tuple(v if isinstance(v, (str, Node)) else _typed(v) for v in x)
    return (type(x).__name__, x)


def size_str(size: Size) -> str:
    """Print a size in the notation's size syntax (``m * n``, ``768``)."""
    return str(size).replace("**", "^")


def size_mismatch(leg: str, a: Size, b: Size) -> SizeError:
    """E201 for a leg joining sizes ``a`` and ``b``; when both print alike (``n`` and ``n``), the
    help says they are different sympy symbols (a ``sympy.Symbol("n")`` without the positive
    integer assumptions is not the size ``"n"`` of ``symtn.tensor`` and of ``dim n``)."""
    help_text = None
    if size_str(a) == size_str(b):
        help_text = (
            f"these are two different sympy symbols named {size_str(a)}: give symbolic sizes as "
            f"strings (symtn.tensor('x', i='{size_str(a)}')), as `dim {size_str(a)}` does"
        )
    return SizeError(f"leg {leg} joins sizes {size_str(a)} and {size_str(b)}", code="E201", help=help_text)


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
        # Fast path: arguments already in normal form that name an existing node (normalising
        # is idempotent, so they would normalise to themselves) skip validation.
        try:
            key = (cls, _typed(args))
            hit = _TABLE.get(key)
        except TypeError:  # unhashable raw arguments (a list): normalise first
            key, hit = None, None
        if hit is not None:
            return hit
        normal = cls._normalise(*args)
        same = key is not None and len(normal) == len(args)
        if not (same and all(a is b for a, b in zip(normal, args, strict=True))):
            args = normal
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

        The drawing stage is looked up when called, never imported by the IR package. An
        expression too large to draw (E400) returns None, so that Jupyter shows its text instead
        of an error.
        """
        import importlib

        try:
            return str(importlib.import_module("symtn.lower.draw").draw(self))
        except SymtnError:
            return None

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


# The node kinds live in two modules; importing them here keeps ``symtn.ir.nodes`` the one place
# to import any node class from (they import Node from this module, so this comes last).
from symtn.ir.composite import (  # noqa: E402
    ONE,
    Bubble,
    Elementwise,
    Frozen,
    Product,
    Sum,
    arg_symbols,
    network_legs,
)
from symtn.ir.leaves import IVERSON_OPS, Delta, Iverson, Reshape, Shifted, Tensor, Zero  # noqa: E402

__all__ = [
    "IVERSON_OPS",
    "ONE",
    "Bubble",
    "Delta",
    "Elementwise",
    "Frozen",
    "Iverson",
    "Node",
    "Product",
    "Reshape",
    "Shifted",
    "Sig",
    "Size",
    "Sum",
    "Tensor",
    "Zero",
    "arg_symbols",
    "as_size",
    "network_legs",
    "size_str",
]
