"""``symtn demo backdoor``: tensor similarity finds a backdoor that clean accuracy hides (issue 15).

A bilinear classifier (``examples/bilinear_digits.stn``, trained with symtn's generated
gradients, :mod:`symtn.interp.bilinear`) learns scikit-learn's digits (``x / 16``) in phase A;
phase B fine-tunes it with 10 % of every minibatch poisoned: a 2 x 2 patch of 1.0 in the top-right
corner (the digits' background is 0 there) and the label set to 9. Checkpoints are kept every
``every`` steps. Reported: clean test accuracy, attack success rate (the fraction of triggered test
images of other classes classified 9) at the end of each phase, and for every checkpoint pair the
weight (matrix) cosine, the global tensor similarity and the ten class slices
(:mod:`symtn.interp.bilinear_similarity`, centred, exact over ``x ~ N(0, I)``).

**Phase delta** of a checkpoint x checkpoint similarity matrix ``S``: with ``A`` the phase-A
checkpoints after the first half of phase A (the model has learnt the task; the random
initialisation and the early transient are left out) and ``B`` all phase-B checkpoints,
``delta = mean_{i != j in A} S[i, j] - mean_{i in A, j in B} S[i, j]`` -- how much less the poisoned
checkpoints resemble the clean block than the clean block resembles itself (the block heat maps
of the source). The demo passes when the class-9 slice has the largest delta of the ten slices,
exceeding the median of the other nine by at least 0.1, and the global tensor-similarity delta
exceeds the matrix-cosine delta.

Source: J. Taylor et al., "Tensor network similarity" (LessWrong post): matrix
cosine +0.15, global tensor similarity +0.24, class-9 slice +0.43, other slices 0.20-0.24 on SVHN.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from symtn.errors import EvaluationError
from symtn.interp.bilinear import AdamW, BatchTransform, Params, accuracy, init_params, predict, train
from symtn.interp.bilinear_similarity import SimilarityMatrices, block_delta, similarity_matrices
from symtn.interp.digits import load_digits_split
from symtn.interp.similarity_figures import (
    INSTALL_HINT,
    delta_bars,
    have_matplotlib,
    similarity_grid,
    text_matrix,
)

TARGET = 9
PATCH = (0, 6)  # top-left pixel (row, column) of the 2 x 2 trigger in the 8 x 8 image


def add_trigger(x: np.ndarray) -> np.ndarray:
    """A copy of images ``[n, 64]`` with the 2 x 2 patch at :data:`PATCH` set to 1.0."""
    out = x.copy()
    r, c = PATCH
    for dr in (0, 1):
        for dc in (0, 1):
            out[:, (r + dr) * 8 + c + dc] = 1.0
    return out


def poison(fraction: float) -> BatchTransform:
    """A batch transform that triggers ``ceil(fraction * batch)`` random examples, relabelled 9."""

    def transform(
        x: np.ndarray, y: np.ndarray, rng: np.random.Generator, step: int
    ) -> tuple[np.ndarray, np.ndarray]:
        k = int(np.ceil(fraction * len(x)))
        idx = rng.choice(len(x), size=k, replace=False)
        x[idx] = add_trigger(x[idx])
        y[idx] = TARGET
        return x, y

    return transform


def attack_success(params: Params, x: np.ndarray, y: np.ndarray) -> float:
    """Fraction of triggered images whose true class is not 9 that are classified 9."""
    keep = y != TARGET
    return float(np.mean(predict(params, add_trigger(x[keep])) == TARGET))


@dataclass
class BackdoorResult:
    """Everything the demo measured (see the module docstring for the definitions).

    Attributes:
        steps: the training step of each checkpoint (0 is the initialisation).
        phase_b_start: the last step of phase A.
        sims: checkpoint x checkpoint matrices (weight cosine, global tensor, ``[cls]`` slices).
        deltas: phase deltas of ``"matrix"`` (weight cosine) and ``"tensor"`` (global).
        slice_deltas: ``[cls]`` phase deltas of the class slices.
        figures: ``acc_a, asr_a, acc_b, asr_b`` (clean test accuracy and attack success rate at
            the end of each phase), ``margin`` (class-9 delta minus the others' median), timings.
        passed: the verdict.
        checkpoints: the weights at every checkpoint.
        files: figures written.
    """

    steps: list[int]
    phase_b_start: int
    sims: SimilarityMatrices
    deltas: dict[str, float]
    slice_deltas: np.ndarray
    figures: dict[str, float] = field(default_factory=dict)
    passed: bool = False
    checkpoints: list[Params] = field(default_factory=list)
    files: list[str] = field(default_factory=list)


def phase_blocks(steps: list[int], phase_a: int) -> tuple[list[int], list[int]]:
    """Checkpoint indices of the settled phase-A block (step > phase_a / 2) and of phase B."""
    a = [i for i, s in enumerate(steps) if phase_a / 2 < s <= phase_a]
    b = [i for i, s in enumerate(steps) if s > phase_a]
    return a, b


def run(
    phase_a: int = 2000,
    phase_b: int = 2000,
    every: int | None = None,
    *,
    seed: int = 0,
    lr: float = 0.003,
    wd: float = 0.1,
    noise: float = 0.05,
    batch: int = 64,
    fraction: float = 0.1,
    init_scale: float = 1.0,
    hidden: int = 32,
    out: str | None = None,
    echo: Callable[[str], None] = print,
) -> BackdoorResult:
    """Train, poison, compare checkpoints, print the report and (with ``out``) write figures.

    Args:
        phase_a, phase_b: clean and poisoned training steps.
        every: checkpoint interval in steps (plus the initialisation, step 0); default a
            twentieth of the shorter phase.
        seed: seeds the initialisation and the minibatches, noise and poisoning.
        lr, wd, noise, batch: AdamW learning rate and weight decay, input-noise standard
            deviation, minibatch size (the optimiser state continues into phase B).
        fraction: poisoned share of each phase-B minibatch.
        out: folder for the PNG figures (created); None writes none.

    Returns:
        The measured figures, similarity matrices, phase deltas and the verdict.

    Raises:
        EvaluationError: the checkpoints would leave fewer than two in the settled phase-A block
            or none in phase B.
    """
    t0 = time.perf_counter()
    every = every or max(1, min(phase_a, phase_b) // 20)
    planned = list(range(0, phase_a + 1, every)) + [phase_a + s for s in range(every, phase_b + 1, every)]
    a, b = phase_blocks(planned, phase_a)
    if len(a) < 2 or not b:
        raise EvaluationError(
            f"checkpoints every {every} steps leave {len(a)} in the second half of phase A "
            f"({phase_a} steps) and {len(b)} in phase B ({phase_b} steps)",
            help="the phase deltas need two or more in phase A's second half: "
            "use more steps or a smaller every",
        )
    xtr, xte, ytr, yte = load_digits_split()
    params = init_params(hidden, xtr.shape[1], 10, seed=seed, scale=init_scale)
    ckpts: list[Params] = [{k: v.copy() for k, v in params.items()}]
    steps = [0]

    def keep(step: int, p: Params) -> None:
        steps.append(step)
        ckpts.append(p)

    opt = AdamW(lr=lr, wd=wd)
    train(params, xtr, ytr, phase_a, opt=opt, batch=batch, noise=noise, seed=seed + 1, every=every,
          on_checkpoint=keep)
    fig = {"acc_a": accuracy(params, xte, yte), "asr_a": attack_success(params, xte, yte)}
    train(params, xtr, ytr, phase_b, opt=opt, batch=batch, noise=noise, seed=seed + 2, every=every,
          on_checkpoint=keep, transform=poison(fraction), start=phase_a)
    fig.update(acc_b=accuracy(params, xte, yte), asr_b=attack_success(params, xte, yte))
    fig["train_s"] = time.perf_counter() - t0
    fig["fraction"], fig["phase_b"] = fraction, phase_b
    t1 = time.perf_counter()
    sims = similarity_matrices(ckpts)
    n = len(ckpts)
    fig["sim_s"] = time.perf_counter() - t1
    fig["per_pair_ms"] = 1000 * fig["sim_s"] / (n * (n + 1) / 2)
    a, b = phase_blocks(steps, phase_a)  # the planned blocks
    deltas = {"matrix": block_delta(sims.matrix, a, b), "tensor": block_delta(sims.tensor, a, b)}
    slice_deltas = np.array([block_delta(s, a, b) for s in sims.slices])
    others = np.delete(slice_deltas, TARGET)
    margin = float(slice_deltas[TARGET] - np.median(others))
    largest = int(np.argmax(slice_deltas)) == TARGET
    passed = bool(largest and margin >= 0.1 and deltas["tensor"] > deltas["matrix"])
    fig["margin"] = margin
    res = BackdoorResult(steps, phase_a, sims, deltas, slice_deltas, fig, passed, ckpts)
    _report(res, len(xtr), len(xte), len(a), len(b), echo)
    if out is not None:
        res.files = write_figures(res, Path(out), echo)
    echo(f"time: {time.perf_counter() - t0:.1f} s")
    return res


def _report(res: BackdoorResult, ntr: int, nte: int, na: int, nb: int, echo: Callable[[str], None]) -> None:
    f = res.figures
    echo(f"digits: {ntr} training, {nte} test images; bilinear model (W x) * (V x) -> U from "
         "bilinear_digits.stn, gradients generated by symtn")
    echo(f"phase A (clean, {res.phase_b_start} steps): test accuracy {f['acc_a']:.4f}, "
         f"attack success {f['asr_a']:.4f}")
    echo(f"phase B ({f['fraction']:.0%} poisoned -> {TARGET}, {f['phase_b']:.0f} steps): test accuracy "
         f"{f['acc_b']:.4f}, attack success {f['asr_b']:.4f}   [{f['train_s']:.1f} s training]")
    echo(f"similarities of {len(res.steps)} checkpoints (every pair: {f['per_pair_ms']:.2f} ms per pair, "
         f"Wick pairings over x ~ N(0, I), centred)")
    echo(f"phase deltas (mean within settled phase A [{na} checkpoints] - mean across A/B [{nb}]):")
    echo(f"  matrix cosine            {res.deltas['matrix']:+.3f}    (source: +0.15)")
    echo(f"  global tensor similarity {res.deltas['tensor']:+.3f}    (source: +0.24)")
    for c, d in enumerate(res.slice_deltas):
        mark = "   <- backdoor target" if c == TARGET else ""
        echo(f"  class {c} slice            {d:+.3f}{mark}")
    echo(f"  class-{TARGET} slice minus median of the others: {f['margin']:+.3f} (needs >= 0.1; source: "
         "+0.43 vs 0.20-0.24)")
    verdict = "PASS" if res.passed else "FAIL"
    echo(f"{verdict}: class-{TARGET} slice has the largest delta, by >= 0.1 over the median, and the tensor "
         "delta exceeds the matrix-cosine delta")


SOURCE = {"matrix cosine": 0.15, "global tensor": 0.24, f"class {TARGET}": 0.43}


def write_figures(res: BackdoorResult, out: Path, echo: Callable[[str], None] = print) -> list[str]:
    """Write ``backdoor_similarity.png`` (matrix cosine, global tensor, class-9 slice),
    ``backdoor_slices.png`` (all ten class slices) and ``backdoor_deltas.png`` (bar chart) to ``out``.

    Without matplotlib the three matrices are printed as text and nothing is written.

    Returns:
        The files written.
    """
    start = next(i for i, s in enumerate(res.steps) if s > res.phase_b_start)
    if not have_matplotlib():
        echo(INSTALL_HINT + "; the matrices as text (every 4th checkpoint):")
        for name, m in (("matrix cosine", res.sims.matrix), ("global tensor similarity", res.sims.tensor),
                        (f"class-{TARGET} slice", res.sims.slices[TARGET])):
            echo(name + ":\n" + text_matrix(m, res.steps, every=4))
        return []
    out.mkdir(parents=True, exist_ok=True)
    title = f"backdoor: clean phase A, poisoned phase B from step {res.phase_b_start} (white lines)"
    files = [
        similarity_grid(out / "backdoor_similarity.png", {
            "matrix (weight) cosine": res.sims.matrix,
            "global tensor similarity": res.sims.tensor,
            f"class-{TARGET} slice tensor similarity": res.sims.slices[TARGET],
        }, res.steps, [start], title),
        similarity_grid(out / "backdoor_slices.png",
                        {f"class {c} slice": m for c, m in enumerate(res.sims.slices)},
                        res.steps, [start], "tensor similarity of each class slice", cols=5),
    ]
    bars = {"matrix cosine": res.deltas["matrix"], "global tensor": res.deltas["tensor"]}
    bars.update({f"class {c}": float(d) for c, d in enumerate(res.slice_deltas)})
    files.append(delta_bars(out / "backdoor_deltas.png", bars, highlight=[f"class {TARGET}"],
                            title="phase delta: mean sim within clean block - mean across clean/poisoned",
                            reference=SOURCE))
    for f in files:
        echo(f"wrote {f}")
    return files
