"""Name tables of a program: sizes, legs, values, functions; statement-local leg inference."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from difflib import get_close_matches
from typing import Any

import sympy as sp

from symtn.errors import LegError, NameResolutionError, SizeError, SymtnError
from symtn.frontend import ast
from symtn.ir.nodes import Node, size_str


@dataclass
class Value:
    """A resolved expression: its IR node and, when the user wrote it, its leg order.

    ``order`` is set for declared tensors, typed bindings, ``-> [...]`` projections, functions
    with a return signature and derivatives; a positional relabel needs it (E115).
    """

    node: Node
    order: tuple[str, ...] | None = None
    name: str | None = None


@dataclass
class FuncDef:
    """A user ``def``: leg parameters, parameters, optional return signature, body or opaque."""

    ast: ast.Def
    env: Env


@dataclass
class Hooks:
    """Later stages the resolver calls for ``d(f)/d(X)``, ``expand(e)``, ``simplify(e)``, ``factor(e)``,
    ``rule`` and ``E[x ~ N(mu, C)](e)`` (``expectation(e, x, mu, C)``, None standing for ``0`` and ``I``).

    The frontend does not import them (imports flow forward); ``symtn.program`` wires them in.
    """

    diff: Callable[[Node, Node, tuple[str, ...]], Node]
    expand: Callable[..., Node]  # (node[, max_terms]) -> the path expansion
    simplify: Callable[[Node], Node]
    factor: Callable[[Node], Node]
    sym_grad: Callable[[Node, Node, tuple[str, ...], str], Node]
    simplify_rules: Callable[[Node, Sequence[Any]], Node] | None = None
    """``simplify(e)`` with user rewrite rules (``rule`` statements)."""
    make_rule: Callable[..., Any] | None = None
    """Checks and builds a user rule: ``(lhs, rhs, patterns, name, text=, line=) -> rule``."""
    expectation: Callable[[Node, Node, Node | None, Node | None], Node] | None = None
    taylor: Callable[[Node, Node, Node, int], Node] | None = None
    """``taylor(f, x, eps, k)``: the k-th order Taylor polynomial (``symtn.diff.taylor``)."""


@dataclass
class Env:
    """Global tables of one program (dims, legs, values, functions) plus the current scope."""

    dims: dict[str, sp.Expr] = field(default_factory=dict)
    legs: dict[str, sp.Expr] = field(default_factory=dict)
    batch: set[str] = field(default_factory=set)
    values: dict[str, Value] = field(default_factory=dict)
    funcs: dict[str, FuncDef] = field(default_factory=dict)
    parent: Env | None = None
    leg_alias: dict[str, str] = field(default_factory=dict)
    inferred: dict[str, sp.Expr] = field(default_factory=dict)

    def child(self) -> Env:
        """A def-body scope: sees globals, has its own values and leg aliases."""
        return Env(
            dims=self.dims,
            legs=self.legs,
            batch=self.batch,
            values={},
            funcs=self.funcs,
            parent=self.root(),
            leg_alias={},
            inferred=self.inferred,
        )

    def root(self) -> Env:
        return self if self.parent is None else self.parent.root()

    # ------------------------------------------------------------- lookups
    def lookup_value(self, name: str) -> Value | None:
        if name in self.values:
            return self.values[name]
        return self.parent.lookup_value(name) if self.parent else None

    def all_value_names(self) -> list[str]:
        names = list(self.values)
        if self.parent:
            names += self.parent.all_value_names()
        return names

    def leg(self, name: str) -> str:
        """The actual leg a written leg name stands for (leg parameters of a def)."""
        return self.leg_alias.get(name, name)

    def declared_size(self, name: str) -> sp.Expr | None:
        """The size of a declared leg (``leg``, ``dim``, primes inherit), or None."""
        if name in self.legs:
            return self.legs[name]
        if name in self.dims:
            return self.dims[name]
        base = name.rstrip("'")
        if base != name and base:
            return self.declared_size(base)
        return None

    def known_size(self, name: str) -> sp.Expr | None:
        """Declared size, else a size inferred earlier in this statement."""
        s = self.declared_size(name)
        return s if s is not None else self.inferred.get(name)

    def bind_leg(self, name: str, size: sp.Expr) -> None:
        """Check a new leg name against its declaration, or infer its size (E201)."""
        known = self.known_size(name)
        if known is None:
            self.inferred[name] = size
        elif known != size and sp.simplify(known - size) != 0:
            raise SizeError(
                f"leg {name} joins sizes {self.describe(known)} and {self.describe(size)}",
                code="E201",
                help=f"{name} is declared with size {self.describe(known)}, but the leg it names "
                f"has size {self.describe(size)}",
            )

    def describe(self, size: sp.Expr) -> str:
        """A size for messages: the dim's name where one has this value (``d_head = 64``)."""
        if size.is_Integer:
            for name, value in self.dims.items():
                if value == size:
                    return f"{name} = {size_str(size)}"
        return size_str(size)

    def need_size(self, name: str) -> sp.Expr:
        s = self.known_size(name)
        if s is None:
            raise NameResolutionError(
                f"leg {name} has no size",
                code="E111",
                help=f"declare it (leg {name} : SIZE) or write {name}: SIZE",
            )
        return s

    def size_expr(self, e: ast.SizeExpr) -> sp.Expr:
        """Evaluate a size expression (``m * n``, ``768``) to a sympy size (E110)."""
        if isinstance(e, ast.SizeNum):
            return sp.Integer(e.value)
        if isinstance(e, ast.SizeName):
            if e.name in self.dims:
                return self.dims[e.name]
            s = self.declared_size(e.name)
            if s is not None:
                return s
            near = get_close_matches(e.name, list(self.dims), n=1)
            raise NameResolutionError(
                f"unknown size {e.name}",
                code="E110",
                help=f"did you mean {near[0]}?" if near else f"declare it: dim {e.name}",
            )
        left, right = self.size_expr(e.left), self.size_expr(e.right)
        if e.op == "*":
            return left * right
        if e.op == "+":
            return left + right
        if e.op == "-":
            return left - right
        if e.op == "/":
            q = left / right
            if not (q.is_integer or (q.is_Rational and q.q == 1)):  # type: ignore[attr-defined]
                raise SizeError(f"size {size_str(left)} / {size_str(right)} is not an integer", code="E208")
            return q
        raise SymtnError(f"unknown size operator {e.op}", code="E110")


def did_you_mean(name: str, candidates: list[str]) -> str | None:
    near = get_close_matches(name, candidates, n=1, cutoff=0.6)
    return f"did you mean {near[0]}?" if near else None


def legs_of(node: Node) -> str:
    return "[" + ", ".join(node.legs) + "]"


def check_nested(a: Node, b: Node) -> None:
    """Raise E203 unless one leg set contains the other (docs/language.md, "Sums and scalars")."""
    la, lb = a.legset, b.legset
    if la <= lb or lb <= la:
        return
    hint = None
    for x in sorted(la - lb):
        near = get_close_matches(x, sorted(lb - la), n=1, cutoff=0.5)
        if near:
            hint = f"{x} and {near[0]} look alike: is one a typo?"
            break
    raise LegError(
        f"cannot add {legs_of(a)} and {legs_of(b)}: neither leg set contains the other",
        code="E203",
        help=hint
        or "`+` broadcasts only when one side's legs are a subset of the other's; "
        "a deliberate outer sum is written a * ones[j] + b * ones[i]",
    )
