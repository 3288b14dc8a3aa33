"""One bronze partition: every object of ``{table}/date=D/`` -> the bronze table, atomically.

The steps, in order:
1. collect the partition's objects: the inbox's ``{table}/date=D/…`` plus undated
   ``{table}/{name}`` objects uploaded on D, and the archive/quarantine copies of objects
   no longer in the inbox (so a backfill works after the inbox is cleaned);
2. skip objects whose md5 is already loaded under another name (``skipped_duplicate``),
   reject badly named or unreadable ones (``rejected``, with the reason), clean the rest
   with :func:`ecommerce_assets.bronze.agent.clean_object`;
3. stage the cleaned Parquet in the staging bucket, then replace the bronze partition, its
   quarantine rows and its file-registry rows in **one** warehouse transaction;
4. only then copy loaded originals to the archive and move rejected ones to the quarantine
   bucket (a failure before the commit leaves every bucket and table as it was).
"""

from __future__ import annotations

import datetime as dt
import logging
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import pyarrow as pa

from ecommerce_assets.bronze.agent import QUARANTINE_SCHEMA, Lineage, ObjectResult, clean_object
from ecommerce_assets.bronze.readers import UnreadableObject
from ecommerce_assets.bronze.spec import BronzeTable
from ecommerce_assets.formats import disallowed_type
from resources.keys import is_valid_key
from resources.object_store import ObjectInfo, ObjectStore
from resources.warehouse import PartitionWrite, Warehouse

QUARANTINE_TABLE = "ops.quarantine"
REGISTRY_TABLE = "ops.file_registry"
REGISTRY_SCHEMA = pa.schema([
    ("table_name", pa.string()), ("landing_date", pa.date32()),
    ("object_key", pa.string()), ("read_from", pa.string()),
    ("generation", pa.string()), ("md5", pa.string()), ("size_bytes", pa.int64()),
    ("format", pa.string()), ("encoding", pa.string()), ("status", pa.string()), ("reason", pa.string()),
    ("rows_read", pa.int64()), ("rows_loaded", pa.int64()), ("rows_quarantined", pa.int64()),
    ("duplicates_flagged", pa.int64()), ("missing_columns", pa.string()),
    ("extra_columns", pa.string()), ("run_id", pa.string()),
    ("processed_at", pa.timestamp("us", tz="UTC")),
])
LOADED, REJECTED, SKIPPED = "loaded", "rejected", "skipped_duplicate"

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Buckets:
    inbox: ObjectStore
    staging: ObjectStore
    archive: ObjectStore
    quarantine: ObjectStore


@dataclass
class Source:
    """One object of the partition and where it is read from."""

    key: str  # canonical key: {table}/date=D/{name}
    store: str  # inbox | archive | quarantine
    stored_key: str  # key in that store
    info: ObjectInfo


@dataclass
class PartitionReport:
    table: str
    landing_date: dt.date
    rows: int = 0  # rows in the bronze partition after the load
    registry: list[dict] = field(default_factory=list)

    def total(self, column: str, status: str | None = None) -> int:
        return sum(r[column] for r in self.registry if status in (None, r["status"]))

    def count(self, status: str) -> int:
        return sum(1 for r in self.registry if r["status"] == status)


def partition_prefix(table: str, date: dt.date) -> str:
    return f"{table}/date={date.isoformat()}/"


def collect_sources(table: str, date: dt.date, buckets: Buckets) -> list[Source]:
    """The partition's objects, one per canonical key: the inbox copy when there is one."""
    prefix = partition_prefix(table, date)
    found: dict[str, Source] = {}

    def offer(source: Source) -> None:
        current = found.get(source.key)
        # inbox beats archive/quarantine; between those two the newer copy wins.
        if current is None or (current.store != "inbox" and (
                source.store == "inbox" or source.info.updated > current.info.updated)):
            found[source.key] = source

    for name in ("archive", "quarantine"):
        for info in getattr(buckets, name).list(prefix):
            offer(Source(info.key, name, info.key, info))
    for info in buckets.inbox.list(f"{table}/", recursive=False):  # undated: by upload day
        if info.updated.astimezone(dt.UTC).date() == date:
            offer(Source(prefix + info.key.rsplit("/", 1)[-1], "inbox", info.key, info))
    for info in buckets.inbox.list(prefix):  # dated objects win over undated namesakes
        offer(Source(info.key, "inbox", info.key, info))
    return sorted(found.values(), key=lambda s: s.key)


def _loaded_elsewhere(warehouse: Warehouse, table: str, date: dt.date,
                      md5s: list[str]) -> dict[str, str]:
    """md5 -> object key, for objects of this table loaded in other partitions."""
    if not md5s or not warehouse.table_exists(REGISTRY_TABLE):
        return {}
    marks = ", ".join("?" * len(md5s))
    rows = warehouse.query_arrow(
        f"SELECT md5, min(object_key) AS object_key FROM {REGISTRY_TABLE} "
        f"WHERE table_name = ? AND landing_date <> ? AND status = '{LOADED}' "
        f"AND md5 IN ({marks}) GROUP BY md5", [table, date, *md5s]).to_pylist()
    return {r["md5"]: r["object_key"] for r in rows}


def ingest_partition(table: BronzeTable, date: dt.date, *, warehouse: Warehouse,
                     buckets: Buckets, run_id: str,
                     processed_at: dt.datetime | None = None) -> PartitionReport:
    processed_at = processed_at or dt.datetime.now(dt.UTC)
    report = PartitionReport(table.name, date)
    sources = collect_sources(table.name, date, buckets)
    earlier = _loaded_elsewhere(warehouse, table.name, date,
                                sorted({s.info.md5 for s in sources if s.info.md5}))
    quarantine: list[pa.Table] = []
    with tempfile.TemporaryDirectory(prefix="bronze-") as tmp:
        staged: dict[str, Path] = {}
        for source in sources:
            entry = _registry_entry(table.name, date, source, run_id, processed_at)
            report.registry.append(entry)
            duplicate_of = earlier.get(source.info.md5) if source.info.md5 else None
            if not is_valid_key(source.stored_key):
                _reject(entry, f"invalid object name {source.stored_key!r}")
            elif reason := disallowed_type(source.key):
                _reject(entry, reason)
            elif duplicate_of:
                entry.update(status=SKIPPED, reason=f"same md5 as {duplicate_of} (loaded)")
            else:
                out = Path(tmp) / f"{len(staged):05d}.parquet"
                lineage = Lineage(table.name, source.key, date, processed_at, run_id)
                result = _clean_one(table, buckets, source, out, lineage, entry)
                if result is not None:
                    staged[source.key] = out
                    quarantine += result.quarantine
                    if source.info.md5:
                        earlier[source.info.md5] = source.key  # later namesakes: duplicates
        staging_keys = _stage(table.name, date, staged, buckets.staging)
        data = list(staged.values()) or table.arrow_schema.empty_table()
        rows, _, _ = warehouse.replace_partitions([
            PartitionWrite(table.warehouse_table, {"landing_date": date}, data),
            PartitionWrite(QUARANTINE_TABLE, {"table_name": table.name, "landing_date": date},
                           pa.concat_tables([QUARANTINE_SCHEMA.empty_table(), *quarantine])),
            PartitionWrite(REGISTRY_TABLE, {"table_name": table.name, "landing_date": date},
                           pa.Table.from_pylist(report.registry, REGISTRY_SCHEMA)),
        ])
    report.rows = rows
    _remove_stale_staging(table.name, date, staging_keys, buckets.staging)
    for source, entry in zip(sources, report.registry, strict=True):
        if is_valid_key(source.stored_key):
            _settle(source, entry["status"], buckets)
    return report


def _registry_entry(table: str, date: dt.date, source: Source, run_id: str,
                    processed_at: dt.datetime) -> dict:
    return {"table_name": table, "landing_date": date, "object_key": source.key,
            "read_from": f"{source.store}:{source.stored_key}",
            "generation": source.info.generation, "md5": source.info.md5,
            "size_bytes": source.info.size, "format": None, "encoding": None, "status": LOADED, "reason": None,
            "rows_read": 0, "rows_loaded": 0, "rows_quarantined": 0, "duplicates_flagged": 0,
            "missing_columns": None, "extra_columns": None, "run_id": run_id,
            "processed_at": processed_at}


def _reject(entry: dict, reason: str) -> None:
    entry.update(status=REJECTED, reason=reason)


def _clean_one(table: BronzeTable, buckets: Buckets, source: Source, out: Path,
               lineage: Lineage, entry: dict) -> ObjectResult | None:
    store = getattr(buckets, source.store)
    try:
        with store.local_copy(source.stored_key) as path:
            result = clean_object(table, path, out, lineage)
    except UnreadableObject as exc:
        _reject(entry, str(exc))
        return None
    except Exception as exc:  # a bad object must never fail the whole partition
        log.exception("could not ingest %s", source.stored_key)
        _reject(entry, f"unreadable: {type(exc).__name__}: {exc}")
        out.unlink(missing_ok=True)
        return None
    entry.update(format=result.format, encoding=result.encoding, rows_read=result.rows_read,
                 rows_loaded=result.rows_loaded, rows_quarantined=result.rows_quarantined,
                 duplicates_flagged=result.duplicates_flagged,
                 missing_columns=",".join(result.missing_columns) or None,
                 extra_columns=",".join(result.extra_columns) or None)
    return result


def _staging_key(table: str, date: dt.date, key: str) -> str:
    rest = key[len(partition_prefix(table, date)):]
    return f"bronze/{table}/landing_date={date.isoformat()}/{rest}.parquet"


def _stage(table: str, date: dt.date, staged: dict[str, Path],
           staging: ObjectStore) -> set[str]:
    keys = set()
    for key, path in staged.items():
        staging_key = _staging_key(table, date, key)
        staging.upload_file(staging_key, path)
        keys.add(staging_key)
    return keys


def _remove_stale_staging(table: str, date: dt.date, keep: set[str],
                          staging: ObjectStore) -> None:
    prefix = f"bronze/{table}/landing_date={date.isoformat()}/"
    for info in list(staging.list(prefix)):
        if info.key not in keep:
            staging.delete(info.key)


def _settle(source: Source, status: str, buckets: Buckets) -> None:
    """Put the original where its status says: archive (loaded, skipped) or quarantine.

    Loaded originals are copied (the inbox keeps them); rejected ones are moved, and so are
    undated inbox objects (``{table}/{name}``): their archive copy under the dated key is
    what a backfill reads, and the inbox sensor need not list them again. A copy of the
    same key in the other bucket is an older version, now superseded, and is removed, so a
    later backfill reads exactly one version of each object.
    """
    target, other = ("quarantine", "archive") if status == REJECTED else ("archive", "quarantine")
    stores = {"inbox": buckets.inbox, "archive": buckets.archive,
              "quarantine": buckets.quarantine}
    try:
        if source.store != target:
            stores[source.store].copy_to(source.stored_key, stores[target], source.key)
            undated = source.store == "inbox" and source.stored_key != source.key
            if source.store == other or status == REJECTED or undated:
                stores[source.store].delete(source.stored_key)
        stores[other].delete(source.key)
    except Exception:  # the load is committed; the next run of the partition settles it
        log.exception("could not move %s to the %s bucket", source.stored_key, target)
