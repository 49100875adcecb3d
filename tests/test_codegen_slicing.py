"""Generated code under a memory limit: contractions above it are sliced (cotengra chooses the
legs, the module loops over them), or refused with E310 where slicing cannot help."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

import symtn
from symtn.cli import main
from symtn.errors import MemoryLimitError

N = 24
SRC = f"""
dim N = {N}
leg a, b, c, d, e, f : N
T1: [a, b, c]
T2: [c, d, e]
T3: [e, f, a]
R = T1 @ T2 @ T3
s = sum(R)
"""


def _values() -> list[np.ndarray]:
    rng = np.random.default_rng(0)
    return [rng.standard_normal((N, N, N)) for _ in range(3)]


def test_sliced_module_matches_einsum_and_is_standalone() -> None:
    # the pair T1 T2 makes an [a, b, d, e] intermediate of 2.6 MB; the output [b, d, f] is 110 KB
    prog = symtn.parse(SRC)
    t = _values()
    ns = symtn.compile(prog, ["R", "s"], memory_limit="512KB")
    assert "_sliced_einsum(" in ns.source and "for idx in numpy.ndindex" in ns.source
    assert "import symtn" not in ns.source and "cotengra" not in ns.source
    want = np.einsum("abc,cde,efa->bdf", *t)
    np.testing.assert_allclose(ns.R(*t), want, rtol=1e-12, atol=1e-12)
    assert ns.s(*t) == pytest.approx(float(want.sum()), rel=1e-12)
    plain = symtn.compile(prog, ["R"], memory_limit="1GB")
    assert "_sliced_einsum(" not in plain.source  # under the limit: no slicing
    np.testing.assert_allclose(plain(*t), want, rtol=1e-12, atol=1e-12)


def test_codegen_text_slices_only_with_a_limit() -> None:
    prog = symtn.parse(SRC)
    assert "_sliced_einsum(" not in symtn.codegen(prog, ["R"])
    assert "_sliced_einsum(" in symtn.codegen(prog, ["R"], memory_limit="512KB")


def test_output_above_the_limit_is_refused() -> None:
    prog = symtn.parse(SRC)
    with pytest.raises(MemoryLimitError) as err:
        symtn.compile(prog, ["R"], memory_limit="64KB")  # R itself is 110 KB: slicing cannot help
    assert err.value.code == "E310" and "`R`" in err.value.message and "bytes" in err.value.message


def test_cli_codegen_memory_limit(tmp_path: Path) -> None:
    stn = tmp_path / "tri.stn"
    stn.write_text(SRC)
    out = tmp_path / "mod.py"
    assert main(["codegen", str(stn), "R", "--memory-limit", "512KB", "-o", str(out)]) == 0
    namespace: dict[str, object] = {}
    exec(compile(out.read_text(), str(out), "exec"), namespace)  # noqa: S102
    t = _values()
    got = namespace["R"](*t)  # type: ignore[operator]
    np.testing.assert_allclose(got, np.einsum("abc,cde,efa->bdf", *t), rtol=1e-12, atol=1e-12)


def test_cli_plan_reports_the_slicing(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    stn = tmp_path / "tri.stn"
    stn.write_text(SRC)
    assert main(["plan", str(stn), "R", "--memory-limit", "512KB"]) == 0
    out = capsys.readouterr().out
    assert "sliced over [" in out and f"{N**3 * 8:,} bytes" in out
    assert main(["plan", str(stn), "R"]) == 0
    assert "sliced" not in capsys.readouterr().out
