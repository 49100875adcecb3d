import cProfile, pstats, symtn
x = symtn.tensor("x", ("i", 4)); A = symtn.tensor("A", ("i", 4), ("j", 4))
mu = symtn.tensor("mu", ("i", 4)); C = symtn.tensor("C", ("i", 4), ("i'", 4), facts=[("symmetric", (("i",), ("i'",)))])
q = x @ A @ x.rename({"i": "j"})
e = q * q * q * q
cProfile.run("symtn.expectation(e, x, mu, C)", "/tmp/prof")
pstats.Stats("/tmp/prof").sort_stats("cumulative").print_stats(25)
