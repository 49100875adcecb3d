"""The dask backend (symtn.evaluate(..., backend="dask")): results equal the numpy evaluator.

Every binding of every bundled example is evaluated with numpy and with dask arrays split into
small chunks (so contractions, elementwise rules and function bubbles really run chunk by
chunk); one test runs on a local dask.distributed cluster over loopback.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

import symtn
from symtn.errors import EvaluationError, NoRuleError
from symtn.ir import algebra as A
from symtn.lower import evaluate_many
from tests.conftest import ROOT
from tests.test_codegen import _setup

da = pytest.importorskip("dask.array", reason="dask is an optional extra (pip install symtn[dask])")
dask = pytest.importorskip("dask")

BUNDLED = sorted((ROOT / "symtn" / "examples").glob("*.stn"))


def _numpy_results(prog: symtn.Program, vals: dict[str, np.ndarray], sizes: dict[str, int]) -> dict:
    out = {}
    for name, node in prog.bindings.items():
        try:
            out[name] = symtn.evaluate(node, vals, order=prog.order(name), sizes=sizes)
        except (NoRuleError, EvaluationError):  # opaque functions: no rule in any backend
            continue
    return out


@pytest.mark.parametrize("path", BUNDLED, ids=[p.stem for p in BUNDLED])
def test_bundled_examples_match_numpy(path: Path) -> None:
    prog = symtn.load(path)
    sizes, vals = _setup(prog)
    want = _numpy_results(prog, vals, sizes)
    assert want, f"no evaluable binding in {path.name}"
    nodes = {name: prog.bindings[name] for name in want}
    orders = {name: prog.order(name) for name in want}
    # two entries per chunk axis at the small sizes; fixed model sizes (MiniLM's 384 x 1536) get
    # 64 KiB chunks, so the graph stays small while operands still span several chunks
    chunk: int | str = 2 if max(v.size for v in vals.values()) < 1000 else "64KiB"
    with dask.config.set(scheduler="synchronous"):
        got = evaluate_many(nodes, vals, orders=orders, sizes=sizes, backend="dask", chunk_size=chunk)
    for name in want:
        np.testing.assert_allclose(got[name], want[name], rtol=1e-10, atol=1e-12, err_msg=name)


def test_chunked_contraction_matches_einsum_and_accepts_dask_inputs() -> None:
    rng = np.random.default_rng(0)
    a, b, c = rng.standard_normal((6, 5)), rng.standard_normal((5, 7)), rng.standard_normal((7, 5))
    ta = A.tensor("A", ("i", 6), ("j", 5))
    tb = A.tensor("B", ("j2", 5), ("k", 7))
    tc = A.tensor("C", ("k", 7), ("l", 5))
    # a copy tensor joins j and l: a hyperedge over three operands
    net = A.contract(ta, tb, tc, A.delta("j", "j2", "l", "m", size=5))
    want = np.einsum("ij,jk,kj->ij", a, b, c)
    vals = {"A": da.from_array(a, chunks=2), "B": b, "C": c}
    got = symtn.evaluate(net, vals, order=["i", "m"], backend="dask", chunk_size=3)
    assert isinstance(got, np.ndarray)
    np.testing.assert_allclose(got, want, rtol=1e-12)
    # the byte-size form of chunk_size and an elementwise rule on top
    got = symtn.evaluate(symtn.tanh(net), vals, order=["i", "m"], backend="dask", chunk_size="64B")
    np.testing.assert_allclose(got, np.tanh(want), rtol=1e-12)


def test_bubbles_run_block_by_block() -> None:
    rng = np.random.default_rng(1)
    x = rng.standard_normal((4, 3, 3))
    tx = A.tensor("X", ("b", 4), ("i", 3), ("j", 3))
    vals = {"X": x}
    for fn, want in (
        (symtn.softmax(tx, "j"), np.exp(x) / np.exp(x).sum(axis=2, keepdims=True)),
        (symtn.logsumexp(tx, ["i", "j"]), np.log(np.exp(x).sum(axis=(1, 2)))),
        (symtn.max(tx, "i"), x.max(axis=1)),
    ):
        order = [leg for leg in ("b", "i", "j") if leg in fn.legs]
        got = symtn.evaluate(fn, vals, order=order, backend="dask", chunk_size=2)
        np.testing.assert_allclose(got, want, rtol=1e-12)


def test_unknown_backend_and_bad_chunk_size() -> None:
    t = A.tensor("T", ("i", 3))
    with pytest.raises(EvaluationError, match="unknown backend 'cuda'"):
        symtn.evaluate(t, {"T": np.ones(3)}, backend="cuda")
    with pytest.raises(EvaluationError, match="not a size"):
        symtn.evaluate(t, {"T": np.ones(3)}, backend="dask", chunk_size="lots")


def test_local_distributed_cluster() -> None:
    distributed = pytest.importorskip("distributed")
    rng = np.random.default_rng(3)
    n, h = 40, 24
    w = rng.standard_normal((h, n)) / 4
    x = rng.standard_normal((n, 16))
    tw = A.tensor("W", ("h", h), ("i", n))
    tx = A.tensor("x", ("i", n), ("b", 16))
    y = symtn.tanh(tw @ tx)
    loss = symtn.sum(y * y, ["h", "b"])
    grad = symtn.diff(loss, tw, ["h2", "i2"])
    want_y = np.tanh(w @ x)
    want_g = (2 * want_y * (1 - want_y**2)) @ x.T
    cluster = distributed.LocalCluster(
        n_workers=1, threads_per_worker=1, processes=False, dashboard_address=None
    )
    try:
        with distributed.Client(cluster) as client, distributed.get_task_stream(client) as stream:
            got = evaluate_many(
                {"loss": loss, "grad": grad}, {"W": w, "x": x},
                orders={"grad": ["h2", "i2"]}, backend="dask", chunk_size=8,
            )
        assert len(stream.data) > 0  # the tasks ran on this cluster's worker
    finally:
        cluster.close()
    np.testing.assert_allclose(got["loss"], np.sum(want_y**2), rtol=1e-12)
    np.testing.assert_allclose(got["grad"], want_g, rtol=1e-10)
