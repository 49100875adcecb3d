"""Diagram model -> Graphviz DOT source (for ``dot``/``neato``; no binary needed to write it).

Tensors are nodes (isometries triangles, symmetric tensors with a double border, copy tensors
points), wires are edges labelled with their leg, bubbles are clusters labelled with their
function, and open legs end in plain-text nodes carrying the leg's name. A top-level sum puts
each term in its own cluster labelled with its coefficient. Node names are stable (``t0n3``:
term 0, leaf 3) and the output is deterministic.
"""

from __future__ import annotations

from symtn.ir.nodes import Node
from symtn.lower.draw.model import End, Group, Leaf, Model

COLORS = {"bubble": "#c2185b", "frozen": "#607d8b", "sum": "#1e63b5"}


def _q(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _leaf(name: str, leaf: Leaf) -> str:
    if leaf.kind == "dot":
        attrs = 'shape=point, width=0.12, label=""'
    elif leaf.kind == "line":
        attrs = 'shape=point, width=0.02, label=""'
    elif leaf.kind == "scalar":
        attrs = f"shape=plaintext, label={_q(leaf.label)}"
    elif leaf.kind == "box":
        attrs = f'shape=box, style=filled, fillcolor="#e8f5e9", fontsize=10, label={_q(leaf.label)}'
    else:
        shape = "triangle" if leaf.iso else "box"
        style = ["filled"] + ([] if leaf.iso else ["rounded"]) + (["dashed"] if "hole" in leaf.marks else [])
        fill = "#d9d9d9" if "const" in leaf.marks else ("#ffe0b2" if leaf.iso else "#cfe3f7")
        fill = "#ffffff" if "hole" in leaf.marks else fill
        fill = "#fff3c4" if "shared" in leaf.marks else fill
        attrs = f"shape={shape}, style={_q(','.join(style))}, fillcolor={_q(fill)}, label={_q(leaf.label)}"
        if "symmetric" in leaf.marks or "antisymmetric" in leaf.marks:
            attrs += ", peripheries=2"
        if "hole" in leaf.marks:
            attrs += ', color="#d32f2f"'
        if leaf.title:
            attrs += f", tooltip={_q(leaf.title)}"
    return f"{_q(name)} [{attrs}];"


class _Writer:
    def __init__(self, m: Model, prefix: str) -> None:
        self.m, self.p = m, prefix
        self.lines: list[str] = []

    def name(self, end: End) -> str:
        ref = end[0]
        return f"{self.p}{'n' if ref[0] == 'leaf' else 'g'}{ref[1]}"

    def group(self, g: Group, indent: str) -> None:
        outlined = g.kind in COLORS
        inner = indent + "  " if outlined else indent
        if outlined:
            style = "rounded,dashed" if g.kind != "bubble" else "rounded"
            self.lines.append(f"{indent}subgraph {_q('cluster_' + self.p + 'g' + str(g.id))} {{")
            self.lines.append(f"{inner}label={_q(g.label)}; style={_q(style)}; color={_q(COLORS[g.kind])};")
        if g.ports:  # wires that end on the group itself meet at an invisible anchor inside it
            self.lines.append(f"{inner}{_q(self.p + 'g' + str(g.id))} [shape=point, style=invis];")
        for i, coeff in enumerate(g.coeffs):
            if coeff:
                self.lines.append(
                    f"{inner}{_q(f'{self.p}c{g.id}-{i}')} [shape=plaintext, label={_q(coeff)}];"
                )
        for ref in g.children:
            if ref[0] == "leaf":
                self.lines.append(inner + _leaf(f"{self.p}n{ref[1]}", self.m.leaves[ref[1]]))
            else:
                self.group(self.m.groups[ref[1]], inner)
        for k, st in enumerate(self.m.stubs):
            if st.container == g.id and st.kind != "free":
                self._stub(k, inner)
        if outlined:
            self.lines.append(f"{indent}}}")

    def _stub(self, k: int, indent: str) -> None:
        st = self.m.stubs[k]
        leg = f"{self.p}leg{k}"
        kind = "free" if st.kind == "free" else "open"
        self.lines.append(f"{indent}{_q(leg)} [shape=plaintext, class={_q(kind)}, label={_q(st.label)}];")
        style = ', style=dashed, color="#c2185b"' if st.kind == "consumed" else ""
        self.lines.append(f"{indent}{_q(self.name(st.end))} -- {_q(leg)} [class=stub{style}];")

    def write(self, indent: str) -> list[str]:
        self.group(self.m.groups[0], indent)
        for k, st in enumerate(self.m.stubs):
            if st.kind == "free":
                self._stub(k, indent)
        for w in self.m.wires:
            self.lines.append(f"{indent}{_q(self.name(w.a))} -- {_q(self.name(w.b))} [label={_q(w.label)}];")
        return self.lines


def to_dot(
    terms: list[tuple[str, Node | None]], highlight: tuple[str, ...] = (), boxes: tuple[str, ...] = ()
) -> str:
    """DOT source for an expression given as ``(coefficient text, term)`` pairs (see
    ``render.terms``); one pair with no coefficient is drawn without a term cluster."""
    out = [
        "graph symtn {",
        '  graph [fontname="monospace", compound=true, newrank=true];',
        '  node [fontname="monospace", fontsize=12];',
        '  edge [fontname="monospace", fontsize=10];',
    ]
    single = len(terms) == 1 and not terms[0][0]
    for i, (coeff, term) in enumerate(terms):
        indent = "  " if single else "    "
        if not single:
            out.append(f"  subgraph {_q(f'cluster_t{i}')} {{")
            out.append(f'    label={_q(coeff or "+" if i else coeff)}; style="invis";')
        if term is None:
            out.append(f"{indent}{_q(f't{i}one')} [shape=plaintext, label={_q(coeff)}];")
        else:
            out.extend(_Writer(Model(term, highlight, boxes), "" if single else f"t{i}").write(indent))
        if not single:
            out.append("  }")
    out.append("}")
    return "\n".join(out) + "\n"
