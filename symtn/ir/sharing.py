"""Common-subexpression sharing: ``cse(e)`` names repeated sub-expressions as let-bindings.

Nodes are hash-consed, so a sub-expression that occurs twice is one object, and the evaluators
already compute it once (``lower.numpy_backend`` memoises values by node, up to renaming of
bound legs; generated code assigns each node once). The printer, however, writes a tree: a
derivative that uses ``tanh(W @ x)`` in five places prints it five times. ``cse`` finds the
composite nodes referenced more than once and prints them once, as notation bindings::

    s1 = tanh(W[i, _1] @ x[_1])
    result = s1 * s1[i -> j] @ ...

Sub-expressions equal up to renaming of legs share one binding (``printer.notation_up_to_renaming``
is the key); a use with other leg names is a relabel ``s1[i -> j]``. The text
parses back (with ``printer.declarations``) to an expression equal to the original.
"""

from __future__ import annotations

from dataclasses import dataclass

from symtn.ir.leaves import Delta, Iverson, Reshape, Shifted, Tensor, Zero
from symtn.ir.nodes import Node, Sum
from symtn.ir.printer import ATOM, _Printer, leg_names, notation_up_to_renaming

LEAVES = (Tensor, Delta, Shifted, Iverson, Reshape, Zero)


@dataclass
class Sharing:
    """The result of :func:`cse`.

    Attributes:
        root: the expression.
        bindings: ``(name, node)`` for each shared sub-expression, in dependency order (a
            binding only uses earlier ones); each node's free legs are the binding's legs.
        uses: how many times each bound node is referenced.
    """

    root: Node
    bindings: list[tuple[str, Node]]
    uses: dict[Node, int]
    keys: dict[Node, str]

    def notation(self, name: str = "result") -> str:
        """The bindings and ``name = root`` as symtn statements, one per line."""
        names = {self.keys[node]: (n, node) for n, node in self.bindings}
        avoid = leg_names(self.root)
        for _, node in self.bindings:
            avoid |= leg_names(node) | set(_plain_legs(node).values())
        lines = []
        for n, node in self.bindings:
            text = _SharedPrinter(names, self.keys, node, avoid).pr(node, _plain_legs(node))[0]
            lines.append(f"{n} = {text}")
        lines.append(f"{name} = {_SharedPrinter(names, self.keys, None, avoid).pr(self.root, {})[0]}")
        return "\n".join(lines)


class _SharedPrinter(_Printer):
    def __init__(
        self,
        names: dict[str, tuple[str, Node]],
        keys: dict[Node, str],
        defining: Node | None,
        avoid: set[str],
    ) -> None:
        super().__init__(avoid)
        self.names = names
        self.keys = keys
        self.defining = defining

    def pr(self, node: Node, env: dict[str, str]) -> tuple[str, int]:
        key = self.keys.get(node)
        hit = self.names.get(key) if key is not None else None
        if hit is None or node is self.defining:
            return super().pr(node, env)
        name, rep = hit
        plain = _plain_legs(rep)
        moved = []
        for r, leg in zip(rep.legs, node.legs, strict=True):  # equal keys: legs correspond by position
            src, dst = plain.get(r, r), env.get(leg, leg)
            if src != dst:
                moved.append(f"{src} -> {dst}")
        return (f"{name}[{', '.join(moved)}]" if moved else name), ATOM


def _plain_legs(node: Node) -> dict[str, str]:
    """Binding leg names for ``node``'s free legs named like bound legs (``_7`` -> ``v1``), so
    they cannot meet the printer's own ``_1, _2, ...`` wire names."""
    taken = set(node.legs)
    mapping: dict[str, str] = {}
    k = 0
    for leg in node.legs:
        if leg.startswith("_"):
            k += 1
            while f"v{k}" in taken:
                k += 1
            mapping[leg] = f"v{k}"
            taken.add(mapping[leg])
    return mapping


def postorder(node: Node) -> list[Node]:
    """Every distinct node reachable from ``node``, each after all its children (no recursion)."""
    out: list[Node] = []
    done: set[int] = set()
    stack: list[tuple[Node, bool]] = [(node, False)]
    while stack:
        n, expanded = stack.pop()
        if id(n) in done:
            continue
        if expanded:
            done.add(id(n))
            out.append(n)
            continue
        stack.append((n, True))
        stack.extend((k, False) for k in reversed(n.children) if id(k) not in done)
    return out


def cse(node: Node, *, prefix: str = "s") -> Sharing:
    """Name the composite sub-expressions of ``node`` that are referenced more than once.

    Args:
        node: any IR node (usually simplified first, so equal sub-networks are equal nodes).
        prefix: binding names are ``{prefix}1``, ``{prefix}2``, ...

    Returns:
        A :class:`Sharing`; ``.notation()`` prints it as let-bindings. Leaves and scaled
        terms (``c * X``) are never bound. Linear in the size of the DAG.
    """
    order = postorder(node)  # children before parents: a binding only uses earlier ones
    keys = {
        n: notation_up_to_renaming(n)
        for n in order
        if n.children and not isinstance(n, LEAVES) and not (isinstance(n, Sum) and len(n.terms) == 1)
    }
    uses: dict[str, int] = {}
    for n in order:
        for k in n.children:
            if k in keys:
                uses[keys[k]] = uses.get(keys[k], 0) + 1
    first: dict[str, Node] = {}
    for n, key in keys.items():
        if uses.get(key, 0) >= 2:
            first.setdefault(key, n)
    shared = list(first.values())
    bindings = [(f"{prefix}{i + 1}", n) for i, n in enumerate(shared)]
    return Sharing(node, bindings, {n: uses[keys[n]] for n in shared}, keys)


__all__ = ["Sharing", "cse", "postorder"]
