"""Seeded random expressions: simplify keeps legs and values, printing round-trips, and
derivatives agree with central finite differences."""

from __future__ import annotations

import numpy as np
import pytest

import symtn
from symtn.frontend.exprs import choose_new_legs
from symtn.ir.printer import declarations, to_notation
from symtn.ir.walk import tensors
from tests.exprgen import SIZES, random_expr, random_values

SEEDS = list(range(40))


def _eval(node, vals):  # type: ignore[no-untyped-def]
    return symtn.evaluate(node, vals, sizes={s.name: v for s, v in SIZES.items()})


@pytest.mark.parametrize("seed", SEEDS)
def test_simplify_preserves_legs_and_value(seed: int) -> None:
    rng = np.random.default_rng(seed)
    e = random_expr(rng)
    s = symtn.simplify(e)
    assert dict(s.sig) == dict(e.sig), f"seed {seed}"
    vals = random_values(rng)
    np.testing.assert_allclose(
        symtn.evaluate(s, vals, order=e.legs, sizes={k.name: v for k, v in SIZES.items()}),
        _eval(e, vals),
        rtol=1e-9,
        atol=1e-12,
        err_msg=f"seed {seed}: {e}",
    )


@pytest.mark.parametrize("seed", SEEDS)
def test_print_parse_round_trip(seed: int) -> None:
    rng = np.random.default_rng(seed)
    e = symtn.simplify(random_expr(rng))
    text = declarations(e) + f"y = {to_notation(e)}\n"
    back = symtn.parse(text).bindings["y"]
    assert dict(back.sig) == dict(e.sig), f"seed {seed}"
    assert symtn.is_isomorphic(symtn.simplify(back), e), f"seed {seed}:\n{text}"


@pytest.mark.parametrize("seed", SEEDS[:25])
def test_derivative_matches_finite_differences(seed: int) -> None:
    rng = np.random.default_rng(seed)
    e = random_expr(rng)
    present = tensors(e)  # every generated expression has at least one tensor leaf
    var = present[int(rng.integers(len(present)))]
    g = symtn.diff(e, var)
    vals = random_values(rng)
    order = e.legs + choose_new_legs(e.legset, tuple(s for s, _ in var.slots))
    got = symtn.evaluate(g, vals, order=order, sizes={k.name: v for k, v in SIZES.items()})
    base = vals[var.name]
    fd = np.zeros(got.shape)
    h = 1e-6
    for idx in np.ndindex(base.shape):
        old = base[idx]
        base[idx] = old + h
        up = _eval(e, vals)
        base[idx] = old - h
        down = _eval(e, vals)
        base[idx] = old
        fd[(...,) + idx] = (up - down) / (2 * h)
    np.testing.assert_allclose(got, fd, rtol=1e-5, atol=1e-7, err_msg=f"seed {seed}: d({e})/d({var.name})")
