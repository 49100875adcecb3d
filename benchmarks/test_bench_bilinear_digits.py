"""One checkpoint pair of ``symtn demo backdoor`` (issue 15): 64 pixels, 32 hidden units, 10 classes.

symtn: :func:`symtn.interp.bilinear_similarity.class_inner` (the generated code of the binding
``inner = E[x ~ N(0, I)](f * g)`` of ``bilinear_digits.stn`` plus the centring by ``E[f] E[g]``).
References in the same run: the hand-written numpy Gram formula (``[hidden, hidden]`` Gram
matrices of W and V, per class) and the materialised ``[cls, pixel, pixel]`` interaction tensors.
All three are checked equal first; timings interleave them (medians).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from benchmarks.conftest import RESULTS, interleaved
from symtn.interp.bilinear import Params, init_params
from symtn.interp.bilinear_similarity import class_inner


def _gram(a: Params, b: Params) -> np.ndarray:
    """Centred E[f_c g_c] = tr(Q_a Q_b) + tr(Q_a Q_b^T) through Gram matrices of the hidden units."""
    ww, vv = a["W"] @ b["W"].T, a["V"] @ b["V"].T
    wv, vw = a["W"] @ b["V"].T, a["V"] @ b["W"].T
    return np.einsum("ck,cl,kl->c", a["U"], b["U"], ww * vv + wv * vw)


def _dense(a: Params, b: Params) -> np.ndarray:
    qa = np.einsum("ck,ki,kj->cij", a["U"], a["W"], a["V"])
    qb = np.einsum("ck,ki,kj->cij", b["U"], b["W"], b["V"])
    return np.einsum("cij,cij->c", qa, qb) + np.einsum("cij,cji->c", qa, qb)


def test_checkpoint_pair_similarity(benchmark: Any) -> None:
    a, b = init_params(seed=0), init_params(seed=1)
    got = class_inner(a, b)
    np.testing.assert_allclose(got, _gram(a, b), rtol=1e-10)
    np.testing.assert_allclose(got, _dense(a, b), rtol=1e-10)
    benchmark(lambda: class_inner(a, b))
    tg, td, ts = interleaved([lambda: _gram(a, b), lambda: _dense(a, b), lambda: class_inner(a, b)], 201)
    RESULTS.append(("backdoor demo: one checkpoint pair, 10 class inner products (64 px, 32 hidden)",
                    f"{tg * 1e6:.0f} us", f"{ts * 1e6:.0f} us", f"{ts / tg:.2f}x"))
    RESULTS.append(("  same, materialising the [cls, pixel, pixel] tensors (numpy)", f"{tg * 1e6:.0f} us",
                    f"{td * 1e6:.0f} us", f"{td / tg:.2f}x"))


def test_generic_in_hidden_against_specialised(benchmark: Any) -> None:
    """``inner`` from a module generic in ``hidden`` (no --size) against the module generated for
    hidden = 32 (the one ``class_inner`` uses): the generic module keeps a plan per size regime
    and picks the Gram-matrix plan at 32 units (it formed [cls, pixel, pixel] before)."""
    import symtn
    from symtn.interp.bilinear import compiled, program

    generic = symtn.compile(program(), ["inner"])
    special = compiled(32).inner
    a, b = init_params(seed=0), init_params(seed=1)
    args = (a["W"], a["V"], a["U"], b["W"], b["V"], b["U"])
    np.testing.assert_allclose(generic(*args), special(*args), rtol=1e-10)
    benchmark(lambda: generic(*args))
    ts, tg = interleaved([lambda: special(*args), lambda: generic(*args)], 201)
    RESULTS.append(("  inner, module generic in hidden vs generated for hidden = 32", f"{ts * 1e6:.0f} us",
                    f"{tg * 1e6:.0f} us", f"{tg / ts:.2f}x"))
