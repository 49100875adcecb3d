"""The same computations written several ways (issue 11), with their closed forms.

Each ``*_PROGRAMS`` maps a formulation name to a program whose binding ``out`` is the
computation; the closed forms are hand-written numpy. Shared by
``benchmarks/test_bench_formulations.py`` (timings) and ``tests/test_lower_inline.py`` /
``tests/test_backprop.py`` (values at small sizes), so they check the same programs.
"""

from __future__ import annotations

import numpy as np

_BIL_DECL = """dim d, h
leg o, i, j : d
leg k : h
"""
_BIL_PLAIN = "Pa, Pb: [o, k]\nWa, Wb: [k, i]\nVa, Vb: [k, j]\n"

BILINEAR_PROGRAMS = {
    "bindings, * and ->": _BIL_DECL + _BIL_PLAIN + (
        "Ta = Pa * Wa * Va -> [o, i, j]\nTb = Pb * Wb * Vb -> [o, i, j]\nout = Ta @ Tb\n"
    ),
    "nested @": _BIL_DECL + _BIL_PLAIN + "out = (Pa @ (Wa * Va)) @ (Pb @ (Wb * Vb))\n",
    "named bindings, @": _BIL_DECL + _BIL_PLAIN + (
        "Sa = Pa @ (Wa * Va)\nSb = Pb @ (Wb * Vb)\nout = Sa @ Sb\n"
    ),
    "Hadamard and sum[...]": _BIL_DECL + _BIL_PLAIN + (
        "Ta = Pa * Wa * Va -> [o, i, j]\nTb = Pb * Wb * Vb -> [o, i, j]\nout = sum[o, i, j](Ta * Tb)\n"
    ),
    "const tensors": _BIL_DECL + "Pa, Pb: [o, k] const\nWa, Wb: [k, i] const\nVa, Vb: [k, j] const\n" + (
        "Ta = Pa * Wa * Va -> [o, i, j]\nTb = Pb * Wb * Vb -> [o, i, j]\nout = Ta @ Tb\n"
    ),
    "stored transposed": _BIL_DECL + "Pa, Pb: [k, o]\nWa, Wb: [i, k]\nVa, Vb: [j, k]\n" + (
        "Sa = Pa @ (Wa * Va)\nSb = Pb @ (Wb * Vb)\nout = Sa @ Sb\n"
    ),
}
"""Inner product of two bilinear layers' full tensors B[o, i, j] = P[o, k] W[k, i] V[k, j]."""

BILINEAR_TRANSPOSED = {"stored transposed"}
"""Formulations whose tensors are stored transposed ([k, o], [i, k], [j, k])."""


def bilinear_inputs(d: int, h: int, seed: int = 0) -> dict[str, np.ndarray]:
    """Two layers' P [d, h], W [h, d], V [h, d] (tensor name -> array, untransposed)."""
    rng = np.random.default_rng(seed)
    out: dict[str, np.ndarray] = {}
    for s in "ab":
        out["P" + s] = rng.standard_normal((d, h)) / np.sqrt(h)
        out["W" + s] = rng.standard_normal((h, d)) / np.sqrt(d)
        out["V" + s] = rng.standard_normal((h, d)) / np.sqrt(d)
    return out


def bilinear_args(name: str, v: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """The inputs as formulation ``name`` declares them (transposed copies where it says so)."""
    if name in BILINEAR_TRANSPOSED:
        return {k: np.ascontiguousarray(a.T) for k, a in v.items()}
    return v


def gram(v: dict[str, np.ndarray]) -> float:
    """``sum((Pa^T Pb) * (Wa Wb^T) * (Va Vb^T))``: the inner product without the [o, i, j] tensors."""
    return float(np.sum((v["Pa"].T @ v["Pb"]) * (v["Wa"] @ v["Wb"].T) * (v["Va"] @ v["Vb"].T)))


_LOG_BODY = "y: [b] const\nw: [n]\n"
LOGISTIC_PROGRAMS = {
    "X const, d(d(loss))": "dim b, n\nX: [b, n] const\n" + _LOG_BODY + (
        "z = X @ w\nloss = sum(log(1 + exp(z)) - y * z)\ng = d(loss)/d(w)\nout = d(g)/d(w)\n"
    ),
    "X not const": "dim b, n\nX: [b, n]\n" + _LOG_BODY + (
        "z = X @ w\nloss = sum(log(1 + exp(z)) - y * z)\ng = d(loss)/d(w)\nout = d(g)/d(w)\n"
    ),
    "softplus minus y @ X @ w": "dim b, n\nX: [b, n]\n" + _LOG_BODY + (
        "loss = sum(log(1 + exp(X @ w))) - y @ X @ w\nout = d(d(loss)/d(w))/d(w)\n"
    ),
    "gradient by hand (sigmoid)": "dim b, n\nX: [b, n]\n" + _LOG_BODY + (
        "g = (sigmoid(X @ w) - y) @ X\nout = d(g)/d(w)\n"
    ),
    "X stored transposed": "dim b, n\nXt: [n, b]\n" + _LOG_BODY + (
        "z = Xt @ w\nloss = sum(log(1 + exp(z)) - y * z)\nout = d(d(loss)/d(w))/d(w)\n"
    ),
}
"""Hessian of the logistic-regression loss w.r.t. the weights."""


def logistic_hessian(X: np.ndarray, w: np.ndarray) -> np.ndarray:
    """``X^T diag(s (1 - s)) X`` with ``s = sigmoid(X w)``."""
    s = 1.0 / (1.0 + np.exp(-(X @ w)))
    return X.T @ ((s * (1.0 - s))[:, None] * X)


def mps_programs(sites: int) -> dict[str, str]:
    """The overlap <psi|phi> of two open-boundary MPS of ``sites`` sites, several ways."""
    phys = [f"p{k}" for k in range(1, sites + 1)]
    decl = [
        "dim chi, two",
        f"leg {', '.join(phys)} : two",
        f"leg {', '.join(f'{b}{k}' for b in 'bc' for k in range(1, sites))} : chi",
    ]
    for k in range(1, sites + 1):
        for t, bond in (("A", "b"), ("B", "c")):
            legs = ([f"{bond}{k - 1}"] if k > 1 else []) + [f"p{k}"] + ([f"{bond}{k}"] if k < sites else [])
            decl.append(f"{t}{k}: [{', '.join(legs)}]")
    head = "\n".join(decl) + "\n"
    psi = " @ ".join(f"A{k}" for k in range(1, sites + 1))
    phi = " @ ".join(f"B{k}" for k in range(1, sites + 1))
    chain = " @ ".join(f"A{k} @ B{k}" for k in range(1, sites + 1))
    return {
        "one chain": head + f"out = {chain}\n",
        "psi @ phi from bindings": head + f"psi = {psi}\nphi = {phi}\nout = psi @ phi\n",
        "sum[...] of psi * phi": (
            head + f"psi = {psi}\nphi = {phi}\nout = sum[{', '.join(phys)}](psi * phi)\n"
        ),
    }


def mps_inputs(sites: int, chi: int, seed: int = 0) -> dict[str, np.ndarray]:
    """Site tensors A1.., B1.. ([bond, phys, bond], open ends without the outer bond)."""
    rng = np.random.default_rng(seed)
    out: dict[str, np.ndarray] = {}
    for t in "AB":
        for k in range(1, sites + 1):
            shape = ([chi] if k > 1 else []) + [2] + ([chi] if k < sites else [])
            out[f"{t}{k}"] = rng.standard_normal(shape) / np.sqrt(2 * chi)
    return out


def mps_overlap(v: dict[str, np.ndarray], sites: int) -> float:
    """The overlap by the transfer-matrix sweep (environment [b, c] site by site)."""
    env = v["A1"].T @ v["B1"]
    for k in range(2, sites):
        env = np.einsum("bc,bpd->cpd", env, v[f"A{k}"])
        env = np.einsum("cpd,cpe->de", env, v[f"B{k}"])
    return float(np.einsum("bc,bp,cp->", env, v[f"A{sites}"], v[f"B{sites}"]))


# ----------------------------------------------------------------- gradients of a scalar
MLP_FORMS = {
    "bindings": """
        h = tanh(W1 @ X + b1)
        logits: [batch, cls] = W2 @ h + b2
        loss = -sum(Y * log_softmax[cls](logits)) / |batch|
    """,
    "one expression": """
        loss = -sum(Y * log_softmax[cls](W2 @ tanh(W1 @ X + b1) + b2)) / |batch|
    """,
    "star and arrow": """
        pre = W1 * X -> [hidden, batch]
        h = tanh(pre + b1)
        logits = (W2 * h -> [cls, batch]) + b2
        loss = -sum[batch, cls](Y * (logits - logsumexp[cls](logits))) / |batch|
    """,
    "renamed copies": """
        h = tanh(W1 @ X + b1)
        hb = h[batch -> n]
        logits = (W2 @ hb + b2)[n -> batch]
        loss = -sum(Y * log_softmax[cls](logits)) / |batch|
    """,
}
MLP_HEAD = """
dim batch, pixel, hidden, cls
X: [batch, pixel] const
Y: [batch, cls] const
W1: [hidden, pixel]; b1: [hidden]
W2: [cls, hidden]; b2: [cls]
"""


def mlp_by_hand(v: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """Backpropagation written in numpy (the reference)."""
    h = np.tanh(v["X"] @ v["W1"].T + v["b1"])  # [batch, hidden]
    z = h @ v["W2"].T + v["b2"]
    s = np.exp(z - z.max(axis=1, keepdims=True))
    s /= s.sum(axis=1, keepdims=True)
    n = v["X"].shape[0]
    dz = (s * v["Y"].sum(axis=1, keepdims=True) - v["Y"]) / n
    dh = dz @ v["W2"] * (1 - h**2)
    return {"W2": dz.T @ h, "b2": dz.sum(0), "W1": dh.T @ v["X"], "b1": dh.sum(0)}
