"""The interpretability toolkit: decompositions as networks, transformer circuits, path
expansion and network similarity (DESIGN.md section 2, issue 6)."""

from symtn.interp.decompose import Decomposition, cp, svd, tensor_train, tucker
from symtn.interp.paths import Path, PathScore, open_heads, paths, rank_paths

__all__ = [
    "Decomposition",
    "Path",
    "PathScore",
    "cp",
    "open_heads",
    "paths",
    "rank_paths",
    "svd",
    "tensor_train",
    "tucker",
]
