"""The performance lowerings of generated code, each checked against independent numpy.

- cache-blocked sums of transposed arrays (``_tiled_sum``) equal the plain sum exactly;
- written-out softmax factors are shifted by their maximum (finite at logits ~ 1000);
- terms of a distributed sum are contracted through their common sub-network (one GEMM for the
  logistic-regression Hessian; the MLP's gradients back-propagate the small error);
- each contraction step is one numpy statement (compared with ``np.einsum`` on many shapes).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import opt_einsum
import pytest

import symtn
from symtn.ir.nodes import Elementwise, arg_symbols
from symtn.lower import tiled
from symtn.lower.codegen import generate
from symtn.lower.codegen_helpers import NUMPY_HELPERS
from symtn.lower.factor import TermOps, group_terms, match, weights
from symtn.lower.pairwise import PairCache, lower_path, reuse_pairs
from symtn.lower.stable import inverse_sum_exp

RNG = np.random.default_rng(11)

QUAD = """
dim n
leg i, j : n
x: [i]
A: [i, j] const
f = x @ A @ x[i -> j]
g = d(f)/d(x)
H = d(g)/d(x)
"""


# ----------------------------------------------------------------- tiled transpose-add


def _tiled_sum() -> Any:
    ns: dict[str, Any] = {"numpy": np, "DTYPE": np.float64}
    exec(NUMPY_HELPERS["_tiled_sum"].format(xp="numpy"), ns)  # noqa: S102
    return ns["_tiled_sum"]


@pytest.mark.parametrize("shape", [(7, 7), (13, 13), (8, 8), (5, 11), (32, 9)])
def test_tiled_sum_helper_equals_plain_sum_exactly(shape: tuple[int, int]) -> None:
    fn = _tiled_sum()
    a, b = RNG.standard_normal(shape), RNG.standard_normal(shape[::-1])
    c = RNG.standard_normal(shape)
    cases = [
        (((1.0, a), (1.0, b.T)), a + b.T),
        (((1.0, a), (-1.0, b.T)), a - b.T),
        (((-1.0, b.T), (2.5, a)), -b.T + 2.5 * a),
        (((1.0, a), (1.0, b.T), (-3.0, c), (1.0, b.T)), a + b.T - 3.0 * c + b.T),
    ]
    for terms, want in cases:
        got = fn(terms, 4)
        assert np.array_equal(got, want)


def test_matrix_view_coalesces_two_swapped_groups() -> None:
    view = tiled.matrix_view((2, 3, 4), [None, [2, 0, 1]])
    assert view is not None and (view.rows, view.cols, view.swapped) == (2, 12, (False, True))
    assert tiled.matrix_view((2, 3, 4), [None, [0, 2, 1]]) is None  # three groups
    assert tiled.matrix_view((2, 3, 4), [None, [1, 0, 2]]) is None
    assert tiled.matrix_view((4, 4), [None, None]) is None  # nothing transposed


@pytest.mark.parametrize("n", [7, 13, 16])
def test_quadratic_form_hessian_uses_tiled_sum_and_is_exact(n: int, monkeypatch: Any) -> None:
    monkeypatch.setattr(tiled, "TILE", 4)
    monkeypatch.setattr("symtn.lower.emit.TILED_MIN", 0)
    fn = symtn.compile(symtn.parse(QUAD), ["H"], sizes={"n": n})
    assert "_tiled_sum(" in fn.source
    A = RNG.standard_normal((n, n))
    assert np.array_equal(fn(A), A + A.T)


def test_tiled_sum_of_a_tensor_whose_legs_swap_in_two_blocks(monkeypatch: Any) -> None:
    monkeypatch.setattr(tiled, "TILE", 4)
    monkeypatch.setattr("symtn.lower.emit.TILED_MIN", 0)
    src = (
        "dim p = 3, q = 5\nleg a, b : p\nleg c, e : q\nT: [a, c, b, e]\n"
        "S = T + T[a -> b, b -> a, c -> e, e -> c]\n"
    )
    fn = symtn.compile(symtn.parse(src), ["S"])
    T = RNG.standard_normal((3, 5, 3, 5))
    assert "_tiled_sum(" in fn.source
    assert np.array_equal(fn(T), T + T.transpose(2, 3, 0, 1))


# ----------------------------------------------------------------- stable shifted exponentials

LSE = """
dim V
z: [V]
f = logsumexp[V](z)
g = d(f)/d(z)
H = d(g)/d(z)
"""


def _softmax(z: np.ndarray, axis: int = -1) -> np.ndarray:
    e = np.exp(z - z.max(axis=axis, keepdims=True))
    return e / e.sum(axis=axis, keepdims=True)


def test_logsumexp_hessian_is_finite_at_1000() -> None:
    fn = symtn.compile(symtn.parse(LSE), ["H"], sizes={"V": 9})
    z = 1000.0 + RNG.standard_normal(9)
    p = _softmax(z)
    got = fn(z)
    assert np.isfinite(got).all()
    np.testing.assert_allclose(got, np.diag(p) - np.outer(p, p), rtol=1e-12, atol=1e-15)
    assert "_exp_shifted(" in fn.source


def test_batched_softmax_gradient_shifts_each_row_by_its_own_max() -> None:
    text = "dim b, c\nZ: [b, c]\nf = sum(logsumexp[c](Z))\ng = d(f)/d(Z)\nH = d(g)/d(Z)\n"
    ns = symtn.compile(symtn.parse(text), ["g", "H"], sizes={"b": 3, "c": 4})
    Z = RNG.standard_normal((3, 4)) + np.array([[1000.0], [-1000.0], [0.0]])
    g, H = ns.all(Z)
    p = _softmax(Z)
    np.testing.assert_allclose(g, p, rtol=1e-12, atol=1e-15)
    want = np.zeros((3, 4, 3, 4))
    for k in range(3):
        want[k, :, k, :] = np.diag(p[k]) - np.outer(p[k], p[k])
    assert np.isfinite(H).all()
    np.testing.assert_allclose(H, want, rtol=1e-12, atol=1e-15)


def test_inverse_sum_exp_recognises_integer_powers_only() -> None:
    x0 = arg_symbols(1)[0]
    prog = symtn.parse("dim n\nz: [n]\ns = sum(exp(z))\n")
    total = prog.bindings["s"]
    assert inverse_sum_exp(Elementwise(x0**-2, (total,))).power == 2  # type: ignore[union-attr]
    assert inverse_sum_exp(Elementwise(x0**-1, (total,))).power == 1  # type: ignore[union-attr]
    assert inverse_sum_exp(Elementwise(x0**-0.5, (total,))) is None
    assert inverse_sum_exp(Elementwise(x0**2, (total,))) is None


# ----------------------------------------------------------------- common factors of a sum

LOGREG = """
dim b, n
X: [b, n] const
y: [b] const
w: [n]
z = X @ w
loss = sum(log(1 + exp(z)) - y * z)
g = d(loss)/d(w)
H = d(g)/d(w)
"""


def test_logistic_hessian_is_one_gemm_and_equals_closed_form() -> None:
    b, n = 64, 12  # large enough that the b x n x n sum is distributed, not built
    src, fnames, steps = generate(symtn.parse(LOGREG), ["H"], sizes={"b": b, "n": n})
    big = [s for s in steps[fnames["H"]] if s.flops >= b * n * n]
    assert len(big) == 1, [s.equation for s in steps[fnames["H"]]]
    fn = symtn.compile(symtn.parse(LOGREG), ["H"], sizes={"b": b, "n": n})
    X, w = RNG.standard_normal((b, n)), RNG.standard_normal(n)
    p = 1.0 / (1.0 + np.exp(-(X @ w)))
    np.testing.assert_allclose(fn(X, w), X.T @ ((p * (1 - p))[:, None] * X), rtol=1e-10, atol=1e-12)


MLP = """
dim b, inp = 8, hid = 16, cls = 4
X: [b, inp] const
Y: [b, cls] const
W1: [hid, inp]; b1: [hid]
W2: [cls, hid]; b2: [cls]
h = tanh(W1 @ X + b1)
logits = W2 @ h + b2
loss = -sum(Y * log_softmax[cls](logits)) / |b|
gW1 = d(loss)/d(W1)
gb1 = d(loss)/d(b1)
gW2 = d(loss)/d(W2)
gb2 = d(loss)/d(b2)
"""


def test_mlp_gradients_back_propagate_the_error_once() -> None:
    b = 64  # large enough that the gradients' sums are distributed, not built
    names = ["loss", "gW1", "gb1", "gW2", "gb2"]
    _, fnames, steps = generate(symtn.parse(MLP), names, sizes={"b": b})
    # contractions touching X x hid x inp: the forward layer and one for gW1 (not one per term)
    big = [s for s in steps[fnames["*"]] if s.flops >= 2 * b * 8 * 16]
    assert len(big) == 2, [s.equation for s in big]
    ns = symtn.compile(symtn.parse(MLP), names, sizes={"b": b})
    X, W1, b1 = RNG.standard_normal((b, 8)), RNG.standard_normal((16, 8)), RNG.standard_normal(16)
    W2, b2 = RNG.standard_normal((4, 16)), RNG.standard_normal(4)
    Y = np.eye(4)[RNG.integers(0, 4, b)]
    h = np.tanh(X @ W1.T + b1)
    logits = h @ W2.T + b2
    p = _softmax(logits, 1)
    loss = -np.sum(Y * np.log(p)) / b
    dlogits = (p * Y.sum(1, keepdims=True) - Y) / b
    dz = (dlogits @ W2) * (1 - h * h)
    want = (loss, dz.T @ X, dz.sum(0), dlogits.T @ h, dlogits.sum(0))
    for got, ref in zip(ns.all(X, Y, W1, b1, W2, b2), want, strict=True):
        np.testing.assert_allclose(got, ref, rtol=1e-10, atol=1e-12)


def _term(coeff: float, eq: str, vars_: tuple[str, ...], size: int = 3) -> TermOps:
    ins, out = eq.split("->")
    labels = tuple(tuple(ord(c) - 97 for c in t) for t in ins.split(","))
    sizes = {x: size for labs in labels for x in labs} | {ord(c) - 97: size for c in out}
    return TermOps(coeff, vars_, labels, tuple(ord(c) - 97 for c in out), sizes)


def test_match_and_group_terms_on_einsum_labels() -> None:
    t1 = _term(1.0, "ab,ac,a->bc", ("X", "X", "u"), size=50)
    t2 = _term(-1.0, "ab,ac,a,a->cb", ("X", "X", "v", "p"), size=50)
    t3 = _term(1.0, "ab,ac->bc", ("Z", "Z"), size=50)
    found = match(t1, frozenset(range(3)), t2)
    assert found and sorted(found[0][0].values()) == [0, 1]  # both X matched, weights differ
    groups = group_terms([t1, t2, t3])
    assert sorted(sorted(g.members) for g in groups) == [[0, 1], [2]]
    g = next(g for g in groups if len(g.members) == 2)
    ops, shared, _ = weights([t1, t2, t3], g, 1)
    assert [v for v, _ in ops] == ["v", "p"] and shared == (0,)
    # the grouped value equals the sum of the terms (numbers through np.einsum)
    n = 50
    X, u, v, pv = (RNG.standard_normal(s) for s in [(n, n), (n,), (n,), (n,)])
    separate = np.einsum("ab,ac,a->bc", X, X, u) - np.einsum("ab,ac,a,a->cb", X, X, v, pv)
    np.testing.assert_allclose(np.einsum("ab,ac,a->bc", X, X, u - v * pv), separate, rtol=1e-10, atol=1e-10)


def test_outputs_that_disagree_never_match() -> None:
    t1 = _term(1.0, "ab,bc->ac", ("A", "B"))
    t2 = _term(1.0, "ab,bc->aa", ("A", "B"))
    assert match(t1, frozenset(range(2)), t2) == []


# ----------------------------------------------------------------- one statement per step

EQUATIONS = [
    "ab,bc->ac",
    "ab,cb->ca",
    "ab,bc->ca",
    "a,a->a",
    "ab,a->ab",
    "a,b->ab",
    ",a->a",
    "ab->",
    "ab->ba",
    "abc,cd->abd",
    "abc,dbc->ad",
    "ab,ab->a",
    "abc,acd->abd",
    "aab,b->a",
    "ab,bc,cd->ad",
    "ab,bc,ca->",
    "ab,ac,a,a->bc",
    "ab,c,ac->cb",
    "abc,b->ca",
]


@pytest.mark.parametrize("eq", EQUATIONS)
def test_lower_path_equals_einsum(eq: str) -> None:
    sizes = {c: 2 + (ord(c) - 97) % 4 for c in "abcd"}
    ins = eq.split("->")[0].split(",")
    arrays = [RNG.standard_normal(tuple(sizes[c] for c in t)) for t in ins]
    shapes = [a.shape for a in arrays]
    path, _ = opt_einsum.contract_path(eq, *shapes, shapes=True, optimize="optimal")
    lines: list[str] = []

    def assign(expr: str, comment: str = "") -> str:
        lines.append(f"t_{len(lines)} = {expr}")
        return f"t_{len(lines) - 1}"

    names = [f"op{i}" for i in range(len(arrays))]
    result = lower_path(eq, names, shapes, path, assign)
    ns: dict[str, Any] = {"numpy": np, **dict(zip(names, arrays, strict=True))}
    exec("\n".join(lines) + f"\nresult = {result}", ns)  # noqa: S102
    np.testing.assert_allclose(ns["result"], np.einsum(eq, *arrays), rtol=1e-12, atol=1e-12)
    assert math.prod(np.shape(ns["result"])) == math.prod(np.einsum(eq, *arrays).shape)


def test_reuse_pairs_substitutes_a_product_that_kept_the_needed_labels() -> None:
    cache = PairCache()
    cache["A", "ab", "B", "bc"] = ("t_9", "ac")
    # the same product inside a network that still needs x and z: replaced
    ops, terms = reuse_pairs(["A", "B", "C"], ["xy", "yz", "xz"], "z", cache)
    assert ops == ["C", "t_9"] and terms == ["xz", "xz"]
    # here y is needed later but the cached product summed it: not replaced
    ops, terms = reuse_pairs(["A", "B", "C"], ["xy", "yz", "y"], "z", cache)
    assert ops == ["A", "B", "C"]


def test_shared_back_propagated_error_gives_the_same_numbers_as_einsum() -> None:
    # gW1 and gb1 of the MLP share (error @ W2) * (1 - h^2); gb1 is its column sum
    b = 64
    names = ["gW1", "gb1"]
    ns = symtn.compile(symtn.parse(MLP), names, sizes={"b": b})
    combined = ns.source[ns.source.index("def gW1_and_gb1") :]
    # two forward products, error @ W2 and dz @ X; gb1 adds none (it sums dz)
    assert combined.count(" @ ") == 4
    X, W1, b1 = RNG.standard_normal((b, 8)), RNG.standard_normal((16, 8)), RNG.standard_normal(16)
    W2, b2 = RNG.standard_normal((4, 16)), RNG.standard_normal(4)
    Y = np.eye(4)[RNG.integers(0, 4, b)]
    h = np.tanh(np.einsum("bi,hi->bh", X, W1) + b1)
    p = _softmax(np.einsum("bh,ch->bc", h, W2) + b2, 1)
    dz = np.einsum("bc,ch->bh", (p - Y) / b, W2) * (1 - h * h)
    gW1, gb1 = ns.all(X, Y, W1, b1, W2, b2)
    np.testing.assert_allclose(gW1, np.einsum("bh,bi->hi", dz, X), rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(gb1, dz.sum(0), rtol=1e-10, atol=1e-12)


def test_a_sum_reuses_an_earlier_sum_of_some_of_its_terms() -> None:
    text = "dim n = 4\nleg i, j : n\nA: [i, j]\nB: [i, j]\nC: [i, j]\ns = A + B\nt = A + B - C\n"
    ns = symtn.compile(symtn.parse(text), ["s", "t"])
    combined = ns.source[ns.source.index("def s_and_t") :]
    assert combined.count("A + B") == 1
    A, B, C = (RNG.standard_normal((4, 4)) for _ in range(3))
    s, t = ns.all(A, B, C)
    np.testing.assert_allclose(s, A + B, rtol=1e-14)
    np.testing.assert_allclose(t, A + B - C, rtol=1e-14)


@pytest.mark.parametrize("backend", ["jax", "torch"])
def test_new_lowerings_in_the_jax_and_torch_backends(backend: str) -> None:
    pytest.importorskip(backend, reason=f"{backend} is an optional extra (symtn[{backend}])")
    X, w = RNG.standard_normal((64, 12)), RNG.standard_normal(12)
    fn = symtn.compile(symtn.parse(LOGREG), ["H"], sizes={"b": 64, "n": 12}, backend=backend)
    p = 1.0 / (1.0 + np.exp(-(X @ w)))
    np.testing.assert_allclose(np.asarray(fn(X, w)), X.T @ ((p * (1 - p))[:, None] * X), rtol=1e-9)
    z = 1000.0 + RNG.standard_normal(9)
    fn = symtn.compile(symtn.parse(LSE), ["H"], sizes={"V": 9}, backend=backend)
    q = _softmax(z)
    got = np.asarray(fn(z))
    assert np.isfinite(got).all()
    np.testing.assert_allclose(got, np.diag(q) - np.outer(q, q), rtol=1e-10, atol=1e-14)


def test_diagonal_added_in_place_never_changes_an_input_or_a_shared_value() -> None:
    text = (
        "dim n = 4\nleg i, j : n\nA: [i, j]\nv: [i]\n"
        "S = A[i -> j, j -> i] + v * delta[i, j]\nT = A + v * delta[i, j]\nU = A + 2 * A[i -> j, j -> i]\n"
        "W = U + v * delta[i, j]\n"
    )
    ns = symtn.compile(symtn.parse(text), ["S", "T", "U", "W"])
    A, v = RNG.standard_normal((4, 4)), RNG.standard_normal(4)
    A0 = A.copy()
    s, t, u, w = ns.all(A, v)
    assert np.array_equal(A, A0)
    np.testing.assert_allclose(s, A + np.diag(v), rtol=1e-14)  # S's declared order is (j, i)
    np.testing.assert_allclose(t, A + np.diag(v), rtol=1e-14)
    np.testing.assert_allclose(u, A + 2 * A.T, rtol=1e-14)
    np.testing.assert_allclose(w, A + 2 * A.T + np.diag(v), rtol=1e-14)


def test_mlp_hessians_with_many_distributed_terms_match_the_numpy_evaluator() -> None:
    prog = symtn.parse(MLP + "HW1 = d(gW1)/d(W1)\nHb = d(gW2)/d(b1)\n")
    b = 64
    vals = {
        "X": RNG.standard_normal((b, 8)),
        "Y": np.eye(4)[RNG.integers(0, 4, b)],
        "W1": RNG.standard_normal((16, 8)) / 3,
        "b1": RNG.standard_normal(16),
        "W2": RNG.standard_normal((4, 16)) / 3,
        "b2": RNG.standard_normal(4),
    }
    ns = symtn.compile(prog, ["HW1", "Hb"], sizes={"b": b})
    got = ns.all(*[vals[k] for k in ("X", "Y", "W1", "b1", "W2", "b2")])
    for name, value in zip(["HW1", "Hb"], got, strict=True):
        want = symtn.evaluate(prog.bindings[name], vals, order=prog.order(name), sizes={"b": b})
        np.testing.assert_allclose(value, want, rtol=1e-10, atol=1e-13)
