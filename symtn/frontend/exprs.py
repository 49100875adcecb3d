"""Expressions: AST -> IR with leg and size checks (docs/language.md)."""

from __future__ import annotations

import re
from typing import Any

import sympy as sp

from symtn.errors import LegError, NameResolutionError, SizeError, SymtnError, SymtnLint, SymtnWarning
from symtn.frontend import ast, builtins
from symtn.frontend.exprs_extra import ExtraForms, choose_new_legs
from symtn.frontend.relabel import apply_leglist
from symtn.frontend.scope import Env, FuncDef, Hooks, Value, check_nested, did_you_mean
from symtn.ir import algebra as A
from symtn.ir.nodes import Delta, Iverson, Node, Product, Shifted, Tensor, Zero, size_str
from symtn.ir.walk import tensors

"""``sym_grad`` conventions (``symtn.diff.symmetric``); the first is the default."""


class Diagnostics:
    """Source text, span construction and collected lints of one program."""

    def __init__(self, source: str) -> None:
        self.source = source
        self.warnings: list[SymtnError] = []

    def span(self, pos: ast.Pos) -> object:
        from symtn.errors import Span

        if not pos or pos[0] == 0:
            return None
        return Span(pos[0], pos[1], pos[2], pos[3], text=self.source)

    def warn(self, code: str, message: str, pos: ast.Pos, help: str | None = None) -> None:
        from symtn.errors import IGNORED_LINTS

        if code in IGNORED_LINTS:
            return
        w = SymtnLint(message, code=code, span=self.span(pos), help=help)  # type: ignore[arg-type]
        self.warnings.append(w)
        import warnings

        warnings.warn(SymtnWarning(w.render()), stacklevel=2)


def _numbered(a: str, b: str) -> bool:
    """``s1`` and ``s10``: the same stem with different numbers (deliberate, not a typo)."""
    ma, mb = re.fullmatch(r"(.*?)(\d+)'*", a), re.fullmatch(r"(.*?)(\d+)'*", b)
    return ma is not None and mb is not None and ma.group(1) == mb.group(1)


class ExprResolver(ExtraForms):
    """Resolves expressions in an environment; errors get the span of the failing node."""

    def __init__(self, diag: Diagnostics, hooks: Hooks) -> None:
        self.diag = diag
        self.hooks = hooks
        self.rules: dict[str, list[Any]] = {}
        """User rule groups declared so far (filled by the statement resolver)."""

    # ------------------------------------------------------------- entry
    def expr(self, env: Env, e: ast.Expr) -> Value:
        try:
            return self._expr(env, e)
        except SymtnError as err:
            if err.span is None:
                raise err.with_span(self.diag.span(e.pos)) from None  # type: ignore[arg-type]
            raise

    def _expr(self, env: Env, e: ast.Expr) -> Value:
        if isinstance(e, ast.Num):
            return Value(A.const(sp.Rational(e.text)))
        if isinstance(e, ast.Range):
            raise LegError(
                "an index range like 1..4 only stands in chain(G, bond=a, sites=1..4)",
                code="E220",
                help="write chain(G, bond=a, sites=1..N) for a family of sites",
            )
        if isinstance(e, ast.SizeOf):
            leg = env.leg(e.leg)
            size = env.known_size(leg)
            if size is None:
                raise NameResolutionError(f"|{e.leg}|: unknown leg {e.leg}", code="E110")
            return Value(A.const(size))
        if isinstance(e, ast.Ref):
            return self._ref(env, e)
        if isinstance(e, ast.Group):
            v = self.expr(env, e.expr)
            return self._relabels(env, Value(v.node, v.order), e.relabels, "(...)")
        if isinstance(e, ast.Call):
            return self._call(env, e)
        if isinstance(e, ast.Deriv):
            return self._deriv(env, e)
        if isinstance(e, ast.Expectation):
            return self._expectation(env, e)
        if isinstance(e, ast.Neg):
            v = self.expr(env, e.expr)
            return Value(A.scale(v.node, -1), v.order)
        if isinstance(e, ast.Project):
            v = self.expr(env, e.expr)
            keep = [env.leg(it.name) for it in e.legs.items if isinstance(it, ast.LegName)]
            if len(keep) != len(e.legs.items):
                raise LegError("-> [...] takes plain leg names", code="E205")
            return Value(A.project(v.node, keep), tuple(keep))
        if isinstance(e, ast.BinOp):
            return self._binop(env, e)
        if isinstance(e, ast.ValueCompare):
            raise LegError(
                f"a comparison `{e.op}` of values is only allowed as the argument of iverson(...)",
                code="E113",
                help="write iverson(a > b): 1 where a > b, else 0 (entrywise)",
            )
        if isinstance(e, ast.Str):
            raise SymtnError(
                "a string is only an einsum spec", code="E101", help='write einsum("ij,jk->ik", A, B)'
            )
        raise SymtnError(f"unsupported expression {type(e).__name__}")

    def _relabels(self, env: Env, v: Value, lls: tuple[ast.LegList, ...], what: str) -> Value:
        for ll in lls:
            try:
                v = apply_leglist(env, v, ll, what)
            except SymtnError as err:
                raise err.with_span(self.diag.span(ll.pos)) from None  # type: ignore[arg-type]
        return v

    # ------------------------------------------------------------- names
    def _ref(self, env: Env, e: ast.Ref) -> Value:
        if e.name in builtins.CONSTANTS and env.lookup_value(e.name) is None:
            return self._constant(env, e)
        v = env.lookup_value(e.name)
        if v is None:
            names = env.all_value_names()
            help = did_you_mean(e.name, names)
            notes: tuple[str, ...] = ()
            base = e.name.rstrip("'")
            if base != e.name and env.lookup_value(base) is not None:
                notes = (f"a transpose is a rename: write {base}[j, i] or {base}[i -> j, j -> i]",)
                help = f"did you mean {base} with its legs relabelled?"
            if e.name in builtins.KNOWN_FUNCTIONS or e.name in env.funcs:
                help = f"{e.name} is a function: apply it with parentheses, {e.name}(...)"
            raise NameResolutionError(f"unknown tensor {e.name}", code="E101", help=help, notes=notes)
        return self._relabels(env, Value(v.node, v.order, e.name), e.legs, e.name)

    def _constant(self, env: Env, e: ast.Ref) -> Value:
        if len(e.legs) != 1:
            raise LegError(f"{e.name} takes one leg list: {e.name}[i, j]", code="E102")
        items = e.legs[0].items
        if e.name == "iverson":
            if len(items) != 1 or not isinstance(items[0], ast.Compare):
                raise LegError("iverson takes one comparison: iverson[s <= t]", code="E113")
            c = items[0]
            a, b = env.leg(c.left.name), env.leg(c.right.name)
            size = self._const_size(env, [c.left, c.right])
            return Value(Iverson(size, a, c.op, b), (a, b))
        if any(isinstance(it, ast.Compare) for it in items):
            raise LegError("comparisons are allowed only inside iverson[...]", code="E113")
        offsets = [it for it in items if isinstance(it, ast.Offset)]
        if offsets:
            if e.name != "delta" or len(items) != 2 or len(offsets) != 1:
                raise LegError("an offset is allowed only in a two-leg delta: delta[t, s + 1]", code="E113")
            first, second = items
            if isinstance(first, ast.Offset):  # delta[t + 1, s]: 1 where t + 1 = s
                assert isinstance(second, ast.LegName)
                a_item, b_item, k = second, first.leg, -first.offset
            else:
                assert isinstance(second, ast.Offset) and isinstance(first, ast.LegName)
                a_item, b_item, k = first, second.leg, second.offset
            size = self._const_size(env, [a_item, b_item])
            a, b = env.leg(a_item.name), env.leg(b_item.name)
            node: Node = Shifted(size, a, b, k)
            return Value(node, (a, b) if isinstance(second, ast.Offset) else (b, a))
        legs: list[ast.LegName] = []
        for it in items:
            if not isinstance(it, ast.LegName):
                raise LegError(f"{e.name}[...] takes leg names", code="E102")
            legs.append(it)
        names = tuple(env.leg(x.name) for x in legs)
        if e.name == "delta":
            if not legs:
                raise LegError("delta[] (order 0) needs a leg to know its size: use |n|", code="E111")
            size = self._const_size(env, legs)
            return Value(Delta(size, names), names)
        sig = []
        for x in legs:
            name = env.leg(x.name)
            size = env.size_expr(x.size) if x.size is not None else env.need_size(name)
            env.bind_leg(name, size)
            sig.append((name, size))
        if e.name == "ones":
            return Value(A.ones(sig) if sig else A.const(1), names)
        return Value(Zero(tuple(sig)), names)

    def _const_size(self, env: Env, legs: list[ast.LegName]) -> sp.Expr:
        """The common size of a constant's legs (E201 if they differ, E111 if unknown)."""
        size = None
        for x in legs:
            s = env.size_expr(x.size) if x.size is not None else env.known_size(env.leg(x.name))
            if s is None:
                continue
            if size is not None and s != size and sp.simplify(s - size) != 0:
                raise SizeError(
                    f"legs of a delta must have one size: {size_str(size)} and {size_str(s)}", code="E201"
                )
            size = s
        if size is None:
            raise NameResolutionError(
                f"legs {', '.join(x.name for x in legs)} have no size",
                code="E111",
                help="declare them (leg i : SIZE) or write delta[i: SIZE, j]",
            )
        for x in legs:
            env.bind_leg(env.leg(x.name), size)
        return size

    # ------------------------------------------------------------- operators
    def _chain(self, e: ast.Expr, op: str) -> list[ast.Expr]:
        if isinstance(e, ast.BinOp) and e.op == op:
            return self._chain(e.left, op) + [e.right]
        return [e]

    def _binop(self, env: Env, e: ast.BinOp) -> Value:
        if e.op == "@":
            return self._network(env, e)
        left = self.expr(env, e.left).node
        right = self.expr(env, e.right).node
        if e.op == "+":
            check_nested(left, right)
            return Value(A.add(left, right))
        if e.op == "-":
            check_nested(left, right)
            return Value(A.add(left, right, sign=-1))
        if e.op == "*":
            return Value(A.hadamard(left, right))
        if e.op == "outer":
            return Value(A.outer(left, right))
        if e.op == "*[]":
            assert e.legs is not None
            legs = [env.leg(it.name) for it in e.legs.items if isinstance(it, ast.LegName)]
            return Value(A.contract_over(left, right, legs))
        if e.op == "/":
            return Value(A.divide(left, right))
        if e.op == "^":
            return Value(A.power(left, right))
        raise SymtnError(f"unknown operator {e.op}")

    def _network(self, env: Env, e: ast.BinOp) -> Value:
        parts = self._chain(e, "@")
        nodes = [self.expr(env, p).node for p in parts]
        node = Product(*nodes)
        wires = node.wires()
        with_legs = [n for n in nodes if n.sig]
        if len(with_legs) >= 2 and not wires:
            self.diag.warn(
                "W302",
                "`@` forms no wire: this is an outer product",
                e.pos,
                help="write `*` or `⊗` for an outer product, or relabel legs so they connect",
            )
        batch = sorted(w for w in wires if w in env.batch)
        if batch:
            self.diag.warn(
                "W303",
                f"`@` contracts leg {batch[0]}, declared batch",
                e.pos,
                help=f"use `*[...]` to contract only chosen legs and keep {batch[0]}",
            )
        free = node.legs
        for i, a in enumerate(free):
            for b in free[i + 1 :]:
                if (
                    did_you_mean(a, [b])
                    and (a.startswith(b) or b.startswith(a))
                    and a.rstrip("'") != b.rstrip("'")
                    and not _numbered(a, b)
                ):
                    self.diag.warn(
                        "W301",
                        f"dangling legs {a} and {b} look alike",
                        e.pos,
                        help="is one a typo? a leg that should be a wire is left open",
                    )
        return Value(node)

    # ------------------------------------------------------------- derivatives
    def _deriv(self, env: Env, e: ast.Deriv) -> Value:
        f = self.expr(env, e.expr)
        wrt_v = env.lookup_value(e.wrt.name)
        if wrt_v is None:
            raise NameResolutionError(
                f"unknown tensor {e.wrt.name}",
                code="E101",
                help=did_you_mean(e.wrt.name, env.all_value_names()),
            )
        var = wrt_v.node
        if not isinstance(var, Tensor):
            raise LegError(f"d(...)/d({e.wrt.name}): {e.wrt.name} is not a declared tensor", code="E210")
        if var.is_const:
            raise LegError(
                f"d(...)/d({e.wrt.name}): {e.wrt.name} is const",
                code="E210",
                help="const tensors are not variables; remove `const` to differentiate",
            )
        slots = tuple(s for s, _ in var.slots)
        if e.wrt.legs:
            named = self._relabels(env, Value(var, slots), e.wrt.legs, e.wrt.name)
            new = tuple(named.order or named.node.legs)
        else:
            new = choose_new_legs(f.node.legset, slots)
        for leg, (_, size) in zip(new, var.slots, strict=True):
            declared = env.declared_size(leg)
            if declared is not None and declared != size and sp.simplify(declared - size) != 0:
                raise SizeError(
                    f"derivative leg {leg} is declared with size {size_str(declared)}, "
                    f"but {e.wrt.name}'s leg has size {size_str(size)}",
                    code="E211",
                    help=f"name the new legs explicitly: d(f)/d({e.wrt.name}[...])",
                )
        if var.name not in {t.name for t in tensors(f.node)}:
            self.diag.warn(
                "W305",
                f"d(...)/d({e.wrt.name}): the expression does not contain {e.wrt.name}, "
                "the derivative is zero",
                e.pos,
                help=f"is {e.wrt.name} the variable you meant? (the derivative of a constant is 0)",
            )
        node = self.hooks.diff(f.node, var, new)
        order = (f.order or f.node.legs) + new
        return self._relabels(env, Value(node, tuple(order)), e.relabels, "the derivative")

    # ------------------------------------------------------------- expectations
    # ------------------------------------------------------------- calls
    def _call(self, env: Env, e: ast.Call) -> Value:
        name = e.name
        if name == "sym_grad" and name not in env.funcs:
            return self._sym_grad(env, e)
        if name == "iverson" and name not in env.funcs and e.subscript is None:
            return self._iverson_values(env, e)
        if name == "subst" and name not in env.funcs:
            return self._subst(env, e)
        if name == "taylor" and name not in env.funcs:
            return self._taylor(env, e)
        if name == "chain" and name not in env.funcs:
            from symtn.frontend.families import resolve_chain

            return resolve_chain(self, env, e)
        if name == "einsum" and name not in env.funcs:
            return self._einsum(env, e)
        if name == "expand" and e.kwargs and name not in env.funcs:
            return self._expand_budget(env, e)
        if e.kwargs:
            k, _ = e.kwargs[0]
            raise LegError(
                f"{name}() takes no keyword argument {k}=",
                code="E212",
                help=f"name legs in brackets: {name}[{k if k != 'dim' else 's'}](x)",
            )
        user = env.funcs.get(name)
        if user is not None:
            v = self._user_call(env, user, e)
        elif name == "d":
            raise NameResolutionError(
                "unknown function d",
                code="E101",
                help="a derivative is written d(f)/d(X), with no space after d",
            )
        elif name in builtins.ELEMENTWISE or name in builtins.LEG_ACTING or name in builtins.SPECIAL:
            args = [self.expr(env, a).node for a in e.args]
            sub = None
            if e.subscript is not None:
                sub = [env.leg(it.name) for it in e.subscript.items if isinstance(it, ast.LegName)]
            if name in builtins.ELEMENTWISE:
                if sub:
                    raise LegError(f"{name} is elementwise and takes no leg subscript", code="E205")
                v = Value(builtins.apply_elementwise(name, args))
            elif name in builtins.LEG_ACTING:
                v = Value(builtins.apply_leg_acting(name, sub, args))
            else:
                if len(args) != 1:
                    raise LegError(f"{name} takes one argument", code="E102")
                fn = {
                    "frozen": A.frozen,
                    "expand": self.hooks.expand,
                    "simplify": self.hooks.simplify,
                    "factor": self.hooks.factor,
                }[name]
                if name == "simplify":
                    fn = self._simplifier(sub)
                v = Value(fn(args[0]))
        else:
            known = list(env.funcs) + list(builtins.KNOWN_FUNCTIONS)
            raise NameResolutionError(f"unknown function {name}", code="E101", help=did_you_mean(name, known))
        return self._relabels(env, v, e.relabels, f"{name}(...)")

    def _iverson_values(self, env: Env, e: ast.Call) -> Value:
        """``iverson(a op b)``: the entrywise 0/1 comparison (derivative zero)."""
        if len(e.args) != 1 or e.kwargs or not isinstance(e.args[0], ast.ValueCompare):
            raise LegError(
                "iverson(...) takes one comparison of values, e.g. iverson(X > Y)",
                code="E113",
                help="compare leg indices in brackets: iverson[s <= t]",
            )
        c = e.args[0]
        left, right = self.expr(env, c.left).node, self.expr(env, c.right).node
        v = Value(A.elementwise(builtins.comparison_rule(c.op), left, right))
        return self._relabels(env, v, e.relabels, "iverson(...)")

    def _user_call(self, env: Env, fd: FuncDef, e: ast.Call) -> Value:
        d = fd.ast
        if len(e.args) != len(d.params):
            raise LegError(f"{d.name} takes {len(d.params)} argument(s), got {len(e.args)}", code="E102")
        sub = (
            [env.leg(it.name) for it in e.subscript.items if isinstance(it, ast.LegName)]
            if e.subscript
            else []
        )
        if len(sub) != len(d.leg_params):
            if d.leg_params and not sub:
                raise LegError(
                    f"{d.name} acts on {len(d.leg_params)} leg(s): write {d.name}[ax](...)", code="E212"
                )
            raise LegError(f"{d.name} takes {len(d.leg_params)} leg argument(s), got {len(sub)}", code="E102")
        args = [self.expr(env, a) for a in e.args]
        for leg in sub:
            if not any(leg in a.node.legset for a in args):
                raise LegError(
                    f"{d.name}[{', '.join(sub)}] names {leg}, which is not a leg of its argument "
                    f"[{', '.join(args[0].node.legs)}]",
                    code="E205",
                )
        scope = fd.env.child()
        scope.leg_alias = dict(zip(d.leg_params, sub, strict=True))
        for p, a in zip(d.params, args, strict=True):
            if p.sig is not None:
                want = [scope.leg(x.name) for x in p.sig]
                if set(want) != a.node.legset:
                    raise LegError(
                        f"argument {p.name} of {d.name} has legs [{', '.join(a.node.legs)}], "
                        f"expected [{', '.join(want)}]",
                        code="E204",
                    )
                scope.values[p.name] = Value(a.node, tuple(want))
            else:
                scope.values[p.name] = Value(a.node, a.order)
        if d.body is None:
            if len(d.params) != 1 or d.params[0].sig is None or d.returns is None:
                raise LegError(
                    f"opaque function {d.name} needs one typed parameter and a return signature", code="E204"
                )
            consumed = tuple(scope.leg(x.name) for x in d.params[0].sig)
            produced = tuple((scope.leg(x.name), x_size(scope, x)) for x in d.returns)
            return Value(A.bubble(d.name, args[0].node, consumed, produced), tuple(p for p, _ in produced))
        try:
            if isinstance(d.body, ast.Block):
                from symtn.frontend.resolve import run_block

                result = run_block(self, scope, d.body)
            else:
                result = self.expr(scope, d.body)
        except SymtnError as err:
            where = f" (line {err.span.line}, column {err.span.column})" if err.span else ""
            moved = type(err)(
                err.message,
                code=err.code,
                span=self.diag.span(e.pos),  # type: ignore[arg-type]
                help=err.help,
                notes=(f"in the body of `{d.name}`{where}", *err.notes),
            )
            raise moved from None
        if d.returns is not None:
            ret = tuple(scope.leg(x.name) for x in d.returns)
            check_signature(result.node, ret, f"the result of {d.name}")
            return Value(result.node, ret)
        return Value(result.node, result.order)


def x_size(env: Env, x: ast.LegName) -> sp.Expr:
    return env.size_expr(x.size) if x.size is not None else env.need_size(env.leg(x.name))


def check_signature(node: Node, want: tuple[str, ...], what: str) -> None:
    """E204: the legs of ``node`` must equal ``want`` as a set (lists dangling and missing)."""
    have = node.legset
    if have == set(want):
        return
    extra = [x for x in node.legs if x not in want]
    missing = [x for x in want if x not in have]
    hint = None
    for x in extra:
        from difflib import get_close_matches

        near = get_close_matches(x, missing, n=1, cutoff=0.5) or get_close_matches(
            x, list(want), n=1, cutoff=0.5
        )
        if near:
            hint = f"{x} looks like {near[0]}: is it a typo?"
            break
    raise LegError(
        f"{what} has legs [{', '.join(node.legs)}] but [{', '.join(want)}] was declared"
        + (f"; unexpected (dangling): {', '.join(extra)}" if extra else "")
        + (f"; missing: {', '.join(missing)}" if missing else ""),
        code="E204",
        help=hint,
    )
