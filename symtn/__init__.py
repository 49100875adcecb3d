"""symtn: symbolic tensor-network algebra with automatic differentiation.

Write tensor expressions in Penrose graphical notation as text (named legs, wires, copy tensors,
function bubbles), or build them in Python; check, simplify, differentiate and evaluate them.
"""

from symtn import folds as _folds  # noqa: F401, E402  (registers the gelu and layernorm printer folds)
from symtn.api import (
    abs,
    contract,
    cos,
    delta,
    det,
    erf,
    exp,
    frozen,
    gelu,
    inv,
    iverson,
    layernorm,
    log,
    log_softmax,
    logdet,
    logsumexp,
    max,
    maximum,
    mean,
    min,
    minimum,
    norm,
    ones,
    pow,
    project,
    relu,
    sigmoid,
    sign,
    sin,
    softmax,
    solve,
    sqrt,
    sum,
    tanh,
    tensor,
    trace,
    var,
)
from symtn.checking import CheckResult, decide
from symtn.diff import d, diff, hessian, jacobian
from symtn.diff.taylor import taylor
from symtn.errors import (
    CheckError,
    EvaluationError,
    LegError,
    MatrixFormError,
    MemoryLimitError,
    NameResolutionError,
    NoRuleError,
    SizeError,
    SymtnError,
    SymtnSyntaxError,
    ignore_lints,
)
from symtn.ir import Node
from symtn.ir.einsum import einsum, to_einsum
from symtn.ir.families import chain
from symtn.ir.sharing import cse
from symtn.lower import evaluate
from symtn.lower.codegen import codegen, compile  # noqa: A004
from symtn.lower.draw import draw
from symtn.lower.latex import latex
from symtn.program import Program, load, parse
from symtn.rewrite import expand, factor, is_isomorphic, simplify
from symtn.rewrite.gaussian import expectation
from symtn.rewrite.subst import subst
from symtn.rewrite.user_rules import UserRule as Rule
from symtn.rulecheck import rule

__version__ = "0.1.0"

__all__ = [
    "CheckError",
    "CheckResult",
    "EvaluationError",
    "LegError",
    "MemoryLimitError",
    "NameResolutionError",
    "NoRuleError",
    "Node",
    "einsum",
    "subst",
    "to_einsum",
    "Program",
    "Rule",
    "SizeError",
    "SymtnError",
    "SymtnSyntaxError",
    "abs",
    "chain",
    "codegen",
    "compile",
    "contract",
    "cos",
    "cse",
    "d",
    "decide",
    "delta",
    "det",
    "diff",
    "ignore_lints",
    "draw",
    "erf",
    "evaluate",
    "exp",
    "expand",
    "factor",
    "expectation",
    "frozen",
    "gelu",
    "hessian",
    "inv",
    "is_isomorphic",
    "MatrixFormError",
    "iverson",
    "jacobian",
    "latex",
    "layernorm",
    "load",
    "log",
    "log_softmax",
    "logdet",
    "logsumexp",
    "max",
    "maximum",
    "mean",
    "min",
    "minimum",
    "norm",
    "ones",
    "parse",
    "pow",
    "project",
    "relu",
    "rule",
    "sigmoid",
    "sign",
    "simplify",
    "sin",
    "softmax",
    "solve",
    "sqrt",
    "sum",
    "tanh",
    "taylor",
    "tensor",
    "trace",
    "var",
]
