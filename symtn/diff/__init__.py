"""Symbolic differentiation of tensor networks: hole-poking and the chain rule (DESIGN.md 5).

``diff(f, X)`` (alias ``d``, ``jacobian``) is NOTATION.md's ``d(f)/d(X)``; ``hessian(f, X)`` is
``d(d(f)/d(X))/d(X)``; ``derivative(f, X, hole)`` is the unsimplified rule engine with explicit
new leg names. Bubble Jacobian rules are registered in ``symtn.diff.jacobians``.
"""

from symtn.diff.api import d, diff, hessian, jacobian
from symtn.diff.jacobians import JACOBIANS, register_jacobian
from symtn.diff.rules import derivative

__all__ = ["JACOBIANS", "d", "derivative", "diff", "hessian", "jacobian", "register_jacobian"]
