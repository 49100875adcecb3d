"""Gaussian expectations of networks polynomial in a tensor variable, by Wick pairings.

For ``x ~ N(mu, C)`` write ``x = mu + z`` with ``z ~ N(0, C)``. Isserlis' theorem gives the
moments of ``z``: ``E[z_1 ... z_2n]`` is the sum over the perfect matchings of the ``2n`` factors
of the products of pairwise covariances, and odd moments vanish. Expanding ``(mu + z)`` in every
occurrence of ``x``, the expectation of a network that is a monomial in ``x`` (``m`` occurrences)
is the sum over the *partial* matchings of the occurrences: each matched pair is replaced by a
copy of ``C`` wired to the pair's legs, each unmatched occurrence by a copy of ``mu``. With zero
mean only perfect matchings remain.

The result is a sum of networks; ``simplify`` then merges the pairings that give networks equal
up to renaming of bound legs (canonical form, like-term collection), so the symmetry of the
network shows up as coefficients: ``E[(x^T A x)^2]`` over ``N(0, I)`` has 3 terms, 2 when ``A``
is declared symmetric.

Conventions (docs/language.md, ``E[x ~ N(mu, C)](expr)``):
    * ``mu`` has the legs of ``x`` (the declared slot names); a scalar mean is broadcast.
    * ``C`` has the legs of ``x`` and one primed copy of each: for ``x: [i, j]``, ``C: [i, j, i',
      j']`` with ``C[i, j, i', j'] = Cov(x[i, j], x[i', j'])`` (the prime is the first one free, as
      for derivative legs, docs/language.md, "Derivatives"). A scalar ``C`` is ``C * I``. Only the
      symmetric part of ``C`` matters; unless ``C`` is provably symmetric under swapping each leg
      with its primed copy (e.g. declared ``symmetric(i, i')`` or built as ``L @ L[k -> k']``),
      ``(C + C^T) / 2`` is used.
    * ``None`` for ``mu`` is the zero mean, ``None`` for ``C`` the identity covariance.

Sources: L. Isserlis, "On a formula for the product-moment coefficient of any order of a normal
frequency distribution in any number of variables", Biometrika 12 (1918) 134-139; G. C. Wick,
"The evaluation of the collision matrix", Phys. Rev. 80 (1950) 268-272.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Iterator

import sympy as sp

from symtn.errors import LegError, NoRuleError, SizeError
from symtn.ir import algebra
from symtn.ir.nodes import (
    ONE,
    Bubble,
    Delta,
    Elementwise,
    Frozen,
    Node,
    Product,
    Sum,
    Tensor,
    Zero,
    size_str,
)
from symtn.ir.printer import to_notation
from symtn.ir.walk import fresh, preorder, rename_legs
from symtn.rewrite.canonical import is_isomorphic, matching_orbits
from symtn.rewrite.rules import flat_factors
from symtn.rewrite.simplify import simplify

E_LEGS = "E232"
E_POLY = "E233"

Monomial = tuple[sp.Expr, list[Node]]


def matchings(items: list[int], partial: bool = False) -> Iterator[list[tuple[int, int]]]:
    """All matchings of ``items``: perfect ones (``(2n-1)!!``), or with ``partial`` all of them.

    Args:
        items: the things to pair (occurrence indices).
        partial: also yield matchings leaving items unpaired (the unpaired ones are those not in
            any pair); for ``m`` items there are the telephone number T(m) of them.
    """
    if not items:
        yield []
        return
    first, rest = items[0], items[1:]
    if partial:
        yield from matchings(rest, True)  # ``first`` left unpaired
    for i, other in enumerate(rest):
        for m in matchings(rest[:i] + rest[i + 1 :], partial):
            yield [(first, other), *m]


def covariance_legs(x: Tensor) -> tuple[str, ...]:
    """The primed legs a covariance of ``x`` carries beside ``x``'s own: ``[i, j]`` -> ``(i', j')``.

    Each slot leg gets the first of ``l'``, ``l''``, ... not a slot of ``x`` nor chosen before.
    """
    slots = [s for s, _ in x.slots]
    chosen: list[str] = []
    for leg in slots:
        name = leg + "'"
        while name in slots or name in chosen:
            name += "'"
        chosen.append(name)
    return tuple(chosen)


def _contains(node: Node, name: str) -> bool:
    key = "gaussian.contains:" + name
    hit = node._cache.get(key)
    if hit is None:
        hit = any(isinstance(n, Tensor) and n.name == name for n in preorder(node))
        node._cache[key] = hit
    return bool(hit)


def _describe(node: Node) -> str:
    """Short notation for messages; leg lists of fresh bound names (``[_i13]``) are dropped."""
    text = re.sub(r"\[_\w+(, _\w+)*\]", "", to_notation(node))
    return text if len(text) <= 60 else text[:57] + "..."


def _poly_bubble(e: Elementwise, name: str) -> Node:
    """An elementwise polynomial (``x^2``, ``3 * x0 * x1``) as a sum of Hadamard products."""
    syms = sp.symbols(f"x0:{len(e.operands)}", real=True)
    try:
        poly = sp.Poly(e.fn, *syms)
    except sp.PolynomialError:
        poly = None
    if poly is None or not all(c.is_number for c in poly.coeffs()):
        raise NoRuleError(
            f"{name} occurs inside the function bubble {_describe(e)}: an expectation over a "
            f"Gaussian {name} needs a network polynomial in {name}",
            code=E_POLY,
            help="Wick pairings apply to products and sums of networks (and integer powers); "
            f"move {name} out of non-polynomial functions",
        )
    ones = algebra.ones(e.sig)
    total: Node | None = None
    for powers, coeff in poly.terms():
        term: Node = ones
        for op, k in zip(e.operands, powers, strict=True):
            for _ in range(k):
                term = op if term is ones else algebra.hadamard(term, op)
        term = algebra.scale(term, coeff)
        total = term if total is None else algebra.add(total, term)
    return total if total is not None else Zero(e.sig)


def _fresh_wires(factors: list[Node], free: frozenset[str]) -> list[Node]:
    """Rename every wire among ``factors`` to a fresh name (safe to splice into any network)."""
    seen: dict[str, int] = {}
    for f in factors:
        for leg in f.legs:
            seen[leg] = seen.get(leg, 0) + 1
    mapping = {leg: fresh(leg) for leg, c in seen.items() if c == 2 and leg not in free}
    if not mapping:
        return factors
    return [rename_legs(f, {a: b for a, b in mapping.items() if a in f.legset}) for f in factors]


def monomials(node: Node, name: str) -> list[Monomial]:
    """``node`` expanded in ``name`` only: a list of ``(coefficient, network factors)``.

    Sums, networks, Hadamard products and elementwise polynomials containing ``name`` are
    distributed; sub-expressions free of ``name`` stay whole (no needless expansion). Each
    factor list is a network with ``node``'s free legs whose wires have fresh names.

    Raises:
        NoRuleError: E233 when ``name`` occurs inside a non-polynomial function bubble.
    """
    if not _contains(node, name):
        return [] if isinstance(node, Zero) else [(sp.Integer(1), [node])]
    if isinstance(node, Tensor):
        return [(sp.Integer(1), [node])]
    if isinstance(node, Frozen):  # frozen is value-transparent
        return monomials(node.inner, name)
    if isinstance(node, Sum):
        out: list[Monomial] = []
        for t, c in zip(node.terms, node.coeffs, strict=True):
            out.extend((c * k, fs) for k, fs in monomials(t, name))
        return out
    if isinstance(node, Product):
        parts = [monomials(f, name) for f in _fresh_wires(flat_factors(node), node.legset)]
        result: list[Monomial] = []
        for combo in itertools.product(*parts):
            coeff = sp.Mul(*(c for c, _ in combo))
            result.append((coeff, [f for _, fs in combo for f in fs]))
        return result
    if isinstance(node, Elementwise):
        return monomials(_poly_bubble(node, name), name)
    kind = f"the function bubble {node.name}" if isinstance(node, Bubble) else type(node).__name__
    raise NoRuleError(
        f"{name} occurs inside {kind} ({_describe(node)}): an expectation over a Gaussian {name} "
        f"needs a network polynomial in {name}",
        code=E_POLY,
    )


class _Law:
    """The pairing and mean factors of one Gaussian ``x ~ N(mu, C)`` (see the module docstring)."""

    def __init__(self, x: Tensor, mean: Node | None, cov: Node | None) -> None:
        self.x = x
        self.slots = tuple(s for s, _ in x.slots)
        self.sizes = dict(x.slots)
        self.primes = covariance_legs(x)
        self.mean = self._check_mean(mean)
        self.cov = self._check_cov(cov)

    def _check_sizes(self, node: Node, what: str, legs: dict[str, str]) -> None:
        for leg, slot in legs.items():
            have, want = node.size(leg), self.sizes[slot]
            if have != want and sp.simplify(have - want) != 0:
                raise SizeError(
                    f"leg {leg} of the {what} has size {size_str(have)}, but {self.x.name}'s leg "
                    f"{slot} has size {size_str(want)}",
                    code="E201",
                )

    def _check_mean(self, mean: Node | None) -> Node | None:
        if mean is None or (isinstance(mean, Zero) and not mean.sig):
            return None
        if isinstance(mean, Zero) and mean.legset == set(self.slots):
            return None
        if not mean.sig:
            return algebra.hadamard(mean, algebra.ones(self.x.slots))
        if mean.legset != set(self.slots):
            raise LegError(
                f"the mean of {self.x.name} has legs [{', '.join(mean.legs)}], expected "
                f"[{', '.join(self.slots)}] (the legs of {self.x.name}) or none",
                code=E_LEGS,
                help=f"relabel it: mu[a -> {self.slots[0]}]" if self.slots else None,
            )
        self._check_sizes(mean, "mean", {s: s for s in self.slots})
        return mean

    def _check_cov(self, cov: Node | None) -> Node | None:
        if cov is None:
            return None
        if not cov.sig:
            return cov
        want = set(self.slots) | set(self.primes)
        if cov.legset != want:
            pairs = ", ".join(self.slots + self.primes)
            raise LegError(
                f"the covariance of {self.x.name} has legs [{', '.join(cov.legs)}], expected "
                f"[{pairs}]: {self.x.name}'s legs and a primed copy of each",
                code=E_LEGS,
                help=f"C[{pairs}] is Cov(x[{', '.join(self.slots)}], x[{', '.join(self.primes)}]); "
                "relabel the covariance, e.g. C[a -> i, b -> i']",
            )
        legs = {s: s for s in self.slots} | dict(zip(self.primes, self.slots, strict=True))
        self._check_sizes(cov, "covariance", legs)
        swap = {**dict(zip(self.slots, self.primes, strict=True)),
                **dict(zip(self.primes, self.slots, strict=True))}
        swapped = rename_legs(cov, swap)
        if not is_isomorphic(simplify(cov), simplify(swapped)):
            cov = algebra.scale(algebra.add(cov, swapped), sp.Rational(1, 2))
        return cov

    def pair(self, a: Tensor, b: Tensor) -> list[Node]:
        """The factors replacing the occurrences ``a`` and ``b`` of ``x`` (their covariance)."""
        out: list[Node] = []
        if self.cov is None or not self.cov.sig:
            if self.cov is not None:
                out.append(self.cov)
            for (_, size), la, lb in zip(self.x.slots, a.legs, b.legs, strict=True):
                out.append(Delta(size, ()) if la == lb else Delta(size, (la, lb)))
            return out
        mapping: dict[str, str] = {}
        for slot, prime, la, lb in zip(self.slots, self.primes, a.legs, b.legs, strict=True):
            mapping[slot] = la
            if la == lb:  # the two occurrences were wired together: trace over the pair
                loop = fresh(la)
                mapping[prime] = loop
                out.append(Delta(self.sizes[slot], (loop, la)))
            else:
                mapping[prime] = lb
        out.append(rename_legs(self.cov, mapping))
        return out

    def single(self, a: Tensor) -> Node:
        """The factor replacing an unpaired occurrence ``a`` (the mean)."""
        assert self.mean is not None
        return rename_legs(self.mean, dict(zip(self.slots, a.legs, strict=True)))


def _occurrences(factors: list[Node], name: str) -> tuple[list[Tensor], list[Node]]:
    occ: list[Tensor] = []
    rest: list[Node] = []
    for f in factors:
        if isinstance(f, Tensor) and f.name == name:
            occ.append(f)
        else:
            rest.append(f)
    return occ, rest


def _perfect_up_to_symmetry(factors: list[Node], name: str) -> list[tuple[list[tuple[Tensor, Tensor]], int]]:
    """The perfect matchings of the occurrences of ``name`` in the network ``factors``, one per
    class of matchings a symmetry of the network carries onto each other, with the class size
    (``canonical.matching_orbits``: the weights add up to ``(2n - 1)!!``). Equivalent matchings
    give isomorphic pairing networks, so one representative times its weight is their sum."""
    node = Product(*factors)
    items = [k for k, f in enumerate(node.args) if isinstance(f, Tensor) and f.name == name]
    out: list[tuple[list[tuple[Tensor, Tensor]], int]] = []
    for pairs, weight in matching_orbits(node, items):
        chosen = [(node.args[a], node.args[b]) for a, b in pairs]
        out.append(([(a, b) for a, b in chosen if isinstance(a, Tensor) and isinstance(b, Tensor)], weight))
    return out


def pairing_terms(expr: Node, x: Tensor, mean: Node | None = None, cov: Node | None = None) -> Sum | Zero:
    """The unsimplified sum over Wick pairings of each monomial: at zero mean one network per
    class of symmetric perfect matchings (weighted by its size), else one per matching."""
    law = _Law(x, mean, cov)
    terms: list[Node] = []
    coeffs: list[sp.Expr] = []
    for c, factors in monomials(expr, x.name):
        occ, rest = _occurrences(factors, x.name)
        if law.mean is None and len(occ) % 2:
            continue
        if law.mean is None and occ:
            for pairs, weight in _perfect_up_to_symmetry(factors, x.name):
                new = [g for a, b in pairs for g in law.pair(a, b)]
                terms.append(Product(*rest, *new) if rest or new else ONE)
                coeffs.append(c * weight)
            continue
        for m in matchings(list(range(len(occ))), partial=law.mean is not None):
            paired = {i for p in m for i in p}
            new = [g for a, b in m for g in law.pair(occ[a], occ[b])]
            new += [law.single(occ[i]) for i in range(len(occ)) if i not in paired]
            terms.append(Product(*rest, *new) if rest or new else ONE)
            coeffs.append(c)
    if not terms:
        return Zero(expr.sig)
    return Sum(tuple(terms), tuple(coeffs))


def expectation(
    expr: Node, x: Tensor | str, mean: Node | None = None, cov: Node | None = None
) -> Node:
    """``E[expr]`` over a Gaussian tensor ``x ~ N(mean, cov)``, by Wick/Isserlis pairings.

    Args:
        expr: any IR node that is a polynomial network in ``x`` (sums, ``@`` and ``*`` products,
            integer powers); ``x`` may occur relabelled (``x[i -> j]``). Legs: any.
        x: the Gaussian tensor variable (its declared form, legs ``[s1, ..., sr]`` of sizes
            ``n1, ..., nr``), or its name (looked up in ``expr``).
        mean: ``mu`` with legs ``[s1, ..., sr]`` (sizes as ``x``), a scalar (broadcast), or None
            for the zero mean.
        cov: ``C`` with legs ``[s1, ..., sr, s1', ..., sr']`` (the primes as chosen by
            :func:`covariance_legs`), ``C[s, s'] = Cov(x[s], x[s'])``; a scalar ``c`` (``c * I``);
            or None for the identity. Only its symmetric part is used.

    Returns:
        The simplified expectation, a node with ``expr``'s free legs and sizes (``Zero`` when
        every pairing vanishes, e.g. odd degree at zero mean). Pairings giving networks equal up
        to renaming of bound legs are merged (one term with the summed coefficient).

    Raises:
        NoRuleError: E233 when ``x`` occurs inside a non-polynomial function bubble.
        LegError: E232 when ``mean`` or ``cov`` has the wrong legs; SizeError E201 for sizes.

    Sources: Isserlis, Biometrika 12 (1918); Wick, Phys. Rev. 80 (1950).
    """
    if isinstance(x, str):
        found = next((n for n in preorder(expr) if isinstance(n, Tensor) and n.name == x), None)
        if found is None:  # no occurrence: E[expr] = expr
            return simplify(expr)
        x = found.variable
    try:
        return simplify(pairing_terms(expr, x.variable, mean, cov))
    except NoRuleError as err:
        if err.code != E_POLY:
            raise
        # a ratio of equal networks is no bubble: (u @ u) / (u @ u) is 1 (simplify first, then cancel)
        from symtn.rewrite.ratios import cancel_ratios

        plain = simplify(cancel_ratios(simplify(expr)))
        if plain is expr:
            raise
        return simplify(pairing_terms(plain, x.variable, mean, cov))


def count_terms(node: Node) -> int:
    """The number of distinct networks in a simplified expression (0 for ``Zero``)."""
    return len(node.terms) if isinstance(node, Sum) else (0 if isinstance(node, Zero) else 1)
