"""Plane geometry for the diagrams: rectangles, rays, clipping and the drawable primitives.

Coordinates are pixels with y pointing down; angles are radians measured the same way
(``pi / 2`` points down the page).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

Pt = tuple[float, float]
Rect = tuple[float, float, float, float]
"""``(x0, y0, x1, y1)``."""


@dataclass
class Shape:
    """A leaf drawn as ``rect``, ``triangle`` (isometry), ``dot``, ``text`` (scalar) or ``point``."""

    key: str
    kind: str
    cls: str
    box: Rect
    label: str = ""
    title: str = ""
    tip: str = ""

    @property
    def center(self) -> Pt:
        return ((self.box[0] + self.box[2]) / 2, (self.box[1] + self.box[3]) / 2)

    def polygon(self) -> list[Pt]:
        """The triangle's corners (isometries), tip towards ``tip``."""
        x0, y0, x1, y1 = self.box
        cy = (y0 + y1) / 2
        if self.tip == "left":
            return [(x1, y0), (x1, y1), (x0, cy)]
        return [(x0, y0), (x0, y1), (x1, cy)]


@dataclass
class Outline:
    """A group's rounded outline: ``bubble``, ``frozen`` or ``sum``; ``members`` are the keys it
    encloses (for TikZ's fit)."""

    key: str
    kind: str
    box: Rect
    label: str
    members: list[str] = field(default_factory=list)


@dataclass
class Path:
    """A wire (``b`` set) or a stub (``b`` is None) from object ``a``.

    ``pts`` has 2 points for a straight line and 3 (start, control, end) for a quadratic curve.
    ``kind`` is ``wire``, ``free``, ``term`` or ``consumed``; ``angle``/``length`` describe a
    stub, ``bend`` a curved wire; ``thick`` marks a merged (reshaped) leg.
    """

    kind: str
    pts: list[Pt]
    leg: str
    a: str
    b: str | None = None
    bend: float = 0.0
    angle: float = 0.0
    length: float = 0.0
    thick: bool = False


@dataclass
class Label:
    """A text centred at ``(x, y)`` with its box size; ``kind`` is ``free``, ``term``,
    ``consumed``, ``wire``, ``bubble`` or ``coeff``."""

    text: str
    x: float
    y: float
    w: float
    h: float
    kind: str
    leg: str = ""
    key: str = ""

    @property
    def box(self) -> Rect:
        return (self.x - self.w / 2, self.y - self.h / 2, self.x + self.w / 2, self.y + self.h / 2)


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


def grow(r: Rect, m: float) -> Rect:
    """``r`` enlarged by ``m`` on every side."""
    return (r[0] - m, r[1] - m, r[2] + m, r[3] + m)


def overlaps(a: Rect, b: Rect) -> bool:
    """Whether two rectangles share interior points."""
    return a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3]


def contains(outer: Rect, inner: Rect) -> bool:
    """Whether ``inner`` lies inside ``outer``."""
    return outer[0] <= inner[0] and outer[1] <= inner[1] and inner[2] <= outer[2] and inner[3] <= outer[3]


def union(rects: list[Rect]) -> Rect:
    """The bounding rectangle of ``rects`` (a zero box at the origin for none)."""
    if not rects:
        return (0.0, 0.0, 0.0, 0.0)
    return (
        min(r[0] for r in rects),
        min(r[1] for r in rects),
        max(r[2] for r in rects),
        max(r[3] for r in rects),
    )


def exit_distance(p: Pt, angle: float, r: Rect) -> float:
    """How far a ray from ``p`` (inside ``r``) travels before leaving ``r``."""
    dx, dy = math.cos(angle), math.sin(angle)
    ts = []
    if dx > 1e-9:
        ts.append((r[2] - p[0]) / dx)
    if dx < -1e-9:
        ts.append((r[0] - p[0]) / dx)
    if dy > 1e-9:
        ts.append((r[3] - p[1]) / dy)
    if dy < -1e-9:
        ts.append((r[1] - p[1]) / dy)
    return max(0.0, min(ts)) if ts else 0.0


def boundary(shape: Shape | None, box: Rect, toward: Pt) -> Pt:
    """Where the segment from the centre of ``box`` (or ``shape``) to ``toward`` leaves it."""
    cx, cy = (box[0] + box[2]) / 2, (box[1] + box[3]) / 2
    angle = math.atan2(toward[1] - cy, toward[0] - cx)
    if shape is not None and shape.kind == "dot":
        t = (box[2] - box[0]) / 2
    elif shape is not None and shape.kind == "point":
        t = 0.0
    elif shape is not None and shape.kind == "triangle":
        t = _polygon_exit((cx, cy), angle, shape.polygon())
    else:
        t = exit_distance((cx, cy), angle, box)
    return (cx + t * math.cos(angle), cy + t * math.sin(angle))


def _polygon_exit(p: Pt, angle: float, poly: list[Pt]) -> float:
    dx, dy = math.cos(angle), math.sin(angle)
    best = 0.0
    for (ax, ay), (bx, by) in zip(poly, poly[1:] + poly[:1], strict=True):
        ex, ey = bx - ax, by - ay
        den = dx * ey - dy * ex
        if abs(den) < 1e-12:
            continue
        t = ((ax - p[0]) * ey - (ay - p[1]) * ex) / den
        u = ((ax - p[0]) * dy - (ay - p[1]) * dx) / den
        if t > 0 and -1e-9 <= u <= 1 + 1e-9:
            best = t if best == 0.0 else min(best, t)
    return best


def segment_hits(p: Pt, q: Pt, r: Rect) -> bool:
    """Whether segment ``pq`` meets rectangle ``r`` (Liang-Barsky)."""
    t0, t1 = 0.0, 1.0
    dx, dy = q[0] - p[0], q[1] - p[1]
    for d, lo, hi, s in ((dx, r[0], r[2], p[0]), (dy, r[1], r[3], p[1])):
        if abs(d) < 1e-12:
            if s <= lo or s >= hi:
                return False
            continue
        a, b = (lo - s) / d, (hi - s) / d
        if a > b:
            a, b = b, a
        t0, t1 = max(t0, a), min(t1, b)
        if t0 >= t1:
            return False
    return True


def angle_gap(a: float, b: float) -> float:
    """The unsigned difference of two directions, in ``[0, pi]``."""
    d = (a - b) % (2 * math.pi)
    return min(d, 2 * math.pi - d)


def label_offset(w: float, h: float, angle: float) -> float:
    """How far a ``w x h`` label's centre sits from a point so it clears it in direction ``angle``."""
    return (w / 2) * abs(math.cos(angle)) + (h / 2) * abs(math.sin(angle)) + 3


def bezier(pts: list[Pt], t: float) -> Pt:
    """A point on a line (2 points) or quadratic curve (3 points)."""
    if len(pts) == 2:
        (ax, ay), (bx, by) = pts
        return (ax + (bx - ax) * t, ay + (by - ay) * t)
    (ax, ay), (cx, cy), (bx, by) = pts
    u = 1 - t
    return (u * u * ax + 2 * u * t * cx + t * t * bx, u * u * ay + 2 * u * t * cy + t * t * by)


class Grid:
    """A bucket grid over rectangles, so collision queries only look at nearby ones."""

    def __init__(self, cell: float = 120.0) -> None:
        self.cell = cell
        self.rects: list[Rect] = []
        self.cells: dict[tuple[int, int], list[int]] = {}

    def _span(self, r: Rect) -> list[tuple[int, int]]:
        c = self.cell
        xs = range(math.floor(r[0] / c), math.floor(r[2] / c) + 1)
        ys = range(math.floor(r[1] / c), math.floor(r[3] / c) + 1)
        return [(i, j) for i in xs for j in ys]

    def add(self, r: Rect) -> int:
        """Store ``r``; returns its index."""
        self.rects.append(r)
        for key in self._span(r):
            self.cells.setdefault(key, []).append(len(self.rects) - 1)
        return len(self.rects) - 1

    def near(self, r: Rect) -> list[int]:
        """Indices of stored rectangles in cells that ``r`` touches, ascending."""
        found: set[int] = set()
        for key in self._span(r):
            found.update(self.cells.get(key, ()))
        return sorted(found)
