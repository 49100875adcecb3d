"""Sliced and dask evaluation against in-memory numpy on one network (symtn.lower.memory, dask_backend).

The triangle network T1[a, b, c] T2[c, d, e] T3[e, f, a] -> [b, d, f], N = 48: the result has N^3
entries (0.9 MB), the best path's intermediate N^4 (42 MB). Rows: symtn's numpy evaluator
unbounded, the same with memory_limit = 4 MB (cotengra slices the contraction), and the dask
backend (chunks of 24 per axis, local threaded scheduler), each as a ratio to
``opt_einsum.contract`` on numpy arrays timed in the same run (interleaved, medians).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import opt_einsum
import pytest

import symtn
from benchmarks.conftest import RESULTS, interleaved
from symtn.ir import algebra as A

N = 48


@pytest.mark.parametrize(
    ("label", "kwargs"),
    [
        ("numpy, unbounded", {}),
        ("numpy, memory_limit 4 MB (sliced)", {"memory_limit": "4MB"}),
        ("dask, chunks of 24", {"backend": "dask", "chunk_size": 24}),
    ],
)
def test_triangle(benchmark: Any, label: str, kwargs: dict[str, Any]) -> None:
    pytest.importorskip("dask.array")
    legs = (("a", "b", "c"), ("c", "d", "e"), ("e", "f", "a"))
    ts = [A.tensor(f"T{i}", *((leg, N) for leg in ls)) for i, ls in enumerate(legs, 1)]
    rng = np.random.default_rng(0)
    vals = {f"T{i}": rng.standard_normal((N, N, N)) for i in (1, 2, 3)}
    node = A.contract(*ts)

    def ref() -> np.ndarray:
        return opt_einsum.contract("abc,cde,efa->bdf", vals["T1"], vals["T2"], vals["T3"])

    def run() -> np.ndarray:
        return symtn.evaluate(node, vals, order=["b", "d", "f"], **kwargs)

    np.testing.assert_allclose(run(), ref(), rtol=1e-10)
    benchmark(run)
    tn, tsy = interleaved([ref, run], 7)
    RESULTS.append((f"triangle network N = {N}: {label} (reference opt_einsum.contract)",
                    f"{tn * 1e3:.1f} ms", f"{tsy * 1e3:.1f} ms", f"{tsy / tn:.2f}x"))
