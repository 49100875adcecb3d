"""einsum strings: values against numpy.einsum, round trips through to_einsum, malformed strings."""

from __future__ import annotations

import numpy as np
import pytest

import symtn
from symtn.errors import LegError, SizeError, SymtnError, SymtnSyntaxError

RNG = np.random.default_rng(7)
SIZES = {"a": 2, "b": 3, "c": 4, "d": 5}


def _operands(spec: str) -> tuple[list[symtn.Node], list[np.ndarray]]:
    """One tensor per term; leg names deliberately differ from the letters and between operands."""
    terms = spec.replace(" ", "").split("->")[0].split(",")
    nodes, arrays = [], []
    for t, term in enumerate(terms):
        legs = [(f"x{t}_{k}", SIZES[ch]) for k, ch in enumerate(term)]
        nodes.append(symtn.tensor(f"T{t}", *legs))
        arrays.append(RNG.standard_normal([SIZES[ch] for ch in term]))
    return nodes, arrays


def _out_order(spec: str) -> list[str]:
    """The leg names of numpy's output axes: each output letter's first binding ``x{t}_{k}``."""
    terms = spec.split("->")[0].split(",")
    letters = "".join(terms)
    out = (
        spec.split("->")[1] if "->" in spec else "".join(sorted(c for c in letters if letters.count(c) == 1))
    )
    first: dict[str, str] = {}
    for t, term in enumerate(terms):
        for k, ch in enumerate(term):
            first.setdefault(ch, f"x{t}_{k}")
    return [first[c] for c in out]


SPECS = [
    "ab,bc->ac",
    "ab,bc",
    "ab->ba",
    "ab",
    "ba",
    "aa",
    "aa->a",
    "aa->",
    "abc->cab",
    "ab,ab->ab",
    "ab,ab,ab->a",
    "ab,ab,ab",
    "a,a->",
    "a,b->ab",
    "a,b",
    "abc,cd,db->a",
    "ab,bc,ca->",
    "a,a,a,a->a",
    "ab,b->a",
    "abb->a",
    " ab , bc -> ac ",
]


@pytest.mark.parametrize("spec", SPECS)
def test_values_match_numpy(spec: str) -> None:
    nodes, arrays = _operands(spec)
    expr = symtn.einsum(spec, *nodes)
    values = {f"T{t}": a for t, a in enumerate(arrays)}
    order = _out_order(spec.replace(" ", ""))
    got = symtn.evaluate(expr, values, order=order)
    assert np.allclose(got, np.einsum(spec.replace(" ", ""), *arrays))
    # simplified form gives the same numbers
    assert np.allclose(symtn.evaluate(symtn.simplify(expr), values, order=order), got)


@pytest.mark.parametrize("spec", SPECS)
def test_round_trip_to_einsum(spec: str) -> None:
    nodes, arrays = _operands(spec)
    values = {f"T{t}": a for t, a in enumerate(arrays)}
    for expr in (symtn.einsum(spec, *nodes), symtn.simplify(symtn.einsum(spec, *nodes))):
        out, ops, legs = symtn.to_einsum(expr)
        got = np.einsum(out, *[values[op.name] for op in ops])
        assert np.allclose(got, symtn.evaluate(expr, values, order=legs))


def test_output_leg_names_come_from_first_binding() -> None:
    A = symtn.tensor("A", i=3, j=4)
    B = symtn.tensor("B", j=4, k=5)
    assert symtn.einsum("ij,jk->ik", A, B).legs == ("i", "k")
    assert symtn.einsum("xy,yz->zx", A, B).legs == ("k", "i")
    assert symtn.is_isomorphic(symtn.simplify(symtn.einsum("ij,jk->ik", A, B)), symtn.simplify(A @ B))


def test_output_name_clash() -> None:
    A = symtn.tensor("A", i=3, j=4)
    B = symtn.tensor("B", i=4, k=5)
    with pytest.raises(LegError) as err:
        symtn.einsum("ab,cd->ac", A, B)
    assert err.value.code == "E207"
    assert "both take the leg name i" in str(err.value)


def test_to_einsum_from_notation_and_operators() -> None:
    A = symtn.tensor("A", i=3, j=4)
    B = symtn.tensor("B", j=4, k=5)
    x = symtn.tensor("x", i=3)
    vals = {"A": RNG.standard_normal((3, 4)), "B": RNG.standard_normal((4, 5)), "x": RNG.standard_normal(3)}
    for expr in (A @ B, x @ A @ B, (A * x) @ B, x * x * x, symtn.sum(A * x, "i")):
        spec, ops, legs = symtn.to_einsum(expr)
        assert np.allclose(
            np.einsum(spec, *[vals[o.name] for o in ops]), symtn.evaluate(expr, vals, order=legs)
        )


def test_to_einsum_rejects_sums_and_bubbles() -> None:
    x = symtn.tensor("x", i=3)
    for expr in (x + x * x, symtn.exp(x)):
        with pytest.raises(SymtnError) as err:
            symtn.to_einsum(expr)
        assert err.value.code == "E218"


@pytest.mark.parametrize(
    ("spec", "n", "cls", "code", "caret"),
    [
        ("ab,bc->ac", 1, SymtnError, "E102", "^^^^^"),
        ("abc,bc->ac", 2, LegError, "E102", "^^^"),
        ("a1,bc->ac", 2, SymtnSyntaxError, "E001", " ^"),
        ("ab,bc->ac->a", 2, SymtnSyntaxError, "E001", "         ^^"),
        ("ab,bc->az", 2, LegError, "E205", "        ^"),
        ("ab,bc->aa", 2, LegError, "E205", "        ^"),
        ("ab,bc->a,c", 2, SymtnSyntaxError, "E001", "        ^"),
        ("ab-bc", 2, SymtnSyntaxError, "E001", "  ^"),
    ],
)
def test_malformed(spec: str, n: int, cls: type, code: str, caret: str) -> None:
    A = symtn.tensor("A", i=3, j=4)
    B = symtn.tensor("B", j=4, k=4)
    with pytest.raises(cls) as err:
        symtn.einsum(spec, *[A, B][:n])
    assert err.value.code == code
    text = str(err.value)
    assert spec in text
    assert text.split(spec + "\n", 1)[1].startswith(caret)


def test_size_mismatch() -> None:
    A = symtn.tensor("A", i=3, j=4)
    with pytest.raises(SizeError) as err:
        symtn.einsum("aa->a", A)
    assert err.value.code == "E201"


PROGRAM = """
dim n = 3
dim m = 4
A: [i: n, j: m]
B: [j, k: n]
x: [i]
C = einsum("ij,jk->ik", A, B)
D = einsum("ij,ij", A, A)
T = einsum("ii", A @ B)
H = einsum("ij,ij,ij->i", A, A, A)
y = x @ A @ B
"""


def test_notation_einsum_values() -> None:
    prog = symtn.parse(PROGRAM)
    a, b = RNG.standard_normal((3, 4)), RNG.standard_normal((4, 3))
    vals = {"A": a, "B": b, "x": RNG.standard_normal(3)}
    ev = {k: symtn.evaluate(prog.bindings[k], vals) for k in "CDTH"}
    assert np.allclose(ev["C"], np.einsum("ij,jk->ik", a, b))
    assert np.allclose(ev["D"], np.einsum("ij,ij", a, a))
    assert np.allclose(ev["T"], np.einsum("ii", a @ b))
    assert np.allclose(ev["H"], np.einsum("ij,ij,ij->i", a, a, a))


@pytest.mark.parametrize(
    ("line", "code", "caret_col"),
    [
        ('C = einsum("ij,j k->ik", A)', "E102", 13),
        ('C = einsum("i,jk->ik", A, B)', "E102", 13),
        ('C = einsum("ij,jk->i%", A, B)', "E001", 21),
        ("C = einsum(A, B)", "E102", None),
        ('C = exp("ij")', "E101", None),
    ],
)
def test_notation_errors_point_into_the_string(line: str, code: str, caret_col: int | None) -> None:
    with pytest.raises(SymtnError) as err:
        symtn.parse("dim n = 3\ndim m = 4\nA: [i: n, j: m]\nB: [j, k: n]\n" + line + "\n")
    assert err.value.code == code
    if caret_col is not None:
        assert err.value.span is not None
        assert (err.value.span.line, err.value.span.column) == (5, caret_col)


def test_cli_einsum(tmp_path, capsys: pytest.CaptureFixture[str]) -> None:  # type: ignore[no-untyped-def]
    from symtn.cli import main

    f = tmp_path / "p.stn"
    f.write_text(PROGRAM)
    assert main(["einsum", str(f), "y"]) == 0
    out = capsys.readouterr().out.strip()
    assert out.startswith("np.einsum(")
    spec = out.split("'")[1]
    names = out.split("'")[2].split(")")[0].strip(", ").split(", ")
    vals = {"A": RNG.standard_normal((3, 4)), "B": RNG.standard_normal((4, 3)), "x": RNG.standard_normal(3)}
    got = np.einsum(spec, *[vals[n] for n in names])
    assert np.allclose(got, vals["x"] @ vals["A"] @ vals["B"])
    assert main(["einsum", str(f), "nope"]) == 2
