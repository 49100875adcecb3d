"""Programs: text -> resolved bindings, checks and shows, wired to the later stages.

``parse(text)`` and ``load(path)`` return a :class:`Program` whose bindings are IR expressions.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from symtn.checking import CheckResult, decide
from symtn.diff import diff
from symtn.errors import SymtnError, SymtnSyntaxError
from symtn.frontend.ast import Deriv
from symtn.frontend.resolve import CheckStmt, Resolved, ShowStmt, resolve
from symtn.frontend.scope import Hooks
from symtn.frontend.syntax import parse_text
from symtn.frontend.written import written_legs
from symtn.ir.nodes import Node, Tensor
from symtn.ir.order import binding_order, with_order
from symtn.ir.printer import to_notation
from symtn.ir.recipes import carry
from symtn.rewrite import expand, factor, simplify
from symtn.rewrite.gaussian import expectation
from symtn.rewrite.user_rules import UserRule
from symtn.rulecheck import rule as make_rule


def _diff_hook(f: Node, var: Node, new_legs: tuple[str, ...]) -> Node:
    assert isinstance(var, Tensor)
    return diff(f, var, new_legs, ordered=False)  # Program.order lays bindings out


def _sym_grad_hook(f: Node, var: Node, new_legs: tuple[str, ...], convention: str) -> Node:
    return diff(f, var, new_legs, symmetric=convention, ordered=False)


def _simplify_rules_hook(node: Node, rules: Sequence[UserRule]) -> Node:
    return simplify(node, rules=rules)


def _expectation_hook(e: Node, x: Node, mean: Node | None, cov: Node | None) -> Node:
    assert isinstance(x, Tensor)
    return expectation(e, x, mean, cov)


def _taylor_hook(f: Node, x: Node, eps: Node, k: int) -> Node:
    from symtn.diff.taylor import taylor

    assert isinstance(x, Tensor)
    return taylor(f, x, eps, k)


HOOKS = Hooks(
    diff=_diff_hook,
    expand=expand,
    simplify=simplify,
    factor=factor,
    sym_grad=_sym_grad_hook,
    simplify_rules=_simplify_rules_hook,
    make_rule=make_rule,
    expectation=_expectation_hook,
    taylor=_taylor_hook,
)


@dataclass
class CheckOutcome:
    """A check statement with its result."""

    stmt: CheckStmt
    result: CheckResult


class Program:
    """A resolved symtn program.

    Attributes:
        source: the program text.
        path: the file it came from, if any.
        bindings: name -> IR expression for every ``name = ...`` / typed binding, in order.
        tensors: name -> declared tensor variable.
        warnings: lints (W301-W303) raised while resolving.
        rules: rule group name -> the program's user rewrite rules of that group, in order
            (pass them to ``symtn.simplify(e, rules=...)``).
    """

    def __init__(self, resolved: Resolved, source: str, path: str | None = None) -> None:
        self.resolved = resolved
        self.source = source
        self.path = path
        self._visiting: set[str] = set()
        self.bindings: dict[str, Node] = {
            k: with_order(v.node, self.order(k)) for k, v in resolved.bindings.items()
        }
        for k, v in resolved.bindings.items():  # laid out anew, a derivative is still one
            carry(v.node, self.bindings[k])
        self.tensors: dict[str, Tensor] = dict(resolved.tensors)
        self.warnings: list[SymtnError] = list(resolved.warnings)
        self.rules: dict[str, list[UserRule]] = {k: list(v) for k, v in resolved.rules.items()}

    def __getitem__(self, name: str) -> Node:
        if name in self.bindings:
            return self.bindings[name]
        if name in self.tensors:
            return self.tensors[name]
        raise KeyError(name)

    def order(self, name: str) -> tuple[str, ...]:
        """The leg order of a binding (docs/reference/leg-order.md).

        Declared (typed binding, ``-> [..]``, a derivative's ``f`` then ``X`` order), else the
        declaration order of the legs (``symtn.ir.order.declaration_order``). ``self[name].legs``,
        ``symtn eval`` and generated code all use it.
        """
        v = self.resolved.bindings.get(name)
        if v is None:
            return self.tensors[name].legs if name in self.tensors else self[name].legs
        src = self.resolved.sources.get(name)
        if src is None or name in self._visiting:  # `x = x + 1`: the earlier x is not kept
            return binding_order(v.node.legs, v.order, [])
        self._visiting.add(name)
        try:
            written = written_legs(src, self._lookup)
            declared = v.order
            wrt = getattr(src, "wrt", None)
            if isinstance(src, Deriv) and not src.relabels and declared is not None and wrt is not None:
                var = self.resolved.tensors.get(wrt.name)
                k = len(var.slots) if var is not None else 0
                if 0 < k <= len(declared):  # d(f)/d(X): f's own order, then X's new legs
                    f_legs = declared[: len(declared) - k]
                    f_order = binding_order(f_legs, None, written_legs(src.expr, self._lookup))
                    declared = (*f_order, *declared[len(declared) - k :])
            return binding_order(v.node.legs, declared, written)
        finally:
            self._visiting.discard(name)

    def node(self, name: str) -> Node:
        """A binding's expression as resolved, before ``with_order`` (same value as ``self[name]``;
        for backends that take the layout from ``order(name)``)."""
        v = self.resolved.bindings.get(name)
        return v.node if v is not None else self[name]

    def _lookup(self, name: str) -> list[str]:
        if name in self.resolved.bindings and name in self.resolved.sources:
            return list(self.order(name))
        t = self.resolved.tensors.get(name)
        return list(t.legs) if t is not None else []

    @property
    def statements(self) -> list[CheckStmt | ShowStmt]:
        return self.resolved.statements

    def check_all(self) -> list[CheckOutcome]:
        """Decide every ``check`` statement."""
        return [
            CheckOutcome(c, decide(c.lhs.node, None if _is_zero_rhs(c) else c.rhs.node, rules=c.rules))
            for c in self.resolved.checks
        ]


def _is_zero_rhs(c: CheckStmt) -> bool:
    return c.rhs.node.legset != c.lhs.node.legset and not c.rhs.node.sig


def parse(text: str | bytes, filename: str | None = None) -> Program:
    """Parse and resolve a program (raises a SymtnError subclass with a caret diagnostic)."""
    if isinstance(text, bytes):
        try:
            text = text.decode("utf-8")
        except UnicodeDecodeError as err:
            raise SymtnSyntaxError(
                f"{filename or 'input'} is not UTF-8 text (byte {err.start})", code="E000"
            ) from None
    if "\x00" in text:
        raise SymtnSyntaxError(f"{filename or 'input'} is a binary file, not symtn text", code="E000")
    tree = parse_text(text, filename)
    try:
        return Program(resolve(tree, HOOKS), text, filename)
    except RecursionError:
        # the grammar accepted the nesting but resolving or simplifying it recursed too deep
        raise SymtnSyntaxError(
            "expression nested too deeply",
            code="E015",
            help="split the expression with intermediate bindings",
        ) from None


def load(path: str | Path) -> Program:
    """Read and parse a ``.stn`` file."""
    p = Path(path)
    try:
        data = p.read_bytes()
    except OSError as err:
        raise SymtnError(f"cannot read {p}: {err.strerror}", code="E000") from None
    return parse(data, str(p))


def show_node(node: Node, rules: Sequence[UserRule] = ()) -> Node:
    """The node ``show`` prints: ``simplify(node)`` (with user ``rules``)."""
    return simplify(node, rules=rules)


def show_text(node: Node, order: Sequence[str] | None = None, rules: Sequence[UserRule] = ()) -> str:
    """The canonical notation of the simplified expression (with ``rules``), with its legs."""
    s = show_node(node, rules)
    sizes = s.sizes
    legs = ", ".join(f"{leg}: {sizes[leg]}" for leg in (order or s.legs))
    return f"{to_notation(s)}    : [{legs}]"
