"""The numpy backend against hand-written numpy (einsum, reshape, masks)."""

from __future__ import annotations

from collections import Counter
from typing import Any

import numpy as np
import pytest
import sympy as sp

from symtn.errors import EvaluationError, NoRuleError
from symtn.ir import algebra as A
from symtn.ir.nodes import Bubble, Delta, Iverson, Node, Product, Reshape, Shifted, Zero, arg_symbols
from symtn.lower import bind_sizes, evaluate, stable
from symtn.lower import numpy_backend as backend

X0, X1 = arg_symbols(2)
RNG = np.random.default_rng(0)


def rand(*shape: int) -> np.ndarray:
    return RNG.standard_normal(shape)


def n_(name: str) -> sp.Symbol:
    return sp.Symbol(name, integer=True, positive=True)


# ------------------------------------------------------------------ networks


def test_matrix_chain() -> None:
    a = A.tensor("A", ("i", "m"), ("j", "n"))
    b = A.tensor("B", ("j", "n"), ("k", "p"))
    c = A.tensor("C", ("k", "p"), ("l", 2))
    va, vb, vc = rand(3, 4), rand(4, 5), rand(5, 2)
    got = evaluate(a @ b @ c, {"A": va, "B": vb, "C": vc})
    np.testing.assert_allclose(got, va @ vb @ vc)


def test_matrix_vector_and_renamed_occurrence() -> None:
    w = A.tensor("W", out="n", inp="n")
    x = A.tensor("x", inp="n")
    vw, vx = rand(4, 4), rand(4)
    # W @ W[out -> mid, inp -> out]: W[out, inp] @ W[mid, out] -> [inp, mid]
    e = w @ A.rename(w, {"out": "mid", "inp": "out"}) @ A.rename(x, {"inp": "mid"})
    got = evaluate(e, {"W": vw, "x": vx})
    np.testing.assert_allclose(got, np.einsum("oi,mo,m->i", vw, vw, vx))


def test_trace() -> None:
    a = A.tensor("A", ("i", "n"), ("j", "n"))
    va = rand(5, 5)
    got = evaluate(a @ A.delta("i", "j", size="n"), {"A": va})
    assert got.shape == ()
    np.testing.assert_allclose(got, np.trace(va))


def test_diagonal_via_order3_delta() -> None:
    a = A.tensor("A", ("i", "n"), ("j", "n"))
    va = rand(4, 4)
    got = evaluate(a @ A.delta("i", "j", "k", size="n"), {"A": va})
    np.testing.assert_allclose(got, np.diag(va))


def test_diag_embedding_of_vector() -> None:
    v = A.tensor("v", ("i", "n"))
    vv = rand(4)
    got = evaluate(v * A.delta("i", "j", size="n"), {"v": vv}, order=["i", "j"])
    np.testing.assert_allclose(got, np.diag(vv))


def test_hadamard() -> None:
    x = A.tensor("x", ("i", "n"), ("j", "m"))
    y = A.tensor("y", ("j", "m"), ("i", "n"))
    vx, vy = rand(3, 4), rand(4, 3)
    e = A.hadamard(x, y)
    assert any(isinstance(f, Delta) and f.order == 3 for f in e.args)
    got = evaluate(e, {"x": vx, "y": vy}, order=["i", "j"])
    np.testing.assert_allclose(got, vx * vy.T)


def test_hadamard_with_contraction() -> None:
    a = A.tensor("A", ("i", "n"), ("j", "n"))
    b = A.tensor("B", ("j", "n"), ("k", "n"))
    va, vb = rand(3, 3), rand(3, 3)
    got = evaluate(A.hadamard(a, b), {"A": va, "B": vb}, order=["i", "j", "k"])
    np.testing.assert_allclose(got, np.einsum("ij,jk->ijk", va, vb))


def test_outer_product() -> None:
    u, v = A.tensor("u", ("i", 3)), A.tensor("v", ("j", 4))
    vu, vv = rand(3), rand(4)
    np.testing.assert_allclose(evaluate(A.outer(u, v), {"u": vu, "v": vv}), np.outer(vu, vv))


def test_sum_legs_and_project() -> None:
    t = A.tensor("T", ("a", 2), ("b", 3), ("c", 4))
    vt = rand(2, 3, 4)
    np.testing.assert_allclose(evaluate(A.sum_legs(t, ["b"]), {"T": vt}), vt.sum(axis=1))
    np.testing.assert_allclose(evaluate(A.sum_legs(t, ["a", "b", "c"]), {"T": vt}), vt.sum())
    e = A.project(t, ["c", "a"])
    np.testing.assert_allclose(evaluate(e, {"T": vt}, order=["c", "a"]), vt.sum(axis=1).T)


def test_broadcast_add() -> None:
    x = A.tensor("x", ("b", "nb"), ("d", "nd"))
    bias = A.tensor("bias", ("d", "nd"))
    vx, vb = rand(5, 3), rand(3)
    np.testing.assert_allclose(evaluate(A.add(x, bias), {"x": vx, "bias": vb}), vx + vb)
    np.testing.assert_allclose(
        evaluate(A.add(bias, x, sign=-1), {"x": vx, "bias": vb}, order=["b", "d"]), vb - vx
    )


def test_sum_terms_in_different_leg_orders() -> None:
    x = A.tensor("x", ("i", 3), ("j", 4))
    y = A.tensor("y", ("j", 4), ("i", 3))
    vx, vy = rand(3, 4), rand(4, 3)
    got = evaluate(x + 2 * y, {"x": vx, "y": vy}, order=["j", "i"])
    np.testing.assert_allclose(got, vx.T + 2 * vy)


def test_coefficient_with_size_symbol() -> None:
    x = A.tensor("x", ("b", "n"), ("d", 3))
    vx = rand(6, 3)
    mean = A.scale(A.sum_legs(x, ["b"]), 1 / n_("n"))
    np.testing.assert_allclose(evaluate(mean, {"x": vx}), vx.mean(axis=0))
    assert isinstance(mean.args[1][0], sp.Expr) and mean.args[1][0].free_symbols


def test_nested_products_and_frozen() -> None:
    w = A.tensor("W", ("o", 3), ("i", 4))
    x = A.tensor("x", ("i", 4))
    vw, vx = rand(3, 4), rand(4)
    h = A.frozen(w @ x)
    e = A.contract(h, A.rename(h, {"o": "p"}))
    np.testing.assert_allclose(evaluate(e, {"W": vw, "x": vx}), np.outer(vw @ vx, vw @ vx))


def test_zero_factor() -> None:
    x = A.tensor("x", ("i", 3))
    e = Product(x, Zero((("j", sp.Integer(2)),)))
    got = evaluate(e, {"x": rand(3)})
    assert got.shape == (3, 2) and not got.any()


# ------------------------------------------------------------------ elementwise


def test_elementwise_unary() -> None:
    x = A.tensor("x", ("i", 3), ("j", 4))
    vx = rand(3, 4)
    cases = [(sp.tanh(X0), np.tanh(vx)), (sp.exp(X0), np.exp(vx)), (sp.Max(0, X0), np.maximum(vx, 0))]
    for fn, want in cases:
        np.testing.assert_allclose(evaluate(A.elementwise(fn, x), {"x": vx}), want)
    np.testing.assert_allclose(evaluate(x**2, {"x": vx}), vx**2)
    np.testing.assert_allclose(evaluate(A.elementwise(sp.Heaviside(X0), x), {"x": vx}), (vx > 0) * 1.0)
    np.testing.assert_allclose(evaluate(A.elementwise(sp.erf(X0), x), {"x": vx}), _erf(vx), rtol=1e-12)


def _erf(v: np.ndarray) -> np.ndarray:
    import math

    return np.vectorize(math.erf)(v)


def test_elementwise_two_operands_broadcast() -> None:
    x = A.tensor("x", ("i", 3), ("j", 4))
    y = A.tensor("y", ("j", 4), ("i", 3))
    p = A.tensor("p", ("j", 4))
    vx, vy, vp = np.abs(rand(3, 4)) + 0.5, rand(4, 3), rand(4)
    got = evaluate(A.elementwise(X0**X1, x, y), {"x": vx, "y": vy})
    np.testing.assert_allclose(got, vx**vy.T)
    got = evaluate(A.power(x, p), {"x": vx, "p": vp})
    np.testing.assert_allclose(got, vx ** vp[None, :])
    got = evaluate(x / y, {"x": vx, "y": vy})
    np.testing.assert_allclose(got, vx / vy.T)


def test_logsumexp_is_stable() -> None:
    x = A.tensor("x", ("b", 2), ("v", 5))
    e = A.elementwise(sp.log(X0), A.sum_legs(A.elementwise(sp.exp(X0), x), ["v"]))
    assert stable.logsumexp_parts(e) is not None
    vx = 1000 + rand(2, 5)
    got = evaluate(e, {"x": vx})
    m = vx.max(axis=1)
    want = m + np.log(np.exp(vx - m[:, None]).sum(axis=1))
    assert np.all(np.isfinite(got))
    np.testing.assert_allclose(got, want)
    vneg = -1000 + rand(2, 5)
    got = evaluate(e, {"x": vneg})
    m = vneg.max(axis=1)
    np.testing.assert_allclose(got, m + np.log(np.exp(vneg - m[:, None]).sum(axis=1)))


def test_logsumexp_over_all_legs() -> None:
    x = A.tensor("x", ("b", 2), ("v", 5))
    e = A.elementwise(sp.log(X0), A.sum_legs(A.elementwise(sp.exp(X0), x), ["v", "b"]))
    vx = 800 + rand(2, 5)
    got = evaluate(e, {"x": vx})
    np.testing.assert_allclose(got, vx.max() + np.log(np.exp(vx - vx.max()).sum()))


# ------------------------------------------------------------------ constants


def test_shifted_previous_token() -> None:
    x = A.tensor("x", ("s", "n_ctx"), ("d", 3))
    prev = Shifted(n_("n_ctx"), "t", "s", 1)  # 1 where t == s + 1
    vx = rand(5, 3)
    got = evaluate(A.contract(prev, x), {"x": vx})
    want = np.zeros_like(vx)
    want[1:] = vx[:-1]
    np.testing.assert_allclose(got, want)
    np.testing.assert_allclose(evaluate(Shifted(4, "a", "b", -2), {}), np.eye(4, k=2))


def test_iverson_causal_mask() -> None:
    scores = A.tensor("S", ("q", "n"), ("k", "n"))
    vs = rand(4, 4)
    got = evaluate(A.hadamard(scores, Iverson(n_("n"), "k", "<=", "q")), {"S": vs}, order=["q", "k"])
    np.testing.assert_allclose(got, vs * np.tril(np.ones((4, 4))))
    i, j = np.indices((4, 4))
    for op, want in [("<", i < j), ("<=", i <= j), (">", i > j), (">=", i >= j), ("!=", i != j)]:
        np.testing.assert_array_equal(evaluate(Iverson(4, "a", op, "b"), {}), want * 1.0)


def test_free_identity_and_ones() -> None:
    np.testing.assert_array_equal(evaluate(A.delta("i", "j", size=3), {}), np.eye(3))
    np.testing.assert_array_equal(evaluate(A.delta("i", size="n"), {}, sizes={"n": 4}), np.ones(4))
    copy3 = evaluate(A.delta("i", "j", "k", size=3), {})
    assert copy3.shape == (3, 3, 3) and copy3.sum() == 3 and copy3[1, 1, 1] == 1
    # a delta beside a dense factor it does not touch: broadcast identity
    x = A.tensor("x", ("a", 2))
    vx = rand(2)
    got = evaluate(A.contract(x, A.delta("i", "j", size=3)), {"x": vx})
    np.testing.assert_allclose(got, np.einsum("a,ij->aij", vx, np.eye(3)))


def test_delta_chain_and_repeated_output() -> None:
    x = A.tensor("x", ("a", 3))
    vx = rand(3)
    # x[a] @ delta[a, b, c]: two free legs joined with x: diag(x)
    got = evaluate(A.contract(x, A.delta("a", "b", "c", size=3)), {"x": vx})
    np.testing.assert_allclose(got, np.diag(vx))
    # delta[i, j] @ delta[j, k] is the identity on [i, k]; a delta loop is the size
    e = A.contract(A.delta("i", "j", size=4), A.delta("j", "k", size=4))
    np.testing.assert_array_equal(evaluate(e, {}), np.eye(4))
    loop = A.contract(A.delta("i", "j", size="n"), A.delta("j", "i", size="n"))
    assert evaluate(loop, {}, sizes={"n": 7}) == 7


def test_order0_delta_is_size() -> None:
    assert evaluate(Delta(n_("n"), ()), {}, sizes={"n": 5}) == 5
    x = A.tensor("x", ("i", "n"))
    vx = rand(6)
    np.testing.assert_allclose(evaluate(Product(x, Delta(n_("n"), ())), {"x": vx}), 6 * vx)


# ------------------------------------------------------------------ reshape


def test_merge_c_order() -> None:
    x = A.tensor("x", ("a", 2), ("b", 3), ("c", 4))
    vx = rand(2, 3, 4)
    got = evaluate(A.merge(x, ["a", "b"], "ab"), {"x": vx}, order=["ab", "c"])
    np.testing.assert_allclose(got, vx.reshape(6, 4))
    got = evaluate(A.merge(x, ["c", "a"], "ca"), {"x": vx}, order=["b", "ca"])
    np.testing.assert_allclose(got, vx.transpose(1, 2, 0).reshape(3, 8))


def test_split_c_order() -> None:
    y = A.tensor("y", ("w", 12), ("d", 2))
    vy = rand(12, 2)
    e = A.split(y, "w", [("p", 3), ("q", 4)])
    got = evaluate(e, {"y": vy}, order=["p", "q", "d"])
    np.testing.assert_allclose(got, vy.reshape(3, 4, 2))


def test_symbolic_merge_then_split_and_sum() -> None:
    x = A.tensor("x", ("a", "m"), ("b", "n"))
    vx = rand(3, 5)
    merged = A.merge(x, ["a", "b"], "f")
    back = A.split(merged, "f", [("p", n_("m")), ("q", n_("n"))])
    np.testing.assert_allclose(evaluate(back, {"x": vx}, order=["p", "q"]), vx)
    np.testing.assert_allclose(evaluate(A.sum_legs(merged, ["f"]), {"x": vx}), vx.sum())
    w = A.tensor("W", ("f", n_("m") * n_("n")), ("o", 2))
    vw = rand(15, 2)
    np.testing.assert_allclose(evaluate(A.contract(merged, w), {"x": vx, "W": vw}), vx.reshape(-1) @ vw)


def test_incompatible_reshapes_fall_back() -> None:
    x = A.tensor("x", ("a", 2), ("b", 6))
    merged = A.merge(x, ["a", "b"], "f")
    e = A.split(merged, "f", [("p", 3), ("q", 4)])
    got = evaluate(e, {"x": (vx := rand(2, 6))}, order=["p", "q"])
    np.testing.assert_allclose(got, vx.reshape(3, 4))


def test_free_reshape_tensor() -> None:
    r = Reshape((("x", 2), ("y", 3)), ("z", 6))
    got = evaluate(r, {})
    want = np.zeros((2, 3, 6))
    for i in range(2):
        for j in range(3):
            want[i, j, i * 3 + j] = 1
    np.testing.assert_array_equal(got, want)


# ------------------------------------------------------------------ bubbles


def test_max_min_bubbles() -> None:
    x = A.tensor("x", ("b", 3), ("v", 4), ("c", 2))
    vx = rand(3, 4, 2)
    np.testing.assert_allclose(evaluate(A.bubble("max", x, ["v"], []), {"x": vx}), vx.max(axis=1))
    got = evaluate(A.bubble("min", x, ["c", "b"], []), {"x": vx})
    np.testing.assert_allclose(got, vx.min(axis=(0, 2)))


def test_jacobian_of_max_is_one_hot_with_ties_split() -> None:
    x = A.tensor("x", ("b", 2), ("v", 3))
    vx = np.array([[1.0, 5.0, 2.0], [4.0, 4.0, 0.0]])
    got = evaluate(Bubble("jac[max]", x, ("v",), (("v'", 3),)), {"x": vx}, order=["b", "v'"])
    np.testing.assert_allclose(got, np.array([[0, 1, 0], [0.5, 0.5, 0]]))


def test_opaque_bubble_has_no_rule() -> None:
    x = A.tensor("x", ("i", 3))
    with pytest.raises(NoRuleError, match="`f`"):
        evaluate(A.bubble("f", x, ["i"], [("o", 2)]), {"x": rand(3)})


# ------------------------------------------------------------------ sizes and errors


def test_bind_sizes_solves_and_checks() -> None:
    a = A.tensor("A", ("i", "m"), ("j", "n"))
    f = A.tensor("F", ("k", n_("m") * n_("n")))
    bound = bind_sizes(A.outer(a, f), {"A": rand(2, 3), "F": rand(6)})
    assert bound == {n_("m"): 2, n_("n"): 3}
    g = A.tensor("G", ("k", n_("m") * n_("p")))
    assert bind_sizes(A.outer(a, g), {"A": rand(2, 3), "G": rand(10)})[n_("p")] == 5


def test_size_mismatch_names_both_legs() -> None:
    x = A.tensor("x", ("t", "n_ctx"), ("d", 3))
    a = A.tensor("A", ("s", "n_ctx"))
    with pytest.raises(
        EvaluationError, match=r"leg `t` of `x` has size 12 but `n_ctx` was bound to 10 by `A`"
    ):
        evaluate(A.outer(a, x), {"A": rand(10), "x": rand(12, 3)})
    with pytest.raises(EvaluationError, match="declared 3"):
        evaluate(x, {"x": rand(12, 4)})
    f = A.tensor("F", ("k", n_("m") * n_("n")))
    b = A.tensor("B", ("i", "m"), ("j", "n"))
    with pytest.raises(EvaluationError, match="m\\*n|m \\* n"):
        evaluate(A.outer(b, f), {"B": rand(2, 3), "F": rand(7)})


def test_missing_input_and_axes() -> None:
    w = A.tensor("W1", ("hid", "h"), ("inp", "i"))
    with pytest.raises(EvaluationError, match=r"missing input for tensor W1 \[hid, inp\]"):
        evaluate(w, {})
    x = A.tensor("x", ("t", "n"), ("d", "m"))
    with pytest.raises(EvaluationError, match=r"x has 3 axes but is declared \[t, d\]"):
        evaluate(x, {"x": rand(2, 3, 4)})
    with pytest.raises(EvaluationError, match=r"size n is not bound: pass sizes=\{'n': \.\.\.\}"):
        evaluate(A.delta("i", size="n"), {})
    with pytest.raises(EvaluationError, match="cannot be converted"):
        evaluate(A.tensor("s", ("i", 2)), {"s": ["a", "b"]})


def test_user_sizes_checked_against_inputs() -> None:
    x = A.tensor("x", ("i", "n"))
    with pytest.raises(EvaluationError, match="bound to 5 by sizes="):
        evaluate(x, {"x": rand(4)}, sizes={"n": 5})
    with pytest.raises(EvaluationError):
        evaluate(x, {"x": rand(4)}, sizes={"n": 0})


def test_output_order() -> None:
    t = A.tensor("T", ("a", 2), ("b", 3), ("c", 4))
    vt = rand(2, 3, 4)
    for perm in [("a", "b", "c"), ("c", "a", "b"), ("b", "c", "a")]:
        want = vt.transpose(["abc".index(p) for p in perm])
        np.testing.assert_array_equal(evaluate(t, {"T": vt}, order=perm), want)
    with pytest.raises(EvaluationError, match="not a permutation"):
        evaluate(t, {"T": vt}, order=["a", "b"])


def test_result_is_a_fresh_array() -> None:
    vx = rand(3)
    got = evaluate(A.tensor("x", ("i", 3)), {"x": vx})
    got[0] = 99.0
    assert vx[0] != 99.0


# ------------------------------------------------------------------ sharing


def test_shared_subexpressions_computed_once(monkeypatch: pytest.MonkeyPatch) -> None:
    w = A.tensor("W", ("o", 4), ("i", 4))
    x = A.tensor("x", ("i", 4))
    h = A.elementwise(sp.tanh(X0), w @ x)
    h2 = A.rename(h, {"o": "p"})
    e = A.add(A.hadamard(h, h), A.elementwise(sp.exp(X0), h)) + A.sum_legs(A.outer(h, h2), ["p"])
    calls: Counter[Node] = Counter()
    real = backend.Evaluator.compute

    def spy(self: Any, node: Node) -> np.ndarray:
        calls[node] += 1
        return real(self, node)

    monkeypatch.setattr(backend.Evaluator, "compute", spy)
    vw, vx = rand(4, 4), rand(4)
    got = evaluate(e, {"W": vw, "x": vx})
    hv = np.tanh(vw @ vx)
    np.testing.assert_allclose(got, hv * hv + np.exp(hv) + hv * hv.sum())
    # h is reached as itself and as renamed copies (hadamard renames its legs apart, h2 renames
    # o -> p): all of them are one value, computed once (the memo is up to leg renaming)
    by_form = Counter(backend.alpha_key(n) for n in calls.elements())
    assert by_form[backend.alpha_key(h)] == 1 and by_form[backend.alpha_key(w)] == 1
    assert max(by_form.values()) == 1


def test_flat_reshape_networks() -> None:
    from symtn.lower.plan import ReshapeConflict, plan_network

    x = A.tensor("x", ("a", 2), ("b", 6))
    vx = rand(2, 6)
    r1 = Reshape((("a", 2), ("b", 6)), ("f", 12))
    # compatible: split f back into digits of the same sizes -> a single einsum, no conflict
    r2 = Reshape((("p", 2), ("q", 6)), ("f", 12))
    e = Product(x, r1, r2)
    plan = plan_network(e.args, e.legs, int)
    assert len(plan.operands) == 1
    np.testing.assert_allclose(evaluate(e, {"x": vx}, order=["p", "q"]), vx)
    # incompatible digits (2 x 6 against 3 x 4): planned with one reshape evaluated alone
    r3 = Reshape((("p", 3), ("q", 4)), ("f", 12))
    e = Product(x, r1, r3)
    with pytest.raises(ReshapeConflict):
        plan_network(e.args, e.legs, int)
    np.testing.assert_allclose(evaluate(e, {"x": vx}, order=["p", "q"]), vx.reshape(3, 4))
    # a reshape whose digit is tied back to the whole by a delta (a cycle) also falls back
    y = A.tensor("y", ("c", 1), ("d", 5))
    cyc = Product(y, Reshape((("c", 1), ("e", 5)), ("g", 5)), Delta(sp.Integer(5), ("e", "g", "d")))
    vy = rand(1, 5)
    np.testing.assert_allclose(evaluate(cyc, {"y": vy}), vy.sum())


def test_merged_leg_summed_in_one_network() -> None:
    x = A.tensor("x", ("a", 2), ("b", 3))
    r = Reshape((("a", 2), ("b", 3)), ("f", 6))
    vx = rand(2, 3)
    e = Product(x, r, Delta(sp.Integer(6), ("f",)))
    np.testing.assert_allclose(evaluate(e, {"x": vx}), vx.sum())
    # sum of the bare reshape tensor over every leg: one entry per (a, b)
    e = Product(r, Delta(sp.Integer(2), ("a",)), Delta(sp.Integer(3), ("b",)), Delta(sp.Integer(6), ("f",)))
    assert evaluate(e, {}) == 6


def test_softmax_is_stable() -> None:
    x = A.tensor("x", ("b", 3), ("v", 5))
    e = A.elementwise(sp.exp(X0), x)
    soft = A.divide(e, A.sum_legs(e, ["v"]))
    assert stable.softmax_parts(soft) is not None
    vx = 1000 + rand(3, 5)
    got = evaluate(soft, {"x": vx}, order=["b", "v"])
    z = np.exp(vx - vx.max(axis=1, keepdims=True))
    np.testing.assert_allclose(got, z / z.sum(axis=1, keepdims=True))
    # softmax over every leg (no kept legs) and over the leading leg
    whole = A.divide(e, A.sum_legs(e, ["v", "b"]))
    got = evaluate(whole, {"x": vx}, order=["b", "v"])
    np.testing.assert_allclose(got, np.exp(vx - vx.max()) / np.exp(vx - vx.max()).sum())
    cols = A.divide(e, A.sum_legs(e, ["b"]))
    z = np.exp(vx - vx.max(axis=0))
    np.testing.assert_allclose(evaluate(cols, {"x": vx}, order=["b", "v"]), z / z.sum(axis=0))
    # a near miss (different numerator) is evaluated as a plain network
    y = A.tensor("y", ("b", 3), ("v", 5))
    other = A.divide(A.elementwise(sp.exp(X0), y), A.sum_legs(e, ["v"]))
    assert stable.softmax_parts(other) is None
    vy = rand(3, 5)
    vx = rand(3, 5)
    want = np.exp(vy) / np.exp(vx).sum(axis=1, keepdims=True)
    np.testing.assert_allclose(evaluate(other, {"x": vx, "y": vy}, order=["b", "v"]), want)


def test_matrix_function_bubbles() -> None:
    x = A.tensor("X", ("k", 2), ("i", 3), ("j", 3))
    vx = rand(2, 3, 3) + 3 * np.eye(3)
    np.testing.assert_allclose(evaluate(Bubble("det", x, ("i", "j"), ()), {"X": vx}), np.linalg.det(vx))
    got = evaluate(Bubble("logdet", x, ("i", "j"), ()), {"X": vx})
    np.testing.assert_allclose(got, np.log(np.linalg.det(vx)))
    inv = Bubble("inv", x, ("i", "j"), (("i", 3), ("j", 3)))
    got = evaluate(inv, {"X": vx}, order=["k", "i", "j"])
    np.testing.assert_allclose(got, np.swapaxes(np.linalg.inv(vx), 1, 2))
    # X @ inv(X)[i -> i'] contracting j is the identity
    xinv = A.contract(x, A.rename(inv, {"i": "i2", "k": "k2"}), A.delta("k", "k2", "k3", size=2))
    got = evaluate(xinv, {"X": vx}, order=["k3", "i", "i2"])
    np.testing.assert_allclose(got, np.broadcast_to(np.eye(3), (2, 3, 3)), atol=1e-12)
    with pytest.raises(EvaluationError):
        evaluate(Bubble("inv", x, ("i", "j"), (("i", 3), ("j", 3))), {"X": np.zeros((2, 3, 3))})


def test_long_chain_uses_greedy_path() -> None:
    k = backend.GREEDY_ABOVE + 4
    mats = [A.tensor(f"M{i}", (f"l{i}", "n"), (f"l{i + 1}", "n")) for i in range(k)]
    vals = {f"M{i}": rand(3, 3) / 2 for i in range(k)}
    want = vals["M0"]
    for i in range(1, k):
        want = want @ vals[f"M{i}"]
    np.testing.assert_allclose(evaluate(A.contract(*mats), vals), want)


def test_same_expression_with_new_sizes_and_dtype() -> None:
    a = A.tensor("A", ("i", "n"), ("j", "n"))
    x = A.tensor("x", ("j", "n"))
    for n in (3, 4, 3):
        va, vx = rand(n, n), rand(n)
        np.testing.assert_allclose(evaluate(a @ x, {"A": va, "x": vx}), va @ vx)
    got = evaluate(a @ x, {"A": va, "x": vx}, dtype=np.float32)
    assert got.dtype == np.float32
    np.testing.assert_allclose(got, va @ vx, rtol=1e-5)


def test_compiled_contraction_multiplies_in_place_only_into_fresh_arrays() -> None:
    from symtn.lower.compiled import Compiled

    rng = np.random.default_rng(3)
    shapes = [(6, 4), (5, 4), (6, 3), (5, 3)]  # the longer side first: no transposes
    ops = [rng.standard_normal(s) for s in shapes]
    c = Compiled("ab,cb,ad,cd->ac", shapes, [(0, 1), (0, 1), (0, 1)])  # (A B^T) * (C D^T)
    assert "out=t0" in c.source
    before = [o.copy() for o in ops]
    np.testing.assert_allclose(c(*ops), (ops[0] @ ops[1].T) * (ops[2] @ ops[3].T), rtol=1e-12)
    assert all(np.array_equal(o, b) for o, b in zip(ops, before, strict=True))  # inputs untouched
    v = [rng.standard_normal(4) for _ in range(4)]  # scalar products: no out= into a 0-d result
    s = Compiled("a,a,b,b->", [(4,)] * 4, [(0, 1), (0, 1), (0, 1)])
    assert float(s(*v)) == pytest.approx(float((v[0] @ v[1]) * (v[2] @ v[3])))


def test_hadamard_of_a_transposed_matrix_product_swaps_the_product() -> None:
    from symtn.lower.compiled import _untranspose

    lines = ["    t0 = a0 @ a1.T", "    t1 = a2 @ a3.T", "    t2 = t0 * t1.transpose((1, 0))"]
    out = _untranspose(lines, "t2")
    assert out == ["    t0 = a0 @ a1.T", "    t1 = a3 @ a2.T", "    t2 = t0 * t1"]
    rng = np.random.default_rng(4)
    a = [rng.standard_normal((5, 3)) for _ in range(4)]
    env: dict[str, Any] = {f"a{k}": v for k, v in enumerate(a)}
    for before, after in (lines, out), (out, out):
        e1, e2 = dict(env), dict(env)
        exec("\n".join(x.strip() for x in before), e1)  # noqa: S102
        exec("\n".join(x.strip() for x in after), e2)  # noqa: S102
        np.testing.assert_allclose(e1["t2"], e2["t2"], rtol=1e-12)
    assert _untranspose(lines, "t1") == lines  # t1 is also returned: left as it is
