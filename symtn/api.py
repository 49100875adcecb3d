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
from symtn.ir import algebra, matrix
from symtn.ir.nodes import Node


def _legs(legs: str | Sequence[str] | None) -> list[str] | None:
    if legs is None:
        return None
    return [legs] if isinstance(legs, str) else list(legs)


def _elementwise(name: str):  # type: ignore[no-untyped-def]
    def fn(*args: Node | float) -> Node:
        return builtins.apply_elementwise(name, [algebra.lift(a) for a in args])

    fn.__name__ = fn.__qualname__ = name
    fn.__doc__ = (
        f"Elementwise ``{name}``, the notation's ``{name}(...)``.\n\n"
        "Args:\n    *args: expressions or numbers; their legs are broadcast like ``*``.\n\n"
        "Returns:\n    A node with the union of the arguments' legs, same sizes.\n\n"
        "Raises:\n    LegError: E102 when the number of arguments is not the builtin's.\n"
    )
    return fn


def _leg_acting(name: str):  # type: ignore[no-untyped-def]
    def fn(x: Node, legs: str | Sequence[str] | None = None, *more: Node) -> Node:
        return builtins.apply_leg_acting(name, _legs(legs), [x, *more])

    fn.__name__ = fn.__qualname__ = name
    fn.__doc__ = (
        f"``{name}[legs](x)``: acts on ``legs`` of ``x`` and is lifted over the others.\n\n"
        "Args:\n    x: the expression.\n"
        "    legs: a leg name or a sequence of leg names of ``x``; None acts on\n"
        "        every leg (an error for builtins that need their legs named).\n"
        "    *more: further operands, for builtins that take them.\n\n"
        "Returns:\n    A node: ``x``'s other legs, plus the acted-on legs where the builtin keeps them.\n\n"
        "Raises:\n    LegError: E205 when a leg is not a leg of ``x``, E212 when legs are required,\n"
        "        E102 when the number of operands is not the builtin's.\n"
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
maximum = _elementwise("maximum")
minimum = _elementwise("minimum")


def iverson(left: Node | float, op: str, right: Node | float) -> Node:
    """``iverson(left op right)``: 1 where the comparison holds, else 0, entry by entry.

    ``op`` is one of ``> >= < <= == !=``; operands broadcast like ``*``. Its derivative is zero
    (the step's jump is a set of measure zero). Raises LegError E113 for another ``op``.
    """
    rule = builtins.comparison_rule(op)
    return algebra.elementwise(rule, algebra.lift(left), algebra.lift(right))

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

det = matrix.det
logdet = matrix.logdet
inv = matrix.inv
solve = matrix.solve
