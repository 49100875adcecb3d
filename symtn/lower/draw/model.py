"""IR -> diagram model: leaf shapes, nested groups (bubbles, sums), wires and leg stubs.

The model is the picture's graph before any geometry. Every occurrence of a node is drawn (a
shared subexpression appears once per use, as on paper). Leg names are scoped exactly as in the
IR: a nested product's wires are resolved inside it, so equal bound names in different scopes
never meet. Identity deltas are removed afterwards and become plain lines (``fuse_lines``).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from symtn.errors import SymtnError
from symtn.ir.nodes import (
    ONE,
    Bubble,
    Delta,
    Elementwise,
    Frozen,
    Iverson,
    Node,
    Product,
    Reshape,
    Shifted,
    Sum,
    Tensor,
    Zero,
    size_str,
)
from symtn.ir.printer import size_expr_str
from symtn.ir.walk import all_leg_names
from symtn.lower.draw.text import Namer, coeff_text, fact_text, flatten_sum, fn_label

MAX_LEAVES = 600
"""Drawing a bigger expansion is refused (shared subexpressions are drawn once per use)."""

Ref = tuple[str, int]
"""``("leaf", id)`` or ``("group", id)``: a drawable object of the model."""
End = tuple[Ref, int]
"""An object and one of its ports."""


@dataclass
class Leaf:
    """A shape: ``tensor``, ``dot`` (copy tensor), ``line`` (identity), ``box`` or ``scalar``."""

    id: int
    kind: str
    label: str
    group: int
    ports: list[str] = field(default_factory=list)
    iso: tuple[int, ...] = ()
    marks: tuple[str, ...] = ()
    title: str = ""
    wide: tuple[int, ...] = ()


@dataclass
class Group:
    """A nested region: ``root``, ``bubble``, ``frozen``, ``sum`` (terms in a row) or ``term``."""

    id: int
    kind: str
    label: str
    parent: int | None
    children: list[Ref] = field(default_factory=list)
    coeffs: list[str] = field(default_factory=list)
    ports: list[str] = field(default_factory=list)


@dataclass
class Wire:
    """A contracted leg between two ends."""

    a: End
    b: End
    label: str


@dataclass
class Stub:
    """A leg end drawn as a short open line: ``free`` (of the picture), ``term`` (free leg of a
    term inside a sum box) or ``consumed`` (a leg a bubble acts on, ending at its outline)."""

    end: End
    label: str
    kind: str
    container: int


class Model:
    """The diagram model of one expression (see module docstring).

    Args:
        node: the expression to draw.
        highlight: tensor names drawn as holes (the "before" view of a derivative).
        boxes: tensor names that stand for shared sub-expressions (drawn with the ``shared`` mark).

    Raises:
        SymtnError: E400 when the drawing would exceed ``MAX_LEAVES`` shapes.
    """

    def __init__(self, node: Node, highlight: Iterable[str] = (), boxes: Iterable[str] = ()) -> None:
        self.leaves: list[Leaf] = []
        self.groups: list[Group] = [Group(0, "root", "", None)]
        self.wires: list[Wire] = []
        self.stubs: list[Stub] = []
        self.highlight = tuple(highlight)
        self.boxes = frozenset(boxes)
        self.free = node.legs
        self.label = Namer({x for x in all_leg_names(node) if not x.startswith("_")})
        ends = self.piece(node, 0)
        for leg, end in ends.items():
            self.stubs.append(Stub(end, self.label(leg), "free", 0))
        from symtn.lower.draw.fuse import fuse_dots, fuse_lines

        fuse_dots(self)
        fuse_lines(self)

    # ------------------------------------------------------------- construction
    def leaf(self, kind: str, label: str, group: int, ports: list[str], **kw: object) -> Ref:
        if len(self.leaves) >= MAX_LEAVES:
            raise SymtnError(
                f"the drawing would have more than {MAX_LEAVES} shapes",
                code="E400",
                help="draw a smaller sub-expression, or simplify it first",
            )
        leaf = Leaf(len(self.leaves), kind, label, group, ports, **kw)  # type: ignore[arg-type]
        self.leaves.append(leaf)
        self.groups[group].children.append(("leaf", leaf.id))
        return ("leaf", leaf.id)

    def group(self, kind: str, label: str, parent: int) -> int:
        g = Group(len(self.groups), kind, label, parent)
        self.groups.append(g)
        self.groups[parent].children.append(("group", g.id))
        return g.id

    def piece(self, node: Node, g: int) -> dict[str, End]:
        """Draw ``node`` into group ``g``; return its open ends keyed by its free legs."""
        if isinstance(node, Tensor):
            return self._tensor(node, g)
        if isinstance(node, Delta):
            legs = list(node.args[1])
            if node.order == 0:
                self.leaf("scalar", size_expr_str(node.dim)[0], g, [])
                return {}
            kind = "line" if node.order == 2 else "dot"
            size = size_expr_str(node.dim)[0]
            ref = self.leaf(
                kind, size, g, [self.label(x) for x in legs], title=f"delta, size {size_str(node.dim)}"
            )
            return {x: (ref, i) for i, x in enumerate(legs)}
        if isinstance(node, (Shifted, Iverson, Reshape, Zero)):
            return self._constant(node, g)
        if isinstance(node, Product):
            return self._product(node, g)
        if isinstance(node, Sum):
            return self._sum(node, g)
        if isinstance(node, Elementwise):
            return self._elementwise(node, g)
        if isinstance(node, Bubble):
            b = self.group("bubble", "", g)
            inner = self.piece(node.operand, b)
            for leg in node.consumed:
                self.stubs.append(Stub(inner[leg], self.label(leg), "consumed", b))
            sub = ", ".join(self.label(x) for x in node.consumed)
            out = ", ".join(self.label(x) for x, _ in node.produced)
            self.groups[b].label = node.name + (f"[{sub}]" if sub else "") + (f" → [{out}]" if out else "")
            ends = {leg: e for leg, e in inner.items() if leg not in node.consumed}
            for leg, _ in node.produced:
                self.groups[b].ports.append(self.label(leg))
                ends[leg] = (("group", b), len(self.groups[b].ports) - 1)
            return ends
        if isinstance(node, Frozen):
            return self.piece(node.inner, self.group("frozen", "frozen", g))
        raise TypeError(f"cannot draw {type(node).__name__}")

    def _tensor(self, node: Tensor, g: int) -> dict[str, End]:
        slots = [s for s, _ in node.slots]
        marks: list[str] = []
        iso: tuple[int, ...] = ()
        for fact in node.facts:
            if fact[0] == "isometry":
                iso = tuple(slots.index(x) for x in fact[1])
            elif fact[0] in ("symmetric", "antisymmetric", "const"):
                marks.append(str(fact[0]))
        if node.name in self.highlight:
            marks.append("hole")
        if node.name in self.boxes:
            marks.append("shared")
        facts = "; ".join(
            f[0] + (f"({', '.join(map(fact_text, f[1]))})" if len(f) > 1 else "") for f in node.facts
        )
        title = f"{node.name}[{', '.join(slots)}]" + (f" {facts}" if facts else "")
        ports = [self.label(x) for x in node.legs]
        ref = self.leaf("tensor", node.name, g, ports, iso=iso, marks=tuple(marks), title=title)
        return {x: (ref, i) for i, x in enumerate(node.legs)}

    def _constant(self, node: Node, g: int) -> dict[str, End]:
        legs = list(node.legs)
        if isinstance(node, Shifted):
            k = node.args[3]
            label = f"δ{'+' if k >= 0 else '−'}{abs(k)}"
        elif isinstance(node, Iverson):
            _, a, op, b = node.args
            symbol = {"<=": "≤", ">=": "≥", "!=": "≠"}.get(op, op)
            label = f"[{Namer.base(a) or 'a'} {symbol} {Namer.base(b) or 'b'}]"
        elif isinstance(node, Reshape):
            label = "reshape"
        else:
            label = "0"
        sizes = ", ".join(f"{self.label(x) or '_'}: {size_str(s)}" for x, s in node.sig)
        wide = (len(legs) - 1,) if isinstance(node, Reshape) else ()  # the merged leg is drawn thick
        ref = self.leaf("box", label, g, [self.label(x) for x in legs], title=f"{label} [{sizes}]", wide=wide)
        return {x: (ref, i) for i, x in enumerate(legs)}

    def _product(self, node: Product, g: int) -> dict[str, End]:
        if node is ONE:
            self.leaf("scalar", "1", g, [])
            return {}
        seen: dict[str, End] = {}
        for factor in node.args:
            for leg, end in self.piece(factor, g).items():
                if leg in seen:
                    other = seen.pop(leg)
                    to_sum = any(
                        r[0] == "group" and self.groups[r[1]].kind == "sum" for r in (end[0], other[0])
                    )
                    self.wires.append(Wire(other, end, self.label(leg) if to_sum else Namer.base(leg)))
                else:
                    seen[leg] = end
        return {leg: seen[leg] for leg in node.legs}

    def _sum(self, node: Sum, g: int) -> dict[str, End]:
        parts = flatten_sum(node)
        if len(parts) == 1:  # a scaled network: the number stands beside it
            c, term = parts[0]
            if c != 1:
                self.leaf("scalar", coeff_text(c, True, True), g, [])
            return self.piece(term, g)
        s = self.group("sum", "", g)
        for i, (c, term) in enumerate(parts):
            self.groups[s].coeffs.append(coeff_text(c, i == 0, term is ONE))
            t = self.group("term", "", s)
            if term is not ONE:
                for leg, end in self.piece(term, t).items():
                    self.stubs.append(Stub(end, self.label(leg), "term", t))
        ends: dict[str, End] = {}
        for leg in node.legs:
            self.groups[s].ports.append(self.label(leg))
            ends[leg] = (("group", s), len(self.groups[s].ports) - 1)
        return ends

    def _elementwise(self, node: Elementwise, g: int) -> dict[str, End]:
        b = self.group("bubble", fn_label(node.fn, len(node.operands)), g)
        pieces = [self.piece(op, b) for op in node.operands]
        if len(pieces) == 1:
            return pieces[0]
        ends: dict[str, End] = {}
        for leg in node.legs:  # the operands' equal legs meet in a copy dot inside the bubble
            ref = self.leaf("dot", "", b, [self.label(leg)] * (len(pieces) + 1), title="copy")
            for i, p in enumerate(pieces):
                self.wires.append(Wire(p[leg], (ref, i), self.label(leg)))
            ends[leg] = (ref, len(pieces))
        return ends
