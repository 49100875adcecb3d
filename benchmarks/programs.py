"""The symtn programs and hand-written numpy references that the benchmarks compare."""

from __future__ import annotations

import numpy as np

QUAD = """
dim n
leg i, j : n
x: [i]
A: [i, j] const
f = x @ A @ x[i -> j]
g = d(f)/d(x)
H = d(g)/d(x)
"""

TANH = """
dim m, n
A: [m, n] const
x: [n]
f = sum(tanh(A @ x))
g = d(f)/d(x)
H = d(g)/d(x)
"""

LOGREG = """
dim b, n
X: [b, n] const
y: [b] const
w: [n]
z = X @ w
loss = sum(log(1 + exp(z)) - y * z)
g = d(loss)/d(w)
H = d(g)/d(w)
"""

LSE = """
dim V
z: [V]
f = logsumexp[V](z)
g = d(f)/d(z)
H = d(g)/d(z)
"""

MLP = """
dim b, inp = 64, hid = 128, cls = 10
X: [b, inp] const
Y: [b, cls] const
W1: [hid, inp]; b1: [hid]
W2: [cls, hid]; b2: [cls]
h = tanh(W1 @ X + b1)
logits = W2 @ h + b2
loss = -sum(Y * log_softmax[cls](logits)) / |b|
gW1 = d(loss)/d(W1)
gb1 = d(loss)/d(b1)
gW2 = d(loss)/d(W2)
gb2 = d(loss)/d(b2)
"""


def tanh_net(layers: int) -> str:
    """An L-layer tanh net ``h_k = tanh(W_k @ h_{k-1})`` with the gradient of ``sum(h_L^2)``
    by every weight."""
    lines = ["dim d = 16", "leg o, i : d", "x: [i] const"]
    lines += [f"W{k}: [o, i]" for k in range(1, layers + 1)]
    prev = "x"
    for k in range(1, layers + 1):
        lines.append(f"h{k} = tanh(W{k} @ {prev})")
        prev = f"h{k}[o -> i]"
    lines.append(f"loss = sum(h{layers}^2)")
    lines += [f"g{k} = d(loss)/d(W{k})" for k in range(1, layers + 1)]
    return "\n".join(lines) + "\n"


# ----------------------------------------------------------------- hand-written numpy references


def quad_hessian(A: np.ndarray) -> np.ndarray:
    return A + A.T


def tanh_hessian(A: np.ndarray, x: np.ndarray) -> np.ndarray:
    t = np.tanh(A @ x)
    w = -2.0 * t * (1.0 - t * t)
    return (A.T * w) @ A


def logreg_hessian(X: np.ndarray, w: np.ndarray) -> np.ndarray:
    p = 1.0 / (1.0 + np.exp(-(X @ w)))
    return X.T @ ((p * (1.0 - p))[:, None] * X)


def lse_hessian(z: np.ndarray) -> np.ndarray:
    e = np.exp(z - z.max())
    p = e / e.sum()
    return np.diag(p) - np.outer(p, p)


def mlp_loss_grads(
    X: np.ndarray, Y: np.ndarray, W1: np.ndarray, b1: np.ndarray, W2: np.ndarray, b2: np.ndarray
) -> tuple[float, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Forward and backward of the MLP by hand (batch rows of X and Y)."""
    n = X.shape[0]
    h = np.tanh(X @ W1.T + b1)
    logits = h @ W2.T + b2
    m = logits.max(axis=1, keepdims=True)
    lse = np.log(np.exp(logits - m).sum(axis=1, keepdims=True)) + m
    logp = logits - lse
    loss = -np.sum(Y * logp) / n
    dlogits = (np.exp(logp) * Y.sum(axis=1, keepdims=True) - Y) / n
    gW2 = dlogits.T @ h
    gb2 = dlogits.sum(axis=0)
    dz = (dlogits @ W2) * (1.0 - h * h)
    return loss, dz.T @ X, dz.sum(axis=0), gW2, gb2


# ----------------------------------------------------------------- autodiff baselines (optional)


def jax_cases() -> dict[str, object] | None:
    """jit-compiled jax Hessians / value_and_grad for each case, or None without jax."""
    try:
        import jax
        import jax.numpy as jnp
    except ImportError:
        return None
    jax.config.update("jax_enable_x64", True)

    def mlp_loss(params, X, Y):  # type: ignore[no-untyped-def]
        W1, b1, W2, b2 = params
        h = jnp.tanh(X @ W1.T + b1)
        return -jnp.sum(Y * jax.nn.log_softmax(h @ W2.T + b2, axis=1)) / X.shape[0]

    return {
        "quad": jax.jit(jax.hessian(lambda x, A: x @ A @ x)),
        "tanh": jax.jit(jax.hessian(lambda x, A: jnp.sum(jnp.tanh(A @ x)))),
        "logreg": jax.jit(jax.hessian(lambda w, X, y: jnp.sum(jnp.logaddexp(0.0, X @ w) - y * (X @ w)))),
        "lse": jax.jit(jax.hessian(jax.scipy.special.logsumexp)),
        "mlp": jax.jit(jax.value_and_grad(mlp_loss)),
    }


def torch_cases() -> dict[str, object] | None:
    """torch.func Hessians / autograd for each case, or None without torch."""
    try:
        import torch
        from torch.func import grad_and_value, hessian
    except ImportError:
        return None

    def mlp_loss(params, X, Y):  # type: ignore[no-untyped-def]
        W1, b1, W2, b2 = params
        h = torch.tanh(X @ W1.T + b1)
        return -torch.sum(Y * torch.log_softmax(h @ W2.T + b2, dim=1)) / X.shape[0]

    return {
        "quad": hessian(lambda x, A: x @ A @ x),
        "tanh": hessian(lambda x, A: torch.sum(torch.tanh(A @ x))),
        "logreg": hessian(lambda w, X, y: torch.sum(torch.nn.functional.softplus(X @ w) - y * (X @ w))),
        "lse": hessian(lambda z: torch.logsumexp(z, 0)),
        "mlp": grad_and_value(mlp_loss),
    }
