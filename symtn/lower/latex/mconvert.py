"""IR network -> matrix expression (:mod:`symtn.lower.latex.mtree`), or why it is not one.

A network is a matrix expression when every factor has at most two legs once copy tensors are
read as matrix operations: a copy tensor joining vectors is their Hadamard product, with two
further legs ``diag(v)``, with one the vector itself, with none the sum ``1^T v``; matrices
joining the same two copy tensors form a Hadamard product ``A \\odot B``. What remains is a
graph of factors with at most two legs each, so its components are chains (a matrix, a vector or
a scalar ``u^T M v``) and cycles (traces); two vector components make an outer product ``u v^T``.
Rows and columns follow the leg order asked for: a matrix's rows are its first leg.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass

import sympy as sp

from symtn.errors import MatrixFormError
from symtn.ir.composite import arg_symbols
from symtn.ir.fold import match_logsumexp, match_softmax, match_trace
from symtn.ir.nodes import Bubble, Delta, Elementwise, Frozen, Node, Product, Sum, Tensor, Zero
from symtn.ir.printer import FOLDS, _gelu
from symtn.lower.latex.mtidy import add, func, mm
from symtn.lower.latex.mtree import Const, Diag, DiagOf, Ident, M, Ones, Op, Sym, T, Zeros, tr, transposes


def _not(why: str) -> MatrixFormError:
    return MatrixFormError(
        f"not a matrix expression: {why}",
        code="E219",
        help='print it in index notation: --form index (form="index" from Python)',
    )


_fresh = itertools.count()


@dataclass(frozen=True)
class Item:
    """A matrix expression with the IR legs of its rows and columns (None: length 1)."""

    m: M
    row: str | None = None
    col: str | None = None

    @property
    def legs(self) -> tuple[str, ...]:
        return tuple(x for x in (self.row, self.col) if x is not None)

    def oriented(self, row: str | None, col: str | None = None) -> M:
        if (self.row, self.col) == (row, col) or (self.row == row and self.col is None):
            return self.m
        return tr(self.m)


def _item(m: M, legs: tuple[str, ...] | list[str]) -> Item:
    legs = list(legs)
    return Item(m, *(legs + [None, None])[:2])  # type: ignore[arg-type]


def convert(node: Node) -> Item:
    """The matrix expression of ``node`` (rows along its first leg, vectors as columns).

    Raises:
        MatrixFormError: E219, naming the part that has no matrix notation.
    """
    if isinstance(node, Tensor) and len(node.legs) > 2:
        raise _not(f"tensor {node.name} has {len(node.legs)} legs [{', '.join(node.args[2])}]")
    if len(node.legs) > 2:
        raise _not(f"a part has {len(node.legs)} legs [{', '.join(node.legs)}]")
    folded = _fold(node)
    if folded is not None:
        return folded
    if isinstance(node, Tensor):
        dims = [s for _, s in node.args[1]] + [None, None]
        return _item(Sym(node.name, (dims[0], dims[1])), node.args[2])
    if isinstance(node, Delta):
        if node.order == 0:
            return Item(Const(node.dim))
        return _item(Ones(node.dim) if node.order == 1 else Ident(node.dim), node.legs)
    if isinstance(node, Zero):
        dims = [s for _, s in node.sig] + [None, None]
        return _item(Zeros((dims[0], dims[1])), node.legs)
    if isinstance(node, Sum):
        items = [convert(t) for t in node.terms]
        first = items[0]
        terms = [(c, it.oriented(first.row, first.col)) for c, it in zip(node.coeffs, items, strict=True)]
        return Item(add(terms), first.row, first.col)
    if isinstance(node, Elementwise):
        ops = [convert(o) for o in node.operands]
        row, col = (list(node.legs) + [None, None])[:2]
        return Item(func(node.fn, [o.oriented(row, col) for o in ops]), row, col)
    if isinstance(node, Frozen):
        inner = convert(node.inner)
        return Item(Op("frozen", inner.m), inner.row, inner.col)
    if isinstance(node, Bubble):
        return _bubble(node)
    if isinstance(node, Product):
        return _network(node)
    raise _not(f"{type(node).__name__.lower()} has no matrix notation")


def _fold(node: Node) -> Item | None:
    soft = match_softmax(node)
    if soft is not None:
        operand, ax, names = soft
        if len(operand.legs) != 1:
            raise _not("softmax over one leg of a matrix (its index form names the leg)")
        return Item(Op("softmax", convert(operand).m), names[operand.legs[0]])
    lse = match_logsumexp(node)
    if lse is not None and len(lse[1].legs) == 1:
        return Item(Op("logsumexp", convert(lse[1]).m))
    trace = match_trace(node)
    if trace is not None and len(trace[1].legs) == 2:
        return Item(Op("tr", convert(trace[1]).m))
    if node.children and not isinstance(node, Elementwise):
        for hook in FOLDS:
            found = hook(node)
            if found is not None and found[0] == "gelu":
                x = convert(found[2][0])
                return Item(func(_gelu(arg_symbols(1)[0]), [x.m]), x.row, x.col)
    return None


def _bubble(node: Bubble) -> Item:
    x = convert(node.operand)
    if node.name == "sum":  # M 1, 1^T M, 1^T M 1
        m, row, col = x.m, x.row, x.col
        if col is not None and col in node.consumed:
            m, col = mm(m, Ones(node.operand.size(col))), None
        if row is not None and row in node.consumed:
            m, row = mm(T(Ones(node.operand.size(row))), m), None
            m, row, col = (tr(m), col, None) if col is not None else (m, None, None)
        return Item(m, row, col)
    if node.name in ("det", "logdet") and len(node.consumed) == 2:
        return Item(Op(node.name, x.m))
    if node.name == "inv" and len(node.consumed) == 2:
        produced = [p for p, _ in node.produced]
        # inv[i, j](X) at (i = c, j = r) is (X^-1)[r, c]: rows of X^-1 along the leg from X's columns
        by = dict(zip(node.consumed, produced, strict=True))
        return Item(Op("inv", x.m), by[x.col], by[x.row]) if x.row and x.col else Item(Op("inv", x.m))
    raise _not(f"{node.name}[{', '.join(node.consumed)}] has no matrix notation here")


def _walk(
    items: list[Item], start: int, enter: str | None, where: dict[str, list[int]]
) -> tuple[list[M], str | None, list[int]]:
    """Follow a chain from ``items[start]`` entered through leg ``enter`` (None: a vector end)."""
    chain: list[M] = []
    seen: list[int] = []
    i: int | None = start
    while i is not None and i not in seen:
        it = items[i]
        seen.append(i)
        if enter is not None and enter == it.col:
            chain.append(tr(it.m))
            out = it.row
        elif enter is None and it.col is None:  # a vector opening a chain: its transpose
            chain.append(tr(it.m))
            out = it.row
        else:
            chain.append(it.m)
            out = it.col
        nxt = [j for j in where.get(out, []) if j != i] if out is not None else []
        i, enter = (nxt[0], out) if nxt else (None, out)
    return chain, enter, seen


def _hadamard(deltas: list[tuple[list[str], sp.Expr]], items: list[Item]) -> None:
    """Matrices joining the same two copy tensors, one leg on each: one Hadamard product."""
    for i, j in itertools.combinations(range(len(deltas)), 2):
        a_legs, b_legs = deltas[i][0], deltas[j][0]
        had = [it for it in items if len(it.legs) == 2 and it.row in a_legs and it.col in b_legs]
        had += [Item(tr(it.m), it.col, it.row) for it in items
                if len(it.legs) == 2 and it.col in a_legs and it.row in b_legs]  # fmt: skip
        if len(had) < 2:
            continue
        a, b = f"_h{next(_fresh)}", f"_h{next(_fresh)}"
        gone = {leg for it in had for leg in it.legs}
        items[:] = [it for it in items if not set(it.legs) & gone]
        items.append(Item(func(sp.Mul(*_syms(len(had))), [it.m for it in had]), a, b))
        deltas[i] = ([leg for leg in a_legs if leg not in gone] + [a], deltas[i][1])
        deltas[j] = ([leg for leg in b_legs if leg not in gone] + [b], deltas[j][1])


def _hyper(legs: list[str], dim: sp.Expr, items: list[Item], scalars: list[M]) -> None:
    """A copy tensor: the vectors on it multiply (Hadamard); then diag, a vector or a sum."""
    vecs = [it for it in items if len(it.legs) == 1 and it.legs[0] in legs]
    both = [it for it in items if len(it.legs) == 2 and set(it.legs) <= set(legs)]
    ms = [v.m for v in vecs] + [DiagOf(it.m) for it in both]
    used = {leg for it in vecs + both for leg in it.legs}
    items[:] = [it for it in items if it not in vecs and it not in both]
    rest = [leg for leg in legs if leg not in used]
    v = func(sp.Mul(*_syms(len(ms))), ms) if ms else None
    if not rest:
        scalars.append(mm(T(Ones(dim)), v) if v is not None else Const(dim))
    elif len(rest) == 1:
        items.append(Item(v if v is not None else Ones(dim), rest[0]))
    elif len(rest) == 2:
        items.append(Item(Diag(v) if v is not None else Ident(dim), rest[0], rest[1]))
    else:
        raise _not(f"a copy tensor joins {len(rest)} matrix legs")


def _syms(k: int) -> tuple[sp.Symbol, ...]:
    return tuple(sp.Symbol(f"x{i}", real=True) for i in range(k))


def _components(items: list[Item]) -> list[list[int]]:
    where: dict[str, list[int]] = {}
    for i, it in enumerate(items):
        for leg in it.legs:
            where.setdefault(leg, []).append(i)
    seen: set[int] = set()
    comps = []
    for i in range(len(items)):
        if i in seen:
            continue
        stack, comp = [i], []
        while stack:
            k = stack.pop()
            if k in seen:
                continue
            seen.add(k)
            comp.append(k)
            stack += [j for leg in items[k].legs for j in where[leg]]
        comps.append(sorted(comp))
    return comps


def _network(node: Product) -> Item:
    items: list[Item] = []
    scalars: list[M] = []
    deltas: list[tuple[list[str], sp.Expr]] = []
    for f in node.args:
        if isinstance(f, Delta) and f.order >= 3:
            deltas.append((list(f.legs), f.dim))
            continue
        it = convert(f)
        if it.legs:
            items.append(it)
        else:
            scalars.append(it.m)
    _hadamard(deltas, items)
    for legs, dim in deltas:
        _hyper(legs, dim, items, scalars)
    where: dict[str, list[int]] = {}
    for i, it in enumerate(items):
        for leg in it.legs:
            where.setdefault(leg, []).append(i)
    free = list(node.legs)
    comps: list[Item] = []
    for comp in _components(items):
        comp_legs = {leg for k in comp for leg in items[k].legs}
        fl = [leg for leg in free if leg in comp_legs]
        if fl:
            chain, end, _ = _walk(items, where[fl[0]][0], fl[0], where)
            comps.append(Item(mm(*chain), fl[0], end if end in fl[1:] else None))
            continue
        best: M | None = None
        for j in [k for k in comp if len(items[k].legs) == 1] or comp[:1]:
            vector = len(items[j].legs) == 1
            chain, _, _ = _walk(items, j, None if vector else items[j].row, where)
            m = mm(*chain) if vector else Op("tr", mm(*chain))
            if best is None or transposes(m) < transposes(best):
                best = m
        assert best is not None
        scalars.append(best)
    if len(comps) == 2:  # two vectors: the outer product u v^T
        u, v = comps
        comps = [Item(mm(u.m, tr(v.m)), u.row, v.row)]
    if not comps:
        return Item(mm(*scalars))
    return Item(mm(*scalars, comps[0].m), comps[0].row, comps[0].col)
