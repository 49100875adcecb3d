"""`symtn eval`, `symtn simplify` and `symtn run` output, checked against hand-written numpy."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from symtn.cli import main

PROGRAM = """\
dim b, inp, hid = 4
x: [b, inp] const
W: [hid, inp]
c: [hid]
h = tanh(W @ x + c)                # [hid, b]
s: [b, hid] = h                    # typed binding fixes the order
loss = sum(h^2) / |b|
g = d(loss)/d(W)                   # [hid, inp]
show g
"""


@pytest.fixture
def files(tmp_path: Path) -> tuple[Path, Path, dict[str, np.ndarray]]:
    prog = tmp_path / "p.stn"
    prog.write_text(PROGRAM)
    rng = np.random.default_rng(1)
    vals = {"x": rng.standard_normal((5, 3)), "W": rng.standard_normal((4, 3)), "c": rng.standard_normal(4)}
    inputs = tmp_path / "in.npz"
    np.savez(inputs, **vals)
    return prog, inputs, vals


def test_eval_outputs_match_numpy(files, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:  # type: ignore[no-untyped-def]
    prog, inputs, v = files
    out = tmp_path / "out.npz"
    assert main(["eval", str(prog), "--inputs", str(inputs), "--out", str(out), "h", "s", "loss", "g"]) == 0
    printed = capsys.readouterr().out
    assert "s: [b, hid] shape (5, 4)" in printed
    assert "g: [hid, inp] shape (4, 3)" in printed
    h = np.tanh(v["W"] @ v["x"].T + v["c"][:, None])  # [hid, b]
    with np.load(out) as res:
        np.testing.assert_allclose(res["h"], h, rtol=1e-12)
        np.testing.assert_allclose(res["s"], h.T, rtol=1e-12)
        np.testing.assert_allclose(res["loss"], np.sum(h**2) / 5, rtol=1e-12)
        grad = (2 * h * (1 - h**2)) @ v["x"] / 5
        np.testing.assert_allclose(res["g"], grad, rtol=1e-10)


def test_eval_size_mismatch_is_a_clear_error(
    files, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:  # type: ignore[no-untyped-def]
    prog, _, v = files
    bad = tmp_path / "bad.npz"
    np.savez(bad, x=v["x"], W=np.zeros((4, 7)), c=v["c"])
    assert main(["eval", str(prog), "--inputs", str(bad), "h"]) == 2
    err = capsys.readouterr().err
    assert "Traceback" not in err and "inp" in err


def test_eval_missing_input(files, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:  # type: ignore[no-untyped-def]
    prog, _, v = files
    bad = tmp_path / "bad.npz"
    np.savez(bad, x=v["x"])
    assert main(["eval", str(prog), "--inputs", str(bad), "h"]) == 2
    assert "W" in capsys.readouterr().err


def test_run_shows_parseable_notation(files, capsys: pytest.CaptureFixture[str]) -> None:  # type: ignore[no-untyped-def]
    prog, _, _ = files
    assert main(["run", str(prog)]) == 0
    out = capsys.readouterr().out
    assert "show line 9" in out and "[hid: 4, inp: inp]" in out


def test_simplify_command(files, capsys: pytest.CaptureFixture[str]) -> None:  # type: ignore[no-untyped-def]
    prog, _, _ = files
    assert main(["simplify", str(prog), "loss"]) == 0
    assert capsys.readouterr().out.startswith("loss = ")
