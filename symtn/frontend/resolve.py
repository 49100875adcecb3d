"""Statements: declarations, bindings, defs, checks and shows (docs/language.md)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import sympy as sp

from symtn.errors import LegError, NameResolutionError, SizeError, SymtnError
from symtn.frontend import ast
from symtn.frontend.exprs import Diagnostics, ExprResolver, check_signature, x_size
from symtn.frontend.scope import Env, FuncDef, Hooks, Value
from symtn.ir.nodes import Node, Tensor, Zero, size_str


@dataclass
class CheckStmt:
    """A ``check lhs == rhs`` statement, resolved."""

    lhs: Value
    rhs: Value
    text: str
    line: int
    rules: tuple[Any, ...] = ()
    """User rules declared before the check (used when proving it)."""


@dataclass
class ShowStmt:
    """A ``show e`` statement, resolved."""

    value: Value
    text: str
    line: int


@dataclass
class Resolved:
    """The result of resolving a program: tables, bindings in order, checks, shows, lints."""

    env: Env
    bindings: dict[str, Value] = field(default_factory=dict)
    tensors: dict[str, Tensor] = field(default_factory=dict)
    checks: list[CheckStmt] = field(default_factory=list)
    shows: list[ShowStmt] = field(default_factory=list)
    statements: list[CheckStmt | ShowStmt] = field(default_factory=list)
    warnings: list[SymtnError] = field(default_factory=list)
    rules: dict[str, list[Any]] = field(default_factory=dict)
    sources: dict[str, Any] = field(default_factory=dict)  # binding name -> its expression AST


def _snippet(source: str, pos: ast.Pos) -> str:
    lines = source.splitlines()
    if pos[0] < 1 or pos[0] > len(lines):
        return ""
    if pos[2] == pos[0]:
        return lines[pos[0] - 1][pos[1] - 1 : pos[3] - 1]
    return lines[pos[0] - 1][pos[1] - 1 :]


FACT_KINDS = ("symmetric", "antisymmetric", "isometry", "const", "positive", "nonnegative")


def _facts(
    name: str, slots: tuple[str, ...], mods: tuple[ast.Modifier, ...]
) -> tuple[tuple[object, ...], ...]:
    facts: list[tuple[object, ...]] = []
    for m in mods:
        if m.kind not in FACT_KINDS:
            raise LegError(f"unknown modifier {m.kind}", code="E112")
        for group in m.args:
            for leg in group:
                if leg not in slots:
                    raise LegError(
                        f"modifier {m.kind} names {leg}, which is not a leg of {name} [{', '.join(slots)}]",
                        code="E112",
                    )
        if m.kind in ("const", "positive", "nonnegative"):
            facts.append((m.kind,))
        elif m.kind == "isometry":
            facts.append(("isometry", tuple(leg for g in m.args for leg in g)))
        else:
            sizes = {len(g) for g in m.args}
            if len(sizes) > 1:
                raise LegError(f"{m.kind}: blocks must have equal length", code="E112")
            facts.append((m.kind, tuple(tuple(g) for g in m.args)))
    return tuple(facts)


class Resolver:
    """Resolves a parsed program statement by statement."""

    def __init__(self, program: ast.Program, hooks: Hooks) -> None:
        self.program = program
        self.diag = Diagnostics(program.source)
        self.exprs = ExprResolver(self.diag, hooks)
        self.env = Env()
        self.out = Resolved(self.env)
        self.exprs.rules = self.out.rules

    def run(self) -> Resolved:
        for stmt in self.program.stmts:
            self.env.inferred = {}
            try:
                self.statement(stmt)
            except SymtnError as err:
                if err.span is None:
                    raise err.with_span(self.diag.span(stmt.pos)) from None  # type: ignore[arg-type]
                raise
        # tensors declared inside expressions (the sites of chain(...)) are program tensors too
        for name, value in self.env.values.items():
            node = value.node
            if isinstance(node, Tensor) and node.name == name == value.name:
                self.out.tensors.setdefault(name, node)
        self.out.warnings = self.diag.warnings
        return self.out

    def _declare_value(self, name: str, value: Value, pos: ast.Pos) -> None:
        if name in self.env.funcs:
            raise NameResolutionError(f"{name} is already a function", code="E101")
        if name in self.out.tensors:
            self.exprs.diag.warn(
                "W304",
                f"{name} is declared again: later uses mean the new {name}, earlier ones the first",
                pos,
                help="give the new tensor or value another name",
            )
        self.env.values[name] = value

    def statement(self, s: ast.Stmt) -> None:
        env = self.env
        if isinstance(s, ast.DimDecl):
            for name, size_e, _pos in s.entries:
                size = (
                    sp.Symbol(name, integer=True, positive=True) if size_e is None else env.size_expr(size_e)
                )
                env.dims[name] = size
                env.legs.setdefault(name, size)
            return
        if isinstance(s, ast.LegDecl):
            size = env.size_expr(s.size)
            for name in s.names:
                base = name.rstrip("'")
                if base != name:
                    bs = env.declared_size(base)
                    if bs is not None and bs != size:
                        raise SizeError(
                            f"primed leg {name} must have the size of {base} ({size_str(bs)}), "
                            f"not {size_str(size)}",
                            code="E201",
                        )
                old = env.declared_size(name)
                if old is not None and old != size and sp.simplify(old - size) != 0:
                    self.exprs.diag.warn(
                        "W304",
                        f"leg {name} is declared again with size {size_str(size)} (it was "
                        f"{size_str(old)}): tensors declared before keep the old size",
                        s.pos,
                        help="give the new leg another name",
                    )
                env.legs[name] = size
                if s.batch:
                    env.batch.add(name)
            return
        if isinstance(s, ast.TensorDecl):
            self._tensor_decl(s)
            return
        if isinstance(s, ast.Assign):
            v = self.exprs.expr(env, s.value)
            self._declare_value(s.name, Value(v.node, v.order, s.name), s.pos)
            self.out.bindings[s.name] = env.values[s.name]
            self.out.sources[s.name] = s.value
            return
        if isinstance(s, ast.Def):
            env.funcs[s.name] = FuncDef(s, env)
            return
        if isinstance(s, ast.Check):
            lhs = self.exprs.expr(env, s.left)
            rhs = self.exprs.expr(env, s.right)
            zero_rhs = isinstance(s.right, ast.Num) and sp.Rational(s.right.text) == 0
            if not zero_rhs:
                _same_legs(lhs.node, rhs.node, "check")
            rules = tuple(r for group in self.out.rules.values() for r in group)
            c = CheckStmt(lhs, rhs, _snippet(self.program.source, s.pos), s.pos[0], rules)
            self.out.checks.append(c)
            self.out.statements.append(c)
            return
        if isinstance(s, ast.Show):
            v = self.exprs.expr(env, s.expr)
            sh = ShowStmt(v, _snippet(self.program.source, s.pos), s.pos[0])
            self.out.shows.append(sh)
            self.out.statements.append(sh)
            return
        if isinstance(s, ast.Rule):
            self._rule(s)
            return
        raise SymtnError(f"unsupported statement {type(s).__name__}")

    def _rule(self, s: ast.Rule) -> None:
        """``rule name(A: [i, j], ...): lhs => rhs``: pattern tensors scoped to the rule; other
        names are the program's (a rule naming declared tensors is a value constraint)."""
        make = self.exprs.hooks.make_rule
        if make is None:
            raise SymtnError(f"rule {s.name}: user rewrite rules are not available here", code="E120")
        scope = self.env.child()
        patterns: list[Tensor] = []
        for p in s.params:
            if p.sig is None:
                raise LegError(
                    f"rule {s.name}: pattern tensor {p.name} needs its legs",
                    code="E204",
                    help=f"write {p.name}: [i, j] in the rule's parameters",
                )
            slots = []
            for x in p.sig:
                size = x_size(scope, x)
                scope.bind_leg(x.name, size)
                slots.append((x.name, size))
            names = tuple(n for n, _ in slots)
            if len(set(names)) != len(names):
                raise LegError(f"duplicate leg in pattern tensor {p.name}", code="E207")
            facts = _facts(p.name, names, p.modifiers)
            if ("const",) in facts:
                raise LegError(
                    f"rule {s.name}: pattern tensor {p.name} cannot be const",
                    code="E214",
                    help="a pattern tensor stands for any sub-expression; name a declared const tensor "
                    "instead, or use symmetric(...), antisymmetric(...), isometry(...)",
                )
            t = Tensor(p.name, tuple(slots), names, facts)
            scope.values[p.name] = Value(t, names, p.name)
            patterns.append(t)
        lhs = self.exprs.expr(scope, s.lhs).node
        rhs = self.exprs.expr(scope, s.rhs).node
        if isinstance(s.rhs, ast.Num) and sp.Rational(s.rhs.text) == 0 and lhs.sig:
            rhs = Zero(lhs.sig)
        _same_legs(lhs, rhs, f"rule {s.name}")
        text = _snippet(self.program.source, s.pos)
        rule = make(lhs, rhs, tuple(patterns), s.name, text=text, line=s.pos[0])
        self.out.rules.setdefault(s.name, []).append(rule)

    def _tensor_decl(self, s: ast.TensorDecl) -> None:
        env = self.env
        slots: list[tuple[str, sp.Expr]] = []
        for x in s.sig:
            if x.size is not None:
                size = env.size_expr(x.size)
                env.bind_leg(x.name, size)
                if env.declared_size(x.name) is None:
                    env.legs[x.name] = size
            else:
                size = env.need_size(x.name)
            slots.append((x.name, size))
        names = tuple(n for n, _ in slots)
        dup = sorted({n for n in names if names.count(n) > 1})
        if dup:
            raise LegError(f"duplicate leg {dup[0]} in a signature", code="E207")
        facts = _facts(", ".join(s.names), names, s.modifiers)
        if s.value is not None:
            if len(s.names) != 1:
                raise LegError("a typed binding names one value", code="E204")
            v = self.exprs.expr(env, s.value)
            check_signature(v.node, names, f"{s.names[0]}")
            sizes = v.node.sizes
            for leg, size in slots:
                if sizes[leg] != size and sp.simplify(sizes[leg] - size) != 0:
                    raise SizeError(
                        f"leg {leg} of {s.names[0]} has size {size_str(sizes[leg])}, "
                        f"declared {size_str(size)}",
                        code="E201",
                    )
            value = Value(v.node, names, s.names[0])
            self._declare_value(s.names[0], value, s.pos)
            self.out.bindings[s.names[0]] = value
            return
        for name in s.names:
            t = Tensor(name, tuple(slots), names, facts)
            self._declare_value(name, Value(t, names, name), s.pos)
            self.out.tensors[name] = t


def _same_legs(lhs: Node, rhs: Node, what: str) -> None:
    """E206 unless both sides have the same free legs with equal sizes."""
    if lhs.legset != rhs.legset:
        raise LegError(
            f"{what} sides have different legs: [{', '.join(lhs.legs)}] and [{', '.join(rhs.legs)}]",
            code="E206",
        )
    ls, rs = lhs.sizes, rhs.sizes
    for leg in ls:
        if ls[leg] != rs[leg] and sp.simplify(ls[leg] - rs[leg]) != 0:
            raise LegError(f"{what} sides give leg {leg} sizes {ls[leg]} and {rs[leg]}", code="E206")


def run_block(exprs: ExprResolver, scope: Env, block: ast.Block) -> Value:
    """Run a def's block body in ``scope`` and return its final expression."""
    for st in block.stmts:
        if isinstance(st, ast.Assign):
            v = exprs.expr(scope, st.value)
            scope.values[st.name] = Value(v.node, v.order, st.name)
        elif isinstance(st, ast.TensorDecl) and st.value is not None and len(st.names) == 1:
            v = exprs.expr(scope, st.value)
            want = tuple(scope.leg(x.name) for x in st.sig)
            check_signature(v.node, want, st.names[0])
            scope.values[st.names[0]] = Value(v.node, want, st.names[0])
        else:
            raise SymtnError("a def block holds bindings and ends with an expression", code="E001")
    return exprs.expr(scope, block.result)


def resolve(program: ast.Program, hooks: Hooks) -> Resolved:
    """Resolve a parsed program into IR bindings, checks and shows (raises SymtnError)."""
    return Resolver(program, hooks).run()
