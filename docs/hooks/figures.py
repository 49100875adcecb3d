"""mkdocs hook: the interpretability page shows the demos' figures, produced when the site is built.

``docs/interp.md`` holds the prose; this hook runs the bundled demos (``symtn demo induction``,
``backdoor``, ``forgetting`` and, when its model package is installed, ``minilm``) with their
output silenced, writes their matplotlib figures into the built site under ``figures/`` and
appends them to the page with captions. A demo that cannot run here (no matplotlib, no MiniLM
model) gets a note instead of its figures. Nothing generated is committed.
"""

from __future__ import annotations

import contextlib
import io
import shutil
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

PAGE = "interp.md"
FOLDER = "figures"
_made: dict[str, Path] = {}


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

    minilm_demo.run(out_dir=str(out))


DEMOS: list[tuple[str, str, Callable[[Path], None], list[tuple[str, str]]]] = [
    ("Toy induction head", "symtn demo induction", _induction, [
        ("induction_pattern.png", "The induction stripe: each query attends to the token after earlier "
         "copies of itself (expected cells outlined)."),
    ]),
    ("Backdoor detection by tensor similarity", "symtn demo backdoor", _backdoor, [
        ("backdoor_similarity.png", "Checkpoint x checkpoint similarity: weight cosine, global tensor "
         "similarity and the class-9 slice; poisoned fine-tuning starts at the white lines."),
        ("backdoor_deltas.png", "Phase deltas per measure and class; the backdoor's target class 9 stands out."),
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


def _figures_markdown(out: Path) -> str:
    parts = ["## Figures", "",
             "Produced by the bundled demos when this site was built (the same commands write them "
             "with `--out DIR`)."]
    for title, command, make, figures in DEMOS:
        parts += ["", f"### {title}", "", f"`{command}`", ""]
        try:
            with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
                make(out)
        except (ImportError, OSError) as err:
            parts.append(f"*Not drawn in this build: {err}.*")
            continue
        for name, caption in figures:
            if (out / name).is_file():
                parts += [f'<figure><img src="{FOLDER}/{name}" alt="{name}" style="max-width:100%">'
                          f"<figcaption>{caption}</figcaption></figure>", ""]
    return "\n".join(parts)


def on_page_markdown(markdown: str, page: Any, config: Any, files: Any) -> str:
    if page.file.src_uri != PAGE:
        return markdown
    out = Path(tempfile.mkdtemp(prefix="symtn-figures-"))
    _made["dir"] = out
    return markdown.rstrip() + "\n\n" + _figures_markdown(out)


def on_post_build(config: Any) -> None:
    src = _made.pop("dir", None)
    if src is not None:
        shutil.copytree(src, Path(config["site_dir"]) / FOLDER, dirs_exist_ok=True)
        shutil.rmtree(src, ignore_errors=True)
