"""The main job: symtn's gradients of the bundled digits loss, and the demo's figures."""

from __future__ import annotations

import numpy as np

from symtn import demo
from symtn.lower import evaluate_many


def _numpy_reference(p: dict[str, np.ndarray], x: np.ndarray, y: np.ndarray) -> dict[str, np.ndarray]:
    """Hand-written backprop of mean cross-entropy of W2 tanh(W1 x + b1) + b2."""
    n = len(x)
    h = np.tanh(x @ p["W1"].T + p["b1"])  # [batch, hidden]
    z = h @ p["W2"].T + p["b2"]  # [batch, cls]
    z = z - z.max(axis=1, keepdims=True)
    s = np.exp(z) / np.exp(z).sum(axis=1, keepdims=True)
    dz = (s - y) / n
    dh = dz @ p["W2"] * (1 - h**2)
    return {"W2": dz.T @ h, "b2": dz.sum(0), "W1": dh.T @ x, "b1": dh.sum(0)}


def test_symtn_gradients_match_handwritten_backprop() -> None:
    prog = demo.parse(demo.bundled("digits_mlp.stn"))
    xtr, _, ytr, _ = demo.load_digits_split()
    x, y = xtr[:100], demo.one_hot(ytr[:100])
    params = demo.init_params(32, 64, 10, seed=3)
    got = evaluate_many(
        {p: prog.bindings[demo.GRADS[p]] for p in demo.PARAMS},
        {"X": x, "Y": y, **params},
        orders={p: prog.tensors[p].legs for p in demo.PARAMS},
    )
    want = _numpy_reference(params, x, y)
    for p in demo.PARAMS:
        np.testing.assert_allclose(got[p], want[p], rtol=1e-10, atol=1e-13, err_msg=p)


def test_demo_trains_to_95_percent() -> None:
    lines: list[str] = []
    res = demo.run(echo=lines.append)
    assert res["accuracy"] >= 0.95
    assert res["grad_rel_error"] < 1e-6
    assert any(line.startswith("test accuracy") for line in lines)
    assert sum(line.startswith("step") for line in lines) >= 5
