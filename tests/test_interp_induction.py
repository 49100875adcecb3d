"""The toy induction head: the stripe, the ASCII and PNG heat maps, ``symtn demo induction``."""

from __future__ import annotations

import struct
import zlib
from pathlib import Path

import numpy as np
import pytest

from symtn.cli import main
from symtn.interp import induction
from symtn.interp.heatmap import ascii_heatmap, write_heatmap


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_stripe_positions_exact(seed: int) -> None:
    period, repeats = 6, 3
    a = induction.pattern(induction.repeated_sequence(period, 64, repeats, seed))
    assert a.shape == (18, 18)
    np.testing.assert_allclose(a.sum(axis=1), 1.0)
    assert np.all(np.triu(a, 1) < 1e-12)  # causal
    want = induction.expected_stripe(period, repeats)
    assert want[6] == {1} and want[17] == {12, 6}
    assert induction.stripe(a, period) == want
    for q, keys in want.items():  # the stripe holds almost all the attention, split evenly
        assert sum(a[q, k] for k in keys) > 0.95
        assert np.ptp([a[q, k] for k in keys]) < 0.1


def test_bundled_program_check_holds() -> None:
    prog = induction.program()
    assert prog.order("pattern") == ("q", "k")
    assert all(c.result.holds for c in prog.check_all())


def _read_png(path: Path) -> tuple[int, int, np.ndarray]:
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    pos, idat, w, h = 8, b"", 0, 0
    while pos < len(data):
        (n,) = struct.unpack(">I", data[pos : pos + 4])
        kind, body = data[pos + 4 : pos + 8], data[pos + 8 : pos + 8 + n]
        (crc,) = struct.unpack(">I", data[pos + 8 + n : pos + 12 + n])
        assert crc == zlib.crc32(kind + body) & 0xFFFFFFFF
        if kind == b"IHDR":
            w, h = struct.unpack(">II", body[:8])
        elif kind == b"IDAT":
            idat += body
        pos += 12 + n
    raw = np.frombuffer(zlib.decompress(idat), dtype=np.uint8).reshape(h, 1 + 3 * w)
    return w, h, raw[:, 1:].reshape(h, w, 3)


def test_zlib_png_writer(tmp_path: Path) -> None:
    m = np.array([[0.0, 1.0], [0.5, 0.0]])
    out = tmp_path / "m.png"
    assert write_heatmap(out, m, engine="zlib") == "zlib"
    w, h, rgb = _read_png(out)
    assert (w, h) == (256, 256)
    assert rgb[0, 0].tolist() == [247, 251, 255]  # zero: white
    assert rgb[0, 255].tolist() == [8, 48, 107]  # the maximum: dark blue
    assert rgb[200, 10, 0] < rgb[0, 0, 0] and rgb[200, 10, 0] > rgb[0, 255, 0]


def test_ascii_heatmap() -> None:
    text = ascii_heatmap(np.eye(3))
    assert text.splitlines() == ["  012", "0 @  ", "1  @ ", "2   @"]


def test_cli_demo_induction(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "pattern.png"
    assert main(["demo", "induction", "--out", str(out)]) == 0
    text = capsys.readouterr().out
    assert "as expected" in text and "check holds" in text
    assert out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
