"""Memory bounds before allocation (symtn.lower.memory): sliced contractions and E310 refusals."""

from __future__ import annotations

import tracemalloc
from pathlib import Path

import numpy as np
import pytest

import symtn
from symtn.cli import main
from symtn.errors import EvaluationError, MemoryLimitError
from symtn.ir import algebra as A
from symtn.lower import evaluate_many, numpy_backend
from symtn.lower import memory as mem

N = 16  # triangle network: result N^3 entries (32 KiB), best path's intermediate N^4 (512 KiB)


def _triangle() -> tuple[symtn.Node, dict[str, np.ndarray], np.ndarray]:
    t1 = A.tensor("T1", ("a", N), ("b", N), ("c", N))
    t2 = A.tensor("T2", ("c", N), ("d", N), ("e", N))
    t3 = A.tensor("T3", ("e", N), ("f", N), ("a", N))
    rng = np.random.default_rng(0)
    vals = {k: rng.standard_normal((N, N, N)) for k in ("T1", "T2", "T3")}
    want = np.einsum("abc,cde,efa->bdf", vals["T1"], vals["T2"], vals["T3"])
    return A.contract(t1, t2, t3), vals, want


def test_parse_memory_units() -> None:
    assert mem.parse_memory("2GB") == 2 * 10**9
    assert mem.parse_memory("64 KiB") == 65536
    assert mem.parse_memory("64kb") == 64000
    assert mem.parse_memory("1e3") == 1000
    assert mem.parse_memory(4096) == 4096
    for bad in ("lots", "12 parsecs", "0", -5, True):
        with pytest.raises(EvaluationError):
            mem.parse_memory(bad)  # type: ignore[arg-type]
    assert 0 < mem.resolve_limit(None) <= mem.available_memory()


def test_unsliced_plan_exceeds_the_limit() -> None:
    node, vals, want = _triangle()
    got = symtn.evaluate(node, vals, order=["b", "d", "f"])  # default limit: no slicing needed
    np.testing.assert_allclose(got, want, rtol=1e-10)
    _, _, _, c = numpy_backend.Evaluator(vals, {}, np.float64)._plan(node.args, ("b", "d", "f"))
    assert c is not None and c.largest * 8 == N**4 * 8 > 64 * 1024  # the test needs slicing


def test_small_limit_slices_and_matches_einsum(monkeypatch: pytest.MonkeyPatch) -> None:
    node, vals, want = _triangle()
    seen: list[int] = []
    real = numpy_backend.contract_sliced

    def spy(tree, arrays, backend=None):  # type: ignore[no-untyped-def]
        seen.append(tree.nslices)
        assert tree.max_size() * 8 <= 64 * 1024  # every slice's intermediates fit
        return real(tree, arrays, backend)

    monkeypatch.setattr(numpy_backend, "contract_sliced", spy)
    symtn.evaluate(node, vals, order=["b", "d", "f"], memory_limit="64KiB")  # plans and slices cached
    tracemalloc.start()
    got = symtn.evaluate(node, vals, order=["b", "d", "f"], memory_limit="64KiB")
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    np.testing.assert_allclose(got, want, rtol=1e-10)
    assert seen and seen[0] > 1
    assert peak < N**4 * 8  # never held the unsliced intermediate


def test_dask_backend_slices_too() -> None:
    pytest.importorskip("dask.array")
    node, vals, want = _triangle()
    order = ["b", "d", "f"]
    got = symtn.evaluate(node, vals, order=order, memory_limit="64KiB", backend="dask", chunk_size=8)
    np.testing.assert_allclose(got, want, rtol=1e-10)


def test_result_too_big_is_refused_before_allocation() -> None:
    big = 10**6  # the outer product would take 8 TB
    x, y = A.tensor("x", ("i", big)), A.tensor("y", ("j", big))
    vals = {"x": np.ones(big), "y": np.ones(big)}
    with pytest.raises(MemoryLimitError) as err:
        evaluate_many({"outer": x * y}, vals)
    msg = str(err.value)
    assert err.value.code == "E310"
    assert "binding `outer`" in msg and "[i, j]" in msg and f"{big * big * 8:,} bytes" in msg


def test_small_outer_refused_with_explicit_limit() -> None:
    x, y = A.tensor("x", ("i", 100)), A.tensor("y", ("j", 100))
    node = symtn.tanh(x * y)
    with pytest.raises(MemoryLimitError, match=r"binding `h`.*\[i, j\].*80,000 bytes.*65,536 bytes"):
        evaluate_many({"h": node}, {"x": np.ones(100), "y": np.ones(100)}, memory_limit="64KiB")
    got = evaluate_many({"h": node}, {"x": np.ones(100), "y": np.ones(100)}, memory_limit="1MB")
    np.testing.assert_allclose(got["h"], np.full((100, 100), np.tanh(1.0)))


def test_intermediate_value_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    # sum(tanh(x * y)) is small, but tanh's argument must be held whole: refused, naming it
    x, y = A.tensor("x", ("i", 100)), A.tensor("y", ("j", 100))
    node = symtn.sum(symtn.tanh(x * y), ["i", "j"])
    with pytest.raises(MemoryLimitError, match=r"binding `s`.*\[i, j\].*80,000 bytes"):
        evaluate_many({"s": node}, {"x": np.ones(100), "y": np.ones(100)}, memory_limit=50_000)


def test_cli_memory_limit(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    prog = tmp_path / "p.stn"
    prog.write_text("x: [i: 100]\ny: [j: 100]\nh = tanh(x * y)\n")
    inputs = tmp_path / "in.npz"
    np.savez(inputs, x=np.ones(100), y=np.ones(100))
    assert main(["eval", str(prog), "--inputs", str(inputs), "--memory-limit", "64KB", "h"]) == 2
    err = capsys.readouterr().err
    assert "E310" in err and "binding `h`" in err and "80,000 bytes" in err
    assert main(["eval", str(prog), "--inputs", str(inputs), "--memory-limit", "1MB", "h"]) == 0
    assert main(["eval", str(prog), "--inputs", str(inputs), "--memory-limit", "many", "h"]) == 2
    out = tmp_path / "o.npz"
    args = ["eval", str(prog), "--inputs", str(inputs), "--backend", "dask", "--chunk-size", "30"]
    assert main([*args, "--out", str(out), "h"]) == 0
    with np.load(out) as data:
        np.testing.assert_allclose(data["h"], np.full((100, 100), np.tanh(1.0)))


def test_compile_slices_an_intermediate_above_the_limit_or_refuses() -> None:
    node, vals, want = _triangle()
    fn = symtn.compile({"tri": node}, orders={"tri": ["b", "d", "f"]}, memory_limit="1MB")
    np.testing.assert_allclose(fn(vals["T1"], vals["T2"], vals["T3"]), want, rtol=1e-10)
    # 64 KiB: the 512 KiB intermediate is sliced, the 32 KiB output fits
    fn = symtn.compile({"tri": node}, orders={"tri": ["b", "d", "f"]}, memory_limit="64KiB")
    assert "_sliced_einsum(" in fn.source
    np.testing.assert_allclose(fn(vals["T1"], vals["T2"], vals["T3"]), want, rtol=1e-10)
    # 16 KiB: the output itself is above the limit, slicing cannot help
    with pytest.raises(MemoryLimitError, match=rf"binding `tri`.*{N**4 * 8:,} bytes.*16,384 bytes") as err:
        symtn.compile({"tri": node}, orders={"tri": ["b", "d", "f"]}, memory_limit="16KiB")
    legs = str(err.value).split("legs [")[1].split("]")[0].split(", ")
    assert len(legs) == 4 and set(legs) <= {"a", "b", "c", "d", "e", "f"}


def test_intermediate_that_slicing_cannot_fit_is_refused() -> None:
    # a scalar result (8 bytes fit) but a limit of two entries: every label would have to be
    # sliced, far more than MAX_SLICES slices, so evaluation refuses, naming the intermediate
    t1 = A.tensor("T1", ("a", N), ("b", N), ("c", N))
    t2 = A.tensor("T2", ("c", N), ("d", N), ("e", N))
    t3 = A.tensor("T3", ("e", N), ("f", N), ("a", N))
    t4 = A.tensor("T4", ("b", N), ("d", N), ("f", N))  # the tetrahedron: a scalar network
    vals = {k: np.ones((N, N, N)) for k in ("T1", "T2", "T3", "T4")}
    with pytest.raises(MemoryLimitError, match=r"binding `tr`.*intermediate.*legs \[\w, \w, \w, \w\]") as err:
        evaluate_many({"tr": A.contract(t1, t2, t3, t4)}, vals, memory_limit=16)
    assert "slicing cannot" in str(err.value) and "16 bytes" in str(err.value)
