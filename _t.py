import time, itertools, symtn
c = itertools.count()
def chain(r, n=5, m=6):
    X = symtn.tensor("X", ("r", n), ("c", m))
    P = symtn.tensor(f"P{r}", ("c", m), ("c'", m)); R = symtn.tensor(f"R{r}", ("c", m), ("c'", m)); Q = symtn.tensor(f"Q{r}", ("r", n), ("r'", n))
    return symtn.contract(X.rename({"r": "r0", "c": "c0"}), P.rename({"c": "c0", "c'": "c1"}), X.rename({"r": "r1", "c": "c1"}),
        Q.rename({"r": "r1", "r'": "r2"}), X.rename({"r": "r2", "c": "c2"}), R.rename({"c": "c2", "c'": "c3"}), X.rename({"r": "r3", "c": "c3"})), X
for r in range(5):
    e, X = chain(next(c))
    t=time.perf_counter(); out = symtn.expectation(e, X); print((time.perf_counter()-t)*1e3, "ms")
print(out)
