"""The ingestion agent: one inbox object -> a typed Parquet file + quarantined rows.

Per batch of raw columns (see :mod:`ecommerce_assets.bronze.readers`):
1. flag repeats of an identical raw row within the object (``is_duplicate_in_file``);
2. coerce every column the table's Pandera model defines (trim, null sentinels, integers,
   floats, prices with their currency code, timestamps in any known format -> UTC);
3. quarantine rows whose key is missing or whose values cannot be read or fail the model's
   checks, with the raw values and the reasons;
4. keep columns the model does not define in ``extra_columns`` (JSON), record missing ones;
5. additive schema evolution: each such column whose name is a valid identifier (at most
   :data:`MAX_ADDED_COLUMNS` per object) is also kept as a column of its own, nullable
   STRING with the generic text cleaning; the warehouse adds it to the table on load.
Columns are coerced in parallel threads (pyarrow kernels release the GIL).
"""

from __future__ import annotations

import datetime as dt
import os
import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import duckdb
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from ecommerce_assets.bronze.cleaning import (
    TIMESTAMP_TYPE,
    check_failures,
    clean_text,
    coerce,
    json_objects,
)
from ecommerce_assets.bronze.readers import (
    CP1252,
    ENCODING_LABELS,
    BadRecord,
    ObjectReader,
    RawBatch,
    UnreadableObject,
    open_reader,
    plain_file,
    utf8_file,
)
from ecommerce_assets.bronze.spec import VALUE_TYPE_SUFFIX, BronzeTable
from ecommerce_assets.steps import computed_ahead
from resources.keys import InvalidIdentifierError, validate_identifier

QUARANTINE_SCHEMA = pa.schema([
    ("table_name", pa.string()), ("landing_date", pa.date32()),
    ("source_object", pa.string()), ("source_line", pa.int64()),
    ("reason", pa.string()), ("raw_values", pa.string()),
    ("run_id", pa.string()), ("quarantined_at", TIMESTAMP_TYPE),
])
_WORKERS = max(1, min(4, os.cpu_count() or 1))
# Columns one object may add to its bronze table: enough for a real new export field or
# three, few enough that a file with a garbage header cannot bloat the table.
MAX_ADDED_COLUMNS = 50


@dataclass
class ObjectResult:
    """What the agent did with one object (one row of ``ops.file_registry``)."""

    rows_read: int = 0
    rows_loaded: int = 0
    rows_quarantined: int = 0
    duplicates_flagged: int = 0
    format: str | None = None
    encoding: str | None = None  # utf-8, utf-8-sig, utf-16-le, utf-16-be, cp1252 (None: Parquet)
    missing_columns: list[str] = field(default_factory=list)
    extra_columns: list[str] = field(default_factory=list)
    added_columns: list[str] = field(default_factory=list)  # extras loaded as own columns
    not_added: dict[str, str] = field(default_factory=dict)  # extra -> why it is JSON only
    quarantine: list[pa.Table] = field(default_factory=list)


@dataclass(frozen=True)
class Lineage:
    table_name: str
    source_object: str
    landing_date: dt.date
    processed_at: dt.datetime
    run_id: str


def clean_object(table: BronzeTable, path: Path, out: Path, lineage: Lineage) -> ObjectResult:
    """Clean the object at ``path`` into the Parquet file ``out``.

    Raises :class:`UnreadableObject` when the object cannot be read as this table; ``out``
    is then absent. A UTF-8 object that turns out to hold other bytes past the sample is
    read again as Windows-1252.
    """
    with plain_file(path) as (plain, compression), utf8_file(plain) as (text, utf16):
        try:
            result = _clean(table, open_reader(text, compression), out, lineage)
        except (pa.ArrowInvalid, UnicodeDecodeError) as exc:
            if isinstance(exc, pa.ArrowInvalid) and "utf8" not in str(exc).lower():
                raise UnreadableObject(f"unreadable: {exc}") from exc
            out.unlink(missing_ok=True)
            result = _clean(table, open_reader(text, compression, CP1252), out, lineage)
            result.encoding = ENCODING_LABELS[CP1252]
        if utf16:
            result.encoding = utf16
        return result


def _clean(table: BronzeTable, reader: ObjectReader, out: Path,
           lineage: Lineage) -> ObjectResult:
    if table.key not in reader.header:
        shown = ", ".join(reader.header[:8]) or "nothing"
        raise UnreadableObject(f"no header naming the key column {table.key!r} "
                               f"(first row reads: {shown})")
    dupes = sorted({n for n in reader.header if reader.header.count(n) > 1})
    if dupes:
        raise UnreadableObject(f"duplicate column names after normalization: {dupes}")
    result = ObjectResult(format=reader.format, encoding=reader.encoding)
    known = [c.name for c in table.source_columns]
    present = set(reader.header)
    extras: list[str] = []
    added, result.not_added = added_columns(table, reader.header)
    schema = pa.schema([*table.arrow_schema, *(pa.field(n, pa.string()) for n in added)])
    seen = _SeenRows()
    conn = _hasher()
    writer = pq.ParquetWriter(out, schema, compression="snappy")
    try:
        with ThreadPoolExecutor(_WORKERS) as pool:
            # The next batches are read in a worker thread while this one is cleaned (Arrow's
            # CSV parser releases the GIL), at most two waiting in memory.
            for batch in computed_ahead(reader.batches, depth=2):
                present.update(batch.columns)
                extras += [c for c in batch.columns if c not in known and c not in extras]
                duplicate = seen.flag(_row_hashes(conn, batch))
                typed, quarantine = _clean_batch(table, batch, duplicate, lineage, pool,
                                                 schema)
                writer.write_table(typed)
                result.rows_read += len(batch.lines)
                result.rows_loaded += typed.num_rows
                result.duplicates_flagged += int(pc.sum(typed["is_duplicate_in_file"]).as_py()
                                                 or 0)
                if quarantine.num_rows:
                    result.quarantine.append(quarantine)
                    result.rows_quarantined += quarantine.num_rows
    except BaseException:
        writer.close()
        out.unlink(missing_ok=True)
        raise
    finally:
        conn.close()
    writer.close()
    if reader.bad_records:
        result.quarantine.append(_bad_records(reader.bad_records, lineage))
        result.rows_read += len(reader.bad_records)
        result.rows_quarantined += len(reader.bad_records)
    result.missing_columns = [c for c in known if c not in present]
    result.extra_columns = extras
    result.added_columns = added
    for name in extras:  # JSON Lines keys first seen after the sample
        if name not in added and name not in result.not_added:
            result.not_added[name] = "first seen after the header sample"
    return result


def added_columns(table: BronzeTable, header: list[str]) -> tuple[list[str], dict[str, str]]:
    """The header's columns the model lacks that become columns of their own, and why the
    others stay in ``extra_columns`` only."""
    known = {c.name for c in table.source_columns}
    taken = {c.name for c in table.columns}  # lineage and derived columns too
    added: list[str] = []
    not_added: dict[str, str] = {}
    for name in dict.fromkeys(header):
        if name in known:
            continue
        if name in taken:
            not_added[name] = "a column bronze derives itself"
            continue
        try:
            validate_identifier(name)
        except InvalidIdentifierError:
            not_added[name] = "not a valid column name (snake_case, not starting with a digit)"
            continue
        if len(added) >= MAX_ADDED_COLUMNS:
            not_added[name] = f"more than {MAX_ADDED_COLUMNS} new columns in one object"
        else:
            added.append(name)
    return added, not_added


class _SeenRows:
    """Hashes of the rows seen so far in one object, as sorted chunks (8 bytes per row).

    Membership is a binary search per chunk, so a batch costs O(n log m) and nothing is
    re-sorted as the object grows.
    """

    def __init__(self) -> None:
        self.chunks: list[np.ndarray] = []

    def flag(self, hashes: np.ndarray) -> np.ndarray:
        """True where a hash repeats an earlier one (earlier batch or earlier in this one)."""
        unique, first, inverse = np.unique(hashes, return_index=True, return_inverse=True)
        repeat = np.ones(len(hashes), dtype=bool)
        repeat[first] = False
        seen_before = np.zeros(len(unique), dtype=bool)
        for chunk in self.chunks:  # sorted queries: cache-friendly binary searches
            pos = np.searchsorted(chunk, unique).clip(max=len(chunk) - 1)
            seen_before |= chunk[pos] == unique
        repeat |= seen_before[inverse]
        new = unique[~seen_before]
        if len(new):  # a batch that only repeats earlier rows adds nothing
            self.chunks.append(new)
        # Merge chunks of similar size (a log-structured merge): O(log m) chunks remain.
        while len(self.chunks) > 1 and len(self.chunks[-2]) <= 2 * len(self.chunks[-1]):
            merged = np.concatenate([self.chunks.pop(), self.chunks.pop()])
            merged.sort()  # chunks are disjoint: no de-duplication needed
            self.chunks.append(merged)
        return repeat


_HASHER: duckdb.DuckDBPyConnection | None = None
_HASHER_LOCK = threading.Lock()


def _hasher() -> duckdb.DuckDBPyConnection:
    """A cursor of the process's in-memory DuckDB that hashes rows (:func:`_row_hashes`).
    Opening a database costs 13 ms, a cursor microseconds, and each cursor keeps its own
    registered tables, so objects cleaned at the same time do not meet."""
    global _HASHER
    with _HASHER_LOCK:
        if _HASHER is None:
            _HASHER = duckdb.connect()
        return _HASHER.cursor()


def _row_hashes(conn: duckdb.DuckDBPyConnection, batch: RawBatch) -> np.ndarray:
    """A 64-bit hash of all raw values of each row (DuckDB's ``hash``, multi-threaded)."""
    names = list(batch.columns)
    conn.register("raw", pa.table({f"c{i}": batch.columns[n] for i, n in enumerate(names)}))
    args = ", ".join(f"c{i}" for i in range(len(names)))
    hashes = conn.sql(f"SELECT hash({args}) FROM raw").to_arrow_table().column(0)
    conn.unregister("raw")
    return hashes.to_numpy().astype(np.uint64, copy=False)


def _clean_batch(table: BronzeTable, batch: RawBatch, duplicate: np.ndarray, lineage: Lineage,
                 pool: ThreadPoolExecutor, schema: pa.Schema) -> tuple[pa.Table, pa.Table]:
    n = len(batch.lines)
    specs = table.source_columns
    missing = pa.nulls(n, pa.string())
    cleaned = list(pool.map(lambda s: coerce(batch.columns.get(s.name, missing), s.kind),
                            specs))

    values: dict[str, pa.Array] = {}
    faults: list[tuple[np.ndarray, str]] = []
    for spec, (text, parsed) in zip(specs, cleaned, strict=True):
        column = text if parsed is None else parsed.values
        values[spec.name] = column
        if parsed is not None:
            if spec.kind == "price":
                values[f"{spec.name}{VALUE_TYPE_SUFFIX}"] = parsed.codes
            if parsed.bad.any():
                faults.append((parsed.bad, f"{spec.name}: not a valid {spec.kind}"))
        if not spec.nullable:
            nulls = np.asarray(column.is_null(), dtype=bool)
            if parsed is not None:
                nulls &= ~parsed.bad  # already reported as unreadable
            if nulls.any():
                faults.append((nulls, f"{spec.name}: missing (required)"))
        for failing, check in check_failures(column, spec.checks):
            faults.append((failing, f"{spec.name}: fails {check}"))

    extra = {k: v for k, v in batch.columns.items() if k not in values}
    lines = pa.array(batch.lines, pa.int64())
    full = {
        **values,
        "is_duplicate_in_file": pa.array(duplicate),
        "extra_columns": json_objects(extra, n),
        "source_object": pa.repeat(pa.scalar(lineage.source_object), n),
        "source_line": lines,
        "processed_at": pa.repeat(pa.scalar(lineage.processed_at, TIMESTAMP_TYPE), n),
        "landing_date": pa.repeat(pa.scalar(lineage.landing_date, pa.date32()), n),
    }
    for name in schema.names[len(table.columns):]:  # added columns: generic text cleaning
        full[name] = clean_text(batch.columns.get(name, missing))
    typed = pa.table([full[name] for name in schema.names], schema=schema)

    bad = np.zeros(n, dtype=bool)
    for mask, _ in faults:
        bad |= mask
    if not bad.any():
        return typed, QUARANTINE_SCHEMA.empty_table()
    rows = pa.array(np.flatnonzero(bad))
    reasons = pc.binary_join_element_wise(
        *[pa.array(np.where(mask, reason, None)).take(rows) for mask, reason in faults], "; ",
        null_handling="skip")
    raw = json_objects({k: v.take(rows) for k, v in batch.columns.items()}, len(rows))
    quarantine = _quarantine_table(lines.take(rows), reasons, raw, lineage)
    return typed.filter(pa.array(~bad)), quarantine


def _quarantine_table(lines: pa.Array, reasons: pa.Array, raw: pa.Array,
                      lineage: Lineage) -> pa.Table:
    n = len(lines)

    def const(value: object, type_: pa.DataType) -> pa.Array:
        return pa.repeat(pa.scalar(value, type_), n)

    return pa.table({
        "table_name": const(lineage.table_name, pa.string()),
        "landing_date": const(lineage.landing_date, pa.date32()),
        "source_object": const(lineage.source_object, pa.string()),
        "source_line": lines, "reason": reasons, "raw_values": raw,
        "run_id": const(lineage.run_id, pa.string()),
        "quarantined_at": const(lineage.processed_at, TIMESTAMP_TYPE),
    }, schema=QUARANTINE_SCHEMA)


def _bad_records(records: list[BadRecord], lineage: Lineage) -> pa.Table:
    return _quarantine_table(
        pa.array([r.line for r in records], pa.int64()),
        pa.array([r.reason for r in records], pa.string()),
        json_objects({"raw_line": pa.array([r.text for r in records], pa.string())},
                     len(records)),
        lineage)

