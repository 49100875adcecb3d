"""The error catalogue (docs/errors.md) is complete and true.

* every error and warning code that symtn's source can raise appears as a heading of the page;
* every ```stn-error title="CODE" block, run as ``symtn run`` runs a file, reports exactly that code
  (errors exit 2 for the language's errors, 1 for the others; warnings are printed as
  ``warning[CODE]`` and the program still runs);
* every ```python block of the page runs (they show the codes reachable only from the API);
* a ```text block right after a program is the report that program prints, exactly.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from symtn.cli import main

ROOT = Path(__file__).resolve().parents[1]
PAGE = ROOT / "docs" / "errors.md"
CODE = re.compile(r"\b([EW][0-9]{3})\b")


def _source_codes() -> set[str]:
    found: set[str] = set()
    for path in (ROOT / "symtn").rglob("*.py"):
        for line in path.read_text(encoding="utf-8").splitlines():
            if "code" in line or "E_" in line or '"W3' in line or '"E' in line:
                found |= set(re.findall(r"""["']([EW][0-9]{3})["']""", line))
    return found


def _blocks(kind: str) -> list[tuple[str, str]]:
    text = PAGE.read_text(encoding="utf-8")
    return re.findall(rf"```{kind}[ ]?([^\n]*)\n(.*?)```", text, flags=re.S)


def test_every_code_in_the_source_is_catalogued() -> None:
    headings = set(re.findall(r"^### `?([EW][0-9]{3})", PAGE.read_text(encoding="utf-8"), flags=re.M))
    missing = sorted(_source_codes() - headings)
    assert not missing, f"codes raised in symtn/ but not in docs/errors.md: {missing}"
    assert len(headings) >= 50


def _sections() -> list[tuple[str, str]]:
    text = PAGE.read_text(encoding="utf-8")
    return [(s.split("\n")[0].strip("` "), s) for s in re.split(r"^### ", text, flags=re.M)[1:]]


def test_every_catalogued_code_has_a_runnable_example() -> None:
    without = [code for code, body in _sections() if "```stn-error" not in body and "```python" not in body]
    assert not without, f"entries without a program or a Python call that triggers them: {without}"


def test_each_example_sits_under_its_own_code() -> None:
    """A program's fence names its entry's code; a Python block asserts that code."""
    for code, body in _sections():
        for fence in re.findall(r"```stn-error title=\"([EW][0-9]{3})\"", body):
            assert fence == code, (code, fence)
        for block in re.findall(r"```python\n(.*?)```", body, flags=re.S):
            assert f'"{code}"' in block, f"the Python example under {code} does not check {code}"


@pytest.mark.parametrize(("code", "program"), _blocks("stn-error"), ids=lambda v: str(v)[:8])
def test_catalogue_program_reports_its_code(
    code: str, program: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code = re.findall(r"[EW][0-9]{3}", code)[0]  # the fence reads ```stn-error title="E101"
    path = tmp_path / "example.stn"
    path.write_bytes(program.encode("utf-8"))
    status = main(["run", str(path)])
    out = capsys.readouterr()
    text = out.out + out.err
    if code.startswith("W"):
        assert f"warning[{code}]" in text, text
        assert status == 0 and "error[" not in text, text  # a lint does not stop the program
    else:
        reported = re.findall(r"error\[([EW][0-9]{3})\]", text)
        assert reported and reported[0] == code, text
        assert status in (1, 2), status
        assert "Traceback" not in text


@pytest.mark.parametrize("source", [b for _, b in _blocks("python")], ids=lambda v: v.split("\n")[0][:40])
def test_catalogue_python_blocks_run(source: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    exec(compile(source, "docs/errors.md", "exec"), {"__name__": "__docs__"})


REPORTS = re.findall(r"```stn-error[^\n]*\n((?:(?!```).)*)```\s*```text\n(.*?)```",
                     PAGE.read_text(encoding="utf-8"), flags=re.S)


def test_the_page_shows_reports() -> None:
    assert len(REPORTS) >= 5


@pytest.mark.parametrize(("program", "report"), REPORTS, ids=lambda v: str(v)[:20])
def test_shown_report_is_what_symtn_prints(
    program: str, report: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "example.stn"
    path.write_bytes(program.encode("utf-8"))
    main(["run", str(path)])
    out = capsys.readouterr()
    printed = (out.out + out.err).strip().replace(str(path), "example.stn")
    assert printed == report.strip(), f"symtn prints\n{printed}\n\nthe page shows\n{report}"
