"""The ``latex`` subcommand of the ``symtn`` command (docs/reference/latex.md).

``symtn latex FILE.stn [NAME ...] [--form auto|index|matrix] [--as-written] [--document]`` prints bindings as
LaTeX math: one binding alone as its right-hand side, several as ``name = ...`` lines, or with
``--document`` a small LaTeX document (one display equation per binding) ready for pdflatex.
"""

from __future__ import annotations

import argparse

from symtn.errors import EvaluationError


def cmd_latex(args: argparse.Namespace) -> int:
    from symtn.cli import print_lints
    from symtn.lower.latex import binding_latex, document
    from symtn.lower.latex.scalar import name_latex
    from symtn.program import load

    prog = load(args.file)
    print_lints(prog.warnings, args)
    names = args.names or list(prog.bindings)
    for name in names:
        if name not in prog.bindings:
            raise EvaluationError(
                f"no binding named {name}; bindings: {', '.join(prog.bindings)}", code="E300"
            )
    lines = [(name, binding_latex(prog, name, args.form, not args.as_written)) for name in names]
    if args.document:
        print(document(lines), end="")
    elif len(lines) == 1 and args.names:
        print(lines[0][1])
    else:
        for name, tex in lines:
            print(f"{name_latex(name)} = {tex}")
    return 0


def add_parsers(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    """Register ``latex`` on the ``symtn`` command's subparsers."""
    la = sub.add_parser("latex", help="print bindings as LaTeX (index or matrix notation)")
    la.add_argument("file")
    la.add_argument("names", nargs="*", help="bindings to print (default: all)")
    la.add_argument(
        "--form", choices=["auto", "index", "matrix"], default="auto",
        help="index: Einstein notation (any network); matrix: matrix notation (error E219 when the "
        "binding is not a matrix expression); auto (default): matrix where possible, else index",
    )
    la.add_argument("--as-written", action="store_true", help="print the binding as written (no simplify)")
    la.add_argument("--document", action="store_true", help="print a LaTeX document (one equation each)")
    la.set_defaults(fn=cmd_latex)
