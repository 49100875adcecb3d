"""Labelled syntax mistakes (docs/errors.md): examples, predicates and messages.

Each label has malformed example snippets (:data:`EXAMPLES`, for Lark's ``match_examples``), a
predicate on the error :class:`Context` that confirms a match (and serves as a fallback where no
example matches), and a builder of the :class:`~symtn.errors.SymtnSyntaxError` it reports.

Codes: E001 unexpected token, E002 juxtaposition, E003 function without parentheses, E004 rename
written with ``=``, E005 signature in parentheses, E006 malformed derivative, E007 dangling
operator, E008 ``check a = b``, E009 unclosed bracket, E010 unmatched closing bracket, E011
unexpected character or invalid encoding, E015 nesting too deep (E012-E014 come from the
transformer: non-integer size or offset, unknown modifier, several names in a typed binding).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

from lark import Token

from symtn.errors import Span, SymtnSyntaxError

E_UNEXPECTED = "E001"
E_JUXTAPOSE = "E002"
E_NO_PARENS = "E003"
E_RENAME_EQ = "E004"
E_SIG_PARENS = "E005"
E_DERIV = "E006"
E_DANGLING = "E007"
E_CHECK_EQ = "E008"
E_UNCLOSED = "E009"
E_CLOSER = "E010"
E_ENCODING = "E011"
E_NESTING = "E015"

#: Built-in function names (docs/language.md, "Functions"); `relu W` is "function without parentheses".
BUILTIN_FUNCTIONS: frozenset[str] = frozenset(
    "exp log relu gelu tanh sigmoid sqrt abs sin cos erf sign pow frozen softmax log_softmax sum mean "
    "var max min logsumexp norm trace layernorm det logdet inv expand simplify Σ".split()
)
JUXTAPOSE_HELP = (
    "juxtaposition is not a product: write `A @ B` to connect shared legs, or `A * B` for elementwise"
)

EXPR_START = frozenset({"NAME", "NUMBER", "LPAR", "D_OPEN", "VBAR"})
EXPR_END = frozenset({"NAME", "NUMBER", "RPAR", "RSQB", "VBAR"})
BINARY_OPS = frozenset({"AT", "MUL", "OUTER", "SLASH", "ADD", "SUB", "POW"})
KEYWORDS = frozenset({"DIM", "LEG", "DEF", "CHECK", "SHOW", "RULE"})
#: Tokens that show an operator before them has lost its right operand.
DANGLING_FOLLOW = (BINARY_OPS - {"SUB"}) | {
    "_NL", "_SEMI", "$END", "RPAR", "RSQB", "RBRACE", "COMMA", "COLON", "EQUAL", "EQEQ", "FATARROW", "ARROW",
}  # fmt: skip

#: Malformed snippets per label, for ``match_examples`` (several contexts each).
EXAMPLES: dict[str, list[str]] = {
    "juxtaposition": [
        "y = A B",
        "y = W x + b",
        "y = A[i] B",
        "y = f(x) B",
        "y = f[i](x) B",
        "y = (A) B",
        "y = 2 x",
        "y = |n| x",
        "y = A @ B C",
        "y = -A B",
        "y = x^2 B",
        "y = A B -> [i]",
        "y = f(A B)",
        "y = f(x, A B)",
        "y = (A B)",
        "y = A[i -> j] B",
        "check A B == C",
        "check C == A B",
        "show A B",
        "W: [i] = A B",
        "def f(x) = x y",
        "def f(x) {\n x y\n}",
        "def f(x) {\n a = x y\n a\n}",
        "y = d(A B)/d(A)",
        "rule r(A: [i]): A B => A",
    ],
    "rename_eq": ["y = x[t = s]", "y = x[a -> b, t = s]", "y = f[i](x)[t = s]"],
    "sig_parens": ["W: (out, inp)", "W, V: (out, inp)", "def f(x: (t, d)) = x"],
    "deriv": ["y = d(f)/d x", "y = d(f)/x", "y = d(f) x", "y = d(f)/(x)"],
    "dangling": [
        "y = x @",
        "y = x *",
        "y = x /",
        "y = x +",
        "y = x -",
        "y = x ^",
        "y = -",
        "y = (x @)",
        "y = f(x @)",
        "y = x @ ;",
        "check x @ == y",
        "check y == x @",
    ],
    "check_eq": ["check a = b", "check a @ b = c", "check f(a) = b"],
}

_NAME_RE = re.compile(r"[^\W\d]\w*'*")
_DEF_RE = re.compile(r"^[ \t]*def[ \t]+([^\W\d]\w*'*)", re.MULTILINE)
_ODD_BREAKS = re.compile("[\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029]")

TOKEN_TEXT: dict[str, str] = {
    "NAME": "a name",
    "NUMBER": "a number",
    "CMP": "a comparison",
    "_NL": "a new line",
    "$END": "the end of the input",
    "D_OPEN": "`d(`",
    "ARROW": "`->`",
    "EQEQ": "`==`",
    "FATARROW": "`=>`",
    "AT": "`@`",
    "MUL": "`*`",
    "OUTER": "`⊗`",
    "SLASH": "`/`",
    "ADD": "`+`",
    "SUB": "`-`",
    "POW": "`^`",
    "TILDE": "`~`",
}


def render_text(text: str) -> str:
    """Return ``text`` with line-break characters other than ``\\n`` blanked, for caret rendering."""
    return _ODD_BREAKS.sub(" ", text)


@dataclass(frozen=True)
class Context:
    """Everything known about a syntax error.

    Attributes:
        text: the source (for rendering).
        token: the unexpected token.
        prev: the token before it, if any.
        expected: the terminal names the parser would have accepted.
        stack: the brackets open at the error, innermost last.
    """

    text: str
    token: Token
    prev: Token | None
    expected: frozenset[str]
    stack: tuple[Token, ...]

    def span(self, tok: Token | None = None, end: Token | None = None) -> Span:
        """Return the span of ``tok`` (default: the unexpected token), optionally up to ``end``."""
        tok = self.token if tok is None else tok
        end = tok if end is None else end
        return Span(tok.line or 1, tok.column or 1, end.end_line, end.end_column, text=self.text)


# ---------------------------------------------------------------- label predicates
def _is_juxtaposition(ctx: Context) -> bool:
    return (
        ctx.token.type in EXPR_START
        and ctx.prev is not None
        and ctx.prev.type in EXPR_END
        and "AT" in ctx.expected
    )


def _is_rename_eq(ctx: Context) -> bool:
    return (
        ctx.token.type == "EQUAL"
        and bool(ctx.stack)
        and ctx.stack[-1].type == "LSQB"
        and ("ARROW" in ctx.expected)
    )


def _is_sig_parens(ctx: Context) -> bool:
    return (
        ctx.token.type == "LPAR"
        and "LSQB" in ctx.expected
        and ctx.prev is not None
        and (ctx.prev.type == "COLON")
    )


def _is_deriv(ctx: Context) -> bool:
    return ctx.expected in (frozenset({"D_OPEN"}), frozenset({"SLASH"}))


def _is_dangling(ctx: Context) -> bool:
    return ctx.prev is not None and ctx.prev.type in BINARY_OPS and ctx.token.type in DANGLING_FOLLOW


def _is_check_eq(ctx: Context) -> bool:
    return ctx.token.type == "EQUAL" and "EQEQ" in ctx.expected


PREDICATES: dict[str, Callable[[Context], bool]] = {
    "juxtaposition": _is_juxtaposition,
    "rename_eq": _is_rename_eq,
    "sig_parens": _is_sig_parens,
    "deriv": _is_deriv,
    "dangling": _is_dangling,
    "check_eq": _is_check_eq,
}


# ---------------------------------------------------------------- label builders
def _juxtaposition(ctx: Context) -> SymtnSyntaxError:
    prev = ctx.prev
    if prev is not None and prev.type == "NAME" and str(prev) in _function_names(ctx.text):
        arg = _rest_of_expression(ctx.text, ctx.token)
        return SymtnSyntaxError(
            f"function `{prev}` applied without parentheses",
            code=E_NO_PARENS,
            span=ctx.span(prev, ctx.token),
            help=f"apply functions with parentheses: {prev}({arg})",
        )
    return SymtnSyntaxError(
        "two tensors written side by side", code=E_JUXTAPOSE, span=ctx.span(), help=JUXTAPOSE_HELP
    )


def _rename_eq(ctx: Context) -> SymtnSyntaxError:
    src = str(ctx.prev) if ctx.prev is not None and ctx.prev.type == "NAME" else "t"
    after = _NAME_RE.match(ctx.text, _skip_space(ctx.text, ctx.token.end_pos or 0))
    dst = after.group(0) if after else "s"
    return SymtnSyntaxError(
        "rename written with `=`",
        code=E_RENAME_EQ,
        span=ctx.span(),
        help=f"rename legs with `->`: write `[{src} -> {dst}]`",
    )


def _sig_parens(ctx: Context) -> SymtnSyntaxError:
    inner = re.match(r"\(([^()\[\]\n]*)\)", ctx.text[ctx.token.start_pos or 0 :])
    fix = f"write `[{inner.group(1).strip()}]`" if inner else "`W: [out, inp]`"
    return SymtnSyntaxError(
        "leg signature written in parentheses",
        code=E_SIG_PARENS,
        span=ctx.span(),
        help=f"leg signatures use square brackets: {fix}",
    )


def _deriv(ctx: Context) -> SymtnSyntaxError:
    return SymtnSyntaxError(
        f"malformed derivative: expected {describe_expected(ctx.expected)}, found {describe(ctx.token)}",
        code=E_DERIV,
        span=ctx.span(),
        help="write a derivative as `d(f)/d(X)`, with parentheses around both parts and no space "
        "between `d` and `(`",
    )


def _dangling(ctx: Context) -> SymtnSyntaxError:
    op = str(ctx.prev)
    return SymtnSyntaxError(
        f"operator `{op}` has no right operand",
        code=E_DANGLING,
        span=ctx.span(ctx.prev),
        help=f"expected an expression after `{op}`, found {describe(ctx.token)}; complete the "
        "expression or remove the operator",
    )


def _check_eq(ctx: Context) -> SymtnSyntaxError:
    return SymtnSyntaxError(
        "`check` compares with `==`, not `=`",
        code=E_CHECK_EQ,
        span=ctx.span(),
        help="write `check a == b` (or `a ≡ b`)",
    )


BUILDERS: dict[str, Callable[[Context], SymtnSyntaxError]] = {
    "juxtaposition": _juxtaposition,
    "rename_eq": _rename_eq,
    "sig_parens": _sig_parens,
    "deriv": _deriv,
    "dangling": _dangling,
    "check_eq": _check_eq,
}


# ---------------------------------------------------------------- helpers
def describe(tok: Token) -> str:
    kind = tok.type
    if kind == "NAME":
        return f"name `{tok}`"
    if kind == "NUMBER":
        return f"number `{tok}`"
    if kind == "_NL":
        return "end of line"
    if kind == "$END":
        return "end of input"
    if kind in KEYWORDS:
        return f"keyword `{tok}`"
    return f"`{tok}`"


_ORDER = [
    "EXPR", "NAME", "NUMBER", "OPERATOR", "ARROW", "LSQB", "RSQB", "LPAR", "RPAR", "LBRACE", "RBRACE",
    "COMMA", "COLON", "EQUAL", "EQEQ", "FATARROW", "CMP", "BATCH", "_SEMI", "_NL", "$END",
]  # fmt: skip


def describe_expected(expected: frozenset[str]) -> str:
    names = set(expected)
    words: dict[str, str] = {}
    if {"NAME", "NUMBER", "LPAR", "D_OPEN"} <= names:
        names -= EXPR_START | {"SUB"}
        words["EXPR"] = "an expression"
    elif {"NAME", "NUMBER", "LPAR"} <= names:
        names -= {"NAME", "NUMBER", "LPAR"}
        words["EXPR"] = "a size"
    if len(names & BINARY_OPS) >= 3:
        names -= BINARY_OPS
        words["OPERATOR"] = "an operator"
    for name in names:
        words[name] = TOKEN_TEXT.get(name) or _literal(name)
    ordered = sorted(words, key=lambda n: (_ORDER.index(n) if n in _ORDER else len(_ORDER), n))
    phrases = [words[n] for n in ordered]
    if not phrases:
        return "something else"
    if len(phrases) == 1:
        return phrases[0]
    return ", ".join(phrases[:-1]) + " or " + phrases[-1]


_LITERALS = {"LPAR": "(", "RPAR": ")", "LSQB": "[", "RSQB": "]", "LBRACE": "{", "RBRACE": "}", "COMMA": ",",
             "COLON": ":", "EQUAL": "=", "VBAR": "|", "_SEMI": ";"}  # fmt: skip


def _literal(name: str) -> str:
    if name in _LITERALS:
        return f"`{_LITERALS[name]}`"
    return f"`{name.lower()}`" if name.isalpha() else name


def _function_names(text: str) -> set[str]:
    return set(BUILTIN_FUNCTIONS) | set(_DEF_RE.findall(text))


def _skip_space(text: str, pos: int) -> int:
    while pos < len(text) and text[pos] in " \t":
        pos += 1
    return pos


def _rest_of_expression(text: str, tok: Token) -> str:
    start = tok.start_pos or 0
    end = len(text)
    for stop in ("\n", "#", ";"):
        found = text.find(stop, start)
        if found != -1:
            end = min(end, found)
    rest = text[start:end].strip()
    if not rest or len(rest) > 40 or rest.count("(") != rest.count(")") or rest.count("[") != rest.count("]"):
        return "..."
    return rest
