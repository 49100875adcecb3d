"""Generate standalone Python modules (numpy, torch or jax) that compute bindings.

``codegen(program, ["loss", "gW1"])`` returns the source of a module with no symtn import: one
function per requested binding plus, when several are requested, one function computing all of
them together so that shared work (the forward pass a gradient reuses, sub-networks equal up to
leg renaming) is done once. Every function takes the tensors it reads, in declaration order, as
arrays whose axes follow the tensors' declared legs, and returns arrays whose axes follow the
binding's declared order (``Program.order(name)``).

Sizes the program fixes (``dim d = 768``) or ``sizes=`` gives are fixed in the code; the others
are read from the input arrays at run time (:mod:`symtn.lower.codegen_sizes`), and every call
checks the inputs' shapes and, once per shape, the memory its plan needs
(:mod:`symtn.lower.codegen_runtime`). Contraction orders are chosen at generation time.
"""

from __future__ import annotations

import builtins
import keyword
import types
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import sympy as sp

from symtn.errors import EvaluationError, SymtnError
from symtn.ir.depth import allow_deep_nesting
from symtn.ir.nodes import Elementwise, Node, Sum, Tensor
from symtn.ir.walk import preorder
from symtn.lower.backprop import reverse_form
from symtn.lower.codegen_backends import BACKENDS
from symtn.lower.codegen_module import ITEMSIZE, Spec, Target, build, used_tensors
from symtn.lower.codegen_sizes import (
    SMALL_PRIME,
    SizeFunction,
    leaked_literal,
    open_symbols,
    representative,
)
from symtn.lower.emit import Step
from symtn.lower.sizes import node_symbols

_RESERVED = {
    "numpy", "torch", "jax", "math", "functools", "os", "contextlib", "opt_einsum", "DTYPE",
    "MEMORY_LIMIT", "MemoryLimitError",
}


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


def targets(
    source: Any, names: Sequence[str] | None, orders: Mapping[str, Sequence[str]] | None = None
) -> tuple[list[Target], list[Tensor]]:
    """Requested outputs and all declared tensors (declaration order) of a program or mapping.

    Args:
        source: a :class:`symtn.Program`, a mapping name -> node, one node, or a list of nodes
            (named ``value_0``, ``value_1``...).
        names: bindings to generate (default: every binding).
        orders: name -> axis order of that output (for a mapping; default its canonical order).
    """
    if isinstance(source, Node):
        source = {"value": source}
    elif isinstance(source, (list, tuple)):
        bad = [x for x in source if not isinstance(x, Node)]
        if bad or not source:
            raise EvaluationError(
                f"codegen takes a Program, a mapping name -> expression, an expression or a list of "
                f"expressions; got a list containing {type(bad[0]).__name__ if bad else 'nothing'}",
                code="E300",
            )
        source = {f"value_{k}": x for k, x in enumerate(source)}
    elif not isinstance(source, Mapping) and not hasattr(source, "bindings"):
        raise EvaluationError(
            f"codegen takes a Program, a mapping name -> expression, an expression or a list of "
            f"expressions, not {type(source).__name__}",
            code="E300",
        )
    if isinstance(source, Mapping):
        nodes = dict(source)
        names = list(names or nodes)
        wrong = [k for k, v in nodes.items() if not isinstance(v, Node)]
        if wrong:
            raise EvaluationError(f"{wrong[0]} is not an expression: {nodes[wrong[0]]!r}", code="E300")
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


def _given(sizes: Mapping[str, int] | None) -> dict[str, int]:
    out: dict[str, int] = {}
    for k, v in (sizes or {}).items():
        name = k.name if isinstance(k, sp.Symbol) else str(k)
        if isinstance(v, bool) or not isinstance(v, (int, sp.Integer)) or int(v) < 1:
            raise EvaluationError(f"sizes[{name!r}] must be a positive integer, got {v!r}", code="E300")
        out[name] = int(v)
    return out


def _dtype(dtype: Any) -> str:
    name = getattr(dtype, "__name__", None) or str(dtype)
    name = name.rsplit(".", 1)[-1]
    if name not in ITEMSIZE:
        raise EvaluationError(
            f"dtype {dtype!r} is not supported by codegen", code="E300", help="use 'float32' or 'float64'"
        )
    return name


def _opened(outs: list[Target], tensors: list[Tensor], given: Mapping[str, int]) -> list[str]:
    symbols: set[str] = set()
    for t in outs:
        symbols |= set(node_symbols(t.node))
    for v in tensors:
        symbols |= {x.name for _, size in v.slots for x in size.free_symbols}
    return open_symbols(dict.fromkeys(symbols), given)


def _fixed_sizes(outs: list[Target], given: Mapping[str, int]) -> list[float]:
    """Every integer size of the targets' legs, the given sizes and the numbers in elementwise
    rules and sum coefficients (representative values must not be mistaken for them)."""
    found: set[float] = set(given.values())
    for t in outs:
        for n in preorder(t.node):
            found |= {int(s) for _, s in n.sig if s.is_Integer}
            exprs = [n.fn] if isinstance(n, Elementwise) else list(n.coeffs) if isinstance(n, Sum) else []
            for e in exprs:
                found |= {float(a) for a in e.atoms(sp.Number) if a.is_finite}
    return sorted(found)


def planning_sizes(
    source: Any, names: Sequence[str] | None = None, sizes: Mapping[str, int] | None = None
) -> dict[str, int]:
    """The representative values :func:`generate` plans with for sizes ``sizes`` leaves open."""
    outs, declared = targets(source, names)
    given = _given(sizes)
    opened = _opened(outs, used_tensors([t.node for t in outs], declared), given)
    return representative(opened, _fixed_sizes(outs, given))


@allow_deep_nesting
def generate(
    source: Any,
    names: Sequence[str] | None = None,
    backend: str = "numpy",
    sizes: Mapping[str, int] | None = None,
    orders: Mapping[str, Sequence[str]] | None = None,
    memory_limit: int | None = None,
    *,
    dtype: Any = "float64",
    progress: Callable[[str], None] | None = None,
    embed_limit: bool = True,
) -> tuple[str, dict[str, str], dict[str, list[Step]]]:
    """The module source, binding name -> function name, function name -> its contractions.

    Size symbols without a value in ``sizes`` are read from the input arrays at run time; the
    plan is made with representative values (distinct primes, see
    :func:`~symtn.lower.codegen_sizes.representative`) and the code is scanned for numbers
    derived from them (a size printed as a literal: refused). Numpy contractions above
    ``memory_limit`` bytes are sliced when every size is known; the module's ``MEMORY_LIMIT`` is
    ``memory_limit`` (None with ``embed_limit=False``: half the memory available at run time).

    Raises:
        EvaluationError: E300 for an unknown binding, backend or dtype, or an open size no input
            leg carries (it needs a value in ``sizes``).
    """
    if backend not in BACKENDS:
        raise SymtnError(f"unknown backend {backend!r}; choose one of {', '.join(BACKENDS)}", code="E300")
    dt = _dtype(dtype)
    outs, declared = targets(source, names, orders)
    outs = [Target(t.name, reverse_form(t.node) or t.node, t.order) for t in outs]
    given = _given(sizes)
    all_tensors = used_tensors([t.node for t in outs], declared)
    opened = _opened(outs, all_tensors, given)
    taken = set(_RESERVED)
    fnames = {t.name: sanitize(t.name, taken) for t in outs}
    params = {t.name: sanitize(t.name, taken) for t in all_tensors}
    combined = None
    if len(outs) > 1:
        combined = sanitize("_and_".join(fnames[t.name].rstrip("_") for t in outs)[:60], taken)
        fnames["*"] = combined
    open_vars = {name: sanitize("n_" + name, taken) for name in opened}

    values = representative(opened, _fixed_sizes(outs, given))
    size_of = SizeFunction(given, open_vars, values)
    spec = Spec(BACKENDS[backend](), size_of, params, open_vars, memory_limit, dt, progress)
    spec.runtime_limit = memory_limit if embed_limit else None
    if opened:
        small = representative(opened, _fixed_sizes(outs, given), SMALL_PRIME)
        spec.alternatives = [SizeFunction(given, open_vars, small)]
        spec.runtime_slicing = backend == "numpy"
    text, steps = build(outs, declared, fnames, combined, spec)
    leak = leaked_literal(text, values.values())
    if leak is not None:
        raise EvaluationError(
            f"codegen could not write shape-generic code for the size(s) {', '.join(opened)}: "
            f"a size is fixed in the generated line {leak!r}",
            code="E300",
            help=f"pass sizes={{'{opened[0]}': 64}} (CLI: --size {opened[0]}=64) to specialise",
        )
    return text, fnames, steps


def _generate_checked(
    source: Any,
    names: Sequence[str] | None,
    backend: str,
    sizes: Mapping[str, int] | None,
    orders: Mapping[str, Sequence[str]] | None,
    memory_limit: int | float | str | None,
    dtype: Any,
    progress: Callable[[str], None] | None,
    default_slicing: bool,
) -> tuple[str, dict[str, str]]:
    """Generate; with a limit (given, or the default when ``default_slicing``) slice numpy
    contractions above it and refuse (E310) those that cannot be bounded at known sizes."""
    from symtn.lower.memory import check_steps, resolve_limit

    if memory_limit is None and not default_slicing:
        text, fnames, _ = generate(source, names, backend, sizes, orders, dtype=dtype, progress=progress)
        return text, fnames
    limit = resolve_limit(memory_limit)
    text, fnames, steps = generate(
        source, names, backend, sizes, orders, limit, dtype=dtype, progress=progress,
        embed_limit=memory_limit is not None,
    )
    if "Sizes are fixed at generation time" in text.split('"""', 2)[1]:
        itemsize = ITEMSIZE[_dtype(dtype)]
        check_steps({b: steps[f] for b, f in fnames.items() if b != "*"}, limit, itemsize)
    return text, fnames


def codegen(
    program_or_nodes: Any,
    names: Sequence[str] | None = None,
    backend: str = "numpy",
    *,
    sizes: Mapping[str, int] | None = None,
    orders: Mapping[str, Sequence[str]] | None = None,
    memory_limit: int | float | str | None = None,
    dtype: Any = "float64",
    progress: Callable[[str], None] | None = None,
) -> str:
    """The source of a standalone module computing the requested bindings.

    Functions read the sizes the program (and ``sizes``) leaves open from their input arrays,
    check every input's shape against its declared legs and the other inputs (``ValueError``
    naming the tensor, the leg and the sizes) and, once per shape, that no intermediate of the
    plan exceeds the module's ``MEMORY_LIMIT`` (``MemoryLimitError``, E310).

    Args:
        program_or_nodes: a :class:`symtn.Program`, a mapping name -> node, a single node or a
            list of nodes (functions ``value_0``, ``value_1``...).
        names: the bindings to generate, in order (default: all).
        backend: ``"numpy"``, ``"torch"`` or ``"jax"``.
        sizes: values of size symbols to specialise the code to (``{"b": 64}``); others are read
            from the inputs at run time.
        orders: for a mapping of nodes, name -> axis order of that output.
        memory_limit: bytes (or ``"2GB"``) an intermediate may take: the module's
            ``MEMORY_LIMIT`` (default: half the memory available at run time). When every size
            is known, a numpy contraction above it is sliced (cotengra chooses the legs; the
            module loops over them in ``_sliced_einsum``), else refused at generation time.
        dtype: ``"float32"`` or ``"float64"`` (default): inputs are converted to it and
            constants built in it.
        progress: called with a message (``"gW1 (3/12)"``) before each binding is planned.

    Returns:
        Python source: one function per binding and, for several bindings, one function
        (named by joining their names with ``_and_``) returning all of them as a tuple.

    Raises:
        EvaluationError: an unknown binding, backend or dtype; an open size no input carries.
        NoRuleError: a function with no rule in the chosen backend.
        MemoryLimitError: E310, a contraction above ``memory_limit`` that slicing cannot bound.
    """
    return _generate_checked(
        program_or_nodes, names, backend, sizes, orders, memory_limit, dtype, progress, False
    )[0]


def compile(  # noqa: A001
    program_or_nodes: Any,
    names: Sequence[str] | None = None,
    backend: str = "numpy",
    *,
    sizes: Mapping[str, int] | None = None,
    orders: Mapping[str, Sequence[str]] | None = None,
    memory_limit: int | float | str | None = None,
    dtype: Any = "float64",
) -> Any:
    """Generate and import a module: the one function (for one binding) or a namespace.

    The namespace has one attribute per generated function, ``all`` for the combined function
    (several bindings), ``source`` and ``module``; a single function also carries ``.source``
    and ``.module`` (set ``module.MEMORY_LIMIT`` to change the run-time bound).

    ``memory_limit`` (bytes, or a string such as ``"2GB"``; default half the available memory)
    bounds every contraction's largest intermediate: at generation time when every size is known
    (a numpy contraction above it is sliced, see :func:`codegen`), and at run time otherwise.
    Other arguments as :func:`codegen`.

    Raises:
        MemoryLimitError: E310, a contraction whose largest intermediate exceeds the limit and
            cannot be sliced under it (names the binding, the intermediate's legs and its bytes).
    """
    text, fnames = _generate_checked(
        program_or_nodes, names, backend, sizes, orders, memory_limit, dtype, None, True
    )
    module = types.ModuleType("symtn_generated")
    exec(builtins.compile(text, "<symtn generated>", "exec"), module.__dict__)  # noqa: S102
    if len(fnames) == 1:
        fn = getattr(module, next(iter(fnames.values())))
        fn.source = text
        fn.module = module
        return fn
    ns = types.SimpleNamespace(source=text, module=module)
    for key, fname in fnames.items():
        setattr(ns, "all" if key == "*" else fname, getattr(module, fname))
    return ns
