"""Pattern tensors with modifiers in user rules: `rule r(S: [i, j] symmetric(i, j)): ...`.

A modifier makes the rule hold for the pattern's facts (its numeric verification draws values
with them) and restricts where it fires (only on sub-expressions that provably have them).
"""

from __future__ import annotations

import numpy as np
import pytest

import symtn
from symtn.ir.nodes import Zero
from symtn.ir.walk import tensors

HEAD = """dim n, k
leg i, j : n
leg s, t : k
A, B: [i, j]
x: [i]
"""


def _error(src: str) -> symtn.SymtnError:
    with pytest.raises(symtn.SymtnError) as info:
        symtn.parse(src)
    return info.value


def test_antisymmetric_pattern_fires_only_on_antisymmetric_subexpressions() -> None:
    prog = symtn.parse(
        HEAD
        + "rule quad(Q: [i, j] antisymmetric(i, j), v: [i]): v @ Q @ v[i -> j] => 0\n"
        + "anti = simplify[quad](x @ (B - B[i -> j, j -> i]) @ x[i -> j])\n"
        + "plain = simplify[quad](x @ B @ x[i -> j])\n"
    )
    assert isinstance(prog.bindings["anti"], Zero)
    plain = prog.bindings["plain"]
    assert {t.name for t in tensors(plain)} == {"B", "x"}
    rng = np.random.default_rng(0)
    b, v = rng.standard_normal((4, 4)), rng.standard_normal(4)
    assert abs(np.einsum("i,ij,j->", v, b - b.T, v)) < 1e-12  # the identity the rule states
    got = symtn.evaluate(plain, {"B": b, "x": v})
    assert np.allclose(got, np.einsum("i,ij,j->", v, b, v))


def test_symmetric_pattern_binds_a_sum_that_is_symmetric() -> None:
    prog = symtn.parse(
        HEAD
        + "rule had(P: [i, j] symmetric(i, j)): P * P[i -> j, j -> i] => P^2\n"
        + "S = A + A[i -> j, j -> i]\n"
        + "sym = simplify[had](S * S[i -> j, j -> i])\n"
        + "gen = simplify[had](A * A[i -> j, j -> i])\n"
    )
    sym, gen = prog.bindings["sym"], prog.bindings["gen"]
    assert "^2" in str(sym) and "^2" not in str(gen)
    a = np.random.default_rng(1).standard_normal((3, 3))
    for node in (sym, gen):
        order = ("i", "j")
        got = symtn.evaluate(node, {"A": a}, order=order)
        ref = (a + a.T) ** 2 if node is sym else a * a.T
        assert np.allclose(got, ref)


def test_isometry_pattern_binds_a_product_of_isometries() -> None:
    prog = symtn.parse(
        HEAD
        + "leg r : k\n"
        + "V: [i, s] isometry(s)\n"
        + "W: [s, t] isometry(t)\n"
        + "rule fro(U: [i, r] isometry(r)): sum(U^2) => |k|\n"
        + "f = simplify[fro](sum((V @ W)^2))\n"
        + "g = simplify[fro](sum(A^2))\n"
    )
    f = prog.bindings["f"]
    assert not tensors(f)  # |k|: a size, no tensor left
    rng = np.random.default_rng(2)
    v, _ = np.linalg.qr(rng.standard_normal((5, 3)))
    w, _ = np.linalg.qr(rng.standard_normal((3, 3)))
    assert np.isclose(np.sum((v @ w) ** 2), 3.0)  # the identity, independently
    assert np.isclose(float(symtn.evaluate(f, {}, sizes={"k": 3, "n": 5})), 3.0)
    assert {t.name for t in tensors(prog.bindings["g"])} == {"A"}  # A is no isometry: untouched


def test_rule_true_only_with_the_fact_is_verified_with_it() -> None:
    ok = "rule quad(Q: [i, j] antisymmetric(i, j), v: [i]): v @ Q @ v[i -> j] => 0\n"
    assert symtn.parse(HEAD + ok).rules["quad"][0].assumption is False  # verified numerically
    err = _error(HEAD + "rule quad(Q: [i, j], v: [i]): v @ Q @ v[i -> j] => 0\n")
    assert err.code == "E213"
    err = _error(HEAD + "rule bad(P: [i, j] symmetric(i, j), v: [i]): v @ P @ v[i -> j] => 0\n")
    assert err.code == "E213"


def test_pattern_modifier_errors() -> None:
    err = _error(HEAD + "rule c(P: [i, j] const): P => P\n")
    assert err.code == "E214" and "const" in err.message
    err = _error(HEAD + "rule m(P: [i, j] symmetric(i, s)): P * P => P^2\n")
    assert err.code == "E112" and "s" in err.message
    err = _error(HEAD + "rule z(y: [i]): y - y => 0\n")
    assert err.code == "E214" and "simplifies to 0" in err.message


def test_python_api_pattern_with_facts() -> None:
    q = symtn.tensor("Q", i="n", j="n", facts=[("antisymmetric", (("i",), ("j",)))])
    v = symtn.tensor("v", i="n")
    r = symtn.rule(v @ q @ v.rename(i="j"), Zero(()), patterns=[q, v], name="quad")
    assert not r.assumption
    b, x = symtn.tensor("B", i=4, j=4), symtn.tensor("x", i=4)
    anti = x @ (b - b.rename(i="j", j="i")) @ x.rename(i="j")
    assert isinstance(symtn.simplify(anti, rules=[r]), Zero)
    plain = symtn.simplify(x @ b @ x.rename(i="j"), rules=[r])
    assert {t.name for t in tensors(plain)} == {"B", "x"}
