"""Diagrams (symtn.lower.draw): SVG structure counted against the expression, layout quality
(no overlaps, chains in a line, trains with their legs down), determinism, DOT and TikZ, the
derivative view, the CLI and the gallery page."""

from __future__ import annotations

import os
import re
import shutil
import struct
import subprocess
import sys
import xml.etree.ElementTree as ET
import zlib
from pathlib import Path

import networkx as nx
import numpy as np
import pytest

import symtn
from symtn.cli import main
from symtn.errors import SymtnError
from symtn.ir.nodes import Product, Tensor
from symtn.lower.draw import draw, draw_derivative
from symtn.lower.draw.tikz import tikz_document
from tests.conftest import ROOT

SVG = "{http://www.w3.org/2000/svg}"
SEEDS = [
    ROOT / "symtn" / "examples" / f"{n}.stn" for n in ("networks", "attention", "gradients", "digits_mlp")
]
"""The bundled programs written for the gallery (other bundled programs may grow large)."""

NETS = symtn.parse(
    """
dim n, chi, phys
leg i, j, k, l : n
leg a, b, c : chi
leg p1, p2, p3, p4 : phys
A, B, C: [i, j]
x: [i]
S: [i, j] symmetric(i, j)
U: [i, k] isometry(k)
W: [k, i] const
G1: [p1, a]; G2: [a, p2, b]; G3: [b, p3, c]; G4: [c, p4]
chain = A @ B[j, k] @ C[k, l]
ring = A @ B[j, k] @ C[k, i]
train = G1 @ G2 @ G3 @ G4
had = A * B
line = delta[i, j] @ A[j, k]
ident = delta[i, j]
mlp = C[l, i] @ tanh(A @ x[i -> j])
mx = max[i](A)
sum2 = 2 * A - B[i -> j, j -> i]
marks = x @ S @ U[j, k] @ W[k, l]
mixed = A @ B[j, k] @ tanh(C[k, l] @ A[l, j']) + 3 * delta[i, j']
"""
)


def parse_svg(text: str) -> ET.Element:
    """The SVG document's root (raises if it is not well-formed XML)."""
    return ET.fromstring(text)


def having(root: ET.Element, *classes: str) -> list[ET.Element]:
    """Elements whose class attribute contains all of ``classes``."""
    return [el for el in root.iter() if set(classes) <= set((el.get("class") or "").split())]


def bbox(el: ET.Element) -> tuple[float, float, float, float]:
    """The bounding box of a rect, circle or polygon element."""
    if el.tag == SVG + "rect":
        x, y, w, h = (float(el.get(k, "0")) for k in ("x", "y", "width", "height"))
        return (x, y, x + w, y + h)
    if el.tag == SVG + "circle":
        cx, cy, r = (float(el.get(k, "0")) for k in ("cx", "cy", "r"))
        return (cx - r, cy - r, cx + r, cy + r)
    pts = [tuple(map(float, p.split(","))) for p in el.get("points", "").split()]
    return (min(p[0] for p in pts), min(p[1] for p in pts), max(p[0] for p in pts), max(p[1] for p in pts))


def label_box(el: ET.Element) -> tuple[float, float, float, float]:
    """The box a label's text occupies (monospace advance 0.61 of the font size)."""
    cls = el.get("class", "")
    size = 14.0 if "coeff-label" in cls else 12.0 if "bubble-label" in cls else 11.0
    w, x, y = len(el.text or "") * size * 0.61, float(el.get("x", "0")), float(el.get("y", "0"))
    return (x - w / 2, y - size / 2, x + w / 2, y + size / 2)


def overlap(a: tuple[float, ...], b: tuple[float, ...], slack: float = 0.5) -> bool:
    return a[0] < b[2] - slack and b[0] < a[2] - slack and a[1] < b[3] - slack and b[1] < a[3] - slack


def inside(outer: tuple[float, ...], inner: tuple[float, ...]) -> bool:
    return outer[0] <= inner[0] and outer[1] <= inner[1] and inner[2] <= outer[2] and inner[3] <= outer[3]


def center(el: ET.Element) -> tuple[float, float]:
    x0, y0, x1, y1 = bbox(el)
    return ((x0 + x1) / 2, (y0 + y1) / 2)


def counts(text: str) -> dict[str, int]:
    root = parse_svg(text)
    return {
        "tensors": len(having(root, "shape", "tensor")),
        "dots": len(having(root, "shape", "dot")),
        "wires": len(having(root, "wire")),
        "bubbles": len(having(root, "outline", "bubble")),
        "sums": len(having(root, "outline", "sum")),
        "free": len(having(root, "stub", "free")),
    }


def free_labels(root: ET.Element) -> list[str]:
    return [el.get("data-leg", "") for el in having(root, "label", "free-label")]


# ------------------------------------------------------------------ structure
@pytest.mark.parametrize(
    ("name", "want"),
    [
        ("chain", {"tensors": 3, "dots": 0, "wires": 2, "bubbles": 0, "free": 2}),
        ("ring", {"tensors": 3, "dots": 0, "wires": 3, "bubbles": 0, "free": 0}),
        ("train", {"tensors": 4, "dots": 0, "wires": 3, "bubbles": 0, "free": 4}),
        ("had", {"tensors": 2, "dots": 2, "wires": 4, "bubbles": 0, "free": 2}),
        ("line", {"tensors": 1, "dots": 0, "wires": 0, "bubbles": 0, "free": 2}),
        ("ident", {"tensors": 0, "dots": 0, "wires": 0, "bubbles": 0, "free": 2}),
        ("mlp", {"tensors": 3, "dots": 0, "wires": 2, "bubbles": 1, "free": 1}),
        ("mx", {"tensors": 1, "dots": 0, "wires": 0, "bubbles": 1, "free": 1}),
        ("marks", {"tensors": 4, "dots": 0, "wires": 3, "bubbles": 0, "free": 1}),
    ],
)
def test_svg_counts_match_the_expression(name: str, want: dict[str, int]) -> None:
    got = counts(draw(NETS.bindings[name]))
    assert {k: got[k] for k in want} == want


def test_each_free_leg_is_labelled_exactly_once() -> None:
    for name in ("chain", "train", "had", "line", "ident", "mlp", "mx", "marks"):
        node = NETS.bindings[name]
        labels = free_labels(parse_svg(draw(node)))
        assert sorted(labels) == sorted(node.legs), name


def test_sum_is_a_row_of_diagrams_joined_by_coefficients() -> None:
    root = parse_svg(draw(NETS.bindings["sum2"]))
    coeffs = [el.text for el in having(root, "label", "coeff-label")]
    assert coeffs == ["2", "−"]
    assert len(having(root, "shape", "tensor")) == 2
    assert sorted(free_labels(root)) == ["i", "i", "j", "j"]  # each term labels its own legs once
    xs = [center(el)[0] for el in having(root, "shape", "tensor")]
    assert xs[0] < xs[1]


def test_bubble_encloses_exactly_its_sub_network() -> None:
    root = parse_svg(draw(NETS.bindings["mlp"]))
    (bubble,) = having(root, "outline", "bubble")
    outline = bbox(bubble)
    shapes = {el.find(SVG + "title").text.split("[")[0]: bbox(el) for el in having(root, "shape", "tensor")}
    assert inside(outline, shapes["A"]) and inside(outline, shapes["x"])
    assert not overlap(outline, shapes["C"], 0.0)
    assert [el.text for el in having(root, "bubble-label")] == ["tanh"]


def test_leg_acting_bubble_names_its_legs_and_ends_the_consumed_leg() -> None:
    root = parse_svg(draw(NETS.bindings["mx"]))
    assert [el.text for el in having(root, "bubble-label")] == ["max[i]"]
    (stub,) = having(root, "stub", "consumed")
    assert stub.get("data-leg") == "i"
    assert free_labels(root) == ["j"]


def test_isometry_symmetric_and_const_marks() -> None:
    root = parse_svg(draw(NETS.bindings["marks"]))
    (tri,) = having(root, "shape", "isometry")
    assert tri.tag == SVG + "polygon"
    assert len(having(root, "shape", "symmetric")) == 1 and len(having(root, "mark", "symmetric")) == 1
    assert len(having(root, "shape", "const")) == 1
    # the triangle's tip points towards its small leg k, i.e. towards W
    pts = [tuple(map(float, p.split(","))) for p in tri.get("points", "").split()]
    tip = min(pts, key=lambda p: abs(p[1] - sum(q[1] for q in pts) / 3))
    w = next(el for el in having(root, "shape", "const"))
    assert (tip[0] - center(tri)[0]) * (center(w)[0] - center(tri)[0]) > 0


def test_chain_in_a_line_and_train_with_legs_down() -> None:
    root = parse_svg(draw(NETS.bindings["chain"]))
    ys = {round(center(el)[1], 1) for el in having(root, "shape", "tensor")}
    assert len(ys) == 1
    labels = {el.get("data-leg"): float(el.get("x", "0")) for el in having(root, "free-label")}
    xs = [center(el)[0] for el in having(root, "shape", "tensor")]
    assert labels["i"] < min(xs) and labels["l"] > max(xs)
    root = parse_svg(draw(NETS.bindings["train"]))
    shapes = having(root, "shape", "tensor")
    assert len({round(center(el)[1], 1) for el in shapes}) == 1
    y = center(shapes[0])[1]
    assert all(float(el.get("y", "0")) > y + 16 for el in having(root, "free-label"))


# ------------------------------------------------------------------ layout quality
def _layout_problems(text: str) -> list[str]:
    root = parse_svg(text)
    shapes = [bbox(el) for el in having(root, "shape")]
    labels = [label_box(el) for el in having(root, "label")]
    bad = [f"shapes {a} {b}" for i, a in enumerate(shapes) for b in shapes[i + 1 :] if overlap(a, b)]
    bad += [f"label {a} on shape {b}" for a in labels for b in shapes if overlap(a, b)]
    bad += [f"labels {a} {b}" for i, a in enumerate(labels) for b in labels[i + 1 :] if overlap(a, b)]
    return bad


@pytest.mark.parametrize("path", SEEDS, ids=lambda p: p.name)
def test_no_overlapping_shapes_or_labels_in_bundled_examples(path: Path) -> None:
    prog = symtn.load(path)
    for name, node in prog.bindings.items():
        text = draw(node)
        assert not _layout_problems(text), name
        root = parse_svg(text)
        if not isinstance(node, symtn.ir.Sum):
            assert sorted(free_labels(root)) == sorted(node.legs), name


def test_no_overlaps_in_the_small_networks() -> None:
    for name, node in NETS.bindings.items():
        assert not _layout_problems(draw(node)), name


# ------------------------------------------------------------------ determinism
def test_output_is_byte_identical_twice() -> None:
    for fmt in ("svg", "tikz", "dot"):
        for name in ("mixed", "ring", "had"):
            node = NETS.bindings[name]
            assert draw(node, fmt) == draw(node, fmt)


def test_output_does_not_depend_on_hash_seed() -> None:
    """A child process with a fixed string-hash seed draws what this process (random seed) draws."""
    code = (
        "import symtn, sys; p = symtn.load(sys.argv[1]);"
        "sys.stdout.write(''.join(symtn.draw(v) for v in p.bindings.values()))"
    )
    path = ROOT / "symtn" / "examples" / "networks.stn"
    env = {**os.environ, "PYTHONHASHSEED": "12345", "PYTHONPATH": str(ROOT)}
    res = subprocess.run([sys.executable, "-c", code, str(path)], env=env, capture_output=True, text=True)
    assert res.returncode == 0, res.stderr
    here = "".join(symtn.draw(v) for v in symtn.load(path).bindings.values())
    assert res.stdout == here and here.count("<svg") == 8


# ------------------------------------------------------------------ DOT and TikZ
def _dot_graph(text: str) -> tuple[nx.MultiGraph, list[str]]:
    graph: nx.MultiGraph = nx.MultiGraph()
    clusters = re.findall(r'subgraph "(cluster_[^"]+)"', text)
    for name, attrs in re.findall(r'^\s*"([^"]+)" \[(.*)\];$', text, flags=re.M):
        graph.add_node(name, attrs=attrs)
    for a, b in re.findall(r'^\s*"([^"]+)" -- "([^"]+)"', text, flags=re.M):
        assert a in graph and b in graph, (a, b)
        graph.add_edge(a, b)
    return graph, clusters


def test_dot_structure() -> None:
    text = draw(NETS.bindings["mlp"], "dot")
    assert text.startswith("graph symtn {") and text.rstrip().endswith("}")
    assert text.count("{") == text.count("}")
    graph, clusters = _dot_graph(text)
    tensors = [n for n, d in graph.nodes(data=True) if "shape=box" in d["attrs"]]
    free = [n for n, d in graph.nodes(data=True) if 'class="free"' in d["attrs"]]
    assert len(tensors) == 3 and len(free) == 1 and len(clusters) == 1
    assert graph.number_of_edges() == 2 + 1  # two wires and one free leg
    assert nx.is_connected(graph)
    graph, clusters = _dot_graph(draw(NETS.bindings["sum2"], "dot"))
    assert clusters == ["cluster_t0", "cluster_t1"] and nx.number_connected_components(graph) == 2


def _latex_ready() -> bool:
    if shutil.which("pdflatex") is None or shutil.which("kpsewhich") is None:
        return False
    res = subprocess.run(["kpsewhich", "tikz.sty", "geometry.sty"], capture_output=True, text=True)
    return len(res.stdout.split()) == 2


def test_tikz_compiles_or_has_the_right_structure(tmp_path: Path) -> None:
    pic = draw(NETS.bindings["mixed"], "tikz")
    assert pic.count("\\begin{tikzpicture}") == 1 and pic.count("\\end{tikzpicture}") == 1
    assert pic.count("{") == pic.count("}")
    assert len(re.findall(r"\\coordinate \(at-t0n\d+\)", pic)) == 4
    assert "fit=" in pic and "\\node[bubble" in pic and "\\node[dot]" not in pic
    if _latex_ready():
        doc = tmp_path / "d.tex"
        doc.write_text(tikz_document(pic + "\n" + draw(NETS.bindings["marks"], "tikz")), encoding="utf-8")
        res = subprocess.run(
            ["pdflatex", "-interaction=nonstopmode", "-halt-on-error", doc.name],
            cwd=tmp_path,
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert res.returncode == 0, res.stdout[-2000:]
        assert (tmp_path / "d.pdf").stat().st_size > 1000
    else:  # no LaTeX here: every shape, wire and free leg is still there, in TikZ syntax
        assert pic.count("\\node[tensor") == 4 and pic.count("\\draw[wire] (t0") == 5
        assert re.search(r"node\[freeleg, anchor=[\d.]+\] \{i\}", pic)


# ------------------------------------------------------------------ derivatives, errors, API
def test_derivative_view_shows_the_holes() -> None:
    prog = symtn.parse("dim n\nleg i, j : n\nx: [i]\nA: [i, j]\nf = x @ A @ x[i -> j]\ng = d(f)/d(x)\n")
    x = prog.tensors["x"]
    root = parse_svg(draw_derivative(prog.bindings["f"], x, prog.bindings["g"]))
    assert len(having(root, "shape", "hole")) == 2  # x occurs twice in f
    assert [el.text for el in having(root, "coeff-label") if "∂" in (el.text or "")] == ["∂/∂x ⟶"]
    after = parse_svg(draw(prog.bindings["g"]))
    assert not having(after, "hole") and "i" in free_labels(after)


def test_too_big_and_unknown_format_raise() -> None:
    big = Product(*[Tensor(f"T{i}", ((f"l{i}", 2),), (f"l{i}",), ()) for i in range(601)])
    with pytest.raises(SymtnError) as info:
        draw(big)
    assert info.value.code == "E400"
    with pytest.raises(SymtnError) as info:
        draw(NETS.bindings["chain"], "png")
    assert info.value.code == "E401"


def test_node_repr_svg_and_top_level_draw() -> None:
    node = NETS.bindings["ring"]
    assert node._repr_svg_() == draw(node) == symtn.draw(node)
    assert "draw" in symtn.__all__


def test_repr_svg_of_an_undrawable_expression_falls_back_to_text() -> None:
    """Jupyter shows the text of an expression too large to draw (E400) instead of an error."""
    from symtn.lower.draw.model import MAX_LEAVES

    big = symtn.contract(*[symtn.tensor(f"T{k}", **{f"l{k}": 2}) for k in range(MAX_LEAVES + 1)])
    with pytest.raises(symtn.SymtnError) as err:
        draw(big)
    assert err.value.code == "E400"
    assert big._repr_svg_() is None
    assert repr(big).startswith("<")


# ------------------------------------------------------------------ CLI and gallery
def test_cli_draw_formats(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = str(ROOT / "symtn" / "examples" / "gradients.stn")
    assert main(["draw", path, "f"]) == 0
    assert parse_svg(capsys.readouterr().out).tag == SVG + "svg"
    for suffix, head in ((".tex", "% symtn diagram"), (".dot", "graph symtn {"), (".svg", "<svg")):
        out = tmp_path / f"f{suffix}"
        assert main(["draw", path, "f", "-o", str(out)]) == 0
        assert out.read_text(encoding="utf-8").startswith(head)
    out = tmp_path / "g.svg"
    assert main(["draw", path, "grad_x", "--before", "-o", str(out)]) == 0
    assert len(having(parse_svg(out.read_text(encoding="utf-8")), "shape", "hole")) == 2
    assert main(["draw", path, "loss", "--simplified", "--expand"]) == 0
    assert main(["draw", path, "nope"]) == 2
    assert "no binding named nope" in capsys.readouterr().err


def _png_pixels(data: bytes) -> np.ndarray:
    """The pixels of an 8-bit RGB/RGBA PNG as a (height, width, channels) array (no imaging library)."""
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    pos, idat, width, height, channels = 8, b"", 0, 0, 0
    while pos < len(data):
        (length,) = struct.unpack(">I", data[pos : pos + 4])
        kind, body = data[pos + 4 : pos + 8], data[pos + 8 : pos + 8 + length]
        if kind == b"IHDR":
            width, height, depth, color = struct.unpack(">IIBB", body[:10])
            assert depth == 8 and color in (2, 6)
            channels = 3 if color == 2 else 4
        elif kind == b"IDAT":
            idat += body
        pos += 12 + length
    raw = np.frombuffer(zlib.decompress(idat), dtype=np.uint8).reshape(height, width * channels + 1)
    out = np.zeros((height, width * channels), dtype=np.int64)
    prev = np.zeros(width * channels, dtype=np.int64)
    for y in range(height):
        kind, line = int(raw[y, 0]), raw[y, 1:].astype(np.int64)
        if kind == 1:
            line = np.cumsum(line.reshape(width, channels), axis=0).reshape(-1) % 256
        elif kind == 2:
            line = (line + prev) % 256
        elif kind in (3, 4):
            cur, up = line.tolist(), prev.tolist()
            for i in range(len(cur)):
                a = cur[i - channels] if i >= channels else 0
                b, c = up[i], up[i - channels] if i >= channels else 0
                if kind == 3:
                    pred = (a + b) // 2
                else:
                    p = a + b - c
                    pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                    pred = a if pa <= pb and pa <= pc else b if pb <= pc else c
                cur[i] = (cur[i] + pred) & 0xFF
            line = np.array(cur, dtype=np.int64)
        out[y], prev = line, line
    return out.reshape(height, width, channels)


def test_gallery_page(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import symtn.cli_draw

    found = symtn.cli_draw.bundled_examples()
    assert {p.stem for p in SEEDS} <= {stem for stem, _ in found}
    monkeypatch.setattr(
        symtn.cli_draw,
        "bundled_examples",
        lambda: [e for e in found if e[0] in ("networks", "attention", "gradients")],
    )
    out = tmp_path / "gallery"
    assert main(["gallery", str(out)]) == 0
    index = (out / "index.html").read_text(encoding="utf-8")
    svgs = sorted(out.glob("*/*.svg"))
    for path in SEEDS[:3]:
        assert f"<h2>{path.stem}</h2>" in index
    assert len(svgs) == 8 + 7 + 5 and index.count("<img ") == len(svgs)
    for svg in svgs:
        assert parse_svg(svg.read_text(encoding="utf-8")).tag == SVG + "svg"
    assert "hole" in (out / "gradients" / "grad_x.svg").read_text(encoding="utf-8")
    chromium = Path("/usr/bin/chromium")
    if chromium.exists():
        shot = tmp_path / "shot.png"
        subprocess.run(
            [
                str(chromium),
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--hide-scrollbars",
                f"--screenshot={shot}",
                "--window-size=1200,1600",
                (out / "index.html").as_uri(),
            ],
            capture_output=True,
            timeout=120,
        )
        rgb = _png_pixels(shot.read_bytes())[:, :, :3]
        busy = np.any(rgb != rgb[0, 0], axis=2)
        assert busy.mean() > 0.02  # source text and diagrams, not a blank page
        tensor_fill = np.array([0xCF, 0xE3, 0xF7])  # the tensors' fill colour: the SVGs were drawn
        assert np.all(rgb == tensor_fill, axis=2).sum() > 200
    else:  # no browser: the page at least references every picture it promises
        for svg in svgs:
            assert f'src="{svg.parent.name}/{svg.name}"' in index
