"""Large diagrams in the cse form: shared sub-expressions drawn once as named boxes."""

from __future__ import annotations

import re
import warnings
import xml.etree.ElementTree as ET
from importlib import resources
from pathlib import Path

import numpy as np
import pytest

import symtn
from symtn.cli import main
from symtn.errors import SymtnError
from symtn.ir.nodes import Node, Product, Tensor
from symtn.lower.draw import draw, too_large
from symtn.lower.draw.shared import boxed

SVG = "{http://www.w3.org/2000/svg}"
SIZES = {"n_ctx": 3, "d_model": 4, "d_head": 2, "d_mlp": 3, "d_vocab": 5, "n_head": 2}


def _transformer_gradient() -> tuple[symtn.Program, str]:
    """The bundled two-layer transformer with its live gradient by W_Q1 (through both softmaxes)."""
    text = resources.files("symtn").joinpath("examples", "transformer_blocks.stn").read_text(encoding="utf-8")
    text += "\ngrad = d(sum(live))/d(W_Q1)\n"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return symtn.parse(text, "transformer_blocks.stn"), text


@pytest.fixture(scope="module")
def gradient() -> tuple[symtn.Program, str]:
    return _transformer_gradient()


def _boxes_in(root: ET.Element) -> tuple[set[str], list[str]]:
    """Names of the shared boxes drawn, and the ``tK =`` definition heads, in order."""
    used = set()
    for el in root.iter(f"{SVG}rect"):
        if "shared" in el.get("class", "").split():
            title = el.find(f"{SVG}title")
            assert title is not None and title.text
            used.add(title.text.split("[")[0])
    heads = [el.text or "" for el in root.iter(f"{SVG}text") if "coeff-label" in el.get("class", "")]
    return used, [h[:-2] for h in heads if re.fullmatch(r"t\d+ =", h)]


def test_transformer_gradient_is_drawn_with_boxes(gradient: tuple[symtn.Program, str]) -> None:
    prog, _ = gradient
    node = prog.bindings["grad"]
    assert too_large(node)
    root = ET.fromstring(draw(node))  # valid XML
    used, defined = _boxes_in(root)
    b = boxed(node)
    assert defined == list(b.names) and len(defined) >= 5  # every box has its definition, in order
    assert used and used <= set(defined)  # every box drawn is defined
    assert used == set(defined)  # and every definition is used somewhere
    captions = [el.text for el in root.iter(f"{SVG}text") if "caption-label" in el.get("class", "")]
    assert len(captions) == 1 and "cse form" in captions[0] and f"{len(defined)} shared" in captions[0]


def _values(node: Node, rng: np.random.Generator) -> dict[str, np.ndarray]:
    from symtn.ir.walk import tensors

    out = {}
    for t in tensors(node):
        shape = tuple(int(s.subs({x: SIZES[x.name] for x in s.free_symbols})) for _, s in t.slots)
        out[t.name] = rng.standard_normal(shape) * 0.5
    return out


def test_boxed_form_evaluates_to_the_expression(gradient: tuple[symtn.Program, str]) -> None:
    prog, _ = gradient
    node = prog.bindings["grad"]
    b = boxed(node)
    vals = _values(node, np.random.default_rng(0))
    vals["tokens"] = np.eye(5)[[1, 3, 0]]
    for name, definition in b.definitions:  # earlier boxes are inputs of later ones
        vals[name] = symtn.evaluate(definition, vals, order=b.slots[name], sizes=SIZES)
    got = symtn.evaluate(b.root, vals, order=node.legs, sizes=SIZES)
    want = symtn.evaluate(node, vals, order=node.legs, sizes=SIZES)
    np.testing.assert_allclose(got, want, rtol=1e-9, atol=1e-12)
    assert np.abs(want).max() > 1e-6  # not a vacuous zero


def test_tikz_and_dot_carry_the_boxes(gradient: tuple[symtn.Program, str]) -> None:
    prog, _ = gradient
    node = prog.bindings["grad"]
    names = boxed(node).names
    tikz = draw(node, "tikz")
    assert "cse form" in tikz and "shared/.style" in tikz
    for name in names:
        assert f"{{{name} =}}" in tikz and f"{{{name}}}" in tikz
    dot = draw(node, "dot")
    assert dot.startswith("// too large to draw as a tree")
    assert all(dot.count(f'label="{name} ="') == 1 for name in names)  # one definition cluster per box
    assert 'fillcolor="#fff3c4"' in dot


def test_cli_draws_the_minilm_layer_and_says_so(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    src = resources.files("symtn").joinpath("examples", "minilm_layer.stn")
    out = tmp_path / "y.svg"
    assert main(["draw", str(src), "y", "-o", str(out)]) == 0
    err = capsys.readouterr().err
    assert "shared sub-expressions" in err and "t1" in err
    used, defined = _boxes_in(ET.parse(out).getroot())
    assert used == set(defined) and defined[0] == "t1"


def test_small_expressions_draw_as_before(gradient: tuple[symtn.Program, str]) -> None:
    prog, _ = gradient
    node = prog.bindings["x1"]
    assert not too_large(node)
    svg = draw(node)
    assert "shared" not in svg.split("</style>")[1] and "caption-label" not in svg.split("</style>")[1]


def test_too_large_even_in_cse_form() -> None:
    big = Product(*[Tensor(f"T{i}", ((f"l{i}", 2),), (f"l{i}",), ()) for i in range(601)])
    with pytest.raises(SymtnError, match="even with shared sub-expressions") as info:
        draw(big)
    assert info.value.code == "E400"
