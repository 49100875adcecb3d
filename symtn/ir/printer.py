"""IR -> symtn notation. The output parses back to an isomorphic expression.

Bound legs (wires of a network, legs a bubble acts on) are screened to fresh names ``a, b,
..., z, a', ...`` (skipping any leg, tensor or size name the expression uses) scope by scope;
free legs keep their names. Copy tensors whose legs are all bound carry an inline size on their
first leg (``delta[a: n, b]``) so the text is self-contained. Known compositions fold back to
the builtin that builds them (``softmax[i](X)``, ``logsumexp``, ``trace``, ``sigmoid``,
``gelu``). Exact rationals whose denominator divides a power of ten print as
decimals (``0.044715``), which parse back to the same rational.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable

import sympy as sp

from symtn.ir.fold import match_logsumexp, match_softmax, match_trace
from symtn.ir.nodes import (
    ONE,
    Bubble,
    Delta,
    Elementwise,
    Frozen,
    Iverson,
    Node,
    Product,
    Reshape,
    Shifted,
    Sum,
    Tensor,
    Zero,
    size_str,
)

ADD, MUL, NEG, POW, ATOM = 2, 3, 4, 5, 6

# names for bound legs, in order of use (letters easily confused with digits or sizes left out)
FRESH_LETTERS = "abcdefghpqrstuvwyz"
_X0 = sp.Symbol("x0", real=True)

Fold = tuple[str, "list[str] | None", "list[Node]"]
"""A fold found by a hook: builtin name, its subscript legs (free legs of the node, or None)
and its arguments (nodes whose free legs are legs of the folded node)."""

FOLDS: list[Callable[[Node], Fold | None]] = []
"""Folds that need the rewriter to check them (``gelu`` and ``layernorm`` after simplification),
registered by ``symtn.folds``; used by :func:`to_notation` only, never for keys."""

_FOLDING = [False]  # a hook simplifies, which prints keys: no hook runs inside another

LEG_ACTING_BUBBLES = ("max", "min", "sum", "mean", "logsumexp", "softmax", "det", "logdet", "inv")

# sympy function class name -> notation function name
FUNCTION_NAMES = {
    "exp": "exp",
    "log": "log",
    "tanh": "tanh",
    "sin": "sin",
    "cos": "cos",
    "erf": "erf",
    "Abs": "abs",
    "sign": "sign",
    "Heaviside": "step",
    "cosh": "cosh",
    "sinh": "sinh",
    "tan": "tan",
    "atan": "atan",
}


def signed_number(x: sp.Expr, fraction: Callable[[int, int], tuple[str, int]]) -> tuple[str, int] | None:
    """An integer, rational or float as ``(text, precedence)``; a rational ``p/q`` that is no
    short decimal is ``fraction(|p|, q)`` with the sign in front. None for anything else."""
    if x.is_Integer:
        v = int(x)
        return (str(v), ATOM) if v >= 0 else (f"-{-v}", NEG)
    if x.is_Rational:
        p, q = int(x.p), int(x.q)  # type: ignore[attr-defined]
        dec = _decimal(abs(p), q)
        if dec is not None:
            return (f"-{dec}", NEG) if p < 0 else (dec, ATOM)
        body, prec = fraction(abs(p), q)
        return (f"-{body}", NEG) if p < 0 else (body, prec)
    if x.is_Float:
        text = repr(float(x))
        return (text, NEG) if text.startswith("-") else (text, ATOM)
    return None


def _num(x: sp.Expr) -> tuple[str, int]:
    found = signed_number(x, lambda p, q: (f"{p}/{q}", MUL))
    if found is not None:
        return found
    if x is sp.pi:
        return ("3.141592653589793", ATOM)
    if x is sp.E:
        return ("exp(1)", ATOM)
    return (str(float(x)), ATOM)


def _sides(z: sp.Expr) -> tuple[sp.Expr, sp.Expr]:
    """``z`` as ``left - right`` with the negative terms on the right (for ``iverson(l > r)``)."""
    terms = sp.Add.make_args(z)
    neg = [t for t in terms if t.could_extract_minus_sign()]
    pos = [t for t in terms if not t.could_extract_minus_sign()]
    return sp.Add(*pos), -sp.Add(*neg)


def _equality(e: sp.Expr) -> tuple[str, tuple[sp.Expr, sp.Expr]] | None:
    """``Piecewise((1, Eq(a, b)), (0, True))`` as ``("==", (a, b))`` (``!=`` for 0 and 1)."""
    if not isinstance(e, sp.Piecewise) or len(e.args) != 2:
        return None
    (v1, c1), (v2, c2) = e.args
    if not isinstance(c1, sp.Eq) or c2 is not sp.true or {v1, v2} != {0, 1}:
        return None
    return ("==" if v1 == 1 else "!="), (c1.lhs, c1.rhs)


def _decimal(p: int, q: int) -> str | None:
    """``p/q`` as an exact decimal (``0.044715``) when ``q`` is a power-of-ten divisor and the
    decimal is how a person wrote it (``q`` divisible by 5 or above 16); ``None`` otherwise.
    Decimals parse back to the same exact rational, so this keeps the text round-trippable."""
    r, twos, fives = q, 0, 0
    while r % 2 == 0:
        r, twos = r // 2, twos + 1
    while r % 5 == 0:
        r, fives = r // 5, fives + 1
    if r != 1 or (fives == 0 and q <= 16):
        return None
    places = max(twos, fives)
    digits = str(p * 10**places // q).rjust(places + 1, "0")
    return f"{digits[:-places]}.{digits[-places:]}"


def _gelu(u: sp.Expr) -> sp.Expr:
    """The builtin ``gelu`` (tanh form, the constants it is written with)."""
    c, k = sp.Rational("0.7978845608"), sp.Rational("0.044715")
    return sp.Rational(1, 2) * u * (1 + sp.tanh(c * (u + k * u**3)))


def _gelu_argument(e: sp.Expr) -> sp.Expr | None:
    """``u`` when ``e`` is exactly ``gelu(u)``, else None."""
    if not e.is_Mul:
        return None
    for f in e.args:
        if f.is_Add and any(isinstance(t, sp.tanh) for t in f.args):
            u = sp.Mul(*[a for a in e.args if a is not f]) * 2
            if sp.expand(_gelu(u) - e) == 0:
                return u
    return None


def scalar_str(expr: sp.Expr, leaf: Callable[[sp.Symbol], tuple[str, int]]) -> tuple[str, int]:
    """Print a scalar sympy expression as notation; ``leaf`` prints a symbol with its precedence."""

    def wrap(pair: tuple[str, int], need: int) -> str:
        text, prec = pair
        return text if prec >= need else f"({text})"

    def go(e: sp.Expr) -> tuple[str, int]:
        if e.is_Symbol:
            return leaf(e)  # type: ignore[arg-type]
        if e.is_Number or e in (sp.pi, sp.E):
            return _num(e)
        if e.is_Add:
            parts = sorted(e.args, key=lambda a: (a.is_Number, sp.default_sort_key(a)))
            out = wrap(go(parts[0]), ADD)
            for a in parts[1:]:
                coeff, rest = a.as_coeff_Mul()
                if coeff.is_negative:
                    out += " - " + wrap(go(-a), MUL)
                else:
                    out += " + " + wrap(go(a), MUL)
            return out, ADD
        u = _gelu_argument(e)
        if u is not None:
            return f"gelu({go(u)[0]})", ATOM
        if e.is_Mul:
            coeff, rest = e.as_coeff_Mul()
            if coeff == -1:
                return "-" + wrap(go(rest), POW), NEG
            num, den = [], []
            for a in e.args:
                if a.is_Pow and a.exp.is_negative and a.exp.is_Number:  # type: ignore[attr-defined]
                    den.append(sp.Pow(a.base, -a.exp))  # type: ignore[attr-defined]
                elif (
                    a.is_Rational
                    and not a.is_Integer
                    and a.p == 1  # type: ignore[attr-defined]
                    and _decimal(1, int(a.q)) is None  # type: ignore[attr-defined]
                ):
                    den.append(sp.Integer(a.q))  # type: ignore[attr-defined]
                else:
                    num.append(a)
            text = " * ".join(wrap(go(a), MUL if i == 0 else NEG) for i, a in enumerate(num)) if num else "1"
            for d in den:
                text += " / " + wrap(go(d), NEG)
            first = num[0] if num else None
            if first is not None and first.is_Number and first.is_negative:
                return text, NEG
            return text, MUL
        if e.is_Pow and e.args[1] == -1 and e.args[0].is_Add:  # 1 / (1 + exp(-u)) -> sigmoid(u)
            terms = e.args[0].args
            if len(terms) == 2 and sp.Integer(1) in terms:
                other = [t for t in terms if t != 1][0]
                if isinstance(other, sp.exp):
                    return f"sigmoid({go(-other.args[0])[0]})", ATOM
        if e.is_Pow:
            base, exp = e.args
            if exp == sp.Rational(1, 2):
                return f"sqrt({go(base)[0]})", ATOM
            exp_text = go(exp)[0] if exp.is_Integer else wrap(go(exp), ATOM)
            return f"{wrap(go(base), ATOM)}^{exp_text}", POW
        if isinstance(e, sp.Max) and len(e.args) == 2 and sp.Integer(0) in e.args:
            other = [a for a in e.args if a != 0][0]
            return f"relu({go(other)[0]})", ATOM
        if isinstance(e, sp.Max):
            out = go(e.args[0])[0]
            for a in e.args[1:]:
                out = f"maximum({out}, {go(a)[0]})"
            return out, ATOM
        if isinstance(e, sp.Min):
            out = go(e.args[0])[0]
            for a in e.args[1:]:
                out = f"minimum({out}, {go(a)[0]})"
            return out, ATOM
        if isinstance(e, sp.Heaviside):
            if len(e.args) == 2 and e.args[1] in (0, 1):  # iverson(a > b), iverson(a >= b)
                left, right = _sides(e.args[0])
                op = ">" if e.args[1] == 0 else ">="
                return f"iverson({go(left)[0]} {op} {go(right)[0]})", ATOM
            return f"step({go(e.args[0])[0]})", ATOM
        compared = _equality(e)
        if compared is not None:
            op, (a, b) = compared
            return f"iverson({go(a)[0]} {op} {go(b)[0]})", ATOM
        if isinstance(e, sp.Function):
            name = FUNCTION_NAMES.get(type(e).__name__, type(e).__name__)
            return f"{name}({', '.join(go(a)[0] for a in e.args)})", ATOM
        return str(e), ATOM

    return go(expr)


def size_expr_str(size: sp.Expr) -> tuple[str, int]:
    """A size (or coefficient) expression with ``|n|`` for size symbols."""
    return scalar_str(size, lambda s: (f"|{s.name}|", ATOM))


def leg_names(root: Node) -> set[str]:
    """Every leg name used anywhere in ``root`` (free, wired, consumed, tensor slots)."""
    from symtn.ir.walk import preorder

    names: set[str] = set()
    for n in preorder(root):
        names.update(n.legs)
        for _, size in n.sig:
            names.update(str(x) for x in size.free_symbols)
        if isinstance(n, Tensor):
            names.add(n.name)
            names.update(s for s, _ in n.slots)
        if isinstance(n, Product):
            names.update(n.wires())
        if isinstance(n, Bubble):
            names.update(n.consumed)
    return names


class _Printer:
    def __init__(self, avoid: set[str] | None = None, prefix: str = "", readable: bool = False) -> None:
        self.readable = readable
        self.counter = itertools.count(1)
        self.avoid = avoid or set()
        self.prefix = prefix
        self.bound: set[str] = set()

    def fresh(self) -> str:
        while True:
            k = next(self.counter)
            if self.prefix:
                name = f"{self.prefix}{k}"
            else:  # a, b, ..., z, then a', b', ...: primes never trip the look-alike lint (W301)
                letter, primes = FRESH_LETTERS[(k - 1) % len(FRESH_LETTERS)], (k - 1) // len(FRESH_LETTERS)
                name = letter + "'" * primes
            # a primed name inherits the size of its declared base: skip bases the text declares
            if name not in self.avoid and name.rstrip("'") not in self.avoid:
                self.bound.add(name)
                return name

    def is_bound(self, name: str) -> bool:
        return name in self.bound

    def legs(self, names: tuple[str, ...], env: dict[str, str]) -> list[str]:
        return [env.get(n, n) for n in names]

    def fold(self, node: Node, env: dict[str, str]) -> str | None:
        """Known compositions, printed as the builtin that makes them (exact patterns only):
        ``log(delta[a] @ exp(T))`` -> ``logsumexp[a](T)``, ``T[a, b] @ delta[a, b]`` ->
        ``trace[a, b](T)``."""
        lse = match_logsumexp(node)
        if lse is not None:
            return self.bubble_text("logsumexp", lse[0], lse[1], env)
        soft = match_softmax(node)
        if soft is not None:
            operand, ax, names = soft
            scope = dict(env)
            scope.update({leg: env.get(names[leg], names[leg]) for leg in operand.legs})
            return f"softmax[{', '.join(scope[leg] for leg in ax)}]({self.pr(operand, scope)[0]})"
        hooked = self.hooked_fold(node, env)
        if hooked is not None:
            return hooked
        tr = match_trace(node)
        if tr is not None:
            return self.bubble_text("trace", tr[0], tr[1], env)
        return None

    def hooked_fold(self, node: Node, env: dict[str, str]) -> str | None:
        """A fold of :data:`FOLDS` (readable printing only), e.g. ``layernorm[d](x, g, b)``."""
        if not self.readable or _FOLDING[0] or not FOLDS or not node.children:
            return None
        _FOLDING[0] = True
        try:
            found = next((f for f in (hook(node) for hook in FOLDS) if f is not None), None)
        finally:
            _FOLDING[0] = False
        if found is None:
            return None
        name, legs, args = found
        sub = f"[{', '.join(env.get(leg, leg) for leg in legs)}]" if legs else ""
        return f"{name}{sub}({', '.join(self.pr(a, env)[0] for a in args)})"

    def bubble_text(self, name: str, legs: list[str], operand: Node, env: dict[str, str]) -> str:
        scope = dict(env)
        for leg in legs:
            scope[leg] = self.fresh()
        return f"{name}[{', '.join(scope[leg] for leg in legs)}]({self.pr(operand, scope)[0]})"

    def bound_mark(self, printed: list[str], size: sp.Expr) -> list[str]:
        if printed and all(self.is_bound(p) for p in printed):
            return [f"{printed[0]}: {size_str(size)}"] + printed[1:]
        return printed

    def pr(self, node: Node, env: dict[str, str]) -> tuple[str, int]:
        if isinstance(node, Tensor):
            printed = self.legs(node.legs, env)
            if printed == [s for s, _ in node.slots]:
                return node.name, ATOM
            return f"{node.name}[{', '.join(printed)}]", ATOM
        if isinstance(node, Delta):
            if node.order == 0:
                return size_expr_str(node.dim)
            printed = self.bound_mark(self.legs(node.args[1], env), node.dim)
            return f"delta[{', '.join(printed)}]", ATOM
        if isinstance(node, Shifted):
            size, a, b, k = node.args
            pa, pb = self.legs((a, b), env)
            mark = f"{pa}: {size_str(size)}" if self.is_bound(pa) and self.is_bound(pb) else pa
            off = f" + {k}" if k > 0 else (f" - {-k}" if k < 0 else "")
            return f"delta[{mark}, {pb}{off}]", ATOM
        if isinstance(node, Iverson):
            size, a, op, b = node.args
            pa, pb = self.legs((a, b), env)
            mark = f"{pa}: {size_str(size)}" if self.is_bound(pa) and self.is_bound(pb) else pa
            return f"iverson[{mark} {op} {pb}]", ATOM
        if isinstance(node, Zero):
            if not node.sig:
                return "0", ATOM
            printed = [
                f"{p}: {size_str(s)}" if self.is_bound(p) else p
                for p, s in zip(self.legs(node.legs, env), [s for _, s in node.sig], strict=True)
            ]
            return f"zeros[{', '.join(printed)}]", ATOM
        if isinstance(node, Reshape):
            pieces: list[str] = []
            tmp: list[str] = []
            for leg, size in node.parts:
                name = self.fresh()
                tmp.append(name)
                pieces.append(f"delta[{name}: {size_str(size)}, {env.get(leg, leg)}]")
            whole = env.get(node.whole[0], node.whole[0])
            return f"({' * '.join(pieces)})[({', '.join(tmp)}) -> {whole}]", ATOM
        folded = self.fold(node, env)
        if folded is not None:
            return folded, ATOM
        if isinstance(node, Product):
            if node is ONE:
                return "1", ATOM
            scope = dict(env)
            for w in sorted(node.wires()):
                scope[w] = self.fresh()
            parts: list[str] = []
            for f in node.args:
                text, prec = self.pr(f, scope)
                parts.append(text if prec >= ATOM or (prec >= NEG and not parts) else f"({text})")
            if len(parts) == 1:
                return self.pr(node.args[0], scope)
            # a network without wires is an outer product: `*` says so (and avoids lint W302)
            return (" @ " if node.wires() else " * ").join(parts), MUL
        if isinstance(node, Sum):
            out = ""
            for i, (c, term) in enumerate(zip(node.coeffs, node.terms, strict=True)):
                neg = bool(c.could_extract_minus_sign())
                mag = -c if neg else c
                if term is ONE:
                    body = size_expr_str(mag)
                    text = body[0] if body[1] >= MUL else f"({body[0]})"
                else:
                    text_t, prec_t = self.pr(term, env)
                    if mag == 1:
                        text = text_t if prec_t > ADD else f"({text_t})"
                    else:
                        ctext, cprec = size_expr_str(mag)
                        ctext = ctext if cprec >= NEG else f"({ctext})"
                        text = f"{ctext} * " + (text_t if prec_t >= ATOM else f"({text_t})")
                if i == 0:
                    out = f"-{text}" if neg else text
                else:
                    out += f" - {text}" if neg else f" + {text}"
            return out, (ADD if len(node.terms) > 1 or out.startswith("-") else MUL)
        if isinstance(node, Elementwise):
            ops = [self.pr(o, env) for o in node.operands]
            return scalar_str(node.fn, lambda s: ops[int(s.name[1:])])
        if isinstance(node, Bubble):
            if node.name not in LEG_ACTING_BUBBLES:  # a user's opaque function: legs by name
                return f"{node.name}({self.pr(node.operand, env)[0]})", ATOM
            scope = dict(env)
            if node.name == "inv":  # inv produces the legs it consumes, under the produced names
                for c, (p, _) in zip(node.consumed, node.produced, strict=True):
                    scope[c] = env.get(p, p)
            else:
                for c in node.consumed:
                    scope[c] = self.fresh()
            arg = self.pr(node.operand, scope)[0]
            sub = ", ".join(scope[c] for c in node.consumed)
            head = f"{node.name}[{sub}]" if sub else node.name
            return f"{head}({arg})", ATOM
        if isinstance(node, Frozen):
            return f"frozen({self.pr(node.inner, env)[0]})", ATOM
        raise TypeError(f"cannot print {type(node).__name__}")


def to_notation(node: Node) -> str:
    """Print ``node`` as parseable symtn notation (free legs keep their names)."""
    return _Printer(leg_names(node), readable=True).pr(node, {})[0]


def notation_up_to_renaming(node: Node) -> str:
    """Notation with free legs named by their position (``#0``, ``#1``...): equal strings mean
    the nodes are equal up to a renaming of their legs that preserves leg order."""
    env = {leg: f"#{i}:{size_str(s)}" for i, (leg, s) in enumerate(node.sig)}
    return _Printer(prefix="_").pr(node, env)[0]  # a key, not for reading: independent of leg names


def legs_str(node: Node) -> str:
    """``[i: n, j: m]``: the free legs with their sizes."""
    return "[" + ", ".join(f"{leg}: {size_str(s)}" for leg, s in node.sig) + "]"


def declarations(*nodes: Node) -> str:
    """Declarations (dims, legs, tensors with facts) that make printed ``nodes`` parse alone."""
    from symtn.ir.walk import preorder

    syms: set[sp.Symbol] = set()
    legs: dict[str, sp.Expr] = {}
    tensors: dict[str, Tensor] = {}
    for root in nodes:
        for leg, size in root.sig:
            legs.setdefault(leg, size)
        for n in preorder(root):
            for _, size in n.sig:
                syms |= size.free_symbols  # type: ignore[arg-type]
            if isinstance(n, Tensor):
                tensors.setdefault(n.name, n.variable)
                for leg, size in n.slots:
                    legs.setdefault(leg, size)
    lines = []
    if syms:
        lines.append("dim " + ", ".join(sorted(s.name for s in syms)))
    for leg, size in sorted(legs.items(), key=lambda kv: (kv[0].count("'"), kv[0])):
        if isinstance(size, sp.Symbol) and size.name == leg:
            continue
        lines.append(f"leg {leg} : {size_str(size)}")
    for t in tensors.values():
        mods = []
        for f in t.facts:
            if f[0] in ("const", "positive", "nonnegative"):
                mods.append(f[0])
            elif f[0] == "isometry":
                mods.append(f"isometry({', '.join(f[1])})")
            else:
                groups = [g[0] if len(g) == 1 else "(" + ", ".join(g) + ")" for g in f[1]]
                mods.append(f"{f[0]}({', '.join(groups)})")
        sig = ", ".join(leg for leg, _ in t.slots)
        lines.append(f"{t.name}: [{sig}]" + (" " + " ".join(mods) if mods else ""))
    return "\n".join(lines) + "\n"
