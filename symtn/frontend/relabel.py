"""Leg lists applied to a value: positional relabel, rename, merge, split (docs/language.md)."""

from __future__ import annotations

import sympy as sp

from symtn.errors import LegError, SizeError
from symtn.frontend import ast
from symtn.frontend.scope import Env, Value, did_you_mean
from symtn.ir import algebra as A
from symtn.ir.nodes import size_str


def _leg_name(env: Env, item: ast.LegName) -> str:
    name = env.leg(item.name)
    if item.size is not None:
        size = env.size_expr(item.size)
        env.bind_leg(name, size)
    return name


def apply_leglist(env: Env, value: Value, ll: ast.LegList, what: str) -> Value:
    """Apply one bracket of leg items to ``value`` (E102, E103, E113, E115, E201, E207, E208)."""
    items = ll.items
    node = value.node
    for it in items:
        if isinstance(it, (ast.Offset, ast.Compare)):
            raise LegError(
                "offsets and comparisons are allowed only inside delta[...] and iverson[...]",
                code="E113",
            )
    if all(isinstance(it, ast.LegName) for it in items):
        if value.order is None:
            raise LegError(
                f"positional relabel of {what}, whose leg order was inferred",
                code="E115",
                help="rename legs by name instead (x[a -> b]), or fix the order with a typed "
                "binding (name: [legs] = ...) or a projection (-> [legs])",
            )
        names = [_leg_name(env, it) for it in items]  # type: ignore[arg-type]
        if len(names) != len(value.order):
            raise LegError(
                f"{what} has {len(value.order)} legs [{', '.join(value.order)}] but "
                f"{len(names)} names were given",
                code="E102",
            )
        dup = sorted({n for n in names if names.count(n) > 1})
        if dup:
            raise LegError(f"duplicate leg name {', '.join(dup)} in a relabel of {what}", code="E207")
        sizes = node.sizes
        for old, new in zip(value.order, names, strict=True):
            env.bind_leg(new, sizes[old])
        mapping = dict(zip(value.order, names, strict=True))
        return Value(A.rename(node, mapping), tuple(names))
    order = list(value.order) if value.order is not None else None
    renames: dict[str, str] = {}
    for it in items:
        if isinstance(it, ast.LegName):
            raise LegError(
                f"mixed positional and named relabels in one bracket of {what}",
                code="E102",
                help="write either all names (positional) or only `a -> b` items",
            )
        if isinstance(it, ast.Rename):
            src = env.leg(it.src.name)
            if src not in node.legset:
                raise LegError(
                    f"{what} has legs [{', '.join(node.legs)}]; no leg {src} to rename",
                    code="E103",
                    help=did_you_mean(src, list(node.legs)),
                )
            dst = _leg_name(env, it.dst)
            env.bind_leg(dst, node.size(src))
            renames[src] = dst
    if renames:
        result = [renames.get(x, x) for x in node.legs]
        dup = sorted({x for x in result if result.count(x) > 1})
        if dup:
            raise LegError(f"renaming {what} gives two legs named {', '.join(dup)}", code="E207")
        node = A.rename(node, renames)
        if order is not None:
            order = [renames.get(x, x) for x in order]
    for it in items:
        if isinstance(it, ast.Merge):
            srcs = [env.leg(s.name) for s in it.srcs]
            for s in srcs:
                if s not in node.legset:
                    raise LegError(
                        f"{what} has legs [{', '.join(node.legs)}]; no leg {s} to merge",
                        code="E103",
                        help=did_you_mean(s, list(node.legs)),
                    )
            total = sp.Integer(1)
            for s in srcs:
                total *= node.size(s)
            dst = _leg_name(env, it.dst)
            env.bind_leg(dst, total)
            node = A.merge(node, srcs, dst)
            if order is not None:
                pos = order.index(srcs[0])
                order = [x for x in order if x not in srcs]
                order.insert(min(pos, len(order)), dst)
        elif isinstance(it, ast.Split):
            src = env.leg(it.src.name)
            if src not in node.legset:
                raise LegError(
                    f"{what} has legs [{', '.join(node.legs)}]; no leg {src} to split",
                    code="E103",
                    help=did_you_mean(src, list(node.legs)),
                )
            whole = node.size(src)
            parts: list[tuple[str, sp.Expr | None]] = []
            for d in it.dsts:
                name = env.leg(d.name)
                size = env.size_expr(d.size) if d.size is not None else env.known_size(name)
                parts.append((name, size))
            unknown = [i for i, (_n, sz) in enumerate(parts) if sz is None]
            known = sp.Integer(1)
            for _n, sz in parts:
                if sz is not None:
                    known *= sz
            if len(unknown) > 1:
                raise SizeError(
                    f"split of {src} into ({', '.join(p for p, _ in parts)}): "
                    f"{len(unknown)} sizes are unknown; give all but one",
                    code="E208",
                )
            if unknown:
                q = sp.simplify(whole / known)
                if not (q.is_integer or (q.is_Rational and q.q == 1)):  # type: ignore[attr-defined]
                    raise SizeError(
                        f"split of {src} (size {size_str(whole)}) is not divisible by {size_str(known)}",
                        code="E208",
                    )
                parts[unknown[0]] = (parts[unknown[0]][0], q)
            elif sp.simplify(known - whole) != 0:
                raise SizeError(
                    f"split of {src}: sizes multiply to {size_str(known)}, not {size_str(whole)}",
                    code="E208",
                )
            final = [(p, s) for p, s in parts if s is not None]
            for p, s in final:
                env.bind_leg(p, s)
            node = A.split(node, src, final)
            if order is not None:
                pos = order.index(src)
                order = order[:pos] + [p for p, _ in final] + order[pos + 1 :]
    return Value(node, tuple(order) if order is not None else None)
