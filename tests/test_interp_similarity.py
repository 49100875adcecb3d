"""Network similarity: inner product, norm and cosine by contracting the joined network."""

from __future__ import annotations

from collections import Counter
from typing import Any

import numpy as np
import pytest

import symtn
from symtn.errors import LegError
from symtn.interp import cosine, inner, norm, tensor_train, tucker
from symtn.interp.similarity import batched_gram as gram_b
from symtn.interp.similarity import gram, joined
from symtn.ir.nodes import Delta, Node, Product, Tensor
from symtn.lower import numpy_backend


def _rng() -> np.random.Generator:
    return np.random.default_rng(11)


def test_inner_of_two_mps_matches_materialised() -> None:
    rng = _rng()
    legs = ["p1", "p2", "p3", "p4"]
    x, y = rng.standard_normal((3, 2, 4, 3)), rng.standard_normal((3, 2, 4, 3))
    a = tensor_train(x, legs, max_bond=2)
    b = tensor_train(y, legs, max_bond=3)  # same tensor names, other values
    want = float(np.sum(a.reconstruct() * b.reconstruct()))
    assert inner(a.network, b.network, a.values, b.values) == pytest.approx(want, rel=1e-10)
    assert norm(a.network, a.values) == pytest.approx(np.linalg.norm(a.reconstruct()), rel=1e-10)
    c = float(want / np.linalg.norm(a.reconstruct()) / np.linalg.norm(b.reconstruct()))
    assert cosine(a.network, b.network, a.values, b.values) == pytest.approx(c, rel=1e-10)


def test_cosine_of_different_decompositions() -> None:
    x = _rng().standard_normal((4, 5, 3))
    t = tucker(x, ["i", "j", "k"], [4, 5, 3])  # exact
    m = tensor_train(x, ["i", "j", "k"])
    vals = {**t.values, **m.values}
    assert cosine(t.network, m.network, vals) == pytest.approx(1.0, abs=1e-12)
    assert cosine(t.network, -m.network, vals) == pytest.approx(-1.0, abs=1e-12)


def test_sums_by_bilinearity() -> None:
    rng = _rng()
    w = symtn.tensor("W", ("o", 3), ("i", 4))
    v = symtn.tensor("V", ("o", 3), ("i", 4))
    u = symtn.tensor("U", ("o", 3), ("r", 2)) @ symtn.tensor("R", ("r", 2), ("i", 4))
    shapes = {"W": (3, 4), "V": (3, 4), "U": (3, 2), "R": (2, 4)}
    vals = {k: rng.standard_normal(s) for k, s in shapes.items()}
    a = w + 2 * v
    dense_a = vals["W"] + 2 * vals["V"]
    dense_u = vals["U"] @ vals["R"]
    assert inner(a, u, vals) == pytest.approx(float(np.sum(dense_a * dense_u)), rel=1e-10)
    names, g = gram({"a": a, "u": u, "W": w}, vals)
    assert names == ["a", "u", "W"] and np.allclose(np.diag(g), 1.0)
    flat = [x.ravel() for x in (dense_a, dense_u, vals["W"])]
    want = np.array([[p @ q / np.linalg.norm(p) / np.linalg.norm(q) for q in flat] for p in flat])
    np.testing.assert_allclose(g, want, atol=1e-12)


def test_joined_network_is_flat() -> None:
    x = _rng().standard_normal((2, 3, 2, 3))
    m = tensor_train(x, ["a", "b", "c", "d"])
    net = joined(m.network, m.network)
    assert isinstance(net, Product) and not net.legs
    assert all(isinstance(f, (Tensor, Delta)) for f in net.args) and len(net.args) == 8


def test_never_materialises(monkeypatch: pytest.MonkeyPatch) -> None:
    """Only the inputs and scalars are computed: no node with free legs but the tensors."""
    rng = _rng()
    n, chi = 40, 3  # the full tensor would have 2^40 entries
    legs = [f"p{k}" for k in range(n)]
    bonds = [f"b{k}" for k in range(n - 1)]
    cores: list[Node] = []
    vals: dict[str, np.ndarray] = {}
    for k in range(n):
        left = [(bonds[k - 1], chi)] if k else []
        slots = left + [(legs[k], 2)] + ([(bonds[k], chi)] if k < n - 1 else [])
        cores.append(Tensor(f"G{k}", tuple(slots), tuple(s for s, _ in slots), ()))
        vals[f"G{k}"] = rng.standard_normal([s for _, s in slots]) / np.sqrt(2 * chi)
    psi = Product(*cores)
    seen: Counter[type] = Counter()
    real = numpy_backend.Evaluator.compute

    def spy(self: Any, node: Node) -> np.ndarray:
        assert isinstance(node, Tensor) or not node.legs, f"materialised {type(node).__name__}"
        seen[type(node)] += 1
        return real(self, node)

    monkeypatch.setattr(numpy_backend.Evaluator, "compute", spy)
    got = norm(psi, vals)
    monkeypatch.undo()
    # reference: transfer matrices E_k = sum_p G_k[p] (x) G_k[p]
    env = np.einsum("pa,pb->ab", vals["G0"], vals["G0"])
    for k in range(1, n - 1):
        env = np.einsum("ab,apc,bpd->cd", env, vals[f"G{k}"], vals[f"G{k}"])
    ref = np.sqrt(np.einsum("ab,ap,bp->", env, vals[f"G{n - 1}"], vals[f"G{n - 1}"]))
    assert got == pytest.approx(ref, rel=1e-9)
    assert seen[Tensor] == n


def test_leg_mismatch() -> None:
    a = symtn.tensor("A", ("i", 2))
    b = symtn.tensor("B", ("j", 2))
    with pytest.raises(LegError):
        inner(a, b, {"A": np.ones(2), "B": np.ones(2)})


def test_batched_gram_of_ov_circuits() -> None:
    rng = _rng()
    h, e, d = 5, 3, 6
    vals = {"W_O": rng.standard_normal((d, h, e)), "W_V": rng.standard_normal((h, e, d))}
    # keep the head leg with a copy tensor: OV[h] = W_O[:, h] W_V[h]
    ov = Product(
        Tensor("W_O", (("dout", d), ("h", h), ("e", e)), ("dout", "h1", "e"), ()),
        Tensor("W_V", (("h", h), ("e", e), ("d", d)), ("h2", "e", "d"), ()),
        Delta(h, ("h1", "h2", "h")),
    )
    mats = np.einsum("ahe,hed->had", vals["W_O"], vals["W_V"]).reshape(h, -1)
    want = mats @ mats.T
    np.testing.assert_allclose(gram_b(ov, "h", vals, normalise=False), want, rtol=1e-10)
    nrm = np.linalg.norm(mats, axis=1)
    np.testing.assert_allclose(gram_b(ov, "h", vals), want / np.outer(nrm, nrm), rtol=1e-10)
