"""Stable values for ``exp(y)`` and ``(sum[L](exp(y)))^-k`` operands of one network (numpy).

The evaluator's counterpart of the generated code's ``_exp_shifted`` (``emit_base._shifted``):
when the ``exp(y)`` operands carry, on the legs the sum keeps, the same labels as the inverse
sums (each counted ``k`` times), shifting ``y`` by its maximum over ``L`` leaves the network's
value unchanged (the shifts cancel) and no factor overflows. So the gradient of a softmax
cross-entropy at logits ``[1000, 0, -3]`` is finite, as in generated code.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Sequence

import numpy as np

from symtn.ir.nodes import Node
from symtn.lower.plan import Operand
from symtn.lower.stable import InverseSumExp, exp_argument, inverse_sum_exp
from symtn.rewrite.alpha import alpha_key


def shifted_operands(
    factors: Sequence[Node],
    operands: Sequence[Operand],
    shape_of: Callable[[Node], tuple[int, ...]],
    value_of: Callable[[Node], np.ndarray],
) -> dict[int, np.ndarray]:
    """Replacement arrays for operand positions (axes in each factor's ``legs`` order).

    Args:
        factors: the network's factors.
        operands: the plan's dense operands (``index`` into ``factors``, ``labels``, ``shape``).
        shape_of: a factor's natural shape (a reshaped operand is left alone).
        value_of: the evaluator's (memoised) value of a node.
    """
    dens: dict[str, list[tuple[int, InverseSumExp]]] = {}
    for pos, op in enumerate(operands):
        node = factors[op.index]
        found = inverse_sum_exp(node)
        if found is not None and tuple(op.shape) == shape_of(node):
            dens.setdefault(alpha_key(found.y), []).append((pos, found))
    out: dict[int, np.ndarray] = {}
    for key, group in dens.items():
        first = group[0][1]
        y = first.y
        kept = [y.legs.index(leg) for leg in first.kept]
        want: Counter[tuple[int, ...]] = Counter()
        for pos, den in group:
            node = factors[operands[pos].index]
            labels = tuple(operands[pos].labels[node.legs.index(leg)] for leg in den.kept)
            want[labels] += den.power
        exps = []
        for pos, op in enumerate(operands):
            node = factors[op.index]
            u = exp_argument(node)
            if u is not None and alpha_key(u) == key and tuple(op.shape) == shape_of(node):
                exps.append(pos)
        have = Counter(tuple(operands[pos].labels[i] for i in kept) for pos in exps)
        if have != want:
            continue
        yv = np.asarray(value_of(y))
        axes = tuple(y.legs.index(leg) for leg in first.summed)
        with np.errstate(all="ignore"):
            m = np.max(yv, axis=axes, keepdims=True)
            m = np.where(np.isfinite(m), m, 0.0)
            e = np.exp(yv - m)
            total = np.sum(e, axis=axes)  # the kept legs, in y's order
        for pos in exps:
            out[pos] = e
        for pos, den in group:
            node = factors[operands[pos].index]
            with np.errstate(all="ignore"):
                power = total ** (-den.power)
            out[pos] = np.transpose(power, [den.kept.index(leg) for leg in node.legs])
    return out
