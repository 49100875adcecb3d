"""The immutable, hash-consed IR of symbolic tensor networks (imports no sibling package)."""

from symtn.ir.nodes import (
    ONE,
    Bubble,
    Delta,
    Elementwise,
    Frozen,
    Iverson,
    Node,
    Product,
    Reshape,
    Shifted,
    Sum,
    Tensor,
    Zero,
)

__all__ = [
    "ONE",
    "Bubble",
    "Delta",
    "Elementwise",
    "Frozen",
    "Iverson",
    "Node",
    "Product",
    "Reshape",
    "Shifted",
    "Sum",
    "Tensor",
    "Zero",
]
