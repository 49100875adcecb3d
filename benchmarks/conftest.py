"""Collects each case's interleaved timings and prints the ratio table after the run."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import numpy as np

RESULTS: list[tuple[str, ...]] = []
"""(case, reference median, symtn median, ratio symtn / reference) rows of the table."""

TG_RESULTS: dict[str, tuple[float | None, float | None, str]] = {}
"""case -> (tensorgrad seconds, symtn seconds, target), from ``test_bench_tensorgrad.py``."""


def blas_kernel() -> str:
    """The BLAS library and kernel numpy runs on (threadpoolctl), or 'unknown'."""
    try:
        from threadpoolctl import threadpool_info
    except ImportError:
        return "unknown (threadpoolctl not installed)"
    rows = [i for i in threadpool_info() if i.get("user_api") == "blas"]
    return (
        "; ".join(
            f"{r.get('internal_api')} {r.get('version')} {r.get('architecture')} "
            f"threads={r.get('num_threads')}"
            for r in rows
        )
        or "unknown"
    )


def _ms(seconds: float | None) -> str:
    return "-" if seconds is None else f"{seconds * 1e3:.3g} ms" if seconds < 1 else f"{seconds:.3g} s"


def tensorgrad_table(write: Any) -> None:
    """Print the symtn-against-tensorgrad table (medians; ratio = tensorgrad / symtn)."""
    write("")
    write("| case | tensorgrad 0.3.0 | symtn | tensorgrad / symtn | target |")
    write("|---|---|---|---|---|")
    for case, (tg, st, target) in TG_RESULTS.items():
        ratio = f"{tg / st:.3g}x" if tg is not None and st is not None and st > 0 else "-"
        write(f"| {case} | {_ms(tg)} | {_ms(st)} | {ratio} | {target} |")


def pytest_terminal_summary(terminalreporter: Any) -> None:
    if TG_RESULTS:
        tensorgrad_table(terminalreporter.write_line)
    if not RESULTS:
        return
    w = terminalreporter
    w.write_line("")
    w.write_line(f"numpy {np.__version__}; BLAS: {blas_kernel()}")
    w.write_line(
        "| case | hand-written numpy | symtn generated | symtn / numpy | jax / numpy | torch / numpy |"
    )
    w.write_line("|---|---|---|---|---|---|")
    for row in RESULTS:
        w.write_line("| " + " | ".join(row) + " |")


def interleaved(fns: list[Callable[[], Any]], rounds: int = 41) -> list[float]:
    """Median seconds of each function, calls alternating round by round (after a warm-up), so
    the load of a shared machine falls on all of them alike."""
    for fn in fns:
        fn()
    times: list[list[float]] = [[] for _ in fns]
    for _ in range(rounds):
        for i, fn in enumerate(fns):
            t0 = time.perf_counter()
            fn()
            times[i].append(time.perf_counter() - t0)
    return [float(np.median(t)) for t in times]
