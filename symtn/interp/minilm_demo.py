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
from typing import TYPE_CHECKING

import numpy as np

from symtn.interp import figures as figs
from symtn.interp import minilm
from symtn.interp.similarity import batched_gram
from symtn.ir.nodes import Delta, Node, Product, Tensor

if TYPE_CHECKING:
    from matplotlib.figure import Figure

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
    """All patterns tiled: layers down, heads across, one blank (NaN) row/column between tiles."""
    n = patterns[0].shape[-1]
    out = np.full((len(patterns) * (n + 1) - 1, patterns[0].shape[0] * (n + 1) - 1), np.nan)
    for layer, ps in enumerate(patterns):
        for h, a in enumerate(ps):
            out[layer * (n + 1) : layer * (n + 1) + n, h * (n + 1) : h * (n + 1) + n] = a
    return out


def _top(m: np.ndarray, k: int = 3) -> str:
    idx = np.argsort(m, axis=None)[::-1][:k]
    return ", ".join(f"L{i // m.shape[1]}H{i % m.shape[1]} {m.flat[i]:.2f}" for i in idx)


def _best(m: np.ndarray) -> tuple[int, int]:
    i = int(np.argmax(m))
    return i // m.shape[1], i % m.shape[1]


def figures(
    tokens: list[str], f: minilm.Forward, scores: dict[str, np.ndarray], writes: np.ndarray,
    sims: dict[str, np.ndarray],
) -> dict[str, Figure]:
    """The demo's figures, by file name (matplotlib ``Figure`` objects; nothing is written).

    Raises:
        MissingMatplotlib: when matplotlib is not installed.
    """
    chosen = []
    for key, what in (("previous", "previous-token"), ("duplicate", "duplicate-token")):
        layer, h = _best(scores[key])
        chosen.append((f"L{layer}H{h}: top {what} head ({scores[key][layer, h]:.2f})", f.patterns[layer][h]))
    n_tok = len(tokens)
    mos = figs.matrix_figure(
        mosaic(f.patterns), "MiniLM-L6 attention patterns, all 6 x 12 heads", xlabel="head (key positions)",
        ylabel="layer (query positions)", cmap="Blues", vmin=0.0, vmax=1.0, colorbar="attention weight",
    )
    ax = mos.axes[0]
    ax.set_xticks([h * (n_tok + 1) + (n_tok - 1) / 2 for h in range(minilm.N_HEAD)])
    ax.set_xticklabels([f"H{h}" for h in range(minilm.N_HEAD)], fontsize=7)
    ax.set_yticks([x * (n_tok + 1) + (n_tok - 1) / 2 for x in range(minilm.N_LAYERS)])
    ax.set_yticklabels([f"L{x}" for x in range(minilm.N_LAYERS)], fontsize=7)
    labels = figs.head_labels(minilm.N_LAYERS, minilm.N_HEAD)
    return {
        "minilm_patterns.png": figs.attention_figure(chosen, tokens, "MiniLM-L6 attention patterns"),
        "minilm_pattern_mosaic.png": mos,
        "minilm_head_scores.png": figs.head_scores_figure(
            [("previous-token score: mean attention from t to t - 1", scores["previous"]),
             ("duplicate-token score: attention on earlier copies of the token", scores["duplicate"]),
             ("direct-path write: mean |W_O z_h| / |x|", writes)],
            "MiniLM-L6 per-head scores",
        ),
        "minilm_ov_similarity.png": figs.similarity_figure(
            sims["OV"], labels, "OV circuits W_O W_V: cosine similarity of the 72 heads", group=minilm.N_HEAD
        ),
        "minilm_qk_similarity.png": figs.similarity_figure(
            sims["QK"], labels, "QK circuits W_Q^T W_K: cosine similarity of the 72 heads",
            group=minilm.N_HEAD,
        ),
    }


def run(
    out_dir: str | Path = ".", text: str = TEXT, echo: Callable[[str], None] = print
) -> dict[str, object]:
    """Run the analysis, print the findings and write the figures into ``out_dir``.

    Without matplotlib the findings are printed and no figure is written (a line says how to
    install it). Returns the ids, tokens, scores, writes, similarities, forward pass and the
    figures by file name (empty without matplotlib).
    """
    out = Path(out_dir)
    w = minilm.load_weights()
    ids = minilm.tokenize([text])[0]
    tokens = minilm.token_strings(ids)
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
    try:
        made = figures(tokens, f, scores, writes, sims)
    except figs.MissingMatplotlib as err:
        echo(f"no figures: {err.message}; install it with {figs.INSTALL}")
        made = {}
    if made:
        out.mkdir(parents=True, exist_ok=True)
    for name, fig in made.items():
        echo(f"wrote {figs.save(fig, out / name)}")
    return {"ids": ids, "tokens": tokens, "scores": scores, "writes": writes, "similarity": sims,
            "forward": f, "figures": made}
