"""Lowering: contraction plans and the numpy reference backend (docs/reference/planning.md)."""

from symtn.lower.kernels import BUBBLES
from symtn.lower.numpy_backend import Evaluator, evaluate, evaluate_many
from symtn.lower.plan import NetworkPlan, plan_network
from symtn.lower.sizes import bind_sizes

__all__ = ["BUBBLES", "Evaluator", "NetworkPlan", "bind_sizes", "evaluate", "evaluate_many", "plan_network"]
