"""The bundled transformer building blocks: frozen = live on the live patterns; path expansion."""

from __future__ import annotations

from importlib import resources

import numpy as np

import symtn
from symtn.interp import paths

N, D, E, V, H = 6, 8, 4, 5, 2


def _program() -> symtn.Program:
    text = resources.files("symtn").joinpath("examples", "transformer_blocks.stn").read_text(encoding="utf-8")
    return symtn.parse(text, "transformer_blocks.stn")


def _values() -> dict[str, np.ndarray]:
    rng = np.random.default_rng(4)
    vals = {"tokens": np.eye(V)[rng.integers(0, V, N)], "W_E": rng.standard_normal((D, V)),
            "W_U": rng.standard_normal((V, D))}
    for k in ("1", "2"):
        vals["W_OV" + k] = rng.standard_normal((H, D, D)) / 4
        vals["W_Q" + k] = rng.standard_normal((H, E, D))
        vals["W_K" + k] = rng.standard_normal((H, E, D))
    return vals


def test_frozen_equals_live_on_the_live_patterns() -> None:
    prog = _program()
    vals = _values()
    a1 = symtn.evaluate(prog.bindings["pattern1"], vals, order=prog.order("pattern1"))
    a2 = symtn.evaluate(prog.bindings["pattern2"], vals, order=prog.order("pattern2"))
    assert np.allclose(a1.sum(axis=2), 1.0) and np.all(np.triu(a1[0], 1) < 1e-12)
    live = symtn.evaluate(prog.bindings["live"], vals, order=("t", "v"))
    frozen = symtn.evaluate(prog.bindings["logits"], {**vals, "A1": a1, "A2": a2}, order=("t", "v"))
    np.testing.assert_allclose(frozen, live, rtol=1e-10, atol=1e-10)
    # and by hand: x1 = x0 + sum_h A1[h] x0 OV1[h]^T
    x0 = vals["tokens"] @ vals["W_E"].T
    x1 = x0 + np.einsum("hts,hab,sb->ta", a1, vals["W_OV1"], x0)
    x2 = x1 + np.einsum("hts,hab,sb->ta", a2, vals["W_OV2"], x1)
    np.testing.assert_allclose(live, x2 @ vals["W_U"].T, rtol=1e-10, atol=1e-10)


def test_path_expansion_of_the_frozen_model() -> None:
    prog = _program()
    vals = _values()
    vals["A1"] = vals["A2"] = np.tril(np.ones((N, N)))[None].repeat(H, 0) / np.arange(1, N + 1)[:, None]
    ps = paths(prog.bindings["logits"])
    assert sorted(p.label for p in ps) == ["direct", "head A1", "head A2", "virtual head A1->A2"]
    total = sum(symtn.evaluate(p.node, vals, order=("t", "v")) for p in ps)
    want = symtn.evaluate(prog.bindings["logits"], vals, order=("t", "v"))
    np.testing.assert_allclose(total, want, atol=1e-10)
