"""Index families: chain(G, bond=a, sites=1..N), values against np.einsum, errors with carets."""

from __future__ import annotations

import numpy as np
import pytest

import symtn
from symtn.cli import main

RNG = np.random.default_rng(5)
HEAD = "dim D = 3, d = 2, N = 4\nleg a : D\nleg s : d\nG: [a, s, a']\n"


def test_chain_is_the_matrix_product_state() -> None:
    prog = symtn.parse(HEAD + "psi = chain(G, bond=a, sites=1..N)\nnorm2 = psi @ psi\ng2 = d(norm2)/d(G2)\n")
    psi = prog.bindings["psi"]
    assert prog.order("psi") == ("a0", "s1", "s2", "s3", "s4", "a4")
    sites = {f"G{k}": RNG.normal(size=(3, 2, 3)) for k in range(1, 5)}
    want = np.einsum("aib,bjc,ckd,dle->aijkle", *sites.values())
    assert np.allclose(symtn.evaluate(psi, sites, order=prog.order("psi")), want)
    assert np.isclose(float(symtn.evaluate(prog.bindings["norm2"], sites)), (want**2).sum())
    # the sites are variables: the gradient by G2 matches finite differences
    got = symtn.evaluate(prog.bindings["g2"], sites, order=prog.order("g2"))
    fd = np.zeros((3, 2, 3))
    for idx in np.ndindex(*fd.shape):
        for sign in (1, -1):
            moved = dict(sites)
            moved["G2"] = sites["G2"].copy()
            moved["G2"][idx] += sign * 1e-6
            full = np.einsum("aib,bjc,ckd,dle->aijkle", *moved.values())
            fd[idx] += sign * (full**2).sum() / 2e-6
    assert np.allclose(got, fd, atol=1e-5)


def test_literal_range_and_one_site() -> None:
    prog = symtn.parse(HEAD + "two = chain(G, bond=a, sites=1..2)\none = chain(G, bond=a, sites=3..3)\n")
    assert set(prog.bindings["two"].legs) == {"a0", "s1", "s2", "a2"}
    assert set(prog.bindings["one"].legs) == {"a2", "s3", "a3"}


@pytest.mark.parametrize(
    ("line", "column", "needle"),
    [
        ("psi = chain(G, bond=b, sites=1..4)", 21, "needs the bond legs b (left) and b'"),
        ("psi = chain(G, bond=a, sites=4..1)", 30, "is empty"),
        ("psi = chain(G, bond=a, sites=1..M)", 30, "not a dim with a value"),
        ("psi = chain(s, bond=a, sites=1..4)", 13, "declared tensor"),
        ("psi = chain(G, bond=a, sites=4)", 30, "index range"),
        ("x = 1..4", 5, "only stands in chain"),
    ],
)
def test_malformed_families_point_at_the_argument(
    line: str, column: int, needle: str, tmp_path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "bad.stn"
    path.write_text(HEAD + line + "\n")
    assert main(["run", str(path)]) == 2
    err = capsys.readouterr().err
    assert "error[E220]" in err and needle in err, err
    assert f"line 5, column {column}" in err, err
    assert "side by side" not in err


def test_python_api_builds_the_same_chain() -> None:
    G = symtn.tensor("G", a=3, s=2, **{"a'": 3})
    psi = symtn.chain(G, "a", range(1, 4))
    prog = symtn.parse(HEAD + "psi = chain(G, bond=a, sites=1..3)\n")
    assert symtn.is_isomorphic(psi, prog.bindings["psi"])
    with pytest.raises(symtn.SymtnError) as err:
        symtn.chain(G, "b", range(1, 4))
    assert err.value.code == "E220"
    with pytest.raises(symtn.SymtnError):
        symtn.chain(G, "a", [])
