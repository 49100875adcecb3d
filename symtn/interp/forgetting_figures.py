"""Figures of ``symtn demo forgetting`` (issue 15): similarity matrices and slice curves.

Drawn with matplotlib (``pip install symtn[interp]``); without it the stage-end matrices are
printed as text with the install hint.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from symtn.interp.similarity_figures import (
    INSTALL_HINT,
    _pyplot,
    have_matplotlib,
    similarity_grid,
    text_matrix,
)

if TYPE_CHECKING:
    from symtn.interp.forgetting_demo import ForgettingResult


def stage_starts(stage: list[int]) -> list[int]:
    """Checkpoint indices where a new stage begins (after the initialisation)."""
    return [i for i in range(1, len(stage)) if stage[i] != stage[i - 1] and stage[i - 1] >= 0]


def slice_curves(path: Path, res: ForgettingResult) -> str:
    """Each class slice, the global tensor similarity, weight cosine and CKA of every checkpoint
    against the reference model, with the stages marked."""
    from symtn.interp.forgetting_demo import FORGOTTEN, STAGES

    plt = _pyplot()
    x = np.arange(len(res.steps))
    r = res.reference
    fig, (ax1, ax2) = plt.subplots(2, 1, figsize=(11, 8), sharex=True)
    cmap = plt.get_cmap("tab10")
    for c in range(res.sims.slices.shape[0]):
        hl = c == FORGOTTEN
        ax1.plot(x, res.sims.slices[c, r], color=cmap(c), lw=2.6 if hl else 1.1,
                 label=f"class {c}" + (" (removed)" if hl else ""))
    ax2.plot(x, res.sims.tensor[r], color="black", lw=2, label="tensor similarity (global)")
    ax2.plot(x, res.sims.matrix[r], color="tab:orange", lw=1.5, ls="--", label="weight cosine")
    ax2.plot(x, res.cka[r], color="tab:green", lw=1.5, ls=":", label="linear CKA (hidden, test images)")
    starts = [1, *stage_starts(res.stage)]
    for ax in (ax1, ax2):
        for b in starts:
            ax.axvline(b - 0.5, color="grey", lw=0.7)
        ax.axvline(r, color="red", lw=0.8, ls="--")
        ax.axhline(0, color="grey", lw=0.5)
        ax.set_ylabel("similarity to the reference")
        ax.legend(fontsize=8, loc="lower left", ncol=2)
    low = float(np.nanmin(res.sims.slices[:, r]))
    ax1.set_ylim(min(-0.3, low - 0.05), 1.05)
    ax2.set_ylim(min(0.0, float(np.nanmin(res.sims.tensor[r])) - 0.05), 1.05)
    ends = [*starts[1:], len(x)]
    for (name, _), s, e in zip(STAGES, starts, ends, strict=False):
        ax1.text((s + e - 1) / 2, 1.07, name, ha="center", va="bottom", fontsize=8)
    ax1.set_title("class slices against the reference (red dashed: end of 'control')", pad=18)
    ticks = x[:: max(1, len(x) // 12)]
    ax2.set_xticks(ticks, [str(res.steps[t]) for t in ticks])
    ax2.set_xlabel("checkpoint (training step)")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return str(path)


def write_figures(res: ForgettingResult, out: Path, echo: Callable[[str], None] = print) -> list[str]:
    """Write the demo's PNGs into ``out`` (created); without matplotlib print text instead.

    Returns:
        The files written (empty without matplotlib).
    """
    from symtn.interp.forgetting_demo import FORGOTTEN, STAGES

    if not have_matplotlib():
        ends = [max(i for i, s in enumerate(res.stage) if s == k) for k in range(len(STAGES))]
        echo(f"{INSTALL_HINT}; stage-end tensor similarity (rows/columns: "
             + ", ".join(n for n, _ in STAGES) + "):")
        echo(text_matrix(res.sims.tensor[np.ix_(ends, ends)], [res.steps[i] for i in ends]))
        return []
    out.mkdir(parents=True, exist_ok=True)
    b = stage_starts(res.stage)
    files = [
        similarity_grid(out / "forgetting_similarity.png", {
            "global tensor similarity": res.sims.tensor,
            f"class-{FORGOTTEN} slice": res.sims.slices[FORGOTTEN],
            "weight cosine": res.sims.matrix,
            "linear CKA (hidden activations)": res.cka,
        }, res.steps, b, "catastrophic forgetting of class 9 (digits curriculum)", cols=2),
        similarity_grid(out / "forgetting_class_slices.png",
                        {f"class {c} slice": res.sims.slices[c] for c in range(res.sims.slices.shape[0])},
                        res.steps, b, "tensor similarity per class slice", cols=5),
        slice_curves(out / "forgetting_slice_curves.png", res),
    ]
    for f in files:
        echo(f"wrote {f}")
    return files
