"""Expression forms beyond the core, for ``ExprResolver``: Gaussian expectations
``E[x ~ N(mu, C)](e)``, the bounded ``expand(e, max_terms=N)``, ``sym_grad(f, S)`` and
``simplify[groups](e)`` with user rule groups (docs/language.md)."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import sympy as sp

from symtn.errors import LegError, NameResolutionError, SymtnError
from symtn.frontend import ast
from symtn.frontend.scope import Env, Hooks, Value, did_you_mean
from symtn.ir.nodes import Node, Tensor

if TYPE_CHECKING:
    from symtn.frontend.exprs import Diagnostics

CONVENTIONS = ("projected", "constrained")

#: Calls that keep a network polynomial in their arguments (the others are function bubbles).
POLYNOMIAL_CALLS = frozenset({"sum", "mean", "var", "trace", "pow", "expand", "simplify", "frozen"})


class ExtraForms:
    """Mixin of ``ExprResolver``: the resolver methods of the forms above."""

    diag: Diagnostics
    hooks: Hooks
    rules: dict[str, list[Any]]

    if TYPE_CHECKING:

        def expr(self, env: Env, e: ast.Expr) -> Value: ...

        def _relabels(self, env: Env, v: Value, lls: tuple[ast.LegList, ...], what: str) -> Value: ...

    def _expectation(self, env: Env, e: ast.Expectation) -> Value:
        """``E[x ~ N(mu, C)](body)``: Wick pairings via the ``expectation`` hook.

        See docs/language.md, "Expectations over Gaussians".

        ``x`` must be a declared tensor; the mean ``0`` and the covariance ``I`` (when no value
        is named ``I``) are the zero mean and identity covariance. Errors about the mean, the
        covariance or a non-polynomial body point at that part of the source.
        """
        found = env.lookup_value(e.var)
        var_span = self.diag.span(e.var_pos)
        if found is None:
            raise NameResolutionError(
                f"unknown tensor {e.var}",
                code="E101",
                span=var_span,  # type: ignore[arg-type]
                help=did_you_mean(e.var, env.all_value_names()),
            )
        if not isinstance(found.node, Tensor):
            raise LegError(
                f"E[{e.var} ~ ...]: {e.var} is not a declared tensor",
                code="E231",
                span=var_span,  # type: ignore[arg-type]
                help=f"declare the Gaussian variable, e.g. {e.var}: [i], and use it in the expression",
            )
        x = found.node.variable
        mean = None
        if not (isinstance(e.mean, ast.Num) and sp.Rational(e.mean.text) == 0):
            mean = self.expr(env, e.mean).node
        cov = None
        if not (isinstance(e.cov, ast.Ref) and e.cov.name == "I" and not e.cov.legs
                and env.lookup_value("I") is None):
            cov = self.expr(env, e.cov).node
        body = self.expr(env, e.expr)
        if self.hooks.expectation is None:
            from symtn.errors import NoRuleError

            raise NoRuleError("expectations are not available in this build", code="E233")
        try:
            node = self.hooks.expectation(body.node, x, mean, cov)
        except SymtnError as err:
            part: ast.Expr = e.expr
            if err.code == "E233":
                part = _bubble_around(e.expr, e.var) or e.expr
            elif err.message.startswith("the mean") or " of the mean " in err.message:
                part = e.mean
            elif err.message.startswith("the covariance") or " of the covariance " in err.message:
                part = e.cov
            raise err.with_span(self.diag.span(part.pos)) from None  # type: ignore[arg-type]
        return self._relabels(env, Value(node, body.order), e.relabels, "E[...](...)")

    def _expand_budget(self, env: Env, e: ast.Call) -> Value:
        """``expand(e, max_terms=N)``: the path expansion with a term budget (E420 above it)."""
        (k, v), *more = e.kwargs
        if more or k != "max_terms" or not isinstance(v, ast.Num) or not v.text.isdigit():
            raise LegError(
                "expand() takes one keyword argument, max_terms=<integer>",
                code="E212",
                help="write expand(e) or expand(e, max_terms=100000)",
            )
        if len(e.args) != 1:
            raise LegError("expand takes one argument", code="E102")
        node = self.hooks.expand(self.expr(env, e.args[0]).node, int(v.text))
        return self._relabels(env, Value(node), e.relabels, "expand(...)")

    def _subst(self, env: Env, e: ast.Call) -> Value:
        """``subst(e, T = 0, x = y)``: ``e`` with the named tensors replaced, then simplified."""
        from symtn.ir.subst import substitute

        if len(e.args) != 1 or not e.kwargs:
            raise LegError(
                "subst takes one expression and NAME = value pairs",
                code="E102",
                help="write subst(e, T = 0) or subst(e, X = delta[i, j])",
            )
        f = self.expr(env, e.args[0])
        values: dict[str | Tensor, Node] = {}
        for k, v in e.kwargs:
            var = self.expr(env, ast.Ref(k, (), pos=v.pos)).node
            if not isinstance(var, Tensor):
                raise LegError(
                    f"subst({k} = ...): {k} is not a declared tensor",
                    code="E210",
                    help="substitute declared tensors; a binding is already an expression",
                )
            values[var.name] = self.expr(env, v).node
        node = self.hooks.simplify(substitute(f.node, values))
        return self._relabels(env, Value(node, f.order), e.relabels, "subst(...)")

    def _taylor(self, env: Env, e: ast.Call) -> Value:
        """``taylor(f, x, eps, k)``: the k-th order Taylor polynomial of ``f`` around ``x`` in the
        direction ``eps`` (``symtn.diff.taylor``); errors point at the offending argument."""
        form = "write taylor(f, x, eps, k): f an expression, x a tensor, eps with x's legs, k a whole number"
        if len(e.args) != 4 or e.kwargs:
            raise LegError(f"taylor takes 4 arguments, got {len(e.args)}", code="E102",
                           span=self.diag.span(e.pos), help=form)  # type: ignore[arg-type]
        f_arg, x_arg, eps_arg, k_arg = e.args
        if not isinstance(k_arg, ast.Num) or not k_arg.text.isdigit():
            raise LegError("taylor: the order k must be a whole number >= 0", code="E102",
                           span=self.diag.span(k_arg.pos), help=form)  # type: ignore[arg-type,attr-defined]
        x = self.expr(env, x_arg).node
        if not isinstance(x_arg, ast.Ref) or x_arg.legs or not isinstance(x, Tensor) or x.is_const:
            raise LegError("taylor: expand around a declared (non-const) tensor", code="E210",
                           span=self.diag.span(x_arg.pos), help=form)  # type: ignore[arg-type,attr-defined]
        f = self.expr(env, f_arg)
        eps = self.expr(env, eps_arg).node
        if self.hooks.taylor is None:
            from symtn.errors import NoRuleError

            raise NoRuleError("Taylor polynomials are not available in this build", code="E210")
        try:
            node = self.hooks.taylor(f.node, x, eps, int(k_arg.text))
        except SymtnError as err:
            raise err.with_span(self.diag.span(eps_arg.pos)) from None  # type: ignore[arg-type,attr-defined]
        return self._relabels(env, Value(node, f.order), e.relabels, "taylor(...)")

    def _einsum(self, env: Env, e: ast.Call) -> Value:
        """``einsum("ij,jk->ik", A, B)``: numpy's einsum over the operands' leg orders."""
        from symtn.errors import Span
        from symtn.ir.einsum import einsum

        if not e.args or not isinstance(e.args[0], ast.Str):
            raise LegError(
                "einsum takes an einsum string first", code="E102", help='write einsum("ij,jk->ik", A, B)'
            )
        spec = e.args[0]
        ops = [self.expr(env, a).node for a in e.args[1:]]
        try:
            node = einsum(spec.text, *ops)
        except SymtnError as err:  # move the caret from the string onto the program line
            if err.span is None or spec.pos[0] == 0:
                raise
            line, col = spec.pos[0], spec.pos[1] + err.span.column  # after the opening quote
            width = (err.span.end_column or err.span.column + 1) - err.span.column
            span = Span(line, col, line, col + width, text=self.diag.source)
            raise type(err)(err.message, code=err.code, span=span, help=err.help) from None
        return self._relabels(env, Value(node), e.relabels, "einsum(...)")

    def _sym_grad(self, env: Env, e: ast.Call) -> Value:
        """``sym_grad(f, S)``: the gradient by a symmetric tensor, ``(G + G^T) / 2``;
        ``sym_grad(f, S, convention=constrained)``: ``G + G^T - G o I`` (``diff.symmetric``)."""
        conv = "projected"
        for k, v in e.kwargs:
            if k == "convention" and not (isinstance(v, ast.Ref) and not v.legs and v.name in CONVENTIONS):
                raise LegError(
                    "sym_grad(): unknown convention: the conventions are "
                    + " and ".join(CONVENTIONS),
                    code="E216",
                    help="write sym_grad(f, S) or sym_grad(f, S, convention=constrained)",
                )
            if k != "convention":
                raise LegError(
                    f"sym_grad() takes no keyword argument {k}=",
                    code="E212",
                    help="write sym_grad(f, S) or sym_grad(f, S, convention=constrained)",
                )
            assert isinstance(v, ast.Ref)
            conv = v.name
        if len(e.args) != 2:
            raise LegError(f"sym_grad takes 2 arguments (f, S), got {len(e.args)}", code="E102")
        f = self.expr(env, e.args[0])
        wrt = e.args[1]
        var = self.expr(env, wrt).node
        if not isinstance(wrt, ast.Ref) or wrt.legs or not isinstance(var, Tensor) or var.is_const:
            raise LegError("sym_grad(f, S): S must be a declared, non-const tensor", code="E210")
        if not any(fact[0] in ("symmetric", "antisymmetric") for fact in var.facts):
            raise LegError(
                f"sym_grad(f, {wrt.name}): {wrt.name} is not declared symmetric or antisymmetric",
                code="E210",
                help=f"declare it, e.g. {wrt.name}: [i, j] symmetric(i, j), or use d(f)/d({wrt.name})",
            )
        slots = tuple(s for s, _ in var.slots)
        new = choose_new_legs(f.node.legset, slots)
        node = self.hooks.sym_grad(f.node, var, new, conv)
        order = (f.order or f.node.legs) + new
        return self._relabels(env, Value(node, tuple(order)), e.relabels, "sym_grad(...)")

    def _simplifier(self, groups: list[str] | None) -> Callable[[Node], Node]:
        """``simplify`` with the user rules declared so far, or with the named groups only."""
        if groups:
            for g in groups:
                if g not in self.rules:
                    declared = ", ".join(self.rules) or "none"
                    raise NameResolutionError(
                        f"unknown rule group {g}",
                        code="E101",
                        help=did_you_mean(g, list(self.rules)) or f"rule groups declared so far: {declared}",
                    )
            chosen = [r for g in dict.fromkeys(groups) for r in self.rules[g]]
        else:
            chosen = [r for group in self.rules.values() for r in group]
        hook = self.hooks.simplify_rules
        if not chosen or hook is None:
            return self.hooks.simplify
        return lambda node: hook(node, chosen)


def _mentions(e: ast.Expr, name: str) -> bool:
    """True if the expression ``e`` refers to the value ``name`` (syntactically)."""
    if isinstance(e, ast.Ref):
        return e.name == name
    children: list[ast.Expr] = []
    if isinstance(e, ast.Call):
        children = list(e.args)
    elif isinstance(e, (ast.Group, ast.Neg, ast.Project, ast.Deriv, ast.Expectation)):
        children = [e.expr]
    elif isinstance(e, ast.BinOp):
        children = [e.left, e.right]
    return any(_mentions(c, name) for c in children)


def _bubble_around(e: ast.Expr, name: str) -> ast.Expr | None:
    """The innermost non-polynomial call (or division by) around ``name`` in ``e``, for a caret."""
    inner: ast.Expr | None = None
    if isinstance(e, ast.Call):
        for a in e.args:
            inner = inner or _bubble_around(a, name)
        if inner is None and e.name not in POLYNOMIAL_CALLS and _mentions(e, name):
            return e
    elif isinstance(e, ast.BinOp):
        inner = _bubble_around(e.left, name) or _bubble_around(e.right, name)
        if inner is None and e.op == "/" and _mentions(e.right, name):
            return e
    elif isinstance(e, (ast.Group, ast.Neg, ast.Project)):
        inner = _bubble_around(e.expr, name)
    return inner


def choose_new_legs(taken: frozenset[str], slots: tuple[str, ...]) -> tuple[str, ...]:
    """Each of X's legs keeps its name unless taken, else the first free prime (docs/language.md)."""
    chosen: list[str] = []
    for leg in slots:
        name = leg
        while name in taken or name in chosen:
            name += "'"
        chosen.append(name)
    return tuple(chosen)


