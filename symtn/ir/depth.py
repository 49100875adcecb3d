"""Deeply nested expressions: room to recurse, and a clear error past it.

The IR walkers recurse once per nesting level. Python's default limit (1000 frames) stops them at
a few hundred levels, which a loop in the Python API reaches quickly (``e = tanh(e)`` 300 times,
a 100-layer network). :func:`allow_deep_nesting` wraps the public entry points (evaluation, code
generation, differentiation, simplification): it raises the limit for the call and turns a
``RecursionError`` that still happens into E015 instead of a traceback.
"""

from __future__ import annotations

import functools
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, TypeVar

from symtn.errors import SymtnError

RECURSION_LIMIT = 12_000
"""The recursion limit during a wrapped call (Python frames; about 10 per nesting level)."""

F = TypeVar("F", bound=Callable[..., Any])


@contextmanager
def deep_recursion(limit: int = 100_000) -> Iterator[None]:
    """Temporarily raise the interpreter's recursion limit for deep expression trees."""
    old = sys.getrecursionlimit()
    sys.setrecursionlimit(max(old, limit))
    try:
        yield
    finally:
        sys.setrecursionlimit(old)


def allow_deep_nesting(fn: F) -> F:
    """Run ``fn`` with :data:`RECURSION_LIMIT` and raise E015 if even that is exceeded."""

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        before = sys.getrecursionlimit()
        if before >= RECURSION_LIMIT:
            return fn(*args, **kwargs)
        sys.setrecursionlimit(RECURSION_LIMIT)
        try:
            return fn(*args, **kwargs)
        except RecursionError:
            raise SymtnError(
                f"{fn.__name__}: the expression is nested too deeply",
                code="E015",
                help="bind intermediate results (in Python, evaluate or simplify the layers in "
                "parts); about a thousand nested operations are handled",
            ) from None
        finally:
            sys.setrecursionlimit(before)

    return wrapper  # type: ignore[return-value]


__all__ = ["RECURSION_LIMIT", "allow_deep_nesting", "deep_recursion"]
