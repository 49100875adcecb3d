"""Backend-neutral contraction plans for tensor networks (docs/reference/planning.md).

A :class:`~symtn.ir.nodes.Product` is lowered to one einsum over integer labels. Copy tensors
are never materialised: a union-find over leg names joins the legs of every ``Delta`` into one
label. Reshape tensors ``R[x1..xk, y]`` are lowered the same way: the leg ``y`` is viewed as the
C-order digits ``(y1..yk)`` and each digit is joined to ``xi``, so a dense operand carrying ``y``
is reshaped (a view) into ``k`` axes, and an output leg ``y`` is merged back afterwards. When
reshapes disagree on how to factor a leg (``2 x 6`` against ``3 x 4``) the planner raises
:class:`ReshapeConflict` and the backend evaluates that reshape on its own.

Corner cases the plan records for the backend:
    - labels of the output that no dense operand carries (legs on deltas only): broadcast;
    - labels repeated in the output (two free legs joined by a delta): diagonal embedding;
    - labels carried by nothing but deltas and not in the output: a factor of their size;
    - order-0 deltas: a factor of their size; a ``Zero`` factor: the whole product is zero.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import sympy as sp
from networkx.utils import UnionFind
from opt_einsum import get_symbol

from symtn.ir.nodes import Delta, Node, Reshape, Zero


class ReshapeConflict(Exception):
    """Two reshapes factor one leg incompatibly; ``index`` is the factor to evaluate alone."""

    def __init__(self, index: int) -> None:
        super().__init__(f"reshape factor {index} conflicts with the network")
        self.index = index


@dataclass(frozen=True)
class Operand:
    """A dense factor of the einsum.

    Attributes:
        index: position of the factor in the network's factor list.
        shape: the shape the factor's value (axes in ``node.legs`` order) is reshaped to, one
            axis per label (a leg lowered through reshapes becomes several axes).
        labels: one integer label per axis of ``shape`` (repeats mean a diagonal).
    """

    index: int
    shape: tuple[int, ...]
    labels: tuple[int, ...]


@dataclass(frozen=True)
class NetworkPlan:
    """How to compute a network from the values of its dense factors.

    Attributes:
        operands: the dense factors with their einsum labels.
        einsum_out: distinct output labels that occur in some operand, in output order.
        out_labels: one label per digit axis of the result (may repeat; may be absent from the
            operands, which means broadcasting).
        label_sizes: the length of every label.
        out_shape: the final shape, one axis per output leg.
        scale: integer factor from order-0 deltas and labels carried by deltas only.
        zero: the network contains a ``Zero`` factor.
        label_legs: a leg name for every label (a representative of the joined legs), for
            messages that name an intermediate's legs.
    """

    operands: tuple[Operand, ...]
    einsum_out: tuple[int, ...]
    out_labels: tuple[int, ...]
    label_sizes: dict[int, int]
    out_shape: tuple[int, ...]
    scale: int
    zero: bool
    label_legs: dict[int, str] = field(default_factory=dict)


class _Legs:
    """Classes of equal leg names (``networkx.utils.UnionFind``), each optionally factored into
    digit classes."""

    def __init__(self, size: dict[str, int]) -> None:
        self.size = size
        self.classes = UnionFind(size)
        self.digits: dict[str, list[str]] = {}

    def find(self, leg: str) -> str:
        return self.classes[leg]  # type: ignore[no-any-return]

    def union(self, a: str, b: str, culprit: int) -> None:
        ra, rb = self.find(a), self.find(b)
        if ra == rb:
            return
        self.classes.union(ra, rb)
        root = self.find(ra)
        da, db = self.digits.pop(ra, None), self.digits.pop(rb, None)
        if da is None or db is None:
            kept = da if da is not None else db
            if kept is not None:
                self.digits[root] = kept
            return
        if [self.size[x] for x in da] != [self.size[x] for x in db]:
            raise ReshapeConflict(culprit)
        self.digits[root] = da
        for x, y in zip(da, db, strict=True):
            self.union(x, y, culprit)

    def factor(self, parts: list[str], whole: str, culprit: int) -> None:
        if len(parts) == 1:
            self.union(parts[0], whole, culprit)
            return
        root = self.find(whole)
        old = self.digits.get(root)
        if old is None:
            self.digits[root] = parts
            return
        if [self.size[x] for x in old] != [self.size[x] for x in parts]:
            raise ReshapeConflict(culprit)
        for x, y in zip(old, parts, strict=True):
            self.union(x, y, culprit)

    def leaves(self, leg: str, culprit: int, seen: tuple[str, ...] = ()) -> list[str]:
        root = self.find(leg)
        if root in seen:
            raise ReshapeConflict(culprit)
        parts = self.digits.get(root)
        if parts is None:
            return [root]
        out: list[str] = []
        for p in parts:
            out.extend(self.leaves(p, culprit, seen + (root,)))
        return out


def plan_network(
    factors: Sequence[Node], out_legs: Sequence[str], size_of: Callable[[sp.Expr], int]
) -> NetworkPlan:
    """Plan the contraction of ``factors`` (a network's factor list) to the legs ``out_legs``.

    Args:
        factors: the factors; a leg in two factors is a wire, a leg in one is free.
        out_legs: the free legs in the order the result's axes should have.
        size_of: evaluates a size expression to an int (bound sizes substituted).

    Returns:
        The plan; operands refer to factors by index. Deltas and reshapes are never operands.

    Raises:
        ReshapeConflict: two reshapes factor one leg in incompatible ways (or cyclically).
    """
    size: dict[str, int] = {}
    for f in factors:
        for leg, s in f.sig:
            size.setdefault(leg, size_of(s))
    legs = _Legs(size)
    scale = 1
    first_reshape = next((i for i, f in enumerate(factors) if isinstance(f, Reshape)), -1)
    for f in factors:
        if isinstance(f, Delta):
            if f.order == 0:
                scale *= size_of(f.dim)
            for leg in f.legs[1:]:
                legs.union(f.legs[0], leg, first_reshape)
    for i, f in enumerate(factors):
        if isinstance(f, Reshape):
            legs.factor([p for p, _ in f.parts], f.whole[0], i)

    label: dict[str, int] = {}

    def labels_of(leg: str) -> list[int]:
        return [label.setdefault(r, len(label)) for r in legs.leaves(leg, first_reshape)]

    operands: list[Operand] = []
    for i, f in enumerate(factors):
        if isinstance(f, (Delta, Reshape)):
            continue
        labs: list[int] = []
        for leg in f.legs:
            labs.extend(labels_of(leg))
        operands.append(Operand(i, (), tuple(labs)))
    out_labels: list[int] = []
    for leg in out_legs:
        out_labels.extend(labels_of(leg))

    carried = {x for op in operands for x in op.labels}
    for root in sorted({legs.find(leg) for leg in size}):
        if root in legs.digits:
            legs.leaves(root, first_reshape)  # raises ReshapeConflict on a cycle
        else:
            lab = label.setdefault(root, len(label))
            if lab not in carried and lab not in out_labels:
                scale *= size[root]
    label_sizes = {lab: size[root] for root, lab in label.items()}
    operands = [Operand(op.index, tuple(label_sizes[x] for x in op.labels), op.labels) for op in operands]
    einsum_out = tuple(dict.fromkeys(x for x in out_labels if x in carried))
    return NetworkPlan(
        operands=tuple(operands),
        einsum_out=einsum_out,
        out_labels=tuple(out_labels),
        label_sizes=label_sizes,
        out_shape=tuple(size[leg] for leg in out_legs),
        scale=scale,
        zero=any(isinstance(f, Zero) for f in factors),
        label_legs={lab: root for root, lab in label.items()},
    )


def einsum_equation(plan: NetworkPlan) -> str:
    """The plan's contraction as an einsum equation (``"ab,bc->ac"``; any number of labels)."""
    inputs = ",".join("".join(get_symbol(x) for x in op.labels) for op in plan.operands)
    return f"{inputs}->{''.join(get_symbol(x) for x in plan.einsum_out)}"
