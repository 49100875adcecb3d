"""``symtn demo``: train a digits classifier whose gradients all come from symtn.

The loss is written in the bundled program ``examples/digits_mlp.stn``. symtn derives the four
gradients symbolically and the numpy backend evaluates them; training is full-batch gradient
descent on scikit-learn's bundled 8x8 handwritten digits (1,797 real images, 10 classes).
"""

from __future__ import annotations

import time
from collections.abc import Callable

import numpy as np

from symtn.interp.digits import bundled, load_digits_split, one_hot
from symtn.ir.walk import preorder
from symtn.lower import evaluate, evaluate_many
from symtn.program import Program, parse

PARAMS = ("W1", "b1", "W2", "b2")
GRADS = {"W1": "gW1", "b1": "gb1", "W2": "gW2", "b2": "gb2"}


def init_params(hidden: int, pixels: int, classes: int, seed: int = 0) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(seed)
    return {
        "W1": rng.standard_normal((hidden, pixels)) / np.sqrt(pixels),
        "b1": np.zeros(hidden),
        "W2": rng.standard_normal((classes, hidden)) / np.sqrt(hidden),
        "b2": np.zeros(classes),
    }


def gradient_fd_error(
    loss: Callable[[dict[str, np.ndarray]], float],
    grads: dict[str, np.ndarray],
    params: dict[str, np.ndarray],
    eps: float = 1e-6,
    samples: int = 120,
    seed: int = 0,
) -> float:
    """Relative error ||g - g_fd|| / ||g_fd|| against central finite differences.

    Every entry of the biases and of W2, and ``samples`` random entries of W1, are checked.
    """
    rng = np.random.default_rng(seed)
    num, den = 0.0, 0.0
    for name, g in grads.items():
        p = params[name]
        flat = list(range(p.size))
        if p.size > samples:
            flat = list(rng.choice(p.size, samples, replace=False))
        for k in flat:
            idx = np.unravel_index(k, p.shape)
            old = p[idx]
            p[idx] = old + eps
            up = loss(params)
            p[idx] = old - eps
            down = loss(params)
            p[idx] = old
            fd = (up - down) / (2 * eps)
            num += (g[idx] - fd) ** 2
            den += fd**2
    return float(np.sqrt(num / den))


def run(
    steps: int = 300, lr: float = 1.0, every: int = 50, hidden: int = 32, echo: Callable[[str], None] = print
) -> dict[str, float]:
    """Train and report; returns the figures (final loss, test accuracy, gradient error)."""
    t0 = time.perf_counter()
    prog: Program = parse(bundled("digits_mlp.stn"), "digits_mlp.stn")
    xtr, xte, ytr, yte = load_digits_split()
    echo(f"digits: {len(xtr)} training and {len(xte)} test images of 8x8 pixels, 10 classes")
    shown = [
        line.split("#")[0].strip()
        for line in prog.source.splitlines()
        if line.startswith(("h =", "logits", "loss ="))
    ]
    echo("model and loss from the bundled program digits_mlp.stn:\n  " + "\n  ".join(shown))
    for p in PARAMS:
        node = prog.bindings[GRADS[p]]
        echo(
            f"  {GRADS[p]} = d(loss)/d({p}): legs [{', '.join(prog.tensors[p].legs)}], "
            f"a network of {sum(1 for _ in preorder(node))} nodes derived by symtn"
        )
    params = init_params(hidden, xtr.shape[1], 10)
    data = {"X": xtr, "Y": one_hot(ytr)}
    sizes = {"batch": len(xtr), "hidden": hidden}
    loss_node = prog.bindings["loss"]
    grad_nodes = {p: prog.bindings[GRADS[p]] for p in PARAMS}

    def loss_at(ps: dict[str, np.ndarray]) -> float:
        return float(evaluate(loss_node, {**data, **ps}, sizes=sizes))

    def grads_at(ps: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        got = evaluate_many(
            {p: grad_nodes[p] for p in PARAMS},
            {**data, **ps},
            orders={p: prog.tensors[p].legs for p in PARAMS},
            sizes=sizes,
        )
        return got

    g0 = grads_at(params)
    err = gradient_fd_error(loss_at, g0, {k: v.copy() for k, v in params.items()})
    echo(f"gradient check at the start: relative error vs central finite differences = {err:.2e}")
    for step in range(steps + 1):
        if step % every == 0 or step == steps:
            echo(f"step {step:4d}  loss {loss_at(params):.4f}")
        if step == steps:
            break
        g = grads_at(params)
        for p in PARAMS:
            params[p] = params[p] - lr * g[p]
    logits_node = prog.bindings["logits"]
    test = {"X": xte, "Y": one_hot(yte), **params}
    logits = evaluate(
        logits_node, test, order=prog.order("logits"), sizes={"batch": len(xte), "hidden": hidden}
    )
    acc = float(np.mean(np.argmax(logits, axis=1) == yte))
    final = loss_at(params)
    echo(f"test accuracy: {acc:.4f} on {len(xte)} held-out images")
    echo(f"time: {time.perf_counter() - t0:.1f} s")
    return {"loss": final, "accuracy": acc, "grad_rel_error": err}
