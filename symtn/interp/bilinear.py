"""A bilinear digits classifier trained with symtn's generated gradients (issue 15).

The model and its loss are the bundled program ``examples/bilinear_digits.stn``: a bilinear layer
``h = (W x) * (V x)`` (``W, V: [hidden, pixel]``, no bias) and a linear head ``U: [cls, hidden]``,
so ``logits[c] = x^T Q_c x`` with ``Q_c = sum_k U[c, k] W[k]^T V[k]``. symtn derives ``gW``, ``gV``
and ``gU`` symbolically and :func:`symtn.lower.codegen.compile` turns them into one numpy function
(the evaluator of ``symtn demo digits`` gives the same values, about 100 times slower per step).

Training is minibatch AdamW (decoupled weight decay, Loshchilov & Hutter, ICLR 2019) with a small
Gaussian input noise, seeded. A batch-transform callback rewrites each minibatch before the noise
(poisoning, class curricula) and a checkpoint callback receives copies of the weights.

Sources: Pearce et al., "Bilinear MLPs enable weight-based mechanistic interpretability",
ICLR 2025; Kingma & Ba, "Adam", ICLR 2015.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

import numpy as np

from symtn.interp.digits import bundled, one_hot
from symtn.program import Program, parse

PARAMS = ("W", "V", "U")
PROGRAM = "bilinear_digits.stn"
Params = dict[str, np.ndarray]
#: ``transform(x, y, rng, step) -> (x, y)``: rewrites one minibatch (images ``[batch, pixel]``,
#: integer labels ``[batch]``) before the input noise is added.
BatchTransform = Callable[[np.ndarray, np.ndarray, np.random.Generator, int], tuple[np.ndarray, np.ndarray]]


@lru_cache(maxsize=1)
def program() -> Program:
    """The parsed bundled program ``bilinear_digits.stn`` (cached)."""
    return parse(bundled(PROGRAM), PROGRAM)


@lru_cache(maxsize=8)
def compiled(hidden: int = 32) -> Any:
    """symtn-generated numpy functions of the program for ``hidden`` units (cached namespace).

    The size is fixed at generation time so that the contraction order is planned for it: at 32
    units the inner product goes through ``[hidden, hidden]`` Gram matrices (a module generic in
    ``hidden`` picks the same plan at run time, after a check of the input shapes per call).

    Attributes used: ``all(X, Y, W, V, U) -> (loss, gW, gV, gU)``, ``logits(X, W, V, U)`` with
    legs ``[batch, cls]``, ``inner(W, V, U, W_b, V_b, U_b)`` (``E[f_c g_c]``, legs ``[cls]``) and
    ``mean_f(W, V, U)`` (``E[f_c] = tr Q_c``, legs ``[cls]``).
    """
    from types import SimpleNamespace

    from symtn.lower.codegen import compile as symtn_compile

    sizes = {"hidden": hidden}
    train_fns = symtn_compile(program(), ["loss", "gW", "gV", "gU"], sizes=sizes)
    other = symtn_compile(program(), ["logits", "inner", "mean_f"], sizes=sizes)
    return SimpleNamespace(all=train_fns.all, logits=other.logits, inner=other.inner, mean_f=other.mean_f)


def init_params(hidden: int = 32, pixels: int = 64, classes: int = 10, seed: int = 0,
                scale: float = 1.0) -> Params:
    """Gaussian initialisation: ``W, V ~ N(0, scale^2 / pixels)``, ``U ~ N(0, scale^2 / hidden)``.

    Returns:
        ``{"W": [hidden, pixels], "V": [hidden, pixels], "U": [classes, hidden]}``.
    """
    rng = np.random.default_rng(seed)
    return {
        "W": rng.standard_normal((hidden, pixels)) * scale / np.sqrt(pixels),
        "V": rng.standard_normal((hidden, pixels)) * scale / np.sqrt(pixels),
        "U": rng.standard_normal((classes, hidden)) * scale / np.sqrt(hidden),
    }


def loss_and_grads(params: Params, x: np.ndarray, y: np.ndarray) -> tuple[float, Params]:
    """Mean cross-entropy and its gradients (symtn's ``gW``, ``gV``, ``gU``).

    Args:
        params: ``W, V: [hidden, pixel]``, ``U: [cls, hidden]``.
        x: images ``[batch, pixel]``; y: integer labels ``[batch]``.
    """
    y1 = one_hot(y, params["U"].shape[0])
    loss, gw, gv, gu = compiled(params["U"].shape[1]).all(x, y1, params["W"], params["V"], params["U"])
    return float(loss), {"W": gw, "V": gv, "U": gu}


def predict(params: Params, x: np.ndarray) -> np.ndarray:
    """Predicted classes ``[batch]`` (argmax of symtn's ``logits`` binding)."""
    logits = compiled(params["U"].shape[1]).logits(x, params["W"], params["V"], params["U"])
    return np.asarray(np.argmax(logits, axis=1))


def accuracy(params: Params, x: np.ndarray, y: np.ndarray) -> float:
    """Fraction of ``x`` classified as ``y``."""
    return float(np.mean(predict(params, x) == y))


@dataclass
class AdamW:
    """AdamW state and hyper-parameters (decoupled weight decay ``wd``, applied as ``lr * wd * p``)."""

    lr: float = 0.01
    wd: float = 0.01
    beta1: float = 0.9
    beta2: float = 0.999
    eps: float = 1e-8
    t: int = 0
    m: dict[str, np.ndarray] = field(default_factory=dict)
    v: dict[str, np.ndarray] = field(default_factory=dict)

    def step(self, params: Params, grads: Params) -> None:
        """Update ``params`` in place."""
        self.t += 1
        c1, c2 = 1 - self.beta1**self.t, 1 - self.beta2**self.t
        for k, g in grads.items():
            m = self.m[k] = self.beta1 * self.m.get(k, np.zeros_like(g)) + (1 - self.beta1) * g
            v = self.v[k] = self.beta2 * self.v.get(k, np.zeros_like(g)) + (1 - self.beta2) * g * g
            params[k] -= self.lr * (m / c1 / (np.sqrt(v / c2) + self.eps) + self.wd * params[k])


def train(
    params: Params,
    x: np.ndarray,
    y: np.ndarray,
    steps: int,
    *,
    opt: AdamW | None = None,
    batch: int = 64,
    noise: float = 0.05,
    seed: int = 0,
    transform: BatchTransform | None = None,
    every: int = 0,
    on_checkpoint: Callable[[int, Params], None] | None = None,
    start: int = 0,
) -> AdamW:
    """Minibatch AdamW on the mean cross-entropy; ``params`` are updated in place.

    Args:
        params: the weights (see :func:`init_params`).
        x: training images ``[n, pixel]``; y: integer labels ``[n]``.
        steps: number of updates.
        opt: optimiser state to continue (a fresh ``AdamW()`` if None); returned.
        batch: minibatch size, drawn without replacement within each step.
        noise: standard deviation of the Gaussian noise added to every minibatch's pixels.
        seed: seeds the minibatches, the transform's generator and the noise.
        transform: rewrites each minibatch (after drawing, before the noise).
        every: call ``on_checkpoint(step, copy_of_params)`` after every ``every`` updates
            (global step ``start + k``); 0 for none.
        start: the global step of the first update minus one (for continued phases).

    Returns:
        The optimiser (its state continues a later phase).
    """
    opt = opt if opt is not None else AdamW()
    rng = np.random.default_rng(seed)
    for k in range(1, steps + 1):
        idx = rng.choice(len(x), size=min(batch, len(x)), replace=False)
        xb, yb = x[idx], y[idx]
        if transform is not None:
            xb, yb = transform(xb.copy(), yb.copy(), rng, start + k)
        if noise > 0:
            xb = xb + noise * rng.standard_normal(xb.shape)
        _, grads = loss_and_grads(params, xb, yb)
        opt.step(params, grads)
        if every and on_checkpoint is not None and k % every == 0:
            on_checkpoint(start + k, {n: p.copy() for n, p in params.items()})
    return opt
