"""A gallery page: every binding of some programs drawn as SVG, beside the programs' source.

The caller loads the programs (this stage does not import the frontend) and hands over
:class:`Example` records; :func:`build_gallery` writes ``OUT/<example>/<binding>.svg`` and
``OUT/index.html``. Derivative bindings are drawn before and after resolution. A binding too
big to draw gets a note instead of a picture, so one huge expression never stops the page.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from symtn.errors import SymtnError
from symtn.ir.nodes import Node
from symtn.ir.printer import to_notation
from symtn.lower.draw import draw, draw_derivative
from symtn.lower.draw.text import xml_escape

MAX_CAPTION = 240
"""Longer notation is cut in captions (the full text is in each SVG's title)."""

PAGE_STYLE = """
body { font-family: system-ui, sans-serif; margin: 24px; color: #1a2b3c; background: #ffffff; }
h1 { font-size: 22px; } h2 { font-size: 18px; margin-top: 36px; border-bottom: 1px solid #ccd; }
pre.source { background: #f5f7fa; padding: 10px; font-size: 12px; overflow-x: auto; }
figure { margin: 18px 0; } figcaption { font-family: monospace; font-size: 12px; margin-bottom: 6px; }
figure img { max-width: 100%; border: 1px solid #e3e6ea; }
p.note { color: #a33; font-family: monospace; font-size: 12px; }
"""


@dataclass
class Example:
    """One program for the gallery.

    Attributes:
        name: a short name (the file stem); also the sub-folder of its pictures.
        source: the program text, shown on the page.
        bindings: ``(name, expression, leg order)`` in program order.
        derivatives: binding name -> ``(f, X)`` for bindings written ``d(f)/d(X)``.
    """

    name: str
    source: str
    bindings: list[tuple[str, Node, tuple[str, ...]]]
    derivatives: dict[str, tuple[Node, str]] = field(default_factory=dict)


def _caption(name: str, node: Node, order: tuple[str, ...]) -> str:
    text = to_notation(node)
    if len(text) > MAX_CAPTION:
        text = text[: MAX_CAPTION - 1] + "…"
    return f"{name} = {text}    : [{', '.join(order)}]"


def render_example(example: Example, folder: Path) -> list[str]:
    """Draw every binding of ``example`` into ``folder``; returns the page's HTML for it."""
    folder.mkdir(parents=True, exist_ok=True)
    html = [f"<section id={_attr(example.name)}>", f"<h2>{xml_escape(example.name)}</h2>"]
    html.append(f'<pre class="source">{xml_escape(example.source.rstrip())}</pre>')
    for name, node, order in example.bindings:
        html.append(render_binding(example, name, node, order, folder))
    html.append("</section>")
    return html


def render_binding(
    example: Example, name: str, node: Node, order: tuple[str, ...], folder: Path, src_prefix: str = ""
) -> str:
    """Draw one binding of ``example`` into ``folder/<name>.svg``; returns its ``<figure>`` as one line.

    Args:
        example: the program the binding belongs to.
        name: the binding's name; ``node`` its expression and ``order`` its leg order.
        folder: where the SVG is written.
        src_prefix: prepended to the image's relative address ``<example>/<name>.svg``.

    Returns:
        HTML without line breaks: the caption and the picture, or a note saying why it was not drawn.
    """
    caption = xml_escape(_caption(name, node, order)).replace("\n", " ")
    try:
        if name in example.derivatives:
            f, wrt = example.derivatives[name]
            svg = draw_derivative(f, wrt, node)
            caption += f"<br>before (∂/∂{xml_escape(wrt)} pokes a hole where {xml_escape(wrt)} was) and after"
        else:
            svg = draw(node)
    except SymtnError as err:
        note = xml_escape(err.message).replace("\n", " ")
        return f'<figure><figcaption>{caption}</figcaption><p class="note">not drawn: {note}</p></figure>'
    (folder / f"{name}.svg").write_text(svg, encoding="utf-8")
    src = f"{src_prefix}{example.name}/{name}.svg"
    return f"<figure><figcaption>{caption}</figcaption><img src={_attr(src)} alt={_attr(name)}></figure>"


def _attr(text: str) -> str:
    return '"' + xml_escape(text) + '"'


def build_gallery(out_dir: str | Path, examples: list[Example], title: str = "symtn gallery") -> Path:
    """Write the pictures and ``index.html`` for ``examples`` into ``out_dir``.

    Args:
        out_dir: the folder to write (created if missing).
        examples: the programs, in page order.
        title: the page heading.

    Returns:
        The path of ``index.html``.
    """
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    body: list[str] = []
    toc = []
    for ex in examples:
        toc.append(
            f'<li><a href="#{xml_escape(ex.name)}">{xml_escape(ex.name)}</a> ({len(ex.bindings)})</li>'
        )
        body.extend(render_example(ex, out / ex.name))
    page = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        f"<title>{xml_escape(title)}</title><style>{PAGE_STYLE}</style></head><body>",
        f"<h1>{xml_escape(title)}</h1>",
        "<p>Every binding of the bundled programs in graphical tensor notation: tensors as shapes, "
        "contracted legs as wires, copy tensors as dots, function bubbles around the sub-network "
        "they act on, free legs labelled at the border, sums as rows joined by coefficients.</p>",
        "<ul>" + "".join(toc) + "</ul>",
        *body,
        "</body></html>",
    ]
    index = out / "index.html"
    index.write_text("\n".join(page) + "\n", encoding="utf-8")
    return index
