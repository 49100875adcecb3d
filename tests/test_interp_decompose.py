"""Decompositions as networks: reconstruction, Eckart-Young, isometries, CP recovery."""

from __future__ import annotations

import numpy as np
import pytest

from symtn import evaluate
from symtn.interp import cp, svd, tensor_train, tucker
from symtn.interp._fit import has_tensorly
from symtn.ir.nodes import Product, Tensor

BACKENDS = ["numpy"] + (["tensorly"] if has_tensorly() else [])


def _rng() -> np.random.Generator:
    return np.random.default_rng(7)


def _gram(t: Tensor, value: np.ndarray, leg: str) -> np.ndarray:
    """Contract ``t`` with itself over every leg but ``leg`` (through symtn)."""
    pair = Product(t, t.rename({leg: leg + "_"}))
    return evaluate(pair, {t.name: value}, order=(leg, leg + "_"))


def test_svd_full_rank_reconstructs() -> None:
    a = _rng().standard_normal((5, 3, 4))
    d = svd(a, ["i", "j", "l"], row_legs=["i", "l"])
    assert d.error(a) < 1e-12
    assert d.ranks == (3,)  # a 20 x 3 matrix
    net, values = d
    assert set(values) == {"M_U", "M_s", "M_V"} and set(net.legs) == {"i", "j", "l"}


def test_svd_eckart_young() -> None:
    a = _rng().standard_normal((8, 6))
    s = np.linalg.svd(a, compute_uv=False)
    for r in range(1, 6):
        d = svd(a, ["i", "j"], rank=r)
        err = np.linalg.norm(a - d.reconstruct())
        assert err == pytest.approx(np.sqrt(np.sum(s[r:] ** 2)), rel=1e-10)
        assert d.discarded == pytest.approx(err, rel=1e-10)
        # no other rank-r matrix (here: random perturbations of the optimum) does better
        u, _, vt = np.linalg.svd(a)
        other = (u[:, :r] + 0.05 * _rng().standard_normal((8, r))) @ np.diag(s[:r]) @ vt[:r]
        assert np.linalg.norm(a - other) >= err


def test_svd_tolerance_picks_smallest_rank() -> None:
    a = _rng().standard_normal((10, 10))
    s = np.linalg.svd(a, compute_uv=False)
    d = svd(a, ["i", "j"], tol=0.3)
    assert d.error(a) <= 0.3
    r = d.ranks[0]
    assert np.sqrt(np.sum(s[r - 1:] ** 2)) / np.linalg.norm(s) > 0.3


def test_svd_factors_are_isometries() -> None:
    a = _rng().standard_normal((6, 4, 5))
    d = svd(a, ["i", "j", "l"], row_legs=["j", "i"], rank=3)
    for name in ("M_U", "M_V"):
        t = next(f for f in d.network.args if isinstance(f, Tensor) and f.name == name)
        assert t.fact("isometry") == ("isometry", ("k",))
        assert np.allclose(_gram(t.variable, d.values[name], "k"), np.eye(3))


def test_tensor_train_exact_and_isometric() -> None:
    a = _rng().standard_normal((3, 4, 2, 5))
    legs = ["p1", "p2", "p3", "p4"]
    for centre in range(4):
        d = tensor_train(a, legs, center=centre)
        assert d.error(a) < 1e-12
        cores = [f for f in d.network.args if isinstance(f, Tensor)]
        for k, core in enumerate(cores):
            iso = core.fact("isometry")
            if k == centre:
                assert iso is None
                continue
            assert iso is not None
            (leg,) = iso[1]
            assert leg == (f"b{k + 1}" if k < centre else f"b{k}")
            r = core.size(leg)
            assert np.allclose(_gram(core, d.values[core.name], leg), np.eye(int(r)))


def test_tensor_train_truncation_bound() -> None:
    rng = _rng()
    a = rng.standard_normal((4, 4, 4, 4, 4))
    d = tensor_train(a, list("abcde"), tol=0.5)
    assert d.error(a) <= 0.5 + 1e-12
    assert d.discarded is not None and d.discarded / np.linalg.norm(a) <= 0.5
    small = tensor_train(a, list("abcde"), max_bond=2)
    assert max(small.ranks) == 2
    # the TT-SVD error is the root sum of the per-step discarded norms (orthogonal pieces)
    assert np.linalg.norm(a - small.reconstruct()) == pytest.approx(small.discarded, rel=1e-8)


def test_tensor_train_gauge_fixed() -> None:
    a = _rng().standard_normal((3, 3, 3))
    v1 = tensor_train(a, ["x", "y", "z"], center=1).values
    v2 = tensor_train(a.copy(), ["x", "y", "z"], center=1).values
    assert all(np.array_equal(v1[k], v2[k]) for k in v1)


@pytest.mark.parametrize("backend", BACKENDS)
def test_tucker_reconstructs_low_multilinear_rank(backend: str) -> None:
    rng = _rng()
    core = rng.standard_normal((2, 3, 2))
    fs = [np.linalg.qr(rng.standard_normal((n, r)))[0] for n, r in [(5, 2), (6, 3), (4, 2)]]
    a = np.einsum("abc,ia,jb,kc->ijk", core, *fs)
    d = tucker(a, ["i", "j", "k"], [2, 3, 2], backend=backend)
    assert d.error(a) < 1e-10
    assert d.info["backend"] == backend
    u = next(f for f in d.network.args if isinstance(f, Tensor) and f.name == "T_j")
    assert np.allclose(_gram(u, d.values["T_j"], "c_j"), np.eye(3))
    assert tucker(a, ["i", "j", "k"], tol=1e-8, backend=backend).ranks == (2, 3, 2)


@pytest.mark.parametrize("backend", BACKENDS)
def test_cp_recovers_known_rank(backend: str) -> None:
    rng = _rng()
    true = [rng.standard_normal((n, 3)) for n in (6, 7, 8)]
    a = np.einsum("ir,jr,kr->ijk", *true)
    d = cp(a, ["i", "j", "k"], 3, backend=backend)
    assert d.error(a) < 1e-6
    # the factors match the true ones up to order and scale (congruence ~ 1)
    f = d.values["F_j"]
    t = true[1] / np.linalg.norm(true[1], axis=0)
    congruence = np.abs(t.T @ f)
    assert np.allclose(np.sort(congruence.max(axis=1)), 1.0, atol=1e-4)
    assert d.network.legs == ("i", "j", "k") or set(d.network.legs) == {"i", "j", "k"}
