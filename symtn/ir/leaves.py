"""Leaf node kinds of the IR: tensor variables and constant tensors (re-exported by nodes)."""

from __future__ import annotations

from typing import Any

import sympy as sp

from symtn.errors import LegError, SizeError
from symtn.ir.nodes import Node, Sig, Size, _check_legs, as_size, size_str


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
        """The declared form of this variable (legs named as its slots; cached)."""
        v = self._cache.get("variable")
        if v is None:
            legs = tuple(s for s, _ in self.slots)
            v = self._cache["variable"] = Tensor(self.name, self.slots, legs, self.facts)
        return v  # type: ignore[no-any-return]

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
