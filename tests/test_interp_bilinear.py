"""The bilinear digits model (bilinear_digits.stn): symtn's gradients, AdamW, and the similarity
measures of issue 15 against hand-written numpy, closed forms and Monte Carlo."""

from __future__ import annotations

import numpy as np
import pytest

import symtn
from symtn.errors import EvaluationError
from symtn.interp import bilinear as bl
from symtn.interp import bilinear_similarity as bs
from symtn.interp.gaussian import function_inner
from symtn.program import parse


def _params(seed: int, hidden: int = 32) -> bl.Params:
    return bl.init_params(hidden=hidden, seed=seed)


def _q(p: bl.Params) -> np.ndarray:
    """Dense interaction matrices Q[c, i, j] = sum_k U[c, k] W[k, i] V[k, j] (reference only)."""
    return np.einsum("ck,ki,kj->cij", p["U"], p["W"], p["V"])


def _numpy_backprop(p: bl.Params, x: np.ndarray, y: np.ndarray) -> tuple[float, bl.Params]:
    n = len(x)
    a, b = x @ p["W"].T, x @ p["V"].T  # [batch, hidden]
    h = a * b
    z = h @ p["U"].T
    z = z - z.max(axis=1, keepdims=True)
    s = np.exp(z) / np.exp(z).sum(axis=1, keepdims=True)
    yy = np.eye(10)[y]
    loss = -float(np.sum(yy * np.log(s))) / n
    dz = (s - yy) / n
    dh = dz @ p["U"]
    return loss, {"U": dz.T @ h, "W": (dh * b).T @ x, "V": (dh * a).T @ x}


def test_generated_gradients_match_handwritten_backprop() -> None:
    rng = np.random.default_rng(0)
    p = _params(1)
    x, y = rng.random((50, 64)), rng.integers(0, 10, 50)
    loss, g = bl.loss_and_grads(p, x, y)
    want_loss, want = _numpy_backprop(p, x, y)
    assert loss == pytest.approx(want_loss, rel=1e-12)
    for k in bl.PARAMS:
        np.testing.assert_allclose(g[k], want[k], rtol=1e-10, atol=1e-14, err_msg=k)
    logits = np.einsum("cij,ni,nj->nc", _q(p), x, x)
    np.testing.assert_array_equal(bl.predict(p, x), np.argmax(logits, axis=1))


def test_adamw_step_against_formula() -> None:
    p = {"W": np.array([[1.0, -2.0]])}
    g = {"W": np.array([[0.5, 0.25]])}
    opt = bl.AdamW(lr=0.1, wd=0.01)
    opt.step(p, g)  # first step: m_hat = g, v_hat = g^2, so the update is lr * (sign(g) + wd * p)
    want = np.array([[1.0, -2.0]]) - 0.1 * (g["W"] / (np.abs(g["W"]) + 1e-8) + 0.01 * np.array([[1.0, -2.0]]))
    np.testing.assert_allclose(p["W"], want, rtol=1e-12)


def test_train_calls_transform_and_checkpoints() -> None:
    rng = np.random.default_rng(0)
    x, y = rng.random((40, 64)), rng.integers(0, 10, 40)
    seen: list[int] = []
    kept: list[int] = []

    def tf(xb: np.ndarray, yb: np.ndarray, _: object, step: int) -> tuple[np.ndarray, np.ndarray]:
        seen.append(step)
        return xb, np.full_like(yb, 3)  # every label becomes 3

    p = _params(0, hidden=8)
    bl.train(p, x, y, 30, opt=bl.AdamW(lr=0.05), batch=16, transform=tf, every=10, start=100,
             on_checkpoint=lambda s, q: kept.append(s))
    assert seen == list(range(101, 131)) and kept == [110, 120, 130]
    assert np.all(bl.predict(p, x) == 3)  # it learnt the transformed labels


def test_class_inner_against_closed_form() -> None:
    a, b = _params(2), _params(3)
    qa, qb = _q(a), _q(b)
    tra, trb = np.einsum("cii->c", qa), np.einsum("cii->c", qb)
    raw = tra * trb + np.einsum("cij,cij->c", qa, qb) + np.einsum("cij,cji->c", qa, qb)
    np.testing.assert_allclose(bs.class_inner(a, b, centre=False), raw, rtol=1e-10)
    sa, sb = (qa + qa.transpose(0, 2, 1)) / 2, (qb + qb.transpose(0, 2, 1)) / 2
    centred = 2 * np.einsum("cij,cij->c", sa, sb)  # 2 tr(Qa_sym Qb_sym)
    np.testing.assert_allclose(bs.class_inner(a, b), centred, rtol=1e-10)
    glob, slices = bs.tensor_similarity(a, b)
    np.testing.assert_allclose(slices, np.einsum("cij,cij->c", sa, sb)
                               / np.sqrt(np.einsum("cij,cij->c", sa, sa) * np.einsum("cij,cij->c", sb, sb)))
    assert glob == pytest.approx(np.sum(sa * sb) / np.sqrt(np.sum(sa * sa) * np.sum(sb * sb)), rel=1e-10)


def test_tensor_similarity_against_monte_carlo() -> None:
    a, b = _params(4, hidden=6), _params(5, hidden=6)
    rng = np.random.default_rng(6)
    x = rng.standard_normal((200_000, 64))
    fa = np.einsum("ni,ki,kj,nj,ck->nc", x, a["W"], a["V"], x, a["U"], optimize=True)
    fb = np.einsum("ni,ki,kj,nj,ck->nc", x, b["W"], b["V"], x, b["U"], optimize=True)
    fa, fb = fa - fa.mean(0), fb - fb.mean(0)
    mc = np.mean(fa * fb, axis=0)
    np.testing.assert_allclose(bs.class_inner(a, b), mc, atol=0.05 * np.sqrt(np.mean(fa**2) * np.mean(fb**2)))
    mc_glob = mc.sum() / np.sqrt(np.mean(fa**2, 0).sum() * np.mean(fb**2, 0).sum())
    assert bs.tensor_similarity(a, b)[0] == pytest.approx(mc_glob, abs=0.03)


def test_program_inner_equals_gaussian_function_inner() -> None:
    """The program's E[...] binding and symtn.interp.gaussian.function_inner (the evaluator) agree."""
    prog = bl.program()
    a, b = _params(7, hidden=5), _params(8, hidden=5)
    got = function_inner(prog["f"], prog["f"], "x", a, b)
    assert got == pytest.approx(float(bs.class_inner(a, b, centre=False).sum()), rel=1e-10)


def test_symbolic_quadratic_form_identity() -> None:
    """E[x ~ N(0, I)](x^T M1 x * x^T M2 x) = tr(M1) tr(M2) + 2 tr(M1 M2) for symmetric M1, M2."""
    prog = parse(
        "dim n\nleg i, j : n\nx: [i]\nM1, M2: [i, j] symmetric(i, j)\n"
        "e = E[x ~ N(0, I)]((x @ M1 @ x[i -> j]) * (x @ M2 @ x[i -> j]))\n"
        "check e == trace[i, j](M1) * trace[i, j](M2) + 2 * M1 @ M2\n"
    )
    [outcome] = prog.check_all()
    assert outcome.result.holds and outcome.result.method == "symbolic"
    rng = np.random.default_rng(9)
    m1, m2 = rng.standard_normal((2, 6, 6))
    m1, m2 = m1 + m1.T, m2 + m2.T
    got = float(symtn.evaluate(prog["e"], {"M1": m1, "M2": m2}))
    assert got == pytest.approx(np.trace(m1) * np.trace(m2) + 2 * np.trace(m1 @ m2), rel=1e-12)


def test_similarity_matrices_and_measures() -> None:
    cks = [_params(s, hidden=8) for s in range(4)]
    cks.append({k: 3.0 * v for k, v in cks[0].items()})  # a rescaled copy of the first
    m = bs.similarity_matrices(cks)
    assert m.tensor.shape == (5, 5) and m.slices.shape == (10, 5, 5)
    np.testing.assert_allclose(np.diag(m.tensor), 1.0)
    assert m.tensor[0, 4] == pytest.approx(1.0) and m.matrix[0, 4] == pytest.approx(1.0)
    glob, slices = bs.tensor_similarity(cks[1], cks[2])
    assert m.tensor[1, 2] == pytest.approx(glob) and np.allclose(m.slices[:, 2, 1], slices)
    flat = [np.concatenate([c[k].ravel() for k in bl.PARAMS]) for c in cks[1:3]]
    want = flat[0] @ flat[1] / np.linalg.norm(flat[0]) / np.linalg.norm(flat[1])
    assert m.matrix[1, 2] == pytest.approx(want) == bs.matrix_cosine(cks[1], cks[2])
    # permuting hidden units changes the weight cosine but not the function
    perm = np.random.default_rng(0).permutation(8)
    p = {"W": cks[1]["W"][perm], "V": cks[1]["V"][perm], "U": cks[1]["U"][:, perm]}
    assert bs.tensor_similarity(cks[1], p)[0] == pytest.approx(1.0) and bs.matrix_cosine(cks[1], p) < 0.5


def test_block_delta() -> None:
    s = np.array([[1.0, 0.9, 0.8, 0.2], [0.9, 1.0, 0.7, 0.4], [0.8, 0.7, 1.0, 0.5], [0.2, 0.4, 0.5, 1.0]])
    assert bs.block_delta(s, [0, 1], [2, 3]) == pytest.approx(0.9 - (0.8 + 0.2 + 0.7 + 0.4) / 4)
    with pytest.raises(EvaluationError):
        bs.block_delta(s, [0], [1])
