"""Parsing symtn text into an :class:`~symtn.frontend.ast.Program`.

:func:`parse_text` is the only entry point. Malformed text of any kind (unexpected tokens or
characters, unclosed brackets, invalid UTF-8, NUL bytes) raises
:class:`~symtn.errors.SymtnSyntaxError` with a caret diagnostic (docs/errors.md);
the diagnosis itself lives in :mod:`symtn.frontend.syntax_errors`.
"""

from __future__ import annotations

from lark.exceptions import UnexpectedInput, VisitError

from symtn.errors import Span, SymtnSyntaxError
from symtn.frontend import ast
from symtn.frontend.grammar import get_parser, get_tracker
from symtn.frontend.syntax_errors import E_ENCODING, E_NESTING, diagnose, render_text
from symtn.frontend.transform import ToAst

_ODD_BREAKS = {"\r\n": "\n", "\r": "\n"}


def decode_source(source: str | bytes | bytearray | memoryview) -> str:
    """Return program text as a ``str`` with ``\\n`` line ends and no byte-order mark.

    Args:
        source: the program, as text or as UTF-8 bytes.

    Returns:
        The normalised text.

    Raises:
        SymtnSyntaxError: if bytes are not valid UTF-8 (code E011).
        TypeError: if ``source`` is neither text nor bytes.
    """
    if isinstance(source, (bytes, bytearray, memoryview)):
        data = bytes(source)
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError as exc:
            prefix = data[: exc.start].decode("utf-8", errors="replace")
            line = prefix.count("\n") + 1
            column = len(prefix) - (prefix.rfind("\n") + 1) + 1
            shown = render_text(data.decode("utf-8", errors="replace"))
            raise SymtnSyntaxError(
                f"invalid UTF-8 byte 0x{data[exc.start]:02x} in program text",
                code=E_ENCODING,
                span=Span(line, column, line, column + 1, text=shown),
                help="symtn programs are UTF-8 text",
            ) from None
    elif isinstance(source, str):
        text = source
    else:
        raise TypeError(f"parse_text expects str or bytes, not {type(source).__name__}")
    if text.startswith("\ufeff"):
        text = text[1:]
    for old, new in _ODD_BREAKS.items():
        text = text.replace(old, new)
    return text


def parse_text(source: str | bytes, filename: str | None = None) -> ast.Program:
    """Parse a symtn program.

    Args:
        source: the program text (``bytes`` are decoded as UTF-8).
        filename: shown in diagnostics when given.

    Returns:
        The syntax tree; an empty program gives ``Program(())``.

    Raises:
        SymtnSyntaxError: for any malformed text.
    """
    try:
        text = decode_source(source)
        parser = get_parser()
        try:
            tree = parser.parse(text)
        except UnexpectedInput as exc:
            raise diagnose(exc, text, parser, get_tracker()) from None
        except RecursionError:  # pragma: no cover - the LALR parser is iterative
            raise _too_deep(text) from None
        try:
            stmts = ToAst(render_text(text)).transform(tree)
        except VisitError as exc:
            if isinstance(exc.orig_exc, SymtnSyntaxError):
                raise exc.orig_exc from None
            if isinstance(exc.orig_exc, RecursionError):  # pragma: no cover
                raise _too_deep(text) from None
            raise exc.orig_exc from exc
        except RecursionError:  # pragma: no cover
            raise _too_deep(text) from None
    except SymtnSyntaxError as err:
        if filename:
            raise err.with_span(err.span, f"in {filename}") from None
        raise
    return ast.Program(tuple(stmts), source=text)


def _too_deep(text: str) -> SymtnSyntaxError:
    return SymtnSyntaxError(
        "expression nested too deeply",
        code=E_NESTING,
        span=Span(1, 1, text=render_text(text)),
        help="split the expression with intermediate bindings",
    )
