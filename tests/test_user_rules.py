"""User rewrite rules (docs/language.md, "Rewrite rules"): acceptance, rejection, application, API, CLI."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

import symtn
from symtn.cli import main
from symtn.ir.nodes import Tensor
from symtn.ir.walk import tensors
from symtn.rewrite.user_rules import UserRule

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE = ROOT / "symtn" / "examples" / "rules.stn"

HEAD = """dim n, m
leg i, o, o2 : n
leg a : m
W : [o, i]
h : [i]
u : [a]
"""


def _names(node: symtn.Node) -> set[str]:
    return {t.name for t in tensors(node)}


def _error(src: str) -> symtn.SymtnError:
    with pytest.raises(symtn.SymtnError) as info:
        symtn.parse(src)
    return info.value


def _all(prog: symtn.Program) -> list[UserRule]:
    return [r for group in prog.rules.values() for r in group]


def _rand(rng: np.random.Generator, *shape: int) -> np.ndarray:
    return rng.standard_normal(shape)


# ------------------------------------------------------------------ accepted and rejected
def test_rules_accepted_and_grouped() -> None:
    prog = symtn.parse(
        HEAD
        + "rule fns(x: [i]): 2 * sigmoid(2 * x) - 1 => tanh(x)\n"
        + "rule fns(x: [i]): -max[i](-x) => min[i](x)\n"
        + "rule sq(x: [i]): x @ x => sum(x^2)\n"
        + "rule pos: sum(u) => 1\n"
    )
    assert list(prog.rules) == ["fns", "sq", "pos"]
    assert len(prog.rules["fns"]) == 2
    assert [r.line for r in prog.rules["fns"]] == [7, 8]
    assert not prog.rules["sq"][0].assumption  # an identity: verified
    assert prog.rules["pos"][0].assumption  # names the declared u: a value constraint
    assert all(isinstance(r, symtn.Rule) for r in _all(prog))


def test_e206_sides_with_different_legs() -> None:
    err = _error(HEAD + "rule bad(x: [i], A: [i, o]): x => A @ x\n")
    assert err.code == "E206"
    assert err.span is not None and err.span.line == 7 and err.span.column == 1
    assert "rule bad" in err.message and "[i] and [o]" in err.message
    assert "^" in err.render()


def test_e213_false_rule_reports_counterexample() -> None:
    err = _error(HEAD + "\nrule wrong(A: [o, i], x: [i]): A @ x => A @ (2 * x)\n")
    assert err.code == "E213"
    assert err.span is not None and err.span.line == 8
    assert "rule wrong is false" in err.message
    assert "largest difference" in err.message
    assert "at [o=" in err.message  # where
    assert "(sizes n=" in err.message  # the sizes used


def test_e213_false_function_rule_and_e214_degenerate_rule() -> None:
    err = _error(HEAD + "rule th(x: [i]): tanh(x) => 2 * sigmoid(x) - 1\n")
    assert err.code == "E213" and "rule th is false" in err.message and "largest difference" in err.message
    err = _error(HEAD + "rule t(A: [o, i]): A => A[o -> i, i -> o]\n")
    assert err.code == "E214" and "would match every expression" in err.message
    assert err.span is not None and err.span.line == 7


def test_python_api_rule_errors() -> None:
    n = 3
    x = symtn.tensor("x", i=n)
    A = symtn.tensor("A", i=n, j=n)
    with pytest.raises(symtn.SymtnError) as info:
        symtn.rule(A @ x, (A @ x) * 3, patterns=[A, x], name="triple")
    assert info.value.code == "E213" and "triple" in info.value.message
    with pytest.raises(symtn.SymtnError) as info:
        symtn.rule(x, x * 1, patterns=[x], name="any")
    assert info.value.code == "E214"  # a bare pattern tensor would match everything
    y = symtn.tensor("y", i=n)
    with pytest.raises(symtn.SymtnError) as info:
        symtn.rule(symtn.exp(x), symtn.exp(y), patterns=[x, y], name="free")
    assert info.value.code == "E214"  # y is not bound by the left side
    with pytest.raises(symtn.LegError) as info:
        symtn.rule(A, x, patterns=[A, x], name="legs")
    assert info.value.code == "E206"


# ------------------------------------------------------------------ application
def test_function_rules_rewrite_and_keep_value() -> None:
    prog = symtn.parse(
        HEAD
        + "rule fns(x: [i]): 2 * sigmoid(2 * x) - 1 => tanh(x)\n"
        + "rule fns(x: [i]): -max[i](-x) => min[i](x)\n"
        + "e1 = simplify(2 * sigmoid(2 * (W @ h)) - 1)\n"
        + "e2 = simplify(-max[o](-(W @ h)) * u)\n"
    )
    e1, e2 = prog["e1"], prog["e2"]
    assert str(e1) == "tanh(W[o, a] @ h[a])"
    assert "min[" in str(e2) and "max" not in str(e2)
    rng = np.random.default_rng(0)
    W, h, u = _rand(rng, 4, 4), _rand(rng, 4), _rand(rng, 3)
    vals = {"W": W, "h": h, "u": u}
    sizes = {"n": 4, "m": 3}
    pre = np.einsum("oi,i->o", W, h)
    got1 = symtn.evaluate(e1, vals, order=("o",), sizes=sizes)
    np.testing.assert_allclose(got1, 2 / (1 + np.exp(-2 * pre)) - 1, rtol=1e-12)
    got2 = symtn.evaluate(e2, vals, order=("a",), sizes=sizes)
    np.testing.assert_allclose(got2, -np.max(-pre) * u, rtol=1e-12)
    assert e1.legset == {"o"} and e2.legset == {"a"}


def test_network_rule_inside_a_larger_network() -> None:
    # the rule's left side is the network tanh(x) @ tanh(x); it binds x to W @ h inside a
    # network with u (its right side is another form of the same value)
    prog = symtn.parse(
        HEAD
        + "rule sq(x: [o]): tanh(x) @ tanh(x) => |n| - sum(1 - tanh(x)^2)\n"
        + "t = tanh(W @ h)\n"
        + "e = (t @ t[o -> o]) * u\n"
        + "other = (t @ (W @ h)) * u\n"
    )
    e = prog["e"]
    out = symtn.simplify(e, rules=prog.rules["sq"])
    plain = symtn.simplify(e)
    assert not symtn.is_isomorphic(out, plain)  # the rule fired
    assert "^2" in str(out)
    assert out.legset == e.legset == {"a"}
    rng = np.random.default_rng(1)
    W, h, u = _rand(rng, 5, 5), _rand(rng, 5), _rand(rng, 2)
    t = np.tanh(np.einsum("oi,i->o", W, h))
    want = np.einsum("o,o,a->a", t, t, u)
    got = symtn.evaluate(out, {"W": W, "h": h, "u": u}, order=("a",), sizes={"n": 5, "m": 2})
    np.testing.assert_allclose(got, want, rtol=1e-12)
    # two different factors do not bind one pattern tensor
    other = prog["other"]
    assert symtn.is_isomorphic(symtn.simplify(other, rules=prog.rules["sq"]), symtn.simplify(other))


def test_softmax_rule_matches_through_nested_networks() -> None:
    prog = symtn.parse(
        HEAD + "rule sm(x: [i]): sum[i](softmax[i](x)) => 1\ne = sum[o](softmax[o](W @ h)) * u\n"
    )
    out = symtn.simplify(prog["e"], rules=prog.rules["sm"])
    assert out is prog.tensors["u"]


def test_value_constraint_inside_a_network_and_in_checks() -> None:
    src = """dim n, m
leg a, a' : n
leg b, b' : m
leg k : 3
U : [a, b]
P : [k, b]
Q : [b, a']
e = P @ U @ U[b -> b'] @ Q[b -> b']
check U @ U[b -> b'] @ Q[b -> b'] == Q
rule orth: U @ U[b -> b'] => delta[b, b']
check U @ U[b -> b'] @ Q[b -> b'] == Q
"""
    prog = symtn.parse(src)
    outcomes = prog.check_all()
    assert not outcomes[0].result.holds  # before the rule: false for a general U
    assert outcomes[1].result.holds and outcomes[1].result.method == "symbolic"
    e = prog["e"]
    out = symtn.simplify(e, rules=prog.rules["orth"])
    assert "U" not in _names(out) and out.legset == e.legset == {"k", "a'"}
    rng = np.random.default_rng(2)
    U, _ = np.linalg.qr(rng.standard_normal((5, 3)))  # orthonormal columns: the constraint holds
    P, Q = _rand(rng, 3, 3), _rand(rng, 3, 5)
    want = np.einsum("kb,ab,ac,cd->kd", P, U, U, Q)
    vals = {"U": U, "P": P, "Q": Q}
    got = symtn.evaluate(out, vals, order=("k", "a'"), sizes={"n": 5, "m": 3})
    np.testing.assert_allclose(got, want, rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("total", ["sum(y)", "y -> []"])
def test_cross_entropy_hessian_loses_y(total: str) -> None:
    src = """dim C
leg c, c2 : C
y : [c]
z : [c]
L = -sum(y * log_softmax[c](z))
H = d(d(L)/d(z))/d(z[c -> c2])
rule prob: TOTAL => 1
S = simplify(H)
"""
    prog = symtn.parse(src.replace("TOTAL", total))
    H, S = prog["H"], prog["S"]
    assert "y" in _names(symtn.simplify(H))
    assert "y" not in _names(S) and S.legset == {"c", "c2"}
    rng = np.random.default_rng(3)
    z = rng.standard_normal(4)
    y = rng.uniform(0.1, 1.0, 4)
    y /= y.sum()  # a probability vector, as the rule assumes
    p = np.exp(z) / np.exp(z).sum()
    want = np.diag(p) - np.einsum("c,d->cd", p, p)
    for node in (H, S):
        got = symtn.evaluate(node, {"y": y, "z": z}, order=("c", "c2"), sizes={"C": 4})
        np.testing.assert_allclose(got, want, rtol=1e-10, atol=1e-12)


# ------------------------------------------------------------------ groups
def test_group_switching_and_declaration_order() -> None:
    prog = symtn.parse(
        HEAD
        + "e0 = simplify(-max[o](-(W @ h)))\n"
        + "rule neg(x: [i]): -max[i](-x) => min[i](x)\n"
        + "rule th(x: [i]): 2 * sigmoid(2 * x) - 1 => tanh(x)\n"
        + "e = -max[o](-(W @ h)) * (2 * sigmoid(2 * (W @ h)) - 1)\n"
        + "all = simplify(e)\n"
        + "only_neg = simplify[neg](e)\n"
        + "only_th = simplify[th](e)\n"
        + "both = simplify[th, neg](e)\n"
    )
    assert "max" in str(prog["e0"])  # declared before the rule: not applied
    assert "min" in str(prog["all"]) and "tanh" in str(prog["all"])
    assert "min" in str(prog["only_neg"]) and "tanh" not in str(prog["only_neg"])
    assert "max" in str(prog["only_th"]) and "tanh" in str(prog["only_th"])
    assert "sigmoid" not in str(prog["all"]) and "sigmoid(" in str(prog["only_neg"])  # not rewritten to tanh
    assert symtn.is_isomorphic(prog["both"], prog["all"])


def test_unknown_group_is_an_error_with_a_hint() -> None:
    err = _error(HEAD + "rule kron(x: [i]): -max[i](-x) => min[i](x)\ne = simplify[korn](W @ h)\n")
    assert err.code == "E101" and "unknown rule group korn" in err.message
    assert err.help == "did you mean kron?"
    assert err.span is not None and err.span.line == 8


def test_show_uses_the_chosen_group() -> None:
    prog = symtn.parse(
        HEAD + "rule neg(x: [i]): -max[i](-x) => min[i](x)\nshow simplify[neg](-max[o](-(W @ h)))\n"
    )
    (show,) = prog.statements
    assert "min[" in symtn.program.show_text(show.value.node)


# ------------------------------------------------------------------ python API
def test_python_api_rule_and_simplify() -> None:
    n = 4
    x = symtn.tensor("x", i=n)
    r = symtn.rule(-symtn.max(-x, "i"), symtn.min(x, "i"), patterns=[x], name="neg")
    assert isinstance(r, symtn.Rule) and not r.assumption and r.name == "neg"
    W = symtn.tensor("W", o=n, i=n)
    h = symtn.tensor("h", i=n)
    e = -symtn.max(-(W @ h), "o")
    out = symtn.simplify(e, rules=[r])
    assert "min[" in str(out) and out.legset == frozenset()
    rng = np.random.default_rng(4)
    Wv, hv = _rand(rng, n, n), _rand(rng, n)
    got = symtn.evaluate(out, {"W": Wv, "h": hv})
    assert float(got) == pytest.approx(float(np.min(np.einsum("oi,i->o", Wv, hv))))
    with pytest.raises(symtn.SymtnError) as info:
        symtn.simplify(e, rules=["neg"])  # type: ignore[list-item]
    assert info.value.code == "E214"


def test_non_terminating_rules_stop_with_e215() -> None:
    src = (
        HEAD
        + "rule ping(x: [i]): tanh(x) => 2 * sigmoid(2 * x) - 1\n"
        + "rule pong(x: [i]): 2 * sigmoid(2 * x) - 1 => tanh(x)\n"
    )
    prog = symtn.parse(src)
    e = symtn.tanh(prog.tensors["W"] @ prog.tensors["h"])
    with pytest.raises(symtn.SymtnError) as info:
        symtn.simplify(e, rules=_all(prog))
    assert info.value.code == "E215" and "fixpoint" in info.value.message
    err = _error(src + "e = simplify(tanh(W @ h))\n")
    assert err.code == "E215" and err.span is not None and err.span.line == 9


def test_rule_undone_by_builtins_is_not_a_loop() -> None:
    # a commutation re-creates its left side after canonical ordering: it never "fires"
    prog = symtn.parse(HEAD + "rule comm(A: [o, i], x: [i]): A @ x => x @ A\ne = simplify(W @ h)\n")
    assert symtn.is_isomorphic(prog["e"], symtn.simplify(prog.tensors["W"] @ prog.tensors["h"]))


# ------------------------------------------------------------------ example and CLI
def test_bundled_example_runs(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["run", str(EXAMPLE)]) == 0
    out = capsys.readouterr().out
    assert "FAIL" not in out and "tanh(W[j, a] @ h[a])" in out
    prog = symtn.load(EXAMPLE)
    assert set(prog.rules) == {"kron", "fns", "orth", "prob", "quad", "had"}


def test_cli_simplify_with_rule_groups(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["simplify", str(EXAMPLE), "H", "--rules", "prob"]) == 0
    with_rule = capsys.readouterr().out
    assert with_rule.startswith("H = ") and "y[" not in with_rule
    assert main(["simplify", str(EXAMPLE), "H", "--rules", ""]) == 0
    assert "y[" in capsys.readouterr().out
    assert main(["simplify", str(EXAMPLE), "H"]) == 0  # default: all of the file's rules
    assert "y[" not in capsys.readouterr().out
    assert main(["simplify", str(EXAMPLE), "H", "--rules", "prb"]) == 2
    err = capsys.readouterr().err
    assert "E101" in err and "did you mean prob?" in err


def test_pattern_tensor_binding_is_a_declared_form() -> None:
    x = symtn.tensor("x", i=3)
    r = symtn.rule(symtn.exp(-x), 1 / symtn.exp(x), patterns=[x], name="e")
    assert r.patterns == (x,) and isinstance(r.patterns[0], Tensor)


def test_rule_stated_for_size_n_applies_at_other_sizes() -> None:
    prog = symtn.parse(
        HEAD
        + "V : [a, o]\n"
        + "rule sm(x: [i]): sum[i](softmax[i](x)) => 1\n"
        + "rule neg(x: [i]): -max[i](-x) => min[i](x)\n"
        + "e = simplify(sum[a](softmax[a](V @ h[i -> o])) * h)\n"
        + "f = simplify(-max[a](-(V @ h[i -> o])))\n"
    )
    assert prog["e"] is prog.tensors["h"]  # the softmax over a (size m) summed to 1
    assert "min[" in str(prog["f"]) and "max" not in str(prog["f"])
    # a rule whose sizes are fixed by a declared tensor does not generalise
    fixed = symtn.parse(HEAD + "rule pos: sum(u) => 1\nv : [o]\ne = simplify(sum(v))\n")
    assert "v" in _names(fixed["e"])


def test_declared_symmetric_tensor_matches_up_to_its_symmetry() -> None:
    src = """dim n
leg i, j : n
S : [i, j] symmetric(i, j)
x : [i]
rule q: S @ x => x[i -> j]
e1 = simplify(S[i, j] @ x[j])
e2 = simplify(S[j, i] @ x[j])
"""
    prog = symtn.parse(src)
    x = prog.tensors["x"]
    assert prog["e1"] is x and prog["e2"] is x
    assert prog.rules["q"][0].assumption


def test_numeric_fallback_tests_the_sides_the_value_constraint_rewrote() -> None:
    """``tanh`` against ``2 sigmoid(2 z) - 1`` is decided numerically; with ``sum(y) => 1`` random draws of
    ``y`` would break ``tanh(sum(y)) == tanh(1)``, so the fallback evaluates the rewritten sides."""
    src = "dim C\nleg s : C\ny, z : [s]\nrule prob: sum(y) => 1\n"
    prog = symtn.parse(src + "check tanh(sum(y)) * tanh(z) == tanh(1) * (2 * sigmoid(2 * z) - 1)\n")
    (outcome,) = prog.check_all()
    assert outcome.result.holds and outcome.result.method == "numeric"
    prog = symtn.parse(src + "check tanh(sum(y)) * tanh(z) == tanh(2) * (2 * sigmoid(2 * z) - 1)\n")
    (outcome,) = prog.check_all()
    assert not outcome.result.holds  # still refuted: tanh(1) != tanh(2)
