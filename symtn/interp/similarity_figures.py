"""Figures of checkpoint x checkpoint similarity matrices and of per-class deltas (issue 15).

Drawn with matplotlib (``pip install symtn[interp]``). :func:`have_matplotlib` tells whether it
is importable; callers print the matrices as text otherwise (:func:`text_matrix`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np

INSTALL_HINT = "figures need matplotlib: pip install symtn[interp]"


def have_matplotlib() -> bool:
    """Whether matplotlib can be imported."""
    try:
        import matplotlib  # noqa: F401
    except ImportError:
        return False
    return True


def _pyplot():  # type: ignore[no-untyped-def]
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def similarity_grid(
    path: str | Path,
    mats: Mapping[str, np.ndarray],
    steps: Sequence[int],
    boundaries: Sequence[int] = (),
    title: str = "",
    cols: int = 3,
) -> str:
    """Heat maps of ``[n, n]`` similarity matrices side by side, each with its colour bar.

    Args:
        path: the PNG to write.
        mats: panel title -> symmetric ``[n, n]`` matrix over checkpoints.
        steps: the training step of each checkpoint (axis tick labels).
        boundaries: checkpoint indices where a new phase starts (drawn as white lines).
        title: the figure's title.
        cols: panels per row.

    Returns:
        The path written.
    """
    plt = _pyplot()
    n = len(mats)
    cols = min(cols, n)
    rows = -(-n // cols)
    fig, axes = plt.subplots(rows, cols, figsize=(4.6 * cols, 4.0 * rows + 0.6), squeeze=False)
    ticks = np.linspace(0, len(steps) - 1, min(6, len(steps))).round().astype(int)
    for ax, (name, m) in zip(axes.ravel(), mats.items(), strict=False):
        im = ax.imshow(m, cmap="viridis", origin="lower", interpolation="nearest")
        for b in boundaries:
            ax.axvline(b - 0.5, color="white", lw=1.2)
            ax.axhline(b - 0.5, color="white", lw=1.2)
        ax.set_xticks(ticks, [str(steps[t]) for t in ticks])
        ax.set_yticks(ticks, [str(steps[t]) for t in ticks])
        ax.set_xlabel("checkpoint (training step)")
        ax.set_ylabel("checkpoint (training step)")
        ax.set_title(name)
        fig.colorbar(im, ax=ax, fraction=0.046, pad=0.04, label="similarity")
    for ax in axes.ravel()[n:]:
        ax.axis("off")
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return str(path)


def delta_bars(
    path: str | Path,
    deltas: Mapping[str, float],
    highlight: Sequence[str] = (),
    title: str = "",
    ylabel: str = "phase delta",
    reference: Mapping[str, float] | None = None,
) -> str:
    """A bar chart of named deltas; ``highlight`` bars in red, ``reference`` values as black ticks.

    Returns:
        The path written.
    """
    plt = _pyplot()
    names = list(deltas)
    fig, ax = plt.subplots(figsize=(max(6.0, 0.6 * len(names) + 2), 4.2))
    colours = ["tab:red" if k in highlight else "tab:blue" for k in names]
    ax.bar(range(len(names)), [deltas[k] for k in names], color=colours, label="symtn")
    if reference:
        xs = [i for i, k in enumerate(names) if k in reference]
        ax.scatter(xs, [reference[names[i]] for i in xs], marker="_", s=400, color="black", zorder=3,
                   label="source (SVHN)")
        ax.legend()
    ax.set_xticks(range(len(names)), names, rotation=45, ha="right")
    ax.set_ylabel(ylabel)
    ax.axhline(0, color="grey", lw=0.8)
    ax.set_title(title)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return str(path)


def text_matrix(m: np.ndarray, steps: Sequence[int], every: int = 1) -> str:
    """A similarity matrix as rows of two-decimal numbers (every ``every``-th checkpoint)."""
    idx = list(range(0, len(steps), every))
    head = "step   " + " ".join(f"{steps[j]:>5}" for j in idx)
    lines = [head] + [f"{steps[i]:>5}  " + " ".join(f"{m[i, j]:5.2f}" for j in idx) for i in idx]
    return "\n".join(lines)
