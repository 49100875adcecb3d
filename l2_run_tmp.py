import symtn
from symtn.lower.latex import binding_latex
p = symtn.load('/tmp/l2_nat.stn')
for n in p.bindings:
    for form in ['auto', 'index']:
        print(n, form, binding_latex(p, n, form)[:200])
