"""The toy induction head: the stripe, the ASCII and PNG heat maps, ``symtn demo induction``."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest

from symtn.cli import main
from symtn.interp import induction
from symtn.interp.figures import INSTALL, ascii_heatmap


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_stripe_positions_exact(seed: int) -> None:
    period, repeats = 6, 3
    a = induction.pattern(induction.repeated_sequence(period, 64, repeats, seed))
    assert a.shape == (18, 18)
    np.testing.assert_allclose(a.sum(axis=1), 1.0)
    assert np.all(np.triu(a, 1) < 1e-12)  # causal
    want = induction.expected_stripe(period, repeats)
    assert want[6] == {1} and want[17] == {12, 6}
    assert induction.stripe(a, period) == want
    for q, keys in want.items():  # the stripe holds almost all the attention, split evenly
        assert sum(a[q, k] for k in keys) > 0.95
        assert np.ptp([a[q, k] for k in keys]) < 0.1


def test_bundled_program_check_holds() -> None:
    prog = induction.program()
    assert prog.order("pattern") == ("q", "k")
    assert all(c.result.holds for c in prog.check_all())


def test_ascii_heatmap() -> None:
    text = ascii_heatmap(np.eye(3))
    assert text.splitlines() == ["  012", "0 @  ", "1  @ ", "2   @"]


def test_cli_demo_induction(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "pattern.png"
    assert main(["demo", "induction", "--out", str(out)]) == 0
    text = capsys.readouterr().out
    assert "as expected" in text and "check holds" in text
    assert out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_induction_figure_is_labelled(tmp_path: Path) -> None:
    got = induction.run(out=tmp_path / "p.png", echo=lambda _: None)
    fig = got["figure"]
    a = got["pattern"]
    ax = fig.axes[0]
    np.testing.assert_array_equal(ax.images[0].get_array(), a)  # the drawn data is the pattern
    assert ax.images[0].colorbar is not None and ax.images[0].colorbar.ax.get_ylabel() == "attention weight"
    assert ax.get_xlabel().startswith("key position") and ax.get_ylabel().startswith("query position")
    assert ax.get_title() == "toy induction head: attention pattern"
    want = [f"{t}:v{t % 6}" for t in range(18)]
    assert [t.get_text() for t in ax.get_xticklabels()] == want
    assert [t.get_text() for t in ax.get_yticklabels()] == want
    # the outlined cells are exactly the expected stripe
    boxes = {(int(p.get_y() + 0.5), int(p.get_x() + 0.5)) for p in ax.patches}
    assert boxes == {(q, k) for q, ks in induction.expected_stripe(6, 3).items() for k in ks}


def test_demo_induction_without_matplotlib(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setitem(sys.modules, "matplotlib.figure", None)  # import fails as if not installed
    out = tmp_path / "pattern.png"
    assert main(["demo", "induction", "--out", str(out)]) == 0
    text = capsys.readouterr().out
    assert "as expected" in text and "@" in text  # the ASCII heat map is printed
    assert f"install it with {INSTALL}" in text and INSTALL == 'pip install "symtn[interp]"'
    assert not out.exists()
