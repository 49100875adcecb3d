"""Text metrics and escaping shared by the layout and the writers.

Diagrams use a monospace font, so a label's width is its length times a fixed advance; this
keeps the layout independent of any font machinery and identical on every machine.
"""

from __future__ import annotations

import unicodedata

FONT = "DejaVu Sans Mono, Menlo, Consolas, monospace"
ADVANCE = 0.61
"""Width of one monospace character per unit of font size."""


def text_width(text: str, size: float) -> float:
    """Rendered width of ``text`` at font ``size`` (pixels)."""
    wide = sum(1 for ch in text if unicodedata.east_asian_width(ch) in ("W", "F"))
    return (len(text) + wide) * size * ADVANCE


def xml_escape(text: str) -> str:
    """Escape text for XML content and attribute values."""
    return (
        text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace('"', "&quot;")
    )


_TEX = {
    "_": r"\_",
    "^": r"\^{}",
    "|": r"\textbar{}",
    "&": r"\&",
    "%": r"\%",
    "#": r"\#",
    "$": r"\$",
    "{": r"\{",
    "}": r"\}",
    "~": r"\~{}",
    "\\": r"\textbackslash{}",
    "·": r"$\cdot$",
    "−": "-",
    "→": r"$\to$",
    "≤": r"$\le$",
    "≥": r"$\ge$",
    "≠": r"$\ne$",
    "∂": r"$\partial$",
    "×": r"$\times$",
    "δ": r"$\delta$",
    "Σ": r"$\Sigma$",
}


def tex_escape(text: str) -> str:
    """Escape text for pdflatex; Greek letters become math symbols (``σ`` -> ``$\\sigma$``)."""
    out = []
    for ch in text:
        if ch in _TEX:
            out.append(_TEX[ch])
        elif ch.isascii():
            out.append(ch)
        else:
            out.append(_greek(ch))
    return "".join(out)


_CAPITALS = ("Gamma", "Delta", "Theta", "Lambda", "Xi", "Pi", "Sigma", "Upsilon", "Phi", "Psi", "Omega")


def _greek(ch: str) -> str:
    name = unicodedata.name(ch, "")
    if not name.startswith("GREEK ") or " LETTER " not in name:
        return "?"
    word = name.rsplit(" ", 1)[1].lower().replace("lamda", "lambda")
    if "SMALL" in name:
        return "$\\" + word + "$" if word != "omicron" else "o"
    cap = word.capitalize()
    return "$\\" + cap + "$" if cap in _CAPITALS else cap[0]
