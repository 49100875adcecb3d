"""Backend flavours of generated code: how numpy, torch and jax spell each primitive.

A :class:`Backend` turns the primitives the code generator needs (einsum with a precomputed path,
transpose, zeros, masks, reductions, the stable logsumexp/softmax patterns, linear algebra) into
Python source text. Elementwise rules are printed with sympy's code printers (numpy, jax, torch).
Helper functions are emitted into the module only when a generated function uses them.
"""

from __future__ import annotations

import functools
import re
from typing import Any

import sympy as sp
from sympy.printing.numpy import JaxPrinter, NumPyPrinter

from symtn.errors import NoRuleError
from symtn.lower.codegen_helpers import JAX_X64, NUMPY_HELPERS, TORCH_HELPERS


@functools.cache
def _torch_printer() -> type:
    """sympy's torch printer with ``Max``/``Min`` as elementwise maximum/minimum.

    Defined on first use: ``sympy.printing.pytorch`` imports torch itself (~0.8 s), and the
    core never imports torch.
    """
    from sympy.printing.pytorch import TorchPrinter

    class _TorchPrinter(TorchPrinter):  # type: ignore[misc]
        def _nested(self, fn: str, expr: Any) -> str:
            args = [self._print(a) for a in expr.args]
            args = [a if not _is_number(a) else f"torch.tensor({a}, dtype=DTYPE)" for a in args]
            out = args[0]
            for a in args[1:]:
                out = f"{fn}({out}, {a})"
            return out

        def _print_Max(self, expr: Any) -> str:
            return self._nested("torch.maximum", expr)

        def _print_Min(self, expr: Any) -> str:
            return self._nested("torch.minimum", expr)

    return _TorchPrinter


class _NumPyPrinter(NumPyPrinter):  # type: ignore[misc]
    """sympy's numpy printer with ``erf`` through a vectorised ``math.erf`` helper."""

    def _print_erf(self, expr: Any) -> str:
        return f"_erf({self._print(expr.args[0])})"


class _JaxPrinter(JaxPrinter):  # type: ignore[misc]
    def _print_erf(self, expr: Any) -> str:
        return f"jax.scipy.special.erf({self._print(expr.args[0])})"


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def _tup(xs: tuple[int, ...] | list[int]) -> str:
    xs = tuple(xs)
    return f"({xs[0]},)" if len(xs) == 1 else f"({', '.join(map(str, xs))})"


class Backend:
    """numpy flavour; jax reuses it with ``jax.numpy`` as the array module."""

    name = "numpy"
    xp = "numpy"
    xp_root = "numpy"
    modules: tuple[str, ...] = ("numpy", "opt_einsum")
    """Libraries a module may import, each only when its text uses it."""
    helpers = NUMPY_HELPERS
    decorator = ""
    """A decorator for every generated function (jax: 64-bit mode per call)."""

    def __init__(self) -> None:
        self.used: set[str] = set()
        self.contractions: dict[tuple[str, tuple[tuple[int, ...], ...], str], str] = {}
        self.printed: dict[sp.Expr, str] = {}

    def printer(self) -> Any:
        return _NumPyPrinter({"fully_qualified_modules": True})

    def imports_for(self, text: str) -> str:
        """The import block for a module whose text (without imports) is ``text``."""
        std = [m for m in ("contextlib", "functools", "math", "os") if re.search(rf"\b{m}\.", text)]
        libs = [m for m in self.modules if re.search(rf"(?<![\w.]){re.escape(m)}\.", text)]
        if self.xp_root not in libs:
            libs.insert(0, self.xp_root.split(".")[0])
        libs = sorted(dict.fromkeys(libs), key=lambda m: (m.split(".")[0] != self.xp_root.split(".")[0], m))
        blocks = ["".join(f"import {m}\n" for m in std), "".join(f"import {m}\n" for m in libs)]
        return "\n".join(b for b in blocks if b) + "\n"

    def helper(self, name: str) -> str:
        if name not in self.helpers:
            raise NoRuleError(f"the {self.name} backend has no rule for {name.strip('_')}")
        self.used.add(name)
        if name == "_softmax":
            self.used.add("_logsumexp")
        return name

    def helper_source(self) -> str:
        return "".join(self.helpers[h].format(xp=self.xp) for h in sorted(self.used) if h in self.helpers)

    def asarray(self, v: str) -> str:
        return f"{self.xp}.asarray({v}, dtype=DTYPE)"

    def substitute(self, fn: sp.Expr, args: list[str]) -> sp.Expr:
        """The rule in ``x0..xk`` with each argument replaced by a symbol named as its variable."""
        subs = {sp.Symbol(f"x{i}", real=True): sp.Symbol(a, real=True) for i, a in enumerate(args)}
        return fn.xreplace(subs)

    def print_expr(self, expr: sp.Expr) -> str:
        """An elementwise expression (in symbols named as variables) as backend source."""
        text = self.printed.get(expr)
        if text is None:  # sympy's printer is slow; each backend object prints an expression once
            text = self.printed[expr] = str(self.printer().doprint(expr))
        if "_erf(" in text and "jax" not in text:
            self.helper("_erf")
        if "Not supported" in text:
            raise NoRuleError(f"the {self.name} backend cannot print the elementwise rule {expr}")
        return text

    def einsum(
        self,
        eq: str,
        ops: list[str],
        path: list[tuple[int, ...]],
        shapes: list[tuple[int, ...]] | None = None,
    ) -> str:
        """A contraction along ``path``; with ``shapes`` (numpy) an opt_einsum expression
        compiled once at import time, so a call does no parsing or path search."""
        if len(ops) == 1:
            return f'{self.xp}.einsum("{eq}", {ops[0]})'
        p = ", ".join(_tup(list(x)) for x in path)
        if shapes is None:
            return f'{self.xp}.einsum("{eq}", {", ".join(ops)}, optimize=["einsum_path", {p}])'
        key = (eq, tuple(shapes), p)
        name = self.contractions.get(key)
        if name is None:
            name = f"_contract_{len(self.contractions) + 1}"
            self.contractions[key] = name
        return f"{name}({', '.join(ops)})"

    def module_source(self) -> str:
        """Module-level definitions: helpers and precompiled contractions."""
        out = self.helper_source()
        if self.contractions:
            out += "\n"
        for (eq, shapes, p), name in self.contractions.items():
            dims = ", ".join(_tup(s) if s else "()" for s in shapes)
            out += f'{name} = opt_einsum.contract_expression("{eq}", {dims}, optimize=[{p}])\n'
        return out

    def transpose(self, v: str, perm: list[int]) -> str:
        return f"{v}.transpose({_tup(perm)})"

    def reshape(self, v: str, shape: tuple[int, ...]) -> str:
        return f"{v}.reshape({_tup(shape) if shape else '()'})"

    def zeros(self, shape: tuple[int, ...]) -> str:
        return f"{self.xp}.zeros({_tup(shape) if shape else '()'}, dtype=DTYPE)"

    def ones(self, n: int) -> str:
        return f"{self.xp}.ones({n}, dtype=DTYPE)"

    def eye(self, n: int, k: int = 0) -> str:
        return f"{self.xp}.eye({n}, k={k}, dtype=DTYPE)"

    def tri(self, n: int, k: int) -> str:
        """Ones on and below diagonal ``k`` (numpy's ``tri``)."""
        return f"{self.xp}.tri({n}, k={k}, dtype=DTYPE)"

    def broadcast(self, expr: str, shape: tuple[int, ...]) -> str:
        return f"{self.xp}.broadcast_to({expr}, {_tup(shape) if shape else '()'})"

    def reduce(self, kind: str, v: str, axes: tuple[int, ...]) -> str:
        return f"{self.xp}.{kind}({v}, axis={_tup(axes)})"

    def logsumexp(self, v: str, axes: tuple[int, ...]) -> str:
        return f"{self.helper('_logsumexp')}({v}, {_tup(axes)})"

    def softmax(self, v: str, axes: tuple[int, ...]) -> str:
        return f"{self.helper('_softmax')}({v}, {_tup(axes)})"

    def argext(self, kind: str, v: str, axes: tuple[int, ...]) -> str:
        return f"{self.helper('_argext')}({v}, {_tup(axes)}, {self.xp}.{kind})"

    def to_end(self, v: str, axes: tuple[int, ...], ndim: int) -> str:
        dest = tuple(range(ndim - len(axes), ndim))
        if axes == dest:
            return v
        return f"{self.xp}.moveaxis({v}, {_tup(axes)}, {_tup(dest)})"

    def solve(self, m: str, rhs: str) -> str:
        return f"{self.xp}.linalg.solve({m}, {rhs})"

    def linalg(self, kind: str, v: str) -> str:
        if kind == "det":
            return f"{self.xp}.linalg.det({v})"
        if kind == "logdet":
            return f"{self.helper('_logdet')}({v})"
        return f"{self.xp}.swapaxes({self.xp}.linalg.inv({v}), -1, -2)"


class JaxBackend(Backend):
    """jax flavour: ``jax.numpy`` arrays; with float64, jax's 64-bit mode is switched on for
    the duration of each call only (never globally at import)."""

    name = "jax"
    xp = "jax.numpy"
    xp_root = "jax.numpy"
    modules = ("jax", "jax.numpy", "jax.scipy.special", "jax.nn")
    decorator = "@_float64"

    def module_source(self) -> str:
        return JAX_X64 + super().module_source()

    def printer(self) -> Any:
        return _JaxPrinter({"fully_qualified_modules": True})

    def einsum(
        self,
        eq: str,
        ops: list[str],
        path: list[tuple[int, ...]],
        shapes: list[tuple[int, ...]] | None = None,
    ) -> str:
        if len(ops) == 1:
            return f'jax.numpy.einsum("{eq}", {ops[0]})'
        p = ", ".join(_tup(list(x)) for x in path)
        if any(len(step) > 2 for step in path):  # jax contracts two operands per step
            return f'jax.numpy.einsum("{eq}", {", ".join(ops)})'
        return f'jax.numpy.einsum("{eq}", {", ".join(ops)}, optimize=[{p}])'

    def logsumexp(self, v: str, axes: tuple[int, ...]) -> str:
        return f"jax.scipy.special.logsumexp({v}, axis={_tup(axes)})"

    def softmax(self, v: str, axes: tuple[int, ...]) -> str:
        return f"jax.nn.softmax({v}, axis={_tup(axes)})"


class TorchBackend(Backend):
    """torch flavour (float64 tensors; ``torch.einsum`` orders contractions itself)."""

    name = "torch"
    xp = "torch"
    xp_root = "torch"
    modules = ("torch",)
    helpers = TORCH_HELPERS

    def printer(self) -> Any:
        return _torch_printer()({"fully_qualified_modules": True})

    def asarray(self, v: str) -> str:
        return f"torch.as_tensor({v}, dtype=DTYPE)"

    def einsum(
        self,
        eq: str,
        ops: list[str],
        path: list[tuple[int, ...]],
        shapes: list[tuple[int, ...]] | None = None,
    ) -> str:
        return f'torch.einsum("{eq}", {", ".join(ops)})'

    def transpose(self, v: str, perm: list[int]) -> str:
        return f"{v}.permute({_tup(perm)})"

    def tri(self, n: int, k: int) -> str:
        return f"torch.tril(torch.ones({n}, {n}, dtype=DTYPE), diagonal={k})"

    def eye(self, n: int, k: int = 0) -> str:
        return f"torch.diag(torch.ones({n - abs(k)}, dtype=DTYPE), diagonal={k})"

    def broadcast(self, expr: str, shape: tuple[int, ...]) -> str:
        return f"torch.broadcast_to(torch.as_tensor({expr}, dtype=DTYPE), {_tup(shape) if shape else '()'})"

    def reduce(self, kind: str, v: str, axes: tuple[int, ...]) -> str:
        fn = {"max": "amax", "min": "amin"}.get(kind, kind)
        return f"torch.{fn}({v}, dim={_tup(axes)})"

    def logsumexp(self, v: str, axes: tuple[int, ...]) -> str:
        return f"torch.logsumexp({v}, dim={_tup(axes)})"

    def argext(self, kind: str, v: str, axes: tuple[int, ...]) -> str:
        fn = {"max": "amax", "min": "amin"}[kind]
        return f"{self.helper('_argext')}({v}, {_tup(axes)}, torch.{fn})"

    def to_end(self, v: str, axes: tuple[int, ...], ndim: int) -> str:
        dest = tuple(range(ndim - len(axes), ndim))
        return v if axes == dest else f"torch.movedim({v}, {_tup(axes)}, {_tup(dest)})"

    def linalg(self, kind: str, v: str) -> str:
        if kind == "det":
            return f"torch.linalg.det({v})"
        if kind == "logdet":
            return f"torch.linalg.slogdet({v})[1]"
        return f"torch.linalg.inv({v}).transpose(-1, -2)"


BACKENDS: dict[str, type[Backend]] = {"numpy": Backend, "jax": JaxBackend, "torch": TorchBackend}
"""Code-generation backends by name."""
