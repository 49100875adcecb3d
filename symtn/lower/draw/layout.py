"""Placement: every group's children are arranged inside it, then groups nest as rectangles.

Groups are laid out bottom-up as compound nodes, so a bubble encloses exactly its sub-network
and nothing else. Inside a group: a chain of shapes goes in a line (a tensor train keeps all its
open legs pointing down), a ring goes round two rows, anything else is placed by networkx's
Kamada-Kawai layout (deterministic: no random start) and then pushed apart until no two boxes
overlap. Disconnected parts sit side by side in order of appearance. All coordinates are pixels.
"""

from __future__ import annotations

import math

from symtn.lower.draw.model import Model, Ref
from symtn.lower.draw.place import arrange, bbox
from symtn.lower.draw.text import text_width

PAD = {"bubble": 14.0, "frozen": 14.0, "sum": 10.0, "term": 30.0, "root": 0.0}
LABEL_H = 18.0
MAX_SUM_ROW = 900.0
"""A sum box wider than this (pixels) stacks its terms."""
STUB = 24.0
"""Length of an open leg beyond everything it crosses."""


def leaf_size(kind: str, label: str, iso: bool) -> tuple[float, float]:
    """Width and height of a leaf shape."""
    if kind in ("dot", "line", "gone"):
        return (10.0, 10.0) if kind == "dot" else (2.0, 2.0)
    if kind == "scalar":
        return (text_width(label, 14) + 6, 22.0)
    if kind == "box":
        return (max(30.0, text_width(label, 12) + 14), 24.0)
    w = max(36.0, text_width(label, 14) + 18)
    return (w + 16, 40.0) if iso else (w, 32.0)


class Layout:
    """Sizes and absolute centres of every leaf and group of a model.

    Attributes:
        center: ref -> absolute centre ``(x, y)``.
        size: ref -> ``(w, h)``.
        prefer: ref -> preferred direction (radians, y down) for the open legs of that object.
        coeff_at: sum group id -> centres of its coefficient texts.
    """

    def __init__(self, m: Model) -> None:
        self.m = m
        self._chains: dict[Ref, list[Ref]] = {}
        self.size: dict[Ref, tuple[float, float]] = {}
        self.rel: dict[Ref, tuple[float, float]] = {}
        self.prefer: dict[Ref, float] = {}
        self.coeff_rel: dict[int, list[tuple[float, float]]] = {}
        self.edges = self._edges_by_group()
        self.size[("group", 0)] = self._measure(0)
        self.center: dict[Ref, tuple[float, float]] = {}
        self.coeff_at: dict[int, list[tuple[float, float]]] = {}
        self._absolute(("group", 0), (0.0, 0.0))
        self._orient(0)

    def owner(self, ref: Ref) -> int:
        """The group directly containing ``ref``."""
        if ref[0] == "leaf":
            return self.m.leaves[ref[1]].group
        parent = self.m.groups[ref[1]].parent
        return -1 if parent is None else parent

    def chain(self, ref: Ref) -> list[Ref]:
        """``ref`` and its enclosing groups, innermost first."""
        hit = self._chains.get(ref)
        if hit is None:
            hit = [ref] if ref == ("group", 0) else [ref, *self.chain(("group", self.owner(ref)))]
            self._chains[ref] = hit
        return hit

    def _edges_by_group(self) -> dict[int, list[tuple[Ref, Ref, str]]]:
        out: dict[int, list[tuple[Ref, Ref, str]]] = {}
        for w in self.m.wires:
            ca, cb = self.chain(w.a[0]), self.chain(w.b[0])
            common = next(r for r in ca if r in cb)
            ia, ib = ca.index(common), cb.index(common)
            if ia and ib:
                out.setdefault(common[1], []).append((ca[ia - 1], cb[ib - 1], w.label))
        return out

    def _open_legs(self, child: Ref, gid: int) -> int:
        """How many legs leave ``child`` for somewhere outside its group ``gid``."""
        n = 0
        for w in self.m.wires:
            ca, cb = self.chain(w.a[0]), self.chain(w.b[0])
            if (child in ca) != (child in cb) and (("group", gid) not in ca or ("group", gid) not in cb):
                n += 1
        for st in self.m.stubs:
            if child in self.chain(st.end[0]) and child not in self.chain(("group", st.container)):
                n += 1
        return n

    # ------------------------------------------------------------- sizes
    def _measure(self, gid: int) -> tuple[float, float]:
        g = self.m.groups[gid]
        sizes: list[tuple[float, float]] = []
        for ref in g.children:
            if ref[0] == "group":
                sizes.append(self._measure(ref[1]))
            else:
                leaf = self.m.leaves[ref[1]]
                sizes.append(leaf_size(leaf.kind, leaf.label, bool(leaf.iso)))
            self.size[ref] = sizes[-1]
        if g.kind == "sum":
            pos = self._row(gid, sizes)
        else:
            index = {ref: i for i, ref in enumerate(g.children)}
            edges = [(index[a], index[b], text_width(lbl, 11)) for a, b, lbl in self.edges.get(gid, [])]
            pos, prefs = arrange(sizes, edges, [self._open_legs(c, gid) for c in g.children])
            for ref, p in zip(g.children, prefs, strict=True):
                if p is not None:
                    self.prefer[ref] = p
        at = self.coeff_rel.get(gid, [])
        texts = [(p, (text_width(c, 14), 18.0)) for p, c in zip(at, g.coeffs, strict=True)]
        x0, y0, x1, y1 = bbox(pos + [p for p, _ in texts], sizes + [s for _, s in texts])
        pad = pad_x = PAD[g.kind]
        if g.kind == "term":  # room for the term's open legs and their names
            names = [text_width(st.label, 11) for st in self.m.stubs if st.container == gid]
            pad_x = max(pad, STUB + 10 + max(names, default=0.0))
        top = LABEL_H if g.label else 0.0
        w = max(x1 - x0, text_width(g.label, 12) + 12 if g.label else 0.0) + 2 * pad_x
        h = (y1 - y0) + 2 * pad + top
        cx, cy = (x0 + x1) / 2, (y0 + y1) / 2 - top / 2
        for ref, (x, y) in zip(g.children, pos, strict=True):
            self.rel[ref] = (x - cx, y - cy)
        if gid in self.coeff_rel:
            self.coeff_rel[gid] = [(x - cx, y - cy) for x, y in self.coeff_rel[gid]]
        return (w, h)

    def _row(self, gid: int, sizes: list[tuple[float, float]]) -> list[tuple[float, float]]:
        """Terms of a sum side by side, each after its coefficient text; a sum wider than
        ``MAX_SUM_ROW`` becomes a column (a residual stream read top to bottom)."""
        coeffs = self.m.groups[gid].coeffs
        widths = [text_width(c, 14) + 4 if c else 0.0 for c in coeffs]
        column = len(sizes) > 1 and sum(w for w, _ in sizes) + sum(widths) > MAX_SUM_ROW
        indent = max(widths) if column else 0.0
        x = y = 0.0
        pos, texts = [], []
        for (w, h), cw in zip(sizes, widths, strict=True):
            if column:
                texts.append((indent - cw / 2 - 2, y + h / 2))
                pos.append((indent + w / 2, y + h / 2))
                y += h + 6
                continue
            texts.append((x + cw / 2, 0.0))
            pos.append((x + cw + w / 2, 0.0))
            x += cw + w + 4
        self.coeff_rel[gid] = texts
        return pos

    def _absolute(self, ref: Ref, at: tuple[float, float]) -> None:
        self.center[ref] = at
        if ref[0] == "group":
            g = self.m.groups[ref[1]]
            for child in g.children:
                dx, dy = self.rel[child]
                self._absolute(child, (at[0] + dx, at[1] + dy))
            if ref[1] in self.coeff_rel:
                self.coeff_at[ref[1]] = [(at[0] + dx, at[1] + dy) for dx, dy in self.coeff_rel[ref[1]]]

    # ------------------------------------------------------------- mirroring
    def _orient(self, gid: int) -> None:
        """Mirror each child group's content (top-down) so wires leaving it come out on the side
        facing what they connect to; a sum's row is kept in reading order."""
        for child in self.m.groups[gid].children:
            if child[0] != "group":
                continue
            if self.m.groups[child[1]].kind != "sum":
                cx, cy = self.center[child]
                cy += LABEL_H / 2 if self.m.groups[child[1]].label else 0.0
                best = min(((1, 1), (-1, 1), (1, -1), (-1, -1)), key=lambda f: self._reach(child, f))
                if best != (1, 1):
                    for sub in self.m.groups[child[1]].children:
                        self._mirror(sub, (cx, cy), best)
            self._orient(child[1])

    def _reach(self, group: Ref, flip: tuple[int, int]) -> float:
        """Total length of the wires leaving ``group`` if its content were mirrored by ``flip``."""
        cx, cy = self.center[group]
        total = 0.0
        for w in self.m.wires:
            ina, inb = group in self.chain(w.a[0]), group in self.chain(w.b[0])
            if ina == inb:
                continue
            (x, y), far = (
                (self.center[w.a[0]], self.center[w.b[0]])
                if ina
                else (self.center[w.b[0]], self.center[w.a[0]])
            )
            total += math.dist((cx + flip[0] * (x - cx), cy + flip[1] * (y - cy)), far)
        return round(total, 6)

    def _mirror(self, ref: Ref, c: tuple[float, float], flip: tuple[int, int]) -> None:
        x, y = self.center[ref]
        new = (c[0] + flip[0] * (x - c[0]), c[1] + flip[1] * (y - c[1]))
        if ref[0] == "group" and self.m.groups[ref[1]].kind == "sum":
            self._shift(ref, new[0] - x, new[1] - y)
            return
        self.center[ref] = new
        if ref in self.prefer:
            a = self.prefer[ref]
            self.prefer[ref] = math.atan2(flip[1] * math.sin(a), flip[0] * math.cos(a))
        if ref[0] == "group":
            for sub in self.m.groups[ref[1]].children:
                self._mirror(sub, c, flip)

    def _shift(self, ref: Ref, dx: float, dy: float) -> None:
        x, y = self.center[ref]
        self.center[ref] = (x + dx, y + dy)
        if ref[0] == "group":
            for sub in self.m.groups[ref[1]].children:
                self._shift(sub, dx, dy)
            if ref[1] in self.coeff_at:
                self.coeff_at[ref[1]] = [(px + dx, py + dy) for px, py in self.coeff_at[ref[1]]]

    def box(self, ref: Ref) -> tuple[float, float, float, float]:
        """``(x0, y0, x1, y1)`` of an object."""
        (x, y), (w, h) = self.center[ref], self.size[ref]
        return (x - w / 2, y - h / 2, x + w / 2, y + h / 2)

    def preferred(self, ref: Ref) -> float | None:
        """The preferred open-leg direction of ``ref`` or, failing that, of its enclosing groups."""
        for r in self.chain(ref):
            if r in self.prefer:
                return self.prefer[r]
        return None
