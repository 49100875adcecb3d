"""Lark parse tree -> :mod:`symtn.frontend.ast` dataclasses.

Every node records ``pos = (line, column, end_line, end_column)`` from Lark's
``propagate_positions``. Unicode spellings are normalised here: ``Σ`` -> ``sum``,
``δ`` -> ``delta``, ``·`` -> ``@``, ``⊙`` -> ``*``, ``⊙[L]`` -> ``*[]``, ``⊗`` -> ``outer``,
``≤ ≥ ≠`` -> ``<= >= !=``; the source spelling of an operator is kept in ``BinOp.spelling``.
``@`` chains stay nested left-associative :class:`~symtn.frontend.ast.BinOp` nodes.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass
from typing import Any

from lark import Token, Transformer_NonRecursive, v_args
from lark.tree import Meta

from symtn.errors import Span, SymtnSyntaxError
from symtn.frontend import ast

#: Value names spelled in Unicode and their ASCII names.
NAME_ALIASES: dict[str, str] = {"Σ": "sum", "δ": "delta"}
#: Operator spellings -> normalised ``BinOp.op``.
OP_ALIASES: dict[str, str] = {
    "@": "@",
    "·": "@",
    "*": "*",
    "⊙": "*",
    "⊗": "outer",
    "/": "/",
    "+": "+",
    "-": "-",
    "^": "^",
}
#: Comparison spellings inside ``iverson[...]`` -> normalised ``Compare.op``.
CMP_ALIASES: dict[str, str] = {
    "≤": "<=",
    "≥": ">=",
    "≠": "!=",
    "<": "<",
    ">": ">",
    "<=": "<=",
    ">=": ">=",
    "!=": "!=",
}
#: Modifier kinds and whether they take leg arguments.
MODIFIERS: dict[str, bool] = {
    "symmetric": True,
    "antisymmetric": True,
    "isometry": True,
    "const": False,
    "positive": False,
    "nonnegative": False,
}

#: Spellings of the expectation operator and of the Gaussian law in ``E[x ~ N(mu, C)](e)``.
EXPECTATION_NAMES = frozenset({"E", "𝔼"})
GAUSSIAN_NAMES = frozenset({"N", "𝒩"})

E_LITERAL = "E012"
E_EXPECTATION = "E230"
E_MODIFIER = "E013"


def pos_of(meta: Meta) -> ast.Pos:
    """Return the ``(line, column, end_line, end_column)`` of a tree's meta (NOPOS if empty)."""
    if getattr(meta, "empty", True):
        return ast.NOPOS
    return (meta.line, meta.column, meta.end_line, meta.end_column)


def tok_pos(tok: Token) -> ast.Pos:
    """Return the position of a token."""
    return (tok.line or 0, tok.column or 0, tok.end_line or 0, tok.end_column or 0)


def value_name(tok: Token) -> str:
    """Return a value name with the Unicode aliases (``Σ``, ``δ``) normalised."""
    return NAME_ALIASES.get(str(tok), str(tok))


# ---------------------------------------------------------------- intermediate values
@dataclass(frozen=True)
class _Sig:
    legs: tuple[ast.LegName, ...]


@dataclass(frozen=True)
class _LegParams:
    names: tuple[str, ...]


@dataclass(frozen=True)
class _Returns:
    legs: tuple[ast.LegName, ...]


@dataclass(frozen=True)
class _Kwarg:
    name: str
    value: ast.Expr


@dataclass(frozen=True)
class _Args:
    args: tuple[ast.Expr, ...]
    kwargs: tuple[tuple[str, ast.Expr], ...]


@dataclass(frozen=True)
class _Group:
    legs: tuple[ast.LegName, ...]


@v_args(meta=True, inline=True)
class ToAst(Transformer_NonRecursive[Token, tuple[ast.Stmt, ...]]):
    """Build the AST of a whole program; ``transform(tree)`` returns the statements.

    Args:
        text: the source text, used to render the spans of errors raised here.
    """

    def __init__(self, text: str = "") -> None:
        super().__init__()
        self.text = text

    def _error(self, message: str, pos: ast.Pos, code: str, help: str | None = None) -> SymtnSyntaxError:
        span = Span(pos[0], pos[1], pos[2], pos[3], text=self.text)
        return SymtnSyntaxError(message, code=code, span=span, help=help)

    def _int(self, tok: Token, what: str) -> int:
        text = str(tok)
        if not text.isdigit():
            raise self._error(
                f"{what} must be a whole number, not `{text}`", tok_pos(tok), E_LITERAL, "write an integer"
            )
        return int(text)

    # ------------------------------------------------------------ program and statements
    def start(self, meta: Meta, *stmts: ast.Stmt) -> tuple[ast.Stmt, ...]:
        return stmts

    def dim_stmt(self, meta: Meta, *entries: tuple[str, ast.SizeExpr | None, ast.Pos]) -> ast.DimDecl:
        return ast.DimDecl(tuple(entries), pos=pos_of(meta))

    def dim_entry(
        self, meta: Meta, name: Token, size: ast.SizeExpr | None = None
    ) -> tuple[str, ast.SizeExpr | None, ast.Pos]:
        return (str(name), size, pos_of(meta))

    def leg_stmt(self, meta: Meta, *children: Any) -> ast.LegDecl:
        names = tuple(str(c) for c in children if isinstance(c, Token) and c.type == "NAME")
        batch = any(isinstance(c, Token) and c.type == "BATCH" for c in children)
        size = next(c for c in children if not isinstance(c, Token))
        return ast.LegDecl(names, size, batch=batch, pos=pos_of(meta))

    def decl(self, meta: Meta, *children: Any) -> ast.TensorDecl:
        names = tuple(str(c) for c in children if isinstance(c, Token))
        sig = next(c for c in children if isinstance(c, _Sig))
        mods = tuple(c for c in children if isinstance(c, ast.Modifier))
        last = children[-1]
        value = None if isinstance(last, (_Sig, ast.Modifier)) else last
        if value is not None and len(names) > 1:
            raise self._error(
                f"a typed binding names one tensor, but {len(names)} names were given",
                pos_of(meta),
                "E014",
                "bind each name separately: `a: [legs] = expr`",
            )
        return ast.TensorDecl(names, sig.legs, modifiers=mods, value=value, pos=pos_of(meta))

    def assign(self, meta: Meta, name: Token, value: ast.Expr) -> ast.Assign:
        return ast.Assign(str(name), value, pos=pos_of(meta))

    def leg_sig(self, meta: Meta, *legs: ast.LegName) -> _Sig:
        return _Sig(tuple(legs))

    def modifier(self, meta: Meta, name: Token, *args: tuple[str, ...]) -> ast.Modifier:
        kind = str(name)
        pos = pos_of(meta)
        if kind not in MODIFIERS:
            close = difflib.get_close_matches(kind, list(MODIFIERS), n=1)
            hint = f"did you mean `{close[0]}`? " if close else ""
            raise self._error(
                f"unknown modifier `{kind}`",
                pos,
                E_MODIFIER,
                hint + "modifiers are symmetric(...), antisymmetric(...), isometry(...), const, positive "
                "and nonnegative; "
                "a typed binding is written `name: [legs] = expr`",
            )
        if MODIFIERS[kind] and not args:
            raise self._error(f"modifier `{kind}` needs legs: write {kind}(i, j)", pos, E_MODIFIER)
        if not MODIFIERS[kind] and args:
            raise self._error(f"modifier `{kind}` takes no arguments", pos, E_MODIFIER)
        return ast.Modifier(kind, tuple(args), pos=pos)

    def mod_arg(self, meta: Meta, *names: Token) -> tuple[str, ...]:
        return tuple(str(n) for n in names)

    def def_stmt(self, meta: Meta, name: Token, *children: Any) -> ast.Def:
        leg_params: tuple[str, ...] = ()
        params: list[ast.Param] = []
        returns: tuple[ast.LegName, ...] | None = None
        body: ast.Expr | ast.Block | None = None
        for child in children:
            if isinstance(child, _LegParams):
                leg_params = child.names
            elif isinstance(child, ast.Param):
                params.append(child)
            elif isinstance(child, _Returns):
                returns = child.legs
            else:
                body = child
        return ast.Def(value_name(name), leg_params, tuple(params), returns, body, pos=pos_of(meta))

    def leg_params(self, meta: Meta, *names: Token) -> _LegParams:
        return _LegParams(tuple(str(n) for n in names))

    def param(self, meta: Meta, name: Token, sig: _Sig | None = None) -> ast.Param:
        return ast.Param(str(name), None if sig is None else sig.legs, pos=pos_of(meta))

    def rule_param(self, meta: Meta, name: Token, *rest: Any) -> ast.Param:
        sig = next((c for c in rest if isinstance(c, _Sig)), None)
        mods = tuple(c for c in rest if isinstance(c, ast.Modifier))
        return ast.Param(str(name), None if sig is None else sig.legs, modifiers=mods, pos=pos_of(meta))

    def returns(self, meta: Meta, arrow: Token, sig: _Sig) -> _Returns:
        return _Returns(sig.legs)

    def block(self, meta: Meta, *children: Any) -> ast.Block:
        return ast.Block(tuple(children[:-1]), children[-1], pos=pos_of(meta))

    def check_stmt(self, meta: Meta, left: ast.Expr, op: Token, right: ast.Expr) -> ast.Check:
        return ast.Check(left, right, pos=pos_of(meta))

    def show_stmt(self, meta: Meta, expr: ast.Expr) -> ast.Show:
        return ast.Show(expr, pos=pos_of(meta))

    def rule_stmt(self, meta: Meta, name: Token, *children: Any) -> ast.Rule:
        params = tuple(c for c in children if isinstance(c, ast.Param))
        lhs, _arrow, rhs = children[len(params) :]
        return ast.Rule(str(name), params, lhs, rhs, pos=pos_of(meta))

    # ------------------------------------------------------------ expressions
    def project(self, meta: Meta, expr: ast.Expr, arrow: Token, legs: ast.LegList) -> ast.Project:
        return ast.Project(expr, legs, pos=pos_of(meta))

    def binop(self, meta: Meta, left: ast.Expr, op: Token, right: ast.Expr) -> ast.BinOp:
        return ast.BinOp(OP_ALIASES[str(op)], left, right, spelling=str(op), pos=pos_of(meta))

    def binop_legs(
        self, meta: Meta, left: ast.Expr, op: Token, legs: ast.LegList, right: ast.Expr
    ) -> ast.BinOp:
        return ast.BinOp("*[]", left, right, legs=legs, spelling=str(op), pos=pos_of(meta))

    def neg(self, meta: Meta, op: Token, expr: ast.Expr) -> ast.Neg:
        return ast.Neg(expr, pos=pos_of(meta))

    def ref(self, meta: Meta, name: Token, *legs: ast.LegList) -> ast.Ref:
        return ast.Ref(value_name(name), tuple(legs), pos=pos_of(meta))

    def call(self, meta: Meta, name: Token, args: _Args, *relabels: ast.LegList) -> ast.Call:
        return ast.Call(
            value_name(name),
            args.args,
            None,
            tuple(relabels),
            args.kwargs,
            pos=pos_of(meta),
            name_pos=tok_pos(name),
        )

    def call_sub(
        self, meta: Meta, name: Token, subscript: ast.LegList, args: _Args, *relabels: ast.LegList
    ) -> ast.Call:
        return ast.Call(
            value_name(name),
            args.args,
            subscript,
            tuple(relabels),
            args.kwargs,
            pos=pos_of(meta),
            name_pos=tok_pos(name),
        )

    def call_args(self, meta: Meta, *args: Any) -> _Args:
        positional = tuple(a for a in args if not isinstance(a, _Kwarg))
        kwargs = tuple((a.name, a.value) for a in args if isinstance(a, _Kwarg))
        return _Args(positional, kwargs)

    def value_compare(self, meta: Meta, left: ast.Expr, op: Token, right: ast.Expr) -> ast.ValueCompare:
        op_text = CMP_ALIASES.get(str(op), "==")  # EQEQ: == or ≡
        return ast.ValueCompare(left, op_text, right, pos=pos_of(meta))

    def kwarg(self, meta: Meta, name: Token, value: ast.Expr) -> _Kwarg:
        return _Kwarg(str(name), value)

    def string(self, meta: Meta, tok: Token) -> ast.Str:
        return ast.Str(str(tok)[1:-1], pos=tok_pos(tok))

    def num(self, meta: Meta, tok: Token) -> ast.Num:
        return ast.Num(str(tok), pos=pos_of(meta))

    def index_range(self, meta: Meta, tok: Token) -> ast.Range:
        first, last = str(tok).split("..")
        return ast.Range(int(first), last, pos=pos_of(meta))

    def size_of(self, meta: Meta, name: Token) -> ast.SizeOf:
        return ast.SizeOf(str(name), pos=pos_of(meta))

    def group(self, meta: Meta, expr: ast.Expr, *relabels: ast.LegList) -> ast.Group:
        return ast.Group(expr, tuple(relabels), pos=pos_of(meta))

    def deriv(
        self,
        meta: Meta,
        d1: Token,
        expr: ast.Expr,
        slash: Token,
        d2: Token,
        wrt: ast.Ref,
        *relabels: ast.LegList,
    ) -> ast.Deriv:
        return ast.Deriv(expr, wrt, tuple(relabels), pos=pos_of(meta))

    def expectation(
        self,
        meta: Meta,
        e_name: Token,
        var: Token,
        tilde: Token,
        law: Token,
        args: _Args,
        body: ast.Expr,
        *relabels: ast.LegList,
    ) -> ast.Expectation:
        form = "write E[x ~ N(mean, cov)](expr), e.g. E[x ~ N(0, I)](x @ A @ x[i -> j])"
        if str(e_name) not in EXPECTATION_NAMES:
            raise self._error(
                f"`{e_name}[{var} ~ ...]` is not an expectation: the operator is E (or 𝔼)",
                tok_pos(e_name), E_EXPECTATION, form,
            )
        if str(law) not in GAUSSIAN_NAMES:
            raise self._error(
                f"unknown distribution `{law}`: only Gaussians N(mean, cov) are supported",
                tok_pos(law), E_EXPECTATION, form,
            )
        if args.kwargs or len(args.args) != 2:
            given = len(args.args) + len(args.kwargs)
            raise self._error(
                f"N(...) takes a mean and a covariance, got {given} argument(s)"
                + (" with keywords" if args.kwargs else ""),
                tok_pos(law), E_EXPECTATION, "write N(0, I) for the standard normal, N(mu, C) in general",
            )
        return ast.Expectation(
            str(var),
            args.args[0],
            args.args[1],
            body,
            tuple(relabels),
            pos=pos_of(meta),
            var_pos=tok_pos(var),
        )

    def wrt(self, meta: Meta, name: Token, *legs: ast.LegList) -> ast.Ref:
        return ast.Ref(value_name(name), tuple(legs), pos=pos_of(meta))

    # ------------------------------------------------------------ leg lists
    def leg_list(self, meta: Meta, *items: ast.LegItem) -> ast.LegList:
        return ast.LegList(tuple(items), pos=pos_of(meta))

    def leg_term(self, meta: Meta, name: Token, size: ast.SizeExpr | None = None) -> ast.LegName:
        return ast.LegName(str(name), size, pos=pos_of(meta))

    def leg_group(self, meta: Meta, *legs: ast.LegName) -> _Group:
        return _Group(tuple(legs))

    def rename(self, meta: Meta, src: ast.LegName, arrow: Token, dst: ast.LegName) -> ast.Rename:
        return ast.Rename(src, dst, pos=pos_of(meta))

    def split(self, meta: Meta, src: ast.LegName, arrow: Token, dsts: _Group) -> ast.Split:
        return ast.Split(src, dsts.legs, pos=pos_of(meta))

    def merge(self, meta: Meta, srcs: _Group, arrow: Token, dst: ast.LegName) -> ast.Merge:
        return ast.Merge(srcs.legs, dst, pos=pos_of(meta))

    def offset(self, meta: Meta, leg: ast.LegName, sign: Token, amount: Token) -> ast.Offset:
        value = self._int(amount, "a leg offset")
        return ast.Offset(leg, -value if sign == "-" else value, pos=pos_of(meta))

    def compare(self, meta: Meta, left: ast.LegName, op: Token, right: ast.LegName) -> ast.Compare:
        return ast.Compare(left, CMP_ALIASES[str(op)], right, pos=pos_of(meta))

    # ------------------------------------------------------------ sizes
    def size_num(self, meta: Meta, tok: Token) -> ast.SizeNum:
        return ast.SizeNum(self._int(tok, "a size"), pos=pos_of(meta))

    def size_name(self, meta: Meta, tok: Token) -> ast.SizeName:
        return ast.SizeName(str(tok), pos=pos_of(meta))

    def size_bin(self, meta: Meta, left: ast.SizeExpr, op: Token, right: ast.SizeExpr) -> ast.SizeBin:
        return ast.SizeBin(OP_ALIASES[str(op)], left, right, pos=pos_of(meta))
