"""The warehouse interface, and DuckDB on the embedded default (BigQuery: resources/bigquery.py).

The interface is warehouse-neutral and small: run SQL, read a query as Arrow, load Arrow
or Parquet into a table, and replace one partition of a table atomically. Table and column
names are validated and quoted (:func:`resources.keys.quote_identifier`) before they reach
SQL. Loads are additive: a column the data has and the table lacks is added (nullable, the
data's type) in the load's own transaction, so a new input column needs no manual DDL.
"""

from __future__ import annotations

import contextlib
import contextvars
import functools
import importlib.metadata
import os
import re
import threading
import time
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import dagster as dg
import pyarrow as pa

from resources.disk_cache import cached_text
from resources.keys import quote_identifier, validate_identifier
from resources.settings import WAREHOUSE_SCHEMAS

ArrowLike = pa.Table | pa.RecordBatchReader
DataLike = ArrowLike | str | os.PathLike | Sequence[str | os.PathLike]


@dataclass(frozen=True)
class PartitionWrite:
    """Replace the rows of ``table`` matching every ``partition`` column = value with ``data``
    (Arrow, a Parquet file or a list of Parquet files).

    ``staged_uris``, when given, are the same files (in order) already uploaded to object
    storage: a warehouse that loads from there (BigQuery) loads them as they are instead of
    uploading the files again."""

    table: str
    partition: dict[str, Any]
    data: DataLike
    staged_uris: tuple[str, ...] = ()


class Warehouse(dg.ConfigurableResource):
    """Interface shared by warehouse implementations."""

    @property
    def dialect(self) -> str:
        """sqlglot dialect name of this warehouse ('duckdb', 'bigquery')."""
        raise NotImplementedError

    def quote(self, name: str) -> str:
        """``name`` validated and quoted for this warehouse's dialect."""
        return quote_identifier(name, self.dialect)

    def transpile(self, sql: str) -> str:
        """BigQuery Standard SQL (the project's one dialect) -> this warehouse's dialect."""
        if self.dialect == "bigquery":
            return sql
        return transpile_cached(sql, self.dialect)

    def prepare(self, statements: Iterable[str]) -> None:
        """Transpile ``statements`` ahead of their first run, into the transpile cache. A full
        refresh prepares the statements of the incremental refresh that follows it: each
        costs sqlglot 3-25 ms, about 0.3 s over a landing, which the first landing after a
        build would pay. (Nothing to do where no SQL is transpiled.)"""
        for sql in statements:
            self.transpile(sql)

    def ensure_schemas(self, schemas: Sequence[str] = WAREHOUSE_SCHEMAS) -> None:
        raise NotImplementedError

    @contextlib.contextmanager
    def session(self) -> Iterator[None]:
        """Operations inside share one connection where that saves something (DuckDB: a
        step's dozen queries open the file once); a no-op elsewhere."""
        yield

    @contextlib.contextmanager
    def attributed_to(self, asset: dg.AssetKey) -> Iterator[None]:
        """Operations inside work for ``asset`` (a step that materializes several assets
        says which): BigQuery labels their jobs and reports their cost on that asset."""
        token = CURRENT_ASSET.set(asset)
        try:
            yield
        finally:
            CURRENT_ASSET.reset(token)

    def execute(self, sql: str, params: Sequence[Any] | None = None) -> None:
        raise NotImplementedError

    def execute_script(self, statements: Sequence[str]) -> None:
        """Run ``statements`` in order on one session, in one transaction: all take effect
        or (on any error) none does. Temporary tables live until the script ends."""
        raise NotImplementedError

    def query_arrow(self, sql: str, params: Sequence[Any] | None = None) -> pa.Table:
        raise NotImplementedError

    def table_exists(self, table: str) -> bool:
        raise NotImplementedError

    def load_table(self, table: str, data: ArrowLike | str | os.PathLike, *,
                   mode: str = "replace") -> int:
        """Load Arrow data or a Parquet file into ``table`` ('replace' or 'append')."""
        raise NotImplementedError

    def replace_partitions(self, writes: Sequence[PartitionWrite]) -> list[int]:
        """Replace several partitions (of one or more tables) in one transaction.

        Either every new partition is visible afterwards, or (on any error) every previous
        one is, untouched. Returns the rows now in each partition. A table that does not
        exist is created from the data's schema; a column of the data the table lacks is
        added to it (rows of other partitions read NULL there).
        """
        raise NotImplementedError

    def replace_partition(self, table: str, partition_column: str, partition_value: Any,
                          data: DataLike) -> int:
        """Atomically replace the rows of one partition with ``data``; returns rows loaded."""
        return self.replace_partitions(
            [PartitionWrite(table, {partition_column: partition_value}, data)])[0]


# The asset a multi-asset step is working on (Warehouse.attributed_to), if it says.
CURRENT_ASSET: contextvars.ContextVar[dg.AssetKey | None] = contextvars.ContextVar(
    "ecommerce_current_asset", default=None)

# A date literal ('2026-11-22'): gold's reporting date and its cut-offs change every day
# while the SQL around them does not.
_DATE_LITERAL = re.compile(r"'(\d{4}-\d{2}-\d{2})'")
_DATE_SLOT = "'ecommerce-date-{}'"


@functools.lru_cache(maxsize=512)
def transpile_cached(sql: str, dialect: str) -> str:
    """``sql`` (BigQuery) transpiled by sqlglot, cached in the process and on disk under
    ``ECOMMERCE_HOME/cache/transpile/`` by the SQL, the dialect and sqlglot's version: every
    run process transpiles the same statements (the address SQL alone takes about a second),
    while the SQL changes only with the code. Date literals are cut out before the lookup
    and put back after (sqlglot carries a string literal through unchanged; where it did not,
    the SQL is transpiled as it is), so a new reporting date finds its statements cached."""
    dates = _DATE_LITERAL.findall(sql)
    if not dates:
        return _transpile_text(sql, dialect)
    slots = iter(range(len(dates)))
    out = _transpile_text(_DATE_LITERAL.sub(lambda _: _DATE_SLOT.format(next(slots)), sql),
                          dialect)
    for i, date in enumerate(dates):
        if out.count(_DATE_SLOT.format(i)) != 1:
            return _transpile_text(sql, dialect)
        out = out.replace(_DATE_SLOT.format(i), f"'{date}'")
    return out


@functools.cache
def _sqlglot_version() -> str:
    # Read without importing sqlglot. Once per process: every lookup scans the installed
    # distributions' metadata (about 7 ms; 0.2 s over a gold refresh's statements).
    return importlib.metadata.version("sqlglot")


def _transpile_text(sql: str, dialect: str) -> str:
    version = _sqlglot_version()

    def transpile() -> str:
        import sqlglot

        return sqlglot.transpile(sql, read="bigquery", write=dialect)[0]

    return cached_text("transpile", f"{version}\0{dialect}\0{sql}", transpile, ".sql")


def _split(table: str) -> tuple[str, str]:
    validate_identifier(table)
    schema, _, name = table.rpartition(".")
    return schema or "main", name


_SCHEMAS_READY: set[str] = set()  # DuckDB files whose schemas this process ensured
# (DuckDB file, thread) -> the connection of the session open there (DuckDBWarehouse.session).
_SESSIONS: dict[tuple[str, int], Any] = {}


class DuckDBWarehouse(Warehouse):
    """A DuckDB database file. One connection per operation: DuckDB admits one writer
    process at a time, so connections are short and opening retries briefly on the lock."""

    path: str
    lock_timeout_s: float = 30.0

    @property
    def dialect(self) -> str:
        return "duckdb"

    @contextlib.contextmanager
    def session(self) -> Iterator[None]:
        """One open database for every operation inside (in this thread; each operation a
        cursor of it), instead of opening the file per operation: that costs 30-80 ms, and a
        cold connection re-reads what the last one had cached. Asset steps open one: a step holds the warehouse pool's
        single slot anyway, so holding the file's lock for the step excludes no writer that
        could run (a reader elsewhere waits, as it waits for any write)."""
        key = (self.path, threading.get_ident())
        if key in _SESSIONS:  # nested: the outer session's connection serves
            yield
            return
        with self.connect() as conn:
            _SESSIONS[key] = conn
            try:
                yield
            finally:
                del _SESSIONS[key]

    @contextlib.contextmanager
    def connect(self, read_only: bool = False) -> Iterator[Any]:
        if (held := _SESSIONS.get((self.path, threading.get_ident()))) is not None:
            # A cursor of the session's database: no file to open, a warm buffer cache, and
            # a result left unfetched by one operation cannot block the next.
            cursor = held.cursor()
            try:
                self._configure(cursor)
                yield cursor
            finally:
                cursor.close()
            return
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
            self._configure(conn)
            if not read_only and self.path not in _SCHEMAS_READY:
                # The medallion schemas, once per process and file. Here rather than in
                # resource setup: a lock wait that runs out then fails inside the step,
                # where its retry policy applies, not before it.
                self._create_schemas(conn, WAREHOUSE_SCHEMAS)
                _SCHEMAS_READY.add(self.path)
            yield conn
        finally:
            conn.close()

    @staticmethod
    def _configure(conn: Any) -> None:
        # TIMESTAMPTZ arithmetic and DATE(ts) in UTC, as on BigQuery, whatever the machine's
        # time zone.
        conn.execute("SET TimeZone = 'UTC'")
        conn.execute("SET enable_progress_bar = false")  # no bars in run logs

    def _create_schemas(self, conn: Any, schemas: Sequence[str]) -> None:
        for schema in schemas:
            conn.execute(f"CREATE SCHEMA IF NOT EXISTS {self.quote(schema)}")

    def ensure_schemas(self, schemas: Sequence[str] = WAREHOUSE_SCHEMAS) -> None:
        with self.connect() as conn:
            self._create_schemas(conn, schemas)

    def execute(self, sql: str, params: Sequence[Any] | None = None) -> None:
        with self.connect() as conn:
            conn.execute(sql, params)

    def execute_script(self, statements: Sequence[str]) -> None:
        with self.connect() as conn:
            conn.execute("BEGIN TRANSACTION")
            try:
                for statement in statements:
                    conn.execute(statement)
                conn.execute("COMMIT")
            except BaseException:
                conn.execute("ROLLBACK")
                raise

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
    def _source(conn: Any, data: DataLike, name: str = "_incoming") -> str:
        """Expose ``data`` to SQL as a relation name (Arrow) or a read_parquet() call."""
        if isinstance(data, pa.RecordBatchReader):
            data = data.read_all()  # a reader can be scanned once; loads scan twice
        if isinstance(data, pa.Table):
            conn.register(name, data)
            return name
        paths = [data] if isinstance(data, str | os.PathLike) else list(data)
        if not paths:
            raise ValueError("no Parquet files to load (pass an empty Arrow table instead)")
        quoted = ", ".join("'" + str(p).replace("'", "''") + "'" for p in paths)
        # Objects of one partition may differ in their added columns: match them by name.
        return f"read_parquet([{quoted}], union_by_name = true)"

    def _add_missing_columns(self, conn: Any, table: str, src: str) -> list[str]:
        """``ALTER TABLE … ADD COLUMN`` for each column of ``src`` that ``table`` lacks, with
        the data's type (on the caller's transaction); returns the added names."""
        have = {r[0] for r in conn.execute(f"DESCRIBE {self.quote(table)}").fetchall()}
        added = []
        for name, type_, *_ in conn.execute(f"DESCRIBE SELECT * FROM {src}").fetchall():
            if name not in have:
                # The type string comes from DuckDB itself; the name is checked and quoted.
                conn.execute(f"ALTER TABLE {self.quote(table)} "
                             f"ADD COLUMN {self.quote(name)} {type_}")
                added.append(name)
        return added

    def load_table(self, table: str, data: ArrowLike | str | os.PathLike, *,
                   mode: str = "replace") -> int:
        if mode not in ("replace", "append"):
            raise ValueError("mode must be 'replace' or 'append'")
        schema, _ = _split(table)
        target = self.quote(table)
        with self.connect() as conn:
            self._create_schemas(conn, [schema])
            src = self._source(conn, data)
            conn.execute("BEGIN TRANSACTION")
            try:
                if mode == "replace":
                    conn.execute(f"CREATE OR REPLACE TABLE {target} AS SELECT * FROM {src}")
                else:
                    conn.execute(f"CREATE TABLE IF NOT EXISTS {target} AS "
                                 f"SELECT * FROM {src} LIMIT 0")
                    self._add_missing_columns(conn, table, src)
                    conn.execute(f"INSERT INTO {target} BY NAME SELECT * FROM {src}")
                rows = conn.execute(f"SELECT count(*) FROM {src}").fetchall()[0][0]
                conn.execute("COMMIT")
            except BaseException:
                conn.execute("ROLLBACK")
                raise
        return int(rows)

    def replace_partitions(self, writes: Sequence[PartitionWrite]) -> list[int]:
        counts = []
        with self.connect() as conn:
            self._create_schemas(conn, sorted({_split(w.table)[0] for w in writes}))
            # One transaction: every DELETE + INSERT commits together or not at all.
            conn.execute("BEGIN TRANSACTION")
            try:
                for i, w in enumerate(writes):
                    counts.append(self._replace_one(conn, w, f"_incoming_{i}"))
                conn.execute("COMMIT")
            except BaseException:
                conn.execute("ROLLBACK")
                raise
        return counts

    def _replace_one(self, conn: Any, w: PartitionWrite, name: str) -> int:
        target = self.quote(w.table)
        if not w.partition or any(v is None for v in w.partition.values()):
            raise ValueError("a partition needs at least one column; values must not be None")
        columns = [self.quote(c) for c in w.partition]
        values = list(w.partition.values())
        where = " AND ".join(f"{c} = ?" for c in columns)
        src = self._source(conn, w.data, name)
        outside = " OR ".join(f"{c} IS DISTINCT FROM ?" for c in columns)
        stray = conn.execute(f"SELECT count(*) FROM {src} WHERE {outside}",
                             values).fetchall()[0][0]
        if stray:
            shown = ", ".join(f"{c} = {v!r}" for c, v in w.partition.items())
            raise ValueError(f"{stray} rows of the data are not in partition {shown} "
                             f"of {w.table}")
        conn.execute(f"CREATE TABLE IF NOT EXISTS {target} AS SELECT * FROM {src} LIMIT 0")
        self._add_missing_columns(conn, w.table, src)
        conn.execute(f"DELETE FROM {target} WHERE {where}", values)
        conn.execute(f"INSERT INTO {target} BY NAME SELECT * FROM {src}")
        return int(conn.execute(f"SELECT count(*) FROM {target} WHERE {where}",
                                values).fetchall()[0][0])
