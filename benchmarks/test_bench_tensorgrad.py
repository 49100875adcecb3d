"""symtn against tensorgrad 0.3.0 (symbolic part only), side by side on issue 4's cases.

Each case builds the same expression in both libraries and times the symbolic work alone:

* ``expectation``: ``E[X P X^T Q X R X^T]`` for a Gaussian matrix ``X`` (i.i.d. N(0, 1)); symtn's
  ``symtn.expectation`` (Wick pairings merged by canonical form) against tensorgrad's
  ``Expectation(...).full_simplify()``.
* ``tanh8``: the gradient of ``sum(h_8^2)`` by the first weight of an 8-layer tanh net, fully
  simplified (``symtn.diff`` + ``symtn.simplify`` against ``grad(...).full_simplify()``).
* ``orbits``: the symmetry orbits of the free legs of an 8-fold outer product of one vector
  (``symtn.rewrite.canonical.orbits`` when this build has it; tensorgrad's ``.symmetries``).
* ``canon200``: the canonical key of a 200-tensor network with random wiring (symtn's
  ``canonical_key``; tensorgrad's ``structure.canon_info`` fingerprints).

Every result is checked before it counts: symtn's and tensorgrad's expectation and gradient are
evaluated numerically against hand-written numpy (closed-form Wick terms, backpropagation),
orbits against the known answer (one orbit of 8 legs), canonical keys for invariance under
shuffling and renaming and for sensitivity to one rewired pair. symtn is checked before timing;
tensorgrad's slow cases run one round (pedantic), and that round's result is checked.

Every round starts cold: both libraries cache work on expression objects (symtn also interns
nodes), so each round builds a fresh expression with new names. tensorgrad is optional (the
``bench`` extra): without it those benchmarks skip with the reason. The ratio table is printed
at the end of the run (``benchmarks/conftest.py``).
"""

from __future__ import annotations

import importlib.util
import itertools
import statistics
import time
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest

import symtn
from benchmarks.conftest import TG_RESULTS
from symtn.ir.nodes import Product, Tensor
from symtn.rewrite import canonical

HAVE_TG = importlib.util.find_spec("tensorgrad") is not None
needs_tg = pytest.mark.skipif(
    not HAVE_TG, reason="tensorgrad is not installed (pip install 'symtn[bench]' or tensorgrad==0.3.0)"
)
HAVE_ORBITS = hasattr(canonical, "orbits")

N_ROWS, N_COLS = 5, 6  # X is N_ROWS x N_COLS in the expectation case
DEPTH, WIDTH = 8, 6  # the tanh net
N_NET, NET_SIZE = 200, 3  # the random network: 200 order-3 tensors, legs of size 3
TG_ROUNDS, SYMTN_ROUNDS = 1, 7
_fresh = itertools.count()

TIMES: dict[str, dict[str, float]] = {}


def _record(case: str, lib: str, seconds: float, target: str) -> None:
    row = TIMES.setdefault(case, {})
    row[lib] = seconds
    TG_RESULTS[case] = (row.get("tensorgrad"), row.get("symtn"), target)


def _timed(
    benchmark: Any, fn: Callable[..., Any], setup: Callable[[], tuple[Any, ...]], rounds: int
) -> tuple[Any, float]:
    """Run ``fn(*setup())`` ``rounds`` times under pytest-benchmark; return the last result and
    the median wall time of the calls (setup excluded)."""
    times: list[float] = []

    def target(*args: Any) -> Any:
        t0 = time.perf_counter()
        out = fn(*args)
        times.append(time.perf_counter() - t0)
        return out

    result = benchmark.pedantic(target, setup=lambda: (setup(), {}), rounds=rounds, iterations=1)
    return result, statistics.median(times)


def tg_numpy(
    t: Any, vals: dict[str, np.ndarray], dims: dict[Any, int], memo: dict[int, Any] | None = None
) -> tuple[np.ndarray, list[str]]:
    """Evaluate a tensorgrad expression of sums, products, variables, deltas, renames and the
    elementwise ``tanh`` and ``pow`` with numpy (tensorgrad's own evaluator and compiler need
    torch named tensors, which torch 2.13 no longer has). Returns the array and its edge names,
    axis by axis. Shared sub-expressions are evaluated once (``memo``, by object identity).
    """
    memo = {} if memo is None else memo
    hit = memo.get(id(t))
    if hit is None:
        hit = memo[id(t)] = (_tg_numpy(t, vals, dims, memo), t)  # t kept alive: ids stay unique
    return hit[0]  # type: ignore[no-any-return]


def _tg_numpy(
    t: Any, vals: dict[str, np.ndarray], dims: dict[Any, int], memo: dict[int, Any]
) -> tuple[np.ndarray, list[str]]:
    from tensorgrad.tensor import Delta, Function, Product, Rename, Sum, Variable, Zero

    if isinstance(t, Variable):
        return vals[t.name], list(t.edges)
    if isinstance(t, Rename):
        a, edges = tg_numpy(t.tensor, vals, dims, memo)
        return a, [t.mapping.get(e, e) for e in edges]
    if isinstance(t, (Delta, Zero)):
        edges = list(t.edges)
        n = dims[t.size] if isinstance(t, Delta) else 0
        if isinstance(t, Zero):
            return np.zeros([dims[t.shape[e]] for e in edges]), edges
        if not edges:
            return np.array(float(n)), edges
        a = np.zeros([n] * len(edges))
        for k in range(n):
            a[(k,) * len(edges)] = 1.0
        return a, edges
    if isinstance(t, Sum):
        total: np.ndarray | None = None
        order: list[str] = []
        for w, term in zip(t.weights, t.terms, strict=True):
            a, edges = tg_numpy(term, vals, dims, memo)
            if total is None:
                order = edges
                total = float(w) * a
            else:
                total = total + float(w) * np.transpose(a, [edges.index(e) for e in order])
        assert total is not None
        return total, order
    if isinstance(t, Product):
        parts = [tg_numpy(f, vals, dims, memo) for f in t.factors]
        letters: dict[str, str] = {}
        counts: dict[str, int] = {}
        for _, edges in parts:
            for e in edges:
                letters.setdefault(e, chr(ord("a") + len(letters)))
                counts[e] = counts.get(e, 0) + 1
        out = [e for e in letters if counts[e] == 1]
        spec = ",".join("".join(letters[e] for e in edges) for _, edges in parts)
        spec += "->" + "".join(letters[e] for e in out)
        return np.einsum(spec, *(a for a, _ in parts), optimize=True), out
    if isinstance(t, Function) and len(t.inputs) == 1 and not t.signature.edges and not t.shape_out:
        a, edges = tg_numpy(t.inputs[0], vals, dims, memo)  # an elementwise function
        if t.signature.name == "tanh":
            return np.tanh(a), edges
        if hasattr(t.signature, "k") and t.signature.name.startswith("pow"):
            return a ** float(t.signature.k), edges
    raise NotImplementedError(f"tg_numpy: {type(t).__name__} {getattr(t, 'signature', '')}")


# ------------------------------------------------------------------ E[X P X^T Q X R X^T]
def _chain_values(seed: int = 0) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(seed)
    return {
        "P": rng.standard_normal((N_COLS, N_COLS)),
        "R": rng.standard_normal((N_COLS, N_COLS)),
        "Q": rng.standard_normal((N_ROWS, N_ROWS)),
    }


def _chain_closed_form(v: dict[str, np.ndarray]) -> np.ndarray:
    """The three Wick terms of E[X P X^T Q X R X^T] for X with i.i.d. N(0, 1) entries."""
    p, r, q = v["P"], v["R"], v["Q"]
    return (
        np.trace(p) * np.trace(r) * q
        + np.einsum("ab,ab->", p, r) * q.T
        + np.einsum("ab,ba->", p, r) * np.trace(q) * np.eye(N_ROWS)
    )


def _symtn_chain(tag: str) -> tuple[symtn.Node, symtn.Node]:
    x = symtn.tensor(f"X{tag}", ("r", N_ROWS), ("c", N_COLS))
    p = symtn.tensor(f"P{tag}", ("c", N_COLS), ("c'", N_COLS))
    r = symtn.tensor(f"R{tag}", ("c", N_COLS), ("c'", N_COLS))
    q = symtn.tensor(f"Q{tag}", ("r", N_ROWS), ("r'", N_ROWS))
    chain = symtn.contract(
        x.rename({"r": "r0", "c": "c0"}),
        p.rename({"c": "c0", "c'": "c1"}),
        x.rename({"r": "r1", "c": "c1"}),
        q.rename({"r": "r1", "r'": "r2"}),
        x.rename({"r": "r2", "c": "c2"}),
        r.rename({"c": "c2", "c'": "c3"}),
        x.rename({"r": "r3", "c": "c3"}),
    )
    return chain, x


def _symtn_chain_value(e: symtn.Node, tag: str, v: dict[str, np.ndarray]) -> np.ndarray:
    vals = {f"{k}{tag}": a for k, a in v.items()}
    return np.asarray(symtn.evaluate(e, vals, order=("r0", "r3")))


def test_symtn_expectation(benchmark: Any) -> None:
    v = _chain_values()
    chain, x = _symtn_chain("check")
    e = symtn.expectation(chain, x)
    assert len(e.terms) == 3  # type: ignore[attr-defined]
    assert np.allclose(_symtn_chain_value(e, "check", v), _chain_closed_form(v))

    def setup() -> tuple[Any, ...]:
        return _symtn_chain(f"_{next(_fresh)}")

    _, t = _timed(benchmark, symtn.expectation, setup, SYMTN_ROUNDS)
    _record("E[X P X^T Q X R X^T], X Gaussian", "symtn", t, "< 200 ms and >= 20x faster")


def _tg_chain() -> tuple[Any, Any, dict[str, Any]]:
    from sympy import symbols
    from tensorgrad import Variable

    i, j = symbols("i j")
    x = Variable("X", i, j)
    p, r = Variable("P", j, j1=j), Variable("R", j, j1=j)
    q = Variable("Q", i, i1=i)

    def xr(a: str, b: str) -> Any:
        return x.rename(i=a, j=b)

    chain = (
        xr("i0", "j0") @ p.rename(j="j0", j1="j1") @ xr("i1", "j1") @ q.rename(i="i1", i1="i2")
        @ xr("i2", "j2") @ r.rename(j="j2", j1="j3") @ xr("i3", "j3")
    )  # fmt: skip
    return chain, x, {"P": p, "R": r, "Q": q, "i": i, "j": j}


@needs_tg
def test_tensorgrad_expectation(benchmark: Any) -> None:
    from tensorgrad import Expectation

    def run(chain: Any, x: Any) -> Any:
        return Expectation(chain, x).full_simplify()

    def setup() -> tuple[Any, ...]:
        chain, x, _ = _tg_chain()
        return chain, x

    out, t = _timed(benchmark, run, setup, TG_ROUNDS)
    _, _, var = _tg_chain()
    v = _chain_values()
    got, edges = tg_numpy(out, v, {var["i"]: N_ROWS, var["j"]: N_COLS})
    assert np.allclose(np.transpose(got, [edges.index("i0"), edges.index("i3")]), _chain_closed_form(v))
    _record("E[X P X^T Q X R X^T], X Gaussian", "tensorgrad", t, "< 200 ms and >= 20x faster")


# ------------------------------------------------------------------ 8-layer tanh net gradient
def _tanh_values(seed: int = 1) -> tuple[np.ndarray, list[np.ndarray]]:
    rng = np.random.default_rng(seed)
    x = rng.standard_normal(WIDTH)
    ws = [rng.standard_normal((WIDTH, WIDTH)) / np.sqrt(WIDTH) for _ in range(DEPTH)]
    return x, ws


def _tanh_backprop(x: np.ndarray, ws: list[np.ndarray]) -> np.ndarray:
    """d sum(h_L^2) / d W_1 by hand-written backpropagation ([o, i])."""
    hs = [x]
    for w in ws:
        hs.append(np.tanh(w @ hs[-1]))
    g = 2 * hs[-1]
    for k in range(DEPTH, 0, -1):
        delta = g * (1 - hs[k] ** 2)
        if k == 1:
            return np.outer(delta, hs[0])
        g = ws[k - 1].T @ delta
    raise AssertionError("unreachable")


def _symtn_tanh(tag: str) -> tuple[symtn.Node, symtn.Node]:
    x = symtn.tensor(f"x{tag}", ("i", WIDTH))
    ws = [symtn.tensor(f"W{k}{tag}", ("o", WIDTH), ("i", WIDTH)) for k in range(1, DEPTH + 1)]
    h = x
    for w in ws:
        h = symtn.tanh(w @ h).rename({"o": "i"})
    return symtn.sum(h * h), ws[0]


def _symtn_grad(loss: symtn.Node, w1: symtn.Node) -> symtn.Node:
    return symtn.simplify(symtn.diff(loss, w1))


def test_symtn_tanh8_gradient(benchmark: Any) -> None:
    x, ws = _tanh_values()
    loss, w1 = _symtn_tanh("check")
    g = _symtn_grad(loss, w1)
    vals = {"xcheck": x, **{f"W{k + 1}check": w for k, w in enumerate(ws)}}
    got = np.asarray(symtn.evaluate(g, vals, order=("o", "i")))
    assert np.allclose(got, _tanh_backprop(x, ws))

    def setup() -> tuple[Any, ...]:
        return _symtn_tanh(f"_{next(_fresh)}")

    _, t = _timed(benchmark, _symtn_grad, setup, SYMTN_ROUNDS)
    _record("gradient of an 8-layer tanh net, fully simplified", "symtn", t, "< 100 ms")


def _tg_tanh() -> tuple[Any, Any, Any, list[Any]]:
    from sympy import symbols
    from tensorgrad import Variable
    from tensorgrad import functions as F

    d = symbols("d")
    x = Variable("x", i=d)
    ws = [Variable(f"W{k}", o=d, i=d) for k in range(1, DEPTH + 1)]
    h = x
    for w in ws:
        h = F.tanh(w @ h).rename(o="i")
    return F.sum(h * h), d, x, ws


@needs_tg
def test_tensorgrad_tanh8_gradient(benchmark: Any) -> None:
    def run(loss: Any, w1: Any) -> Any:
        return loss.grad(w1).full_simplify()

    def setup() -> tuple[Any, ...]:
        loss, _, _, ws = _tg_tanh()
        return loss, ws[0]

    out, t = _timed(benchmark, run, setup, TG_ROUNDS)
    _, d, _, _ = _tg_tanh()
    x, ws = _tanh_values()
    vals = {"x": x, **{f"W{k + 1}": w for k, w in enumerate(ws)}}
    got, edges = tg_numpy(out, vals, {d: WIDTH})
    assert np.allclose(np.transpose(got, [edges.index("o"), edges.index("i")]), _tanh_backprop(x, ws))
    _record("gradient of an 8-layer tanh net, fully simplified", "tensorgrad", t, "< 100 ms")


# ------------------------------------------------------------------ orbits of v (x) ... (x) v
def _symtn_outer(tag: str) -> symtn.Node:
    """``v[i0] * v[i1] * ... * v[i7]`` as one flat network (the same as tensorgrad's Product)."""
    v = symtn.tensor(f"v{tag}", ("i", 4))
    return Product(*(v.rename({"i": f"i{k}"}) for k in range(8)))


@pytest.mark.skipif(not HAVE_ORBITS, reason="this build has no symtn.rewrite.canonical.orbits (branch canon)")
def test_symtn_orbits(benchmark: Any) -> None:
    orbits = canonical.orbits  # type: ignore[attr-defined]
    assert orbits(_symtn_outer("check")).legs == (tuple(f"i{k}" for k in range(8)),)

    def setup() -> tuple[Any, ...]:
        return (_symtn_outer(f"_{next(_fresh)}"),)

    _, t = _timed(benchmark, orbits, setup, SYMTN_ROUNDS)
    _record("symmetry orbits of an 8-fold outer product of one vector", "symtn", t, "< 50 ms")


@needs_tg
def test_tensorgrad_orbits(benchmark: Any) -> None:
    from sympy import symbols
    from tensorgrad import Product, Variable

    def setup() -> tuple[Any, ...]:
        v = Variable("v", i=symbols("d"))
        return (Product([v.rename(i=f"i{k}") for k in range(8)]),)

    out, t = _timed(benchmark, lambda p: p.symmetries, setup, TG_ROUNDS)
    assert out == {frozenset(f"i{k}" for k in range(8))}
    _record("symmetry orbits of an 8-fold outer product of one vector", "tensorgrad", t, "< 50 ms")


# ------------------------------------------------------------------ canonical key, 200 tensors
Wiring = list[tuple[str, tuple[str, str, str]]]


def _random_wiring(seed: int, rewire: bool = False) -> Wiring:
    """200 order-3 tensors named A..D, all legs wired at random except four free ones
    (``f0..f3``); no tensor is wired to itself. ``rewire`` swaps the ends of two wires."""
    rng = np.random.default_rng(seed)
    names = [str(rng.choice(list("ABCD"))) for _ in range(N_NET)]
    while True:
        slots = [(t, s) for t in range(N_NET) for s in range(3)]
        order = rng.permutation(len(slots))
        free, rest = order[:4], order[4:]
        pairs = [(slots[rest[k]], slots[rest[k + 1]]) for k in range(0, len(rest), 2)]
        if all(a[0] != b[0] for a, b in pairs):
            break
    if rewire:
        for k in range(1, len(pairs)):
            (a, b), (c, e) = pairs[0], pairs[k]
            if len({a[0], c[0]}) == 2 and len({b[0], e[0]}) == 2:
                pairs[0], pairs[k] = (a, c), (b, e)
                break
    legs: dict[tuple[int, int], str] = {slots[f]: f"f{k}" for k, f in enumerate(free)}
    for k, (a, b) in enumerate(pairs):
        legs[a] = legs[b] = f"w{k}"
    return [(names[t], (legs[(t, 0)], legs[(t, 1)], legs[(t, 2)])) for t in range(N_NET)]


def _shuffled(wiring: Wiring, seed: int) -> Wiring:
    rng = np.random.default_rng(seed)
    rename = {f"w{k}": f"u{j}" for k, j in enumerate(rng.permutation(len(wiring) * 3))}
    out: Wiring = []
    for i in rng.permutation(len(wiring)):
        name, (a, b, c) = wiring[i]
        out.append((name, (rename.get(a, a), rename.get(b, b), rename.get(c, c))))
    return out


def _symtn_net(wiring: Wiring, tag: str) -> symtn.Node:
    slots = (("a", NET_SIZE), ("b", NET_SIZE), ("c", NET_SIZE))
    factors = []
    for name, legs in wiring:
        factors.append(Tensor(name, slots, tuple(x if x.startswith("f") else x + tag for x in legs), ()))
    return Product(*factors)


def test_symtn_canonical_key_200(benchmark: Any) -> None:
    wiring = _random_wiring(3)
    key = canonical.canonical_key(_symtn_net(wiring, ""))
    assert canonical.canonical_key(_symtn_net(_shuffled(wiring, 4), "")) == key
    assert canonical.canonical_key(_symtn_net(_random_wiring(3, rewire=True), "")) != key

    def setup() -> tuple[Any, ...]:
        return (_symtn_net(wiring, f"_{next(_fresh)}"),)

    _, t = _timed(benchmark, canonical.canonical_key, setup, SYMTN_ROUNDS)
    _record("canonical key of a 200-tensor random network", "symtn", t, "< 50 ms")


def _tg_net(wiring: Wiring) -> Any:
    from sympy import symbols
    from tensorgrad import Product, Variable

    n = symbols("n")
    base = {name: Variable(name, a=n, b=n, c=n) for name in "ABCD"}
    return Product([base[name].rename(a=legs[0], b=legs[1], c=legs[2]) for name, legs in wiring])


@needs_tg
def test_tensorgrad_canonical_key_200(benchmark: Any) -> None:
    from tensorgrad import structure

    wiring = _random_wiring(3)

    def key(t: Any) -> Any:
        info = structure.canon_info(t)
        return info.coarse_fp, info.refined_fp

    out, t = _timed(benchmark, key, lambda: (_tg_net(wiring),), TG_ROUNDS + 2)
    assert key(_tg_net(_shuffled(wiring, 4)))[0] == out[0]
    assert key(_tg_net(_random_wiring(3, rewire=True)))[1] != out[1]
    _record("canonical key of a 200-tensor random network", "tensorgrad", t, "< 50 ms")
