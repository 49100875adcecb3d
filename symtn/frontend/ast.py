"""Syntax tree of a symtn program: plain frozen dataclasses with source positions.

The Lark transformer (``frontend/transform.py``) builds these from the parse tree; the resolver
(``frontend/resolve.py``) turns them into IR. Every node records ``pos = (line, column,
end_line, end_column)``, 1-based, end exclusive, as Lark's ``propagate_positions`` gives.
"""

from __future__ import annotations

from dataclasses import dataclass, field

Pos = tuple[int, int, int, int]
NOPOS: Pos = (0, 0, 0, 0)


# ---------------------------------------------------------------- sizes
@dataclass(frozen=True)
class SizeNum:
    value: int
    pos: Pos = NOPOS


@dataclass(frozen=True)
class SizeName:
    name: str
    pos: Pos = NOPOS


@dataclass(frozen=True)
class SizeBin:
    op: str  # "*", "+", "-", "/"
    left: SizeExpr
    right: SizeExpr
    pos: Pos = NOPOS


SizeExpr = SizeNum | SizeName | SizeBin


# ---------------------------------------------------------------- leg lists
@dataclass(frozen=True)
class LegName:
    """A leg written in a leg list, optionally with an inline size: ``l`` or ``l: m``."""

    name: str
    size: SizeExpr | None = None
    pos: Pos = NOPOS


@dataclass(frozen=True)
class Rename:
    """``x -> y`` inside a leg list."""

    src: LegName
    dst: LegName
    pos: Pos = NOPOS


@dataclass(frozen=True)
class Merge:
    """``(x1, x2) -> y`` (also spelled ``(x1 x2) -> y``)."""

    srcs: tuple[LegName, ...]
    dst: LegName
    pos: Pos = NOPOS


@dataclass(frozen=True)
class Split:
    """``x -> (y1, y2: 4)``."""

    src: LegName
    dsts: tuple[LegName, ...]
    pos: Pos = NOPOS


@dataclass(frozen=True)
class Offset:
    """``s + 1`` / ``s - 2`` inside ``delta[...]``."""

    leg: LegName
    offset: int
    pos: Pos = NOPOS


@dataclass(frozen=True)
class Compare:
    """``s <= t`` inside ``iverson[...]``; op is one of < <= > >= != (Unicode normalised)."""

    left: LegName
    op: str
    right: LegName
    pos: Pos = NOPOS


LegItem = LegName | Rename | Merge | Split | Offset | Compare


@dataclass(frozen=True)
class LegList:
    items: tuple[LegItem, ...]
    pos: Pos = NOPOS


# ---------------------------------------------------------------- expressions
@dataclass(frozen=True)
class Num:
    """A numeric literal; ``text`` keeps the spelling (``1e-5``, ``0.7978845608``)."""

    text: str
    pos: Pos = NOPOS


@dataclass(frozen=True)
class Str:
    """A string literal argument (``einsum("ij,jk->ik", A, B)``); ``text`` without the quotes."""

    text: str
    pos: Pos = NOPOS


@dataclass(frozen=True)
class Range:
    """``1..4`` or ``1..N``: the sites of an index family (``chain(G, bond=a, sites=1..N)``)."""

    first: int
    last: str
    pos: Pos = NOPOS


@dataclass(frozen=True)
class SizeOf:
    """``|ax|``: the size of a leg, as a scalar."""

    leg: str
    pos: Pos = NOPOS


@dataclass(frozen=True)
class Ref:
    """A name with optional leg lists: ``W``, ``W[a, b]``, ``x[t -> s][...]``, ``delta[i, j]``."""

    name: str
    legs: tuple[LegList, ...] = ()
    pos: Pos = NOPOS


@dataclass(frozen=True)
class Call:
    """A function call ``f(args)``, ``f[L](args)``, with leg lists after it.

    ``subscript`` is the bracket between the name and the parentheses (``softmax[s]``),
    ``None`` when absent. ``relabels`` are the leg lists after the closing parenthesis.
    Keyword arguments (``sum(x, dim=s)``) are kept so the resolver can give a hint.
    Unicode ``Σ`` is normalised to ``sum`` and ``δ`` to ``delta``.
    """

    name: str
    args: tuple[Expr, ...]
    subscript: LegList | None = None
    relabels: tuple[LegList, ...] = ()
    kwargs: tuple[tuple[str, Expr], ...] = ()
    pos: Pos = NOPOS
    name_pos: Pos = NOPOS


@dataclass(frozen=True)
class Group:
    """A parenthesised expression with optional leg lists: ``(e)``, ``(A ⊗ B)[(i, k) -> r]``."""

    expr: Expr
    relabels: tuple[LegList, ...] = ()
    pos: Pos = NOPOS


@dataclass(frozen=True)
class Deriv:
    """``d(f)/d(X)`` or ``d(f)/d(X[i -> p])`` (also ``∂``). ``wrt`` is a Ref; ``relabels`` follow."""

    expr: Expr
    wrt: Ref
    relabels: tuple[LegList, ...] = ()
    pos: Pos = NOPOS


@dataclass(frozen=True)
class Expectation:
    """``E[x ~ N(mean, cov)](expr)`` (also ``𝔼`` and ``𝒩``): the expectation of ``expr`` over a
    Gaussian tensor ``x`` (docs/language.md). ``mean`` and ``cov`` are expressions; the
    number ``0`` as the mean and the name ``I`` as the covariance are the special spellings of
    the zero mean and the identity covariance (resolved in ``frontend/exprs.py``)."""

    var: str
    mean: Expr
    cov: Expr
    expr: Expr
    relabels: tuple[LegList, ...] = ()
    pos: Pos = NOPOS
    var_pos: Pos = NOPOS


@dataclass(frozen=True)
class BinOp:
    """A binary operator. ``op`` is normalised: ``@`` (also ·), ``*`` (also ⊙), ``*[]`` (with
    ``legs``; also ⊙[..]), ``outer`` (⊗), ``/``, ``+``, ``-``, ``^``. ``spelling`` is the source token."""

    op: str
    left: Expr
    right: Expr
    legs: LegList | None = None
    spelling: str = ""
    pos: Pos = NOPOS


@dataclass(frozen=True)
class Neg:
    expr: Expr
    pos: Pos = NOPOS


@dataclass(frozen=True)
class Project:
    """``e -> [l1, ..., lk]``: keep and order these legs, sum the rest."""

    expr: Expr
    legs: LegList
    pos: Pos = NOPOS


@dataclass(frozen=True)
class Block:
    """``{ stmt; stmt; final_expr }`` (a def body)."""

    stmts: tuple[Stmt, ...]
    result: Expr
    pos: Pos = NOPOS


@dataclass(frozen=True)
class ValueCompare:
    """``e1 > e2`` (``>= < <= == !=``) as the argument of ``iverson(...)``: 1 where it holds."""

    left: Expr
    op: str
    right: Expr
    pos: Pos = NOPOS


Expr = (
    Num | Str | Range | SizeOf | Ref | Call | Group | Deriv | Expectation | BinOp | Neg | Project
    | ValueCompare
)


# ---------------------------------------------------------------- statements
@dataclass(frozen=True)
class DimDecl:
    """``dim n, d = 768, mn = m * n`` : one entry per name, value ``None`` when symbolic."""

    entries: tuple[tuple[str, SizeExpr | None, Pos], ...]
    pos: Pos = NOPOS


@dataclass(frozen=True)
class LegDecl:
    """``leg i, j : n [batch]``."""

    names: tuple[str, ...]
    size: SizeExpr
    batch: bool = False
    pos: Pos = NOPOS


@dataclass(frozen=True)
class Modifier:
    """``symmetric(i, j)``, ``antisymmetric(...)``, ``symmetric((i, j), (k, l))`` (groups of
    length > 1 are blocks), ``isometry(k)``, ``const``. ``args`` is a tuple of groups; each group
    is a tuple of leg names (a plain leg is a group of one)."""

    kind: str
    args: tuple[tuple[str, ...], ...] = ()
    pos: Pos = NOPOS


@dataclass(frozen=True)
class TensorDecl:
    """``W, V: [out, inp: 784] mods`` optionally ``= expr`` (a typed binding, one name only)."""

    names: tuple[str, ...]
    sig: tuple[LegName, ...]
    modifiers: tuple[Modifier, ...] = ()
    value: Expr | None = None
    pos: Pos = NOPOS


@dataclass(frozen=True)
class Assign:
    """``name = expr``."""

    name: str
    value: Expr
    pos: Pos = NOPOS


@dataclass(frozen=True)
class Param:
    """A def parameter: ``x`` or ``x: [t, d]``; a rule's pattern tensor may carry modifiers
    (``S: [i, j] symmetric(i, j)``)."""

    name: str
    sig: tuple[LegName, ...] | None = None
    pos: Pos = NOPOS
    modifiers: tuple[Modifier, ...] = ()


@dataclass(frozen=True)
class Def:
    """``def f[ax](x: [..], y) -> [..] = expr`` / ``{ block }`` / opaque (body None)."""

    name: str
    leg_params: tuple[str, ...]
    params: tuple[Param, ...]
    returns: tuple[LegName, ...] | None
    body: Expr | Block | None
    pos: Pos = NOPOS


@dataclass(frozen=True)
class Check:
    left: Expr
    right: Expr
    pos: Pos = NOPOS


@dataclass(frozen=True)
class Show:
    expr: Expr
    pos: Pos = NOPOS


@dataclass(frozen=True)
class Rule:
    """``rule name(A: [i, j], ...): lhs => rhs`` (docs/language.md)."""

    name: str
    params: tuple[Param, ...]
    lhs: Expr
    rhs: Expr
    pos: Pos = NOPOS


Stmt = DimDecl | LegDecl | TensorDecl | Assign | Def | Check | Show | Rule


@dataclass(frozen=True)
class Program:
    stmts: tuple[Stmt, ...]
    source: str = field(default="", repr=False)
