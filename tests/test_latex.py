"""LaTeX output: matrix forms as strings and against numpy, index forms, errors, CLI, pdflatex."""

from __future__ import annotations

import shutil
import subprocess
from importlib import resources
from pathlib import Path

import numpy as np
import pytest
import sympy as sp

import symtn
from symtn.cli import main
from symtn.lower.latex import MatrixFormError, binding_latex, document, matrix_tree
from symtn.lower.latex.mtree import M, MatMul, Sym, T, to_numpy

NATURAL = """\
dim n, m
x: [i: n]
A: [i, j: n]
f = x @ A @ x[i -> j]
g = d(f)/d(x)
z: [i]
p = softmax[i](z)
J = d(p)/d(z)
X: [s: m, i]
w: [i]
y: [s] const
s = sigmoid(X @ w)
loss = -sum(y * log(s) + (1 - y) * log(1 - s))
H = d(d(loss)/d(w))/d(w)
"""
SIZES = {"n": 3, "m": 5}  # distinct: a wrong transpose is a shape error, not a coincidence


def norm(text: str) -> str:
    return " ".join(text.split())


@pytest.fixture(scope="module")
def prog() -> symtn.Program:
    return symtn.parse(NATURAL)


def _values(prog: symtn.Program, sizes: dict[str, int], seed: int = 0) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(seed)
    subs = {sp.Symbol(k, integer=True, positive=True): v for k, v in sizes.items()}
    out = {}
    for name, t in prog.tensors.items():
        shape = tuple(int(sp.sympify(s).subs(subs)) for _, s in t.slots)
        a = rng.uniform(0.1, 0.9, shape)
        if len(shape) == 2 and shape[0] == shape[1]:
            a = a + shape[0] * np.eye(shape[0])  # invertible, positive determinant
        out[name] = a
    return out


def _as_matrix(a: np.ndarray) -> np.ndarray:
    return a.reshape(a.shape + (1,) * (2 - a.ndim)) if a.ndim < 2 else a


def _earlier(prog: symtn.Program, name: str) -> dict[str, symtn.Node]:
    names = list(prog.bindings)
    return {k: prog[k] for k in names[: names.index(name)]}


def _tree_matches(prog: symtn.Program, name: str, sizes: dict[str, int], tree: M | None = None) -> bool:
    values = _values(prog, sizes)
    tree = tree or matrix_tree(prog[name], prog.order(name), _earlier(prog, name))
    want = _as_matrix(symtn.evaluate(prog[name], values, sizes=sizes))
    got = to_numpy(tree, values, sizes)
    return got.shape == want.shape and bool(np.allclose(got, want, rtol=1e-8, atol=1e-10))


# ----------------------------------------------------------------------------- matrix form
@pytest.mark.parametrize(
    ("name", "text"),
    [
        ("g", r"A^T x + A x"),
        ("J", r"\operatorname{diag}(p) - p p^T"),
        ("H", r"X^T \operatorname{diag}(s \odot (1 - s)) X"),
        ("f", r"x^T A x"),
    ],
)
def test_matrix_forms_of_natural_programs(prog: symtn.Program, name: str, text: str) -> None:
    assert norm(binding_latex(prog, name)) == norm(text)
    assert _tree_matches(prog, name, SIZES)


def test_matrix_forms_without_names(prog: symtn.Program) -> None:
    soft = r"\operatorname{softmax}(z)"
    assert norm(symtn.latex(prog["J"])) == norm(rf"\operatorname{{diag}}({soft}) - {soft} {soft}^T")
    assert norm(symtn.latex(prog["H"])) == norm(
        r"X^T \operatorname{diag}(\sigma(X w) \odot (1 - \sigma(X w))) X"
    )


def test_printed_formulas_by_hand(prog: symtn.Program) -> None:
    """The three printed formulas, written in numpy from the strings, equal symtn's values."""
    v = _values(prog, SIZES, seed=3)
    A, x, z, X, w = v["A"], v["x"], v["z"], v["X"], v["w"]
    ev = lambda name: symtn.evaluate(prog[name], v, sizes=SIZES)  # noqa: E731
    assert np.allclose(ev("g"), A.T @ x + A @ x)
    p = np.exp(z) / np.exp(z).sum()
    assert np.allclose(ev("J"), np.diag(p) - np.outer(p, p))
    s = 1 / (1 + np.exp(-X @ w))
    assert np.allclose(ev("H"), X.T @ np.diag(s * (1 - s)) @ X)


def test_numpy_check_can_fail(prog: symtn.Program) -> None:
    """Dropping the transpose of ``A^T x + A x`` is caught (A is not symmetric)."""
    tree = matrix_tree(prog["g"], prog.order("g"))
    assert _tree_matches(prog, "g", SIZES, tree)
    wrong = MatMul((Sym("A", (sp.Symbol("n"), sp.Symbol("n"))), Sym("x", (sp.Symbol("n"), None))))
    assert not _tree_matches(prog, "g", SIZES, wrong)
    assert not _tree_matches(prog, "g", SIZES, T(tree))  # a row instead of a column


def test_leg_order_rows_and_columns() -> None:
    q = symtn.parse(
        "dim n, m\nB: [r: n, c: m]\nC: [r, c]\nv: [c]\nu = B @ v\nBt: [c, r] = B\nK: [c, r] = B * C\n"
    )
    assert symtn.latex(q["u"]) == "B v"
    assert symtn.latex(q["Bt"]) == "B^T"
    assert norm(symtn.latex(q["K"])) == r"(B \odot C)^T"  # rows along c, as declared
    for name in ("u", "Bt", "K"):
        assert _tree_matches(q, name, {"n": 3, "m": 4})


def test_folds_and_functions_in_matrix_form() -> None:
    q = symtn.parse(
        "dim n\nA: [i: n, j: n]\nx: [i]\nu = gelu(x)\nl = logsumexp[i](x)\n"
        "t = trace[i, k](A @ A[i -> j, j -> k])\n"
        "h = log_softmax[i](x)\nf = frozen(tanh(A)) * A\nr = relu(x)^2 / (1 + x^2)\nv = inv(A) @ x[i -> j]\n"
    )
    expected = {
        "u": r"\operatorname{gelu}(x)",
        "l": r"\operatorname{logsumexp}(x)",
        "t": r"\operatorname{tr}(A A)",
        "h": r"x - \operatorname{logsumexp}(x) \mathbf{1}",
        "f": r"A \odot \operatorname{frozen}(\tanh(A))",
        "r": r"\frac{\operatorname{relu}(x)^{\circ 2}}{1 + x^{\circ 2}}",
        "v": r"(A^{-1})^T x",  # inv[i, j](A) in leg order [i, j] is A^-T (matrix-functions.md)
    }
    for name, text in expected.items():
        assert norm(symtn.latex(q[name])) == norm(text), name
        assert _tree_matches(q, name, {"n": 3}), name


EXAMPLES = sorted(p.name for p in resources.files("symtn.examples").iterdir() if p.name.endswith(".stn"))


@pytest.fixture(scope="module")
def examples() -> dict[str, symtn.Program]:
    return {f: symtn.load(str(resources.files("symtn.examples") / f)) for f in EXAMPLES}


def test_matrix_forms_of_examples_against_evaluation(examples: dict[str, symtn.Program]) -> None:
    checked = []
    for f in ("gradients.stn", "gaussian.stn", "networks.stn", "matrix_functions.stn", "rules.stn",
              "digits_mlp.stn", "attention.stn"):  # fmt: skip
        prog = examples[f]
        syms = sorted({str(s) for t in prog.tensors.values() for _, z in t.slots for s in z.free_symbols})
        sizes = {s: 2 + k for k, s in enumerate(syms)}
        for name in prog.bindings:
            try:
                tree = matrix_tree(prog[name], prog.order(name), _earlier(prog, name))
            except MatrixFormError:
                continue
            try:
                want = symtn.evaluate(prog[name], _values(prog, sizes), sizes=sizes)
            except symtn.SymtnError:
                continue
            if np.all(np.isfinite(want)):
                assert _tree_matches(prog, name, sizes, tree), (f, name)
                checked.append((f, name))
    assert len(checked) >= 25, checked


def test_random_expressions_matrix_form_or_refusal() -> None:
    """Random expressions (tests/exprgen.py): the matrix tree computes symtn's values, or the
    expression is refused with E219; the index form always prints."""
    from tests.exprgen import SIZES as GEN_SIZES
    from tests.exprgen import random_expr, random_values

    sizes = {str(k): v for k, v in GEN_SIZES.items()}
    checked = refused = 0
    for seed in range(150):
        rng = np.random.default_rng(seed)
        e = random_expr(rng, depth=4)
        values = random_values(rng)
        assert symtn.latex(e, form="index")
        try:
            tree = matrix_tree(e)
        except MatrixFormError:
            refused += 1
            continue
        want = _as_matrix(symtn.evaluate(e, values, sizes=sizes))
        got = to_numpy(tree, values, sizes)
        assert got.shape == want.shape and np.allclose(got, want, rtol=1e-7, atol=1e-9), (seed, str(e))
        checked += 1
    assert checked >= 100 and refused >= 5, (checked, refused)


# ----------------------------------------------------------------------------- index form
def test_index_forms() -> None:
    q = symtn.parse(
        "dim n\nA: [i: n, j: n]\nx: [j]\nB: [i, j, k: n]\n"
        "y = A @ x\nt = sum(x)\nr = trace[i, j](A)\nc = B @ x\nh = tanh(A @ x) + sigmoid(x[j -> i])^2\n"
        "q = softmax[i](A)\n"
    )
    assert symtn.latex(q["y"], form="index") == "A_{ij} x_{j}"
    assert symtn.latex(q["t"], form="index") == r"\sum_{j} x_{j}"
    assert symtn.latex(q["r"]) == r"\operatorname{tr}(A)"
    assert symtn.latex(q["c"]) == "B_{ijk} x_{j}"  # auto: order 3 falls back to index form
    assert norm(symtn.latex(q["h"], form="index")) == r"\tanh(A_{ij} x_{j}) + \sigma(x_{i})^2"
    assert symtn.latex(q["q"], form="index") == r"\operatorname{softmax}_{i}(A_{ij})"


def test_index_form_constants_and_folds() -> None:
    q = symtn.parse("dim n\nu: [i: n]\ng = gelu(u)\nk = 0.5 * u + u^3 / 3 + 0.044715 * exp(u)\n")
    assert symtn.latex(q["g"], form="index") == r"\operatorname{gelu}(u_{i})"
    assert norm(symtn.latex(q["k"], form="index")) == norm(
        r"\frac{1}{2} u_{i} + \frac{1}{3} u_{i}^3 + 0.044715 \exp(u_{i})"
    )


def test_matrix_form_refused_with_reason() -> None:
    q = symtn.parse("dim n\nB: [i: n, j: n, k: n]\nx: [k]\nc = B @ x\n")
    with pytest.raises(MatrixFormError, match="tensor B has 3 legs") as err:
        symtn.latex(q["c"], form="matrix")
    assert err.value.code == "E219"
    with pytest.raises(symtn.SymtnError, match="unknown LaTeX form"):
        symtn.latex(q["c"], form="tex")


# ----------------------------------------------------------------------------- CLI
def test_cli_latex(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    f = tmp_path / "nat.stn"
    f.write_text(NATURAL)
    assert main(["latex", str(f), "H"]) == 0
    assert norm(capsys.readouterr().out) == norm(r"X^T \operatorname{diag}(s \odot (1 - s)) X")
    assert main(["latex", str(f), "g", "f", "--form", "index"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines == ["g = A_{ij} x_{j} + A_{ki} x_{k}", "f = A_{ij} x_{i} x_{j}"]
    assert main(["latex", str(f), "nope"]) == 2
    assert "no binding named nope" in capsys.readouterr().err
    bad = tmp_path / "bad.stn"
    bad.write_text("dim n\nB: [i: n, j: n, k: n]\nc = B\n")
    assert main(["latex", str(bad), "c", "--form", "matrix"]) == 2
    assert "E219" in capsys.readouterr().err
    assert main(["latex", str(f), "f", "g", "p", "--document"]) == 0
    doc = capsys.readouterr().out
    assert doc.startswith(r"\documentclass") and doc.count(r"\[") == 3 and r"\[ g = A^T x + A x \]" in doc


# ----------------------------------------------------------------------------- pdflatex
@pytest.mark.skipif(shutil.which("pdflatex") is None, reason="pdflatex is not installed")
def test_examples_compile_with_pdflatex(examples: dict[str, symtn.Program], tmp_path: Path) -> None:
    """Every binding of every bundled example, in both forms, in one document."""
    lines = []
    for prog in examples.values():
        for name in prog.bindings:
            lines.append((name, binding_latex(prog, name, "auto")))
            lines.append((name, binding_latex(prog, name, "index")))
    (tmp_path / "doc.tex").write_text(document(lines))
    run = subprocess.run(
        ["pdflatex", "-interaction=nonstopmode", "-halt-on-error", "doc.tex"],
        cwd=tmp_path, capture_output=True, text=True, timeout=120,
    )
    assert run.returncode == 0, run.stdout[-2000:]
    assert (tmp_path / "doc.pdf").stat().st_size > 1000


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


def test_logistic_loss_written_with_softplus() -> None:
    q = symtn.parse(LOGISTIC)
    assert symtn.latex(q["g"]) == r"X^T (\sigma(X w) - y)"
    assert symtn.latex(q["H"]) == r"X^T \operatorname{diag}(\sigma(X w) \odot (1 - \sigma(X w))) X"
    sizes = {"N": 6, "n": 3}
    for name in ("loss", "g", "H"):
        assert _tree_matches(q, name, sizes), name


def test_transposes_follow_the_declared_leg_order() -> None:
    q = symtn.parse(
        "dim n, m\nleg i : n\nleg o : m\nW: [o, i]\nx: [i]\nv: [o]\n"
        "a = W @ x\nb = v @ W\nc = v @ W @ x\nM: [i, i'] = W[o, i] @ W[o, i']\n"
    )
    expected = {"a": "W x", "b": "W^T v", "c": "v^T W x", "M": "W^T W"}
    for name, text in expected.items():
        assert binding_latex(q, name) == text
        assert _tree_matches(q, name, {"n": 3, "m": 4}), name


def test_names_with_superscripts_transpose_without_a_double_superscript() -> None:
    prog = symtn.load(str(resources.files("symtn.examples") / "attention.stn"))
    tex = binding_latex(prog, "scores")
    assert norm(tex) == norm(r"\frac{1}{\sqrt{\mathrm{head}}} x {W^{Q}}^T W^{K} x^T")
    q = symtn.parse("dim n\nW1: [i: n, j: n]\nx: [j]\nk12: [i]\ny = W1 @ x\nz = W1[i -> j, j -> i] @ x\n")
    assert symtn.latex(q["z"]) == r"{W^{(1)}}^T x"
    assert symtn.latex(q["y"], form="index") == r"W^{(1)}_{ij} x_{j}"
