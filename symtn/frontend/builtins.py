"""The prelude: built-in elementwise and leg-acting functions (docs/language.md, "Functions").

Elementwise functions carry their scalar rule as a sympy expression, so derivatives come from
``sympy.diff``. Leg-acting functions are built from the primitives (sums are contractions with
ones vectors), exactly as the notation's prelude defines them (example 07), with the same
meaning: ``softmax[ax](x) = exp(x) / sum[ax](exp(x))``, ``log_softmax[ax](x) = x -
logsumexp[ax](x)``, ``mean[ax](x) = sum[ax](x) / |ax|``, ``var``, ``layernorm``, ``norm``.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import sympy as sp

from symtn.errors import LegError
from symtn.ir import algebra as A
from symtn.ir import matrix
from symtn.ir.nodes import Bubble, Delta, Node, arg_symbols

x0, x1 = arg_symbols(2)

ELEMENTWISE: dict[str, tuple[int, sp.Expr]] = {
    "exp": (1, sp.exp(x0)),
    "log": (1, sp.log(x0)),
    "tanh": (1, sp.tanh(x0)),
    "sigmoid": (1, 1 / (1 + sp.exp(-x0))),
    "relu": (1, sp.Max(0, x0)),
    "gelu": (
        1,
        sp.Rational(1, 2)
        * x0
        * (1 + sp.tanh(sp.Rational("0.7978845608") * (x0 + sp.Rational("0.044715") * x0**3))),
    ),
    "sqrt": (1, sp.sqrt(x0)),
    "abs": (1, sp.Abs(x0)),
    "sin": (1, sp.sin(x0)),
    "cos": (1, sp.cos(x0)),
    "erf": (1, sp.erf(x0)),
    "sign": (1, sp.sign(x0)),
    "step": (1, sp.Heaviside(x0)),
    "cosh": (1, sp.cosh(x0)),
    "sinh": (1, sp.sinh(x0)),
    "tan": (1, sp.tan(x0)),
    "atan": (1, sp.atan(x0)),
    "pow": (2, x0**x1),
    "maximum": (2, sp.Max(x0, x1)),
    "minimum": (2, sp.Min(x0, x1)),
}

# leg-acting functions: name -> (needs a subscript, arity)
LEG_ACTING: dict[str, tuple[bool, int]] = {
    "sum": (False, 1),
    "mean": (False, 1),
    "var": (True, 1),
    "max": (True, 1),
    "min": (True, 1),
    "logsumexp": (True, 1),
    "softmax": (True, 1),
    "log_softmax": (True, 1),
    "normalize": (True, 1),
    "norm": (True, 1),
    "trace": (True, 1),
    "layernorm": (True, 3),
    "det": (False, 1),
    "logdet": (False, 1),
    "inv": (False, 1),
    "solve": (False, 2),
}

SPECIAL = ("frozen", "expand", "simplify", "factor")
CONSTANTS = ("delta", "ones", "zeros", "iverson")
KNOWN_FUNCTIONS = tuple(ELEMENTWISE) + tuple(LEG_ACTING) + SPECIAL + ("sym_grad",)

MATRIX = {"det": matrix.det, "logdet": matrix.logdet, "inv": matrix.inv}
"""Matrix functions on two square legs (``symtn.ir.matrix``); a missing subscript means the
argument's two legs."""


def comparison_rule(op: str) -> sp.Expr:
    """The 0/1 rule of ``iverson(x0 op x1)`` (``op`` one of ``> >= < <= == !=``).

    Orderings are Heaviside steps with their value at 0 fixed (``>``: 0, ``>=``: 1), equality a
    Piecewise; every one has derivative zero almost everywhere.
    """
    if op in (">", ">="):
        return sp.Heaviside(x0 - x1, 0 if op == ">" else 1)
    if op in ("<", "<="):
        return sp.Heaviside(x1 - x0, 0 if op == "<" else 1)
    if op == "==":
        return sp.Piecewise((1, sp.Eq(x0, x1)), (0, True))
    if op == "!=":
        return sp.Piecewise((0, sp.Eq(x0, x1)), (1, True))
    raise LegError(f"iverson: unknown comparison {op!r}", code="E113")


def apply_elementwise(name: str, args: Sequence[Node]) -> Node:
    """Apply a built-in elementwise function (operands broadcast like ``*``)."""
    arity, rule = ELEMENTWISE[name]
    if len(args) != arity:
        raise LegError(f"{name} takes {arity} argument(s), got {len(args)}", code="E102")
    return A.elementwise(rule, *args)


def _sum(x: Node, legs: Sequence[str]) -> Node:
    return A.sum_legs(x, legs)


def _count(x: Node, legs: Sequence[str]) -> sp.Expr:
    total = sp.Integer(1)
    sizes = x.sizes
    for leg in legs:
        total *= sizes[leg]
    return total


def _mean(x: Node, legs: Sequence[str]) -> Node:
    return A.scale(_sum(x, legs), 1 / _count(x, legs))


def _logsumexp(x: Node, legs: Sequence[str]) -> Node:
    return A.elementwise(sp.log(x0), _sum(A.elementwise(sp.exp(x0), x), legs))


def _softmax(x: Node, legs: Sequence[str]) -> Node:
    e = A.elementwise(sp.exp(x0), x)
    return A.divide(e, _sum(e, legs))


def _log_softmax(x: Node, legs: Sequence[str]) -> Node:
    return A.add(x, _logsumexp(x, legs), sign=-1)


def _var(x: Node, legs: Sequence[str]) -> Node:
    centred = A.add(x, _mean(x, legs), sign=-1)
    return _mean(A.elementwise(x0**2, centred), legs)


def _norm(x: Node, legs: Sequence[str]) -> Node:
    return A.elementwise(sp.sqrt(x0), _sum(A.elementwise(x0**2, x), legs))


def _normalize(x: Node, legs: Sequence[str]) -> Node:
    return A.divide(x, _norm(x, legs))


def _trace(x: Node, legs: Sequence[str]) -> Node:
    if len(legs) != 2:
        raise LegError(f"trace acts on 2 legs: write trace[a, b](x), got {len(legs)}", code="E212")
    a, b = legs
    sa, sb = x.size(a), x.size(b)
    if sa != sb:
        raise LegError(f"trace[{a}, {b}]: legs have sizes {sa} and {sb}", code="E201")
    return A.contract(x, Delta(sa, (a, b)))


def _extreme(name: str) -> Callable[[Node, Sequence[str]], Node]:
    def fn(x: Node, legs: Sequence[str]) -> Node:
        return Bubble(name, x, tuple(legs), ())

    return fn


REDUCERS: dict[str, Callable[[Node, Sequence[str]], Node]] = {
    "sum": _sum,
    "mean": _mean,
    "var": _var,
    "logsumexp": _logsumexp,
    "softmax": _softmax,
    "log_softmax": _log_softmax,
    "norm": _norm,
    "normalize": _normalize,
    "trace": _trace,
    "max": _extreme("max"),
    "min": _extreme("min"),
}


def apply_leg_acting(name: str, legs: Sequence[str] | None, args: Sequence[Node]) -> Node:
    """Apply a built-in leg-acting function; ``legs`` None means no subscript was written."""
    needs, arity = LEG_ACTING[name]
    if len(args) != arity:
        raise LegError(f"{name} takes {arity} argument(s), got {len(args)}", code="E102")
    x = args[0]
    if name in MATRIX:
        return MATRIX[name](x, legs)
    if name == "solve":
        return matrix.solve(x, args[1], legs)
    if legs is None:
        if needs:
            raise LegError(
                f"{name} acts on legs: write {name}[ax](...)",
                code="E212",
                help=f"name the legs it acts on, e.g. {name}[{x.legs[-1] if x.legs else 'ax'}](...)",
            )
        legs = x.legs
    for leg in legs:
        if leg not in x.legset:
            raise LegError(
                f"{name}[{', '.join(legs)}] names {leg}, which is not a leg of its argument "
                f"[{', '.join(x.legs)}]",
                code="E205",
            )
    if name == "layernorm":
        gamma, beta = args[1], args[2]
        centred = A.add(x, _mean(x, legs), sign=-1)
        scaled = A.divide(centred, A.elementwise(sp.sqrt(x0 + sp.Rational(1, 100000)), _var(x, legs)))
        return A.add(A.hadamard(scaled, gamma), beta)
    return REDUCERS[name](x, legs)
