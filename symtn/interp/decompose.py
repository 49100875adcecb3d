"""Decompositions of a numeric tensor as symtn networks: SVD, CP, Tucker and tensor train.

Each function takes a numpy array whose axes are named by ``legs`` and returns a
:class:`Decomposition`: a network of fresh tensor variables (factors with the original legs
and new bond legs; copy tensors ``Delta`` for the diagonal of the SVD and the CP core; isometry
facts on factors with orthonormal columns) and the fitted values, so that
``symtn.evaluate(d.network, d.values, order=legs)`` reconstructs the array. The network can be
simplified, differentiated and drawn like any expression.

Sources: Eckart & Young, "The approximation of one matrix by another of lower rank",
Psychometrika 1(3), 1936; Kolda & Bader, SIAM Review 51(3), 2009 (CP and Tucker); Oseledets,
"Tensor-train decomposition", SIAM J. Sci. Comput. 33(5), 2011 (TT-SVD and its error bound);
Schollwoeck, "The density-matrix renormalization group in the age of matrix product states",
Ann. Phys. 326, 2011 (mixed canonical form with an orthogonality centre).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from symtn.interp import _fit
from symtn.ir.nodes import Delta, Node, Product, Tensor
from symtn.lower import evaluate


@dataclass
class Decomposition:
    """A fitted decomposition: unpack as ``network, values = svd(...)``.

    Attributes:
        network: the symtn network; its free legs are the input's legs.
        values: tensor name -> array (axes in the tensor's declared slot order).
        legs: the input's legs, in the input's axis order.
        ranks: the bond dimensions chosen (one per bond leg).
        discarded: the norm of what truncation dropped, where the method knows it exactly
            (SVD: the discarded singular values) or bounds it (HOSVD, TT-SVD); else None.
    """

    network: Node
    values: dict[str, np.ndarray]
    legs: tuple[str, ...]
    ranks: tuple[int, ...]
    discarded: float | None = None
    info: dict[str, Any] = field(default_factory=dict)

    def __iter__(self) -> Iterator[Any]:
        return iter((self.network, self.values))

    def reconstruct(self) -> np.ndarray:
        """Contract the network with symtn's evaluator (axes in ``legs`` order)."""
        return evaluate(self.network, self.values, order=self.legs)

    def error(self, original: np.ndarray) -> float:
        """The relative Frobenius error ``||original - reconstruction|| / ||original||``."""
        return float(np.linalg.norm(original - self.reconstruct()) / np.linalg.norm(original))


def _check(array: np.ndarray, legs: Sequence[str], *bonds: str) -> tuple[np.ndarray, tuple[str, ...]]:
    x = np.asarray(array, dtype=np.float64)
    legs = tuple(legs)
    clash = sorted(set(bonds) & set(legs))
    if clash:
        raise ValueError(f"bond leg name(s) {clash} clash with the tensor's legs; pass another bond name")
    if x.ndim != len(legs):
        raise ValueError(f"an array of {x.ndim} axes needs {x.ndim} leg names, got {list(legs)}")
    if len(set(legs)) != len(legs):
        raise ValueError(f"leg names must be distinct: {list(legs)}")
    return x, legs


def _tensor(name: str, slots: Sequence[tuple[str, int]], legs: Sequence[str] | None = None,
            isometry: Sequence[str] = ()) -> Tensor:
    facts = (("isometry", tuple(isometry)),) if isometry else ()
    names = tuple(s for s, _ in slots)
    return Tensor(name, tuple(slots), tuple(legs) if legs is not None else names, facts)


def svd(
    array: np.ndarray,
    legs: Sequence[str],
    row_legs: Sequence[str] | None = None,
    *,
    rank: int | None = None,
    tol: float | None = None,
    name: str = "M",
    bond: str = "k",
) -> Decomposition:
    """Truncated SVD ``M = U * sigma * V`` with the bond as a copy tensor carrying ``sigma``.

    Args:
        array: the tensor; axis ``i`` is leg ``legs[i]``.
        legs: leg names of the axes.
        row_legs: the legs on U's side (default: the first leg); the rest go to V.
        rank: keep this many singular values; or
        tol: keep the fewest values whose discarded norm is <= ``tol * ||array||`` (relative
            Frobenius error; Eckart-Young: no rank-r matrix does better).
        name: prefix of the tensor names (``{name}_U``, ``{name}_s``, ``{name}_V``).
        bond: the bond leg name (size r).

    Returns:
        ``U[rows.., k] isometry(k) @ s[k] @ delta[k, k', k''] @ V[k, cols..] isometry(k)`` (the
        three bond occurrences joined by one order-3 copy tensor); ``discarded`` is the norm of
        the dropped singular values.
    """
    x, legs = _check(array, legs, bond, f"{bond}_u", f"{bond}_s", f"{bond}_v")
    rows = tuple(row_legs) if row_legs is not None else legs[:1]
    cols = tuple(leg for leg in legs if leg not in rows)
    if not rows or not cols or set(rows) - set(legs):
        raise ValueError(f"row legs {list(rows)} must be a proper subset of {list(legs)}")
    perm = [legs.index(leg) for leg in rows + cols]
    xt = np.transpose(x, perm)
    rshape, cshape = xt.shape[: len(rows)], xt.shape[len(rows):]
    u, s, vt = np.linalg.svd(xt.reshape(int(np.prod(rshape)), -1), full_matrices=False)
    u, vt = _fit.fix_signs(u, vt)
    r = _fit.truncation_rank(s, rank, tol, float(np.linalg.norm(s)))
    sizes = dict(zip(legs, x.shape, strict=True))
    b1, b2, b3 = f"{bond}_u", f"{bond}_s", f"{bond}_v"
    U = _tensor(f"{name}_U", [(leg, sizes[leg]) for leg in rows] + [(bond, r)], [*rows, b1], [bond])
    S = _tensor(f"{name}_s", [(bond, r)], [b2])
    V = _tensor(f"{name}_V", [(bond, r)] + [(leg, sizes[leg]) for leg in cols], [b3, *cols], [bond])
    net = Product(U, S, Delta(r, (b1, b2, b3)), V)
    values = {
        U.name: u[:, :r].reshape(*rshape, r),
        S.name: s[:r].copy(),
        V.name: vt[:r].reshape(r, *cshape),
    }
    return Decomposition(net, values, legs, (r,), float(np.linalg.norm(s[r:])), {"singular_values": s})


def cp(
    array: np.ndarray,
    legs: Sequence[str],
    rank: int,
    *,
    name: str = "F",
    bond: str = "r",
    n_iter: int = 500,
    seed: int = 0,
    backend: str = "auto",
) -> Decomposition:
    """CP (CANDECOMP/PARAFAC): a sum of ``rank`` outer products, its core a copy tensor.

    Args:
        array: the tensor.
        legs: its leg names, one per axis.
        rank: the number of rank-one terms.
        name: prefix of the factor names (``{name}_{leg}``; weights ``{name}_w``).
        bond: the base name of the rank legs (one occurrence per factor).
        n_iter: ALS sweeps; seed: for random completion of the start.
        backend: "tensorly", "numpy" (ALS here) or "auto" (tensorly when installed).

    Returns:
        ``w[r0] @ delta[r0, r1, .., rN] @ F_leg1[leg1, r1] @ ...`` with unit-norm factor columns.
    """
    x, legs = _check(array, legs, *(f"{bond}_{i}" for i in range(len(legs) + 1)), bond)
    use_tl = backend == "tensorly" or (backend == "auto" and _fit.has_tensorly())
    if use_tl:
        weights, factors = _fit.cp_tensorly(x, rank, n_iter, seed)
    else:
        weights, factors = _fit.cp_numpy(x, rank, n_iter, seed=seed)
    w = _tensor(f"{name}_w", [(bond, rank)], [f"{bond}_0"])
    parts: list[Node] = [w]
    values = {w.name: weights}
    for i, (leg, f) in enumerate(zip(legs, factors, strict=True)):
        t = _tensor(f"{name}_{leg}", [(leg, x.shape[i]), (bond, rank)], [leg, f"{bond}_{i + 1}"])
        parts.append(t)
        values[t.name] = f
    core = Delta(rank, tuple(f"{bond}_{i}" for i in range(len(legs) + 1)))
    return Decomposition(Product(w, core, *parts[1:]), values, legs, (rank,),
                         info={"backend": "tensorly" if use_tl else "numpy"})


def tucker(
    array: np.ndarray,
    legs: Sequence[str],
    ranks: Sequence[int] | None = None,
    *,
    tol: float | None = None,
    name: str = "T",
    n_iter: int = 20,
    backend: str = "auto",
) -> Decomposition:
    """Tucker: a core ``G`` contracted with one isometric factor per leg.

    Args:
        array: the tensor.
        legs: its leg names, one per axis.
        ranks: the core's size per leg; or
        tol: per-leg ranks from the HOSVD bound (each leg may discard ``tol * ||array|| / sqrt(N)``,
            so the truncated HOSVD has relative error <= tol; HOOI then only improves the fit).
        name: prefix (``{name}_G`` for the core, ``{name}_{leg}`` for the factors).
        backend: "tensorly", "numpy" (HOSVD + HOOI here) or "auto".

    Returns:
        ``G[c_leg1, ..] @ U_leg1[leg1, c_leg1] isometry(c_leg1) @ ...``
    """
    x, legs = _check(array, legs, *(f"c_{leg}" for leg in legs))
    if ranks is None:
        budget = float(np.linalg.norm(x)) / np.sqrt(x.ndim)
        ranks = [
            _fit.truncation_rank(np.linalg.svd(_fit.unfold(x, m), compute_uv=False), None, tol, budget)
            for m in range(x.ndim)
        ]
    ranks = tuple(int(r) for r in ranks)
    use_tl = backend == "tensorly" or (backend == "auto" and _fit.has_tensorly())
    fit = _fit.tucker_tensorly if use_tl else _fit.tucker_numpy
    core, factors = fit(x, ranks, n_iter)
    bonds = [f"c_{leg}" for leg in legs]
    g = _tensor(f"{name}_G", list(zip(bonds, ranks, strict=True)))
    values = {g.name: core}
    parts: list[Node] = [g]
    for i, leg in enumerate(legs):
        u = _tensor(f"{name}_{leg}", [(leg, x.shape[i]), (bonds[i], ranks[i])], isometry=[bonds[i]])
        parts.append(u)
        values[u.name] = factors[i]
    return Decomposition(Product(*parts), values, legs, ranks,
                         info={"backend": "tensorly" if use_tl else "numpy"})


def _qr_positive(m: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    q, r = np.linalg.qr(m)
    sign = np.sign(np.diag(r))
    sign[sign == 0] = 1.0
    return q * sign, r * sign[:, None]


def tensor_train(
    array: np.ndarray,
    legs: Sequence[str],
    *,
    max_bond: int | None = None,
    tol: float | None = None,
    center: int | None = None,
    name: str = "G",
    bond: str = "b",
) -> Decomposition:
    """Tensor train (MPS) by sequential SVDs, in mixed canonical form around ``center``.

    Cores left of the centre are left-isometric (``isometry`` on their right bond), cores right
    of it right-isometric (``isometry`` on their left bond); the centre carries the norm. The
    gauge is fixed: SVD signs by the largest entry, the right sweep by QR with R's diagonal
    positive.

    Args:
        array: the tensor.
        legs: its leg names, one per axis, in train order.
        max_bond: the largest bond dimension; and/or
        tol: relative error budget; each of the N-1 SVDs discards at most
            ``tol * ||array|| / sqrt(N-1)``, so the total relative error is <= tol (Oseledets 2011,
            Thm 2.2).
        center: index of the orthogonality centre (default: the last core).
        name: core names ``{name}1..``.
        bond: bond legs ``{bond}1..``.

    Returns:
        ``G1[leg1, b1] @ G2[b1, leg2, b2] @ ... @ GN[b{N-1}, legN]``.
    """
    x, legs = _check(array, legs, *(f"{bond}{k + 1}" for k in range(len(legs) - 1)))
    n = x.ndim
    if n < 2:
        raise ValueError("a tensor train needs at least two legs")
    centre = n - 1 if center is None else center
    if not 0 <= centre < n:
        raise ValueError(f"center must be in 0..{n - 1}, got {center}")
    budget = float(np.linalg.norm(x)) / np.sqrt(n - 1)
    cores: list[np.ndarray] = []
    rest = x.reshape(1, -1)
    ranks: list[int] = []
    dropped = 0.0
    for k in range(n - 1):
        rest = rest.reshape(rest.shape[0] * x.shape[k], -1)
        u, s, vt = np.linalg.svd(rest, full_matrices=False)
        u, vt = _fit.fix_signs(u, vt)
        r = _fit.truncation_rank(s, None if tol is not None else max_bond, tol, budget)
        if max_bond is not None:
            r = min(r, max_bond)
        dropped += float(np.sum(s[r:] ** 2))
        left = ranks[-1] if ranks else 1
        cores.append(u[:, :r].reshape(left, x.shape[k], r))
        rest = s[:r, None] * vt[:r]
        ranks.append(r)
    cores.append(rest.reshape(ranks[-1], x.shape[-1], 1))
    for k in range(n - 1, centre, -1):  # move the centre left: right-isometric cores
        rl, d, rr = cores[k].shape
        q, rmat = _qr_positive(cores[k].reshape(rl, d * rr).T)
        cores[k] = q.T.reshape(-1, d, rr)
        cores[k - 1] = np.tensordot(cores[k - 1], rmat.T, axes=(2, 0))
    bonds = [f"{bond}{k + 1}" for k in range(n - 1)]
    parts: list[Node] = []
    values: dict[str, np.ndarray] = {}
    for k, leg in enumerate(legs):
        slots: list[tuple[str, int]] = []
        if k > 0:
            slots.append((bonds[k - 1], ranks[k - 1]))
        slots.append((leg, x.shape[k]))
        if k < n - 1:
            slots.append((bonds[k], ranks[k]))
        iso = [bonds[k]] if k < centre else [bonds[k - 1]] if k > centre else []
        t = _tensor(f"{name}{k + 1}", slots, isometry=iso)
        parts.append(t)
        values[t.name] = cores[k].reshape([s for _, s in slots])
    return Decomposition(Product(*parts), values, legs, tuple(ranks), float(np.sqrt(dropped)),
                         {"center": centre})
