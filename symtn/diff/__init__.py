"""Symbolic differentiation of tensor networks: hole-poking and the chain rule (docs/language.md).

``diff(f, X)`` (alias ``d``, ``jacobian``) is the notation's ``d(f)/d(X)``; ``hessian(f, X)`` is
``d(d(f)/d(X))/d(X)``; ``derivative(f, X, hole)`` is the unsimplified rule engine with explicit
new leg names; ``new_leg_names(f, X)`` gives the default names of the new legs (7.7). Jacobian
rules of leg-acting bubbles are registered in ``JACOBIANS`` (``register_jacobian``).
"""

from symtn.diff.api import d, diff, hessian, jacobian, new_leg_names
from symtn.diff.jacobians import JACOBIANS, register_jacobian
from symtn.diff.rules import derivative

__all__ = [
    "JACOBIANS",
    "d",
    "derivative",
    "diff",
    "hessian",
    "jacobian",
    "new_leg_names",
    "register_jacobian",
]
