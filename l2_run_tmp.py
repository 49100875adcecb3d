import symtn, time
from symtn.lower.latex import binding_latex
p = symtn.load('/tmp/l2_nat.stn')
for n in p.bindings:
    t=time.time()
    for form in ['auto', 'index']:
        print(n, form, binding_latex(p, n, form)[:300], round(time.time()-t,2))
