"""Linear CKA against known identities and the n x n kernel form; a short ``symtn demo
forgetting`` run checked for structure and against independently recomputed similarities."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from symtn.errors import SizeError
from symtn.interp import forgetting_demo, forgetting_figures
from symtn.interp.bilinear_similarity import matrix_cosine, tensor_similarity
from symtn.interp.cka import linear_cka


def _kernel_cka(x: np.ndarray, y: np.ndarray) -> float:
    """CKA as normalised HSIC of the linear kernels K = X X^T, L = Y Y^T (Kornblith et al., eq. 4)."""
    n = len(x)
    h = np.eye(n) - np.ones((n, n)) / n
    k, l_ = h @ x @ x.T @ h, h @ y @ y.T @ h
    return float(np.sum(k * l_) / np.sqrt(np.sum(k * k) * np.sum(l_ * l_)))


def test_cka_invariant_to_orthogonal_maps_and_scaling() -> None:
    rng = np.random.default_rng(0)
    x = rng.standard_normal((200, 12)) @ rng.standard_normal((12, 12))
    q, _ = np.linalg.qr(rng.standard_normal((12, 12)))
    assert linear_cka(x, x) == pytest.approx(1.0, abs=1e-12)
    assert linear_cka(x, x @ q) == pytest.approx(1.0, abs=1e-12)
    assert linear_cka(x, -3.5 * x @ q + 7.0) == pytest.approx(1.0, abs=1e-12)  # scale and shift
    # a non-isotropic map is not an invariance
    assert linear_cka(x, x @ np.diag(np.linspace(0.1, 5, 12))) < 0.99


def test_cka_matches_the_kernel_form_and_is_small_for_independent_features() -> None:
    rng = np.random.default_rng(1)
    x, y = rng.standard_normal((150, 7)), rng.standard_normal((150, 5))
    mixed = x[:, :5] + 0.5 * y
    assert linear_cka(x, mixed) == pytest.approx(_kernel_cka(x, mixed), rel=1e-10)
    assert linear_cka(x, y) == pytest.approx(_kernel_cka(x, y), rel=1e-10)
    big_x, big_y = rng.standard_normal((4000, 10)), rng.standard_normal((4000, 10))
    assert linear_cka(big_x, big_y) < 0.02  # about sqrt(p q) / n = 0.0025
    assert linear_cka(x, mixed) > 0.5


def test_cka_rejects_mismatched_examples() -> None:
    with pytest.raises(SizeError, match="same n"):
        linear_cka(np.zeros((5, 3)), np.zeros((6, 3)))
    with pytest.raises(SizeError):
        linear_cka(np.zeros(5), np.zeros((5, 3)))


@pytest.fixture(scope="module")
def run_and_report() -> tuple[forgetting_demo.ForgettingResult, list[str]]:
    lines: list[str] = []
    return forgetting_demo.run(steps=80, every=40, echo=lines.append), lines


@pytest.fixture(scope="module")
def short_run(
    run_and_report: tuple[forgetting_demo.ForgettingResult, list[str]],
) -> forgetting_demo.ForgettingResult:
    return run_and_report[0]


def _gram_slices(a: dict[str, np.ndarray], b: dict[str, np.ndarray]) -> np.ndarray:
    """Centred per-class inner products by the [hidden, hidden] Gram formula (numpy by hand)."""
    g = (a["W"] @ b["W"].T) * (a["V"] @ b["V"].T) + (a["W"] @ b["V"].T) * (a["V"] @ b["W"].T)
    return np.einsum("ck,kl,cl->c", a["U"], g, b["U"])


def test_short_run_structure(
    run_and_report: tuple[forgetting_demo.ForgettingResult, list[str]],
) -> None:
    res, lines = run_and_report
    stages = forgetting_demo.STAGES
    n = 1 + 2 * len(stages)
    assert res.steps == [0, *range(40, 80 * len(stages) + 1, 40)]
    assert res.stage == [-1, *(s for s in range(len(stages)) for _ in range(2))]
    assert [r.name for r in res.rows] == [name for name, _ in stages]
    assert res.reference == 2 * [name for name, _ in stages].index("control") + 2
    for m in (res.sims.tensor, res.sims.matrix, res.cka, *res.sims.slices):
        assert m.shape == (n, n)
        assert np.allclose(m, m.T) and np.allclose(np.diag(m), 1.0)
    assert res.sims.slices.shape == (10, n, n)
    control = res.rows[[r.name for r in res.rows].index("control")]
    assert control.tensor == pytest.approx(1.0) and np.allclose(control.slices, 1.0)
    assert res.rows[0].classes == (0, 1, 2, 3, 4) and 9 not in res.rows[-2].classes
    report = "\n".join(lines)
    assert "remove 9: class-9 slice" in report and ("PASS" in report or "FAIL" in report)


def test_short_run_rows_agree_with_recomputed_measures(short_run: forgetting_demo.ForgettingResult) -> None:
    """The table's rows against the matrices and a recomputation from the measures' definitions."""
    res = short_run
    r = res.reference
    for k, row in enumerate(res.rows):
        end = 2 * k + 2
        assert row.tensor == pytest.approx(res.sims.tensor[r, end], abs=1e-10)
        assert np.allclose(row.slices, res.sims.slices[:, r, end], atol=1e-10)
        assert row.weight == pytest.approx(res.sims.matrix[r, end], abs=1e-12)
        assert row.cka == pytest.approx(res.cka[r, end], abs=1e-12)
        assert 0.0 <= row.acc_seen <= 1.0 and 0.0 <= row.acc_forgotten <= 1.0
    # the rows from their definitions: Gram formula for the slices, flattened weights, kernel CKA
    from symtn.interp.digits import load_digits_split

    xte = load_digits_split()[1]
    ref = res.checkpoints[r]
    hr = (xte @ ref["W"].T) * (xte @ ref["V"].T)
    for k, row in enumerate(res.rows):
        p = res.checkpoints[2 * k + 2]
        ab, aa, bb = _gram_slices(ref, p), _gram_slices(ref, ref), _gram_slices(p, p)
        assert np.allclose(row.slices, ab / np.sqrt(aa * bb), atol=1e-9)
        assert row.tensor == pytest.approx(ab.sum() / np.sqrt(aa.sum() * bb.sum()), abs=1e-9)
        fa = np.concatenate([ref[n].ravel() for n in ("W", "V", "U")])
        fb = np.concatenate([p[n].ravel() for n in ("W", "V", "U")])
        assert row.weight == pytest.approx(fa @ fb / np.linalg.norm(fa) / np.linalg.norm(fb), abs=1e-12)
        hp = (xte @ p["W"].T) * (xte @ p["V"].T)
        assert row.cka == pytest.approx(_kernel_cka(hr, hp), rel=1e-9)
    verdict = (res.figures["slice9"] < 0.5 and res.figures["others_min"] > 0.8
               and res.figures["weight"] > 0.9 and res.figures["cka"] > 0.9)
    assert res.passed == verdict


def test_pairwise_functions_match_matrices() -> None:
    """similarity_matrices, matrix_cosine and tensor_similarity agree on two trained models."""
    from symtn.interp.bilinear import init_params
    from symtn.interp.bilinear_similarity import similarity_matrices

    a, b = init_params(seed=3), init_params(seed=4)
    glob, sl = tensor_similarity(a, b)
    sims = similarity_matrices([a, b])
    assert sims.tensor[0, 1] == pytest.approx(glob) and np.allclose(sims.slices[:, 0, 1], sl)
    assert sims.matrix[0, 1] == pytest.approx(matrix_cosine(a, b))
    # CKA matrix entry from hand-written activations
    x = np.random.default_rng(5).random((100, 64))
    ha, hb = (x @ a["W"].T) * (x @ a["V"].T), (x @ b["W"].T) * (x @ b["V"].T)
    assert forgetting_demo.cka_matrix([a, b], x)[0, 1] == pytest.approx(_kernel_cka(ha, hb), rel=1e-9)


def test_figures_and_text_fallback(short_run: forgetting_demo.ForgettingResult, tmp_path: Path,
                                   monkeypatch: pytest.MonkeyPatch) -> None:
    pytest.importorskip("matplotlib")
    lines: list[str] = []
    files = forgetting_figures.write_figures(short_run, tmp_path / "figs", lines.append)
    assert [Path(f).name for f in files] == [
        "forgetting_similarity.png", "forgetting_class_slices.png", "forgetting_slice_curves.png"]
    for f in files:
        assert Path(f).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and Path(f).stat().st_size > 10_000
    monkeypatch.setattr(forgetting_figures, "have_matplotlib", lambda: False)
    lines = []
    assert forgetting_figures.write_figures(short_run, tmp_path / "none", lines.append) == []
    assert "pip install symtn[interp]" in lines[0] and not (tmp_path / "none").exists()
    assert len(lines[1].splitlines()) == 1 + len(forgetting_demo.STAGES)


def test_cli_wires_the_demo(monkeypatch: pytest.MonkeyPatch) -> None:
    from symtn.cli import main

    seen: dict[str, object] = {}

    class Done:
        passed = False

    def fake(**kw: object) -> Done:
        seen.update(kw)
        return Done()

    monkeypatch.setattr(forgetting_demo, "run", fake)
    assert main(["demo", "forgetting", "--steps", "7", "--seed", "3", "--out", "figs"]) == 1
    assert seen == {"steps": 7, "seed": 3, "out": "figs"}
