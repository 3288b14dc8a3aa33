"""Vector search behind one small interface: :class:`VectorIndex`.

Up to ``ANN_THRESHOLD`` vectors the search is exact (one matrix-vector product in numpy,
a few ms at 30k × 256). Above it an HNSW index (usearch, from PyPI) answers in well under a
millisecond with a recall measured in ``bench/embeddings.py``; it is built when the asset
is materialized, saved beside the warehouse, and reused while its fingerprint (model, keys,
text hashes) matches the table, so a changed table never answers from a stale index.

Vectors are only ever compared with vectors of the same model: loading a table whose
vectors come from another model than the query embedder raises :class:`ModelMismatch`.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa

from ecommerce_assets.embeddings.incremental import arrow_to_vectors
from ecommerce_assets.embeddings.spec import EmbeddingTable
from resources import settings
from resources.warehouse import Warehouse

ANN_THRESHOLD = 100_000


class ModelMismatch(ValueError):
    """Vectors of different embedding models were about to be compared."""


class EmptyTable(LookupError):
    """The embedding table is missing or has no rows."""


def top_k(scores: np.ndarray, k: int) -> np.ndarray:
    """Indices of the ``k`` highest scores, best first (argpartition, then a small sort)."""
    k = min(k, scores.shape[-1])
    if k <= 0:
        return np.zeros(0, np.int64)
    part = np.argpartition(-scores, k - 1)[:k]
    return part[np.argsort(-scores[part], kind="stable")]


@dataclass
class VectorIndex:
    """Cosine search over L2-normalised vectors of one model."""

    vectors: np.ndarray  # (n, dim) float32, unit rows
    model_name: str
    ann_threshold: int = ANN_THRESHOLD
    _ann: Any = field(default=None, repr=False)

    def __post_init__(self) -> None:
        self.vectors = np.ascontiguousarray(self.vectors, dtype=np.float32)

    @property
    def uses_ann(self) -> bool:
        return len(self.vectors) > self.ann_threshold

    def build(self) -> VectorIndex:
        """Build the ANN index if this size needs one (exact search needs nothing)."""
        if self.uses_ann and self._ann is None:
            from usearch.index import Index

            index = Index(ndim=self.vectors.shape[1], metric="ip", dtype="f32",
                          connectivity=16, expansion_add=128, expansion_search=64)
            index.add(np.arange(len(self.vectors), dtype=np.uint64), self.vectors,
                      threads=0)
            self._ann = index
        return self

    def save(self, path: Path) -> None:
        if self._ann is not None:
            self._ann.save(str(path))

    def load(self, path: Path) -> bool:
        """Use the ANN index saved at ``path``; False if there is none to use."""
        if not self.uses_ann or not path.is_file():
            return False
        from usearch.index import Index

        self._ann = Index.restore(str(path), view=False)
        return self._ann is not None and len(self._ann) == len(self.vectors)

    def search(self, query: np.ndarray, k: int, model_name: str,
               exact: bool = False) -> tuple[np.ndarray, np.ndarray]:
        """(row indices, cosine scores) of the ``k`` nearest rows to one query vector."""
        if model_name != self.model_name:
            raise ModelMismatch(f"query vector of model {model_name!r} cannot be compared "
                                f"with vectors of {self.model_name!r}")
        query = np.asarray(query, dtype=np.float32).reshape(-1)
        if self.uses_ann and not exact:
            self.build()
            found = self._ann.search(query, min(k, len(self.vectors)))
            rows = np.asarray(found.keys, dtype=np.int64)
            return rows, self.vectors[rows] @ query
        scores = self.vectors @ query
        rows = top_k(scores, k)
        return rows, scores[rows]


@dataclass
class LoadedTable:
    """An embedding table in memory: keys, display columns, vectors and their index."""

    table: EmbeddingTable
    keys: np.ndarray
    info: pa.Table
    index: VectorIndex
    fingerprint: str

    def row_of(self, key: int) -> int | None:
        hits = np.flatnonzero(self.keys == key)
        return int(hits[0]) if hits.size else None

    def results(self, rows: np.ndarray, scores: np.ndarray) -> list[dict]:
        info = self.info.take(pa.array(rows, pa.int64())).to_pylist()
        return [{self.table.key: int(self.keys[r]), "score": round(float(s), 4), **row}
                for r, s, row in zip(rows, scores, info, strict=True)]


def index_path(table: EmbeddingTable) -> Path:
    return settings.ecommerce_home() / "indexes" / f"{table.name}.usearch"


def load_table(warehouse: Warehouse, table: EmbeddingTable, model_name: str,
               ann_threshold: int = ANN_THRESHOLD) -> LoadedTable:
    """Read ``table``'s vectors (only those) and build or reuse its index."""
    if not warehouse.table_exists(table.warehouse_table):
        raise EmptyTable(f"{table.warehouse_table} does not exist yet: materialize the "
                         f"embeddings/{table.name} asset first")
    cols = ", ".join([table.key, *table.display, "text_hash", "embedding_model", "embedding"])
    data = warehouse.query_arrow(f"SELECT {cols} FROM {warehouse.quote(table.warehouse_table)} "
                                 f"ORDER BY {table.key}")
    if data.num_rows == 0:
        raise EmptyTable(f"{table.warehouse_table} is empty: nothing to search")
    models = set(data.column("embedding_model").unique().to_pylist())
    if models != {model_name}:
        raise ModelMismatch(f"{table.warehouse_table} holds vectors of {sorted(models)}, the "
                            f"configured embedder is {model_name!r}: re-materialize "
                            f"embeddings/{table.name} with it")
    keys = np.asarray(data.column(table.key), dtype=np.int64)
    digest = hashlib.sha256(model_name.encode())
    digest.update(keys.tobytes())
    digest.update("".join(data.column("text_hash").to_pylist()).encode())
    index = VectorIndex(arrow_to_vectors(data.column("embedding")), model_name, ann_threshold)
    loaded = LoadedTable(table, keys, data.select(list(table.display)), index,
                         digest.hexdigest())
    if index.uses_ann:
        _reuse_or_build(loaded)
    return loaded


def _reuse_or_build(loaded: LoadedTable) -> None:
    path = index_path(loaded.table)
    sidecar = path.with_suffix(".json")
    try:
        meta = json.loads(sidecar.read_text()) if sidecar.is_file() else {}
    except ValueError:
        meta = {}
    if meta.get("fingerprint") == loaded.fingerprint and loaded.index.load(path):
        return
    loaded.index.build()
    path.parent.mkdir(parents=True, exist_ok=True)
    loaded.index.save(path)
    sidecar.write_text(json.dumps({"fingerprint": loaded.fingerprint,
                                   "rows": len(loaded.keys),
                                   "model": loaded.index.model_name}))


def similar(loaded: LoadedTable, key: int, k: int) -> list[dict]:
    """The ``k`` rows nearest to row ``key`` (itself excluded). KeyError if unknown."""
    row = loaded.row_of(key)
    if row is None:
        raise KeyError(key)
    rows, scores = loaded.index.search(loaded.index.vectors[row], k + 1,
                                       loaded.index.model_name)
    keep = rows != row
    return loaded.results(rows[keep][:k], scores[keep][:k])


def search_text(loaded: LoadedTable, query_vector: np.ndarray, model_name: str,
                k: int) -> list[dict]:
    rows, scores = loaded.index.search(query_vector, k, model_name)
    return loaded.results(rows, scores)
