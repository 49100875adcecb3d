"""The examples of the documentation pages run and say what the pages say.

Fenced blocks of ``docs/*.md`` and ``docs/reference/*.md`` (``docs/errors.md`` has its own test,
``tests/test_docs_errors.py``; ``docs/cli.md``'s console blocks run in ``tests/test_docs_site.py``):

* ```stn: a complete program, run as ``symtn run`` runs a file: exit status 0 (every check holds);
* ```stn-error title="CODE": a program that must fail with exactly that code;
* ```python: executed, in a fresh namespace, in a temporary folder.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from symtn.cli import main

ROOT = Path(__file__).resolve().parents[1]
PAGES = sorted((ROOT / "docs").glob("*.md")) + sorted((ROOT / "docs" / "reference").glob("*.md"))
SKIP = {"errors.md"}


def _blocks() -> list[tuple[str, str, str, int]]:
    found = []
    for page in PAGES:
        if page.name in SKIP:
            continue
        text = page.read_text(encoding="utf-8")
        for m in re.finditer(r"^```(stn-error|stn|python)[ ]?([^\n]*)\n(.*?)^```", text, flags=re.S | re.M):
            line = text[: m.start()].count("\n") + 1
            found.append((f"{page.relative_to(ROOT)}:{line}", m.group(1), m.group(2).strip(), m.group(3)))
    return found


BLOCKS = _blocks()


def test_the_pages_have_examples() -> None:
    pages = {where.split(":")[0] for where, *_ in BLOCKS}
    assert "docs/language.md" in pages and "docs/tutorial.md" in pages
    assert sum(1 for _, kind, _, _ in BLOCKS if kind == "stn") >= 20


@pytest.mark.parametrize(("where", "kind", "arg", "body"), BLOCKS, ids=[b[0] for b in BLOCKS])
def test_block(where: str, kind: str, arg: str, body: str, tmp_path: Path,
               capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    if kind == "python":
        exec(compile(body, where, "exec"), {"__name__": "__docs__"})
        return
    path = tmp_path / "example.stn"
    path.write_text(body, encoding="utf-8")
    status = main(["run", str(path)])
    out = capsys.readouterr()
    text = out.out + out.err
    assert "Traceback" not in text
    if kind == "stn":
        assert status == 0, f"{where}: exit {status}\n{text}"
        assert "error[" not in text, text
    else:
        code = re.findall(r"[EW][0-9]{3}", arg)[0]  # the fence reads ```stn-error title="E101"
        reported = re.findall(r"error\[([EW][0-9]{3})\]", text)
        assert reported and reported[0] == code, f"{where}: expected {code}\n{text}"
