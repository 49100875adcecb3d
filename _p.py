import time, symtn
from symtn.rewrite.gaussian import pairing_terms, count_terms
x = symtn.tensor("x", ("i", 4)); A = symtn.tensor("A", ("i", 4), ("j", 4))
mu = symtn.tensor("mu", ("i", 4)); C = symtn.tensor("C", ("i", 4), ("i'", 4), facts=[("symmetric", (("i",), ("i'",)))])
q = x @ A @ x.rename({"i": "j"})
for k, (m, c) in [(4, (None, None)), (4, (mu, C)), (5, (None, None))]:
    e = q
    for _ in range(k - 1): e = e * q
    t = time.perf_counter(); r = symtn.expectation(e, x, m, c); dt = time.perf_counter() - t
    print(k, m is not None, len(pairing_terms(e, x, m, c).terms), count_terms(r), f"{dt:.2f}s")
