"""The acceptance corpus: every shared example parses, leg-checks and verifies; every bad
program fails with the code in its file name; the CLI's exit codes follow."""

from __future__ import annotations

import warnings
from pathlib import Path

import pytest

import symtn
from symtn.cli import main
from tests.conftest import ROOT, corpus

EXAMPLES = corpus("examples")
BAD = corpus("bad")
BUNDLED = sorted((ROOT / "symtn" / "examples").glob("*.stn"))


@pytest.mark.parametrize("path", EXAMPLES + BUNDLED, ids=lambda p: p.name)
def test_example_checks_hold(path: Path) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        prog = symtn.load(path)
    for outcome in prog.check_all():
        assert outcome.result.holds, f"{path.name} line {outcome.stmt.line}: {outcome.stmt.text}"


@pytest.mark.parametrize("path", BAD, ids=lambda p: p.name)
def test_bad_program_fails_with_its_code(path: Path) -> None:
    code = path.name.split("_")[0].upper()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        if code.startswith("W"):
            prog = symtn.load(path)
            assert code in [w.code for w in prog.warnings]
            return
        with pytest.raises(symtn.SymtnError) as info:
            symtn.load(path)
    err = info.value
    assert err.code == code
    assert err.span is not None and err.span.line >= 1
    text = err.render()
    assert "^" in text and f"line {err.span.line}" in text


@pytest.mark.parametrize("path", EXAMPLES[:6] + BUNDLED, ids=lambda p: p.name)
def test_cli_run_examples_exit_0(path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["run", str(path)]) == 0
    out = capsys.readouterr().out
    assert "FAIL" not in out


@pytest.mark.parametrize("path", [p for p in BAD if p.name.startswith("e")], ids=lambda p: p.name)
def test_cli_run_bad_exit_2(path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["run", str(path)]) == 2
    err = capsys.readouterr().err
    assert "Traceback" not in err
    assert path.name.split("_")[0].upper() in err


def test_cli_false_check_exit_1(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    prog = tmp_path / "false.stn"
    prog.write_text("dim n\nleg i, j : n\nA: [i, j]\ncheck A == A[i -> j, j -> i]\n")
    assert main(["run", str(prog)]) == 1
    out = capsys.readouterr().out
    assert "FAIL line 4" in out and "largest difference" in out


@pytest.mark.parametrize(
    "content",
    [b"", b"\x00\x01\x02binary\xff", b"\xff\xfe not utf8", b"dim n\nx = (", b"dim\n"],
    ids=["empty", "binary", "not-utf8", "unclosed", "dangling-dim"],
)
def test_cli_odd_files(tmp_path: Path, content: bytes, capsys: pytest.CaptureFixture[str]) -> None:
    prog = tmp_path / "odd.stn"
    prog.write_bytes(content)
    code = main(["run", str(prog)])
    captured = capsys.readouterr()
    assert "Traceback" not in captured.err
    assert code == (0 if content == b"" else 2)


def test_cli_missing_file(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["run", "/nonexistent/x.stn"]) == 2
