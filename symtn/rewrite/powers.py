"""Declared symmetries on single tensors, and power algebra on elementwise (Hadamard) products.

``symmetry_canon`` puts the legs of a symmetric / antisymmetric tensor occurrence in sorted order
(``S[j, i] -> S[i, j]``, ``K[j, i] -> -K[i, j]``), so equal occurrences are equal nodes.

``hadamard_power`` merges two factors of an elementwise product over the same base into one
power: ``x * x -> x^2``, ``x^a * x^b -> x^(a+b)``, ``x / x -> 1``. An elementwise product ``x * y``
is the network ``x[a] @ y[b] @ delta[i, a, b]`` (every leg of both factors meets a copy tensor),
so the rule looks for two factors whose legs pair up through the same copy tensors.

Convention for powers (the one sympy uses for ``x / x``): exponents add, and ``x^a * x^-a``
is ``1``, also where ``x = 0``. The rewritten expression equals the original wherever the
original is finite; at a removable singularity (``x / x`` at ``x = 0``, where the unsimplified
form evaluates to NaN) the simplified form takes the limit value. It never changes a finite
value: ``(x^2)^(1/2)`` is ``abs(x)``, not ``x`` (operands are real, and nested powers are
combined by sympy's own assumption-aware ``Pow`` evaluation, see ``elementwise.fold``).
"""

from __future__ import annotations

from collections import Counter

import sympy as sp
from networkx.utils import UnionFind

from symtn.ir.nodes import Delta, Elementwise, Node, Product, Sum, Tensor, arg_symbols
from symtn.ir.walk import fresh, rename_legs
from symtn.rewrite.canonical import is_isomorphic, permutation_sign, symmetry_blocks
from symtn.rewrite.elementwise import scaled
from symtn.rewrite.elementwise_canon import rule_bubble
from symtn.rewrite.networks import features, owners

_BAD = (sp.zoo, sp.nan, sp.oo, -sp.oo)


# ------------------------------------------------------------------ declared symmetries
def sort_slots(t: Tensor, kinds: tuple[str, ...], only: frozenset[str] | None = None) -> Node | None:
    """``t`` with the legs of its ``kinds`` slot groups sorted by name (times the sign of the
    permutation for antisymmetric groups), or None when they are sorted already. With
    ``only``, groups with a leg outside ``only`` are left alone."""
    if not t.facts:
        return None
    legs = list(t.legs)
    sign = 1
    for kind in kinds:
        for _, blocks in symmetry_blocks(t, kind):
            names = [tuple(legs[s] for s in b) for b in blocks]
            if only is not None and any(leg not in only for b in names for leg in b):
                continue
            perm = sorted(range(len(blocks)), key=names.__getitem__)
            if perm == list(range(len(blocks))):
                continue
            for b, src in zip(blocks, perm, strict=True):
                for slot, name in zip(b, names[src], strict=True):
                    legs[slot] = name
            if kind == "antisymmetric":
                sign *= permutation_sign(perm) ** len(blocks[0])
    if tuple(legs) == t.legs:
        return None
    out = Tensor(t.name, t.slots, tuple(legs), t.facts)
    return scaled(out, sp.Integer(sign))


def symmetry_canon(t: Tensor) -> Node | None:
    """``S[j, i] = S[i, j]`` for ``symmetric(i, j)``: sort the legs of symmetric slot groups.

    Blocks ``symmetric((i, j), (k, l))`` are sorted as tuples; only the facts
    ``canonical.symmetry_blocks`` accepts are used. Antisymmetric groups are left to
    ``free_antisymmetric``: their sign would depend on the names of bound legs, which are
    arbitrary. Terminates: applies only to unsorted groups and leaves them sorted.
    """
    return sort_slots(t, ("symmetric",))


def free_antisymmetric(node: Node) -> Node:
    """``K[j, i] = -K[i, j]`` for ``antisymmetric(i, j)`` where ``i, j`` are free legs of ``node``.

    Applied to the root of a simplified expression only: tensors that are the root, a term of
    the root sum, or a factor of the root network (or of a root term), with all their
    antisymmetric legs free there. Legs free at the root are not renamable, so sorting them is
    canonical; bound legs are matched up to renaming by ``collect_terms`` instead. Returns
    ``node`` itself when nothing changes (the caller re-simplifies a changed result).
    """
    free = node.legset

    def fix(t: Node) -> Node:
        if isinstance(t, Tensor):
            return sort_slots(t, ("antisymmetric",), free) or t
        if isinstance(t, Product):
            new = [fix(f) for f in t.args]
            return t if all(a is b for a, b in zip(new, t.args, strict=True)) else Product(*new)
        return t

    if isinstance(node, Sum):
        terms = tuple(fix(t) for t in node.terms)
        if all(a is b for a, b in zip(terms, node.terms, strict=True)):
            return node
        return Sum(terms, node.coeffs)
    return fix(node)


# ------------------------------------------------------------------ power algebra
def _as_power(f: Node) -> tuple[sp.Expr, tuple[Node, ...]]:
    """``f`` as a rule over operands: a bubble's own, or ``x0`` over ``f``."""
    if isinstance(f, Elementwise):
        return f.fn, f.operands
    return arg_symbols(1)[0], (f,)


def _ramp(rule: sp.Expr) -> sp.Expr:
    """``z * iverson(z > 0) = relu(z)`` (and with ``>=``: both are 0 at ``z = 0``)."""
    for h in rule.atoms(sp.Heaviside):
        if len(h.args) == 2 and h.args[1] in (0, 1) and sp.expand(rule - h.args[0] * h) == 0:
            return sp.Max(0, h.args[0])
    return rule


def combine_rules(f: Node, g: Node) -> tuple[sp.Expr, tuple[Node, ...]] | None:
    """The rule of ``f * g`` (same legs) over the union of their operands, or None when that
    rule is still a product (different bases: keep the two factors, as ``elementwise_canon``
    would split them again)."""
    fa, oa = _as_power(f)
    fb, ob = _as_power(g)
    operands = list(oa)
    mapping: dict[sp.Symbol, sp.Expr] = {}
    shared = False
    for y, o in zip(arg_symbols(len(ob)), ob, strict=True):
        twin = next((k for k, prev in enumerate(operands) if prev is o), None)
        if twin is None:
            twin = next((k for k, prev in enumerate(operands) if is_isomorphic(prev, o)), None)
        if twin is None:
            operands.append(o)
            twin = len(operands) - 1
        else:
            shared = True
        mapping[y] = sp.Dummy(f"y{twin}")
    if not shared:
        return None
    back = {d: arg_symbols(len(operands))[int(d.name[1:])] for d in mapping.values()}
    rule = _ramp(fa * fb.xreplace(mapping).xreplace(back))
    if rule.has(*_BAD):
        return None
    _, rest = rule.as_coeff_Mul()
    if rest.is_Mul:
        return None
    return rule, tuple(operands)


Attach = dict[int, list[str]]
"""Copy tensors a factor group meets: delta index -> the group's legs on it."""


def _units(p: Product, own: dict[str, list[int]]) -> list[list[int]]:
    """Factor groups: the non-copy-tensor factors, joined when a wire links them directly
    (``R[o, i] @ x[i]`` is one group; a copy tensor separates groups)."""
    idx = [i for i, f in enumerate(p.args) if not isinstance(f, Delta)]
    classes = UnionFind(idx)
    for ks in own.values():
        inner = [k for k in ks if not isinstance(p.args[k], Delta)]
        if len(inner) == 2:
            classes.union(*inner)
    groups: dict[int, list[int]] = {}
    for i in idx:
        groups.setdefault(classes[i], []).append(i)
    return list(groups.values())


def _attachments(p: Product, own: dict[str, list[int]], unit: list[int]) -> Attach | None:
    """The copy tensors the group ``unit``'s outer legs meet, or None if some outer leg is
    free or the group holds a sum (multi-term sums are left to ``expand``)."""
    members = set(unit)
    out: Attach = {}
    for i in unit:
        if isinstance(p.args[i], Sum):
            return None
        for leg in p.args[i].legs:
            j = next((k for k in own[leg] if k != i), None)
            if j is not None and j in members:
                continue
            if j is None or not isinstance(p.args[j], Delta):
                return None
            out.setdefault(j, []).append(leg)
    return out


def _group(p: Product, unit: list[int]) -> Node:
    return p.args[unit[0]] if len(unit) == 1 else Product(*(p.args[i] for i in unit))


def hadamard_power(p: Product) -> Node | None:
    """``x^a * x^b = x^(a+b)`` inside a network: two factors of an elementwise product over
    the same base become one power bubble.

    The factors are groups of tensors wired directly to each other (a single tensor, or a
    sub-network such as ``R @ x``, so ``(R @ x) * (R @ x)`` becomes ``(R @ x)^2``). Two groups
    qualify when each of their outer legs meets a copy tensor and they meet the same copy
    tensors equally often (so ``g``'s legs pair with ``f``'s and the paired indices are
    equal). ``g`` is renamed onto ``f``'s legs, the copy tensors lose ``g``'s legs, and ``f``
    becomes the bubble of the combined rule when sympy combines it into one power
    (``x0 * x0 = x0^2``, ``x0 * x0^-1 = 1``; see the module note on ``x / x``). Multi-term
    sums are not merged (``expand`` distributes them). Scalar factors (no legs) qualify too.
    Terminates: the number of non-copy-tensor factors decreases.
    """
    if len(p.args) < 2:
        return None
    if not features(p)["Delta"] and sum(1 for f in p.args if not f.sig) < 2:
        return None
    own = owners(p.args)
    groups: dict[tuple[tuple[int, int], ...], list[tuple[list[int], Attach]]] = {}
    for unit in _units(p, own):
        att = _attachments(p, own, unit)
        if att is None:
            continue
        key = tuple(sorted((d, len(legs)) for d, legs in att.items()))
        groups.setdefault(key, []).append((unit, att))
    for members in groups.values():
        for x, (ui, att_f) in enumerate(members):
            for uj, att_g in members[x + 1 :]:
                out = _merge(p, ui, att_f, uj, att_g)
                if out is not None:
                    return out
    return None


def _merge(p: Product, ui: list[int], att_f: Attach, uj: list[int], att_g: Attach) -> Node | None:
    f, g = _group(p, ui), _group(p, uj)
    if len(ui) != len(uj):
        return None
    sizes, gsizes = f.sizes, g.sizes
    pairing = {}
    for d, legs in att_f.items():
        for lf, lg in zip(legs, att_g[d], strict=True):
            if gsizes[lg] != sizes[lf]:
                return None
            pairing[lg] = lf
    combined = combine_rules(f, rename_legs(g, pairing))
    if combined is None:
        return None
    merged = rule_bubble(combined[0], combined[1], f)
    gone = Counter(pairing)
    drop = set(ui[1:]) | set(uj)
    out: list[Node] = []
    for k, h in enumerate(p.args):
        if k == ui[0]:
            out.append(merged)
        elif k in drop:
            continue
        elif k in att_g:
            assert isinstance(h, Delta)
            out.append(Delta(h.dim, tuple(leg for leg in h.legs if leg not in gone)))
        else:
            out.append(h)
    return Product(*out)


def _is_square(fn: sp.Expr) -> bool:
    """``fn`` is ``h^2`` (``x0^2``, ``tanh(x0)^2``): summed, it is a contraction of two copies."""
    return bool(fn.is_Pow and fn.exp == 2)


def wired_power(p: Product) -> Node | None:
    """``x^a`` wired to ``x^b`` along legs ``W`` (and meeting the same copy tensors on the
    others) is ``sum[W](x^(a+b))``: e.g. ``x^2 @ x = sum(x^3)``.

    The summed form is canonical for every power except squares (``summed_square`` turns
    ``sum[W](h(x)^2)`` into the contraction ``h(x) @ h(x)``), so the rule skips a combined
    rule ``h^2``.
    Terminates: the number of non-copy-tensor factors decreases.
    """
    if len(p.args) < 2:
        return None
    own = owners(p.args)
    for i, f in enumerate(p.args):
        if isinstance(f, (Delta, Sum)) or not isinstance(f, (Tensor, Elementwise)):
            continue
        partner = {next((k for k in own[leg] if k != i), None) for leg in f.legs}
        for j in partner:
            if j is None or j <= i or not isinstance(p.args[j], (Tensor, Elementwise)):
                continue
            out = _wired_merge(p, own, i, j)
            if out is not None:
                return out
    return None


def _wired_merge(p: Product, own: dict[str, list[int]], i: int, j: int) -> Node | None:
    f, g = p.args[i], p.args[j]
    if len(f.legs) != len(g.legs):
        return None
    wires = [leg for leg in f.legs if j in own[leg]]
    att_f = _attachments(p, own, [i, j])
    if att_f is None or not wires:
        return None
    on_f: Attach = {}
    on_g: Attach = {}
    for d, legs in att_f.items():
        for leg in legs:
            (on_f if leg in f.legset else on_g).setdefault(d, []).append(leg)
    if any(len(on_f.get(d, ())) != len(on_g.get(d, ())) for d in set(on_f) | set(on_g)):
        return None
    pairing: dict[str, str] = {}
    for d, legs in on_f.items():
        for lf, lg in zip(legs, on_g[d], strict=True):
            if g.sizes[lg] != f.sizes[lf]:
                return None
            pairing[lg] = lf
    combined = combine_rules(f, rename_legs(g, pairing))
    if combined is None or _is_square(combined[0]):
        return None
    merged = rule_bubble(combined[0], combined[1], f)
    gone = set(pairing)
    sizes = f.sizes
    out: list[Node] = []
    for k, h in enumerate(p.args):
        if k == i:
            out.append(merged)
        elif k == j:
            continue
        elif k in on_g:
            assert isinstance(h, Delta)
            out.append(Delta(h.dim, tuple(leg for leg in h.legs if leg not in gone)))
        else:
            out.append(h)
    out.extend(Delta(sizes[w], (w,)) for w in wires)
    return Product(*out)


def summed_square(p: Product) -> Node | None:
    """``sum[L](x^2)`` is ``x @ x`` over ``L`` (also ``sum(tanh(z)^2) = tanh(z) @ tanh(z)``):
    a square bubble with legs summed away (each meets a
    copy tensor with no other leg) becomes two copies of its base wired along those legs, its
    other legs joined by copy tensors (the Hadamard product on them).

    The inverse of ``hadamard_power`` where that cannot apply (it needs every leg to meet a copy
    tensor, and the wired legs do not), so ``sum(x * x)``, ``sum(x^2)`` and ``x @ x`` share one
    canonical form. Terminates: the number of square bubbles decreases.
    """
    if not features(p)["Delta"]:
        return None
    own = owners(p.args)
    for i, f in enumerate(p.args):
        if not (isinstance(f, Elementwise) and _is_square(f.fn)):
            continue
        summed: dict[str, int] = {}
        for leg in f.legs:
            j = next((k for k in own[leg] if k != i), None)
            if j is not None and isinstance(p.args[j], Delta) and len(p.args[j].legs) == 1:
                summed[leg] = j
        if not summed:
            continue
        root = f.fn.base  # type: ignore[attr-defined]
        base = f.operands[0] if root == arg_symbols(1)[0] else rule_bubble(root, f.operands, f)
        sizes = base.sizes
        kept = [leg for leg in base.legs if leg not in summed]
        m1 = {leg: fresh(leg) for leg in kept}
        m2 = {leg: fresh(leg) for leg in kept}
        joins = [Delta(sizes[leg], (leg, m1[leg], m2[leg])) for leg in kept]
        drop = set(summed.values()) | {i}
        rest = [h for k, h in enumerate(p.args) if k not in drop]
        return Product(*rest, rename_legs(base, m1), rename_legs(base, m2), *joins)
    return None


__all__ = [
    "combine_rules",
    "free_antisymmetric",
    "hadamard_power",
    "sort_slots",
    "summed_square",
    "wired_power",
    "symmetry_canon",
]
