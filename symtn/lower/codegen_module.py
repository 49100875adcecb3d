"""Assemble a generated module: functions with shape checks and memory checks, imports, header.

One pass of code generation (:func:`build`) emits, for each requested binding and for all of
them together, a function that

1. converts its inputs to the module's ``DTYPE``;
2. checks their shapes against the declared legs and reads the open sizes (``_sizes``);
3. checks, once per shape, that no intermediate of its contraction plan is above
   ``MEMORY_LIMIT`` (``_check_memory``);
4. computes the bindings (:class:`symtn.lower.emit.Emitter`).

The module imports only the libraries its text uses.
"""

from __future__ import annotations

import math
import re
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import sympy as sp

from symtn.ir.nodes import Node, Tensor, size_str
from symtn.ir.walk import preorder
from symtn.lower.codegen_backends import Backend
from symtn.lower.codegen_runtime import SIZES, intermediates, memory_source
from symtn.lower.codegen_sizes import SizeFunction, SizeInt, check_determined, leaked_literal
from symtn.lower.emit import Emitter, Step
from symtn.lower.sizes import node_symbols

ITEMSIZE = {"float32": 4, "float64": 8}
"""Bytes per entry of each supported dtype."""


@dataclass
class Target:
    """A requested output: binding name, expression and axis order of the result."""

    name: str
    node: Node
    order: tuple[str, ...]


@dataclass
class Spec:
    """What one generation pass needs besides the targets."""

    backend: Backend
    size_of: SizeFunction
    params: dict[str, str]
    open_vars: dict[str, str]
    memory_limit: int | None
    dtype: str
    progress: Callable[[str], None] | None = None
    runtime_limit: int | None = None
    """The module's MEMORY_LIMIT (None: half the memory available at run time)."""
    alternatives: list[SizeFunction] = field(default_factory=list)
    """Other representative sizes to plan with (a shape-generic function keeps each plan that
    differs and picks the cheapest at the call's sizes)."""
    runtime_slicing: bool = False
    """Add a plan whose contractions are sliced at run time (numpy)."""


def used_tensors(nodes: Sequence[Node], declared: list[Tensor]) -> list[Tensor]:
    """The tensor variables ``nodes`` read, in declaration order (undeclared ones sorted after)."""
    seen: dict[str, Tensor] = {}
    for node in nodes:
        for n in preorder(node):
            if isinstance(n, Tensor):
                seen.setdefault(n.name, n.variable)
    order = [t.name for t in declared if t.name in seen]
    order += sorted(name for name in seen if name not in order)
    return [seen[name] for name in order]


def _leg_spec(v: Tensor, param: str, spec: Spec) -> tuple[tuple[Any, ...], list[str]]:
    """The ``_sizes`` spec of one input and the ``_check_size`` lines of its compound legs."""
    legs: list[tuple[str, Any, str]] = []
    checks: list[str] = []
    for k, (leg, s) in enumerate(v.slots):
        if s.is_Integer:
            legs.append((leg, int(s), f"declared {s}"))
        elif isinstance(s, sp.Symbol) and s.name in spec.open_vars:
            legs.append((leg, s.name, ""))
        elif isinstance(s, sp.Symbol):
            val = int(spec.size_of(s))
            legs.append((leg, val, f"size {s.name} = {val} at generation time"))
        else:
            val = spec.size_of(s)
            if isinstance(val, SizeInt):
                legs.append((leg, None, ""))
                declared = size_str(s)
                checks.append(f"_check_size({v.name!r}, {leg!r}, {param}.shape[{k}], {val}, {declared!r})")
            else:
                legs.append((leg, int(val), f"declared {size_str(s)} = {val}"))
    return (v.name, tuple(legs)), checks


def _leg_name(leg: str) -> str:
    """A leg's name for messages: an internal leg (``_batch31559``, made when a leg is renamed
    apart) as the leg it stands for (``batch``), so the text does not depend on which of the legs
    a label joins the plan names it by."""
    return re.sub(r"\d+$", "", leg.lstrip("_")) or leg if leg.startswith("_") else leg


def _memory_items(owned: list[tuple[str, list[Step]]], text: str) -> str:
    """The ``(binding, legs, entries)`` tuples of every intermediate the plan allocates (source);
    of a contraction sliced at generation or run time, only its result."""
    found: dict[tuple[str, str], str] = {}
    for binding, steps in owned:
        for st in steps:
            if not re.search(rf"\b{st.var}\b", text):
                continue
            label = {ch: (_leg_name(leg), n) for ch, leg, n in st.labels}
            sliced = "sliced" in st.method
            for labs in [st.equation.split("->")[1]] if sliced else intermediates(st.equation, st.path):
                if not labs or any(ch not in label for ch in labs):
                    continue
                named = sorted((label[ch] for ch in labs), key=lambda p: (p[0], str(p[1])))
                entries = math.prod(n for _, n in named)
                found.setdefault((", ".join(leg for leg, _ in named), str(entries)), binding)
    items = sorted(found.items(), key=lambda kv: (-len(kv[0][0]), kv[0]))
    return "".join(f"\n            ({b!r}, {legs!r}, {e})," for (legs, e), b in items)


def _cost(steps: list[Step], text: str) -> str:
    """Source of the multiply-adds of the contractions in ``text`` at the call's sizes: the
    product of the sizes of every label a pairwise step touches, summed."""
    total: Any = None
    for st in steps:
        if st.method == "reused" or not re.search(rf"\b{st.var}\b", text):
            continue
        size = {ch: n for ch, _, n in st.labels}
        live = st.equation.split("->")[0].split(",")
        keep_out = st.equation.split("->")[1]
        for step in st.path:
            picked = [live[i] for i in step]
            live = [t for i, t in enumerate(live) if i not in step]
            touched = dict.fromkeys(c for t in picked for c in t)
            if any(c not in size for c in touched):
                continue
            work = math.prod(size[c] for c in touched)
            total = work if total is None else total + work
            keep = set(keep_out) | {c for t in live for c in t}
            live.append("".join(c for c in touched if c in keep))
    return str(total or 0)


def _reader(name: str, used: list[Tensor], spec: Spec) -> str:
    """``x.shape[k]`` of the first input leg whose declared size is the symbol ``name``."""
    for v in used:
        for k, (_, s) in enumerate(v.slots):
            if isinstance(s, sp.Symbol) and s.name == name:
                return f"{spec.params[v.name]}.shape[{k}]"
    raise AssertionError(name)  # check_determined ran before


@dataclass
class _Body:
    """One plan of a function's statements (for one set of planning sizes)."""

    code: list[str]
    results: list[str]
    owned: list[tuple[str, list[Step]]]
    steps: list[Step]


def _plan_body(outs: list[Target], used: list[Tensor], spec: Spec, size_of: SizeFunction, sliced: bool,
               progress: Callable[[str], None] | None) -> _Body:
    """The statements computing ``outs`` planned with the sizes ``size_of`` gives."""
    em = Emitter(spec.backend, size_of, {t.name: spec.params[t.name] for t in used})
    em.memory_limit = None if spec.open_vars else spec.memory_limit
    em.runtime_slicing = sliced
    em.plan_roots([t.node for t in outs])
    results, owned = [], []
    for k, t in enumerate(outs, 1):
        if progress is not None:
            progress(f"{t.name} ({k}/{len(outs)})" if len(outs) > 1 else t.name)
        before = len(em.steps)
        var = em.value(t.node)
        results.append(em.aligned(var, t.node.legs, t.order))
        owned.append((t.name, em.steps[before:]))
    code = ["    " + line.replace("\n", "\n    ") for line in em.prune(results)]
    text = "\n".join(code) + " ".join(results)

    def run(steps: list[Step]) -> list[Step]:  # contractions whose code was pruned never run
        return [st for st in steps if re.search(rf"\b{st.var}\b", text)]

    return _Body(code, results, [(name, run(st)) for name, st in owned], run(em.steps))


def _bodies(outs: list[Target], used: list[Tensor], spec: Spec) -> list[_Body]:
    """The plans of a function: at the representative sizes, at each alternative set whose
    statements differ (and carry no size as a number), and the run-time-sliced plan."""
    main = _plan_body(outs, used, spec, spec.size_of, False, spec.progress)
    bodies = [main]
    if not spec.open_vars:
        return bodies
    for size_of in spec.alternatives:
        alt = _plan_body(outs, used, spec, size_of, False, None)
        if any(alt.code == b.code for b in bodies):
            continue
        if leaked_literal("\n".join(alt.code), size_of.values.values()) is None:
            bodies.append(alt)
    if spec.runtime_slicing:
        sliced = _plan_body(outs, used, spec, spec.size_of, True, None)
        if sliced.code != main.code:
            bodies.append(sliced)
    return bodies


def function(fname: str, outs: list[Target], declared: list[Tensor], spec: Spec) -> tuple[str, list[Step]]:
    """The source of one generated function and its planned contractions (of the plan at the
    representative sizes).

    A shape-generic function holds several plans when the best contraction order depends on the
    sizes (planned at large and at small representative sizes) and, for numpy, one whose
    contractions are sliced at run time: at the first call with each shape it runs the plan of
    fewest multiply-adds whose intermediates fit in MEMORY_LIMIT, else the sliced plan.
    """
    used = used_tensors([t.node for t in outs], declared)
    b = spec.backend
    bodies = _bodies(outs, used, spec)
    params = [spec.params[t.name] for t in used]
    opened = sorted(
        {name for t in outs for name in node_symbols(t.node) if name in spec.open_vars}
        | {s.name for v in used for _, s in v.slots for s in s.free_symbols if s.name in spec.open_vars}
    )
    check_determined(opened, {s.name for v in used for _, s in v.slots if isinstance(s, sp.Symbol)})
    doc = [f'    """Compute {", ".join(t.name for t in outs)}.', "", "    Args:"]
    for v in used:
        shape = ", ".join(f"{leg}={size_str(s)}" for leg, s in v.slots)
        doc.append(f"        {spec.params[v.name]}: tensor {v.name} [{shape}]")
    doc += ["", "    Returns:"]
    for t in outs:
        sizes = t.node.sizes
        doc.append(f"        {t.name} [{', '.join(f'{leg}={size_str(sizes[leg])}' for leg in t.order)}]")
    doc += ["", "    Raises:", "        ValueError: an input's shape does not match its declared legs."]
    doc += ["        MemoryLimitError: an intermediate would exceed MEMORY_LIMIT (E310).", '    """']
    body = [f"    {p} = {b.asarray(p)}" for p in params]
    specs, checks = [], []
    for v in used:
        s, c = _leg_spec(v, spec.params[v.name], spec)
        specs.append(s)
        checks += c
    names = [spec.open_vars[n] for n in opened]
    shapes = "(" + "".join(f"{p}.shape, " for p in params) + ")"
    if used:  # checked once per shape (and memory limit); sizes then read from the shapes
        body.append(f"    _key = ({fname!r}, {shapes}, MEMORY_LIMIT)")
        body.append("    if _key not in _CHECKED:")
        call = f"_sizes({tuple(specs)!r}, _key[1], {tuple(opened)!r})"
        body.append(f"        {', '.join(names)}, = {call}" if names else f"        {call}")
        body += [f"        {c}" for c in checks]
        plans = []
        for k, plan in enumerate(bodies):
            text = "\n".join(plan.code) + " ".join(plan.results)
            cost = "None" if k and plan.owned and _is_sliced(plan) else _cost(plan.steps, text)
            plans.append(f"\n        ({cost}, ({_memory_items(plan.owned, text)}\n        )),")
        body.append(f"        _check_memory(_key, ({''.join(plans)}\n        ))")
    for name, var in zip(opened, names, strict=True):
        body.append(f"    {var} = {_reader(name, used, spec)}")
    for k, plan in enumerate(bodies):
        # every output in the module's dtype (a planner step may introduce float64 constants)
        typed = [b.asarray(r) for r in plan.results]
        ret = typed[0] if len(typed) == 1 else "(" + ", ".join(typed) + ")"
        if len(bodies) == 1:
            body += [*plan.code, f"    return {ret}"]
            continue
        test = "if" if k == 0 else "elif" if k < len(bodies) - 1 else "else"
        cond = f" _CHECKED[_key] == {k}:" if test != "else" else ":"
        note = " (sliced)" if _is_sliced(plan) else ""
        body.append(f"    {test}{cond}  # plan {k + 1} of {len(bodies)}{note}")
        body += ["    " + line.replace("\n", "\n    ") for line in [*plan.code, f"    return {ret}"]]
    deco = [b.decorator] if b.decorator else []
    return "\n".join([*deco, f"def {fname}({', '.join(params)}):", *doc, *body]) + "\n", bodies[0].steps


def _is_sliced(plan: _Body) -> bool:
    return any(st.method == "sliced at run time" for st in plan.steps)


def build(
    outs: list[Target], declared: list[Tensor], fnames: dict[str, str], combined: str | None, spec: Spec
) -> tuple[str, dict[str, list[Step]]]:
    """The module text of one generation pass and each function's contractions."""
    funcs: list[str] = []
    steps: dict[str, list[Step]] = {}
    for t in outs:
        text, st = function(fnames[t.name], [t], declared, spec)
        funcs.append(text)
        steps[fnames[t.name]] = st
    if combined is not None:
        if spec.progress is not None:
            spec.progress = _prefixed(spec.progress, "all together: ")
        text, st = function(combined, outs, declared, spec)
        funcs.append(text)
        steps[combined] = st
    b = spec.backend
    rest = b.module_source() + SIZES + memory_source(spec.runtime_limit) + "\n\n" + "\n\n".join(funcs)
    defs = f"DTYPE = {b.xp_root}.{spec.dtype}\n_ITEMSIZE = {ITEMSIZE[spec.dtype]}\n"
    imports = b.imports_for(defs + rest)
    stdlib = {"contextlib", "functools", "math", "os"}
    libs = sorted({m.split(".")[0] for m in re.findall(r"^import (\S+)$", imports, re.M)} - stdlib)
    generic = (
        "Sizes are read from the input arrays (checked against the declared legs)"
        if spec.open_vars
        else "Sizes are fixed at generation time (checked on every call)"
    )
    memory = (
        "Contractions whose intermediates\nwould exceed MEMORY_LIMIT bytes are sliced at run time "
        "(with cotengra, imported only then);\nMemoryLimitError (E310) when slicing cannot bound them."
        if "_sliced_contract(" in rest
        else "Intermediates above\nMEMORY_LIMIT bytes raise MemoryLimitError (E310)."
    )
    header = (
        f'"""Generated by symtn ({b.name} backend, {spec.dtype}): {", ".join(t.name for t in outs)}.\n\n'
        f"Standalone: needs only {' and '.join(libs)}. {generic};\n"
        f'inputs are arrays with axes in each tensor\'s declared leg order. {memory}"""\n\n'
    )
    return header + imports + defs + rest, steps


def _prefixed(fn: Callable[[str], None], prefix: str) -> Callable[[str], None]:
    return lambda msg: fn(prefix + msg)


class Progress:
    """Progress messages on a stream, once the work has run for more than ``after`` seconds.

    Args:
        stream: where to write (``sys.stderr`` for the CLI).
        after: seconds of silence before the first message.
    """

    def __init__(self, stream: Any, after: float = 1.0) -> None:
        self.stream = stream
        self.after = after
        self.start = time.monotonic()
        self.phase = "planning"

    def __call__(self, msg: str) -> None:
        if time.monotonic() - self.start > self.after:
            print(f"{self.phase} {msg}...", file=self.stream, flush=True)
