"""Scene -> standalone SVG (no fonts, scripts or external files; viewable in any browser).

Elements carry classes a reader (or a test) can count: ``shape`` on every leaf shape (with
``tensor``, ``dot``, ``constant``, ``scalar``; ``isometry``, ``symmetric``, ``antisymmetric``,
``const``, ``hole``, ``shared`` as marks), ``outline`` with ``bubble``/``frozen``/``sum`` on groups,
``wire`` on contractions, ``stub free``/``stub term``/``stub consumed`` on open legs, and
``label`` plus ``free-label``, ``term-label``, ``consumed-label``, ``wire-label``,
``bubble-label`` or ``coeff-label`` on every text; legs carry ``data-leg``.
"""

from __future__ import annotations

import math

from symtn.lower.draw.geom import Path, Scene, Shape
from symtn.lower.draw.text import FONT, xml_escape

MARGIN = 12.0

STYLE = """
.background { fill: #ffffff; }
.outline { fill-opacity: 0.35; stroke-width: 1.6; }
.outline.bubble { fill: #fce4ef; stroke: #c2185b; }
.outline.frozen { fill: #eceff1; stroke: #607d8b; stroke-dasharray: 6 3; }
.outline.sum { fill: #e8f1fb; stroke: #1e63b5; stroke-dasharray: 3 3; }
.wire, .stub { fill: none; stroke: #222222; stroke-width: 1.6; }
.stub.consumed { stroke: #c2185b; }
.thick { stroke-width: 3.4; }
.shape { stroke: #1a2b3c; stroke-width: 1.6; }
.shape.tensor { fill: #cfe3f7; }
.shape.isometry { fill: #ffe0b2; }
.shape.const { fill: #d9d9d9; }
.shape.shared { fill: #fff3c4; stroke: #8d6e00; stroke-width: 2.2; }
.caption-label { font-size: 12px; fill: #555555; font-style: italic; }
.shape.hole { fill: #ffffff; stroke: #d32f2f; stroke-dasharray: 5 3; }
.shape.dot { fill: #111111; }
.shape.constant { fill: #e8f5e9; }
.shape.scalar { fill: none; stroke: none; }
.mark { fill: none; stroke: #1a2b3c; stroke-width: 1; }
.mark.antisymmetric { stroke-dasharray: 3 2; }
.name { font-size: 14px; fill: #111111; }
.label { font-size: 11px; fill: #333333; }
.free-label { fill: #000000; font-weight: bold; }
.consumed-label, .bubble-label { fill: #c2185b; }
.bubble-label { font-size: 12px; }
.coeff-label { font-size: 14px; fill: #111111; }
"""


def _f(x: float) -> str:
    text = f"{x:.1f}"
    return "0.0" if text == "-0.0" else text


def _text(x: float, y: float, text: str, cls: str, leg: str = "") -> str:
    data = f' data-leg="{xml_escape(leg)}"' if leg else ""
    return (
        f'<text class="{cls}" x="{_f(x)}" y="{_f(y)}" text-anchor="middle" '
        f'dominant-baseline="central"{data}>{xml_escape(text)}</text>'
    )


def _shape(s: Shape) -> list[str]:
    x0, y0, x1, y1 = s.box
    cls = f"shape {s.cls}"
    title = f"<title>{xml_escape(s.title)}</title>" if s.title else ""
    out: list[str] = []
    cx, cy = s.center
    if s.kind == "dot":
        out.append(
            f'<circle class="{cls}" cx="{_f(cx)}" cy="{_f(cy)}" r="{_f((x1 - x0) / 2)}">{title}</circle>'
        )
        return out
    if s.kind == "point":
        return out
    if s.kind == "triangle":
        pts = " ".join(f"{_f(x)},{_f(y)}" for x, y in s.polygon())
        out.append(f'<polygon class="{cls}" points="{pts}">{title}</polygon>')
        cx = (2 * x0 + x1) / 3 if s.tip == "right" else (x0 + 2 * x1) / 3
    else:
        rx = 0 if "constant" in s.cls else 4
        out.append(
            f'<rect class="{cls}" x="{_f(x0)}" y="{_f(y0)}" width="{_f(x1 - x0)}" '
            f'height="{_f(y1 - y0)}" rx="{rx}">{title}</rect>'
        )
        for mark in ("symmetric", "antisymmetric"):
            if mark in s.cls.split():
                out.append(
                    f'<rect class="mark {mark}" x="{_f(x0 + 3)}" y="{_f(y0 + 3)}" '
                    f'width="{_f(x1 - x0 - 6)}" height="{_f(y1 - y0 - 6)}" rx="2"/>'
                )
    size = "12px" if "constant" in s.cls else "14px"
    out.append(
        f'<text class="name" x="{_f(cx)}" y="{_f(cy)}" text-anchor="middle" dominant-baseline="central" '
        f'style="font-size:{size}">{xml_escape(s.label)}</text>'
    )
    return out


def _path(p: Path) -> str:
    (x0, y0) = p.pts[0]
    if len(p.pts) == 3:
        (cx, cy), (x1, y1) = p.pts[1], p.pts[2]
        d = f"M{_f(x0)},{_f(y0)} Q{_f(cx)},{_f(cy)} {_f(x1)},{_f(y1)}"
    else:
        x1, y1 = p.pts[1]
        d = f"M{_f(x0)},{_f(y0)} L{_f(x1)},{_f(y1)}"
    if p.kind == "consumed":  # a short bar where the leg meets the bubble
        nx, ny = -math.sin(p.angle) * 5, math.cos(p.angle) * 5
        d += f" M{_f(x1 + nx)},{_f(y1 + ny)} L{_f(x1 - nx)},{_f(y1 - ny)}"
    cls = ("wire" if p.kind == "wire" else f"stub {p.kind}") + (" thick" if p.thick else "")
    ends = f' data-from="{p.a}"' + (f' data-to="{p.b}"' if p.b else "")
    return f'<path class="{cls}" d="{d}" data-leg="{xml_escape(p.leg)}"{ends}/>'


def to_svg(scene: Scene, title: str = "") -> str:
    """Print a scene as an SVG document (translated so everything is in view)."""
    x0, y0, x1, y1 = scene.bbox()
    scene.translate(MARGIN - x0, MARGIN - y0)
    w, h = x1 - x0 + 2 * MARGIN, y1 - y0 + 2 * MARGIN
    lines = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="symtn-diagram" width="{_f(w)}" height="{_f(h)}" '
        f'viewBox="0 0 {_f(w)} {_f(h)}" font-family="{FONT}">',
    ]
    if title:
        lines.append(f"<title>{xml_escape(title)}</title>")
    lines.append(f"<style>{STYLE}</style>")
    lines.append(f'<rect class="background" x="0" y="0" width="{_f(w)}" height="{_f(h)}"/>')
    lines.append('<g class="outlines">')
    for o in scene.outlines:
        bx0, by0, bx1, by1 = o.box
        lines.append(
            f'<rect class="outline {o.kind}" data-key="{o.key}" x="{_f(bx0)}" y="{_f(by0)}" '
            f'width="{_f(bx1 - bx0)}" height="{_f(by1 - by0)}" rx="14"/>'
        )
    lines.append('</g>\n<g class="paths">')
    lines.extend(_path(p) for p in scene.paths)
    lines.append('</g>\n<g class="shapes">')
    for s in scene.shapes:
        lines.extend(_shape(s))
    lines.append('</g>\n<g class="labels">')
    lines.extend(_text(lb.x, lb.y, lb.text, f"label {lb.kind}-label", lb.leg) for lb in scene.labels)
    lines.append("</g>\n</svg>\n")
    scene.translate(x0 - MARGIN, y0 - MARGIN)
    return "\n".join(lines)
