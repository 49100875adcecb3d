"""Numerically stable evaluation in the evaluator, as in generated code (issue 12)."""

from __future__ import annotations

import subprocess
import sys
import warnings
from pathlib import Path

import numpy as np

import symtn
from symtn.cli import main

XENT = "dim V = 3\nz: [V]\ny: [V]\nL = -sum(y * log_softmax[V](z))\ng = d(L)/d(z)\n"
Z = np.array([1000.0, 0.0, -3.0])
Y = np.array([0.0, 1.0, 0.0])


def _softmax(z: np.ndarray) -> np.ndarray:
    e = np.exp(z - z.max())
    return e / e.sum()


def test_xent_gradient_finite_at_large_logits() -> None:
    p = symtn.parse(XENT)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        g = symtn.evaluate(p["g"], {"z": Z, "y": Y})
        loss = symtn.evaluate(p["L"], {"z": Z, "y": Y})
    np.testing.assert_allclose(g, _softmax(Z) * Y.sum() - Y, atol=1e-12)
    np.testing.assert_allclose(loss, 1000.0 + np.log1p(np.exp(-1000.0) + np.exp(-1003.0)), rtol=1e-12)


def test_hessian_of_logsumexp_finite() -> None:
    p = symtn.parse("dim V = 3\nz: [V]\nf = logsumexp[V](z)\nh = d(d(f)/d(z))/d(z)\n")
    s = _softmax(Z)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        h = symtn.evaluate(p["h"], {"z": Z}, order=p.order("h"))
    np.testing.assert_allclose(h, np.diag(s) - np.outer(s, s), atol=1e-12)


def test_eval_cli_stable_and_silent(tmp_path: Path) -> None:
    f = tmp_path / "x.stn"
    f.write_text(XENT)
    inputs, out = tmp_path / "in.npz", tmp_path / "out.npz"
    np.savez(inputs, z=Z, y=Y)
    assert main(["eval", str(f), "--inputs", str(inputs), "--out", str(out), "g"]) == 0
    with np.load(out) as res:
        np.testing.assert_allclose(res["g"], [1.0, -1.0, 0.0], atol=1e-12)
    run = subprocess.run(
        [sys.executable, "-m", "symtn", "eval", str(f), "--inputs", str(inputs), "g"],
        capture_output=True, text=True, check=True, cwd=Path(__file__).parents[1],
    )
    assert "Warning" not in run.stderr and "nan" not in run.stdout


def test_overflow_gives_inf_without_warning() -> None:
    p = symtn.parse("dim V = 2\nz: [V]\ne = exp(z)\n")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        v = symtn.evaluate(p["e"], {"z": np.array([1000.0, 0.0])})
    assert np.isinf(v[0]) and v[1] == 1.0
