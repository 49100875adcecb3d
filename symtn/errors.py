"""The symtn error hierarchy, with source spans rendered as caret diagnostics.

Every error a user can trigger is a :class:`SymtnError`. Each carries an error code from
docs/errors.md (``E101`` ... ``W303``), a message, an optional source span and an
optional help line. ``str(err)`` renders the full diagnostic::

    error[E201]: leg e joins sizes d_head and d_model at line 7, column 5

    q = W_Q @ x[d -> e]
        ^^^^^^^^^^^^^^^

    help: ...
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Span:
    """A region of source text (1-based line and column, end exclusive)."""

    line: int
    column: int
    end_line: int | None = None
    end_column: int | None = None
    text: str | None = None  # the whole source, for rendering the line

    def render(self) -> str:
        """Return the source line with a caret underline, or '' without source text."""
        if self.text is None:
            return ""
        lines = self.text.splitlines() or [""]
        if not 1 <= self.line <= len(lines):
            return ""
        src = lines[self.line - 1].expandtabs(1)
        width = 1
        if self.end_line == self.line and self.end_column is not None:
            width = max(1, self.end_column - self.column)
        width = min(width, max(1, len(src) - self.column + 1))
        return f"{src}\n{' ' * (self.column - 1)}{'^' * width}"


class SymtnError(Exception):
    """Base class of every error symtn raises on bad input.

    Attributes:
        code: the diagnostic code (e.g. ``"E201"``), or ``""``.
        message: one-line description of what is wrong.
        span: where in the source, if known.
        help: a hint on what was expected.
        notes: extra context lines (e.g. "in the body of `f`").
    """

    kind = "error"
    default_code = ""
    """The code of an instance raised without one (E300 for evaluation errors)."""

    def __init__(
        self,
        message: str,
        *,
        code: str = "",
        span: Span | None = None,
        help: str | None = None,
        notes: tuple[str, ...] = (),
    ) -> None:
        self.code = code or self.default_code
        self.message = message
        self.span = span
        self.help = help
        self.notes = tuple(notes)
        super().__init__(self.render())

    def with_span(self, span: Span | None, note: str | None = None) -> SymtnError:
        """Return a copy located at ``span`` (kept if already located), optionally with a note."""
        new = self.__class__.__new__(self.__class__)
        notes = self.notes + ((note,) if note else ())
        SymtnError.__init__(
            new,
            self.message,
            code=self.code,
            span=self.span if self.span is not None else span,
            help=self.help,
            notes=notes,
        )
        return new

    def render(self) -> str:
        """The full diagnostic text: header, source line with caret, notes and help."""
        head = f"{self.kind}[{self.code}]" if self.code else self.kind
        out = f"{head}: {self.message}"
        if self.span is not None:
            out += f" at line {self.span.line}, column {self.span.column}"
            shown = self.span.render()
            if shown:
                out += f"\n\n{shown}"
        for note in self.notes:
            out += f"\n\nnote: {note}"
        if self.help:
            out += f"\n\nhelp: {self.help}"
        return out

    def __str__(self) -> str:
        return self.render()


class SymtnSyntaxError(SymtnError, ValueError):
    """Malformed program text (unexpected token, unclosed bracket, juxtaposition...)."""


class NameResolutionError(SymtnError, NameError):
    """Unknown tensor, function, leg or size (E101, E110, E111)."""


class LegError(SymtnError, ValueError):
    """Legs do not fit: relabel arity, missing leg, hyperedge, sum, signature (E102-E115, E202-E212)."""


class SizeError(LegError):
    """Sizes disagree at a wire, rename, shared leg, delta, merge or split (E201, E208)."""


class CheckError(SymtnError, AssertionError):
    """A ``check`` statement was refuted."""


class EvaluationError(SymtnError, ValueError):
    """Numeric evaluation failed: missing input, array shape against declared sizes (E300)."""

    default_code = "E300"


class MemoryLimitError(EvaluationError, MemoryError):
    """Evaluation would allocate an array above the memory limit that slicing cannot split
    (E310): names the binding, the array's legs and its size in bytes."""

    default_code = "E310"


class NoRuleError(SymtnError, NotImplementedError):
    """No derivative or evaluation rule exists for a construct."""


class MatrixFormError(SymtnError, ValueError):
    """``symtn.latex(..., form="matrix")`` on an expression that is not a matrix expression
    (E219): names the part with no matrix notation (a tensor with three legs...)."""


class SymtnLint(SymtnError):
    """A lint diagnostic (W301-W303): rendered like an error, headed ``warning``."""

    kind = "warning"


IGNORED_LINTS: set[str] = set()
"""Lint codes that parsing neither records nor warns about (see ``ignore_lints``)."""


def ignore_lints(*codes: str, reset: bool = False) -> frozenset[str]:
    r"""Silence lint codes for this process: ``symtn.ignore_lints("W301")``.

    Args:
        codes: codes such as ``"W301"``.
        reset: first clear the codes silenced so far (``ignore_lints(reset=True)`` re-enables all).

    Returns:
        The codes silenced now. The standard ``warnings.filterwarnings("ignore",
        message=r"warning\[W301\]", category=SymtnWarning)`` also works (the lint is then
        still listed in ``Program.warnings``).
    """
    if reset:
        IGNORED_LINTS.clear()
    IGNORED_LINTS.update(c.upper() for c in codes)
    return frozenset(IGNORED_LINTS)


class SymtnWarning(UserWarning):
    """A lint (W301-W303); carries a rendered diagnostic as its message."""
