"""Tidying matrix expressions into the forms people write.

* :func:`func` builds one elementwise function over distinct operands (nested functions and
  Hadamard products merge, ``\\mathbf{1}`` becomes the number 1) and rewrites rules in
  ``exp(u)`` as rules in ``sigma(u)`` when that is shorter (``sigma(u) (1 - sigma(u))``).
* :func:`mm` flattens chains; :func:`fold_softmax` turns ``exp(z) / (1^T exp(z))`` into
  ``softmax(z)``, also where the scale is a power shared by several factors (``p p^T``).
* :func:`add` merges like terms, and terms equal but for one ``diag(...)`` into one ``diag``.

Every step keeps the value (sympy identities, linearity of ``diag``).
"""

from __future__ import annotations

from collections.abc import Callable

import sympy as sp

from symtn.ir.composite import arg_symbols
from symtn.lower.latex.mtree import Add, Const, Diag, Func, Ident, M, MatMul, Ones, Op, T, is_scalar, tr

_X0 = sp.Symbol("x0", real=True)
SIGMOID = 1 / (1 + sp.exp(-_X0))


def _tidy(g: sp.Expr) -> sp.Expr:
    """``-x (x - 1)`` -> ``x (1 - x)``: a minus sign absorbed by a factor written ``a - b``."""
    coeff, rest = g.as_coeff_Mul()
    factors = list(sp.Mul.make_args(rest))
    flip = [i for i, f in enumerate(factors) if f.is_Add and f.could_extract_minus_sign()]
    if coeff == -1 and len(flip) == 1:
        factors[flip[0]] = -factors[flip[0]]
        return sp.Mul(*factors, evaluate=False)
    return g


def _shorter(fn: sp.Expr) -> sp.Expr:
    """The factored form of a rational rule when it is shorter."""
    if not fn.is_Add and not fn.is_Mul:
        return fn
    g = sp.factor(sp.cancel(fn))
    return _tidy(g) if sp.count_ops(g) < sp.count_ops(fn) else fn


def _sigmoid_form(fn: sp.Expr, ops: list[M]) -> tuple[sp.Expr, list[M]]:
    """``fn`` with ``exp`` of an operand rewritten through ``sigma`` of it, when shorter."""
    for j, x in enumerate(arg_symbols(len(ops))):
        if fn == SIGMOID.subs(_X0, x) or not any(a.has(x) for a in fn.atoms(sp.exp)):
            continue
        s = sp.Symbol("S_sigma")
        sig = Func(SIGMOID, (ops[j],))
        k = ops.index(sig) if sig in ops else len(ops)
        g = fn.xreplace({sp.Symbol(f"x{k}", real=True): s}) if k < len(ops) else fn
        g = sp.factor(sp.simplify(g.subs(x, sp.log(s / (1 - s)))))
        if g.has(sp.exp) or g.has(x) or sp.count_ops(g) > sp.count_ops(fn):
            continue
        g = _tidy(g)
        return g.xreplace({s: sp.Symbol(f"x{k}", real=True)}), ops if k < len(ops) else [*ops, sig]
    return _shorter(fn), ops


def _constant(value: sp.Expr, shape: tuple[object, object]) -> M:
    """A constant array: ``c``, ``c \\mathbf{1}``, ``c \\mathbf{1}^T`` or ``c \\mathbf{1} \\mathbf{1}^T``."""
    rows, cols = shape
    if rows is None and cols is None:
        return Const(value)
    ones: M
    if cols is None:
        ones = Ones(rows)  # type: ignore[arg-type]
    else:
        ones = T(Ones(cols)) if rows is None else MatMul((Ones(rows), T(Ones(cols))))  # type: ignore[arg-type]
    return ones if value == 1 else Func(value * _X0, (ones,))


def func(fn: sp.Expr, ops: tuple[M, ...] | list[M]) -> M:
    """One elementwise function ``fn(ops)``, normalised (see the module docstring)."""
    syms = arg_symbols(len(ops))
    atoms: list[M] = []
    sub: dict[sp.Symbol, sp.Expr] = {}

    def atom(m: M) -> sp.Symbol:
        if m not in atoms:
            atoms.append(m)
        return sp.Symbol(f"x{atoms.index(m)}", real=True)

    for s, o in zip(syms, ops, strict=True):
        if isinstance(o, Func):
            sub[s] = o.fn.xreplace({x: atom(p) for x, p in zip(arg_symbols(len(o.ops)), o.ops, strict=True)})
        elif isinstance(o, Const):
            sub[s] = o.value
        else:
            sub[s] = atom(o)
    out = fn.xreplace(sub) if sub else fn
    shape = Func(fn, tuple(ops)).shape if ops else (None, None)
    # the all-ones vector is the number 1 once another array keeps the shape
    shaped = [a for a in atoms if not is_scalar(a) and not isinstance(a, Ones)]
    if shaped:
        ones = {sp.Symbol(f"x{i}", real=True): 1 for i, a in enumerate(atoms) if isinstance(a, Ones)}
        out = out.xreplace(ones) if ones else out
    if not atoms:
        return _constant(out, shape)
    out, atoms = _sigmoid_form(sp.expand(out, log=False) if out.is_Add else out, atoms)
    used = [i for i in range(len(atoms)) if out.has(sp.Symbol(f"x{i}", real=True))]
    if len(used) < len(atoms):
        ren = {sp.Symbol(f"x{i}", real=True): sp.Symbol(f"x{k}", real=True) for k, i in enumerate(used)}
        out, atoms = out.xreplace(ren), [atoms[i] for i in used]
    if not atoms:
        return _constant(out, shape)
    if out == _X0 and len(atoms) == 1:
        return atoms[0]
    return Func(out, tuple(atoms))


def mm(*factors: M) -> M:
    """A chain: nested chains flattened, scalars first, identities and ones dropped."""
    flat: list[M] = []
    for f in factors:
        # a scalar chain such as y^T 1 stays one factor: (y^T 1) diag(p), not y^T 1 diag(p)
        whole = isinstance(f, MatMul) and (not is_scalar(f) or all(is_scalar(g) for g in f.factors))
        flat.extend(f.factors if whole else [f])  # type: ignore[attr-defined]
    scal = [f for f in flat if is_scalar(f) and f != Const(sp.Integer(1))]
    rest = [f for f in flat if not is_scalar(f)]
    if len(rest) > 1:
        rest = [f for f in rest if not isinstance(f, Ident)] or rest[:1]
    rest = _diag_on_vector(rest)
    out = scal + rest
    if not out:
        return Const(sp.Integer(1))
    return out[0] if len(out) == 1 else fold_softmax(MatMul(tuple(out)))


def _diag_on_vector(rest: list[M]) -> list[M]:
    """``diag(v) u`` -> ``v \\odot u`` (and ``u^T diag(v)`` -> ``(v \\odot u)^T``) where ``u`` is a
    vector: ``X^T diag(s - y) 1`` is ``X^T (s - y)``."""
    for k, f in enumerate(rest):
        if not isinstance(f, Diag):
            continue
        after, before = rest[k + 1 :], rest[:k]
        if after and mm(*after).shape[1] is None:
            return [*before, func(_X0 * sp.Symbol("x1", real=True), [f.x, mm(*after)])]
        if before and mm(*before).shape[0] is None:
            u = tr(mm(*before))
            return [tr(func(_X0 * sp.Symbol("x1", real=True), [f.x, u])), *after]
    return rest


def _exp_of(m: M) -> M | None:
    return m.ops[0] if isinstance(m, Func) and m.fn == sp.exp(_X0) else None


def fold_softmax(chain: MatMul) -> M:
    """Scale ``1 / (1^T exp(z))^k`` times factors ``exp(z)`` -> ``softmax(z)`` factors."""
    scal = [f for f in chain.factors if is_scalar(f)]
    rest = list(chain.factors[len(scal) :])
    if not scal:
        return chain
    c = func(sp.Mul(*arg_symbols(len(scal))), scal)
    g, ops = (c.fn, list(c.ops)) if isinstance(c, Func) else (sp.Integer(1), [])
    changed = False
    for i, f in enumerate(rest):
        back: Callable[[M], M] = lambda m: m  # noqa: E731
        inner = f
        if isinstance(f, Diag):
            inner, back = f.x, Diag
        elif f.shape[0] is None and f.shape[1] is not None:
            inner, back = tr(f), tr
        z = _exp_of(inner)
        if z is None:
            continue
        total = MatMul((T(Ones(z.shape[0])), inner))  # type: ignore[arg-type]
        if total not in ops:
            continue
        x = sp.Symbol(f"x{ops.index(total)}", real=True)
        if g.as_powers_dict().get(x, 0) < 0:
            g = g * x
            soft = Op("softmax", z)
            rest[i] = back(soft)
            changed = True
    if not changed:
        return chain
    scale = func(g, ops) if ops else Const(g)
    return mm(scale, *rest) if scale != Const(sp.Integer(1)) else mm(*rest)


def _into_sum(c: sp.Expr, m: M) -> tuple[sp.Expr, M]:
    """``(2, (W x - y) x^T)`` stays; ``(1/2, (2 W x - 2 y) x^T)`` -> ``(1, (W x - y) x^T)``."""
    if abs(c) == 1 or not c.is_Number or not isinstance(m, MatMul):
        return c, m
    sums = [i for i, f in enumerate(m.factors) if isinstance(f, Add)]
    if not sums:
        return c, m
    first = m.factors[sums[0]]
    inner = add([(c * k, t) for k, t in first.terms])  # type: ignore[attr-defined]
    if isinstance(inner, Add) and any(not k.is_Integer for k, _ in inner.terms):
        return c, m  # keep fractions outside: 1/2 (a + b), not (1/2 a + 1/2 b)
    return sp.Integer(1), MatMul(tuple(inner if i == sums[0] else f for i, f in enumerate(m.factors)))


def _parts(m: M) -> tuple[list[M], list[M]]:
    fs = list(m.factors) if isinstance(m, MatMul) else [m]
    return [f for f in fs if is_scalar(f)], [f for f in fs if not is_scalar(f)]


def add(terms: list[tuple[sp.Expr, M]]) -> M:
    """A weighted sum with like terms merged (equal terms; chains differing in one ``diag``)."""
    merged: dict[M, sp.Expr] = {}
    for c, m in terms:
        if isinstance(m, Add):
            for c2, m2 in m.terms:
                merged[m2] = merged.get(m2, sp.Integer(0)) + c * c2
        else:
            merged[m] = merged.get(m, sp.Integer(0)) + c
    funcs = [(m, c) for m, c in merged.items() if isinstance(m, Func) and c != 0]
    if len(funcs) >= 2:  # elementwise terms merge into one rule: sigma(x) + sigma(-x) is 1
        for m, _ in funcs:
            del merged[m]
        rule = sum(c * x for (_, c), x in zip(funcs, arg_symbols(len(funcs)), strict=True))
        one = func(rule, [m for m, _ in funcs])
        merged[one] = merged.get(one, sp.Integer(0)) + 1
    groups: dict[tuple[object, ...], list[tuple[sp.Expr, M]]] = {}
    for m, c in merged.items():
        scal, rest = _parts(m)
        diags = [i for i, f in enumerate(rest) if isinstance(f, Diag)]
        key: tuple[object, ...] = (
            tuple("diag" if i == diags[0] else f for i, f in enumerate(rest)) if len(diags) == 1 else (m,)
        )
        groups.setdefault(key, []).append((c, m))
    out: list[tuple[sp.Expr, M]] = []
    for key, members in groups.items():
        if len(members) == 1 or "diag" not in key:
            out += [(c, m) for c, m in members if c != 0]
            continue
        pieces: list[M] = []
        weights = []
        for c, m in members:
            scal, rest = _parts(m)
            d = next(f for f in rest if isinstance(f, Diag))
            pieces.append(func(sp.Mul(*arg_symbols(len(scal) + 1)), [*scal, d.x]))
            weights.append(c)
        inner = func(sum(w * x for w, x in zip(weights, arg_symbols(len(pieces)), strict=True)), pieces)
        if isinstance(inner, Const) and inner.value == 0:
            continue
        out.append((sp.Integer(1), mm(*(Diag(inner) if k == "diag" else k for k in key))))  # type: ignore[arg-type]
    if not out:
        return Const(sp.Integer(0))
    out = [_into_sum(c, m) for c, m in out]
    if len(out) == 1 and out[0][0] == 1:
        return out[0][1]
    return Add(tuple(out))
