"""LaTeX output: index (Einstein) form for any network, matrix form for matrix expressions."""
