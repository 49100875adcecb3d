"""Linear centred kernel alignment (CKA) of two sets of activations.

A baseline for comparing representations, next to weight cosine and tensor similarity
(issue 15). For activations ``X`` ``[n, p]`` and ``Y`` ``[n, q]`` of the same ``n`` examples,
with columns centred,

    CKA(X, Y) = ||Y^T X||_F^2 / (||X^T X||_F ||Y^T Y||_F),

which is 1 for ``Y = X Q`` with ``Q`` orthogonal (or any isotropic scaling of it), invariant to
the order of units, and near 0 for independent random features when ``n`` is large.

Source: S. Kornblith, M. Norouzi, H. Lee, G. Hinton, "Similarity of Neural Network
Representations Revisited", ICML 2019 (equation 7 and section 3).
"""

from __future__ import annotations

import numpy as np

from symtn.errors import SizeError

__all__ = ["linear_cka"]


def linear_cka(x: np.ndarray, y: np.ndarray) -> float:
    """Linear CKA of activations ``x`` ``[n, p]`` and ``y`` ``[n, q]`` (rows are examples).

    Args:
        x: activations of the first model, one row per example.
        y: activations of the second model on the same examples (any width ``q``).

    Returns:
        A value in ``[0, 1]``; ``nan`` when either set of activations is constant.

    Raises:
        SizeError: E300 when the inputs are not 2-D or their numbers of rows differ.
    """
    x, y = np.asarray(x, dtype=np.float64), np.asarray(y, dtype=np.float64)
    if x.ndim != 2 or y.ndim != 2 or x.shape[0] != y.shape[0]:
        raise SizeError(
            f"linear_cka needs two [n, features] arrays with the same n; got shapes "
            f"{x.shape} and {y.shape}",
            code="E300",
            help="pass the activations of both models on the same examples, one row each",
        )
    x = x - x.mean(axis=0)
    y = y - y.mean(axis=0)
    # ||Y^T X||_F^2 etc.; with n < p the n x n Gram form would be cheaper, these sizes are small
    cross = float(np.sum((y.T @ x) ** 2))
    nx, ny = float(np.linalg.norm(x.T @ x)), float(np.linalg.norm(y.T @ y))
    return cross / (nx * ny) if nx > 0 and ny > 0 else float("nan")
