"""Fuzzing (issue 12): random programs and mutated examples never give a traceback or hang;
random true identities confirm and perturbed ones refute."""

from __future__ import annotations

import warnings
from datetime import timedelta
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import symtn
from symtn.errors import SymtnError

HEAD = (
    "dim n, m\nleg i, j, k : n\nleg p : m\n"
    "A, B: [i, j]\nS: [i, j] symmetric(i, j)\nu: [i]\nv: [j]\nw: [p]\nC: [i, p]\n"
)
ATOMS = ["A", "B", "S", "u", "v", "w", "C", "A[i, j]", "A[j, i]", "B[j, k]", "u[i -> k]", "2", "0.5", "|n|"]
UNARY = ["tanh", "exp", "sum", "softmax[i]", "log_softmax[j]", "sqrt", "log", "-"]
BINARY = [" @ ", " * ", " + ", " - ", " / ", "^"]
EXAMPLES = sorted(Path(symtn.__file__).parent.joinpath("examples").glob("*.stn")) + sorted(
    Path("/work/shared/examples").glob("*.stn")
)
FUZZ = settings(
    max_examples=12, deadline=timedelta(seconds=5), derandomize=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)


def _exprs() -> st.SearchStrategy[str]:
    return st.recursive(
        st.sampled_from(ATOMS),
        lambda sub: st.one_of(
            st.tuples(st.sampled_from(UNARY), sub).map(
                lambda t: f"-({t[1]})" if t[0] == "-" else f"{t[0]}({t[1]})"
            ),
            st.tuples(sub, st.sampled_from(BINARY), sub).map(lambda t: f"({t[0]}{t[1]}{t[2]})"),
        ),
        max_leaves=5,
    )


def _no_traceback(text: str, decide: bool) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            prog = symtn.parse(text)
            if decide:
                prog.check_all()
        except SymtnError:
            pass


@FUZZ
@given(_exprs(), _exprs())
def test_random_programs_only_symtn_errors(lhs: str, rhs: str) -> None:
    _no_traceback(HEAD + f"x = {lhs}\ny = {rhs}\ncheck x == y\n", decide=True)


@FUZZ
@given(st.sampled_from(EXAMPLES), st.integers(0, 10**6), st.sampled_from(["drop", "dup", "swap", "junk"]))
def test_mutated_examples_only_symtn_errors(path: Path, at: int, how: str) -> None:
    text = path.read_text(encoding="utf-8")
    k = at % max(len(text) - 1, 1)
    if how == "drop":
        text = text[:k] + text[k + 1 :]
    elif how == "dup":
        text = text[:k] + text[k : k + 8] + text[k:]
    elif how == "swap":
        text = text[:k] + text[k + 1 : k + 2] + text[k : k + 1] + text[k + 2 :]
    else:
        text = text[:k] + "@)[" + text[k:]
    _no_traceback(text, decide=False)


FACTORS = ["A[i, j]", "B[j, k]", "u[i]", "v[k]"]


@FUZZ
@given(st.permutations(FACTORS), st.sampled_from(["a", "b", "q"]), st.sampled_from(["c", "d", "r"]))
def test_reordered_renamed_products_confirm(order: list[str], x: str, y: str) -> None:
    renamed = [f.replace("i", x).replace("j", y) for f in order]  # bound legs i, j renamed
    text = (
        "dim n\nleg i, j, k, a, b, q, c, d, r : n\nA: [i, j]\nB: [j, k]\nu: [i]\nv: [k]\n"
        f"check {' @ '.join(FACTORS)} == {' @ '.join(renamed)}\n"
    )
    (res,) = symtn.parse(text).check_all()
    assert res.result.holds, res.result.describe()


@FUZZ
@given(
    st.sampled_from(["transpose", "coeff", "size"]),
    st.integers(1, 5),
    st.integers(1, 3),
)
def test_perturbed_identities_refute(kind: str, c: int, e: int) -> None:
    base = "u[i] @ A[i, j] @ v[j]"
    if kind == "transpose":  # A is not symmetric
        lhs, rhs = base, "u[i] @ A[j, i] @ v[j]"
    elif kind == "coeff":
        lhs, rhs = f"{c} * {base}", f"{c + 1} * {base}"
    else:
        lhs, rhs = f"|n|^{e} * {base}", f"|n|^{e + 1} * {base}"
    text = f"dim n\nleg i, j : n\nA: [i, j]\nu: [i]\nv: [j]\ncheck {lhs} == {rhs}\n"
    (res,) = symtn.parse(text).check_all()
    assert not res.result.holds and not res.result.undecided, res.result.describe()
    sym = text.replace("A: [i, j]", "A: [i, j] symmetric(i, j)")
    if kind == "transpose":
        (ok,) = symtn.parse(sym).check_all()
        assert ok.result.holds
