import symtn
from symtn.rewrite import simplify
from symtn.lower.latex.mconvert import convert
from symtn.lower.latex.mtree import Func, Diag, MatMul
q = symtn.load('/tmp/l2_t2.stn')
it = convert(simplify(q['H1']))
m = it.m
print(type(m).__name__)
def show(m, d=0):
    print(' '*d, type(m).__name__, getattr(m, 'fn', ''), getattr(m,'name',''))
    for k, v in vars(m).items():
        if isinstance(v, tuple):
            for x in v:
                if hasattr(x, 'shape'): show(x, d+2)
        elif hasattr(v, 'shape'): show(v, d+2)
show(m)
f = m.factors[1].x
a, b = f.ops
print(repr(a)); print(repr(b)); print(a.fn == b.fn, a.ops == b.ops, [s.assumptions0 for s in a.fn.free_symbols], [s.assumptions0 for s in b.fn.free_symbols])
