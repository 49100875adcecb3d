"""LaTeX output: matrix notation for matrix expressions, index notation for every network.

The matrix forms are compared as strings, and the formula each string states is evaluated
independently with numpy and compared with symtn's value of the same binding, so a wrong
transpose or a lost term fails. Every binding of every bundled example prints; with pdflatex
installed, all of them compile in one document.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest

import symtn
from symtn.cli import main

ROOT = Path(__file__).resolve().parents[1]
RNG = np.random.default_rng(7)

QUADRATIC = """
dim n
leg i, j : n
x: [i]
A: [i, j]
g = d(x @ A @ x[i -> j])/d(x)
"""
SOFTMAX = """
dim C
leg c : C
z: [c]
J = d(softmax[c](z))/d(z)
"""
LOGISTIC = """
dim N, n
leg m : N
leg i : n
X: [m, i] const
y: [m] const
w: [i]
loss = sum(log(1 + exp(X @ w)) - y * (X @ w))
g = d(loss)/d(w)
H = d(g)/d(w)
"""


def _tex(text: str, name: str, form: str = "auto") -> str:
    prog = symtn.parse(text)
    return symtn.latex(symtn.simplify(prog.bindings[name]), form=form, order=tuple(prog.order(name)))


def _value(text: str, name: str, vals: dict[str, np.ndarray]) -> np.ndarray:
    prog = symtn.parse(text)
    return np.asarray(symtn.evaluate(prog.bindings[name], vals, order=prog.order(name)))


def test_gradient_of_a_quadratic_form() -> None:
    assert _tex(QUADRATIC, "g") == "A x + A^T x"
    x, A = RNG.normal(size=4), RNG.normal(size=(4, 4))
    assert np.allclose(_value(QUADRATIC, "g", {"x": x, "A": A}), A @ x + A.T @ x)


def test_softmax_jacobian() -> None:
    tex = _tex(SOFTMAX, "J")
    assert tex == (
        "\\operatorname{diag}\\left(p\\right) - p p^T, \\quad p = \\operatorname{softmax}\\left(z\\right)"
    )
    z = RNG.normal(size=5)
    p = np.exp(z) / np.exp(z).sum()
    assert np.allclose(_value(SOFTMAX, "J", {"z": z}), np.diag(p) - np.outer(p, p))


def test_logistic_regression_gradient_and_hessian() -> None:
    H = _tex(LOGISTIC, "H")
    assert H == (
        "X^T \\operatorname{diag}\\left(s \\odot (1 - s)\\right) X, \\quad s = \\sigma\\left(X w\\right)"
    )
    g = _tex(LOGISTIC, "g")
    assert g == "X^T \\sigma(X w) - X^T y"
    X, y, w = RNG.normal(size=(6, 3)), RNG.integers(0, 2, 6).astype(float), RNG.normal(size=3)
    s = 1 / (1 + np.exp(-X @ w))
    vals = {"X": X, "y": y, "w": w}
    assert np.allclose(_value(LOGISTIC, "H", vals), X.T @ np.diag(s * (1 - s)) @ X)
    assert np.allclose(_value(LOGISTIC, "g", vals), X.T @ s - X.T @ y)


def test_transposes_follow_the_declared_leg_order() -> None:
    text = """
dim n, m
leg i : n
leg o : m
W: [o, i]
x: [i]
v: [o]
a = W @ x
b = v @ W
c = v @ W @ x
M: [i, i'] = W[o, i] @ W[o, i']
"""
    assert _tex(text, "a") == "W x"
    assert _tex(text, "b") == "W^T v"
    assert _tex(text, "c") == "v^T W x"
    assert _tex(text, "M") == "W^T W"


def test_index_notation() -> None:
    assert _tex(QUADRATIC, "g", form="index") == "\\sum_{j} A_{ij} x_{j} + \\sum_{a} A_{ai} x_{a}"
    prog = symtn.parse("dim n\nleg s : n\nleg e : n\nq: [e]\nk: [e, s]\nP = softmax[s](q @ k)\n")
    tex = symtn.latex(symtn.simplify(prog.bindings["P"]), form="index")
    assert tex == "\\operatorname{softmax}_{s}\\left(\\sum_{e} k_{es} q_{e}\\right)", tex


def test_names_with_superscripts_transpose_without_a_double_superscript() -> None:
    prog = symtn.load(ROOT / "symtn" / "examples" / "attention.stn")
    tex = symtn.latex(symtn.simplify(prog.bindings["scores"]), order=tuple(prog.order("scores")))
    assert "{W^{Q}}^T" in tex
    assert re.search(r"\^\{[^{}]*\}\^", tex) is None


def test_matrix_form_refused_for_higher_order() -> None:
    prog = symtn.parse("dim n\nleg i, j, k : n\nT: [i, j, k]\nx: [k]\ny = T @ x\nz = T * x\n")
    for name in ("y", "z"):
        with pytest.raises(symtn.MatrixFormError) as err:
            symtn.latex(prog.bindings[name], form="matrix")
        assert err.value.code == "E219"
    assert symtn.latex(prog.bindings["y"]) == "\\sum_{k} T_{ijk} x_{k}"
    tex = symtn.latex(symtn.simplify(prog.bindings["z"]))  # auto falls back to index form
    assert "T_{" in tex and "x_{" in tex
    with pytest.raises(ValueError):
        symtn.latex(prog.bindings["z"], form="pretty")


def test_cli(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "lr.stn"
    path.write_text(LOGISTIC)
    assert main(["latex", str(path), "H"]) == 0
    assert "\\operatorname{diag}" in capsys.readouterr().out
    assert main(["latex", str(path), "H", "--form", "index"]) == 0
    assert "\\sum" in capsys.readouterr().out
    bad = tmp_path / "t.stn"
    bad.write_text("dim n\nleg i, j, k : n\nT: [i, j, k]\nx: [k]\ny = T @ x\n")
    assert main(["latex", str(bad), "y", "--form", "matrix"]) == 2
    got = capsys.readouterr()
    assert "error[E219]" in got.out + got.err and "--form index" in got.out + got.err


def _all_bundled() -> list[tuple[str, str]]:
    out = []
    for path in sorted((ROOT / "symtn" / "examples").glob("*.stn")):
        prog = symtn.load(path)
        for name, node in prog.bindings.items():
            tex = symtn.latex(symtn.simplify(node), order=tuple(prog.order(name)))
            out.append((f"{path.stem}.{name}", tex))
    return out


def test_every_bundled_binding_prints_and_compiles(tmp_path: Path) -> None:
    items = _all_bundled()
    assert len(items) > 50
    for where, tex in items:
        assert tex and "\u0000" not in tex and "\u0001" not in tex and "_{_" not in tex, where
        assert tex.count("\\left(") == tex.count("\\right)"), where
    if shutil.which("pdflatex") is None:
        pytest.skip("pdflatex is not installed (apt-get install texlive-latex-base)")
    body = "\n".join("\\noindent " + w.replace("_", "\\_") + ":\n\\[ " + t + " \\]\n" for w, t in items)
    head = "\\documentclass{article}\n\\usepackage{amsmath,amssymb}\n\\begin{document}\n"
    doc = head + body + "\\end{document}\n"
    (tmp_path / "all.tex").write_text(doc)
    got = subprocess.run(["pdflatex", "-interaction=nonstopmode", "-halt-on-error", "all.tex"], cwd=tmp_path,
                         capture_output=True, text=True, timeout=300)
    assert got.returncode == 0, got.stdout[-3000:]
