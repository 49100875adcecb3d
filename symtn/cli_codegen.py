"""The ``codegen``, ``grad`` and ``plan`` subcommands of the ``symtn`` command.

``symtn codegen FILE.stn NAME... --backend numpy|torch|jax -o module.py`` writes a standalone
module; ``symtn grad FILE.stn --of LOSS --wrt W1,W2`` adds the bindings ``d_LOSS_d_W1``... and
writes the module for the loss and its gradients; ``symtn plan FILE.stn NAME`` prints every
contraction of a binding with its FLOP count and largest intermediate. Work that runs longer
than a second reports progress on stderr ("planning gW1 (3/12)...").
"""

from __future__ import annotations

import argparse
import sys
import types
from typing import Any

from symtn.errors import EvaluationError

BYTES_PER_ENTRY = 8
"""float64."""


def _sizes(pairs: list[str] | None) -> dict[str, int]:
    out: dict[str, int] = {}
    for pair in pairs or []:
        name, eq, value = pair.partition("=")
        if not eq or not value.strip().isdigit():
            raise EvaluationError(f"--size expects NAME=INT, got {pair!r}", code="E300")
        out[name.strip()] = int(value)
    return out


def _write(text: str, out: str | None) -> None:
    if out is None:
        sys.stdout.write(text)
        return
    with open(out, "w", encoding="utf-8") as fh:
        fh.write(text)
    print(f"wrote {out}", file=sys.stderr)


def _progress() -> Any:
    from symtn.lower.codegen_module import Progress

    return Progress(sys.stderr)


def cmd_codegen(args: argparse.Namespace) -> int:
    from symtn.lower.codegen import codegen
    from symtn.program import load

    prog = load(args.file)
    text = codegen(
        prog,
        args.names or None,
        args.backend,
        sizes=_sizes(args.size),
        memory_limit=args.memory_limit,
        dtype=args.dtype,
        progress=_progress(),
    )
    _write(text, args.out)
    return 0


def gradient_bindings(
    prog: Any, of: str, wrt: list[str]
) -> tuple[dict[str, Any], dict[str, tuple[str, ...]]]:
    """The loss and one ``d_<of>_d_<W>`` binding per variable, with their output leg orders."""
    from symtn.diff import diff
    from symtn.diff.api import new_leg_names

    if of not in prog.bindings:
        raise EvaluationError(f"no binding named {of}; bindings: {', '.join(prog.bindings)}", code="E300")
    f = prog.bindings[of]
    nodes: dict[str, Any] = {of: f}
    orders: dict[str, tuple[str, ...]] = {of: tuple(prog.order(of))}
    for name in wrt:
        if name not in prog.tensors:
            raise EvaluationError(f"no tensor named {name}; tensors: {', '.join(prog.tensors)}", code="E300")
        var = prog.tensors[name]
        legs = new_leg_names(f, var)
        key = f"d_{of}_d_{name}"
        nodes[key] = diff(f, var, legs)
        orders[key] = tuple(prog.order(of)) + tuple(legs)
    return nodes, orders


def cmd_grad(args: argparse.Namespace) -> int:
    from symtn.lower.codegen import codegen
    from symtn.program import load

    prog = load(args.file)
    wrt = [w.strip() for w in args.wrt.split(",") if w.strip()]
    progress = _progress()
    progress("differentiating")
    nodes, orders = gradient_bindings(prog, args.of, wrt)
    # the program's tensors give the functions' parameters in declaration order
    source = types.SimpleNamespace(
        bindings=nodes, tensors=prog.tensors, order=orders.__getitem__, node=nodes.__getitem__
    )
    text = codegen(
        source,
        None,
        args.backend,
        sizes=_sizes(args.size),
        orders=orders,
        memory_limit=args.memory_limit,
        dtype=args.dtype,
        progress=progress,
    )
    _write(text, args.out)
    return 0


def cmd_plan(args: argparse.Namespace) -> int:
    from symtn.lower.codegen import generate, planning_sizes
    from symtn.program import load

    prog = load(args.file)
    limit = None
    if args.memory_limit:
        from symtn.lower.memory import resolve_limit

        limit = resolve_limit(args.memory_limit)
    sizes = _sizes(args.size)
    _, fnames, steps = generate(prog, [args.name], "numpy", sizes, None, limit, progress=_progress())
    plan = steps[fnames[args.name]]
    total, largest = 0, 0
    print(f"{args.name}: {len(plan)} contraction(s)")
    opened = planning_sizes(prog, [args.name], sizes)
    if opened:
        shown = ", ".join(f"{k}={v}" for k, v in opened.items())
        note = "generated code reads them from its inputs; --size to set"
        print(f"  sizes not given, counted at {shown} ({note})")
    legs: tuple[str, ...] = ()
    for i, st in enumerate(plan, 1):
        print(f"  {i:3d}. {st.equation:<40s} {st.flops:>16,d} flops   largest {st.largest:>12,d} entries")
        nb = st.largest * BYTES_PER_ENTRY
        big = ", ".join(st.largest_legs)
        print(f"       path {list(st.path)} ({st.method}); largest [{big}] {nb:,} bytes".replace(" [] ", " "))
        total += st.flops
        if st.largest > largest:
            largest, legs = st.largest, st.largest_legs
    nbytes = largest * BYTES_PER_ENTRY
    print(
        f"total: {total:,} flops; largest intermediate {largest:,} entries ({nbytes:,} bytes)"
        + (f", legs [{', '.join(legs)}]" if legs else "")
    )
    return 0


def add_parsers(sub: Any) -> None:
    """Register ``codegen``, ``grad`` and ``plan`` on the ``symtn`` subparsers."""
    backends = ["numpy", "torch", "jax"]
    size_help = "specialise to a size, NAME=INT (repeatable; default: read from the inputs)"
    dtype_help = "float64 (default) or float32: inputs converted, constants built in it"
    limit_help = (
        "bytes one intermediate may take (e.g. 2GB; default half the available memory at run "
        "time); with every size known, numpy contractions above it are sliced"
    )
    c = sub.add_parser("codegen", help="write a standalone numpy/torch/jax module for bindings")
    c.add_argument("file")
    c.add_argument("names", nargs="*", help="bindings to generate (default: all)")
    c.add_argument("--backend", choices=backends, default="numpy")
    c.add_argument("-o", "--out", help="write the module here (default: stdout)")
    c.add_argument("--size", action="append", help=size_help)
    c.add_argument("--memory-limit", metavar="SIZE", help=limit_help)
    c.add_argument("--dtype", choices=["float64", "float32"], default="float64", help=dtype_help)
    c.set_defaults(fn=cmd_codegen)
    g = sub.add_parser("grad", help="add d(LOSS)/d(W) bindings and write the module")
    g.add_argument("file")
    g.add_argument("--of", required=True, help="the scalar (or tensor) binding to differentiate")
    g.add_argument("--wrt", required=True, help="comma-separated tensor variables")
    g.add_argument("--backend", choices=backends, default="numpy")
    g.add_argument("-o", "--out", help="write the module here (default: stdout)")
    g.add_argument("--size", action="append", help=size_help)
    g.add_argument("--memory-limit", metavar="SIZE", help=limit_help)
    g.add_argument("--dtype", choices=["float64", "float32"], default="float64", help=dtype_help)
    g.set_defaults(fn=cmd_grad)
    p = sub.add_parser("plan", help="print a binding's contractions, FLOPs and largest intermediate")
    p.add_argument("file")
    p.add_argument("name")
    p.add_argument("--size", action="append", help=size_help)
    p.add_argument(
        "--memory-limit", metavar="SIZE", help="plan with slicing under SIZE (e.g. 2GB), as codegen does"
    )
    p.set_defaults(fn=cmd_plan)
