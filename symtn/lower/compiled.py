"""A planned contraction compiled to straight-line numpy code (the evaluator's fast path).

:class:`Compiled` writes one numpy statement per pairwise step of the path
(:func:`symtn.lower.pairwise.lower_path`), then rewrites two patterns: a Hadamard product with a
transposed matrix product is computed from the product of the swapped, transposed operands, and a
Hadamard product into a fresh array is done in place.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import numpy as np
from opt_einsum import contract_expression

from symtn.lower.pairwise import lower_path


class Compiled:
    """One planned contraction, callable on its operands.

    numpy arrays run through straight-line numpy code for the path (``pairwise.lower_path``: one
    BLAS call per pairwise step on transposed views, ``*`` for Hadamard steps; no per-call path
    bookkeeping); other array types (dask) through opt_einsum's ``contract_expression``.
    """

    def __init__(self, equation: str, shapes: list[tuple[int, ...]], path: list[tuple[int, ...]]) -> None:
        self.expr = contract_expression(equation, *shapes, optimize=path)
        lines: list[str] = []

        def assign(expression: str, comment: str = "") -> str:
            var = f"t{len(lines)}"
            lines.append(f"    {var} = {expression}")
            return var

        ops = [f"a{i}" for i in range(len(shapes))]
        result = lower_path(equation, ops, shapes, path, assign)
        lines = _in_place(_untranspose(lines, result), result)
        source = f"def run({', '.join(ops)}):\n" + "\n".join(lines) + f"\n    return {result}\n"
        namespace: dict[str, Any] = {"numpy": np}
        exec(compile(source, "<symtn contraction>", "exec"), namespace)  # noqa: S102 - our own code
        self.fast: Callable[..., Any] = namespace["run"]
        self.source = source

    def __call__(self, *arrays: Any) -> Any:
        if all(type(a) is np.ndarray for a in arrays):
            return self.fast(*arrays)
        return self.expr(*arrays)


_PRODUCT = re.compile(r"^    (t\d+) = (t\d+) \* (t\d+)$")
_FRESH = re.compile(
    r"^    t\d+ = (a\d+|t\d+)(\.T)? @ |^    t\d+ = numpy\.tensordot\(|^    t\d+ = t\d+ \* t\d+$"
)


_MATMUL = re.compile(r"^    (t\d+) = (\w+)(\.T)? @ (\w+)(\.T)?$")
_TRANSPOSED = re.compile(r"^    (t\d+) = (t\d+) \* (t\d+)\.transpose\(\(1, 0\)\)$")


def _flip(x: str) -> str:
    return x[:-2] if x.endswith(".T") else f"{x}.T"


def _untranspose(lines: list[str], result: str) -> list[str]:
    """``tK = tI * tJ.transpose((1, 0))`` with ``tJ = X @ Y`` used only there: compute
    ``tJ = Y^T @ X^T`` instead (the same BLAS call with the roles swapped), so the Hadamard
    product reads both operands in memory order instead of one across its rows."""
    out = list(lines)
    defs = {m.group(1): k for k, line in enumerate(lines) if (m := _MATMUL.match(line))}
    for k, line in enumerate(lines):
        m = _TRANSPOSED.match(line)
        if m is None or m.group(3) not in defs:
            continue
        target, x, y = m.groups()
        rest = "\n".join(lines[:k] + lines[k + 1 :]) + "\n" + result
        if len(re.findall(rf"\b{y}\b", rest)) != 1:  # only its definition: no other use
            continue
        d = _MATMUL.match(lines[defs[y]])
        assert d is not None
        left, right = d.group(2) + (d.group(3) or ""), d.group(4) + (d.group(5) or "")
        out[defs[y]] = f"    {y} = {_flip(right)} @ {_flip(left)}"
        out[k] = f"    {target} = {x} * {y}"
    return out


def _in_place(lines: list[str], result: str) -> list[str]:
    """``tK = tI * tJ`` as ``numpy.multiply(tI, tJ, out=tI)`` when ``tI`` is a fresh array (a
    matrix product's or an earlier product's result, not a view of an input) used nowhere else:
    one full-size allocation fewer per Hadamard step."""
    fresh = {line.split(" = ", 1)[0].strip() for line in lines if _FRESH.match(line)}
    out = list(lines)
    for k, line in enumerate(lines):
        m = _PRODUCT.match(line)
        if m is None or m.group(2) not in fresh:
            continue
        target, x, y = m.groups()
        later = "\n".join(lines[k + 1 :]) + "\n" + result
        if x == y or re.search(rf"\b{x}\b", later):
            continue
        inplace = f"numpy.multiply({x}, {y}, out={x})"  # only into an array of the result's shape
        guard = f"type({x}) is numpy.ndarray and {x}.shape == numpy.shape({y})"
        out[k] = f"    {target} = {inplace} if {guard} else {x} * {y}"
    return out
