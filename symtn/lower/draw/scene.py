"""Model + layout -> a scene of positioned primitives that the SVG and TikZ writers print.

Wires run centre to centre, clipped at the shapes (parallel wires between the same two objects
bend apart). Each open leg gets a stub whose direction is chosen from 16 candidates: close to
the layout's preference (chains outwards, trains downwards), away from the object's other legs,
and clear of other shapes, outlines and labels. Free legs run out through every bubble they sit
in and are labelled at their outer end, once. Labels never sit on shapes or on each other
where a free spot exists.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from symtn.lower.draw.geom import (
    Label,
    Outline,
    Path,
    Pt,
    Rect,
    Shape,
    angle_gap,
    bezier,
    boundary,
    exit_distance,
    grow,
    label_offset,
    overlaps,
    segment_hits,
    union,
)
from symtn.lower.draw.layout import LABEL_H, Layout
from symtn.lower.draw.model import Model, Ref
from symtn.lower.draw.text import text_width

LEG_FONT, STUB = 11.0, 24.0


@dataclass
class Scene:
    """Everything a writer draws, in drawing order (outlines, paths, shapes, labels)."""

    shapes: list[Shape] = field(default_factory=list)
    outlines: list[Outline] = field(default_factory=list)
    paths: list[Path] = field(default_factory=list)
    labels: list[Label] = field(default_factory=list)

    def bbox(self) -> Rect:
        """The extent of everything drawn."""
        rects = [s.box for s in self.shapes] + [o.box for o in self.outlines] + [lb.box for lb in self.labels]
        rects += [union([(x, y, x, y) for x, y in p.pts]) for p in self.paths]
        return union(rects)

    def translate(self, dx: float, dy: float) -> Scene:
        """Move everything by ``(dx, dy)`` in place; returns ``self``."""

        def mv(r: Rect) -> Rect:
            return (r[0] + dx, r[1] + dy, r[2] + dx, r[3] + dy)

        for s in self.shapes:
            s.box = mv(s.box)
        for o in self.outlines:
            o.box = mv(o.box)
        for p in self.paths:
            p.pts = [(x + dx, y + dy) for x, y in p.pts]
        for lb in self.labels:
            lb.x, lb.y = lb.x + dx, lb.y + dy
        return self

    def extend(self, other: Scene) -> None:
        """Add another scene's primitives."""
        self.shapes += other.shapes
        self.outlines += other.outlines
        self.paths += other.paths
        self.labels += other.labels


def key(ref: Ref) -> str:
    """The stable name of an object (``n3`` for leaf 3, ``g2`` for group 2)."""
    return ("n" if ref[0] == "leaf" else "g") + str(ref[1])


class _Builder:
    def __init__(self, m: Model, lay: Layout) -> None:
        self.m, self.lay, self.scene = m, lay, Scene()
        self.shape: dict[Ref, Shape] = {}
        self.used: dict[Ref, list[float]] = {}
        self.obstacles: list[tuple[Ref, Rect]] = []
        self.taken: list[Rect] = []

    def run(self) -> Scene:
        self._outlines(0)
        for leaf in self.m.leaves:
            if leaf.kind != "gone":
                self._shape(("leaf", leaf.id))
        self._wire_angles()
        stub_dirs = [self._stub_direction(i) for i in range(len(self.m.stubs))]
        self._orient_triangles(stub_dirs)
        self._wires()
        for i, angle in enumerate(stub_dirs):
            self._stub(i, angle)
        self._wire_labels()
        return self.scene

    # ------------------------------------------------------------- objects
    def _outlines(self, gid: int) -> None:
        g = self.m.groups[gid]
        ref: Ref = ("group", gid)
        if g.kind in ("bubble", "frozen", "sum"):
            box = self.lay.box(ref)
            members = [key(c) for c in g.children if c[0] == "leaf" or self.m.groups[c[1]].kind != "term"]
            members += [key(x) for c in g.children if c[0] == "group" for x in self.m.groups[c[1]].children]
            self.scene.outlines.append(Outline(key(ref), g.kind, box, g.label, members))
            self.obstacles.append((ref, box))
            if g.label:
                w = text_width(g.label, 12)
                lb = Label(g.label, box[0] + 7 + w / 2, box[1] + 2 + LABEL_H / 2, w, 14, "bubble")
                self.scene.labels.append(lb)
                self.taken.append(lb.box)
        for c in g.children:
            if c[0] == "group":
                self._outlines(c[1])
        for text, (x, y) in zip(g.coeffs, self.lay.coeff_at.get(gid, []), strict=False):
            if text:
                self.scene.labels.append(Label(text, x, y, text_width(text, 14), 16, "coeff"))
                self.taken.append(self.scene.labels[-1].box)

    def _shape(self, ref: Ref) -> None:
        leaf = self.m.leaves[ref[1]]
        box = self.lay.box(ref)
        kind = {"tensor": "triangle" if leaf.iso else "rect", "dot": "dot", "line": "point"}.get(leaf.kind, "")
        kind = kind or ("text" if leaf.kind == "scalar" else "rect")
        cls = {"tensor": "tensor", "dot": "dot", "line": "joint", "box": "constant", "scalar": "scalar"}
        names = [cls[leaf.kind]] + list(leaf.marks) + (["isometry"] if leaf.iso else [])
        s = Shape(key(ref), kind, " ".join(names), box, leaf.label, leaf.title)
        self.shape[ref] = s
        self.scene.shapes.append(s)
        if kind != "point":
            self.obstacles.append((ref, box))
            self.taken.append(box)

    def _rect(self, ref: Ref) -> Rect:
        return self.shape[ref].box if ref in self.shape else self.lay.box(ref)

    def _center(self, ref: Ref) -> Pt:
        r = self._rect(ref)
        return ((r[0] + r[2]) / 2, (r[1] + r[3]) / 2)

    # ------------------------------------------------------------- wires
    def _wire_angles(self) -> None:
        self.bends: list[float] = []
        count: dict[tuple[Ref, Ref], int] = {}
        for w in self.m.wires:
            pair = (min(w.a[0], w.b[0]), max(w.a[0], w.b[0]))
            count[pair] = count.get(pair, 0) + 1
        seen: dict[tuple[Ref, Ref], int] = {}
        for w in self.m.wires:
            pair = (min(w.a[0], w.b[0]), max(w.a[0], w.b[0]))
            k, n = seen.get(pair, 0), count[pair]
            seen[pair] = k + 1
            bend = 0.0 if n == 1 or w.a[0] == w.b[0] else (k - (n - 1) / 2) * 28.0
            self.bends.append(bend if w.a[0] <= w.b[0] else -bend)
            for end, other in ((w.a[0], w.b[0]), (w.b[0], w.a[0])):
                (x0, y0), (x1, y1) = self._center(end), self._center(other)
                angle = math.atan2(y1 - y0, x1 - x0) if end != other else -math.pi / 2
                self.used.setdefault(end, []).append(angle)

    def _wires(self) -> None:
        for w, bend in zip(self.m.wires, self.bends, strict=True):
            a, b = w.a[0], w.b[0]
            ca, cb = self._center(a), self._center(b)
            if a == b:
                r = self._rect(a)
                p0, p1 = (r[0] + 6, r[1]), (r[2] - 6, r[1])
                pts = [p0, ((r[0] + r[2]) / 2, r[1] - 50), p1]
            elif bend:
                mx, my = (ca[0] + cb[0]) / 2, (ca[1] + cb[1]) / 2
                d = math.dist(ca, cb) or 1.0
                ctrl = (mx - (cb[1] - ca[1]) / d * bend * 2, my + (cb[0] - ca[0]) / d * bend * 2)
                pts = [self._clip(a, ctrl), ctrl, self._clip(b, ctrl)]
            else:
                pts = [self._clip(a, cb), self._clip(b, ca)]
            self.scene.paths.append(Path("wire", pts, w.label, key(a), key(b), bend=-bend))

    def _clip(self, ref: Ref, toward: Pt) -> Pt:
        return boundary(self.shape.get(ref), self._rect(ref), toward)

    def _wire_labels(self) -> None:
        for path in self.scene.paths:
            if path.kind != "wire" or not path.leg:
                continue
            w, h = text_width(path.leg, LEG_FONT), LEG_FONT + 2
            first: Label | None = None
            for t in (0.5, 0.35, 0.65, 0.2, 0.8):
                p, q = bezier(path.pts, max(0.0, t - 0.05)), bezier(path.pts, min(1.0, t + 0.05))
                normal = math.atan2(q[1] - p[1], q[0] - p[0]) - math.pi / 2
                for side in (0.0, math.pi):
                    c = bezier(path.pts, t)
                    off = label_offset(w, h, normal + side)
                    lb = Label(path.leg, c[0] + off * math.cos(normal + side),
                               c[1] + off * math.sin(normal + side), w, h, "wire", path.leg)
                    first = first or lb
                    if not any(overlaps(grow(lb.box, 1), r) for r in self.taken):
                        break
                else:
                    continue
                break
            else:
                lb = first  # type: ignore[assignment]
            assert lb is not None
            self.scene.labels.append(lb)
            self.taken.append(lb.box)

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
            pref = math.atan2(cy - home[1], cx - home[0]) if math.dist((cx, cy), home) > 1 else math.pi / 2
        inside = set(self.lay.chain(ref))
        best, best_cost = pref, math.inf
        for k in range(16):
            angle = k * math.pi / 8
            sep = min([angle_gap(angle, u) for u in self.used.get(ref, [])] + [math.pi])
            cost = angle_gap(angle, pref) + 4 * max(0.0, 0.75 - sep)
            start, end, lb = self._stub_geometry(i, angle)
            for r, box in self.obstacles:
                if r in inside:
                    continue
                if segment_hits(start, end, box) or overlaps(lb.box, box):
                    cost += 10
            cost += 10 * sum(overlaps(grow(lb.box, 1), t) for t in self.taken)
            if cost < best_cost - 1e-9:
                best, best_cost = angle, cost
        self.used.setdefault(ref, []).append(best)
        self.taken.append(self._stub_geometry(i, best)[2].box)
        return best

    def _orient_triangles(self, stub_dirs: list[float]) -> None:
        for ref, s in self.shape.items():
            leaf = self.m.leaves[ref[1]]
            if s.kind != "triangle":
                continue
            xs = [math.cos(a) for st, a in zip(self.m.stubs, stub_dirs, strict=True)
                  if st.end[0] == ref and st.end[1] in leaf.iso]
            for w in self.m.wires:
                for end, other in ((w.a, w.b), (w.b, w.a)):
                    if end[0] == ref and end[1] in leaf.iso:
                        xs.append(self._center(other[0])[0] - s.center[0])
            s.tip = "left" if sum(xs) < 0 else "right"

    def _stub(self, i: int, angle: float) -> None:
        st = self.m.stubs[i]
        start, end, lb = self._stub_geometry(i, angle)
        self.scene.paths.append(Path(st.kind, [start, end], st.label, key(st.end[0]), None,
                                     angle=angle, length=math.dist(start, end)))
        if lb.text:
            self.scene.labels.append(lb)


def build_scene(m: Model) -> Scene:
    """Lay out ``m`` and turn it into a scene."""
    return _Builder(m, Layout(m)).run()
