"""Memory bounds checked before allocation: limits, refusals and sliced contractions.

Every array the evaluator allocates is bounded by a *memory limit* in bytes (default
:data:`DEFAULT_FRACTION` of the memory available when evaluation starts). The bound is checked
before the allocation, from sizes alone:

- a node's value (a network's result, a sum, an elementwise result) above the limit cannot be
  split, so evaluation refuses with :class:`~symtn.errors.MemoryLimitError` (E310), naming the
  binding, the value's legs and its size in bytes;
- a contraction whose *largest intermediate* is above the limit (while its result fits) is
  sliced with cotengra: a few labels are fixed to each of their values in turn, every slice is
  contracted with intermediates under the limit and the slices are summed (or, for a sliced
  output label, written into their place). When even slicing cannot reach the limit within
  :data:`MAX_SLICES` slices, evaluation refuses the same way.

The limit bounds one array at a time; values kept for reuse (shared subexpressions) are not
added up. Inputs passed by the caller already exist and are not counted.

Source: slicing ("variable projection") as in J. Gray and S. Kourtis, Quantum 5, 410 (2021), sec. 4.
"""

from __future__ import annotations

import math
import os
import re
import time
from collections.abc import Sequence
from typing import Any

from symtn.errors import EvaluationError, MemoryLimitError
from symtn.lower.paths import Contraction

DEFAULT_FRACTION = 0.5
"""The default limit is this fraction of the memory available when evaluation starts."""
MAX_SLICES = 1 << 16
"""A contraction needing more slices than this to fit the limit is refused."""
_UNITS = {
    "": 1, "b": 1, "kb": 10**3, "mb": 10**6, "gb": 10**9, "tb": 10**12,
    "kib": 2**10, "mib": 2**20, "gib": 2**30, "tib": 2**40,
}
_SPEC = re.compile(r"^\s*([0-9]*\.?[0-9]+(?:e[+-]?[0-9]+)?)\s*([a-z]*)\s*$", re.IGNORECASE)
_AVAILABLE: list[float] = [0.0, 0.0]  # (time read, bytes)


def available_memory() -> int:
    """Bytes of memory available now (psutil if installed, else /proc/meminfo, else sysconf);
    re-read at most once a second."""
    now = time.monotonic()
    if now - _AVAILABLE[0] < 1.0 and _AVAILABLE[1] > 0:
        return int(_AVAILABLE[1])
    found = 0
    try:
        import psutil

        found = int(psutil.virtual_memory().available)
    except ImportError:
        try:
            with open("/proc/meminfo", encoding="ascii") as fh:
                for line in fh:
                    if line.startswith("MemAvailable:"):
                        found = int(line.split()[1]) * 1024
                        break
        except OSError:
            pass
        if not found:
            try:
                found = os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
            except (ValueError, OSError, AttributeError):
                found = 1 << 34  # unknown platform: assume 16 GiB
    _AVAILABLE[:] = [now, float(found)]
    return found


def parse_memory(value: int | float | str) -> int:
    """A memory size in bytes from an int or a string such as ``"2GB"``, ``"64 KiB"``, ``"1e9"``.

    Units: B, KB/MB/GB/TB (powers of 1000) and KiB/MiB/GiB/TiB (powers of 1024), any case.

    Raises:
        EvaluationError: E300 for anything else, or a size that is not positive.
    """
    if isinstance(value, bool):
        raise EvaluationError(f"memory limit must be a size such as '2GB', got {value!r}", code="E300")
    if isinstance(value, (int, float)):
        nbytes = float(value)
    else:
        m = _SPEC.match(str(value))
        unit = m.group(2).lower() if m else ""
        if m is None or unit not in _UNITS:
            raise EvaluationError(
                f"memory limit {value!r} is not a size",
                code="E300",
                help="write a number of bytes with an optional unit: 65536, '64KB', '2GB', '512MiB'",
            )
        nbytes = float(m.group(1)) * _UNITS[unit]
    if not nbytes >= 1 or math.isinf(nbytes):
        raise EvaluationError(f"memory limit must be at least one byte, got {value!r}", code="E300")
    return int(nbytes)


def resolve_limit(value: int | float | str | None) -> int:
    """The limit in bytes: ``value`` parsed, or the default fraction of available memory."""
    if value is None:
        return max(1, int(DEFAULT_FRACTION * available_memory()))
    return parse_memory(value)


def format_bytes(n: int) -> str:
    """``n`` bytes with thousands separators and a binary-unit gloss (``"8,388,608 bytes (8.0 MiB)"``)."""
    for unit, size in (("TiB", 2**40), ("GiB", 2**30), ("MiB", 2**20), ("KiB", 2**10)):
        if n >= size:
            return f"{n:,} bytes ({n / size:.1f} {unit})"
    return f"{n:,} bytes"


def refusal(
    binding: str, what: str, legs: Sequence[str], nbytes: int, limit: int, why: str
) -> MemoryLimitError:
    """The E310 error for an array of ``nbytes`` bytes with legs ``legs`` above ``limit``."""
    of = f"binding `{binding}`" if binding else "the expression"
    return MemoryLimitError(
        f"evaluating {of} needs {what} with legs [{', '.join(legs)}] of {format_bytes(nbytes)}, "
        f"above the memory limit of {format_bytes(limit)}; {why}",
        code="E310",
        help="raise the limit (memory_limit='8GB', CLI --memory-limit 8GB), evaluate a smaller "
        "piece, or use backend='dask' on a machine or cluster with more memory",
    )


def check_steps(steps: dict[str, Sequence[Any]], limit: int, itemsize: int = 8) -> None:
    """Refuse generated code whose contractions have an intermediate above ``limit`` bytes.

    Args:
        steps: binding name -> its planned contractions (objects with ``equation``, ``largest``
            entries and ``largest_legs``, as :class:`symtn.lower.emit.Step`).
        limit: the memory limit in bytes.
        itemsize: bytes per entry of the generated code's dtype.

    Raises:
        MemoryLimitError: E310, naming the binding, the intermediate's legs and its bytes.
    """
    for binding, plan in steps.items():
        for st in plan:
            nbytes = int(st.largest) * itemsize
            if nbytes > limit:
                raise refusal(
                    binding, f"an intermediate of the contraction {st.equation}", st.largest_legs,
                    nbytes, limit, "slicing cannot bring it under the limit (the output is larger, "
                    "or it needs too many slices), or the backend does not slice (torch, jax)",
                )


_SLICED: dict[tuple[Contraction, int], Any] = {}


def sliced_tree(c: Contraction, limit_entries: int) -> Any:
    """A cotengra contraction tree following ``c.path``, sliced so that every intermediate has
    at most ``limit_entries`` entries, or None when that needs more than :data:`MAX_SLICES` slices.
    """
    key = (c, limit_entries)
    if key in _SLICED:
        return _SLICED[key]
    import cotengra

    lhs, out = c.equation.split("->")
    inputs = [tuple(t) for t in lhs.split(",")]
    sizes = {
        ch: n for term, shape in zip(inputs, c.shapes, strict=True) for ch, n in zip(term, shape, strict=True)
    }
    tree = cotengra.ContractionTree.from_path(inputs, tuple(out), sizes, path=[list(p) for p in c.path])
    sliced = tree.slice(target_size=limit_entries, seed=0)
    ok = sliced.max_size() <= limit_entries and sliced.nslices <= MAX_SLICES
    _SLICED[key] = sliced if ok else None
    return _SLICED[key]


def contract_sliced(tree: Any, arrays: Sequence[Any], backend: str | None = None) -> Any:
    """Contract ``arrays`` along a sliced cotengra tree, summing (or gathering) the slices."""
    return tree.contract(list(arrays), backend=backend)
