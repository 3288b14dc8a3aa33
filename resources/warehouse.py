"""The warehouse: DuckDB on the embedded default (BigQuery later, same interface).

The interface is warehouse-neutral and small: run SQL, read a query as Arrow, load Arrow
or Parquet into a table, and replace one partition of a table atomically. Table names go
through :func:`resources.keys.validate_identifier` before they reach SQL.
"""

from __future__ import annotations

import contextlib
import os
import time
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import dagster as dg
import pyarrow as pa

from resources.keys import validate_identifier
from resources.settings import WAREHOUSE_SCHEMAS

ArrowLike = pa.Table | pa.RecordBatchReader


class Warehouse(dg.ConfigurableResource):
    """Interface shared by warehouse implementations."""

    @property
    def dialect(self) -> str:
        """sqlglot dialect name of this warehouse ('duckdb', 'bigquery')."""
        raise NotImplementedError

    def ensure_schemas(self, schemas: Sequence[str] = WAREHOUSE_SCHEMAS) -> None:
        raise NotImplementedError

    def execute(self, sql: str, params: Sequence[Any] | None = None) -> None:
        raise NotImplementedError

    def query_arrow(self, sql: str, params: Sequence[Any] | None = None) -> pa.Table:
        raise NotImplementedError

    def table_exists(self, table: str) -> bool:
        raise NotImplementedError

    def load_table(self, table: str, data: ArrowLike | str | os.PathLike, *,
                   mode: str = "replace") -> int:
        """Load Arrow data or a Parquet file into ``table`` ('replace' or 'append')."""
        raise NotImplementedError

    def replace_partition(self, table: str, partition_column: str, partition_value: Any,
                          data: ArrowLike | str | os.PathLike) -> int:
        """Atomically replace the rows of one partition with ``data``; returns rows loaded.

        Either the whole new partition is visible afterwards, or (on any error) the previous
        one is, untouched.
        """
        raise NotImplementedError


def _split(table: str) -> tuple[str, str]:
    validate_identifier(table)
    schema, _, name = table.rpartition(".")
    return schema or "main", name


class DuckDBWarehouse(Warehouse):
    """A DuckDB database file. One connection per operation: DuckDB admits one writer
    process at a time, so connections are short and opening retries briefly on the lock."""

    path: str
    lock_timeout_s: float = 30.0

    @property
    def dialect(self) -> str:
        return "duckdb"

    def setup_for_execution(self, context: dg.InitResourceContext) -> None:
        # Every run that uses the warehouse finds the medallion schemas in place.
        self.ensure_schemas()

    @contextlib.contextmanager
    def connect(self, read_only: bool = False) -> Iterator[Any]:
        import duckdb

        Path(self.path).parent.mkdir(parents=True, exist_ok=True)
        deadline = time.monotonic() + self.lock_timeout_s
        delay = 0.05
        while True:
            try:
                conn = duckdb.connect(self.path, read_only=read_only)
                break
            except duckdb.IOException as exc:  # another process holds the file lock
                if "lock" not in str(exc).lower() or time.monotonic() > deadline:
                    raise
                time.sleep(delay)
                delay = min(delay * 2, 1.0)
        try:
            yield conn
        finally:
            conn.close()

    def ensure_schemas(self, schemas: Sequence[str] = WAREHOUSE_SCHEMAS) -> None:
        with self.connect() as conn:
            for schema in schemas:
                conn.execute(f"CREATE SCHEMA IF NOT EXISTS {validate_identifier(schema)}")

    def execute(self, sql: str, params: Sequence[Any] | None = None) -> None:
        with self.connect() as conn:
            conn.execute(sql, params)

    def query_arrow(self, sql: str, params: Sequence[Any] | None = None) -> pa.Table:
        with self.connect() as conn:
            # conn.sql() streams straight to Arrow; execute() would copy via the DB-API.
            return conn.sql(sql, params=params).to_arrow_table()

    def table_exists(self, table: str) -> bool:
        schema, name = _split(table)
        with self.connect() as conn:
            found = conn.execute(
                "SELECT count(*) FROM information_schema.tables "
                "WHERE table_schema = ? AND table_name = ?", [schema, name]).fetchone()
        return bool(found and found[0])

    @staticmethod
    def _source(conn: Any, data: ArrowLike | str | os.PathLike) -> str:
        """Expose ``data`` to SQL as a relation name (Arrow) or a read_parquet() call."""
        if isinstance(data, pa.RecordBatchReader):
            data = data.read_all()  # a reader can be scanned once; loads scan twice
        if isinstance(data, pa.Table):
            conn.register("_incoming", data)
            return "_incoming"
        path = str(data).replace("'", "''")
        return f"read_parquet('{path}')"

    def load_table(self, table: str, data: ArrowLike | str | os.PathLike, *,
                   mode: str = "replace") -> int:
        if mode not in ("replace", "append"):
            raise ValueError("mode must be 'replace' or 'append'")
        schema, _ = _split(table)
        with self.connect() as conn:
            conn.execute(f"CREATE SCHEMA IF NOT EXISTS {schema}")
            src = self._source(conn, data)
            conn.execute("BEGIN TRANSACTION")
            try:
                if mode == "replace":
                    conn.execute(f"CREATE OR REPLACE TABLE {table} AS SELECT * FROM {src}")
                else:
                    conn.execute(f"CREATE TABLE IF NOT EXISTS {table} AS "
                                 f"SELECT * FROM {src} LIMIT 0")
                    conn.execute(f"INSERT INTO {table} BY NAME SELECT * FROM {src}")
                rows = conn.execute(f"SELECT count(*) FROM {src}").fetchone()[0]
                conn.execute("COMMIT")
            except BaseException:
                conn.execute("ROLLBACK")
                raise
        return int(rows)

    def replace_partition(self, table: str, partition_column: str, partition_value: Any,
                          data: ArrowLike | str | os.PathLike) -> int:
        schema, _ = _split(table)
        column = validate_identifier(partition_column)
        if partition_value is None:
            raise ValueError("partition_value must not be None")
        with self.connect() as conn:
            conn.execute(f"CREATE SCHEMA IF NOT EXISTS {schema}")
            src = self._source(conn, data)
            # One transaction: DELETE + INSERT commit together or not at all.
            conn.execute("BEGIN TRANSACTION")
            try:
                stray = conn.execute(f"SELECT count(*) FROM {src} WHERE {column} IS DISTINCT "
                                     f"FROM ?", [partition_value]).fetchone()[0]
                if stray:
                    raise ValueError(f"{stray} rows of the data are not in partition "
                                     f"{column} = {partition_value!r}")
                conn.execute(f"CREATE TABLE IF NOT EXISTS {table} AS "
                             f"SELECT * FROM {src} LIMIT 0")
                conn.execute(f"DELETE FROM {table} WHERE {column} = ?", [partition_value])
                conn.execute(f"INSERT INTO {table} BY NAME SELECT * FROM {src}")
                rows = conn.execute(
                    f"SELECT count(*) FROM {table} WHERE {column} = ?",
                    [partition_value]).fetchone()[0]
                conn.execute("COMMIT")
            except BaseException:
                conn.execute("ROLLBACK")
                raise
        return int(rows)
