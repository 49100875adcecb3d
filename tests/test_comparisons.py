"""iverson(e1 op e2): entrywise 0/1 comparisons of values, their zero derivative, the identities
with maximum and relu proved symbolically, printing, errors and generated code."""

from __future__ import annotations

import numpy as np
import pytest

import symtn
from symtn.errors import LegError, SymtnSyntaxError
from symtn.rewrite import is_isomorphic, simplify

HEADER = "leg i: 5\nleg j: 3\nX, Y: [i]\nM: [i, j]\n"
X = np.array([1.0, 2.0, 3.0, -1.0, 0.0])
Y = np.array([2.0, 2.0, 2.0, -2.0, 0.5])
OPS = {
    ">": np.greater,
    ">=": np.greater_equal,
    "<": np.less,
    "<=": np.less_equal,
    "==": np.equal,
    "!=": np.not_equal,
}


def prog(body: str) -> symtn.Program:
    return symtn.parse(HEADER + body)


@pytest.mark.parametrize("op", list(OPS))
def test_values_match_numpy_comparisons(op: str) -> None:
    p = prog(f"e = iverson(X {op} Y)\nz = iverson(X {op} 0)\n")
    np.testing.assert_array_equal(symtn.evaluate(p["e"], {"X": X, "Y": Y}), OPS[op](X, Y).astype(float))
    np.testing.assert_array_equal(symtn.evaluate(p["z"], {"X": X}), OPS[op](X, 0).astype(float))
    X_, Y_ = symtn.tensor("X", i=5), symtn.tensor("Y", i=5)
    assert is_isomorphic(symtn.iverson(X_, op, Y_), p["e"])


def test_unicode_and_broadcast() -> None:
    p = prog("e = iverson(X ≥ Y)\nb = iverson(M > X)\n")
    np.testing.assert_array_equal(symtn.evaluate(p["e"], {"X": X, "Y": Y}), (X >= Y).astype(float))
    m = np.arange(15.0).reshape(5, 3) - 5
    got = symtn.evaluate(p["b"], {"M": m, "X": X}, order=["i", "j"])
    np.testing.assert_array_equal(got, (m > X[:, None]).astype(float))


CHECKS = """
check d(sum(maximum(X, Y)))/d(X) == iverson(X > Y)
check d(sum(minimum(X, Y)))/d(X) == iverson(X < Y)
check relu(X) == X * iverson(X > 0)
check relu(X) == iverson(X >= 0) * X
check d(sum(relu(X)))/d(X) == iverson(X > 0)
check d(iverson(X > Y))/d(X) == 0
check d(sum(X * iverson(X > Y)))/d(X) == iverson(X > Y)
"""


def test_identities_are_proved_symbolically() -> None:
    outcomes = prog(CHECKS).check_all()
    assert len(outcomes) == CHECKS.count("check")
    for o in outcomes:
        assert o.result.holds and o.result.method == "symbolic", o.stmt


def test_false_identity_is_refuted() -> None:
    (o,) = prog("check relu(X) == X * iverson(X < 0)\n").check_all()
    assert not o.result.holds


def test_derivative_values_against_finite_differences() -> None:
    p = prog("g = d(sum(maximum(X, Y) * X))/d(X)\n")
    x, y = np.array([1.0, 2.5, 3.0, -1.0, 0.2]), Y
    got = symtn.evaluate(p["g"], {"X": x, "Y": y})
    eps = 1e-6
    fd = np.array(
        [
            (
                np.sum(np.maximum(x + eps * e, y) * (x + eps * e))
                - np.sum(np.maximum(x - eps * e, y) * (x - eps * e))
            )
            / (2 * eps)
            for e in np.eye(5)
        ]
    )
    np.testing.assert_allclose(got, fd, rtol=1e-6)


@pytest.mark.parametrize(
    "src",
    [
        "iverson(X > Y)",
        "iverson(X >= 0)",
        "iverson(X == Y)",
        "iverson(X != Y)",
        "iverson(X < 2 * Y + 1)",
        "d(sum(maximum(X, Y)))/d(X)",
    ],
)
def test_printing_round_trips(src: str) -> None:
    e = simplify(prog(f"e = {src}\n")["e"])
    text = str(e)
    assert "Heaviside" not in text and "Piecewise" not in text and "step" not in text
    back = simplify(prog(f"e = {text}\n")["e"])
    assert is_isomorphic(back, e), text


def test_errors() -> None:
    with pytest.raises(LegError) as err:
        prog("e = exp(X > Y)\n")
    assert err.value.code == "E113" and err.value.span is not None
    with pytest.raises(LegError) as err:
        prog("e = iverson(X)\n")
    assert err.value.code == "E113"
    with pytest.raises(SymtnSyntaxError):
        prog("e = X > Y\n")


def test_codegen_numpy() -> None:
    p = prog("a = iverson(X > Y)\nb = iverson(X == Y) * X\n")
    src = symtn.codegen(p, ["a", "b"], "numpy")
    ns: dict[str, object] = {}
    exec(compile(src, "<generated>", "exec"), ns)  # noqa: S102
    np.testing.assert_array_equal(ns["a"](X, Y), (X > Y).astype(float))  # type: ignore[operator]
    np.testing.assert_array_equal(ns["b"](X, Y), (X == Y) * X)  # type: ignore[operator]
