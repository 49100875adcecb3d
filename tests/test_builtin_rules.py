"""Built-in rewrite rules end to end: declared facts, power algebra, bounded expand, factor, cse,
and derivatives by symmetric tensors (constrained / projected conventions)."""

from __future__ import annotations

import io
import random
import warnings
from contextlib import redirect_stdout
from itertools import permutations
from pathlib import Path

import numpy as np
import pytest
import sympy as sp

import symtn
from symtn.cli import main
from symtn.errors import NoRuleError, SymtnError
from symtn.ir import algebra as al
from symtn.ir.nodes import ONE, Delta, Elementwise, Node, Product, Reshape, Sum, Tensor, Zero
from symtn.ir.printer import declarations
from symtn.ir.sharing import cse
from symtn.ir.walk import preorder
from symtn.rewrite import expand, factor, is_isomorphic, simplify
from symtn.rewrite.canonical import signed_match
from tests.refeval import align, evaluate, random_values
from tests.rewrite_gen import SIZES, N, gen

X0 = al.X0
SYM = [("symmetric", (("p",), ("q",)))]
ANTI = [("antisymmetric", (("p",), ("q",)))]


def mat(name: str, a: str = "i", b: str = "j", facts: list | None = None) -> Node:  # type: ignore[type-arg]
    return al.rename(al.tensor(name, ("p", N), ("q", N), facts=facts or []), {"p": a, "q": b})


def vec(name: str, a: str = "i") -> Node:
    return al.rename(al.tensor(name, ("p", N)), {"p": a})


def same_value(a: Node, b: Node, seed: int = 0) -> bool:
    values = random_values(a, SIZES, seed)
    va, vb = evaluate(a, values, SIZES), evaluate(b, values, SIZES)
    return a.sizes == b.sizes and bool(np.allclose(va, align(b, vb, a.legs)))


def occurrences(node: Node) -> int:
    """Tensor occurrences in the printed tree (shared nodes counted once per use)."""
    memo: dict[Node, int] = {}

    def go(n: Node) -> int:
        if n not in memo:
            memo[n] = int(isinstance(n, Tensor)) + sum(go(k) for k in n.children)
        return memo[n]

    return go(node)


# ------------------------------------------------------------------ 1. declared facts
FACTS = """dim n
leg i, j, k, k2, l, m, p, q: n
S: [i, j] symmetric(i, j)
K: [i, j] antisymmetric(i, j)
Q: [i, j, k, l] symmetric((i, j), (k, l))
U: [k, m] isometry(k)
T: [i, j, k]
swapped = S[i -> j, j -> i]
flipped = K[i -> j, j -> i]
cancel = K + K[i -> j, j -> i]
vanish = S @ K
blocks = Q[i -> k, j -> l, k -> i, l -> j]
iso = U @ U[k -> k2]
fused = T[(i, j) -> ij] @ T[(i, j) -> ij, k -> k2]
roundtrip = T[(i, j) -> ij][ij -> (p: n, q: n)]
"""


def test_declared_facts_in_notation() -> None:
    prog = symtn.parse(FACTS)
    s, k, q, t = prog.tensors["S"], prog.tensors["K"], prog.tensors["Q"], prog.tensors["T"]
    assert simplify(prog["swapped"]) is s
    assert simplify(prog["flipped"]) == Sum((k,), (-1,))
    assert simplify(prog["cancel"]) == Zero(k.sig)
    assert simplify(prog["vanish"]) == Zero(())
    assert simplify(prog["blocks"]) is q
    assert simplify(prog["iso"]) == Delta(N, ("k", "k2"))
    fused = simplify(prog["fused"])
    assert not any(isinstance(x, Reshape) for x in preorder(fused))
    assert isinstance(fused, Product) and len(fused.args) == 2
    assert simplify(prog["roundtrip"]) == al.rename(t, {"i": "p", "j": "q"})


def test_declared_facts_keep_values() -> None:
    """Each rewritten binding against dense evaluation with values satisfying the facts."""
    prog = symtn.parse(FACTS)
    rng = np.random.default_rng(3)
    n = 3
    a = rng.standard_normal((n, n))
    q = rng.standard_normal((n, n, n, n))
    u, _ = np.linalg.qr(rng.standard_normal((n, n)))
    values = {
        "S": a + a.T,
        "K": a - a.T,
        "Q": q + q.transpose(2, 3, 0, 1),
        "U": u,  # orthogonal: rows orthonormal over m
        "T": rng.standard_normal((n, n, n)),
    }
    for name in ("swapped", "flipped", "cancel", "vanish", "blocks", "iso", "fused", "roundtrip"):
        node = prog[name]
        before = symtn.evaluate(node, values, sizes={"n": n}, order=node.legs)
        after = symtn.evaluate(simplify(node), values, sizes={"n": n}, order=node.legs)
        assert np.allclose(before, after), name
    # the identities themselves, by hand
    assert np.allclose(np.einsum("km,lm->kl", u, u), np.eye(n))
    assert abs(np.einsum("ij,ij->", values["S"], values["K"])) < 1e-12


def run_cli(tmp_path: Path, text: str, *args: str) -> str:
    path = tmp_path / "prog.stn"
    path.write_text(text)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        buf = io.StringIO()
        with redirect_stdout(buf):
            assert main(["simplify", str(path), *args]) == 0
    return buf.getvalue()


def test_cli_simplify_uses_facts(tmp_path: Path) -> None:
    out = run_cli(tmp_path, FACTS, "swapped", "flipped", "vanish", "iso", "blocks").splitlines()
    assert out == [
        "swapped = S    : [i: n, j: n]",
        "flipped = -K    : [i: n, j: n]",
        "vanish = 0    : []",
        "iso = delta[k, k2]    : [k: n, k2: n]",
        "blocks = Q    : [i: n, j: n, k: n, l: n]",
    ]


def test_antisymmetric_sign_is_canonical_only_on_free_legs() -> None:
    """Bound legs are renamable, so their order carries no sign; free legs are sorted."""
    k = mat("K", "a", "b", ANTI)
    x, y = vec("x", "a"), vec("y", "b")
    net = Product(k, x, y)
    swapped = Product(mat("K", "b", "a", ANTI), vec("x", "b"), vec("y", "a"))
    assert signed_match(simplify(net), simplify(swapped)) == 1
    assert simplify(al.add(net, swapped)) == Sum((simplify(net),), (2,))
    assert simplify(mat("K", "j", "i", ANTI)) == Sum((mat("K", "i", "j", ANTI),), (-1,))


# ------------------------------------------------------------------ 2. power algebra
def test_power_algebra() -> None:
    x = vec("x")
    sq = simplify(al.hadamard(x, x))
    assert sq == Elementwise(X0**2, (x,))
    cube = simplify(al.hadamard(al.hadamard(x, x), x))
    assert cube == Elementwise(X0**3, (x,))
    five = simplify(al.hadamard(al.elementwise(X0**2, x), al.elementwise(X0**3, x)))
    assert five == Elementwise(X0**5, (x,))
    assert simplify(al.divide(x, x)) == al.ones(x.sig)
    x3_over_x = al.hadamard(al.elementwise(X0**3, x), al.elementwise(X0**-1, x))
    assert simplify(x3_over_x) == Elementwise(X0**2, (x,))
    s = al.tensor("s")
    assert simplify(Product(s, s)) == Elementwise(X0**2, (s,))
    # nested powers only where valid for real operands
    assert simplify(al.elementwise(X0 ** sp.Rational(1, 2), al.elementwise(X0**2, x))) == Elementwise(
        sp.Abs(X0), (x,)
    )
    assert simplify(al.elementwise(X0**3, al.elementwise(X0**2, x))) == Elementwise(X0**6, (x,))
    # different bases stay a product (and simplify terminates)
    y = vec("y")
    xy = simplify(al.hadamard(x, y))
    assert isinstance(xy, Product) and {type(f) for f in xy.args} == {Tensor, Delta}
    mixed = simplify(al.hadamard(al.elementwise(sp.tanh(X0), x), al.elementwise(X0**2, x)))
    assert isinstance(mixed, Product) and simplify(mixed) is mixed
    # a matrix squared elementwise, wired into a network
    a = mat("A")
    e = al.contract(al.hadamard(a, a), vec("v", "j"))
    out = simplify(e)
    assert any(isinstance(n, Elementwise) and n.fn == X0**2 for n in preorder(out))
    assert same_value(e, out)


def test_power_algebra_on_sub_networks() -> None:
    """``(R @ x) * (R @ x)`` is ``(R @ x)^2``: a group of directly wired tensors is one base."""
    prog = symtn.parse(
        "dim d, h\nleg i : d\nleg o : h\nx: [i]\nL, R: [o, i]\n"
        "sq = (R @ x) * (R @ x)\n"
        "mixed = (L @ x) * (R @ x) * (R @ x)\n"
        "ratio = (R @ x) * (R @ x) / (R @ x)\n"
        "g = d(sum(sq))/d(R)\n"
    )
    b = {name: simplify(node) for name, node in prog.bindings.items()}
    assert isinstance(b["sq"], Elementwise) and b["sq"].fn == X0**2
    assert isinstance(b["sq"].operands[0], Product)  # the base is the network R @ x
    assert sum(isinstance(n, Elementwise) and n.fn == X0**2 for n in preorder(b["mixed"])) == 1
    rng = np.random.default_rng(5)
    vals = {"x": rng.standard_normal(4), "L": rng.standard_normal((3, 4)), "R": rng.standard_normal((3, 4))}
    rx_v = vals["R"] @ vals["x"]
    want = {
        "sq": rx_v**2,
        "mixed": (vals["L"] @ vals["x"]) * rx_v**2,
        "ratio": rx_v,
        "g": 2 * np.einsum("o,i->oi", rx_v, vals["x"]),
    }
    for name, ref in want.items():
        node = b[name]
        order = [leg for leg in ("o", "i") if leg in node.legset]
        got = symtn.evaluate(node, vals, order=order)
        assert np.allclose(got, ref), name


def test_summed_squares_and_contractions_share_a_canonical_form() -> None:
    prog = symtn.parse(
        "dim d, h\nleg i : d\nleg o : h\nx: [i]\nA, R: [o, i]\n"
        "check sum(x^2) == x @ x\n"
        "check sum(A^2) == A @ A\n"
        "check sum[i](A^2) == sum[i](A * A)\n"
        "check sum((R @ x)^2) == (R @ x) @ (R @ x)\n"
        "check sum(A^3) == sum(A * A * A)\n"
        "check x^2 @ x == sum(x^3)\n"
        "check x^2 @ x^2 == sum(x^4)\n"
        "check sum[i](A^2 * A) == sum[i](A^3)\n"
    )
    results = [o.result for o in prog.check_all()]
    assert [r.method for r in results] == ["symbolic"] * 8 and all(r.holds for r in results)
    a = np.random.default_rng(6).standard_normal((3, 4))
    partial = simplify(symtn.parse("dim d, h\nleg i : d\nleg o : h\nA: [o, i]\np = sum[i](A^2)\n")["p"])
    assert not any(isinstance(n, Elementwise) for n in preorder(partial))  # A[o, i] A[o', i], o joined
    assert np.allclose(symtn.evaluate(partial, {"A": a}, order=["o"]), np.einsum("oi,oi->o", a, a))


def test_division_convention_at_zero() -> None:
    """x / x is 1 (sympy's convention): equal wherever x / x is defined, the limit at x = 0."""
    x = al.tensor("x", ("i", N))
    values = {"x": np.array([0.0, -2.0, 3.5])}
    cases = [
        (al.divide(x, x), np.array([np.nan, 1.0, 1.0]), np.ones(3)),
        (al.hadamard(al.elementwise(X0**3, x), al.elementwise(X0**-1, x)), np.array([np.nan, 4.0, 12.25]),
         np.array([0.0, 4.0, 12.25])),
    ]
    with np.errstate(divide="ignore", invalid="ignore"):
        for node, raw, simplified in cases:
            before = symtn.evaluate(node, values, sizes={"n": 3})
            after = symtn.evaluate(simplify(node), values, sizes={"n": 3})
            assert np.allclose(before, raw, equal_nan=True)
            assert np.allclose(after, simplified)
            finite = np.isfinite(before)
            assert np.array_equal(before[finite], after[finite])
    # never a changed finite value: (x^2)^(1/2) at negative x is |x|, not x
    root = al.elementwise(X0 ** sp.Rational(1, 2), al.elementwise(X0**2, x))
    assert np.allclose(symtn.evaluate(simplify(root), values, sizes={"n": 3}), [0.0, 2.0, 3.5])


@pytest.mark.parametrize("seed", range(25))
def test_powers_never_change_a_finite_value(seed: int) -> None:
    """Random Hadamard products of powers of x (entries include 0 and negatives)."""
    rng = random.Random(seed)
    x = al.tensor("x", ("i", N))
    node: Node = x
    for _ in range(4):
        exp = rng.choice([-2, -1, 1, 2, 3, sp.Rational(1, 2)])
        if rng.random() < 0.7:
            node = al.hadamard(node, al.elementwise(X0**exp, x))
        else:
            node = al.elementwise(X0**exp, node)
    values = {"x": np.array([0.0, -1.5, 2.0, 0.5])}
    with np.errstate(divide="ignore", invalid="ignore"):
        before = symtn.evaluate(node, values, sizes={"n": 4})
        after = symtn.evaluate(simplify(node), values, sizes={"n": 4})
    finite = np.isfinite(before)
    assert np.allclose(before[finite], after[finite]), (node, simplify(node))


# ------------------------------------------------------------------ 3. bounded expand
def test_expand_budget() -> None:
    legs = [f"l{k}" for k in range(21)]
    net: Node = ONE
    for k in range(20):
        net = Product(net, al.add(mat("A", legs[k], legs[k + 1]), mat("B", legs[k], legs[k + 1])))
    with pytest.raises(SymtnError) as err:
        expand(net)
    message = str(err.value)
    assert err.value.code == "E420" and "1048576 terms" in message and "max_terms=10000" in message
    small = Product(*(al.add(vec("a", f"m{k}"), vec("b", f"m{k}")) for k in range(4)))
    assert len(expand(small, max_terms=16).terms) == 16  # type: ignore[attr-defined]
    with pytest.raises(SymtnError, match="max_terms=15"):
        expand(small, max_terms=15)
    s = simplify(net)  # simplify never expands
    assert sum(1 for n in preorder(s) if isinstance(n, Tensor)) == 40


def test_expand_budget_in_notation() -> None:
    """2^14 paths: the notation's expand(...) stops with E420 at the call's source span."""
    factors = " * ".join(f"(x + y)[a -> b{k}: n]" for k in range(14))
    with pytest.raises(SymtnError) as err:
        symtn.parse(f"dim n\nleg a: n\nx: [a]\ny: [a]\ne = expand({factors})\n")
    assert err.value.code == "E420" and err.value.span is not None
    head = "dim n\nleg a, c: n\nx: [a]\ny: [a]\n"
    four = symtn.parse(head + "e = expand((x + y) * (x + y)[a -> c], max_terms=4)\n")["e"]
    assert isinstance(four, Sum) and len(four.terms) == 4
    with pytest.raises(SymtnError, match="max_terms=3") as err:
        symtn.parse(head + "e = expand((x + y) * (x + y)[a -> c], max_terms=3)\n")
    assert err.value.code == "E420"
    with pytest.raises(SymtnError) as err:
        symtn.parse(head + "e = expand(x + y, budget=3)\n")
    assert err.value.code == "E212"


# ------------------------------------------------------------------ 4. factor and cse
def test_factor_pulls_common_networks() -> None:
    a, b, c = mat("A", "i", "j"), mat("B", "j", "k"), mat("C", "j", "k")
    e = al.add(al.contract(a, b), al.contract(mat("A", "i", "w"), mat("C", "w", "k")))
    f = factor(e)
    assert occurrences(f) == 3 and occurrences(simplify(e)) == 4
    assert isinstance(f, Product) and any(isinstance(x, Sum) for x in f.args)
    assert same_value(e, f)
    assert simplify(f) is f  # simplify keeps the factored form
    assert is_isomorphic(expand(f), expand(e))
    scaled = factor(al.add(al.scale(al.contract(a, b), 2), al.scale(al.contract(a, c), 4)))
    assert isinstance(scaled, Sum) and scaled.coeffs == (2,) and occurrences(scaled) == 3
    s = al.tensor("s")
    scalar_terms = al.add(al.hadamard(s, a), al.hadamard(s, mat("B")))
    common_scalar = factor(scalar_terms)
    assert occurrences(common_scalar) == 3 and same_value(scalar_terms, common_scalar)
    lone = al.add(a, mat("B"))
    assert factor(lone) is simplify(lone)


def test_factor_is_the_inverse_of_expand() -> None:
    a, x = mat("A"), vec("x", "j")
    e = al.contract(al.add(a, mat("B")), al.add(al.contract(mat("C", "j", "k"), vec("y", "k")), x))
    ex = expand(e)
    f = factor(ex)
    assert occurrences(f) < occurrences(ex) and same_value(e, f)


@pytest.mark.parametrize("seed", range(40))
def test_factor_keeps_value_and_legs(seed: int) -> None:
    e = gen(random.Random(seed), 4)
    for node in (e, expand(e)):
        f = factor(node)
        assert f.sizes == e.sizes
        assert same_value(e, f, seed), f"seed {seed}: {node} -> {f}"


def test_factor_in_notation_and_cli(tmp_path: Path) -> None:
    text = (
        "dim n\nleg i, j, k: n\nA: [i, j]\nB: [j, k]\nC: [j, k]\nx: [k]\n"
        "e = A @ B @ x + A @ C @ x\nf = factor(e)\ncheck f == e\n"
    )
    prog = symtn.parse(text)
    assert occurrences(prog["f"]) == 4 and occurrences(simplify(prog["e"])) == 6
    assert all(c.result.holds for c in prog.check_all())
    out = run_cli(tmp_path, text, "e", "--factor")
    assert "(B[" in out and "+ C[" in out and out.count("A[") == 1


def _tanh_net(depth: int) -> tuple[Node, Node]:
    x = al.tensor("x", ("i", N))
    w = al.tensor("W", ("o", N), ("i", N))
    h: Node = x
    for _ in range(depth):
        h = al.elementwise(sp.tanh(X0), al.rename(al.contract(w, h), {"o": "i"}))
    return al.sum_legs(h, ["i"]), w


def test_cse_prints_shared_subexpressions_once_and_parses_back() -> None:
    loss, w = _tanh_net(3)
    g = symtn.diff(loss, w)
    sharing = cse(g)
    assert len(sharing.bindings) >= 2 and all(u >= 2 for u in sharing.uses.values())
    text = sharing.notation("g")
    assert text.count("\n") == len(sharing.bindings)
    prog = symtn.parse(declarations(g) + text)
    rng = np.random.default_rng(0)
    values = {"x": rng.standard_normal(3), "W": rng.standard_normal((3, 3))}
    want = symtn.evaluate(g, values, sizes={"n": 3}, order=g.legs)
    got = symtn.evaluate(prog["g"], values, sizes={"n": 3}, order=g.legs)
    assert np.allclose(want, got)
    # the evaluator already computes a shared node once: same result, one memo entry per node
    assert np.allclose(symtn.evaluate(loss, values, sizes={"n": 3}), _dense_tanh_loss(values, 3))


def _dense_tanh_loss(values: dict[str, np.ndarray], depth: int) -> float:
    h = values["x"]
    for _ in range(depth):
        h = np.tanh(values["W"] @ h)
    return float(h.sum())


def test_cli_cse(tmp_path: Path) -> None:
    text = "dim n\nleg i, o: n\nx: [i]\nW: [o, i]\nh = tanh(W @ x)[o -> i]\n"
    text += "l = sum(h * h + tanh(W @ h)[o -> i])\n"
    out = run_cli(tmp_path, text, "l", "--cse").strip().splitlines()
    assert out[0].startswith("s1 = ") and out[-1].startswith("l = ") and "s1" in out[-1]


# ------------------------------------------------------------------ 5. symmetric derivatives
def _sym_problem() -> tuple[Node, Node, dict[str, np.ndarray]]:
    s = al.tensor("S", ("i", N), ("j", N), facts=[("symmetric", (("i",), ("j",)))])
    a = al.tensor("A", ("j", N), ("k", N))
    x = al.tensor("x", ("i", N))
    f = al.add(
        al.contract(x, s, al.rename(x, {"i": "j"})),
        al.sum_legs(al.elementwise(sp.tanh(X0), al.contract(s, a)), ["i", "k"]),
    )
    rng = np.random.default_rng(5)
    m = rng.standard_normal((4, 4))
    values = {"S": m + m.T, "A": rng.standard_normal((4, 4)), "x": rng.standard_normal(4)}
    return f, s, values


def test_constrained_derivative_matches_finite_differences() -> None:
    """dF/ds_ij with S_ij = S_ji = s_ij moved together: G + G^T - G o I."""
    f, s, values = _sym_problem()
    sizes = {"n": 4}

    def value(sm: np.ndarray) -> float:
        return float(symtn.evaluate(f, {**values, "S": sm}, sizes=sizes))

    g = symtn.evaluate(symtn.diff(f, s), values, sizes=sizes, order=("i", "j"))
    c = symtn.evaluate(symtn.diff(f, s, symmetric="constrained"), values, sizes=sizes, order=("i", "j"))
    eps = 1e-6
    for a in range(4):
        for b in range(a, 4):
            e = np.zeros((4, 4))
            e[a, b] = e[b, a] = 1.0
            fd = (value(values["S"] + eps * e) - value(values["S"] - eps * e)) / (2 * eps)
            assert abs(fd - c[a, b]) < 1e-6
    assert np.allclose(c, g + g.T - np.diag(np.diag(g)))
    assert not np.allclose(c, g)  # the default is unchanged (unconstrained)


def test_projected_derivative_is_the_frobenius_gradient() -> None:
    """sym(G): dF = <sym(G), V> for every symmetric direction V (Srinivasan & Panda 2023)."""
    f, s, values = _sym_problem()
    sizes = {"n": 4}
    p = symtn.evaluate(symtn.diff(f, s, symmetric="projected"), values, sizes=sizes, order=("i", "j"))
    assert np.allclose(p, p.T)
    rng = np.random.default_rng(9)
    eps = 1e-6
    for _ in range(3):
        v = rng.standard_normal((4, 4))
        v = v + v.T
        up = float(symtn.evaluate(f, {**values, "S": values["S"] + eps * v}, sizes=sizes))
        down = float(symtn.evaluate(f, {**values, "S": values["S"] - eps * v}, sizes=sizes))
        assert abs((up - down) / (2 * eps) - float(np.sum(p * v))) < 1e-6


def test_antisymmetric_and_unsupported_conventions() -> None:
    k = al.tensor("K", ("i", N), ("j", N), facts=[("antisymmetric", (("i",), ("j",)))])
    b = al.tensor("B", ("i", N), ("j", N))
    f = al.sum_legs(al.elementwise(sp.sin(X0), al.hadamard(k, b)), ["i", "j"])
    rng = np.random.default_rng(2)
    m = rng.standard_normal((3, 3))
    values = {"K": m - m.T, "B": rng.standard_normal((3, 3))}
    c = symtn.evaluate(symtn.diff(f, k, symmetric="constrained"), values, sizes={"n": 3}, order=("i", "j"))
    eps = 1e-6
    for a, bb in [(0, 1), (0, 2), (1, 2)]:
        e = np.zeros((3, 3))
        e[a, bb], e[bb, a] = 1.0, -1.0
        up = float(symtn.evaluate(f, {**values, "K": values["K"] + eps * e}, sizes={"n": 3}))
        down = float(symtn.evaluate(f, {**values, "K": values["K"] - eps * e}, sizes={"n": 3}))
        assert abs((up - down) / (2 * eps) - c[a, bb]) < 1e-6
    t = al.tensor("T", ("i", N), ("j", N), ("k", N), facts=[("symmetric", (("i",), ("j",), ("k",)))])
    cubic = al.contract(t, al.tensor("u", ("i", N)), al.tensor("v", ("j", N)), al.tensor("w", ("k", N)))
    with pytest.raises(NoRuleError) as err:
        symtn.diff(cubic, t, symmetric="constrained")
    assert err.value.code == "E216"
    with pytest.raises(NoRuleError, match="unknown symmetric convention"):
        symtn.diff(cubic, t, symmetric="sym")
    projected = symtn.diff(cubic, t, symmetric="projected")
    tv = rng.standard_normal((3, 3, 3))
    tv = sum(np.transpose(tv, p) for p in permutations(range(3))) / 6
    vals = {"T": tv, "u": rng.standard_normal(3), "v": rng.standard_normal(3), "w": rng.standard_normal(3)}
    got = symtn.evaluate(projected, vals, sizes={"n": 3}, order=("i", "j", "k"))
    g = np.einsum("i,j,k->ijk", vals["u"], vals["v"], vals["w"])
    assert np.allclose(got, sum(np.transpose(g, p) for p in permutations(range(3))) / 6)


SYM_GRAD = """dim n
leg i, j: n
S: [i, j] symmetric(i, j)
A: [i, j]
x: [i]
f = x @ S @ x[i -> j] + sum(tanh(S @ A[i -> j, j -> k: n]))
g = d(f)/d(S)
p = sym_grad(f, S)
c = sym_grad(f, S, convention=constrained)
"""


def test_sym_grad_in_notation() -> None:
    prog = symtn.parse(SYM_GRAD)
    rng = np.random.default_rng(4)
    m = rng.standard_normal((3, 3))
    values = {"S": m + m.T, "A": rng.standard_normal((3, 3)), "x": rng.standard_normal(3)}
    g, p, c = (symtn.evaluate(prog[k], values, sizes={"n": 3}, order=("i", "j")) for k in "gpc")
    assert np.allclose(p, (g + g.T) / 2)
    assert np.allclose(c, g + g.T - np.diag(np.diag(g)))
    assert prog.order("c") == ("i", "j")
    with pytest.raises(SymtnError) as err:
        symtn.parse(SYM_GRAD + "bad = sym_grad(f, A)\n")
    assert err.value.code == "E210"
    with pytest.raises(SymtnError) as err:
        symtn.parse(SYM_GRAD + "bad = sym_grad(f, S, convention=vech)\n")
    assert err.value.code == "E216"  # an unknown convention, as from symtn.diff(..., symmetric=)
    assert "projected and constrained" in err.value.message
    with pytest.raises(SymtnError) as err:
        symtn.parse(SYM_GRAD + "bad = sym_grad(f, S, order=2)\n")
    assert err.value.code == "E212"


def test_constrained_hessian_matches_finite_differences() -> None:
    """Second partials by the independent entries: d2F / ds_ab ds_cd (a <= b, c <= d)."""
    s = al.tensor("S", ("i", N), ("j", N), facts=[("symmetric", (("i",), ("j",)))])
    a = al.tensor("A", ("j", N), ("k", N))
    f = al.sum_legs(al.elementwise(sp.sin(X0), al.contract(s, a)), ["i", "k"])
    h = symtn.hessian(f, s, symmetric="constrained")
    rng = np.random.default_rng(8)
    m = rng.standard_normal((3, 3))
    values = {"S": m + m.T, "A": rng.standard_normal((3, 3))}
    got = symtn.evaluate(h, values, sizes={"n": 3}, order=("i", "j", "i'", "j'"))

    def unit(p: int, q: int) -> np.ndarray:
        e = np.zeros((3, 3))
        e[p, q] = e[q, p] = 1.0
        return e

    def value(sm: np.ndarray) -> float:
        return float(symtn.evaluate(f, {**values, "S": sm}, sizes={"n": 3}))

    eps = 1e-4
    pairs = [(0, 0), (0, 1), (1, 2), (2, 2)]
    for p, q in pairs:
        for r, t in pairs:
            e1, e2 = eps * unit(p, q), eps * unit(r, t)
            sv = values["S"]
            fd = (value(sv + e1 + e2) - value(sv + e1 - e2) - value(sv - e1 + e2) + value(sv - e1 - e2)) / (
                4 * eps * eps
            )
            assert abs(fd - got[p, q, r, t]) < 1e-5, (p, q, r, t)
