"""Numeric fitting for the decompositions: truncated SVD, HOSVD/HOOI and CP-ALS in numpy.

CP and Tucker use tensorly when it is installed (``pip install symtn[interp]``) and fall back to
the short numpy algorithms below otherwise. Sources: Kolda & Bader, "Tensor Decompositions and
Applications", SIAM Review 51(3), 2009 (CP-ALS sec. 3.4, HOSVD/HOOI sec. 4.2); De Lathauwer, De
Moor & Vandewalle, "A multilinear singular value decomposition", SIMAX 21(4), 2000.
"""

from __future__ import annotations

from typing import Any

import numpy as np


def truncation_rank(s: np.ndarray, rank: int | None, tol: float | None, budget: float) -> int:
    """The kept rank: ``rank`` if given, else the fewest values with discarded norm <= ``tol * budget``.

    Args:
        s: singular values, descending.
        rank: a fixed rank (clipped to ``len(s)``), or None.
        tol: the allowed Frobenius norm of the discarded values, relative to ``budget``.
        budget: the scale of ``tol`` (e.g. the norm of the whole tensor).
    """
    if rank is not None:
        if rank < 1:
            raise ValueError(f"rank must be positive, got {rank}")
        return min(rank, len(s))
    if tol is None:
        return max(1, int(np.count_nonzero(s > s[0] * 1e-14))) if s.size and s[0] > 0 else 1
    tail = np.sqrt(np.cumsum((s**2)[::-1]))[::-1]  # tail[r] = norm of s[r:]
    ok = np.nonzero(tail <= tol * budget)[0]
    return int(max(1, ok[0])) if ok.size else len(s)


def fix_signs(u: np.ndarray, vt: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Fix the SVD gauge: the largest-magnitude entry of each left vector is positive."""
    idx = np.argmax(np.abs(u), axis=0)
    sign = np.sign(u[idx, np.arange(u.shape[1])])
    sign[sign == 0] = 1.0
    return u * sign, vt * sign[:, None]


def unfold(x: np.ndarray, mode: int) -> np.ndarray:
    """The mode-``mode`` unfolding: axis ``mode`` first, the others flattened in C order."""
    return np.moveaxis(x, mode, 0).reshape(x.shape[mode], -1)


def mode_product(x: np.ndarray, m: np.ndarray, mode: int) -> np.ndarray:
    """Contract axis ``mode`` of ``x`` with the columns of ``m`` (``m[new, old]``)."""
    return np.moveaxis(np.tensordot(m, x, axes=(1, mode)), 0, mode)


Factors = list[np.ndarray]


def tucker_numpy(x: np.ndarray, ranks: tuple[int, ...], n_iter: int = 20) -> tuple[np.ndarray, Factors]:
    """HOSVD initialisation refined by HOOI sweeps; factors have orthonormal columns."""
    factors = []
    for mode, r in enumerate(ranks):
        u, _, _ = np.linalg.svd(unfold(x, mode), full_matrices=False)
        factors.append(u[:, :r])
    for _ in range(n_iter):
        for mode, r in enumerate(ranks):
            y = x
            for other, f in enumerate(factors):
                if other != mode:
                    y = mode_product(y, f.T, other)
            u, _, _ = np.linalg.svd(unfold(y, mode), full_matrices=False)
            factors[mode] = u[:, :r]
    core = x
    for mode, f in enumerate(factors):
        core = mode_product(core, f.T, mode)
    return core, factors


def _khatri_rao(mats: list[np.ndarray]) -> np.ndarray:
    out = mats[0]
    for m in mats[1:]:
        out = (out[:, None, :] * m[None, :, :]).reshape(-1, m.shape[1])
    return out


def cp_numpy(
    x: np.ndarray, rank: int, n_iter: int = 500, tol: float = 1e-12, seed: int = 0
) -> tuple[np.ndarray, list[np.ndarray]]:
    """CP by alternating least squares from an HOSVD-based start; returns (weights, unit factors)."""
    rng = np.random.default_rng(seed)
    factors = []
    for mode in range(x.ndim):
        u, _, _ = np.linalg.svd(unfold(x, mode), full_matrices=False)
        f = rng.standard_normal((x.shape[mode], rank))
        k = min(rank, u.shape[1])
        f[:, :k] = u[:, :k]
        factors.append(f)
    norm = float(np.linalg.norm(x))
    last = np.inf
    for _ in range(n_iter):
        for mode in range(x.ndim):
            others = [factors[m] for m in range(x.ndim) if m != mode]
            gram = np.ones((rank, rank))
            for f in others:
                gram *= f.T @ f
            rhs = unfold(x, mode) @ _khatri_rao(others)
            factors[mode] = np.linalg.lstsq(gram, rhs.T, rcond=None)[0].T
        approx = np.einsum(",".join(f"{chr(97 + m)}z" for m in range(x.ndim)) + "->" + "".join(
            chr(97 + m) for m in range(x.ndim)), *factors)
        err = float(np.linalg.norm(x - approx) / norm)
        if abs(last - err) < tol:
            break
        last = err
    weights = np.ones(rank)
    for i, f in enumerate(factors):
        n = np.linalg.norm(f, axis=0)
        n[n == 0] = 1.0
        factors[i] = f / n
        weights = weights * n
    return weights, factors


def cp_tensorly(x: np.ndarray, rank: int, n_iter: int, seed: int) -> tuple[np.ndarray, list[np.ndarray]]:
    """CP by tensorly's ``parafac`` (SVD start, normalised factors)."""
    from tensorly.decomposition import parafac

    res: Any = parafac(x, rank, n_iter_max=n_iter, init="svd", tol=1e-12, normalize_factors=True,
                       random_state=seed)
    return np.asarray(res[0]), [np.asarray(f) for f in res[1]]


def tucker_tensorly(x: np.ndarray, ranks: tuple[int, ...], n_iter: int) -> tuple[np.ndarray, Factors]:
    """Tucker by tensorly's HOOI (``tucker`` with an SVD start)."""
    from tensorly.decomposition import tucker

    res: Any = tucker(x, rank=list(ranks), n_iter_max=n_iter, init="svd", tol=1e-12)
    return np.asarray(res[0]), [np.asarray(f) for f in res[1]]


def has_tensorly() -> bool:
    """Whether tensorly can be imported."""
    try:
        import tensorly  # noqa: F401
    except ImportError:
        return False
    return True
