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

from symtn.lower.draw.geom import Label, Outline, Path, Pt, Scene, Shape, bezier, boundary, label_offset
from symtn.lower.draw.layout import LABEL_H, Layout
from symtn.lower.draw.model import Model, Ref
from symtn.lower.draw.stubs import LEG_FONT, Placer
from symtn.lower.draw.text import text_width


class _Builder(Placer):
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
    # ------------------------------------------------------------- objects
    def _outlines(self, gid: int) -> None:
        g = self.m.groups[gid]
        ref: Ref = ("group", gid)
        outline: Outline | None = None
        if g.kind in ("bubble", "frozen", "sum"):
            box = self.lay.box(ref)
            members = [
                self.key(c) for c in g.children if c[0] == "leaf" or self.m.groups[c[1]].kind != "term"
            ]
            members += [
                self.key(x) for c in g.children if c[0] == "group" for x in self.m.groups[c[1]].children
            ]
            outline = Outline(self.key(ref), g.kind, box, g.label, members)
            self.scene.outlines.append(outline)
            self._obstacle(ref, box)
            if g.label:
                w = text_width(g.label, 12)
                name = self.key(ref) + "-label"
                lb = Label(g.label, box[0] + 7 + w / 2, box[1] + 2 + LABEL_H / 2, w, 14, "bubble", key=name)
                self.scene.labels.append(lb)
                self.taken.add(lb.box)
                outline.members.append(name)
        for c in g.children:
            if c[0] == "group":
                self._outlines(c[1])
        for i, (text, (x, y)) in enumerate(zip(g.coeffs, self.lay.coeff_at.get(gid, []), strict=False)):
            if text:
                name = f"{self.prefix}c{gid}-{i}"
                self.scene.labels.append(Label(text, x, y, text_width(text, 14), 16, "coeff", key=name))
                self.taken.add(self.scene.labels[-1].box)
                if outline is not None:
                    outline.members.append(name)

    def _shape(self, ref: Ref) -> None:
        leaf = self.m.leaves[ref[1]]
        box = self.lay.box(ref)
        kind = {"tensor": "triangle" if leaf.iso else "rect", "dot": "dot", "line": "point"}.get(
            leaf.kind, ""
        )
        kind = kind or ("text" if leaf.kind == "scalar" else "rect")
        cls = {"tensor": "tensor", "dot": "dot", "line": "joint", "box": "constant", "scalar": "scalar"}
        names = [cls[leaf.kind]] + list(leaf.marks) + (["isometry"] if leaf.iso else [])
        s = Shape(self.key(ref), kind, " ".join(names), box, leaf.label, leaf.title)
        self.shape[ref] = s
        self.scene.shapes.append(s)
        if kind != "point":
            self._obstacle(ref, box)
            self.taken.add(box)

    # ------------------------------------------------------------- wires
    def _wire_angles(self) -> None:
        self.bends: list[float] = []
        self.shifts: list[float] = []
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
            self.shifts.append(bend * 0.6)
            for end, other in ((w.a[0], w.b[0]), (w.b[0], w.a[0])):
                (x0, y0), (x1, y1) = self._center(end), self._center(other)
                angle = math.atan2(y1 - y0, x1 - x0) if end != other else -math.pi / 2
                self.used.setdefault(end, []).append(angle)

    def _wires(self) -> None:
        for w, bend, shift in zip(self.m.wires, self.bends, self.shifts, strict=True):
            a, b = w.a[0], w.b[0]
            ca, cb = self._center(a), self._center(b)
            if a != b and bend and (a[0] == "group" or b[0] == "group"):
                pa = self._port(a, cb, shift) if a[0] == "group" else ca
                pb = self._port(b, pa, shift) if b[0] == "group" else cb
                pts = [
                    pa if a[0] == "group" else self._clip(a, pb),
                    pb if b[0] == "group" else self._clip(b, pa),
                ]
                bend = 0.0
            elif a == b:
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
            thick = self.wide(w.a) or self.wide(w.b)
            self.scene.paths.append(Path("wire", pts, w.label, self.key(a), self.key(b), -bend, thick=thick))

    def _port(self, group: Ref, toward: Pt, shift: float) -> Pt:
        """A point on a group's border facing ``toward``, moved ``shift`` along that side (so
        several wires into one sum box or bubble arrive side by side)."""
        r = self._rect(group)
        x, y = boundary(None, r, toward)
        if min(abs(x - r[0]), abs(x - r[2])) < 0.5:
            return (x, min(max(y + shift, r[1] + 10), r[3] - 10))
        return (min(max(x + shift, r[0] + 10), r[2] - 10), y)

    def _wire_labels(self) -> None:
        for path in self.scene.paths:
            if path.kind != "wire" or not path.leg:
                continue
            w, h = text_width(path.leg, LEG_FONT), LEG_FONT + 2
            best: tuple[int, int] | None = None
            lb: Label | None = None
            for n, (t, side, far) in enumerate(
                (t, side, far)
                for far in (0.0, 8.0, 20.0)
                for t in (0.5, 0.35, 0.65, 0.2, 0.8)
                for side in (0.0, math.pi)
            ):
                p, q = bezier(path.pts, max(0.0, t - 0.05)), bezier(path.pts, min(1.0, t + 0.05))
                normal = math.atan2(q[1] - p[1], q[0] - p[0]) - math.pi / 2 + side
                c = bezier(path.pts, t)
                off = label_offset(w, h, normal) + far
                cand = Label(
                    path.leg,
                    c[0] + off * math.cos(normal),
                    c[1] + off * math.sin(normal),
                    w,
                    h,
                    "wire",
                    path.leg,
                )
                score = (self._crowded(cand.box), n)
                if best is None or score < best:
                    best, lb = score, cand
                if score[0] == 0:
                    break
            assert lb is not None
            self.scene.labels.append(lb)
            self.taken.add(lb.box)


def build_scene(m: Model, prefix: str = "") -> Scene:
    """Lay out ``m`` and turn it into a scene; ``prefix`` keeps object names unique when several
    scenes are composed into one picture."""
    return _Builder(m, Layout(m), prefix).run()
