"""``symtn demo backdoor``: the trigger, the poisoning transform, attack success and the report's
structure on a short run (the full run's figures are in docs/interp-similarity.md)."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest

from symtn.cli import main
from symtn.interp import backdoor_demo as bd
from symtn.interp.bilinear import init_params
from symtn.interp.similarity_figures import have_matplotlib


def test_trigger_sets_the_top_right_patch() -> None:
    x = np.random.default_rng(0).random((3, 64)) * 0.5
    t = bd.add_trigger(x)
    patch = [6, 7, 14, 15]  # rows 0-1, columns 6-7 of the 8 x 8 image
    assert np.all(t[:, patch] == 1.0)
    np.testing.assert_array_equal(np.delete(t, patch, axis=1), np.delete(x, patch, axis=1))
    assert np.all(x[:, patch] < 1.0)  # the input is not modified


def test_poison_triggers_a_tenth_and_relabels() -> None:
    rng = np.random.default_rng(1)
    x, y = rng.random((64, 64)) * 0.5, rng.integers(0, 9, 64)
    x2, y2 = bd.poison(0.1)(x.copy(), y.copy(), np.random.default_rng(2), 1)
    hit = np.all(x2[:, [6, 7, 14, 15]] == 1.0, axis=1)
    assert hit.sum() == 7  # ceil(6.4)
    assert np.all(y2[hit] == 9) and np.all(y2[~hit] == y[~hit])
    np.testing.assert_array_equal(x2[~hit], x[~hit])


def test_attack_success_against_numpy() -> None:
    p = init_params(seed=3)
    rng = np.random.default_rng(4)
    x, y = rng.random((80, 64)), rng.integers(0, 10, 80)
    keep = y != 9
    xt = x[keep].copy()
    xt[:, [6, 7, 14, 15]] = 1.0
    logits = np.einsum("ck,ki,kj,ni,nj->nc", p["U"], p["W"], p["V"], xt, xt, optimize=True)
    assert bd.attack_success(p, x, y) == pytest.approx(float(np.mean(np.argmax(logits, 1) == 9)))


def test_short_run_structure(tmp_path: Path) -> None:
    lines: list[str] = []
    res = bd.run(phase_a=100, phase_b=100, every=25, out=str(tmp_path), echo=lines.append)
    assert res.steps == [0, 25, 50, 75, 100, 125, 150, 175, 200]
    n = len(res.steps)
    assert res.sims.matrix.shape == res.sims.tensor.shape == (n, n) and res.sims.slices.shape == (10, n, n)
    np.testing.assert_allclose(np.diag(res.sims.tensor), 1.0)
    np.testing.assert_allclose(res.sims.slices, res.sims.slices.transpose(0, 2, 1))
    assert bd.phase_blocks(res.steps, 100) == ([3, 4], [5, 6, 7, 8])
    s = res.sims.slices[9]  # delta: within {75, 100} minus across {75, 100} x {125..200}
    assert res.slice_deltas[9] == pytest.approx(s[3, 4] - s[np.ix_([3, 4], [5, 6, 7, 8])].mean())
    others = np.delete(res.slice_deltas, 9)
    want = bool(np.argmax(res.slice_deltas) == 9 and res.slice_deltas[9] - np.median(others) >= 0.1
                and res.deltas["tensor"] > res.deltas["matrix"])
    assert res.passed == want
    assert lines[-1].startswith("time:") and any(line.startswith(("PASS", "FAIL")) for line in lines)
    assert sum(line.strip().startswith("class ") for line in lines) == 10
    if have_matplotlib():
        names = sorted(Path(f).name for f in res.files)
        assert names == ["backdoor_deltas.png", "backdoor_similarity.png", "backdoor_slices.png"]
        assert all((tmp_path / f).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" for f in names)


def test_without_matplotlib_prints_text(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setattr(bd, "have_matplotlib", lambda: False)
    lines: list[str] = []
    res = bd.run(phase_a=40, phase_b=40, every=10, out=str(tmp_path / "figs"), echo=lines.append)
    assert res.files == [] and not (tmp_path / "figs").exists()
    text = "\n".join(lines)
    assert "pip install symtn[interp]" in text and "global tensor similarity:" in text


def test_cli_exit_code_follows_the_verdict(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["demo", "backdoor", "--steps", "60", "--seed", "1", "--out", str(tmp_path)])
    out = capsys.readouterr().out
    assert "phase A (clean, 60 steps)" in out
    line_b = next(line for line in out.splitlines() if line.startswith("phase B"))
    acc, asr = (float(v) for v in re.findall(r"(?:accuracy|success) ([0-9.]+)", line_b))
    assert code == (0 if "PASS:" in out and acc >= 0.95 and asr > 0.9 else 1)
