"""Diagram clean-ups that keep the meaning: copy tensors wired together become one dot (spider
fusion), and identity deltas become plain lines."""

from __future__ import annotations

from symtn.lower.draw.model import Model, Ref, Wire


def fuse_lines(m: Model) -> None:
    """Replace identity deltas by plain lines: join the two things a delta connects."""
    for leaf in m.leaves:
        if leaf.kind != "line":
            continue
        ref: Ref = ("leaf", leaf.id)
        w = [x for x in m.wires if x.a[0] == ref or x.b[0] == ref]
        if any(x.a[0] == ref and x.b[0] == ref for x in w):
            continue
        others = [x.b if x.a[0] == ref else x.a for x in w]
        stubs = [s for s in m.stubs if s.end[0] == ref]
        if len(w) == 2:
            label = w[0].label or w[1].label
            m.wires = [x for x in m.wires if x is not w[0] and x is not w[1]] + [
                Wire(others[0], others[1], label)
            ]
        elif len(w) == 1 and len(stubs) == 1:
            stubs[0].end = others[0]
            m.wires = [x for x in m.wires if x is not w[0]]
        else:
            continue
        leaf.kind = "gone"
        m.groups[leaf.group].children.remove(ref)


def fuse_dots(m: Model) -> None:
    """Copy tensors wired to each other in one group are one copy tensor (spider fusion): merge
    them into one dot. A merged dot with two legs left is an identity line, with none a size."""
    changed = True
    while changed:
        changed = False
        for w in m.wires:
            a, b = w.a[0], w.b[0]
            if a[0] != "leaf" or b[0] != "leaf":
                continue
            la, lb = m.leaves[a[1]], m.leaves[b[1]]
            if la.kind != "dot" or lb.kind != "dot" or la.group != lb.group:
                continue
            m.wires = [x for x in m.wires if x is not w]
            if a != b:
                base = len(la.ports)
                la.ports = la.ports + lb.ports
                for x in m.wires:
                    x.a = (a, base + x.a[1]) if x.a[0] == b else x.a
                    x.b = (a, base + x.b[1]) if x.b[0] == b else x.b
                for st in m.stubs:
                    st.end = (a, base + st.end[1]) if st.end[0] == b else st.end
                lb.kind = "gone"
                m.groups[lb.group].children.remove(b)
            changed = True
            break
    for leaf in m.leaves:
        if leaf.kind != "dot":
            continue
        ref: Ref = ("leaf", leaf.id)
        legs = sum((x.a[0] == ref) + (x.b[0] == ref) for x in m.wires) + sum(s.end[0] == ref for s in m.stubs)
        if legs == 2:
            leaf.kind = "line"
        elif legs == 0:
            leaf.kind = "scalar"
