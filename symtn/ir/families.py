"""Index families in the IR: the chain of copies of a tensor (``chain(G, bond=a, sites=1..N)``).

See :func:`chain`; the notation's form and its errors are in ``symtn.frontend.families``.
"""

from __future__ import annotations

from collections.abc import Iterable

from symtn.errors import LegError
from symtn.ir.composite import Product
from symtn.ir.leaves import Tensor
from symtn.ir.nodes import Node


def site(g: Tensor, bond: str, k: int) -> Tensor:
    """Site ``k`` of the family of ``g``: the variable ``{g}{k}`` with legs ``bond -> bond{k-1}``,
    ``bond' -> bond{k}`` and every other leg ``s -> s{k}`` (sizes and facts as ``g``'s)."""
    left, right = bond, bond + "'"
    if left not in g.legs or right not in g.legs:
        raise LegError(
            f"chain: {g.name} [{', '.join(g.legs)}] needs the bond legs {left} (left) and {right} (right)",
            code="E220",
        )
    names = {left: f"{left}{k - 1}", right: f"{left}{k}"}
    legs = tuple(names.get(leg, f"{leg}{k}") for leg in g.legs)
    slots = tuple((leg, size) for leg, (_, size) in zip(legs, g.sig, strict=True))
    return Tensor(f"{g.name}{k}", slots, legs, g.facts)


def chain(g: Tensor, bond: str, sites: Iterable[int]) -> Node:
    """The chain ``G1 @ G2 @ ... @ GN`` of copies of ``g`` joined by their bonds.

    Args:
        g: a tensor with a left bond leg ``bond``, a right bond leg ``bond'`` and other legs,
            e.g. ``G: [a, s, a']`` (bond dimension ``|a|``, physical dimension ``|s|``).
        bond: the left bond leg's name.
        sites: the site numbers ``k`` in order, consecutive (``range(1, N + 1)``).

    Returns:
        The network of the site variables ``G{k}`` (legs ``a{k-1}, s{k}, a{k}``): an open-boundary
        matrix product state with free legs ``a{first-1}, s{first}, ..., s{last}, a{last}``.

    Raises:
        LegError: E220 for a missing bond leg or an empty or non-consecutive range.

    Source: Oseledets, "Tensor-train decomposition", SIAM J. Sci. Comput. 33(5), 2011.
    """
    ks = list(sites)
    if not ks or ks != list(range(ks[0], ks[0] + len(ks))):
        raise LegError(f"chain: sites must be consecutive and non-empty, got {ks}", code="E220")
    tensors = [site(g, bond, k) for k in ks]
    return Product(*tensors) if len(tensors) > 1 else tensors[0]
