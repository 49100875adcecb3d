"""scikit-learn's handwritten digits for the demos, and the text of bundled example programs.

``load_digits_split`` gives the 1,797 8x8 images scaled to [0, 1] (pixels ``[n, 64]``) with a
fixed stratified 75/25 split; ``one_hot`` the labels as ``[n, classes]``. Used by ``symtn demo``
(digits) and the similarity demos (backdoor, forgetting).
"""

from __future__ import annotations

from importlib import resources

import numpy as np

__all__ = ["bundled", "load_digits_split", "one_hot"]


def bundled(name: str) -> str:
    """The text of a bundled example program."""
    return resources.files("symtn").joinpath("examples", name).read_text(encoding="utf-8")


def load_digits_split(seed: int = 0) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Digits scaled to [0, 1], split 75/25 with a fixed, stratified shuffle."""
    from sklearn.datasets import load_digits
    from sklearn.model_selection import train_test_split

    data = load_digits()
    x = data.data.astype(np.float64) / 16.0
    y = data.target
    xtr, xte, ytr, yte = train_test_split(x, y, test_size=0.25, random_state=seed, stratify=y)
    return xtr, xte, ytr, yte


def one_hot(y: np.ndarray, k: int = 10) -> np.ndarray:
    out = np.zeros((len(y), k))
    out[np.arange(len(y)), y] = 1.0
    return out
