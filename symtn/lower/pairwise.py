"""A contraction path written out as numpy statements, one per pairwise step.

Generated numpy code used to call one precompiled ``opt_einsum`` expression per network. At the
sizes of a small model (a 256 x 128 Hessian, an MLP on a batch of 256) its per-call overhead
(a few microseconds per step) is a large part of the run time, and intermediates of two networks
could not be shared. Here each step of the path becomes the cheapest numpy spelling:

- a product with no summed label (Hadamard, outer, scaling rows): ``x * y`` on broadcast views;
- one summed label between a matrix/vector and a matrix/vector: ``x @ y`` on transposed views
  (BLAS, no copy);
- other contractions without shared kept labels: ``numpy.tensordot`` (a full inner product of
  two arrays whose axes come in different orders: ``numpy.einsum``, which reads them in place);
- anything else (diagonals, batched contractions): ``numpy.einsum`` on that pair only.

Each statement goes through the emitter's ``assign``, so an identical step in two networks (the
back-propagated error times a weight, needed by two gradients) is computed once.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Callable, Sequence


def _tup(xs: Sequence[int]) -> str:
    return f"({xs[0]},)" if len(xs) == 1 else f"({', '.join(map(str, xs))})"


class _Lowering:
    def __init__(self, sizes: dict[str, int], assign: Callable[[str, str], str], note: str) -> None:
        self.sizes = sizes
        self.assign = assign
        self.note = note

    def emit(self, expr: str) -> str:
        var = self.assign(expr, self.note)
        self.note = ""
        return var

    def permuted(self, var: str, have: str, want: str) -> str:
        if have == want:
            return var
        return f"{var}.transpose({_tup([have.index(c) for c in want])})"

    def reduce(self, var: str, labs: str, keep: set[str]) -> tuple[str, str]:
        """Sum the labels of ``var`` outside ``keep`` (and take diagonals of repeated labels)."""
        out = "".join(dict.fromkeys(c for c in labs if c in keep))
        if len(set(labs)) != len(labs):
            return self.emit(f'numpy.einsum("{labs}->{out}", {var})'), out
        gone = [i for i, c in enumerate(labs) if c not in keep]
        if not gone:
            return var, labs
        return self.emit(f"{var}.sum(axis={_tup(gone)})"), out

    def broadcast(self, var: str, labs: str, out: str) -> str:
        """``var`` viewed with axes ``out`` (its labels in that order, unit axes for the others)."""
        view = self.permuted(var, labs, "".join(c for c in out if c in labs))
        if len(labs) == len(out) or not labs:  # a scalar broadcasts as it is
            return view
        shape = tuple(self.sizes[c] if c in labs else 1 for c in out)
        return f"{view}.reshape({_tup(shape) if shape else '()'})"

    def pair(self, x: str, xl: str, y: str, yl: str, keep: set[str], prefer: str) -> tuple[str, str]:
        """One pairwise step; ``prefer`` is the label order wanted if this is the last step."""
        if len(set(xl)) != len(xl) or len(set(yl)) != len(yl):
            return self.einsum(x, xl, y, yl, keep)
        # labels only one side carries and nothing later needs: sum them first
        x, xl = self.reduce(x, xl, keep | set(yl))
        y, yl = self.reduce(y, yl, keep | set(xl))
        both = [c for c in xl if c in yl]
        con = [c for c in both if c not in keep]
        batch = [c for c in both if c in keep]
        if not con:
            out = xl + "".join(c for c in yl if c not in xl)
            if set(out) == set(prefer) and len(prefer) == len(out):
                out = prefer
            a, b = self.broadcast(x, xl, out), self.broadcast(y, yl, out)
            return self.emit(f"{a} * {b}"), out
        if batch:
            return self.einsum(x, xl, y, yl, keep)
        xk = "".join(c for c in xl if c not in con)
        yk = "".join(c for c in yl if c not in con)
        rows, cols = math.prod(self.sizes[c] for c in xk), math.prod(self.sizes[c] for c in yk)
        if rows < cols or (rows == cols and prefer == yk + xk and prefer != xk + yk):
            # the longer side of the result as its rows: multithreaded BLAS splits the rows, and
            # a short-and-wide product can run several times slower than its transpose
            x, xl, y, yl, xk, yk = y, yl, x, xl, yk, xk
        if len(con) == 1 and len(xl) <= 2 and len(yl) <= 2:
            (c,) = con
            a = x if xl in (c, xk + c) else f"{x}.T"
            b = y if yl in (c, c + yk) else f"{y}.T"
            return self.emit(f"{a} @ {b}"), xk + yk
        if not xk and not yk and xl != yl:
            # a full inner product of differently ordered arrays: tensordot would copy one of
            # them into the other's order first (several times slower than einsum's one pass)
            return self.einsum(x, xl, y, yl, keep)
        axes = (_tup([xl.index(c) for c in con]), _tup([yl.index(c) for c in con]))
        return self.emit(f"numpy.tensordot({x}, {y}, axes=({axes[0]}, {axes[1]}))"), xk + yk

    def einsum(self, x: str, xl: str, y: str, yl: str, keep: set[str]) -> tuple[str, str]:
        out = "".join(dict.fromkeys(c for c in xl + yl if c in keep))
        return self.emit(f'numpy.einsum("{xl},{yl}->{out}", {x}, {y})'), out


_PairKey = tuple[str, str, str, str]


class PairCache(dict[_PairKey, tuple[str, str]]):
    """(x, x's labels, y, y's labels), labels renamed by first appearance -> (result, its labels),
    with the operand-name pairs indexed so ``reuse_pairs`` skips pairs never emitted."""

    def __init__(self) -> None:
        super().__init__()
        self.names: Counter[tuple[str, str]] = Counter()

    def __setitem__(self, key: _PairKey, value: tuple[str, str]) -> None:
        if key not in self:
            self.names[key[0], key[2]] += 1
        super().__setitem__(key, value)

    def setdefault(self, key: _PairKey, default: tuple[str, str]) -> tuple[str, str]:  # type: ignore[override]
        if key not in self:
            self[key] = default
        return self[key]

    def __delitem__(self, key: _PairKey) -> None:
        super().__delitem__(key)
        pair = (key[0], key[2])
        self.names[pair] -= 1
        if not self.names[pair]:
            del self.names[pair]


def _pair_key(x: str, xl: str, y: str, yl: str) -> tuple[tuple[str, str, str, str], dict[str, str]]:
    canon: dict[str, str] = {}
    for c in xl + yl:
        canon.setdefault(c, chr(97 + len(canon)))
    return (x, "".join(canon[c] for c in xl), y, "".join(canon[c] for c in yl)), canon


def reuse_pairs(
    ops: Sequence[str], terms: Sequence[str], out: str, cache: PairCache
) -> tuple[list[str], list[str]]:
    """Replace two operands by a product of them emitted before (by another network) when that
    product kept every label the rest of this network needs; repeat while one is found."""
    ops, terms = list(ops), list(terms)
    found = True
    while found and len(ops) > 1:
        found = False
        for i in range(len(ops)):
            for j in range(len(ops)):
                if i == j or (ops[i], ops[j]) not in cache.names:
                    continue
                key, canon = _pair_key(ops[i], terms[i], ops[j], terms[j])
                hit = cache.get(key)
                if hit is None:
                    continue
                back = {v: k for k, v in canon.items()}
                labs = "".join(back[c] for c in hit[1])
                others = {c for k, t in enumerate(terms) if k not in (i, j) for c in t} | set(out)
                if not ({c for c in terms[i] + terms[j] if c in others} <= set(labs)):
                    continue
                rest = [k for k in range(len(ops)) if k not in (i, j)]
                ops = [ops[k] for k in rest] + [hit[0]]
                terms = [terms[k] for k in rest] + [labs]
                found = True
                break
            if found:
                break
    return ops, terms


def lower_path(
    eq: str,
    ops: Sequence[str],
    shapes: Sequence[tuple[int, ...]],
    path: Sequence[Sequence[int]],
    assign: Callable[[str, str], str],
    note: str = "",
    cache: PairCache | None = None,
) -> str:
    """Emit the contraction ``eq`` of ``ops`` along ``path`` (opt_einsum's convention: each step
    removes its operands and appends the result) and return the expression of the result.

    Args:
        eq: the einsum equation (single-character labels, explicit output).
        ops: the operands' variables.
        shapes: the operands' shapes.
        path: the contraction path (tuples of operand positions).
        assign: ``assign(expression, comment)`` emits a statement and returns its variable.
        note: a comment for the first statement.
        cache: records every pairwise product emitted (see :func:`reuse_pairs`).
    """
    inputs, out = eq.split("->")
    terms = inputs.split(",")
    sizes = {c: n for labs, dims in zip(terms, shapes, strict=True) for c, n in zip(labs, dims, strict=True)}
    low = _Lowering(sizes, assign, note)
    live: list[tuple[str, str]] = list(zip(ops, terms, strict=True))
    for step in path:
        picked = [live[i] for i in step]
        live = [t for i, t in enumerate(live) if i not in step]
        keep = set(out) | {c for _, labs in live for c in labs}
        last = not live
        if len(picked) == 1:
            var, labs = low.reduce(*picked[0], keep)
        elif len(picked) == 2:
            (x, xl), (y, yl) = picked
            var, labs = low.pair(x, xl, y, yl, keep, out if last else "")
            if cache is not None and var.isidentifier():
                key, canon = _pair_key(x, xl, y, yl)
                if all(c in canon for c in labs):
                    cache.setdefault(key, (var, "".join(canon[c] for c in labs)))
        else:
            res = "".join(dict.fromkeys(c for _, labs in picked for c in labs if c in keep))
            sub = ",".join(labs for _, labs in picked)
            args = ", ".join(v for v, _ in picked)
            var, labs = low.emit(f'numpy.einsum("{sub}->{res}", {args}, optimize=True)'), res
        live.append((var, labs))
    if len(live) != 1:  # no path given: contract what is left at once
        sub = ",".join(labs for _, labs in live)
        args = ", ".join(v for v, _ in live)
        return low.emit(f'numpy.einsum("{sub}->{out}", {args}, optimize=True)')
    var, labs = live[0]
    if labs != out:
        if len(set(labs)) != len(labs) or set(labs) != set(out):
            var, labs = low.reduce(var, labs, set(out))
        var = low.permuted(var, labs, out)
    return var
