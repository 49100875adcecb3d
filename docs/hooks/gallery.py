"""mkdocs hook: the diagram gallery page is drawn at build time by symtn's own SVG renderer.

``docs/gallery.md`` holds the prose; this hook appends, for every bundled example program
(``symtn/examples/*.stn``), its source and each binding drawn as SVG. The SVG files are written
into the built site under ``gallery-svg/<example>/<binding>.svg`` (nothing generated is committed).
"""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

PAGE = "gallery.md"
FOLDER = "gallery-svg"
_drawn: dict[str, Path] = {}


def _examples_markdown(out: Path) -> str:
    from symtn.cli_draw import bundled_examples, load_traced
    from symtn.lower.draw.gallery import Example, render_binding

    parts: list[str] = []
    for stem, text in bundled_examples():
        prog, derivs = load_traced(text, f"{stem}.stn")
        bindings = [(n, v, tuple(prog.order(n))) for n, v in prog.bindings.items()]
        example = Example(stem, text, bindings, derivs)
        folder = out / stem
        folder.mkdir(parents=True, exist_ok=True)
        parts += [f"## {stem}", "", f"`symtn/examples/{stem}.stn`:", "", "```text", text.rstrip(), "```", ""]
        for name, node, order in bindings:
            parts += [render_binding(example, name, node, order, folder, src_prefix=f"{FOLDER}/"), ""]
    return "\n".join(parts)


def on_page_markdown(markdown: str, page: Any, config: Any, files: Any) -> str:
    if page.file.src_uri != PAGE:
        return markdown
    out = Path(tempfile.mkdtemp(prefix="symtn-gallery-"))
    _drawn["dir"] = out
    return markdown.rstrip() + "\n\n" + _examples_markdown(out)


def on_post_build(config: Any) -> None:
    import shutil

    src = _drawn.pop("dir", None)
    if src is not None:
        shutil.copytree(src, Path(config["site_dir"]) / FOLDER, dirs_exist_ok=True)
        shutil.rmtree(src, ignore_errors=True)
