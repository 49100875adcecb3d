"""The record of one planned contraction (:class:`Step`), kept by the emitters for reports,
memory checks and the cost of generated plans."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Step:
    """One planned contraction: its einsum, FLOP count, largest intermediate (entries), the
    path search that chose it and the legs of the largest intermediate."""

    var: str
    equation: str
    flops: int
    largest: int
    path: tuple[tuple[int, ...], ...]
    method: str = ""
    largest_legs: tuple[str, ...] = ()
    labels: tuple[tuple[str, str, int], ...] = ()
    """Every einsum label with its leg name and size (sizes print as source in generic code)."""
