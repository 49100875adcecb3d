"""mkdocs hook: the interpretability page shows the demos' figures, produced when the site is built.

``docs/interp.md`` holds the prose; this hook runs the bundled demos (``symtn demo induction``,
``backdoor``, ``forgetting`` and, when its model package is installed, ``minilm``) with their
output silenced, writes their matplotlib figures into the built site under ``figures/`` and
appends them to the page with captions. A demo that cannot run here (no matplotlib, no MiniLM
model) gets a note instead of its figures. Nothing generated is committed.

The demos take most of a build's time, so they run in a second Python process (this file run as
a script) started before the pages are read; the page waits for it. A demo that fails for another
reason fails the build, with the demo's traceback.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

PAGE = "interp.md"
FOLDER = "figures"
STATUS = "status.json"
WAIT = 1800
"""Seconds the page waits for the demos."""

_run: dict[str, Any] = {}


def _quiet(text: str) -> None:
    pass


def _induction(out: Path) -> None:
    from symtn.interp import induction

    induction.run(out=out / "induction_pattern.png", echo=_quiet)


def _backdoor(out: Path) -> None:
    from symtn.interp import backdoor_demo

    backdoor_demo.run(out=str(out), echo=_quiet)


def _forgetting(out: Path) -> None:
    from symtn.interp import forgetting_demo

    forgetting_demo.run(out=str(out), echo=_quiet)


def _minilm(out: Path) -> None:
    from symtn.interp import minilm_demo

    minilm_demo.run(out_dir=str(out), echo=_quiet)


DEMOS: list[tuple[str, str, Callable[[Path], None], list[tuple[str, str]]]] = [
    ("Toy induction head", "symtn demo induction", _induction, [
        ("induction_pattern.png", "The induction stripe: each query attends to the token after earlier "
         "copies of itself (expected cells outlined)."),
    ]),
    ("Backdoor detection by tensor similarity", "symtn demo backdoor", _backdoor, [
        ("backdoor_similarity.png", "Checkpoint x checkpoint similarity: weight cosine, global tensor "
         "similarity and the class-9 slice; poisoned fine-tuning starts at the white lines."),
        ("backdoor_deltas.png", "Phase deltas per measure and class; the backdoor's target class 9 "
         "stands out."),
    ]),
    ("Catastrophic forgetting", "symtn demo forgetting", _forgetting, [
        ("forgetting_similarity.png", "Checkpoint x checkpoint tensor similarity, class-9 slice, weight "
         "cosine and CKA across the curriculum."),
        ("forgetting_slice_curves.png", "Each class slice against the reference model; class 9 falls "
         "towards 0 while its examples are removed."),
    ]),
    ("MiniLM-L6 attention heads", "symtn demo minilm", _minilm, [
        ("minilm_patterns.png", "The top previous-token and duplicate-token heads, tokens on both axes."),
        ("minilm_head_scores.png", "Per-head scores for every layer and head."),
        ("minilm_ov_similarity.png", "Cosine similarity of the 72 heads' OV circuits."),
    ]),
]


def make_figures(out: Path) -> dict[str, str | None]:
    """Run every demo into ``out``; returns demo command -> why it could not run (None when it ran)."""
    status: dict[str, str | None] = {}
    for _title, command, make, _figures in DEMOS:
        try:
            with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
                make(out)
            status[command] = None
        except (ImportError, OSError) as err:
            status[command] = str(err)
    return status


def _figures_markdown(status: dict[str, str | None]) -> str:
    parts = ["## Figures", "",
             "Produced by the bundled demos when this site was built (the same commands write them "
             "with `--out DIR`)."]
    out: Path = _run["dir"]
    for title, command, _make, figures in DEMOS:
        parts += ["", f"### {title}", "", f"`{command}`", ""]
        if status.get(command) is not None:
            parts.append(f"*Not drawn in this build: {status[command]}.*")
            continue
        drawn = [(name, caption) for name, caption in figures if (out / name).is_file()]
        if not drawn:
            parts.append("*Not drawn in this build: matplotlib is not installed "
                         '(`pip install -e ".[interp]"`).*')
        for name, caption in drawn:
            parts += [f'<figure><img src="{FOLDER}/{name}" alt="{name}" style="max-width:100%">'
                      f"<figcaption>{caption}</figcaption></figure>", ""]
    return "\n".join(parts)


def _stop() -> None:
    proc = _run.pop("proc", None)
    if proc is not None and proc.poll() is None:
        proc.kill()
        proc.wait()
    folder = _run.pop("dir", None)
    if folder is not None:
        shutil.rmtree(folder, ignore_errors=True)


def on_pre_build(config: Any) -> None:
    _stop()
    out = Path(tempfile.mkdtemp(prefix="symtn-figures-"))
    root = Path(config["config_file_path"]).resolve().parent
    env = dict(os.environ, MPLBACKEND="Agg")
    env["PYTHONPATH"] = str(root) + (os.pathsep + env["PYTHONPATH"] if env.get("PYTHONPATH") else "")
    log = (out / "log.txt").open("w")
    _run["dir"] = out
    _run["proc"] = subprocess.Popen([sys.executable, __file__, str(out)], cwd=root, env=env,
                                    stdout=log, stderr=subprocess.STDOUT)
    log.close()


def on_page_markdown(markdown: str, page: Any, config: Any, files: Any) -> str:
    if page.file.src_uri != PAGE:
        return markdown
    from mkdocs.exceptions import PluginError

    proc = _run["proc"]
    code = proc.wait(timeout=WAIT)
    if code != 0:
        log = (_run["dir"] / "log.txt").read_text(encoding="utf-8", errors="replace")
        raise PluginError(f"the demos for {PAGE} failed (exit {code}):\n{log[-4000:]}")
    status = json.loads((_run["dir"] / STATUS).read_text(encoding="utf-8"))
    return markdown.rstrip() + "\n\n" + _figures_markdown(status)


def on_post_build(config: Any) -> None:
    folder = _run.get("dir")
    if folder is not None:
        site = Path(config["site_dir"]) / FOLDER
        site.mkdir(parents=True, exist_ok=True)
        for png in folder.glob("*.png"):
            shutil.copy2(png, site / png.name)
    _stop()


def on_build_error(error: Exception) -> None:
    _stop()


if __name__ == "__main__":
    target = Path(sys.argv[1])
    (target / STATUS).write_text(json.dumps(make_figures(target)), encoding="utf-8")
