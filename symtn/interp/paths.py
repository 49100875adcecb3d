"""Path expansion of frozen-attention transformers: label, split by head and rank the paths.

``symtn.expand`` distributes a transformer whose attention patterns are frozen (constants) into
a flat sum of networks, one per path through the residual stream. With the heads of a layer
carried by a head leg (``A1: [h1, t, s]``), each term sums over its heads: the direct path
(embedding -> unembedding), one term per layer (its heads) and one per pair of layers (the
virtual heads of V-composition), and so on. :func:`paths` labels the terms by the attention
patterns they contain; :func:`rank_paths` evaluates each term's contribution to the output
(the logits) on given values, optionally split per head by opening the head wire into a free
leg through a copy tensor, and ranks them by norm.

Sources: Elhage et al., "A Mathematical Framework for Transformer Circuits", Transformer Circuits
Thread, 2021 (path expansion, virtual heads, Q-/K-/V-composition); J. Taylor, "Graphical tensor
notation for interpretability", 2024 (section "Composition and path expansion").
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import sympy as sp

from symtn.ir.nodes import Delta, Node, Product, Sum, Tensor
from symtn.ir.walk import preorder
from symtn.lower import evaluate
from symtn.rewrite import expand

_PATTERN = re.compile(r"^A_?(\d+)$")


@dataclass(frozen=True)
class Path:
    """One term of the path expansion.

    Attributes:
        label: "direct", "head A1", "virtual head A1->A2", ... (patterns in layer order).
        patterns: names of the attention-pattern tensors on the path, in layer order.
        coeff: the term's exact coefficient.
        term: the network (without the coefficient).
    """

    label: str
    patterns: tuple[str, ...]
    coeff: sp.Expr
    term: Node

    @property
    def node(self) -> Node:
        """The contribution ``coeff * term`` as one node."""
        return self.term if self.coeff == 1 else Sum((self.term,), (self.coeff,))


@dataclass(frozen=True)
class PathScore:
    """A path's contribution on given values.

    Attributes:
        path: the path; heads: head index per pattern (``{"A1": 3}``) when split per head.
        norm: Frobenius norm of the contribution; share: its projection on the total,
            ``<c, total> / ||total||^2`` (the shares of all paths sum to 1).
        value: the contribution, axes in the expression's leg order.
    """

    path: Path
    heads: dict[str, int]
    norm: float
    share: float
    value: np.ndarray

    @property
    def label(self) -> str:
        if not self.heads:
            return self.path.label
        return self.path.label + " " + ", ".join(f"{k}[{v}]" for k, v in self.heads.items())


def _layer_order(names: set[str], patterns: Sequence[str] | None) -> list[str]:
    if patterns is not None:
        return [p for p in patterns if p in names]
    found = [(int(m.group(1)), n) for n in names if (m := _PATTERN.match(n))]
    return [n for _, n in sorted(found)]


def _label(on_path: list[str]) -> str:
    if not on_path:
        return "direct"
    if len(on_path) == 1:
        return f"head {on_path[0]}"
    return "virtual head " + "->".join(on_path)


def paths(expr: Node, patterns: Sequence[str] | None = None) -> list[Path]:
    """The path expansion of ``expr`` as labelled terms.

    Args:
        expr: a transformer's output (e.g. the logits) with frozen attention patterns.
        patterns: names of the attention-pattern tensors in layer order; default: the tensors
            named ``A<digits>`` (``A1``, ``A_2``), ordered by their number.

    Returns:
        One :class:`Path` per term of ``symtn.expand(expr)``; their sum is ``expr``.
    """
    e = expand(expr)
    terms = list(zip(e.terms, e.coeffs, strict=True)) if isinstance(e, Sum) else [(e, sp.Integer(1))]
    names = {n.name for n in preorder(e) if isinstance(n, Tensor)}
    layers = _layer_order(names, patterns)
    out = []
    for term, coeff in terms:
        here = {n.name for n in preorder(term) if isinstance(n, Tensor)}
        on_path = [p for p in layers if p in here]
        out.append(Path(_label(on_path), tuple(on_path), coeff, term))
    return out


def open_heads(
    term: Node, patterns: Sequence[str], head_slot: int = 0
) -> tuple[Node, list[tuple[str, str]]]:
    """Open the head wire of each pattern in ``term`` into a free leg (through a copy tensor).

    The head leg of a pattern ``A: [h, t, s]`` is its slot ``head_slot``; in the expanded term it
    is a wire to the head's OV circuit. Replacing the wire by ``delta[a, b, h]`` keeps the
    value per head: summing the new leg ``h`` gives the term back.

    Returns:
        The opened network and ``(pattern, new free leg)`` per pattern occurrence with a head
        wire, in factor order.
    """
    factors = list(term.args) if isinstance(term, Product) else [term]
    extra: list[Node] = []
    new_legs: list[tuple[str, str]] = []
    taken = {leg for f in factors for n in preorder(f) for leg in n.legs} | set(term.legs)
    for i, f in enumerate(factors):
        if not (isinstance(f, Tensor) and f.name in patterns and len(f.slots) > 2):
            continue
        wire = f.args[2][head_slot]
        other = [j for j, g in enumerate(factors) if j != i and wire in g.legset]
        if not other:
            continue
        base = f.slots[head_slot][0]
        free = base
        while free in taken:
            free += "'"
        a, b = f"{wire}~a", f"{wire}~b"
        taken |= {free, a, b}
        factors[i] = f.rename({wire: a})
        factors[other[0]] = factors[other[0]].rename({wire: b})
        extra.append(Delta(f.slots[head_slot][1], (a, b, free)))
        new_legs.append((f.name, free))
    return Product(*factors, *extra), new_legs


def rank_paths(
    expr: Node,
    values: Mapping[str, Any],
    *,
    patterns: Sequence[str] | None = None,
    per_head: bool = False,
    sizes: Mapping[str | sp.Symbol, int] | None = None,
) -> list[PathScore]:
    """Rank the paths of ``expr`` by the norm of their contribution on ``values``.

    Args:
        expr: the output (e.g. logits ``[out, t]``) of a frozen-attention transformer.
        values: arrays for every tensor, as for ``symtn.evaluate``.
        patterns: the attention-pattern tensors in layer order (default as :func:`paths`).
        per_head: split each path per head (per head pair for virtual heads).
        sizes: size symbols no input determines.

    Returns:
        Scores, largest norm first. Contributions sum to ``evaluate(expr, values)``.
    """
    order = expr.legs
    total = evaluate(expr, values, order=order, sizes=sizes)
    denom = float(np.sum(total * total)) or 1.0
    scores: list[PathScore] = []
    for p in paths(expr, patterns):
        c = float(p.coeff)
        if per_head and p.patterns:
            node, heads = open_heads(p.term, p.patterns)
            v = c * evaluate(node, values, order=(*order, *(leg for _, leg in heads)), sizes=sizes)
            keys = [name if [n for n, _ in heads].count(name) == 1 else leg for name, leg in heads]
            for idx in itertools.product(*(range(n) for n in v.shape[len(order):])):
                part = v[(...,) + tuple(idx)]
                named = dict(zip(keys, idx, strict=True))
                scores.append(_score(p, named, part, total, denom))
        else:
            v = c * evaluate(p.term, values, order=order, sizes=sizes)
            scores.append(_score(p, {}, v, total, denom))
    return sorted(scores, key=lambda s: -s.norm)


def _score(p: Path, heads: dict[str, int], v: np.ndarray, total: np.ndarray, denom: float) -> PathScore:
    return PathScore(p, heads, float(np.linalg.norm(v)), float(np.sum(v * total)) / denom, v)
