"""The interpretability toolkit: decompositions as networks, transformer circuits, path
expansion and network similarity (DESIGN.md section 2, issue 6)."""

from symtn.interp.decompose import Decomposition, cp, svd, tensor_train, tucker

__all__ = ["Decomposition", "cp", "svd", "tensor_train", "tucker"]
