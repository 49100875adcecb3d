"""Public differentiation API: ``diff`` (alias ``d``, ``jacobian``) and ``hessian``.

Implements the notation's derivative (docs/language.md): ``d(f)/d(X)`` has the legs of ``f``
followed by one new leg per leg of ``X`` (in ``X``'s slot order). A new leg keeps ``X``'s leg
name ``l`` unless ``l`` is a leg of ``f`` or an earlier new leg, in which case it is the first
free of ``l'``, ``l''``, ...
``d(f)/d(X[i -> p])`` (here ``diff(f, X.rename(i="p"))``) names the new legs explicitly.

Examples (``x: [i]``, ``A: [i, j]``):
    ``diff(x @ A @ x[i -> j], x)`` has legs ``[i]`` (the gradient, Matrix Cookbook eq. 81);
    ``hessian(x @ A @ x[i -> j], x)`` has legs ``[i, i']``;
    ``diff(tanh(A @ x[i -> j]), x)`` (legs ``[i]`` -> ``[i, i']``) is the Jacobian.
"""

from __future__ import annotations

from collections.abc import Sequence

from symtn.diff.rules import derivative
from symtn.diff.symmetric import constrain
from symtn.errors import LegError
from symtn.ir.depth import allow_deep_nesting
from symtn.ir.nodes import Node, Tensor
from symtn.ir.order import with_order
from symtn.ir.recipes import remember
from symtn.ir.walk import fresh, rename_legs


def _variable(wrt: object) -> Tensor:
    """The declared variable of ``wrt`` (E210 if it is not a non-const tensor)."""
    if not isinstance(wrt, Tensor):
        what = type(wrt).__name__
        shown = str(wrt) if isinstance(wrt, Node) else repr(wrt)
        raise LegError(
            f"d(...)/d({shown}): can only differentiate by a declared tensor, not a {what}",
            code="E210",
            help="differentiate by a tensor variable such as d(f)/d(W); bind sub-expressions "
            "to names only for reuse, they are not variables",
        )
    var = wrt.variable
    if var.is_const:
        raise LegError(
            f"d(...)/d({var.name}): {var.name} is const",
            code="E210",
            help="const tensors are not variables; drop `const` from the declaration to differentiate",
        )
    return var


def new_leg_names(f: Node, var: Tensor, fixed: dict[str, str] | None = None) -> tuple[str, ...]:
    """The default names of the new legs of ``d(f)/d(var)`` (docs/language.md, "Derivatives").

    Slot ``l`` gets ``l`` if that is neither a leg of ``f`` nor an earlier new leg, else the
    first free of ``l'``, ``l''``, ... Slots in ``fixed`` keep the name given there (checked by
    the caller), and those names are taken for the others.
    """
    fixed = fixed or {}
    taken = set(f.legset) | set(fixed.values())
    chosen: list[str] = []
    for slot, _ in var.slots:
        if slot in fixed:
            chosen.append(fixed[slot])
            continue
        name = slot
        while name in taken:
            name += "'"
        taken.add(name)
        chosen.append(name)
    return tuple(chosen)


def _explicit(f: Node, var: Tensor, new_legs: Sequence[str]) -> tuple[str, ...]:
    names = tuple(new_legs)
    if len(names) != len(var.slots):
        raise LegError(
            f"{var.name} has {len(var.slots)} legs [{', '.join(s for s, _ in var.slots)}] "
            f"but {len(names)} derivative leg names were given",
            code="E102",
        )
    dup = sorted({n for n in names if names.count(n) > 1})
    if dup:
        raise LegError(f"derivative leg names repeat: {', '.join(dup)}", code="E207")
    clash = [n for n in names if n in f.legset]
    if clash:
        raise LegError(
            f"derivative leg name(s) {', '.join(clash)} are already legs of the function "
            f"[{', '.join(f.legs)}]",
            code="E207",
            help="choose new names, e.g. d(f)/d(X[i -> p])",
        )
    return names


def _simplify(node: Node) -> Node:
    """``symtn.rewrite.simplify(node)`` when the rewrite package provides it, else ``node``."""
    try:
        from symtn.rewrite import simplify  # type: ignore[attr-defined]
    except ImportError as err:
        if err.name not in (None, "symtn.rewrite"):
            raise
        return node
    result: Node = simplify(node)
    return result


@allow_deep_nesting
def diff(
    f: Node,
    wrt: Node,
    new_legs: Sequence[str] | None = None,
    *,
    simplify: bool = True,
    symmetric: str | None = None,
    ordered: bool = True,
) -> Node:
    """``d(f)/d(wrt)``: the derivative of ``f`` by the tensor variable ``wrt``.

    Args:
        f: the expression, legs ``[t...]``.
        wrt: the variable ``X``, legs ``[s...]`` as declared; an occurrence with renamed legs
            (``X.rename(i="p")``, NTN's ``d f / d X*``) names the new legs of the renamed slots
            (``p``); its other slots are named by the default rule.
        new_legs: explicit names of the new legs, in ``X``'s slot order (overrides the above).
        simplify: run ``symtn.rewrite.simplify`` on the result (when available).
        symmetric: for a variable declared ``symmetric``/``antisymmetric``, the convention:
            None (default) differentiates as if unconstrained; ``"constrained"`` gives the
            derivative by the independent entries, ``G + G^T - G o I`` (Magnus & Neudecker;
            Matrix Cookbook eq. 141); ``"projected"`` gives ``(G + G^T) / 2``, the gradient on
            symmetric matrices (Srinivasan & Panda 2023). See ``symtn.diff.symmetric``.
        ordered: lay the simplified result out as ``f``'s legs then ``X``'s (below); False
            keeps ``simplify``'s canonical order (programs order bindings themselves).

    Returns:
        The derivative with legs ``[t..., s'...]``: ``f``'s legs, then one new leg per slot of
        ``X`` with that slot's size, named ``s`` or primed (``s'``, ``s''``) on a clash.
        Its value at ``t, s'`` is ``d f[t] / d X[s']`` (X unconstrained, even if symmetric).
        ``result.legs`` is exactly that order, simplified or not (``symtn.ir.order.with_order``),
        so ``evaluate(result, values)`` has ``f``'s axes then ``X``'s axes in declared order.

    Raises:
        LegError: E210 if ``wrt`` is not a tensor or is const; E207 for duplicate names or
            names already used by ``f``; E102 for the wrong number of names.
        NoRuleError: E216 for an unknown ``symmetric`` convention, or ``"constrained"`` with a
            symmetry group of more than two blocks.

    Sources: docs/language.md, "Derivatives"; NTN (arXiv 2102.13196) section 5; Matrix Cookbook section 2.
    """
    var = _variable(wrt)
    if new_legs is not None:
        names = _explicit(f, var, new_legs)
    else:  # an occurrence X[i -> p] fixes the renamed legs; the others follow the default rule
        fixed = {s: leg for (s, _), leg in zip(var.slots, wrt.legs, strict=True) if leg != s}
        _explicit(f, var, [fixed.get(s, fresh(s)) for s, _ in var.slots])
        names = new_leg_names(f, var, fixed)
    hole = tuple((slot, fresh(slot)) for slot, _ in var.slots)
    result = derivative(f, var, hole)
    result = rename_legs(result, {tmp: name for (_, tmp), name in zip(hole, names, strict=True)})
    if symmetric is not None:
        result = constrain(result, var, names, symmetric)
    if simplify:
        result = _simplify(result)
        if ordered:
            result = with_order(result, (*f.legs, *names))
    if symmetric is None:
        remember(result, f, var, names)
    return result


d = diff
jacobian = diff


def hessian(f: Node, wrt: Node, *, simplify: bool = True, symmetric: str | None = None) -> Node:
    """``d(d(f)/d(X))/d(X)``: legs ``f``'s, then ``X``'s, then ``X``'s primed (``[i, i']``).

    The first derivative is simplified before the second when ``simplify`` is true.
    An occurrence ``wrt`` is reduced to its variable (name the new legs with two ``diff`` calls).
    ``symmetric`` applies the convention of ``diff`` to both derivatives: ``"constrained"``
    gives the second partial derivatives by the independent entries ``s_ij`` (i <= j).
    """
    var = _variable(wrt)
    first = diff(f, var, simplify=simplify, symmetric=symmetric)
    return diff(first, var, simplify=simplify, symmetric=symmetric)


__all__ = ["d", "diff", "hessian", "jacobian", "new_leg_names"]
