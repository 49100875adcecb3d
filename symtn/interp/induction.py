"""The toy induction head of Taylor (2024), evaluated by symtn: ``symtn demo induction``.

The bundled program ``examples/induction_head.stn`` builds the attention pattern of a virtual
induction head: a previous-token head (a frozen off-diagonal delta) K-composed with an identity
"match" QK circuit. On a sequence of random vectors repeated three times, each query attends to
the position just after every earlier copy of its own vector: the induction stripe.

Sources: J. Taylor, "Graphical tensor notation for interpretability" (LessWrong, 2024), section
"Example: toy induction head"; Olsson et al., "In-context learning and induction heads",
Transformer Circuits Thread, 2022.
"""

from __future__ import annotations

from collections.abc import Callable
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from symtn.interp import figures as figs
from symtn.interp.figures import ascii_heatmap
from symtn.lower import evaluate
from symtn.program import Program, parse

if TYPE_CHECKING:
    from matplotlib.figure import Figure


def program() -> Program:
    """The bundled induction-head program."""
    text = resources.files("symtn").joinpath("examples", "induction_head.stn").read_text(encoding="utf-8")
    return parse(text, "induction_head.stn")


def repeated_sequence(period: int = 6, dim: int = 64, repeats: int = 3, seed: int = 0) -> np.ndarray:
    """``[repeats * period, dim]``: ``period`` standard-normal vectors, the block repeated."""
    block = np.random.default_rng(seed).standard_normal((period, dim))
    return np.tile(block, (repeats, 1))


def pattern(x: np.ndarray, prog: Program | None = None) -> np.ndarray:
    """The attention pattern ``[q, k]`` of the toy head on the residual stream ``x[q, e]``."""
    prog = prog or program()
    temp = np.array(1.0 / np.sqrt(x.shape[1]))
    return evaluate(prog.bindings["pattern"], {"x": x, "temp": temp}, order=prog.order("pattern"))


def expected_stripe(period: int, repeats: int) -> dict[int, set[int]]:
    """Query -> the keys of the induction stripe: one after each earlier copy of its vector.

    Queries in the first copy have no earlier copy and are left out.
    """
    n = period * repeats
    return {q: {q - m * period + 1 for m in range(1, q // period + 1)} for q in range(period, n)}


def stripe(a: np.ndarray, period: int, threshold: float = 0.2) -> dict[int, set[int]]:
    """Query -> keys holding at least ``threshold`` of the attention, for queries past the first copy."""
    return {q: {int(k) for k in np.nonzero(a[q] >= threshold)[0]} for q in range(period, a.shape[0])}


def figure(a: np.ndarray, period: int) -> Figure:
    """The pattern ``a[q, k]`` as a heat map: positions labelled ``t:v`` (token ``v`` of the block
    at position ``t``), the expected induction stripe outlined.

    Raises:
        MissingMatplotlib: when matplotlib is not installed.
    """
    labels = [f"{t}:v{t % period}" for t in range(a.shape[0])]
    fig = figs.matrix_figure(
        a, "toy induction head: attention pattern", xlabel="key position k (token)",
        ylabel="query position q (token)", xticklabels=labels, yticklabels=labels, cmap="Blues",
        vmin=0.0, vmax=1.0, colorbar="attention weight",
    )
    from matplotlib.patches import Rectangle

    ax = fig.axes[0]
    for q, keys in expected_stripe(period, a.shape[0] // period).items():
        for k in keys:
            ax.add_patch(Rectangle((k - 0.5, q - 0.5), 1, 1, fill=False, edgecolor="tab:red", linewidth=0.8))
    return fig


def run(
    period: int = 6, dim: int = 64, repeats: int = 3, out: str | Path = "induction_pattern.png",
    echo: Callable[[str], None] = print, seed: int = 0,
) -> dict[str, object]:
    """Evaluate the pattern, print it as ASCII, write the heat map; returns the figures.

    Without matplotlib the ASCII heat map is all (a line says how to install matplotlib) and
    ``"figure"`` is None.
    """
    prog = program()
    echo("toy induction head from the bundled program induction_head.stn:")
    for line in prog.source.splitlines():
        if line.startswith(("prev =", "scores =", "masked =", "pattern")):
            echo("  " + line.split("#")[0].rstrip())
    outcomes = prog.check_all()
    for c in outcomes:
        echo(f"  check {'holds' if c.result.holds else 'FAILS'}: {c.stmt.text}")
    x = repeated_sequence(period, dim, repeats, seed)
    a = pattern(x, prog)
    echo(f"\nattention pattern [q, k] on {period} random vectors (d = {dim}) repeated {repeats} times:")
    echo(ascii_heatmap(a))
    got, want = stripe(a, period), expected_stripe(period, repeats)
    ok = got == want and all(c.result.holds for c in outcomes)
    echo(f"induction stripe (each query attends just after earlier copies of its vector): "
         f"{'as expected' if got == want else 'NOT as expected'}")
    try:
        fig: Figure | None = figure(a, period)
    except figs.MissingMatplotlib as err:
        echo(f"no figure: {err.message}; install it with {figs.INSTALL}")
        fig = None
    if fig is not None:
        echo(f"wrote {figs.save(fig, out)}")
    return {"pattern": a, "ok": ok, "png": str(out) if fig is not None else None, "figure": fig}
