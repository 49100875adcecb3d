"""Contraction paths: opt_einsum for small networks, cotengra for large or hyperedge-heavy ones.

A network lowered by :func:`~symtn.lower.plan.plan_network` is one einsum whose labels may occur
in three or more operands (a copy tensor joining several legs becomes one shared label, a
*hyperedge*). opt_einsum's default ("auto") path search prunes its branches with a cost model
that misjudges such labels: on the inner product of two bilinear layers' full tensors
(``ok,ki,kj,ol,li,lj->``, d = 256, h = 1024) its path costs 86 times the FLOPs of the Gram
formula. cotengra treats hyperedges natively, so the threshold is:

- at most :data:`SMALL` dense operands: opt_einsum's exhaustive ``"optimal"`` search (exact,
  hyperedges included);
- more operands without hyperedges, up to :data:`OPT_EINSUM_MAX`: opt_einsum ``"auto"``;
- hyperedges and more than :data:`SMALL` operands, up to :data:`EXACT_MAX`: cotengra's exact
  dynamic-programming search (``optimize_optimal``, minimising FLOPs);
- anything larger: opt_einsum's greedy path, then, when that path costs more than
  :data:`HYPER_MIN_FLOPS` (0.1-1 ms of BLAS work; below it a search of tens of
  milliseconds cannot pay for itself), cotengra's hyper-optimiser (``HyperOptimizer``, bounded by
  :data:`HYPER_REPEATS` trials and :data:`HYPER_SECONDS` seconds so planning stays fast).
  Long chains of small operands (a 32-layer network's gradient) stay on the greedy path.

On the cotengra branches opt_einsum's greedy path is costed too and the cheaper of the two is
kept, so a cotengra plan is never worse than opt_einsum's greedy one. Every path, whoever found
it, is costed by opt_einsum (``contract_path`` with the explicit path), so FLOPs and sizes are
comparable between methods. Paths are cached by equation and sizes.

Sources: D. G. A. Smith and J. Gray, "opt_einsum" (JOSS 3(26), 2018); J. Gray and S. Kourtis,
"Hyper-optimized tensor network contraction", Quantum 5, 410 (2021).
"""

from __future__ import annotations

import math
import warnings
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

import opt_einsum
from opt_einsum import get_symbol

SMALL = 4
"""At most this many dense operands: opt_einsum's exhaustive search."""
OPT_EINSUM_MAX = 8
"""Networks without hyperedges up to this many operands use opt_einsum ``"auto"``."""
EXACT_MAX = 10
"""Hyperedge networks up to this many operands use cotengra's exact search."""
HYPER_REPEATS = 16
"""Trials of cotengra's hyper-optimiser (above :data:`EXACT_MAX` or :data:`OPT_EINSUM_MAX`)."""
HYPER_SECONDS = 0.5
"""Time budget of one hyper-optimiser search, in seconds."""
HYPER_MIN_FLOPS = 10**7
"""Above :data:`EXACT_MAX` operands, the hyper-optimiser runs only when the greedy path costs more."""
CACHE_SIZE = 4096

Path = tuple[tuple[int, ...], ...]


@dataclass(frozen=True)
class Contraction:
    """A chosen contraction order with its cost.

    Attributes:
        equation: the einsum equation (labels as opt_einsum symbols).
        shapes: the operands' shapes.
        path: pairwise contraction path in opt_einsum's linear format.
        method: which search found it (``"opt_einsum optimal"``, ``"opt_einsum auto"``,
            ``"opt_einsum greedy"``, ``"cotengra optimal"``, ``"cotengra hyper"``).
        flops: opt_einsum's FLOP count of the path.
        largest: entries of the largest intermediate (the result included).
        largest_labels: the symbols of the largest intermediate's axes.
        hyperedges: labels shared by three or more operands/output.
    """

    equation: str
    shapes: tuple[tuple[int, ...], ...]
    path: Path
    method: str
    flops: int
    largest: int
    largest_labels: str
    hyperedges: int


_CACHE: dict[tuple[str, tuple[tuple[int, ...], ...]], Contraction] = {}


def hyperedge_count(inputs: Sequence[str], output: str) -> int:
    """How many labels occur three or more times among the operands and the output."""
    counts = Counter(ch for term in (*inputs, output) for ch in set(term))
    return sum(1 for n in counts.values() if n >= 3)


def _cost(equation: str, shapes: Sequence[tuple[int, ...]], path: Path) -> tuple[int, int, str]:
    """(FLOPs, largest intermediate entries, its labels) of ``path`` as opt_einsum counts them."""
    _, info = opt_einsum.contract_path(equation, *shapes, shapes=True, optimize=[tuple(p) for p in path])
    sizes = info.size_dict
    largest, labels = 0, ""
    for step in info.contraction_list:
        out = step[2].split("->")[1]
        n = math.prod(sizes[c] for c in out)
        if n > largest:
            largest, labels = n, out
    return int(info.opt_cost), max(largest, int(info.largest_intermediate)), labels


def _cotengra(inputs: list[str], output: str, sizes: dict[str, int], exact: bool) -> Path:
    terms = [tuple(t) for t in inputs]
    if exact:
        try:  # cotengrust's compiled search directly (importing cotengra costs ~30 ms cold)
            from cotengrust import optimize_optimal
        except ImportError:
            pass
        else:
            linear = optimize_optimal(terms, tuple(output), sizes, minimize="flops")
            return tuple(tuple(int(i) for i in p) for p in linear)
    import cotengra

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # "kahypar not installed": cotengra falls back to `labels`
        if exact:
            # cotengrust's compiled search when installed (a dependency), else cotengra's Python one
            optimal = cotengra.pathfinders.path_basic.get_optimize_optimal()
            linear = optimal(terms, tuple(output), sizes, minimize="flops")
            return tuple(tuple(int(i) for i in p) for p in linear)
        opt = cotengra.HyperOptimizer(
            max_repeats=HYPER_REPEATS, max_time=HYPER_SECONDS, parallel=False, progbar=False, minimize="flops"
        )
        tree = opt.search(terms, tuple(output), sizes)
        return tuple(tuple(int(i) for i in p) for p in tree.get_path())


def choose(labels: Sequence[Sequence[int]], out: Sequence[int], label_sizes: dict[int, int]) -> Contraction:
    """Choose the contraction order of one einsum (see the module docstring for the threshold).

    Args:
        labels: integer labels of each dense operand's axes.
        out: the output labels (distinct, each carried by some operand).
        label_sizes: the length of every label.

    Returns:
        The chosen :class:`Contraction` (cached by equation and shapes).
    """
    inputs = ["".join(get_symbol(x) for x in op) for op in labels]
    output = "".join(get_symbol(x) for x in out)
    equation = f"{','.join(inputs)}->{output}"
    shapes = tuple(tuple(int(label_sizes[x]) for x in op) for op in labels)
    key = (equation, shapes)
    hit = _CACHE.get(key)
    if hit is not None:
        return hit
    n = len(inputs)
    hyper = hyperedge_count(inputs, output)
    if n <= 2:
        path: Path = ((0, 1),) if n == 2 else ((0,),)
        found = {"opt_einsum optimal": path}
    elif n <= SMALL:
        found = {"opt_einsum optimal": _oe_path(equation, shapes, "optimal")}
    elif not hyper and n <= OPT_EINSUM_MAX:
        found = {"opt_einsum auto": _oe_path(equation, shapes, "auto")}
    else:
        sizes = {get_symbol(x): int(s) for x, s in label_sizes.items()}
        greedy = _oe_path(equation, shapes, "greedy")
        found = {}
        if n <= EXACT_MAX:
            found["cotengra optimal"] = _cotengra(inputs, output, sizes, exact=True)
        elif _cost(equation, shapes, greedy)[0] > HYPER_MIN_FLOPS:
            found["cotengra hyper"] = _cotengra(inputs, output, sizes, exact=False)
        found["opt_einsum greedy"] = greedy
    best: Contraction | None = None
    for method, p in found.items():
        flops, largest, big = _cost(equation, shapes, p)
        c = Contraction(equation, shapes, p, method, flops, largest, big, hyper)
        if best is None or (c.flops, c.largest) < (best.flops, best.largest):
            best = c
    assert best is not None
    if len(_CACHE) >= CACHE_SIZE:
        _CACHE.pop(next(iter(_CACHE)))
    _CACHE[key] = best
    return best


def _oe_path(equation: str, shapes: Sequence[tuple[int, ...]], optimize: str) -> Path:
    path, _ = opt_einsum.contract_path(equation, *shapes, shapes=True, optimize=optimize)
    return tuple(tuple(int(i) for i in p) for p in path)
