"""`check` never confirms a false identity (issue 12): exact refutation, several sizes,
term-scaled tolerance, redraws for non-finite draws and the undecided verdict."""

from __future__ import annotations

from pathlib import Path

import pytest

import symtn
from symtn.checking import EXIT_UNDECIDED, decide, size_assignments
from symtn.cli import main

HEAD = "dim n\nleg i, j, k : n\nA: [i, j]\nu: [i]\nx: [i]\n"


def outcome(line: str) -> symtn.CheckResult:
    (res,) = symtn.parse(HEAD + line).check_all()
    return res.result


@pytest.mark.parametrize(
    "line",
    [
        "check |n|^2 == 2 * |n|",
        "check E[u ~ N(0, I)]((u @ u)^2) == 2 * |n|^2",
    ],
)
def test_size_polynomials_refuted_symbolically(line: str) -> None:
    res = outcome(line)
    assert not res.holds and res.method == "symbolic"
    assert "refuted symbolically" in res.describe() and "n^2" in res.describe()


def test_gaussian_fourth_moment_truth_proved() -> None:
    res = outcome("check E[u ~ N(0, I)]((u @ u)^2) == |n|^2 + 2 * |n|")
    assert res.holds and res.method == "symbolic"


def test_cayley_hamilton_2x2_refuted_for_n_by_n() -> None:
    prog = (
        "tA = trace[i, j](A)\nA2 = A[i, k] @ A[k, j]\n"
        "check A2 - tA * A + (tA^2 - trace[i, j](A2)) / 2 * delta[i, j] == 0\n"
    )
    (res,) = symtn.parse(HEAD + prog).check_all()
    assert not res.result.holds and not res.result.undecided
    assert res.result.sizes is not None and res.result.sizes["n"] >= 3


def test_cayley_hamilton_holds_at_n_2_only() -> None:
    # the same identity with a fixed size 2 is true: the size assignments are what refutes it
    prog = (
        "leg p, q, r : 2\nB: [p, q]\ntB = trace[p, q](B)\nB2 = B[p, r] @ B[r, q]\n"
        "check B2 - tB * B + (tB^2 - trace[p, q](B2)) / 2 * delta[p, q] == 0\n"
    )
    (res,) = symtn.parse(HEAD + prog).check_all()
    assert res.result.holds


def test_tiny_difference_refuted() -> None:
    res = outcome("check 1e-9 * x == 0")
    assert not res.holds and res.method == "numeric"
    assert outcome("check 1e-9 * x == x * 1e-9").holds


def test_cancellation_inside_a_contraction_not_refuted() -> None:
    prog = "S: [i, j] antisymmetric(i, j)\ncheck u @ S @ u[i -> j] == 0\n"
    (res,) = symtn.parse(HEAD + prog).check_all()
    assert res.result.holds


@pytest.mark.parametrize(
    "line",
    [
        "check d(sum(sqrt(x - 10)))/d(x) == (x - 10)^-0.5",
        "check log(x - 100) == 0",
    ],
)
def test_singular_domains_never_verified(line: str) -> None:
    res = outcome(line)
    assert not res.holds


def test_true_identity_on_shifted_domain_verified() -> None:
    a = symtn.parse(HEAD + "y = sqrt(x - 10) * sqrt(x - 10)\nz = x - 10\n")
    res = decide(a["y"], a["z"], symbolic=False)
    assert res.holds and res.method == "numeric" and res.draws >= 3


def test_undecided_when_no_draw_is_finite() -> None:
    res = outcome("check log(-exp(x)) == x")
    assert res.undecided and not res.holds
    assert res.describe().startswith("UNDECIDED")


def test_size_assignments_vary() -> None:
    node = symtn.parse("dim m, n\nB: [i: m, j: n]\n")["B"]
    sets = size_assignments(node)
    assert len(sets) == 3
    for sym in sets[0]:
        vals = [s[sym] for s in sets]
        assert len(set(vals)) == 3 and max(vals) >= 3
    assert any(len(set(s.values())) == 2 for s in sets)


def test_numeric_message_names_draws_and_sizes() -> None:
    a = symtn.parse(HEAD + "y = exp(x) * exp(x)\nz = exp(2 * x)\n")
    msg = decide(a["y"], a["z"], symbolic=False).describe()
    assert msg.startswith("verified numerically: 6 random draws at sizes n=2,3,5"), msg


def test_cli_exit_statuses(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    def run(text: str) -> int:
        f = tmp_path / "p.stn"
        f.write_text(HEAD + text)
        return main(["run", str(f)])

    assert run("check |n|^2 == 2 * |n|\n") == 1
    assert run("check log(-exp(x)) == x\n") == EXIT_UNDECIDED == 3
    assert "1 check(s) undecided" in capsys.readouterr().out
    assert run("check log(-exp(x)) == x\ncheck 1e-9 * x == 0\n") == 1
    assert run("check x + x == 2 * x\n") == 0
    assert run("check x +\n") == 2
