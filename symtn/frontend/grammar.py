"""Loading the symtn grammar and building the cached LALR(1) parser.

The grammar lives in ``grammar/symtn.lark`` at the top of a source checkout; an installed wheel
carries it as ``symtn/grammar/symtn.lark``. :func:`get_parser` builds the Lark parser once, with
``parser="lalr", strict=True, propagate_positions=True`` and the :class:`BracketTracker`
post-lexer, which implements Python-style implicit line joining (docs/language.md, "Lexical matters").
"""

from __future__ import annotations

import functools
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path

from lark import Lark, Token
from lark.lark import PostLex

GRAMMAR_NAME = "symtn.lark"

#: Opening token type -> the text of the closer it needs.
OPENERS: dict[str, str] = {"LPAR": ")", "LSQB": "]", "LBRACE": "}", "D_OPEN": ")"}
#: Closing token type -> the opening token types it closes.
CLOSERS: dict[str, tuple[str, ...]] = {
    "RPAR": ("LPAR", "D_OPEN"),
    "RSQB": ("LSQB",),
    "RBRACE": ("LBRACE",),
}
#: Openers inside which newlines are ignored (implicit line joining).
JOINING: frozenset[str] = frozenset({"LPAR", "LSQB", "D_OPEN"})


def load_grammar_text() -> str:
    """Return the text of ``symtn.lark``.

    Looks first in the installed package (``symtn/grammar/symtn.lark``, as the wheel
    force-includes it), then in the source checkout (``<repo>/grammar/symtn.lark``).

    Returns:
        The grammar source.

    Raises:
        FileNotFoundError: if the grammar is in neither place.
    """
    try:
        packaged = resources.files("symtn").joinpath("grammar").joinpath(GRAMMAR_NAME)
        if packaged.is_file():
            return packaged.read_text(encoding="utf-8")
    except (ModuleNotFoundError, FileNotFoundError, NotADirectoryError):  # pragma: no cover
        pass
    here = Path(__file__).resolve()
    candidates = (
        here.parents[1] / "grammar" / GRAMMAR_NAME,  # symtn/grammar/ (installed layout)
        here.parents[2] / "grammar" / GRAMMAR_NAME,  # <repo>/grammar/ (source checkout)
    )
    for path in candidates:
        if path.is_file():
            return path.read_text(encoding="utf-8")
    raise FileNotFoundError(f"cannot find {GRAMMAR_NAME}; looked in " + ", ".join(map(str, candidates)))


@dataclass
class TrackState:
    """What the post-lexer saw during one parse (read back when a syntax error is diagnosed).

    Attributes:
        stack: the opening bracket tokens not yet closed, innermost last.
        last: the last token passed to the parser.
        prev: the token passed before ``last``.
        pushed: whether ``last`` opened a bracket.
        popped: the opening bracket ``last`` closed, if any.
    """

    stack: list[Token] = field(default_factory=list)
    last: Token | None = None
    prev: Token | None = None
    pushed: bool = False
    popped: Token | None = None

    def previous_of(self, token: Token) -> Token | None:
        """Return the token the parser saw just before ``token``."""
        if self.last is not None and token.start_pos is not None and self.last.start_pos is not None:
            if self.last.start_pos < token.start_pos:
                return self.last
        return self.prev

    def stack_before(self, token: Token) -> list[Token]:
        """Return the brackets that were open just before ``token`` was read."""
        stack = list(self.stack)
        last = self.last
        if last is not None and last.start_pos == token.start_pos and last.type == token.type:
            if self.pushed:
                stack.pop()
            elif self.popped is not None:
                stack.append(self.popped)
        return stack


class BracketTracker(PostLex):
    """Post-lexer: drops newlines inside ``(...)``, ``[...]`` and ``d(...)``, tracks open brackets.

    Newlines directly inside ``{...}`` blocks and at top level are kept (they end statements).
    A final newline is appended after the last token so the last statement is terminated.
    The state of the most recent parse in this thread is kept in :attr:`state`.
    """

    always_accept = ("_NL",)

    def __init__(self) -> None:
        self._local = threading.local()

    @property
    def state(self) -> TrackState:
        """The tracking state of the latest parse in the current thread."""
        state = getattr(self._local, "state", None)
        if state is None:
            state = TrackState()
            self._local.state = state
        return state

    def process(self, stream: Iterator[Token]) -> Iterator[Token]:
        """Filter the token stream (see the class docstring)."""
        state = TrackState()
        self._local.state = state
        stack = state.stack
        for tok in stream:
            kind = tok.type
            state.pushed, state.popped = False, None
            if kind == "_NL":
                if stack and stack[-1].type in JOINING:
                    continue
                if state.last is not None and state.last.type == "_NL":
                    continue  # collapse blank lines
            elif kind in OPENERS:
                stack.append(tok)
                state.pushed = True
            elif kind in CLOSERS and stack and stack[-1].type in CLOSERS[kind]:
                state.popped = stack.pop()
            state.prev, state.last = state.last, tok
            yield tok
        last = state.last
        if last is not None and last.type != "_NL" and not (stack and stack[-1].type in JOINING):
            end = Token(
                "_NL",
                "\n",
                start_pos=last.end_pos,
                line=last.end_line,
                column=last.end_column,
                end_line=last.end_line,
                end_column=last.end_column,
                end_pos=last.end_pos,
            )
            state.prev, state.last = state.last, end
            state.pushed, state.popped = False, None
            yield end


@functools.cache
def _build() -> tuple[Lark, BracketTracker]:
    tracker = BracketTracker()
    parser = Lark(
        load_grammar_text(),
        parser="lalr",
        lexer="contextual",
        strict=True,
        propagate_positions=True,
        maybe_placeholders=False,
        postlex=tracker,
    )
    return parser, tracker


def get_parser() -> Lark:
    """Return the symtn LALR(1) parser, built once per process."""
    return _build()[0]


def get_tracker() -> BracketTracker:
    """Return the post-lexer of :func:`get_parser` (its state explains syntax errors)."""
    return _build()[1]
