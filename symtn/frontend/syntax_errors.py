"""Diagnosing syntax errors: Lark exceptions -> labelled :class:`SymtnSyntaxError` (docs/errors.md).

Labelled mistakes (:mod:`symtn.frontend.syntax_labels`) are recognised with
``UnexpectedInput.match_examples`` against example snippets, matching by LALR state number,
accepted tokens and token type; a match is confirmed by the label's predicate, and the
predicates also serve as a fallback for contexts the examples do not cover. Unexpected end of
input, and brackets never closed before the next line's statement, are reported at the
innermost unclosed bracket as tracked by the post-lexer, with its opening position.
"""

from __future__ import annotations

from typing import Any

from lark import Lark, Token
from lark.exceptions import UnexpectedCharacters, UnexpectedEOF, UnexpectedInput, UnexpectedToken

from symtn.errors import Span, SymtnSyntaxError
from symtn.frontend.grammar import CLOSERS, OPENERS, BracketTracker, TrackState
from symtn.frontend.syntax_labels import (
    BUILDERS,
    E_CLOSER,
    E_ENCODING,
    E_NESTING,
    E_UNCLOSED,
    E_UNEXPECTED,
    EXAMPLES,
    KEYWORDS,
    PREDICATES,
    Context,
    describe,
    describe_expected,
    render_text,
)

__all__ = ["E_ENCODING", "E_NESTING", "diagnose", "render_text"]


# ---------------------------------------------------------------- entry point
def diagnose(exc: UnexpectedInput, text: str, parser: Lark, tracker: BracketTracker) -> SymtnSyntaxError:
    """Turn a Lark parse error into a located, labelled :class:`SymtnSyntaxError`.

    Args:
        exc: the error Lark raised while parsing ``text``.
        text: the program text.
        parser: the parser that failed (re-used to parse the label examples).
        tracker: its post-lexer, whose state describes the failed parse.

    Returns:
        The diagnostic to raise.
    """
    state: TrackState = tracker.state  # the failed parse's state; example parses make new ones
    shown = render_text(text)
    if isinstance(exc, UnexpectedCharacters):
        return _unexpected_char(exc, shown)
    if isinstance(exc, UnexpectedToken):
        token = exc.token
        accepts = exc.accepts or exc.expected
    else:
        assert isinstance(exc, UnexpectedEOF)
        token = Token("$END", "", len(text), exc.line, exc.column)
        accepts = set(exc.expected)
    stack = tuple(state.stack_before(token))
    ctx = Context(shown, token, state.previous_of(token), frozenset(accepts), stack)

    if ctx.stack and (token.type == "$END" or _never_closed(ctx, text)):
        return _unclosed(ctx, ctx.stack[-1])
    if token.type in CLOSERS and not (ctx.stack and ctx.stack[-1].type in CLOSERS[token.type]):
        return _bad_closer(ctx)
    label = _match_label(exc, parser) if isinstance(exc, UnexpectedToken) else None
    if label is not None and PREDICATES[label](ctx):
        return BUILDERS[label](ctx)
    for name, applies in PREDICATES.items():
        if applies(ctx):
            return BUILDERS[name](ctx)
    return _generic(ctx)


def _key_state(exc: UnexpectedInput) -> None:
    """Compare parser states by LALR state number only (Lark also compares the stack depth)."""
    position = getattr(exc.state, "position", None)
    if isinstance(position, int):
        exc.state = position


def _match_label(exc: UnexpectedToken, parser: Lark) -> str | None:
    def parse_example(src: str) -> Any:
        try:
            return parser.parse(src)
        except UnexpectedInput as example_exc:
            _key_state(example_exc)
            raise

    if exc.state is None:
        return None
    _key_state(exc)
    label = exc.match_examples(parse_example, EXAMPLES, token_type_match_fallback=True, use_accepts=True)
    return label if isinstance(label, str) else None


# ---------------------------------------------------------------- other diagnostics
def _unclosed(ctx: Context, opener: Token) -> SymtnSyntaxError:
    closer = OPENERS[opener.type]
    where = "the input ended" if ctx.token.type == "$END" else f"line {ctx.token.line} was reached"
    return SymtnSyntaxError(
        f"unclosed `{opener}`",
        code=E_UNCLOSED,
        span=ctx.span(opener),
        help=f"expected `{closer}` to close the `{opener}` opened at line {opener.line}, "
        f"column {opener.column}, but {where} first",
    )


def _bad_closer(ctx: Context) -> SymtnSyntaxError:
    tok = ctx.token
    if not ctx.stack:
        return SymtnSyntaxError(
            f"unmatched `{tok}`",
            code=E_CLOSER,
            span=ctx.span(),
            help=f"nothing is open here: remove it (expected {describe_expected(ctx.expected)})",
        )
    top = ctx.stack[-1]
    return SymtnSyntaxError(
        f"mismatched `{tok}`",
        code=E_CLOSER,
        span=ctx.span(),
        help=f"the `{top}` opened at line {top.line}, column {top.column} is still open: "
        f"expected `{OPENERS[top.type]}` first",
    )


def _unexpected_char(exc: UnexpectedCharacters, text: str) -> SymtnSyntaxError:
    char = exc.char
    shown = f"`{char}`" if char.isprintable() and not char.isspace() else f"U+{ord(char):04X}"
    help = f"expected {describe_expected(frozenset(exc.allowed or ()))}"
    if not (char.isprintable() or char in "\t\n"):
        help += "; the input may be binary data, not symtn text"
    return SymtnSyntaxError(
        f"unexpected character {shown}",
        code=E_ENCODING,
        span=Span(exc.line, exc.column, exc.line, exc.column + 1, text=text),
        help=help,
    )


def _generic(ctx: Context) -> SymtnSyntaxError:
    help = f"expected {describe_expected(ctx.expected)}"
    if ctx.prev is not None and ctx.prev.type in KEYWORDS and ctx.token.type in {"EQUAL", "COLON", "COMMA"}:
        help += f"; `{ctx.prev}` is a reserved word and cannot name a tensor"
    elif ctx.token.type == "RBRACE" and "NAME" in ctx.expected:
        help += "; a block ends with an expression, its value"
    elif ctx.prev is not None and ctx.prev.type == "ARROW" and ctx.expected == frozenset({"LSQB"}):
        help += "; `->` after an expression keeps the listed legs: write `e -> [i, j]`"
    elif ctx.expected == frozenset({"EQUAL", "COLON", "COMMA"}):
        help += (
            "; a statement is `name = expr`, `name: [legs]`, `def ...`, `check a == b` or `show e` "
            "(an expression alone is not a statement)"
        )
    span = ctx.span(ctx.prev) if ctx.token.type == "$END" and ctx.prev is not None else ctx.span()
    return SymtnSyntaxError(f"unexpected {describe(ctx.token)}", code=E_UNEXPECTED, span=span, help=help)


def _never_closed(ctx: Context, text: str) -> bool:
    """Whether the innermost open bracket is never closed and the error starts a later line.

    Python-style: ``y = f(x`` followed by ``z = 3`` fails at ``z``; the real mistake is the ``(``.
    Only errors at (or just after) the first token of a later line qualify, so a stray bracket in
    the middle of a line is still reported where it is.
    """
    opener, token = ctx.stack[-1], ctx.token
    if (token.line or 0) <= (opener.line or 0):
        return False
    if not (_first_on_line(text, token) or (ctx.prev is not None and _first_on_line(text, ctx.prev))):
        return False
    index = (opener.end_pos or 0) - 1
    return index in _unclosed_at_end(text)


def _first_on_line(text: str, tok: Token) -> bool:
    start = tok.start_pos or 0
    line_start = text.rfind("\n", 0, start) + 1
    return not text[line_start:start].strip()


def _unclosed_at_end(text: str) -> set[int]:
    """Indices of the bracket characters still open at the end of ``text`` (comments skipped)."""
    pairs = {")": "(", "]": "[", "}": "{"}
    stack: list[tuple[str, int]] = []
    i = 0
    while i < len(text):
        ch = text[i]
        if ch == "#":
            nl = text.find("\n", i)
            i = len(text) if nl == -1 else nl
            continue
        if ch in "([{":
            stack.append((ch, i))
        elif ch in pairs and stack and stack[-1][0] == pairs[ch]:
            stack.pop()
        i += 1
    return {index for _, index in stack}
