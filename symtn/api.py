"""Python API for building expressions: the notation's built-in functions as Python callables.

Each returns an IR node, the same node the text frontend builds for the same expression::

    n = sympy.Symbol("n", integer=True, positive=True)
    W = symtn.tensor("W", out=10, inp=n)
    x = symtn.tensor("x", inp=n)
    y = symtn.softmax(W @ x, "out")          # softmax[out](W @ x)
"""

from __future__ import annotations

from collections.abc import Sequence

from symtn.frontend import builtins
from symtn.ir import algebra
from symtn.ir.nodes import Node


def _legs(legs: str | Sequence[str] | None) -> list[str] | None:
    if legs is None:
        return None
    return [legs] if isinstance(legs, str) else list(legs)


def _elementwise(name: str):  # type: ignore[no-untyped-def]
    def fn(*args: Node | float) -> Node:
        return builtins.apply_elementwise(name, [algebra.lift(a) for a in args])

    fn.__name__ = name
    fn.__doc__ = f"Elementwise ``{name}``: the result has the argument's legs (broadcast like ``*``)."
    return fn


def _leg_acting(name: str):  # type: ignore[no-untyped-def]
    def fn(x: Node, legs: str | Sequence[str] | None = None, *more: Node) -> Node:
        return builtins.apply_leg_acting(name, _legs(legs), [x, *more])

    fn.__name__ = name
    fn.__doc__ = (
        f"``{name}[legs](x)``: acts on ``legs`` of ``x`` and is lifted over the others. "
        "Raises LegError E205 when a leg is not a leg of ``x``, E212 when legs are required."
    )
    return fn


exp = _elementwise("exp")
log = _elementwise("log")
tanh = _elementwise("tanh")
sigmoid = _elementwise("sigmoid")
relu = _elementwise("relu")
gelu = _elementwise("gelu")
sqrt = _elementwise("sqrt")
abs = _elementwise("abs")  # noqa: A001
sin = _elementwise("sin")
cos = _elementwise("cos")
erf = _elementwise("erf")
sign = _elementwise("sign")
pow = _elementwise("pow")  # noqa: A001

sum = _leg_acting("sum")  # noqa: A001
mean = _leg_acting("mean")
var = _leg_acting("var")
softmax = _leg_acting("softmax")
log_softmax = _leg_acting("log_softmax")
logsumexp = _leg_acting("logsumexp")
norm = _leg_acting("norm")
trace = _leg_acting("trace")
max = _leg_acting("max")  # noqa: A001
min = _leg_acting("min")  # noqa: A001


def layernorm(x: Node, legs: str | Sequence[str], gamma: Node, beta: Node) -> Node:
    """``layernorm[legs](x, gamma, beta)`` (eps = 1e-5)."""
    return builtins.apply_leg_acting("layernorm", _legs(legs), [x, gamma, beta])


frozen = algebra.frozen
contract = algebra.contract
tensor = algebra.tensor
delta = algebra.delta
ones = algebra.ones
project = algebra.project

