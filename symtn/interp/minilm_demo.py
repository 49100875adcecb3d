"""``symtn demo minilm``: attention heads of the pretrained MiniLM-L6 taken apart with symtn.

On real text, the 6 x 12 attention patterns (evaluated from the notation, ``minilm_layer.stn``)
are scored for previous-token heads (attention from t to t - 1) and duplicate-token heads
(attention to earlier copies of the same token); each head's write into the residual stream is
compared with the residual itself (the direct path); and every head's OV circuit
``W_O[d', h, e] @ W_V[h, e, d]`` and QK circuit ``W_Q[h, e, d] @ W_K[h, e, d2]`` is compared with
every other head's by cosine similarity, contracted as one network per circuit type (no
``[d, d]`` circuit matrix is formed). Biases are left out of the circuits.

Sources: Elhage et al., "A Mathematical Framework for Transformer Circuits", 2021 (OV and QK
circuits); Olsson et al., "In-context learning and induction heads", 2022 (previous-token
heads); Wang et al., "Interpretability in the wild", ICLR 2023 (duplicate-token heads).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np

from symtn.interp import minilm
from symtn.interp.heatmap import write_heatmap
from symtn.interp.similarity import batched_gram
from symtn.ir.nodes import Delta, Node, Product, Tensor

TEXT = (
    "The cat sat on the mat because the cat was tired. "
    "Alice gave Bob a book, and then Alice gave Bob a pen. The cat sat on the mat."
)


def head_scores(ids: list[int], patterns: list[np.ndarray]) -> dict[str, np.ndarray]:
    """``[layer, head]`` scores from patterns ``[h, t, s]``.

    previous: mean over t >= 1 of ``A[t, t-1]``; duplicate: mean over tokens with an earlier
    copy of the attention on earlier copies.
    """
    n = len(ids)
    dup_mask = np.array([[s < t and ids[s] == ids[t] for s in range(n)] for t in range(n)], dtype=float)
    rows = dup_mask.sum(axis=1) > 0
    prev = np.array([[np.mean(np.diagonal(a, offset=-1)) for a in layer] for layer in patterns])
    dup = np.array([[np.mean((a * dup_mask).sum(axis=1)[rows]) if rows.any() else 0.0 for a in layer]
                    for layer in patterns])
    return {"previous": prev, "duplicate": dup}


def head_writes(f: minilm.Forward, w: dict[str, np.ndarray]) -> np.ndarray:
    """``[layer, head]``: mean over tokens of ``|W_O[:, h] z_h|`` relative to ``|x|`` (the direct path)."""
    out = np.zeros((minilm.N_LAYERS, minilm.N_HEAD))
    for layer in range(minilm.N_LAYERS):
        v = minilm.layer_values(w, layer)
        x = f.hidden[layer]
        val = np.einsum("hed,td->hte", v["W_V"], x) + v["b_V"][:, None, :]
        z = np.einsum("hts,hse->hte", f.patterns[layer], val)
        writes = np.einsum("ahe,hte->hta", v["W_O"], z)
        out[layer] = np.linalg.norm(writes, axis=2).mean(axis=1) / np.linalg.norm(x, axis=1).mean()
    return out


def _stacked(w: dict[str, np.ndarray], name: str) -> np.ndarray:
    return np.concatenate([minilm.layer_values(w, layer)[name] for layer in range(minilm.N_LAYERS)], axis=-3)


def circuit_networks(n_heads: int, d: int, e: int) -> dict[str, Node]:
    """OV ``[hl, d', d]`` and QK ``[hl, d, d2]`` circuits of ``n_heads`` stacked heads, head leg kept."""

    def t(name: str, slots: tuple[tuple[str, int], ...], legs: tuple[str, ...]) -> Tensor:
        return Tensor(name, slots, legs, ())

    ov = Product(
        t("W_O", (("dout", d), ("hl", n_heads), ("e", e)), ("dout", "h1", "e")),
        t("W_V", (("hl", n_heads), ("e", e), ("d", d)), ("h2", "e", "d")),
        Delta(n_heads, ("h1", "h2", "hl")),
    )
    qk = Product(
        t("W_Q", (("hl", n_heads), ("e", e), ("d", d)), ("h1", "e", "d")),
        t("W_K", (("hl", n_heads), ("e", e), ("d", d)), ("h2", "e", "d2")),
        Delta(n_heads, ("h1", "h2", "hl")),
    )
    return {"OV": ov, "QK": qk}


def circuit_similarity(w: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """Cosine similarity ``[72, 72]`` of all heads' OV and of all heads' QK circuits."""
    wo = np.concatenate([minilm.layer_values(w, layer)["W_O"] for layer in range(minilm.N_LAYERS)], axis=1)
    vals = {"W_O": wo, "W_V": _stacked(w, "W_V"), "W_Q": _stacked(w, "W_Q"), "W_K": _stacked(w, "W_K")}
    n, e, d = vals["W_V"].shape
    nets = circuit_networks(n, d, e)
    return {k: batched_gram(net, "hl", vals) for k, net in nets.items()}


def mosaic(patterns: list[np.ndarray]) -> np.ndarray:
    """All patterns tiled: layers down, heads across, one blank row/column between tiles."""
    n = patterns[0].shape[-1]
    out = np.zeros((len(patterns) * (n + 1) - 1, patterns[0].shape[0] * (n + 1) - 1))
    for layer, ps in enumerate(patterns):
        for h, a in enumerate(ps):
            out[layer * (n + 1) : layer * (n + 1) + n, h * (n + 1) : h * (n + 1) + n] = a
    return out


def _top(m: np.ndarray, k: int = 3) -> str:
    idx = np.argsort(m, axis=None)[::-1][:k]
    return ", ".join(f"L{i // m.shape[1]}H{i % m.shape[1]} {m.flat[i]:.2f}" for i in idx)


def run(
    out_dir: str | Path = ".", text: str = TEXT, echo: Callable[[str], None] = print
) -> dict[str, object]:
    """Run the analysis, print the findings and write the figures into ``out_dir``."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    w = minilm.load_weights()
    ids = minilm.tokenize([text])[0]
    echo(f"MiniLM-L6 (all-MiniLM-L6-v2), {len(ids)} tokens: {text!r}")
    f = minilm.forward(ids, w)
    echo("encoder layers evaluated by symtn from the bundled program minilm_layer.stn")
    scores = head_scores(ids, f.patterns)
    echo(f"previous-token heads (mean attention t -> t-1): {_top(scores['previous'])}")
    echo(f"duplicate-token heads (attention to earlier copies): {_top(scores['duplicate'])}")
    writes = head_writes(f, w)
    echo(f"largest head writes relative to the residual (direct path = 1): {_top(writes)}")
    sims = circuit_similarity(w)
    off = {k: v - np.eye(len(v)) for k, v in sims.items()}
    for k, v in off.items():
        echo(f"{k} circuits: most similar pair of distinct heads has cosine {v.max():.3f}; "
             f"mean |cosine| {np.abs(v).sum() / (v.size - len(v)):.3f}")
    files = {
        "minilm_patterns.png": (mosaic(f.patterns), "attention patterns (layers down, heads across)"),
        "minilm_head_scores.png": (np.vstack([scores["previous"], scores["duplicate"]]),
                                   "previous-token (rows 0-5) and duplicate-token (rows 6-11) scores"),
        "minilm_ov_similarity.png": (sims["OV"], "OV circuit cosine similarity (72 heads)"),
        "minilm_qk_similarity.png": (sims["QK"], "QK circuit cosine similarity (72 heads)"),
    }
    for name, (m, title) in files.items():
        engine = write_heatmap(out / name, m, title)
        echo(f"wrote {out / name} ({engine})")
    return {"ids": ids, "scores": scores, "writes": writes, "similarity": sims, "forward": f}
