"""The matplotlib figures of the interpretability demos: labels, colour bars and data."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest

from symtn.errors import SymtnError
from symtn.interp import figures


def _ticks(labels: list) -> list[str]:  # type: ignore[type-arg]
    return [t.get_text() for t in labels]


def test_attention_figure_has_tokens_on_both_axes(tmp_path: Path) -> None:
    rng = np.random.default_rng(0)
    tokens = ["[CLS]", "the", "cat", "sat", "[SEP]"]
    a = rng.random((5, 5))
    a /= a.sum(axis=1, keepdims=True)
    b = np.eye(5)
    fig = figures.attention_figure([("L0H1", a), ("L2H3", b)], tokens, "patterns")
    panels = [ax for ax in fig.axes if ax.images]
    assert len(panels) == 2
    for ax, want, name in zip(panels, (a, b), ("L0H1", "L2H3"), strict=True):
        np.testing.assert_array_equal(ax.images[0].get_array(), want)
        assert _ticks(ax.get_xticklabels()) == tokens and _ticks(ax.get_yticklabels()) == tokens
        assert ax.get_title() == name and ax.get_xlabel() == "key token"
        assert ax.images[0].get_clim() == (0.0, 1.0)  # one shared scale
    assert panels[0].get_ylabel() == "query token"
    assert panels[0].images[0].colorbar is None and panels[1].images[0].colorbar is not None
    assert fig.get_suptitle() == "patterns"
    out = figures.save(fig, tmp_path / "a.svg")
    assert "<svg" in out.read_text()[:400] and "cat" in out.read_text()


def test_head_scores_figure_labels_layers_and_heads() -> None:
    s = np.arange(6.0).reshape(2, 3) / 10
    fig = figures.head_scores_figure([("prev", s), ("dup", 1 - s)])
    panels = [ax for ax in fig.axes if ax.images]
    assert [ax.get_title() for ax in panels] == ["prev", "dup"]
    np.testing.assert_array_equal(panels[1].images[0].get_array(), 1 - s)
    ax = panels[0]
    assert _ticks(ax.get_xticklabels()) == ["H0", "H1", "H2"] and _ticks(ax.get_yticklabels()) == ["L0", "L1"]
    assert (ax.get_xlabel(), ax.get_ylabel()) == ("head", "layer")
    assert sorted(t.get_text() for t in ax.texts) == sorted(f"{v:.2f}" for v in s.flat)
    assert ax.images[0].colorbar.ax.get_ylabel() == "score"


def test_similarity_figure_head_labels_and_scale() -> None:
    rng = np.random.default_rng(1)
    v = rng.standard_normal((4, 7))
    v /= np.linalg.norm(v, axis=1, keepdims=True)
    sim = v @ v.T
    labels = figures.head_labels(2, 2)
    assert labels == ["L0H0", "L0H1", "L1H0", "L1H1"]
    fig = figures.similarity_figure(sim, labels, "OV", group=2)
    ax = fig.axes[0]
    np.testing.assert_allclose(ax.images[0].get_array(), sim)
    assert _ticks(ax.get_xticklabels()) == labels and _ticks(ax.get_yticklabels()) == labels
    assert ax.images[0].get_clim() == (-1.0, 1.0)
    assert ax.images[0].colorbar.ax.get_ylabel() == "cosine similarity"
    assert len(ax.lines) == 2  # one layer separator each way


def test_heatmap_rejects_bad_input() -> None:
    fig = figures.new_figure(3, 3)
    ax = fig.add_subplot()
    with pytest.raises(SymtnError, match="2-d array"):
        figures.heatmap(ax, np.zeros(3))
    with pytest.raises(SymtnError, match="2 tick labels for an axis of length 3"):
        figures.heatmap(ax, np.zeros((3, 3)), xticklabels=["a", "b"])


def test_no_global_matplotlib_state() -> None:
    import matplotlib

    before = dict(matplotlib.rcParams)
    figures.matrix_figure(np.eye(2), "x", colorbar=None)
    assert dict(matplotlib.rcParams) == before
    assert "matplotlib.pyplot" not in sys.modules or not __import__("matplotlib.pyplot").pyplot.get_fignums()


def test_missing_matplotlib_says_how_to_install(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "matplotlib.figure", None)
    with pytest.raises(figures.MissingMatplotlib) as err:
        figures.matrix_figure(np.eye(2))
    assert err.value.help == 'pip install "symtn[interp]"'
    assert isinstance(err.value, ImportError)
