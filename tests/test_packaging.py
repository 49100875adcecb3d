"""Packaging and architecture: the wheel carries the grammar; imports flow forward."""

from __future__ import annotations

import ast
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

# package -> the sibling packages it may import (imports flow forward: frontend, ir, rewrite, diff, lower)
ALLOWED = {
    "ir": set(),
    "frontend": {"ir"},
    "rewrite": {"ir"},
    "diff": {"ir", "rewrite"},
    "lower": {"ir", "rewrite", "diff"},
    # interp runs bundled programs (symtn.program: text -> resolved bindings, checks)
    "interp": {"ir", "frontend", "rewrite", "diff", "lower", "program", "checking"},
}


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text())
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("symtn."):
            found.add(node.module.split(".")[1])
        elif isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.startswith("symtn."):
                    found.add(alias.name.split(".")[1])
    return found


@pytest.mark.parametrize("package", sorted(ALLOWED))
def test_imports_flow_forward(package: Path) -> None:
    folder = ROOT / "symtn" / str(package)
    for path in folder.glob("*.py"):
        siblings = _imports(path) - {"errors", str(package)}
        bad = siblings - ALLOWED[str(package)]
        assert not bad, f"{path.relative_to(ROOT)} imports {sorted(bad)} against the data flow"


@pytest.mark.skipif(shutil.which("git") is None, reason="needs git for a clean source copy")
def test_wheel_carries_grammar_and_parses(tmp_path: Path) -> None:
    out = tmp_path / "dist"
    subprocess.run(
        [sys.executable, "-m", "build", "--wheel", "--no-isolation", "--outdir", str(out), str(ROOT)],
        check=True,
        capture_output=True,
    )
    wheel = next(out.glob("symtn-*.whl"))
    with zipfile.ZipFile(wheel) as zf:
        assert "symtn/grammar/symtn.lark" in zf.namelist()
        assert "symtn/examples/digits_mlp.stn" in zf.namelist()
        zf.extractall(tmp_path / "site")
    code = (
        "import symtn, pathlib; p = symtn.parse('dim n\\nleg i, j : n\\nA: [i, j]\\ny = A @ delta[i, j]\\n');"
        "import symtn.frontend.grammar as g; print(g.__file__); print(sorted(p.bindings))"
    )
    res = subprocess.run(
        [sys.executable, "-c", code],
        cwd=tmp_path,
        env={"PYTHONPATH": str(tmp_path / "site"), "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
    )
    assert res.returncode == 0, res.stderr
    assert str(tmp_path / "site") in res.stdout and "['y']" in res.stdout
