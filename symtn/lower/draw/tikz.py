"""Scene -> a TikZ picture for papers (``\\usetikzlibrary{fit}``; no other packages).

Every shape is a node placed at a named coordinate declared at the top (``\\coordinate
(at-n3) at (120, 40);``), so moving a shape means editing one line: its wires, stubs, leg
labels and the bubbles fitted around it follow. Lengths are in layout pixels, scaled by the
picture's ``x``/``y`` units (y points down, as in the SVG).
"""

from __future__ import annotations

import math

from symtn.lower.draw.geom import Label, Outline, Path, Scene, Shape
from symtn.lower.draw.text import tex_escape

UNIT = 0.5
"""Points per layout pixel."""

STYLES = r"""  x=0.5pt, y=-0.5pt, font=\small,
  tensor/.style={draw, rounded corners=2pt, fill=blue!12, inner sep=1pt, font=\small\ttfamily},
  iso/.style={inner sep=1pt, font=\small\ttfamily},
  isofill/.style={draw, fill=orange!25, line join=round},
  constant/.style={draw, fill=green!8, inner sep=1pt, font=\scriptsize\ttfamily},
  scalar/.style={inner sep=1pt, font=\small\ttfamily},
  const/.style={fill=black!15},
  symmetric/.style={double, double distance=1.2pt},
  antisymmetric/.style={double, double distance=1.2pt, dashed},
  hole/.style={dashed, draw=red!80!black, fill=white},
  shared/.style={fill=yellow!30, draw=yellow!40!black, thick},
  dot/.style={circle, fill=black, inner sep=0pt, minimum size=5pt},
  wire/.style={semithick},
  consumed/.style={semithick, draw=magenta!70!black},
  leg/.style={font=\scriptsize\ttfamily, inner sep=1pt, text=black!75},
  freeleg/.style={font=\scriptsize\ttfamily\bfseries, inner sep=1.5pt},
  bubble/.style={draw=magenta!70!black, rounded corners=7pt, inner sep=0pt},
  frozen/.style={draw=gray, dashed, rounded corners=7pt, inner sep=0pt},
  sum/.style={draw=blue!60!black, densely dashed, rounded corners=7pt, inner sep=0pt},
  grouplabel/.style={font=\scriptsize\ttfamily, text=magenta!70!black, inner sep=1pt},
  coeff/.style={font=\small\ttfamily, inner sep=1pt}"""


MARKS = ("const", "symmetric", "antisymmetric", "hole", "shared")


def _n(x: float) -> str:
    text = f"{x:.1f}"
    return "0.0" if text == "-0.0" else text


def _page(angle: float) -> str:
    """A direction in the layout frame as a TikZ anchor angle (counter-clockwise, y up)."""
    return _n(-math.degrees(angle) % 360)


def _node(s: Shape) -> str:
    w, h = (s.box[2] - s.box[0]) * UNIT, (s.box[3] - s.box[1]) * UNIT
    size = f"minimum width={_n(w)}pt, minimum height={_n(h)}pt"
    marks: list[str] = [m for m in MARKS if m in s.cls.split()]
    if s.kind == "point":
        return f"\\coordinate ({s.key}) at (at-{s.key});"
    if s.kind == "dot":
        return f"\\node[dot] ({s.key}) at (at-{s.key}) {{}};"
    if s.kind == "text":
        return f"\\node[scalar] ({s.key}) at (at-{s.key}) {{{tex_escape(s.label)}}};"
    if s.kind == "triangle":
        a, b, tip = (
            ("north east", "south east", "west") if s.tip == "left" else ("north west", "south west", "east")
        )
        style = ", ".join(["isofill"] + [m for m in marks if m in ("const", "hole", "shared")])
        return (
            f"\\node[iso, {size}] ({s.key}) at (at-{s.key}) {{}};\n"
            f"\\draw[{style}] ({s.key}.{a}) -- ({s.key}.{b}) -- ({s.key}.{tip}) -- cycle;\n"
            f"\\node[iso] at ([xshift={_n(w / 6 if s.tip == 'left' else -w / 6)}pt]{s.key}.center) "
            f"{{{tex_escape(s.label)}}};"
        )
    style = "constant" if "constant" in s.cls.split() else ", ".join(["tensor"] + marks)
    return f"\\node[{style}, {size}] ({s.key}) at (at-{s.key}) {{{tex_escape(s.label)}}};"


def _outline(o: Outline) -> str:
    fit = "".join(f"({m})" for m in o.members) + f"(at-{o.key}-nw)(at-{o.key}-se)"
    return f"\\node[{o.kind}, fit={fit}] ({o.key}) {{}};"


def _path(p: Path, shapes: dict[str, Shape]) -> str:
    style = ("consumed" if p.kind == "consumed" else "wire") + (", very thick" if p.thick else "")
    label = tex_escape(p.leg)
    if p.b is None:
        start = (
            p.a if shapes.get(p.a) is not None and shapes[p.a].kind == "point" else f"{p.a}.{_page(p.angle)}"
        )
        kind = "freeleg" if p.kind == "free" else "leg"
        anchor = _page(p.angle + math.pi)
        text = f" node[{kind}, anchor={anchor}] {{{label}}}" if label and p.kind != "consumed" else ""
        if p.kind == "consumed" and label:
            text = f" node[leg, pos=0.6, auto] {{{label}}}"
        return f"\\draw[{style}] ({start}) -- ++({_n(math.degrees(p.angle))}:{_n(p.length)}){text};"
    lab = f" node[leg, midway, auto] {{{label}}}" if label else ""
    if p.a == p.b:
        return f"\\draw[{style}] ({p.a}) to[loop above, looseness=6]{lab} ({p.b});"
    if len(p.pts) == 3:
        (ax, ay), (cx, cy), (bx, by) = p.pts
        cross = (bx - ax) * (cy - ay) - (by - ay) * (cx - ax)
        chord = max(math.dist((ax, ay), (bx, by)), 1e-6)
        angle = math.degrees(math.atan2(2 * abs(cross) / chord, chord))
        side = "right" if cross > 0 else "left"
        return f"\\draw[{style}] ({p.a}) to[bend {side}={_n(min(angle, 60.0))}]{lab} ({p.b});"
    return f"\\draw[{style}] ({p.a}) --{lab} ({p.b});"


def _label(lb: Label) -> str:
    style = "coeff" if lb.kind in ("coeff", "caption") else "grouplabel"
    name = f" ({lb.key})" if lb.key else ""
    return f"\\node[{style}]{name} at ({_n(lb.x)}, {_n(lb.y)}) {{{tex_escape(lb.text)}}};"


def to_tikz(scene: Scene, title: str = "") -> str:
    """Print a scene as a ``tikzpicture`` environment."""
    shapes = {s.key: s for s in scene.shapes}
    out = [
        "% symtn diagram" + (f": {title}" if title else ""),
        r"% needs \usepackage{tikz} and \usetikzlibrary{fit}",
    ]
    out.append("\\begin{tikzpicture}[\n" + STYLES + "]")
    out.append("% positions: edit these to move a shape; its wires and bubbles follow")
    for s in scene.shapes:
        cx, cy = s.center
        out.append(f"\\coordinate (at-{s.key}) at ({_n(cx)}, {_n(cy)});")
    for o in scene.outlines:
        out.append(f"\\coordinate (at-{o.key}-nw) at ({_n(o.box[0])}, {_n(o.box[1])});")
        out.append(f"\\coordinate (at-{o.key}-se) at ({_n(o.box[2])}, {_n(o.box[3])});")
    out.append("% shapes")
    out.extend(_node(s) for s in scene.shapes)
    out.append("% labels of bubbles and coefficients of sums")
    out.extend(_label(lb) for lb in scene.labels if lb.kind in ("bubble", "coeff", "caption"))
    out.append("% bubbles (fitted around their contents), innermost first")
    out.extend(_outline(o) for o in reversed(scene.outlines))
    out.append("% wires and open legs")
    out.extend(_path(p, shapes) for p in scene.paths)
    out.append("\\end{tikzpicture}\n")
    return "\n".join(out)


def tikz_document(picture: str) -> str:
    """A complete pdflatex document around a picture from :func:`to_tikz`."""
    return (
        "\\documentclass{article}\n\\usepackage[T1]{fontenc}\n\\usepackage{tikz}\n"
        "\\usetikzlibrary{fit}\n\\usepackage[margin=1cm, landscape]{geometry}\n\\pagestyle{empty}\n"
        "\\begin{document}\n\\noindent\n" + picture + "\\end{document}\n"
    )
