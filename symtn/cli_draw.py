"""The ``draw`` and ``gallery`` subcommands of the ``symtn`` command.

``symtn draw FILE.stn NAME [-o out.svg|out.tex|out.dot] [--expand] [--simplified] [--before]``
draws one binding (SVG on stdout by default; the format follows ``-o``'s suffix or
``--format``). ``symtn gallery OUT_DIR [FILE ...]`` draws every binding of the bundled examples
(or of the given programs) into ``OUT_DIR`` with an ``index.html`` showing them beside their source.
"""

from __future__ import annotations

import argparse
import dataclasses
import sys
from importlib import resources
from pathlib import Path

from symtn.errors import EvaluationError
from symtn.ir.nodes import Node

SUFFIXES = {".svg": "svg", ".tex": "tikz", ".tikz": "tikz", ".dot": "dot", ".gv": "dot"}


def load_traced(text: str, filename: str | None = None) -> tuple[object, dict[str, tuple[Node, str]]]:
    """Load a program and remember, for each binding written ``d(f)/d(X)``, its ``f`` and ``X``.

    Returns:
        The :class:`symtn.Program` and a map binding name -> ``(f, X's name)``.
    """
    from symtn.frontend.resolve import resolve
    from symtn.frontend.syntax import parse_text
    from symtn.program import HOOKS, Program

    made: dict[Node, tuple[Node, str]] = {}

    def diff_hook(f: Node, var: Node, new: tuple[str, ...]) -> Node:
        out = HOOKS.diff(f, var, new)
        made.setdefault(out, (f, str(var.args[0])))
        return out

    hooks = dataclasses.replace(HOOKS, diff=diff_hook)
    prog = Program(resolve(parse_text(text, filename), hooks), text, filename)
    derivs = {name: made[node] for name, node in prog.bindings.items() if node in made}
    return prog, derivs


def cmd_draw(args: argparse.Namespace) -> int:
    from symtn.lower.draw import draw, draw_derivative, too_large
    from symtn.rewrite import expand, simplify

    prog, derivs = load_traced(Path(args.file).read_text(encoding="utf-8"), args.file)
    if args.name not in prog.bindings:  # type: ignore[attr-defined]
        names = ", ".join(prog.bindings)  # type: ignore[attr-defined]
        raise EvaluationError(f"no binding named {args.name}; bindings: {names}", code="E300")
    node = prog.bindings[args.name]  # type: ignore[attr-defined]
    if args.expand:
        node = expand(node)
    if args.simplified:
        node = simplify(node)
    suffix = Path(args.out).suffix.lower() if args.out else ""
    if args.out and args.format is None and suffix not in SUFFIXES:
        raise EvaluationError(
            f"cannot write {args.out}: draw writes SVG, TikZ or Graphviz, "
            f"not {suffix or 'a file without a suffix'}",
            code="E300",
            help=f"use -o {Path(args.out).with_suffix('.svg').name} (convert to PDF with e.g. "
            "`rsvg-convert -f pdf`), or --format to force a format",
        )
    fmt = args.format or SUFFIXES.get(suffix, "svg")
    if args.before and args.name in derivs and fmt != "dot":
        f, wrt = derivs[args.name]
        text = draw_derivative(f, wrt, node, fmt)
    else:
        text = draw(node, fmt)
        if too_large(node):
            from symtn.lower.draw.shared import boxed

            print(f"note: {args.name} is {boxed(node).caption()}", file=sys.stderr)
    if args.out is None:
        sys.stdout.write(text)
        return 0
    Path(args.out).write_text(text, encoding="utf-8")
    print(f"wrote {args.out}", file=sys.stderr)
    return 0


def bundled_examples() -> list[tuple[str, str]]:
    """``(stem, text)`` of every bundled ``.stn`` program, sorted by file name."""
    folder = resources.files("symtn").joinpath("examples")
    found = [p for p in folder.iterdir() if p.name.endswith(".stn")]
    return [(p.name[:-4], p.read_text(encoding="utf-8")) for p in sorted(found, key=lambda p: p.name)]


def cmd_gallery(args: argparse.Namespace) -> int:
    from symtn.lower.draw.gallery import Example, build_gallery

    programs = [(stem, text, f"{stem}.stn") for stem, text in bundled_examples()]
    if args.files:
        missing = [f for f in args.files if not Path(f).is_file()]
        if missing:
            print(f"error: no such file {missing[0]}", file=sys.stderr)
            return 2
        programs = [(Path(f).stem, Path(f).read_text(encoding="utf-8"), f) for f in args.files]
    examples = []
    for stem, text, filename in programs:
        prog, derivs = load_traced(text, filename)
        bindings = [(n, v, tuple(prog.order(n))) for n, v in prog.bindings.items()]  # type: ignore[attr-defined]
        examples.append(Example(stem, text, bindings, derivs))
    index = build_gallery(args.out_dir, examples)
    count = sum(len(e.bindings) for e in examples)
    plural = "s" if len(examples) != 1 else ""
    print(f"wrote {index} ({count} bindings from {len(examples)} program{plural})")
    return 0


def add_parsers(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    """Register ``draw`` and ``gallery`` on the ``symtn`` command's subparsers."""
    d = sub.add_parser("draw", help="draw a binding in graphical tensor notation (SVG, TikZ or DOT)")
    d.add_argument("file")
    d.add_argument("name", help="the binding to draw")
    d.add_argument("-o", "--out", help="write here; the suffix picks the format (.svg .tex .dot)")
    d.add_argument("--format", choices=["svg", "tikz", "dot"], help="output format (default svg)")
    d.add_argument("--expand", action="store_true", help="draw expand(...) of the binding (path expansion)")
    d.add_argument("--simplified", action="store_true", help="draw the simplified binding")
    d.add_argument(
        "--before", action="store_true", help="for d(f)/d(X): draw f with X's hole, then the result"
    )
    d.set_defaults(fn=cmd_draw)
    g = sub.add_parser(
        "gallery", help="draw every bundled example (or the FILEs) into OUT_DIR with an index.html"
    )
    g.add_argument("out_dir")
    g.add_argument(
        "files", nargs="*", metavar="FILE", help="programs to draw instead of the bundled examples"
    )
    g.set_defaults(fn=cmd_gallery)
