"""Run-time support written into every generated module: shape checks and the memory bound.

A generated function starts by calling ``_sizes``: every input's shape is checked against its
tensor's declared legs (number of axes, sizes fixed in the program or at generation time, and
sizes shared with other inputs), and the values of the open size symbols are read from the
arrays. Before contracting anything it calls ``_check_memory`` with the entries of every
intermediate its contraction plan allocates at those sizes; above the module's
``MEMORY_LIMIT`` (default: half the memory available, as ``symtn.evaluate``) it raises
``MemoryLimitError`` (a ``MemoryError``) with the E310 message, naming the binding, the
intermediate's legs and its bytes. The check is cached per shape and limit.

The text here is copied into the module, which must not import symtn.
"""

from __future__ import annotations

from collections.abc import Sequence

SIZES = '''
def _sizes(spec, shapes, wanted):
    """Check input shapes against their declared legs; return the sizes named in ``wanted``.

    ``spec`` holds, per input, ``(tensor, legs)`` with each leg ``(name, size, note)``: ``size``
    an int (fixed; ``note`` says where it was fixed), a str (a size symbol: bound by the first
    leg that has it, checked on every other) or None (a compound size checked by the caller).
    """
    bound = {}
    for (tensor, legs), shape in zip(spec, shapes):
        shape = tuple(shape)
        if len(shape) != len(legs):
            names = ", ".join(leg for leg, _, _ in legs)
            raise ValueError(
                f"input {tensor} has {len(shape)} axes (shape {shape}) but tensor {tensor} is "
                f"declared with {len(legs)} legs [{names}]"
            )
        for (leg, size, note), actual in zip(legs, shape):
            if isinstance(size, int):
                if actual != size:
                    raise ValueError(
                        f"leg {leg} of input {tensor} has size {actual} but is fixed to {size} ({note})"
                    )
            elif isinstance(size, str):
                hit = bound.get(size)
                if hit is None:
                    bound[size] = (actual, tensor, leg)
                elif hit[0] != actual:
                    raise ValueError(
                        f"leg {leg} of input {tensor} has size {actual} but size {size} is "
                        f"{hit[0]} (leg {hit[2]} of input {hit[1]})"
                    )
    return tuple(bound[name][0] for name in wanted)


def _check_size(tensor, leg, actual, want, declared):
    """Check a leg whose declared size is a compound of other sizes."""
    if actual != want:
        raise ValueError(f"leg {leg} of input {tensor} has size {actual} but is declared {declared} = {want}")
'''

MEMORY = '''
MEMORY_LIMIT = {limit}
"""Bytes one intermediate may take (None: half the memory available at the first call with
each new shape). Set it on the module to change the bound."""


class MemoryLimitError(MemoryError):
    """E310: a contraction of this module would allocate an intermediate above MEMORY_LIMIT."""


def _available_memory():
    """Bytes of memory available now (/proc/meminfo, else sysconf, else 16 GiB)."""
    try:
        with open("/proc/meminfo", encoding="ascii") as fh:
            for line in fh:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    try:
        return os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (ValueError, OSError, AttributeError):
        return 1 << 34


def _bytes(n):
    for unit, size in (("TiB", 2**40), ("GiB", 2**30), ("MiB", 2**20), ("KiB", 2**10)):
        if n >= size:
            return f"{{n:,}} bytes ({{n / size:.1f}} {{unit}})"
    return f"{{n:,}} bytes"


_CHECKED = {{}}
"""(function, input shapes, MEMORY_LIMIT) -> the index of the plan chosen for them."""

_CHOSEN = {{}}
"""The same keys -> the intermediates ``(binding, legs, entries)`` of the chosen plan."""


def _check_memory(key, plans):
    """Choose the plan for ``key`` (function, input shapes, limit): of ``plans``, each
    ``(multiply-adds, intermediates)`` with every intermediate ``(binding, legs, entries)``, the
    cheapest whose intermediates fit under the limit; else the plan sliced at run time (cost
    None) when its contractions' results fit. Raises MemoryLimitError otherwise."""
    limit = MEMORY_LIMIT if MEMORY_LIMIT is not None else _available_memory() // 2

    def over(items):
        return next((it for it in items if it[2] * _ITEMSIZE > limit), None)

    ranked = sorted((cost, k) for k, (cost, _) in enumerate(plans) if cost is not None)
    for _, k in ranked:
        if over(plans[k][1]) is None:
            _CHECKED[key], _CHOSEN[key] = k, plans[k][1]
            return
    blocked = over(plans[ranked[0][1]][1]) if ranked else None
    for k, (cost, items) in enumerate(plans):
        if cost is None:
            if over(items) is None:
                _CHECKED[key], _CHOSEN[key] = k, items
                return
            blocked = over(items)
    binding, legs, entries = blocked
    nbytes = entries * _ITEMSIZE
    raise MemoryLimitError(
        f"E310: evaluating binding `{{binding}}` needs an intermediate with legs [{{legs}}] "
        f"of {{_bytes(nbytes)}}, above the memory limit of {{_bytes(int(limit))}}; set "
        "MEMORY_LIMIT on the module to raise it, use smaller inputs, or regenerate with "
        "--size ... --memory-limit ... at generation (numpy code then slices the contraction)"
    )
'''


def memory_source(limit: int | None) -> str:
    """The module's memory-limit block (``limit`` bytes, or None for half the available memory)."""
    return MEMORY.format(limit=repr(limit))


def intermediates(equation: str, path: Sequence[Sequence[int]]) -> list[str]:
    """The label strings of every array a contraction along ``path`` allocates (each step's
    result, opt_einsum's convention), without those another one contains (sizes are >= 1)."""
    ins, out = equation.split("->")
    live = ins.split(",")
    found: list[str] = []
    for step in path:
        picked = [live[i] for i in step]
        live = [t for i, t in enumerate(live) if i not in step]
        keep = set(out) | {c for t in live for c in t}
        res = "".join(dict.fromkeys(c for t in picked for c in t if c in keep))
        live.append(res)
        found.append(res)
    found.append(out)
    kept: list[str] = []
    for labs in sorted(set(found), key=len, reverse=True):
        if not any(set(labs) <= set(k) for k in kept):
            kept.append(labs)
    return kept
