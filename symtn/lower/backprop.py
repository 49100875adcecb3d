"""Reverse-mode derivatives of a scalar: one backward sweep shared by every gradient.

``diff`` (hole-poking, :mod:`symtn.diff.rules`) builds ``d f / d X`` bottom-up, carrying the new
legs of ``X`` through every node; once simplified it is a sum over the paths from ``X`` to ``f``.
That is the right form to print and to rewrite, but evaluated as written it is forward mode: the
error reaching an activation along several paths is contracted once per path.

For a scalar ``f`` this module builds the same derivative as backpropagation does. Every node
``n`` of ``f`` that depends on a variable gets its *adjoint* ``adj[n] = d f / d n`` (legs of
``n``), the sum of one contribution per use of ``n``, taken in reverse topological order
starting from ``adj[f] = 1``:

- a term of a sum ``c * n``: ``c * adj[sum]``;
- a factor of a network: ``adj[network]`` contracted with the other factors;
- an operand ``u_i`` of an elementwise ``g(u)``: ``(dg/dx_i)(u) * adj[g]`` entrywise;
- the operand of a leg-acting bubble: its Jacobian contracted with ``adj[bubble]`` on the
  produced legs, Hadamard on the lifted ones;
- a softmax ``s = softmax[L](x)`` is one unit: ``x`` gets ``s * adj - s * sum[L](s * adj)``,
  and a ``logsumexp[L](x)`` gives ``x`` the term ``exp(x - lse) * adj``, so no ``exp`` of the
  logits is ever formed (the forward pass computes ``s`` and ``lse`` stably);
- ``frozen(...)`` and constants stop the sweep.

A renamed copy of a sub-network (``x[t -> s]`` copies ``x`` under new leg names) is the same value,
so it shares the adjoint of the original (matched by :func:`symtn.rewrite.alpha.alpha_key`):
the error reaching ``x`` by both names is added once and travels on once.

``d f / d X`` is then the sum of the adjoints of ``X``'s occurrences, their legs renamed to the new
legs. Adjoints are IR nodes built once per ``f`` (:func:`sweep` is cached), so the gradients of
all weights of one loss share them: code generation memoises nodes, so each activation's error is
computed once, and the cost of all gradients together is a small multiple of the forward pass
(Griewank & Walther, *Evaluating Derivatives*, 2nd ed., 2008, section 3.2). The forward values the
adjoints read are the nodes of ``f`` themselves, so they are computed once too.

The result equals ``diff(f, X)`` (not simplified); :mod:`symtn.lower` evaluates and generates
every derivative ``diff`` made of a scalar this way (see :func:`reverse_form`), while printing,
checking and rewriting keep the simplified form.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager

import sympy as sp

from symtn.diff.jacobians import jacobian
from symtn.diff.rules import _partial, apply_rule
from symtn.ir.composite import ONE
from symtn.ir.nodes import (
    Bubble,
    Delta,
    Elementwise,
    Frozen,
    Node,
    Product,
    Sig,
    Sum,
    Tensor,
    Zero,
    arg_symbols,
)
from symtn.ir.recipes import recipe
from symtn.ir.walk import fresh, rename_legs
from symtn.lower.stable import SoftmaxParts, logsumexp_parts, softmax_parts
from symtn.rewrite.alpha import alpha_key

_Use = tuple[Node, int, Node]
"""A use of a node: (parent, position among the parent's children, the child as the parent
has it: the node or a copy with renamed legs)."""


def relabel(node: Node, mapping: dict[str, str]) -> Node:
    """``node`` with free legs renamed by ``mapping`` through identity deltas, so ``node`` itself
    (a shared adjoint) stays one IR node instead of being rebuilt under new names."""
    mapping = {a: b for a, b in mapping.items() if a != b}
    if not mapping:
        return node
    sizes = node.sizes
    tmp = {a: fresh(a) for a in mapping}
    wired = Product(node, *(Delta(sizes[a], (a, tmp[a])) for a in mapping))
    return rename_legs(wired, {tmp[a]: b for a, b in mapping.items()})


class Sweep:
    """The adjoints of the nodes of one scalar ``root`` (built on demand, memoised).

    Args:
        root: a node with no free legs.
    """

    def __init__(self, root: Node) -> None:
        self.root = root
        self.order: list[Node] = []  # children before parents
        self.uses: dict[Node, list[_Use]] = {}
        self.kids: dict[Node, list[Node]] = {}
        self.units: dict[Node, _Unit] = {}  # softmax / logsumexp nodes, matched once
        reps: dict[str, Node] = {alpha_key(root): root}
        seen: set[Node] = set()
        stack: list[tuple[Node, bool]] = [(root, False)]
        while stack:
            node, ready = stack.pop()
            if ready:
                self.order.append(node)
                continue
            if node in seen:
                continue
            seen.add(node)
            stack.append((node, True))
            self.kids[node] = []
            unit = _unit(node)
            if unit is not None:
                self.units[node] = unit
            for k, child in enumerate(_children(node, unit)):
                # a renamed copy of a sub-network (``x[t -> s]``) is the same value: one adjoint
                rep = reps.setdefault(alpha_key(child), child)
                self.kids[node].append(rep)
                self.uses.setdefault(rep, []).append((node, k, child))
                if rep not in seen:
                    stack.append((rep, False))
        self.rank = {n: k for k, n in enumerate(self.order)}
        self.adjoints: dict[Node, Node] = {root: Product()}

    def depends(self, var: Tensor) -> set[Node]:
        """The nodes of ``root`` whose value depends on the variable ``var``."""
        out: set[Node] = set()
        for node in self.order:
            if isinstance(node, Tensor):
                if not node.is_const and node.variable is var:
                    out.add(node)
            elif any(c in out for c in self.kids[node]):
                out.add(node)
        return out

    def adjoint(self, node: Node) -> Node:
        """``d root / d node`` with ``node``'s legs; every use of ``node`` must depend on the
        variables asked for so far (true for the ancestors of a variable's occurrences)."""
        hit = self.adjoints.get(node)
        if hit is not None:
            return hit
        terms: dict[Node, sp.Expr] = {}
        for parent, k, child in sorted(self.uses.get(node, []), key=lambda u: -self.rank[u[0]]):
            for c, t in self._contributions(parent, k, self.adjoints[parent]):
                t = relabel(t, dict(zip(child.legs, node.legs, strict=True)))
                if not isinstance(t, Zero) and c != 0:
                    terms[t] = terms.get(t, sp.Integer(0)) + c
        out = self.adjoints[node] = _total(terms, node.sig)
        return out

    def gradient(self, var: Tensor, new_legs: Sequence[str]) -> Node:
        """``d root / d var`` with legs ``new_legs`` (one per slot of ``var``, in slot order)."""
        needed = self.depends(var)
        for node in reversed(self.order):
            if node in needed and node is not self.root:
                self.adjoint(node)
        slots = [s for s, _ in var.slots]
        parts: dict[Node, sp.Expr] = {}
        for node in self.order:
            if isinstance(node, Tensor) and node in needed:
                adj = self.adjoints[node] if node is not self.root else Product()
                if isinstance(adj, Zero):
                    continue
                mapping = {leg: new_legs[slots.index(slot)] for leg, (slot, _) in zip(node.legs, node.slots,
                                                                                         strict=True)}
                term = relabel(adj, mapping)
                parts[term] = parts.get(term, sp.Integer(0)) + 1
        sig = tuple((new, size) for new, (_, size) in zip(new_legs, var.slots, strict=True))
        return _total(parts, sig)

    def _contributions(self, parent: Node, k: int, adj: Node) -> list[tuple[sp.Expr, Node]]:
        """The terms of ``adj[child]`` that the use ``(parent, k)`` adds."""
        if isinstance(adj, Zero):
            return []
        if isinstance(adj, Sum) and len(adj.terms) == 1:  # c * e: the coefficient rides along
            scale = adj.coeffs[0]
            return [(scale * c, t) for c, t in self._contributions(parent, k, adj.terms[0])]
        one = sp.Integer(1)
        unit = self.units.get(parent)
        if isinstance(unit, SoftmaxParts):
            return [(one, _softmax(parent, unit.summed, unit.rename, adj))]
        if unit is not None and isinstance(parent, Elementwise):
            return [(one, _logsumexp(parent, unit[0], unit[1], adj))]
        if isinstance(parent, Sum):
            return [(parent.coeffs[k], adj)]
        if isinstance(parent, Product):
            others = parent.args[:k] + parent.args[k + 1 :]
            if adj is ONE:
                return [(one, others[0] if len(others) == 1 else Product(*others))]
            return [(one, Product(adj, *others))]
        if isinstance(parent, Elementwise):
            return self._elementwise(parent, k, adj)
        if isinstance(parent, Bubble):
            return _bubble(parent, adj)
        return []

    @staticmethod
    def _elementwise(parent: Elementwise, k: int, adj: Node) -> list[tuple[sp.Expr, Node]]:
        xs = arg_symbols(len(parent.operands) + 1)
        partial = _partial(parent.fn, xs[k])
        if partial == 0:
            return []
        if not partial.free_symbols:
            return [(partial, adj)]
        rule = apply_rule(partial * xs[-1], (*parent.operands, adj))
        assert isinstance(rule, Node)
        return [(sp.Integer(1), rule)]


_Unit = SoftmaxParts | tuple[Node, tuple[str, ...]]
"""A softmax (its parts) or a logsumexp (logits, summed legs): one unit of the sweep."""


def _unit(node: Node) -> _Unit | None:
    """The parts of ``node`` if it is a softmax or a logsumexp, else None."""
    if isinstance(node, Product):
        return softmax_parts(node)
    if isinstance(node, Elementwise):
        return logsumexp_parts(node)
    return None


def _children(node: Node, unit: _Unit | None) -> tuple[Node, ...]:
    """The nodes the sweep sends ``node``'s adjoint to: a softmax or a logsumexp is one unit
    with its logits as only child (its derivative is then evaluated stably, never through
    ``exp`` of the logits); ``frozen`` and tensors have none."""
    if isinstance(node, (Tensor, Frozen)):
        return ()
    if isinstance(unit, SoftmaxParts):
        return (unit.x,)
    if unit is not None:
        return (unit[0],)
    return node.children


def _total(terms: dict[Node, sp.Expr], sig: Sig) -> Node:
    """``sum c * t`` over ``terms`` (t -> c), zero terms dropped; a nested sum stays one term
    (an adjoint shared by several uses is computed once)."""
    live = [(c, t) for t, c in terms.items() if c != 0]
    if not live:
        return Zero(sig)
    if len(live) == 1 and live[0][0] == 1:
        return live[0][1]
    return Sum(tuple(t for _, t in live), tuple(c for c, _ in live))


def _hyper(
    legs: Sequence[str], sizes: dict[str, sp.Expr], parts: int
) -> tuple[list[Node], list[dict[str, str]]]:
    """Copy tensors joining ``parts`` operands on ``legs`` (Hadamard, the legs kept), and for each
    operand the fresh names its copies of the legs take."""
    names = [{m: fresh(m) for m in legs} for _ in range(parts)]
    return [Delta(sizes[m], (m, *(n[m] for n in names))) for m in legs], names


def _ones(node: Node, legs: Sequence[str], sizes: dict[str, sp.Expr]) -> Node:
    """``node`` times ones on ``legs`` (summed over them if ``node`` has them, else broadcast)."""
    return Product(node, *(Delta(sizes[leg], (leg,)) for leg in legs)) if legs else node


def _hadamard(a: Node, b: Node) -> Node:
    """``a * b`` kept on their shared legs (copy tensors), neither operand rebuilt."""
    shared = [leg for leg in a.legs if leg in b.legset]
    if not shared:
        return Product(a, b)
    hyper, (ra, rb) = _hyper(shared, a.sizes, 2)
    return Product(*hyper, relabel(a, ra), relabel(b, rb))


def _softmax(node: Node, summed: Sequence[str], rename: dict[str, str], adj: Node) -> Node:
    """The logits' adjoint of ``s = softmax[L](x)``: ``s * adj - s * sum[L](s * adj)``, read
    from the (stably computed) ``s``; legs renamed back to the logits' names."""
    sizes = node.sizes
    weighted = Elementwise(arg_symbols(2)[0] * arg_symbols(2)[1], (node, adj))
    mean = _ones(weighted, summed, sizes)
    grad = Sum((weighted, _hadamard(node, mean)), (1, -1))
    return relabel(grad, {m: b for b, m in rename.items()})


def _logsumexp(node: Elementwise, x: Node, summed: Sequence[str], adj: Node) -> Node:
    """The argument's adjoint of ``lse = log(sum[L](exp(x)))``: ``exp(x) / sum[L](exp(x)) * adj``,
    Hadamard on the kept legs. Written as that network (the exponentials and the inverse of
    their sum as factors), the lowering shifts both by the maximum, reusing the forward pass's
    shifted exponentials: no overflow, no second ``exp`` of the logits."""
    (total,) = node.operands  # sum[L](exp(x)), legs M
    (exp_x,) = [f for f in total.args if isinstance(f, Elementwise)]
    inverse = Elementwise(arg_symbols(1)[0] ** -1, (total,))
    kept = [leg for leg in x.legs if leg not in summed]
    hyper, names = _hyper(kept, x.sizes, 3)
    parts = (rename_legs(exp_x, names[0]), rename_legs(inverse, names[1]), relabel(adj, names[2]))
    return Product(*hyper, *parts)


def _bubble(node: Bubble, adj: Node) -> list[tuple[sp.Expr, Node]]:
    """``sum_P adj[M, P] J[M, P, L']`` with ``L'`` named ``L`` (Hadamard on the lifted ``M``)."""
    primes = {c: fresh(c) for c in node.consumed}
    jac = jacobian(node, primes)
    if isinstance(jac, Zero):
        return []
    lifted = [leg for leg in node.operand.legs if leg not in node.consumed]
    hyper, (a, b) = _hyper(lifted, node.operand.sizes, 2)
    back = {p: c for c, p in primes.items()}
    err = relabel(adj, b)
    pieces = list(zip(jac.coeffs, jac.terms, strict=True)) if isinstance(jac, Sum) else [(sp.Integer(1), jac)]
    return [(c, relabel(Product(*hyper, err, relabel(piece, a)), back)) for c, piece in pieces]


def sweep(root: Node) -> Sweep:
    """The backward sweep of the scalar ``root``, kept with the node (built once per node)."""
    hit = root._cache.get("backward sweep")
    if hit is None:
        hit = root._cache["backward sweep"] = Sweep(root)
    return hit  # type: ignore[no-any-return]


def gradient(f: Node, var: Tensor, new_legs: Sequence[str]) -> Node:
    """``d f / d var`` of a scalar ``f`` in reverse mode (not simplified).

    Args:
        f: the scalar (no free legs).
        var: the declared variable.
        new_legs: names of the result's legs, one per slot of ``var``.

    Returns:
        The gradient, legs ``new_legs`` with the sizes of ``var``'s slots; shares its adjoint
        nodes with every other gradient of ``f``.

    Raises:
        ValueError: ``f`` has free legs.
    """
    if f.legs:
        raise ValueError(f"reverse mode needs a scalar, not a tensor with legs [{', '.join(f.legs)}]")
    return sweep(f).gradient(var.variable, tuple(new_legs))


_ENABLED = [True]


@contextmanager
def forward_mode() -> Iterator[None]:
    """Within the block, evaluation and code generation use derivatives as ``diff`` wrote them
    (the simplified sum over paths), not the backward sweep: a reference for tests."""
    _ENABLED.append(False)
    try:
        yield
    finally:
        _ENABLED.pop()


def reverse_form(node: Node) -> Node | None:
    """The reverse-mode form of ``node`` when ``diff`` made it from a scalar, else None.

    The lowering evaluates that form instead of ``node`` (same value, same legs): its cost is a
    small multiple of evaluating the scalar, however many paths lead from the variable to it.
    """
    found = recipe(node) if _ENABLED[-1] else None
    if found is None:
        return None
    f, var, new_legs = found
    return gradient(f, var, new_legs)


__all__ = ["Sweep", "forward_mode", "gradient", "relabel", "reverse_form", "sweep"]
