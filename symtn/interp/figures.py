"""Figures for the interpretability demos, drawn with matplotlib (the ``interp`` extra).

Every function builds a :class:`matplotlib.figure.Figure` attached to an Agg canvas directly
(no ``pyplot``, no global state, no ``rcParams`` changes), so figures can be inspected in tests
and saved from scripts and servers alike. matplotlib is imported on first use; without it the
functions raise :class:`MissingMatplotlib`, whose help says ``pip install "symtn[interp]"``.

Heat maps put row 0 at the top (matrix convention), label both axes, name their ticks (tokens,
heads, positions) and carry a colour bar.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from symtn.errors import SymtnError

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

INSTALL = 'pip install "symtn[interp]"'


class MissingMatplotlib(SymtnError, ImportError):
    """matplotlib is not installed: figures cannot be drawn (the text output still works)."""


def require_matplotlib() -> type[Figure]:
    """The matplotlib ``Figure`` class, imported on demand.

    Raises:
        MissingMatplotlib: (E300) when matplotlib cannot be imported; the help says how to install it.
    """
    try:
        from matplotlib.figure import Figure
    except ImportError:
        raise MissingMatplotlib(
            "figures need matplotlib, which is not installed", code="E300", help=INSTALL
        ) from None
    return Figure


def new_figure(width: float, height: float) -> Figure:
    """A figure of ``width`` x ``height`` inches on an Agg canvas (independent of pyplot)."""
    figure_class = require_matplotlib()
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    fig = figure_class(figsize=(width, height), layout="constrained")
    FigureCanvasAgg(fig)
    return fig


def heatmap(
    ax: Axes,
    m: np.ndarray,
    *,
    title: str = "",
    xlabel: str = "",
    ylabel: str = "",
    xticklabels: Sequence[str] | None = None,
    yticklabels: Sequence[str] | None = None,
    cmap: str = "viridis",
    vmin: float | None = None,
    vmax: float | None = None,
    colorbar: str | None = "",
    fontsize: float = 7.0,
) -> Any:
    """Draw ``m[row, col]`` on ``ax``: row 0 at the top, labelled ticks, a colour bar.

    Args:
        ax: the axes to draw on.
        m: a 2-d array ``[rows, cols]``; drawn as is (no absolute value, no rescaling).
        title, xlabel, ylabel: the axes' text.
        xticklabels, yticklabels: one label per column / row (e.g. tokens, ``L0H3``); None
            keeps matplotlib's numeric ticks.
        cmap, vmin, vmax: the colour scale.
        colorbar: None for no colour bar, else its label.
        fontsize: tick label size in points.

    Returns:
        The ``AxesImage`` (its ``.colorbar`` is set when a colour bar was drawn).
    """
    data = np.asarray(m, dtype=np.float64)
    if data.ndim != 2:
        raise SymtnError(f"a heat map needs a 2-d array, got shape {data.shape}", code="E300")
    im = ax.imshow(data, cmap=cmap, vmin=vmin, vmax=vmax, aspect="auto", interpolation="nearest")
    for labels, n, set_ticks, set_labels, rot in (
        (xticklabels, data.shape[1], ax.set_xticks, ax.set_xticklabels, 90),
        (yticklabels, data.shape[0], ax.set_yticks, ax.set_yticklabels, 0),
    ):
        if labels is None:
            continue
        if len(labels) != n:
            raise SymtnError(f"{len(labels)} tick labels for an axis of length {n}", code="E300")
        set_ticks(np.arange(n))
        set_labels(list(labels), fontsize=fontsize, rotation=rot)
    ax.set_title(title, fontsize=max(10.0, fontsize + 3))
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    if colorbar is not None:
        cb = ax.figure.colorbar(im, ax=ax, shrink=0.9)
        if colorbar:
            cb.set_label(colorbar)
    return im


def matrix_figure(m: np.ndarray, title: str = "", **kw: Any) -> Figure:
    """One heat map in its own figure (keyword arguments as :func:`heatmap`)."""
    rows, cols = np.shape(m)
    fig = new_figure(min(12.0, 2.5 + 0.22 * cols), min(11.0, 1.8 + 0.2 * rows))
    heatmap(fig.add_subplot(), m, title=title, **kw)
    return fig


def attention_figure(
    patterns: Sequence[tuple[str, np.ndarray]], tokens: Sequence[str], title: str = ""
) -> Figure:
    """Attention patterns ``A[query, key]`` side by side, tokens on both axes, one colour scale.

    Args:
        patterns: ``(name, A)`` per panel, each ``A`` of shape ``[len(tokens), len(tokens)]``
            with rows summing to 1.
        tokens: the token strings (query positions down, key positions across).
        title: the figure's title.
    """
    n = len(patterns)
    size = min(7.0, 1.5 + 0.16 * len(tokens))
    fig = new_figure(size * n + 1.0, size + 0.6)
    axes = fig.subplots(1, n, squeeze=False)[0]
    for i, (ax, (name, a)) in enumerate(zip(axes, patterns, strict=True)):
        heatmap(
            ax, a, title=name, xlabel="key token", ylabel="query token" if i == 0 else "",
            xticklabels=tokens, yticklabels=tokens, cmap="Blues", vmin=0.0, vmax=1.0,
            colorbar="attention weight" if i == n - 1 else None, fontsize=5.5,
        )
    if title:
        fig.suptitle(title)
    return fig


def head_labels(layers: int, heads: int) -> list[str]:
    """``L0H0, L0H1, ...``: one label per head, layer-major (the order of stacked heads)."""
    return [f"L{layer}H{h}" for layer in range(layers) for h in range(heads)]


def head_scores_figure(scores: Sequence[tuple[str, np.ndarray]], title: str = "") -> Figure:
    """Per-head scores ``[layer, head]`` as heat maps with layer and head labels, values printed.

    Args:
        scores: ``(name, S)`` per panel; ``S[layer, head]``.
        title: the figure's title.
    """
    n = len(scores)
    fig = new_figure(7.5, 2.8 * n + 0.4)
    axes = fig.subplots(n, 1, squeeze=False)[:, 0]
    for ax, (name, s) in zip(axes, scores, strict=True):
        layers, heads = s.shape
        im = heatmap(
            ax, s, title=name, xlabel="head", ylabel="layer",
            xticklabels=[f"H{h}" for h in range(heads)], yticklabels=[f"L{x}" for x in range(layers)],
            cmap="magma", colorbar="score",
        )
        for (r, c), v in np.ndenumerate(s):  # values in the cells: light text on dark cells
            dark = im.norm(v) < 0.6
            ax.text(c, r, f"{v:.2f}", ha="center", va="center", fontsize=5,
                    color="white" if dark else "black")
    if title:
        fig.suptitle(title)
    return fig


def similarity_figure(sim: np.ndarray, labels: Sequence[str], title: str, group: int = 0) -> Figure:
    """A symmetric similarity matrix (cosines in [-1, 1]) with a label per row and column.

    Args:
        sim: ``[k, k]`` similarities.
        labels: one label per row (e.g. :func:`head_labels`).
        title: the figure's title.
        group: draw thin separators every ``group`` rows and columns (e.g. per layer); 0 for none.
    """
    k = len(labels)
    fig = new_figure(min(11.0, 2.5 + 0.11 * k), min(10.0, 1.8 + 0.11 * k))
    ax = fig.add_subplot()
    heatmap(
        ax, sim, title=title, xlabel="head", ylabel="head", xticklabels=labels, yticklabels=labels,
        cmap="RdBu_r", vmin=-1.0, vmax=1.0, colorbar="cosine similarity", fontsize=4.0,
    )
    if group:
        for b in range(group, k, group):
            ax.axhline(b - 0.5, color="black", linewidth=0.4)
            ax.axvline(b - 0.5, color="black", linewidth=0.4)
    return fig


def save(fig: Figure, path: str | Path, dpi: int = 200) -> Path:
    """Write ``fig`` (PNG, PDF or SVG by the suffix) and return the path."""
    out = Path(path)
    fig.savefig(out, dpi=dpi)
    return out


def ascii_heatmap(m: np.ndarray, labels: bool = True) -> str:
    """Render ``m[row, col]`` with one character per cell, darker for larger ``|m|`` (no matplotlib).

    Args:
        m: a 2-d array; values are scaled by ``max |m|``.
        labels: prefix each row with its index and add a column ruler (mod 10).
    """
    shades = " .:-=+*#%@"
    a = np.abs(np.asarray(m, dtype=np.float64))
    top = float(a.max()) or 1.0
    idx = np.clip(np.rint(a / top * (len(shades) - 1)).astype(int), 0, len(shades) - 1)
    width = len(str(a.shape[0] - 1))
    lines = []
    if labels:
        lines.append(" " * (width + 1) + "".join(str(c % 10) for c in range(a.shape[1])))
    for r, row in enumerate(idx):
        cells = "".join(shades[i] for i in row)
        lines.append(f"{r:>{width}} {cells}" if labels else cells)
    return "\n".join(lines)
