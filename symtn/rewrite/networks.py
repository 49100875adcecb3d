"""Rules inside one tensor network: copy tensors, reshapes and declared facts.

Every rule takes a :class:`Product` whose factors are already simplified and returns an equal
network with the same free legs and sizes, or None when it does not apply.
"""

from __future__ import annotations

from collections import Counter

from networkx.utils import UnionFind

from symtn.ir.nodes import Delta, Node, Product, Reshape, Shifted, Sum, Tensor, Zero
from symtn.ir.walk import rename_legs
from symtn.rewrite.canonical import odd_automorphism, symmetry_blocks


def features(p: Product) -> Counter[str]:
    """How many factors of each kind ``p`` has (memoised), so rules can skip in O(1).

    Keys: node class names, ``"Scaled"`` (one-term Sums), and fact kinds of Tensor factors.
    """
    hit = p._cache.get("features")
    if hit is None:
        hit = Counter()
        for f in p.args:
            hit[type(f).__name__] += 1
            if isinstance(f, Tensor):
                for fact in f.facts:
                    hit[fact[0]] += 1
            elif isinstance(f, Sum) and len(f.terms) == 1:
                hit["Scaled"] += 1
        p._cache["features"] = hit
    return hit  # type: ignore[no-any-return]


def owners(factors: tuple[Node, ...] | list[Node]) -> dict[str, list[int]]:
    """Each leg name mapped to the indices of the factors carrying it (one or two)."""
    out: dict[str, list[int]] = {}
    for i, f in enumerate(factors):
        for leg, _ in f.sig:
            if leg in out:
                out[leg].append(i)
            else:
                out[leg] = [i]
    return out


def _other(own: dict[str, list[int]], leg: str, i: int) -> int | None:
    idx = own.get(leg, ())
    return next((j for j in idx if j != i), None)


def delta_merge(p: Product) -> Node | None:
    """Copy tensors joined by wires are one copy tensor on their outer legs.

    ``sum_w delta[.., w] delta[w, ..] = delta[.., ..]``: a connected network of copy tensors
    forces all its indices equal, cycles included. With no outer legs the result is
    ``delta[]`` (the size). Terminates: the number of Delta factors strictly decreases.
    """
    if features(p)["Delta"] < 2:
        return None
    deltas = [i for i, f in enumerate(p.args) if isinstance(f, Delta)]
    own = owners(p.args)
    classes = UnionFind(deltas)
    merged = False
    for i in deltas:
        for leg in p.args[i].legs:
            j = _other(own, leg, i)
            if j is not None and j in classes.parents and classes[j] != classes[i]:
                classes.union(i, j)
                merged = True
    if not merged:
        return None
    groups: dict[int, list[int]] = {}
    for i in deltas:
        groups.setdefault(classes[i], []).append(i)
    out: list[Node] = []
    for i, f in enumerate(p.args):
        if i not in classes.parents:
            out.append(f)
        elif groups[classes[i]][0] == i:
            members = groups[classes[i]]
            legs = [
                leg
                for m in members
                for leg in p.args[m].legs
                if len(own[leg]) == 1 or not all(j in members for j in own[leg])
            ]
            out.append(Delta(p.args[i].dim, tuple(legs)))
    return Product(*out)


def delta_absorb(p: Product) -> Node | None:
    """An identity ``delta[a, b]`` wired to a factor renames that factor's leg.

    ``F[.., a] @ delta[a, b] = F[.., b]``. Kept when both legs are on the same factor (a trace)
    or both are free (the identity matrix). Terminates: each step removes one Delta factor.
    """
    if not features(p)["Delta"]:
        return None
    factors = list(p.args)
    changed = False
    while True:
        own = owners(factors)
        hit: tuple[int, int, str, str] | None = None
        for i, f in enumerate(factors):
            if not isinstance(f, Delta) or f.order != 2:
                continue
            a, b = f.legs
            fa, fb = _other(own, a, i), _other(own, b, i)
            if (fa is None and fb is None) or fa == fb:
                continue
            if fa is not None and (fb is None or not factors[fa].children or factors[fb].children):
                hit = (i, fa, a, b)
            elif fb is not None:
                hit = (i, fb, b, a)
            break
        if hit is None:
            break
        i, j, old, new = hit
        factors[j] = rename_legs(factors[j], {old: new})
        del factors[i]
        changed = True
    return Product(*factors) if changed else None


def shifted_zero(node: Shifted) -> Node | None:
    """``delta[a, b + 0] = delta[a, b]``. Terminates: removes a Shifted node."""
    size, a, b, k = node.args
    return Delta(size, (a, b)) if k == 0 else None


def reshape_trivial(node: Reshape) -> Node | None:
    """A reshape with one part is the identity; with none it is ``ones`` of size 1.

    Terminates: removes a Reshape node.
    """
    if len(node.parts) == 1:
        ((part, size),) = node.parts
        return Delta(size, (part, node.whole[0]))
    if not node.parts:
        return Delta(node.whole[1], (node.whole[0],))
    return None


def _pair_delta(a: tuple[str, object], b: tuple[str, object]) -> Delta:
    size = a[1]
    return Delta(size, ()) if a[0] == b[0] else Delta(size, (a[0], b[0]))  # type: ignore[arg-type]


def reshape_fusion(p: Product) -> Node | None:
    """Reshape fusion: merge then split (or split then merge) with the same parts is identity.

    ``sum_y R[x.., y] R[x'.., y] = prod_k delta[x_k, x'_k]`` when the part sizes agree in order,
    ``sum_x R[x.., y] R[x.., y'] = delta[y, y']`` when all parts are wired in order, and
    ``sum_y R[x.., y] = ones[x..]``. Terminates: the number of Reshape factors decreases.
    """
    if not features(p)["Reshape"]:
        return None
    own = owners(p.args)
    for i, r in enumerate(p.args):
        if not isinstance(r, Reshape):
            continue
        j = _other(own, r.whole[0], i)
        if j is None:
            continue
        s = p.args[j]
        new: list[Node] | None = None
        if isinstance(s, Delta) and s.order == 1:
            new = [Delta(size, (leg,)) for leg, size in r.parts]
        elif isinstance(s, Reshape) and s.whole[0] == r.whole[0]:
            if [z for _, z in r.parts] == [z for _, z in s.parts]:
                new = [_pair_delta(x, y) for x, y in zip(r.parts, s.parts, strict=True)]
        if new is not None:
            rest = [f for k, f in enumerate(p.args) if k not in (i, j)]
            return Product(*rest, *new)
    for i, r in enumerate(p.args):
        if isinstance(r, Reshape) and r.parts:
            j = _other(own, r.parts[0][0], i)
            s = p.args[j] if j is not None else None
            if isinstance(s, Reshape) and [x for x, _ in s.parts] == [x for x, _ in r.parts]:
                rest = [f for k, f in enumerate(p.args) if k not in (i, j)]
                return Product(*rest, _pair_delta(r.whole, s.whole))
    return None


def antisymmetric_zero(p: Product) -> Node | None:
    """An antisymmetric pair of slots wired into a symmetric pair (or one copy tensor) is zero.

    ``E[.., a, b, ..] S[a, b] = 0`` when E is antisymmetric and S symmetric in those slots, and
    likewise with ``delta[a, b, ..]`` for S. Terminates: the result is a leaf.
    """
    if not features(p)["antisymmetric"]:
        return None
    own = owners(p.args)
    for i, t in enumerate(p.args):
        if not isinstance(t, Tensor):
            continue
        for _, blocks in symmetry_blocks(t, "antisymmetric"):
            if len(blocks[0]) != 1:
                continue
            legs = [t.legs[b[0]] for b in blocks]
            for x, u in enumerate(legs):
                for v in legs[x + 1 :]:
                    j, k = _other(own, u, i), _other(own, v, i)
                    if j is None or j != k:
                        continue
                    if isinstance(p.args[j], Delta) or _symmetric_pair(p.args[j], u, v):
                        return Zero(p.sig)
    return None


def _symmetric_pair(f: Node, u: str, v: str) -> bool:
    if not isinstance(f, Tensor):
        return False
    su, sv = f.legs.index(u), f.legs.index(v)
    for _, blocks in symmetry_blocks(f, "symmetric"):
        singles = {b[0] for b in blocks if len(b) == 1}
        if su in singles and sv in singles:
            return True
    return False


def odd_symmetry_zero(p: Product) -> Node | None:
    """A network with a bound-leg symmetry acting oddly on antisymmetric slots is zero.

    If relabelling bound legs maps the network to itself while permuting antisymmetric slots
    with sign -1, then ``N = -N``. Bounded search (see ``canonical.odd_automorphism``).
    Terminates: the result is a leaf.
    """
    if not features(p)["antisymmetric"]:
        return None
    return Zero(p.sig) if odd_automorphism(p) else None


def isometry(p: Product) -> Node | None:
    """``X @ X[k -> k'] = delta[k, k']`` for ``isometry(k)``, every other slot wired pairwise.

    Two occurrences of one isometry variable whose non-``k`` slots carry the same wire names are
    replaced by identities on their ``k`` legs. Terminates: two Tensor factors become Deltas.
    """
    if features(p)["isometry"] < 2:
        return None
    tensors = [(i, f) for i, f in enumerate(p.args) if isinstance(f, Tensor) and f.fact("isometry")]
    for x, (i, a) in enumerate(tensors):
        fact = a.fact("isometry")
        keep = (fact[1],) if fact and isinstance(fact[1], str) else tuple(fact[1]) if fact else ()
        names = [s for s, _ in a.slots]
        if not keep or any(k not in names for k in keep):
            continue
        for j, b in tensors[x + 1 :]:
            if b.variable is not a.variable:
                continue
            pairs = list(zip(names, a.legs, b.legs, strict=True))
            if all(la == lb for s, la, lb in pairs if s not in keep):
                sizes = dict(a.slots)
                new = [_pair_delta((la, sizes[s]), (lb, sizes[s])) for s, la, lb in pairs if s in keep]
                rest = [f for k, f in enumerate(p.args) if k not in (i, j)]
                return Product(*rest, *new)
    return None
