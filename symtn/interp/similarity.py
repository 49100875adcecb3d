"""Inner product, norm and cosine similarity of two tensor networks, never materialising either.

For networks ``A`` and ``B`` with the same free legs, ``<A, B> = sum over all legs of A * B`` is
the network obtained by wiring every free leg of ``A`` to the leg of the same name of ``B``.
Both networks are flattened into one :class:`~symtn.ir.nodes.Product` (inner wires renamed
apart), so symtn's evaluator contracts the joined network in one einsum along an opt_einsum
path, and the full tensors are never formed: an MPS of 40 sites has ``2^40`` entries, its norm
costs a few small matrix products. Sums (linear combinations of networks) are expanded by
bilinearity; function bubbles inside a network are leaves and are evaluated as usual.

Source: J. Taylor, "Tensor network similarity" (LessWrong post) and the standard
MPS overlap (Schollwoeck, Ann. Phys. 326, 2011, sec. 4.2).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import numpy as np
import sympy as sp

from symtn.errors import LegError
from symtn.ir.nodes import Node, Product, Sum, Tensor
from symtn.ir.walk import postmap, preorder, rename_legs
from symtn.lower import evaluate
from symtn.rewrite.rules import flat_factors

Values = Mapping[str, Any]


def _terms(node: Node) -> list[tuple[sp.Expr, Node]]:
    """``node`` as a linear combination of non-Sum networks (nested Sums multiplied out)."""
    if isinstance(node, Sum):
        return [(c * k, t) for c, term in zip(node.coeffs, node.terms, strict=True) for k, t in _terms(term)]
    return [(sp.Integer(1), node)]


def rename_tensors(
    node: Node, suffix: str, avoid: set[str], keep: frozenset[str] = frozenset()
) -> tuple[Node, dict[str, str]]:
    """Rename the tensor variables of ``node`` (but ``keep``) to ``name + suffix``, primed on a clash."""
    names: dict[str, str] = {}
    for n in preorder(node):
        if isinstance(n, Tensor) and n.name not in names and n.name not in keep:
            new = n.name + suffix
            while new in avoid or new in names.values():
                new += "'"
            names[n.name] = new

    def swap(n: Node) -> Node:
        if isinstance(n, Tensor) and n.name in names:
            return Tensor(names[n.name], n.slots, n.args[2], n.facts)
        return n

    return postmap(node, swap), names


def joined(a: Node, b: Node) -> Node:
    """The network ``<a, b>``: one flat Product with every free leg of ``a`` wired to ``b``'s.

    Raises:
        LegError: E203 when the free legs differ.
    """
    if a.legset != b.legset:
        raise LegError(
            f"inner product of tensors with legs [{', '.join(a.legs)}] and [{', '.join(b.legs)}]", code="E203"
        )
    return Product(*flat_factors(Product(a, b)))


def _prepare(a: Node, b: Node, values: Values, values_b: Values | None) -> tuple[Node, dict[str, Any]]:
    if values_b is None:
        return b, dict(values)
    avoid = {n.name for n in preorder(a) if isinstance(n, Tensor)}
    b2, names = rename_tensors(b, "_b", avoid)
    merged = dict(values)
    merged.update({new: values_b[old] for old, new in names.items()})
    return b2, merged


def inner(
    a: Node,
    b: Node,
    values: Values,
    values_b: Values | None = None,
    *,
    sizes: Mapping[str | sp.Symbol, int] | None = None,
) -> float:
    """``<a, b>``: the sum over all legs of the product of the two networks' values.

    Args:
        a: a network.
        b: a network with the same free legs (names and sizes) as ``a``.
        values: arrays for the tensors of ``a`` (and of ``b`` when ``values_b`` is None).
        values_b: separate arrays for ``b``'s tensors; ``b``'s variables are then renamed apart,
            so the same names may carry different values in the two networks.
        sizes: size symbols no input determines.

    Returns:
        The inner product, contracted as one network per pair of terms.
    """
    b, vals = _prepare(a, b, values, values_b)
    pairs = [(ca * cb, joined(ta, tb)) for ca, ta in _terms(a) for cb, tb in _terms(b)]
    node = Sum(tuple(t for _, t in pairs), tuple(c for c, _ in pairs))
    return float(evaluate(node, vals, sizes=sizes))


def norm(a: Node, values: Values, *, sizes: Mapping[str | sp.Symbol, int] | None = None) -> float:
    """The Frobenius norm ``sqrt(<a, a>)`` of a network's tensor."""
    return math.sqrt(max(inner(a, a, values, sizes=sizes), 0.0))


def cosine(
    a: Node,
    b: Node,
    values: Values,
    values_b: Values | None = None,
    *,
    sizes: Mapping[str | sp.Symbol, int] | None = None,
) -> float:
    """Cosine similarity ``<a, b> / (|a| |b|)`` of two networks' tensors (arguments as :func:`inner`)."""
    b2, vals = _prepare(a, b, values, values_b)
    den = norm(a, vals, sizes=sizes) * norm(b2, vals, sizes=sizes)
    return inner(a, b2, vals, sizes=sizes) / den if den > 0 else float("nan")


def gram(nets: Mapping[str, Node], values: Values, *, normalise: bool = True) -> tuple[list[str], np.ndarray]:
    """The matrix of pairwise inner products (cosines when ``normalise``) of several networks.

    Args:
        nets: name -> network; all with the same free legs.
        values: arrays for all their tensors.

    Returns:
        The names in order and the symmetric ``[n, n]`` matrix.
    """
    names = list(nets)
    g = np.empty((len(names), len(names)))
    for i, x in enumerate(names):
        for j in range(i, len(names)):
            g[i, j] = g[j, i] = inner(nets[x], nets[names[j]], values)
    if normalise:
        d = np.sqrt(np.clip(np.diag(g), 0, None))
        d[d == 0] = 1.0
        g = g / np.outer(d, d)
    return names, g


def batched_gram(
    node: Node, batch: str, values: Values, *, normalise: bool = True,
    sizes: Mapping[str | sp.Symbol, int] | None = None,
) -> np.ndarray:
    """Pairwise inner products of the slices ``node[batch = i]`` as one network.

    ``G[i, j] = sum over the other legs of node[i] * node[j]``: the network joined with a copy of
    itself whose ``batch`` leg is renamed, every other free leg wired. E.g. all heads' OV
    circuits ``W_O[d', h, e] @ W_V[h, e, d]`` compared without forming any ``[d', d]`` matrix.

    Args:
        node: a network with free leg ``batch``; sums are expanded by bilinearity.
        batch: the leg that indexes the items.
        values: arrays for its tensors.
        normalise: divide by the norms (cosine similarities).

    Returns:
        The ``[n, n]`` symmetric matrix, ``n`` the size of ``batch``.
    """
    other = batch + "'"
    while other in node.legset:
        other += "'"
    twin = rename_legs(node, {batch: other})
    pairs = [
        (ca * cb, Product(*flat_factors(Product(ta, tb))))
        for ca, ta in _terms(node)
        for cb, tb in _terms(twin)
    ]
    joint = Sum(tuple(t for _, t in pairs), tuple(c for c, _ in pairs))
    g = evaluate(joint, values, order=(batch, other), sizes=sizes)
    if normalise:
        d = np.sqrt(np.clip(np.diag(g), 0, None))
        d[d == 0] = 1.0
        g = g / np.outer(d, d)
    return np.asarray(g)
