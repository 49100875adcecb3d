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

import numpy as np

from symtn.interp.heatmap import ascii_heatmap, write_heatmap
from symtn.lower import evaluate
from symtn.program import Program, parse


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


def run(
    period: int = 6, dim: int = 64, repeats: int = 3, out: str | Path = "induction_pattern.png",
    echo: Callable[[str], None] = print, seed: int = 0,
) -> dict[str, object]:
    """Evaluate the pattern, print it as ASCII, write the heat map; returns the figures."""
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
    engine = write_heatmap(out, a, "toy induction head: attention pattern", "key position k",
                           "query position q")
    echo(f"wrote {out} ({engine})")
    return {"pattern": a, "ok": ok, "png": str(out), "engine": engine}
