"""Open legs: each stub's direction is chosen from 16 candidates, close to the layout's
preference (chains outwards, trains downwards), away from the object's other legs and clear of
other shapes, outlines and labels; free legs run out through every bubble they sit in and are
labelled at their outer end. Also the shared state and geometry helpers of the scene builder."""

from __future__ import annotations

import math

from symtn.lower.draw.geom import (
    Grid,
    Label,
    Path,
    Pt,
    Rect,
    Scene,
    Shape,
    angle_gap,
    boundary,
    exit_distance,
    grow,
    label_offset,
    overlaps,
    segment_hits,
    union,
)
from symtn.lower.draw.layout import STUB, Layout
from symtn.lower.draw.model import End, Model, Ref
from symtn.lower.draw.text import text_width

LEG_FONT = 11.0


class Placer:
    """State shared while a model becomes a scene, and the placing of open legs."""

    def __init__(self, m: Model, lay: Layout, prefix: str) -> None:
        self.m, self.lay, self.scene, self.prefix = m, lay, Scene(), prefix
        self.shape: dict[Ref, Shape] = {}
        self.used: dict[Ref, list[float]] = {}
        self.obstacles = Grid()
        self.obstacle_refs: list[Ref] = []
        self.taken = Grid()

    def key(self, ref: Ref) -> str:
        """The stable name of an object (``n3`` for leaf 3, ``g2`` for group 2, after the prefix)."""
        return self.prefix + ("n" if ref[0] == "leaf" else "g") + str(ref[1])

    def _rect(self, ref: Ref) -> Rect:
        return self.shape[ref].box if ref in self.shape else self.lay.box(ref)

    def _center(self, ref: Ref) -> Pt:
        r = self._rect(ref)
        return ((r[0] + r[2]) / 2, (r[1] + r[3]) / 2)

    def wide(self, end: End) -> bool:
        """Whether a leg end is a merged leg (drawn thicker, as a bigger dimension)."""
        return end[0][0] == "leaf" and end[1] in self.m.leaves[end[0][1]].wide

    def _clip(self, ref: Ref, toward: Pt) -> Pt:
        return boundary(self.shape.get(ref), self._rect(ref), toward)

    def _obstacle(self, ref: Ref, box: Rect) -> None:
        self.obstacles.add(box)
        self.obstacle_refs.append(ref)

    def _crowded(self, box: Rect) -> int:
        """How many placed shapes and labels ``box`` touches."""
        box = grow(box, 1)
        return sum(overlaps(box, self.taken.rects[k]) for k in self.taken.near(box))

    # ------------------------------------------------------------- stubs
    def _ancestors(self, ref: Ref, container: int) -> list[Ref]:
        """Groups enclosing ``ref`` (itself included if a group) strictly inside ``container``."""
        out = []
        for r in self.lay.chain(ref):
            if r == ("group", container):
                break
            if r[0] == "group":
                out.append(r)
        return out

    def _stub_geometry(self, i: int, angle: float) -> tuple[Pt, Pt, Label]:
        st = self.m.stubs[i]
        ref = st.end[0]
        far = self._center(ref)
        start = self._clip(ref, (far[0] + 100 * math.cos(angle), far[1] + 100 * math.sin(angle)))
        if st.kind == "consumed":
            length = max(10.0, exit_distance(start, angle, self.lay.box(("group", st.container))) - 1)
        else:
            outs = [exit_distance(start, angle, self.lay.box(g)) for g in self._ancestors(ref, st.container)]
            length = max(outs + [0.0]) + STUB
        end = (start[0] + length * math.cos(angle), start[1] + length * math.sin(angle))
        w, h = text_width(st.label, LEG_FONT), LEG_FONT + 2
        if st.kind == "consumed":
            mid = (start[0] + 0.55 * length * math.cos(angle), start[1] + 0.55 * length * math.sin(angle))
            off = label_offset(w, h, angle + math.pi / 2)
            c = (mid[0] + off * math.cos(angle + math.pi / 2), mid[1] + off * math.sin(angle + math.pi / 2))
        else:
            off = label_offset(w, h, angle)
            c = (end[0] + off * math.cos(angle), end[1] + off * math.sin(angle))
        return start, end, Label(st.label, c[0], c[1], w, h, st.kind, st.label)

    def _stub_direction(self, i: int) -> float:
        st = self.m.stubs[i]
        ref = st.end[0]
        pref = self.lay.preferred(ref)
        if pref is None:
            home = self._center(("group", st.container))
            cx, cy = self._center(ref)
            pref = math.atan2(cy - home[1], cx - home[0]) if math.dist((cx, cy), home) > 1 else math.pi
        inside = set(self.lay.chain(ref))
        best, best_cost = pref, math.inf
        for k in range(16):
            angle = k * math.pi / 8
            sep = min([angle_gap(angle, u) for u in self.used.get(ref, [])] + [math.pi])
            cost = angle_gap(angle, pref) + 6 * max(0.0, 1.0 - sep)
            start, end, lb = self._stub_geometry(i, angle)
            for k in self.obstacles.near(union([lb.box, (*start, *start), (*end, *end)])):
                box = self.obstacles.rects[k]
                if self.obstacle_refs[k] in inside:
                    continue
                if segment_hits(start, end, box) or overlaps(lb.box, box):
                    cost += 10
            cost += 10 * self._crowded(lb.box)
            if cost < best_cost - 1e-9:
                best, best_cost = angle, cost
        self.used.setdefault(ref, []).append(best)
        self.taken.add(self._stub_geometry(i, best)[2].box)
        return best

    def _orient_triangles(self, stub_dirs: list[float]) -> None:
        for ref, s in self.shape.items():
            leaf = self.m.leaves[ref[1]]
            if s.kind != "triangle":
                continue
            xs = [
                math.cos(a)
                for st, a in zip(self.m.stubs, stub_dirs, strict=True)
                if st.end[0] == ref and st.end[1] in leaf.iso
            ]
            for w in self.m.wires:
                for end, other in ((w.a, w.b), (w.b, w.a)):
                    if end[0] == ref and end[1] in leaf.iso:
                        xs.append(self._center(other[0])[0] - s.center[0])
            s.tip = "left" if sum(xs) < 0 else "right"

    def _stub(self, i: int, angle: float) -> None:
        st = self.m.stubs[i]
        start, end, lb = self._stub_geometry(i, angle)
        self.scene.paths.append(
            Path(
                st.kind,
                [start, end],
                st.label,
                self.key(st.end[0]),
                None,
                angle=angle,
                length=math.dist(start, end),
                thick=self.wide(st.end),
            )
        )
        if lb.text:
            self.scene.labels.append(lb)
