"""Benchmarks of symtn's generated code against hand-written numpy (not part of `pytest tests`)."""
