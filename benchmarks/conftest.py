"""Collects each case's interleaved timings and prints the ratio table after the run."""

from __future__ import annotations

from typing import Any

import numpy as np

RESULTS: list[tuple[str, ...]] = []
"""(case, reference median, symtn median, ratio symtn / reference) rows of the table."""


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


def pytest_terminal_summary(terminalreporter: Any) -> None:
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
