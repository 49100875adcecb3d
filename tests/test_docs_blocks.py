"""The examples of the documentation pages run and say what the pages say.

Fenced blocks of ``docs/*.md`` and ``docs/reference/*.md`` and the programs of ``README.md``
(``docs/errors.md`` has its own test, ``tests/test_docs_errors.py``; ``docs/cli.md``'s console
blocks run in ``tests/test_docs_site.py``):

* ```stn: a complete program, run as ``symtn run`` runs a file: exit status 0 (every check holds);
  with ``title="NAME.stn"`` it is also saved under that name for the page's console blocks;
* ```stn-error title="CODE": a program that must fail with exactly that code;
* ```python: executed, in a fresh namespace, in the page's working folder;
* ```console: ``$ symtn ARGS`` (or ``$ python -m symtn ARGS``) lines run in-process
  (``symtn.cli.main``) in the page's working folder, where ``symtn/examples/`` is the bundled
  examples; each must exit 0, and the lines after a command are its exact output (a line
  ``...`` stands for any number of lines).

Each page has one working folder holding its titled programs; a block runs after the page's
earlier console blocks (so a module written by ``symtn codegen`` can be imported below it).
"""

from __future__ import annotations

import re
import shlex
from pathlib import Path

import pytest

from symtn.cli import main

ROOT = Path(__file__).resolve().parents[1]
PAGES = sorted((ROOT / "docs").glob("*.md")) + sorted((ROOT / "docs" / "reference").glob("*.md"))
SKIP = {"errors.md"}
CONSOLE_ELSEWHERE = {"cli.md"}
FENCE = re.compile(r"^```(stn-error|stn|python|console)[ ]?([^\n]*)\n(.*?)^```", flags=re.S | re.M)

Block = tuple[str, str, str, str]  # where, kind, fence argument, body


def _page_blocks(page: Path) -> list[Block]:
    text = page.read_text(encoding="utf-8")
    found = []
    for m in FENCE.finditer(text):
        if m.group(1) == "console" and page.name in CONSOLE_ELSEWHERE:
            continue
        if page.name == "README.md" and m.group(1) != "stn":
            continue  # the README's Python sketch has placeholders; its programs run
        line = text[: m.start()].count("\n") + 1
        found.append((f"{page.relative_to(ROOT)}:{line}", m.group(1), m.group(2).strip(), m.group(3)))
    return found


PAGE_BLOCKS = {p.relative_to(ROOT).as_posix(): _page_blocks(p) for p in [*PAGES, ROOT / "README.md"]
               if p.name not in SKIP}
BLOCKS = [b for blocks in PAGE_BLOCKS.values() for b in blocks]


def _title(arg: str) -> str | None:
    m = re.search(r'title="([^"]+)"', arg)
    return m.group(1) if m else None


def _output_matches(expected: list[str], actual: list[str]) -> bool:
    """``expected`` equals ``actual`` line by line, a line ``...`` matching any run of lines."""
    if not expected:
        return not actual
    if expected[0] == "...":
        return any(_output_matches(expected[1:], actual[k:]) for k in range(len(actual) + 1))
    return bool(actual) and expected[0] == actual[0] and _output_matches(expected[1:], actual[1:])


def _run_console(where: str, body: str, capsys: pytest.CaptureFixture[str]) -> None:
    sessions: list[tuple[str, list[str]]] = []
    for line in body.splitlines():
        if line.startswith("$ "):
            sessions.append((line[2:], []))
        elif sessions:
            sessions[-1][1].append(line.rstrip())
        else:
            raise AssertionError(f"{where}: a console block starts with `$ symtn ...`")
    for command, expected in sessions:
        argv = shlex.split(command)
        if argv[:3] == ["python", "-m", "symtn"]:
            argv = argv[2:]
        assert argv[0] == "symtn", f"{where}: only symtn commands run here: {command}"
        capsys.readouterr()
        status = main(argv[1:])
        out = capsys.readouterr()
        text = out.out + out.err
        assert status == 0, f"{where}: `{command}` exited {status}\n{text}"
        assert "Traceback" not in text
        actual = [line.rstrip() for line in out.out.rstrip("\n").splitlines()]
        while expected and not expected[-1]:
            expected.pop()
        if expected:
            assert _output_matches(expected, actual), (
                f"{where}: `{command}` printed\n" + "\n".join(actual)
                + "\nbut the page says\n" + "\n".join(expected)
            )


class _Pages:
    """One working folder per page, with its titled programs and its console blocks run in order."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.done: set[str] = set()

    def folder(self, page: str, upto: str, capsys: pytest.CaptureFixture[str]) -> Path:
        folder = self.root / page.replace("/", "_")
        if not folder.exists():
            folder.mkdir()
            (folder / "symtn").symlink_to(ROOT / "symtn")  # the bundled symtn/examples/*.stn
        for _, kind, arg, body in PAGE_BLOCKS[page]:
            title = _title(arg)
            if kind == "stn" and title:
                (folder / title).write_text(body, encoding="utf-8")
        for where, kind, _, body in PAGE_BLOCKS[page]:
            if where == upto:
                break
            if kind == "console" and where not in self.done:
                self.done.add(where)
                with pytest.MonkeyPatch.context() as mp:
                    mp.chdir(folder)
                    _run_console(where, body, capsys)
        return folder


@pytest.fixture(scope="module")
def pages(tmp_path_factory: pytest.TempPathFactory) -> _Pages:
    return _Pages(tmp_path_factory.mktemp("pages"))


def test_the_pages_have_examples() -> None:
    pages = {where.split(":")[0] for where, *_ in BLOCKS}
    assert "docs/language.md" in pages and "docs/tutorial.md" in pages
    assert sum(1 for _, kind, _, _ in BLOCKS if kind == "stn") >= 30
    assert sum(1 for _, kind, _, _ in BLOCKS if kind == "console") >= 3


def test_console_output_matching() -> None:
    assert _output_matches(["a", "...", "d"], ["a", "b", "c", "d"])
    assert _output_matches(["a", "...", "b"], ["a", "b"])
    assert not _output_matches(["a", "c"], ["a", "b"])
    assert not _output_matches(["a"], ["a", "b"])
    assert not _output_matches(["...", "x"], ["a", "b"])


@pytest.mark.parametrize(("where", "kind", "arg", "body"), BLOCKS, ids=[b[0] for b in BLOCKS])
def test_block(where: str, kind: str, arg: str, body: str, pages: _Pages,
               capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    folder = pages.folder(where.split(":")[0], where, capsys)
    monkeypatch.chdir(folder)
    if kind == "console":
        pages.done.add(where)
        _run_console(where, body, capsys)
        return
    if kind == "python":
        monkeypatch.syspath_prepend(str(folder))  # modules written by symtn codegen above import
        exec(compile(body, where, "exec"), {"__name__": "__docs__"})
        return
    path = folder / "_example.stn"
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

