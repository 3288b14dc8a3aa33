"""Write tables into an inbox in the landing layout ``{table}/date=YYYY-MM-DD/{name}``."""

from __future__ import annotations

import datetime as dt
import gzip
import shutil
import tempfile
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from ecommerce_assets.formats import SEED_TIMESTAMP_FORMAT
from resources.object_store import ObjectStore

FORMATS = ("csv", "parquet", "jsonl")


def landing_key(table: str, date: dt.date, name: str) -> str:
    return f"{table}/date={date.isoformat()}/{name}"


def timestamps_as_text(table: pa.Table, fmt: str = SEED_TIMESTAMP_FORMAT) -> pa.Table:
    """Render timestamp columns the way a BigQuery export writes them."""
    for i, field in enumerate(table.schema):
        if pa.types.is_timestamp(field.type):
            # Whole seconds: cast to 's' so %S prints no fractional part.
            seconds = table.column(i).cast(pa.timestamp("s", tz="UTC"))
            table = table.set_column(i, field.name, pc.strftime(seconds, format=fmt))
    return table


def write_local_file(table: pa.Table, path: Path, fmt: str) -> None:
    """Write ``table`` to ``path`` as csv (header, RFC 4180 quoting), parquet or jsonl."""
    if fmt == "csv":
        pacsv.write_csv(timestamps_as_text(table), path)
    elif fmt == "parquet":
        pq.write_table(table, path, compression="zstd")
    elif fmt == "jsonl":
        import duckdb

        with duckdb.connect() as conn:
            conn.register("t", timestamps_as_text(table))
            escaped = str(path).replace("'", "''")
            conn.execute(f"COPY t TO '{escaped}' (FORMAT json)")
    else:
        raise ValueError(f"unknown format {fmt!r}; expected one of {FORMATS}")


def write_table(store: ObjectStore, table_name: str, table: pa.Table, date: dt.date,
                stem: str, fmt: str = "csv", gzip_files: bool = False,
                max_rows_per_file: int = 1_000_000) -> list[dict]:
    """Write ``table`` as one or more files; returns [{key, rows}] per file written."""
    written = []
    n_parts = max(1, -(-table.num_rows // max_rows_per_file))
    with tempfile.TemporaryDirectory() as tmp:
        for part in range(n_parts):
            chunk = table.slice(part * max_rows_per_file, max_rows_per_file)
            name = f"{stem}_{part:03d}.{fmt}" if n_parts > 1 else f"{stem}.{fmt}"
            local = Path(tmp) / name
            write_local_file(chunk, local, fmt)
            if gzip_files:
                gz = local.with_name(local.name + ".gz")
                with open(local, "rb") as src, gzip.open(gz, "wb", compresslevel=5) as dst:
                    shutil.copyfileobj(src, dst, 1 << 20)
                local, name = gz, gz.name
            key = landing_key(table_name, date, name)
            store.upload_file(key, local)
            written.append({"key": key, "rows": chunk.num_rows})
    return written
