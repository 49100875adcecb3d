"""symtn (public API assembled once all stages land)."""
