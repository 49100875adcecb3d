"""Generate standalone Python modules (numpy, torch or jax) that compute bindings.

``codegen(program, ["loss", "gW1"])`` returns the source of a module with no symtn import: one
function per requested binding plus, when several are requested, one function computing all of
them together so that shared work (the forward pass a gradient reuses, sub-networks equal up to
leg renaming) is done once. Every function takes the tensors it reads, in declaration order, as
arrays whose axes follow the tensors' declared legs, and returns arrays whose axes follow the
binding's declared order (``Program.order(name)``). Sizes are fixed at generation time (from the
program's integer sizes and ``sizes=``), so contraction paths are precomputed.
"""

from __future__ import annotations

import builtins
import keyword
import types
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import sympy as sp

from symtn.errors import EvaluationError, SymtnError
from symtn.ir.nodes import Node, Tensor
from symtn.ir.walk import preorder
from symtn.lower.codegen_backends import BACKENDS, Backend
from symtn.lower.emit import Emitter, Step
from symtn.lower.sizes import int_size, node_symbols

_RESERVED = {"numpy", "torch", "jax", "math", "functools", "DTYPE"}


def sanitize(name: str, taken: set[str] | None = None) -> str:
    """A valid, non-shadowing Python identifier for ``name`` (unique within ``taken``).

    Keywords and builtins get a trailing underscore (``lambda`` -> ``lambda_``); characters
    outside ASCII letters, digits and ``_`` are spelled as ``uXXXX``.
    """
    out = "".join(ch if (ch.isascii() and (ch.isalnum() or ch == "_")) else f"u{ord(ch):04x}" for ch in name)
    if not out or out[0].isdigit():
        out = "v_" + out
    if keyword.iskeyword(out) or hasattr(builtins, out) or out in _RESERVED or out.startswith(("t_", "_")):
        out += "_"
    if taken is not None:
        base, k = out, 2
        while out in taken:
            out, k = f"{base}{k}", k + 1
        taken.add(out)
    return out


@dataclass
class Target:
    """A requested output: binding name, expression and axis order of the result."""

    name: str
    node: Node
    order: tuple[str, ...]


def targets(
    source: Any, names: Sequence[str] | None, orders: Mapping[str, Sequence[str]] | None = None
) -> tuple[list[Target], list[Tensor]]:
    """Requested outputs and all declared tensors (declaration order) of a program or mapping.

    Args:
        source: a :class:`symtn.Program`, a mapping name -> node, or one node.
        names: bindings to generate (default: every binding).
        orders: name -> axis order of that output (for a mapping; default its canonical order).
    """
    if isinstance(source, Node):
        source = {"value": source}
    if isinstance(source, Mapping):
        nodes = dict(source)
        names = list(names or nodes)
        missing = [n for n in names if n not in nodes]
        if missing:
            raise EvaluationError(f"no binding named {missing[0]}; bindings: {', '.join(nodes)}", code="E300")
        declared: list[Tensor] = []
        want = orders or {}
        outs = [Target(n, nodes[n], tuple(want.get(n, nodes[n].legs))) for n in names]
        for t in outs:
            if sorted(t.order) != sorted(t.node.legs):
                raise EvaluationError(
                    f"order [{', '.join(t.order)}] is not a permutation of the legs of {t.name}"
                )
    else:
        names = list(names or source.bindings)
        missing = [n for n in names if n not in source.bindings]
        if missing:
            raise EvaluationError(
                f"no binding named {missing[0]}; bindings: {', '.join(source.bindings)}", code="E300"
            )
        declared = list(source.tensors.values())
        outs = [Target(n, source.node(n), tuple(source.order(n))) for n in names]
    return outs, declared


def _size_function(outs: list[Target], sizes: Mapping[str, int] | None) -> Any:
    bound: dict[sp.Symbol, int] = {}
    given = {str(k): int(v) for k, v in (sizes or {}).items()}
    missing: set[str] = set()
    for t in outs:
        for name, sym in node_symbols(t.node).items():
            if name in given:
                bound[sym] = given[name]
            else:
                missing.add(name)
    if missing:
        raise EvaluationError(
            f"codegen needs a value for the size(s) {', '.join(sorted(missing))}",
            code="E300",
            help=(
                f"pass sizes={{{', '.join(repr(m) + ': 64' for m in sorted(missing))}}} "
                f"(CLI: {' '.join('--size ' + m + '=64' for m in sorted(missing))}); "
                "generated code is specialised to its sizes"
            ),
        )
    cache: dict[sp.Expr, int] = {}

    def size_of(expr: sp.Expr) -> int:
        hit = cache.get(expr)
        if hit is None:
            hit = int(expr) if expr.is_Integer else int_size(expr, bound)
            cache[expr] = hit
        return hit

    return size_of


def _used_tensors(nodes: Sequence[Node], declared: list[Tensor]) -> list[Tensor]:
    seen: dict[str, Tensor] = {}
    for node in nodes:
        for n in preorder(node):
            if isinstance(n, Tensor):
                seen.setdefault(n.name, n.variable)
    order = [t.name for t in declared if t.name in seen]
    order += sorted(name for name in seen if name not in order)
    return [seen[name] for name in order]


def _function(
    fname: str,
    outs: list[Target],
    declared: list[Tensor],
    backend: Backend,
    size_of: Any,
    params: dict[str, str],
    memory_limit: int | None = None,
) -> tuple[str, list[Step]]:
    used = _used_tensors([t.node for t in outs], declared)
    em = Emitter(backend, size_of, {t.name: params[t.name] for t in used})
    em.memory_limit = memory_limit
    em.plan_roots([t.node for t in outs])
    results = []
    for t in outs:
        var = em.value(t.node)
        results.append(em.aligned(var, t.node.legs, t.order))
    args = ", ".join(params[t.name] for t in used)
    doc = [f'    """Compute {", ".join(t.name for t in outs)}.', "", "    Args:"]
    for v in used:
        shape = ", ".join(f"{leg}={size_of(s)}" for leg, s in v.slots)
        doc.append(f"        {params[v.name]}: tensor {v.name} [{shape}]")
    doc += ["", "    Returns:"]
    for t in outs:
        sizes = t.node.sizes
        doc.append(f"        {t.name} [{', '.join(f'{leg}={size_of(sizes[leg])}' for leg in t.order)}]")
    doc.append('    """')
    body = [f"    {p} = {backend.asarray(p)}" for p in (params[t.name] for t in used)]
    body += ["    " + line.replace("\n", "\n    ") for line in em.prune(results)]
    ret = results[0] if len(results) == 1 else "(" + ", ".join(results) + ")"
    body.append(f"    return {ret}")
    return "\n".join([f"def {fname}({args}):", *doc, *body]) + "\n", em.steps


def generate(
    source: Any,
    names: Sequence[str] | None = None,
    backend: str = "numpy",
    sizes: Mapping[str, int] | None = None,
    orders: Mapping[str, Sequence[str]] | None = None,
    memory_limit: int | None = None,
) -> tuple[str, dict[str, str], dict[str, list[Step]]]:
    """The module source, binding name -> function name, function name -> its contractions
    (numpy backend: contractions above ``memory_limit`` bytes are sliced where that helps)."""
    if backend not in BACKENDS:
        raise SymtnError(f"unknown backend {backend!r}; choose one of {', '.join(BACKENDS)}", code="E300")
    outs, declared = targets(source, names, orders)
    size_of = _size_function(outs, sizes)
    be = BACKENDS[backend]()
    taken = set(_RESERVED)
    fnames = {t.name: sanitize(t.name, taken) for t in outs}
    all_tensors = _used_tensors([t.node for t in outs], declared)
    params = {t.name: sanitize(t.name, taken) for t in all_tensors}
    funcs: list[str] = []
    steps: dict[str, list[Step]] = {}
    for t in outs:
        text, st = _function(fnames[t.name], [t], declared, be, size_of, params, memory_limit)
        funcs.append(text)
        steps[fnames[t.name]] = st
    if len(outs) > 1:
        combined = sanitize("_and_".join(fnames[t.name].rstrip("_") for t in outs)[:60], taken)
        text, st = _function(combined, outs, declared, be, size_of, params, memory_limit)
        funcs.append(text)
        steps[combined] = st
        fnames["*"] = combined
    header = (
        f'"""Generated by symtn ({backend} backend): {", ".join(t.name for t in outs)}.\n\n'
        "Standalone: needs only the array library. Sizes are fixed at generation time;\n"
        'inputs are arrays with axes in each tensor\'s declared leg order."""\n\n'
    )
    text = header + be.imports + be.module_source() + "\n\n" + "\n\n".join(funcs)
    return text, fnames, steps


def codegen(
    program_or_nodes: Any,
    names: Sequence[str] | None = None,
    backend: str = "numpy",
    *,
    sizes: Mapping[str, int] | None = None,
    orders: Mapping[str, Sequence[str]] | None = None,
    memory_limit: int | float | str | None = None,
) -> str:
    """The source of a standalone module computing the requested bindings.

    Args:
        program_or_nodes: a :class:`symtn.Program`, a mapping name -> node, or a single node.
        names: the bindings to generate, in order (default: all).
        backend: ``"numpy"``, ``"torch"`` or ``"jax"``.
        sizes: values of size symbols the program leaves open (``{"b": 64}``).
        orders: for a mapping of nodes, name -> axis order of that output.
        memory_limit: bytes (or ``"2GB"``) an intermediate may take, float64 entries; a numpy
            contraction above it is sliced (cotengra chooses the legs; the module loops over
            them in ``_sliced_einsum``), else refused. Default: no limit.

    Returns:
        Python source: one function per binding and, for several bindings, one function
        (named by joining their names with ``_and_``) returning all of them as a tuple.

    Raises:
        EvaluationError: an unknown binding or an unbound size.
        NoRuleError: a function with no rule in the chosen backend.
        MemoryLimitError: E310, a contraction above ``memory_limit`` that slicing cannot bound.
    """
    if memory_limit is None:
        return generate(program_or_nodes, names, backend, sizes, orders)[0]
    from symtn.lower.memory import check_steps, resolve_limit

    limit = resolve_limit(memory_limit)
    text, fnames, steps = generate(program_or_nodes, names, backend, sizes, orders, limit)
    check_steps({b: steps[f] for b, f in fnames.items() if b != "*"}, limit)
    return text


def compile(  # noqa: A001
    program_or_nodes: Any,
    names: Sequence[str] | None = None,
    backend: str = "numpy",
    *,
    sizes: Mapping[str, int] | None = None,
    orders: Mapping[str, Sequence[str]] | None = None,
    memory_limit: int | float | str | None = None,
) -> Any:
    """Generate and import a module: the one function (for one binding) or a namespace.

    The namespace has one attribute per generated function, ``all`` for the combined function
    (several bindings) and ``source``; a single function also carries ``.source``.

    ``memory_limit`` (bytes, or a string such as ``"2GB"``; default half the available memory)
    bounds every contraction's largest intermediate (float64 entries) at generation time: a
    numpy contraction above it is sliced (see :func:`codegen`), others are refused.

    Raises:
        MemoryLimitError: E310, a contraction whose largest intermediate exceeds the limit and
            cannot be sliced under it (names the binding, the intermediate's legs and its bytes).
    """
    from symtn.lower.memory import check_steps, resolve_limit

    limit = resolve_limit(memory_limit)
    text, fnames, steps = generate(program_or_nodes, names, backend, sizes, orders, limit)
    check_steps({b: steps[f] for b, f in fnames.items() if b != "*"}, limit)
    module = types.ModuleType("symtn_generated")
    exec(builtins.compile(text, "<symtn generated>", "exec"), module.__dict__)  # noqa: S102
    if len(fnames) == 1:
        fn = getattr(module, next(iter(fnames.values())))
        fn.source = text
        return fn
    ns = types.SimpleNamespace(source=text, module=module)
    for key, fname in fnames.items():
        setattr(ns, "all" if key == "*" else fname, getattr(module, fname))
    return ns
