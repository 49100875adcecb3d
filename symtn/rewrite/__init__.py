"""Rewriting: named rules, canonical form and isomorphism, ``simplify`` and ``expand``."""

from symtn.rewrite.canonical import canonical_key, is_isomorphic
from symtn.rewrite.factor import factor
from symtn.rewrite.simplify import expand, simplify, strip_frozen

__all__ = ["canonical_key", "expand", "factor", "is_isomorphic", "simplify", "strip_frozen"]
