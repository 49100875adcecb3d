"""Index families: ``chain(G, bond=a, sites=1..N)``, the N-site chain of copies of a tensor.

``G`` is a declared tensor with a left bond leg ``a``, a right bond leg ``a'`` and any other
(physical) legs, e.g. ``G: [a, s, a']``. Site ``k`` is a new tensor variable ``G{k}`` (``G1``,
``G2``, ...) whose legs are computed from ``k``: ``a -> a{k-1}``, ``a' -> a{k}``, every other
leg ``s -> s{k}``. Neighbouring sites share their bond, so the chain is the network
``G1 @ G2 @ ... @ GN`` with free legs ``a0, s1, ..., sN, aN`` (an open-boundary matrix product
state; wire the ends to close it). The site tensors are declared by the chain and can be used
by name afterwards (``d(f)/d(G2)``); arrays for them follow the slot order of ``G``.

Errors (E220, with the caret on the offending argument): a first argument that is not a declared
tensor, a bond leg ``G`` lacks (or its primed twin), an empty or unknown range, a site name that
is already something else. An index range ``1..N`` anywhere else is E220 too.

Source: the tensor-train / MPS chain (Oseledets 2011; Schollwoeck 2011, sec. 4.1).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from symtn.errors import LegError, SymtnError
from symtn.frontend import ast
from symtn.frontend.scope import Env, Value
from symtn.ir.composite import Product
from symtn.ir.families import chain
from symtn.ir.leaves import Tensor

if TYPE_CHECKING:
    from symtn.frontend.exprs import ExprResolver

E_FAMILY = "E220"
FORM = "write chain(G, bond=a, sites=1..N) with G: [a, ..., a'] declared"


def _error(r: ExprResolver, message: str, at: ast.Expr | None, e: ast.Call) -> SymtnError:
    pos = at.pos if at is not None else e.pos  # type: ignore[union-attr]
    return LegError(message, code=E_FAMILY, span=r.diag.span(pos), help=FORM)  # type: ignore[arg-type]


def _sites(r: ExprResolver, env: Env, rng: ast.Expr | None, e: ast.Call) -> range:
    if not isinstance(rng, ast.Range):
        raise _error(r, "chain: sites must be an index range like 1..4 or 1..N", rng, e)
    last_text = rng.last
    if last_text.isdigit():
        last = int(last_text)
    else:
        size = env.dims.get(last_text)
        if size is None or not size.is_Integer:
            raise _error(r, f"chain: the range end {last_text} is not a dim with a value "
                         f"(declare dim {last_text} = 4)", rng, e)
        last = int(size)
    if last < rng.first:
        raise _error(r, f"chain: the range {rng.first}..{last_text} is empty", rng, e)
    return range(rng.first, last + 1)


def resolve_chain(r: ExprResolver, env: Env, e: ast.Call) -> Value:
    """``chain(G, bond=a, sites=1..N)`` (see the module docstring)."""
    kwargs = dict(e.kwargs)
    if len(e.args) != 1 or set(kwargs) != {"bond", "sites"}:
        raise _error(r, "chain takes one tensor and the keywords bond= and sites=", None, e)
    g_arg, bond_arg = e.args[0], kwargs["bond"]
    found = env.lookup_value(g_arg.name) if isinstance(g_arg, ast.Ref) and not g_arg.legs else None
    if found is None or not isinstance(found.node, Tensor):
        raise _error(r, "chain: the first argument must be a declared tensor", g_arg, e)
    g = found.node
    if not isinstance(bond_arg, ast.Ref) or bond_arg.legs:
        raise _error(r, "chain: bond= names a leg of the tensor", bond_arg, e)
    left, right = bond_arg.name, bond_arg.name + "'"
    if left not in g.legs or right not in g.legs:
        raise _error(r, f"chain: {g.name} [{', '.join(g.legs)}] needs the bond legs {left} (left) and "
                     f"{right} (right)", bond_arg, e)
    sites = _sites(r, env, kwargs["sites"], e)
    root = env.root()
    node = chain(g, left, sites)
    tensors = [t for t in (node.args if isinstance(node, Product) else (node,)) if isinstance(t, Tensor)]
    for site in tensors:
        before = root.values.get(site.name)
        if before is not None and before.node is not site:
            raise _error(r, f"chain: site {site.name} is already declared as something else", g_arg, e)
        root.values[site.name] = Value(site, site.legs, site.name)
    order = tuple(leg for t in tensors for leg in t.legs if leg in node.legset)
    return r._relabels(env, Value(node, order), e.relabels, "chain(...)")
