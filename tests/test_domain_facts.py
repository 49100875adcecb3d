"""``positive`` / ``nonnegative`` declarations: simplification under the sign assumption,
numeric checks drawing values that satisfy it, printing and the Python API."""

from __future__ import annotations

import numpy as np
import pytest
import sympy as sp

import symtn
from symtn.checking import random_value
from symtn.errors import SymtnSyntaxError
from symtn.ir.printer import declarations
from symtn.rewrite import is_isomorphic, simplify

HEADER = "leg i: 4\nx: [i] positive\ny: [i] nonnegative\nz: [i]\n"

PROVED = """
check sqrt(x^2) == x
check abs(x) == x
check log(x * x) == 2 * log(x)
check log(x^3 * x) == 4 * log(x)
check sqrt(y^2) == y
check abs(y) == y
check relu(y) == y
"""


def test_identities_under_sign_facts_are_proved_symbolically() -> None:
    outcomes = symtn.parse(HEADER + PROVED).check_all()
    assert len(outcomes) == PROVED.count("check")
    for o in outcomes:
        assert o.result.holds and o.result.method == "symbolic", o.stmt


def test_without_the_fact_nothing_is_assumed() -> None:
    p = symtn.parse(HEADER + "a = sqrt(z^2)\nb = log(z * z)\n")
    assert str(simplify(p["a"])) == "abs(z)"
    (o,) = symtn.parse(HEADER + "check sqrt(z^2) == z\n").check_all()
    assert not o.result.holds


def test_draws_respect_the_facts() -> None:
    p = symtn.parse(HEADER)
    rng = np.random.default_rng(0)
    for _ in range(20):
        assert np.all(random_value(p.tensors["x"], {}, rng, False) > 0)
        assert np.all(random_value(p.tensors["y"], {}, rng, False) >= 0)
    # a check that holds only for positive x is verified (numerically or symbolically), never refuted
    (o,) = symtn.parse(HEADER + "check sqrt(x) * sqrt(x) == x\n").check_all()
    assert o.result.holds


def test_python_api_and_printing() -> None:
    x = symtn.tensor("x", i=4, positive=True)
    assert x.fact("positive") is not None
    assert is_isomorphic(simplify(symtn.sqrt(x * x)), x)
    n = symtn.tensor("y", i=4, nonnegative=True)
    assert simplify(symtn.abs(n)) is n
    text = declarations(x, n)
    assert "x: [i] positive" in text and "y: [i] nonnegative" in text
    back = symtn.parse(text + "e = x\n")["e"]
    assert back is x


def test_value_of_the_simplified_form() -> None:
    p = symtn.parse(HEADER + "e = log(x * x)\n")
    v = np.array([0.5, 1.0, 2.0, 3.0])
    np.testing.assert_allclose(symtn.evaluate(simplify(p["e"]), {"x": v}), 2 * np.log(v))
    assert sp.Symbol("i") not in simplify(p["e"]).sig


def test_modifier_takes_no_arguments() -> None:
    with pytest.raises(SymtnSyntaxError):
        symtn.parse("leg i: 4\nx: [i] positive(i)\n")
    with pytest.raises(SymtnSyntaxError) as err:
        symtn.parse("leg i: 4\nx: [i] postive\n")
    assert "positive" in str(err.value)
