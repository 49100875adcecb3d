"""Heat maps of matrices: ASCII for the terminal and PNG files.

PNGs are drawn with matplotlib when it is installed (``pip install symtn[interp]``); otherwise a
minimal PNG writer (zlib-compressed 8-bit RGB scanlines, PNG spec ISO/IEC 15948, W3C 2003) draws
the cells as blocks of a white-to-blue scale.
"""

from __future__ import annotations

import struct
import zlib
from pathlib import Path

import numpy as np

SHADES = " .:-=+*#%@"


def ascii_heatmap(m: np.ndarray, labels: bool = True) -> str:
    """Render ``m[row, col]`` with one character per cell, darker for larger ``|m|``.

    Args:
        m: a 2-d array; values are scaled by ``max |m|``.
        labels: prefix each row with its index and add a column ruler (mod 10).
    """
    a = np.abs(np.asarray(m, dtype=np.float64))
    top = float(a.max()) or 1.0
    idx = np.clip(np.rint(a / top * (len(SHADES) - 1)).astype(int), 0, len(SHADES) - 1)
    width = len(str(a.shape[0] - 1))
    lines = []
    if labels:
        lines.append(" " * (width + 1) + "".join(str(c % 10) for c in range(a.shape[1])))
    for r, row in enumerate(idx):
        cells = "".join(SHADES[i] for i in row)
        lines.append(f"{r:>{width}} {cells}" if labels else cells)
    return "\n".join(lines)


def _chunk(kind: bytes, data: bytes) -> bytes:
    body = kind + data
    return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body) & 0xFFFFFFFF)


def write_png_rgb(path: str | Path, rgb: np.ndarray) -> None:
    """Write an ``[height, width, 3]`` uint8 image as a PNG (colour type 2, no filtering)."""
    img = np.ascontiguousarray(rgb, dtype=np.uint8)
    h, w, _ = img.shape
    raw = b"".join(b"\x00" + img[y].tobytes() for y in range(h))
    header = struct.pack(">IIBBBBB", w, h, 8, 2, 0, 0, 0)
    data = b"\x89PNG\r\n\x1a\n" + _chunk(b"IHDR", header) + _chunk(b"IDAT", zlib.compress(raw, 9))
    Path(path).write_bytes(data + _chunk(b"IEND", b""))


def _blues(m: np.ndarray, cell: int) -> np.ndarray:
    a = np.abs(np.asarray(m, dtype=np.float64))
    v = a / (float(a.max()) or 1.0)
    white, blue = np.array([247.0, 251.0, 255.0]), np.array([8.0, 48.0, 107.0])
    rgb = white + v[..., None] * (blue - white)
    return np.kron(rgb, np.ones((cell, cell, 1))).astype(np.uint8)


def write_heatmap(
    path: str | Path, m: np.ndarray, title: str = "", xlabel: str = "", ylabel: str = "", engine: str = "auto"
) -> str:
    """Write ``|m|`` as a PNG heat map; returns the engine used ("matplotlib" or "zlib").

    Args:
        path: the output file.
        m: a 2-d array (rows drawn top to bottom).
        title, xlabel, ylabel: axis text (matplotlib only).
        engine: "matplotlib", "zlib" or "auto" (matplotlib when importable).
    """
    if engine in ("auto", "matplotlib"):
        try:
            import matplotlib

            matplotlib.use("Agg")
            import matplotlib.pyplot as plt
        except ImportError:
            if engine == "matplotlib":
                raise
        else:
            aspect = np.shape(m)[1] / max(1, np.shape(m)[0])
            fig, ax = plt.subplots(figsize=(min(14.0, 2.0 + 4.0 * max(1.0, aspect)), 4.5))
            im = ax.imshow(np.abs(m), cmap="Blues")
            ax.set_title(title)
            ax.set_xlabel(xlabel)
            ax.set_ylabel(ylabel)
            fig.colorbar(im, ax=ax)
            fig.tight_layout()
            fig.savefig(path, dpi=100)
            plt.close(fig)
            return "matplotlib"
    write_png_rgb(path, _blues(m, cell=max(1, 256 // max(np.shape(m)))))
    return "zlib"
