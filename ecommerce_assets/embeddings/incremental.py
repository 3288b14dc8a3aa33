"""Incremental embedding: only rows whose text is new or changed are embedded.

Each source row gets ``text_hash = sha256(embedding_text)``, computed in the warehouse. A
stored vector is reused when its key, text hash and model all match; every other row (new
product, changed name, another model) is pulled into Python, embedded in chunks (bounded
memory) and written to a staging table. The table is then rebuilt in one transaction from
the reused rows (their attributes fresh from the source) and the staged ones, so rows
whose source disappeared are removed and a failed run leaves the previous table.

An in-warehouse embedder (BigQuery ``ML.GENERATE_EMBEDDING``) stages the pending rows with
one statement instead: no text leaves the warehouse. Rows it could not embed are counted as
``failed`` and left out; they are pending again on the next materialization.
"""

from __future__ import annotations

import datetime as dt
import time
from dataclasses import dataclass

import numpy as np
import pyarrow as pa

from ecommerce_assets.embeddings.spec import EmbeddingTable
from ecommerce_assets.quality import literal
from resources.embedder import Embedder
from resources.warehouse import Warehouse

CHUNK_ROWS = 20_000  # texts embedded and staged at a time


@dataclass(frozen=True)
class EmbedReport:
    rows: int
    embedded: int
    reused: int
    removed: int
    seconds: float
    encode_seconds: float
    failed: int = 0

    @property
    def texts_per_s(self) -> float:
        return self.embedded / self.encode_seconds if self.encode_seconds > 0 else 0.0


def vectors_to_arrow(vectors: np.ndarray) -> pa.ListArray:
    """(n, dim) float32 -> list<float> (DuckDB FLOAT[], BigQuery ARRAY<FLOAT64>), no loop."""
    n, dim = vectors.shape
    offsets = pa.array(np.arange(0, (n + 1) * dim, dim, dtype=np.int32))
    return pa.ListArray.from_arrays(offsets, pa.array(vectors.astype(np.float32).ravel()))


def arrow_to_vectors(column: pa.ChunkedArray | pa.Array, dim: int | None = None) -> np.ndarray:
    """list<float> column -> (n, dim) float32 matrix; every list must have the same length."""
    column = column.combine_chunks() if isinstance(column, pa.ChunkedArray) else column
    n = len(column)
    if n == 0:
        return np.zeros((0, dim or 0), np.float32)
    lengths = np.asarray(column.value_lengths().fill_null(0))
    width = int(lengths[0])
    if (lengths != width).any() or (dim is not None and width != dim):
        raise ValueError(f"vectors of different lengths ({sorted(set(lengths.tolist()))[:5]}); "
                         f"expected {dim or width}")
    return np.asarray(column.flatten(), dtype=np.float32).reshape(n, width)


def _hashed_source(table: EmbeddingTable) -> str:
    cols = ", ".join(f"s.{c}" for c in table.source_columns)
    return (f"SELECT {cols}, TO_HEX(SHA256(s.embedding_text)) AS text_hash "
            f"FROM ({table.source_sql()}) AS s")


def _reuse_join(table: EmbeddingTable, model_name: str) -> str:
    return (f"FROM ({_hashed_source(table)}) AS s JOIN {table.warehouse_table} AS t "
            f"ON t.{table.key} = s.{table.key} AND t.text_hash = s.text_hash "
            f"AND t.embedding_model = {literal(model_name)}")


def _counts(warehouse: Warehouse, sql: str) -> dict[str, int]:
    row = warehouse.query_arrow(warehouse.transpile(sql)).to_pylist()[0]
    return {k: int(v or 0) for k, v in row.items()}


def _stage(warehouse: Warehouse, table: EmbeddingTable, pending: pa.Table,
           embedder: Embedder, chunk_rows: int) -> float:
    """Embed ``pending`` in chunks into the staging table; returns seconds spent encoding."""
    encode_s = 0.0
    now = pa.scalar(dt.datetime.now(dt.UTC), pa.timestamp("us", tz="UTC"))
    for start in range(0, max(pending.num_rows, 1), chunk_rows):
        part = pending.slice(start, chunk_rows)
        began = time.perf_counter()
        vectors = embedder.encode(part.column("embedding_text").to_pylist())
        encode_s += time.perf_counter() - began
        part = (part.append_column("embedding_model",
                                   pa.array([embedder.model_name] * part.num_rows, pa.string()))
                .append_column("embedding", vectors_to_arrow(vectors))
                .append_column("embedded_at", pa.array([now.as_py()] * part.num_rows,
                                                       pa.timestamp("us", tz="UTC"))))
        warehouse.load_table(table.staging_table, part.select(list(table.columns)),
                             mode="replace" if start == 0 else "append")
    return encode_s


def _stage_in_warehouse(warehouse: Warehouse, table: EmbeddingTable, pending_sql: str,
                        embedder: Embedder) -> tuple[float, int, int]:
    """Embed the pending rows in the warehouse into the staging table (with each row's
    ``embedding_status``); returns (seconds, rows embedded, rows failed)."""
    cols = ", ".join(table.source_columns)
    began = time.perf_counter()
    warehouse.execute(warehouse.transpile(
        f"CREATE OR REPLACE TABLE {table.staging_table} AS "
        f"SELECT {cols}, text_hash, {literal(embedder.model_name)} AS embedding_model, "
        f"embedding, CURRENT_TIMESTAMP() AS embedded_at, embedding_status "
        f"FROM ({embedder.embedding_sql(pending_sql)})"))
    seconds = time.perf_counter() - began
    counts = _counts(warehouse, f"SELECT COUNTIF(embedding_status = '') AS ok, "
                                f"COUNTIF(embedding_status <> '') AS failed "
                                f"FROM {table.staging_table}")
    return seconds, counts["ok"], counts["failed"]


def refresh_embeddings(warehouse: Warehouse, table: EmbeddingTable, embedder: Embedder,
                       chunk_rows: int = CHUNK_ROWS) -> EmbedReport:
    """Bring ``table`` up to date with its source, embedding only new or changed texts."""
    started = time.perf_counter()
    model = embedder.model_name
    exists = warehouse.table_exists(table.warehouse_table)
    if exists:
        pending_sql = (f"SELECT s.* FROM ({_hashed_source(table)}) AS s "
                       f"LEFT JOIN {table.warehouse_table} AS t ON t.{table.key} = s.{table.key} "
                       f"AND t.text_hash = s.text_hash AND t.embedding_model = {literal(model)} "
                       f"WHERE t.{table.key} IS NULL")
        removed = _counts(warehouse, (
            f"SELECT COUNT(*) AS n FROM {table.warehouse_table} WHERE {table.key} NOT IN "
            f"(SELECT {table.key} FROM ({table.source_sql()}) WHERE {table.key} IS NOT NULL)"
        ))["n"]
    else:
        pending_sql, removed = _hashed_source(table), 0
    staged_where, failed = "", 0
    if embedder.in_warehouse:
        encode_s, embedded, failed = _stage_in_warehouse(warehouse, table, pending_sql, embedder)
        staged_where = " WHERE embedding_status = ''"
    else:
        pending = warehouse.query_arrow(warehouse.transpile(pending_sql))
        encode_s = _stage(warehouse, table, pending, embedder, chunk_rows)
        embedded = pending.num_rows
    cols = ", ".join(table.columns)
    reused_part = ""
    if exists:
        picked = ", ".join([*(f"s.{c}" for c in table.source_columns), "s.text_hash",
                            "t.embedding_model", "t.embedding", "t.embedded_at"])
        reused_part = f"SELECT {picked} {_reuse_join(table, model)} UNION ALL "
    build = (f"CREATE OR REPLACE TABLE {table.warehouse_table} AS "
             f"{reused_part}SELECT {cols} FROM {table.staging_table}{staged_where}")
    warehouse.execute_script([warehouse.transpile(build),
                              f"DROP TABLE IF EXISTS {warehouse.quote(table.staging_table)}"])
    rows = _counts(warehouse, f"SELECT COUNT(*) AS n FROM {table.warehouse_table}")["n"]
    return EmbedReport(rows=rows, embedded=embedded, reused=rows - embedded, removed=removed,
                       seconds=time.perf_counter() - started, encode_seconds=encode_s,
                       failed=failed)
