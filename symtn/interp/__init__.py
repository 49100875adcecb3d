"""The interpretability toolkit: decompositions as networks, transformer circuits, path
expansion and network similarity (docs/interp.md)."""

from symtn.interp.decompose import Decomposition, cp, svd, tensor_train, tucker
from symtn.interp.gaussian import function_cosine, function_inner, gaussian_expectation
from symtn.interp.paths import Path, PathScore, open_heads, paths, rank_paths
from symtn.interp.similarity import batched_gram, cosine, gram, inner, norm

__all__ = [
    "Decomposition",
    "Path",
    "PathScore",
    "batched_gram",
    "cosine",
    "cp",
    "function_cosine",
    "function_inner",
    "gaussian_expectation",
    "gram",
    "inner",
    "norm",
    "open_heads",
    "paths",
    "rank_paths",
    "svd",
    "tensor_train",
    "tucker",
]
