"""One bronze partition: every object of ``{table}/date=D/`` -> the bronze table, atomically.

The steps, in order:
1. collect the partition's objects: the inbox's ``{table}/date=D/…`` plus undated
   ``{table}/{name}`` objects uploaded on D, and the archive/quarantine copies of objects
   no longer in the inbox (so a backfill works after the inbox is cleaned). Inbox objects
   that may still be being written (:meth:`ObjectStore.unsettled`) are left for a later run;
2. skip objects whose md5 is already loaded under another name (``skipped_duplicate``),
   reject badly named or unreadable ones (``rejected``, with the reason), clean the rest
   with :func:`ecommerce_assets.bronze.agent.clean_object`. An object deleted or
   overwritten after it was listed is ``vanished`` / ``changed``: not a bad object, and
   the sensor takes its new version;
3. stage the cleaned Parquet in the staging bucket, then replace the bronze partition, its
   quarantine rows and this run's file-registry rows in **one** warehouse transaction;
4. only then copy loaded originals to the archive and move rejected ones to the quarantine
   bucket (a failure before the commit leaves every bucket and table as it was). Every
   copy, move and delete names the generation that was read: a newer version is left
   where it is.

Canonical keys: a dated inbox object keeps its key ``{table}/date=D/{name}``; an undated
one ``{table}/{name}`` becomes ``{table}/undated/date=D/{name}``, which no dated key can
equal (``undated`` is not ``date=…``). Archive and quarantine copies are stored under the
canonical key, which is also bronze's ``source_object``.

The file registry keeps history: a run writes its rows as the partition
(``table_name``, ``landing_date``, ``run_id``), so a retry of the same run replaces its own
rows and the rows of earlier runs stay. The **current** state of a landing day is the rows
of its newest run (greatest ``processed_at``; runs of one partition are serialized by the
warehouse pool): whatever means "is loaded now" reads :func:`current_registry_sql`.
A ``skipped_duplicate`` refers to one version (key, generation, md5) loaded elsewhere; when
a run leaves that md5 loaded nowhere, the skipping days are reported in
``PartitionReport.stale`` so that they are ingested again.
"""

from __future__ import annotations

import datetime as dt
import hashlib
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
from resources.object_store import ObjectChangedError, ObjectInfo, ObjectStore
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
# Listed, then deleted / overwritten before it was read: nothing of that version to load.
VANISHED, CHANGED = "vanished", "changed"

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

    key: str  # canonical key: {table}/date=D/{name} or {table}/undated/date=D/{name}
    store: str  # inbox | archive | quarantine
    stored_key: str  # key in that store
    info: ObjectInfo


@dataclass
class PartitionReport:
    table: str
    landing_date: dt.date
    rows: int = 0  # rows in the bronze partition after the load
    registry: list[dict] = field(default_factory=list)
    # Other landing days whose skipped_duplicate rows now refer to an md5 loaded nowhere:
    # (day, reason); they must be ingested again.
    stale: list[tuple[dt.date, str]] = field(default_factory=list)
    deferred: list[str] = field(default_factory=list)  # inbox keys not settled yet

    def total(self, column: str, status: str | None = None) -> int:
        return sum(r[column] for r in self.registry if status in (None, r["status"]))

    def count(self, status: str) -> int:
        return sum(1 for r in self.registry if r["status"] == status)


def partition_prefix(table: str, date: dt.date) -> str:
    return f"{table}/date={date.isoformat()}/"


def undated_prefix(table: str, date: dt.date) -> str:
    """Canonical prefix of undated objects uploaded on ``date``: never a dated key."""
    return f"{table}/undated/date={date.isoformat()}/"


def collect_sources(table: str, date: dt.date, buckets: Buckets,
                    now: dt.datetime | None = None,
                    deferred: list[str] | None = None) -> list[Source]:
    """The partition's objects, one per canonical key: the inbox copy when there is one.

    Inbox objects still unsettled at ``now`` are not taken (their keys go to ``deferred``):
    the sensor requests another run once they are."""
    now = now or dt.datetime.now(dt.UTC)
    prefix, undated = partition_prefix(table, date), undated_prefix(table, date)
    found: dict[str, Source] = {}

    def offer(source: Source) -> None:
        current = found.get(source.key)
        # inbox beats archive/quarantine; between those two the newer copy wins.
        if current is None or (current.store != "inbox" and (
                source.store == "inbox" or source.info.updated > current.info.updated)):
            found[source.key] = source

    for name in ("archive", "quarantine"):
        for stored in (prefix, undated):
            for info in getattr(buckets, name).list(stored):
                offer(Source(info.key, name, info.key, info))
    inbox = [Source(undated + info.key.rsplit("/", 1)[-1], "inbox", info.key, info)
             for info in buckets.inbox.list(f"{table}/", recursive=False)  # by upload day
             if info.updated.astimezone(dt.UTC).date() == date]
    inbox += [Source(info.key, "inbox", info.key, info) for info in buckets.inbox.list(prefix)]
    for source in inbox:
        if buckets.inbox.unsettled(source.info, now):
            log.info("%s may still be being written: left for a later run", source.stored_key)
            if deferred is not None:
                deferred.append(source.stored_key)
        else:
            offer(source)
    return sorted(found.values(), key=lambda s: s.key)


def current_registry_sql(where: str = "TRUE") -> str:
    """A subquery of the current ``ops.file_registry`` rows (those of the newest run of
    each table and landing day) among the rows matching ``where`` (trusted SQL; values
    as ``?`` parameters)."""
    return (f"(SELECT r.* FROM {REGISTRY_TABLE} AS r JOIN ("
            f"SELECT table_name, landing_date, max(processed_at) AS newest "
            f"FROM {REGISTRY_TABLE} WHERE {where} GROUP BY table_name, landing_date) AS n "
            f"ON r.table_name = n.table_name AND r.landing_date = n.landing_date "
            f"AND r.processed_at = n.newest)")


def _loaded_elsewhere(warehouse: Warehouse, table: str, date: dt.date,
                      md5s: list[str]) -> dict[str, str]:
    """md5 -> the version (key and generation) of this table loaded now in another
    partition."""
    if not md5s or not warehouse.table_exists(REGISTRY_TABLE):
        return {}
    marks = ", ".join("?" * len(md5s))
    rows = warehouse.query_arrow(
        f"SELECT md5, min(object_key || ' generation ' || generation) AS version "
        f"FROM {current_registry_sql('table_name = ?')} AS c "
        f"WHERE landing_date <> ? AND status = '{LOADED}' AND md5 IN ({marks}) GROUP BY md5",
        [table, date, *md5s]).to_pylist()
    return {r["md5"]: r["version"] for r in rows}


def _stale_skips(warehouse: Warehouse, table: str,
                 date: dt.date) -> list[tuple[dt.date, str]]:
    """Other landing days whose skipped duplicates refer to an md5 loaded nowhere now."""
    current = current_registry_sql("table_name = ?")
    rows = warehouse.query_arrow(
        f"SELECT landing_date, min(object_key) AS object_key, min(md5) AS md5, "
        f"count(*) AS n FROM {current} AS s "
        f"WHERE landing_date <> ? AND status = '{SKIPPED}' AND md5 IS NOT NULL "
        f"AND md5 NOT IN (SELECT md5 FROM {current} AS l "
        f"WHERE status = '{LOADED}' AND md5 IS NOT NULL) "
        f"GROUP BY landing_date ORDER BY landing_date", [table, date, table]).to_pylist()
    return [(r["landing_date"],
             f"{r['n']} object(s) skipped as duplicates (e.g. {r['object_key']}, md5 "
             f"{r['md5']}) of content no longer loaded after {table} {date} was re-ingested")
            for r in rows]


def ingest_partition(table: BronzeTable, date: dt.date, *, warehouse: Warehouse,
                     buckets: Buckets, run_id: str,
                     processed_at: dt.datetime | None = None) -> PartitionReport:
    processed_at = processed_at or dt.datetime.now(dt.UTC)
    report = PartitionReport(table.name, date)
    sources = collect_sources(table.name, date, buckets, deferred=report.deferred)
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
            elif not is_valid_key(source.key):
                _reject(entry, f"object name too long for its archive key {source.key!r}")
            elif reason := disallowed_type(source.key):
                _reject(entry, reason)
            elif duplicate_of:
                entry.update(status=SKIPPED, reason=(
                    f"same md5 {source.info.md5} as {duplicate_of} (loaded)"))
            else:
                out = Path(tmp) / f"{len(staged):05d}.parquet"
                lineage = Lineage(table.name, source.key, date, processed_at, run_id)
                result = _clean_one(table, buckets, source, out, lineage, entry)
                if result is not None:
                    staged[source.key] = out
                    quarantine += result.quarantine
                    if source.info.md5:  # later namesakes: duplicates of this version
                        earlier[source.info.md5] = (
                            f"{source.key} generation {source.info.generation}")
        staging_keys = _stage(table.name, date, staged, buckets.staging)
        data = list(staged.values()) or table.arrow_schema.empty_table()
        # The staged copies in the staging bucket: BigQuery loads those, no second upload.
        uris = tuple(buckets.staging.uri(_staging_key(table.name, date, k)) for k in staged)
        rows, _, _ = warehouse.replace_partitions([
            PartitionWrite(table.warehouse_table, {"landing_date": date}, data, uris),
            PartitionWrite(QUARANTINE_TABLE, {"table_name": table.name, "landing_date": date},
                           pa.concat_tables([QUARANTINE_SCHEMA.empty_table(), *quarantine])),
            # History: one registry partition per run, so earlier runs' rows stay.
            PartitionWrite(REGISTRY_TABLE, {"table_name": table.name, "landing_date": date,
                                            "run_id": run_id},
                           pa.Table.from_pylist(report.registry, REGISTRY_SCHEMA)),
        ])
    report.rows = rows
    report.stale = _stale_skips(warehouse, table.name, date)
    _remove_stale_staging(table.name, date, staging_keys, buckets.staging)
    for source, entry in zip(sources, report.registry, strict=True):
        if is_valid_key(source.stored_key) and is_valid_key(source.key):
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


def _gone(entry: dict, store: str, exc: ObjectChangedError) -> None:
    if exc.current is None:
        entry.update(status=VANISHED, reason=f"deleted from the {store} before it was read")
    else:
        entry.update(status=CHANGED, reason=(
            f"overwritten in the {store} while it was read (generation {exc.expected} -> "
            f"{exc.current}); the new version is taken by another run"))


def _clean_one(table: BronzeTable, buckets: Buckets, source: Source, out: Path,
               lineage: Lineage, entry: dict) -> ObjectResult | None:
    store = getattr(buckets, source.store)
    try:
        with store.local_copy(source.stored_key, source.info.generation) as path:
            result = clean_object(table, path, out, lineage)
    except ObjectChangedError as exc:  # not a bad object: the version listed is gone
        _gone(entry, source.store, exc)
        out.unlink(missing_ok=True)
        return None
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
    # A digest of the canonical key: unique per object, and it does not grow with the name
    # (a 250-character name plus '.parquet' exceeds a file system's name limit).
    digest = hashlib.sha256(key.encode()).hexdigest()[:32]
    return f"bronze/{table}/landing_date={date.isoformat()}/{digest}.parquet"


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
    undated inbox objects (``{table}/{name}``): their archive copy under the canonical key
    is what a backfill reads, and the inbox sensor need not list them again. A copy of the
    same key in the other bucket is an older version, now superseded, and is removed, so a
    later backfill reads exactly one version of each object. Only the generation that was
    read is copied or deleted: an object overwritten since stays where it is.
    """
    if status not in (LOADED, SKIPPED, REJECTED):  # vanished/changed: nothing to move
        return
    target, other = ("quarantine", "archive") if status == REJECTED else ("archive", "quarantine")
    stores = {"inbox": buckets.inbox, "archive": buckets.archive,
              "quarantine": buckets.quarantine}
    generation = source.info.generation
    try:
        if source.store != target:
            stores[source.store].copy_to(source.stored_key, stores[target], source.key,
                                         generation=generation)
            undated = source.store == "inbox" and source.stored_key != source.key
            if source.store == other or status == REJECTED or undated:
                stores[source.store].delete(source.stored_key, generation=generation)
        stores[other].delete(source.key)
    except ObjectChangedError as exc:  # the sensor takes the new version
        log.warning("left %s in the %s bucket: %s", source.stored_key, source.store, exc)
    except Exception:  # the load is committed; the next run of the partition settles it
        log.exception("could not move %s to the %s bucket", source.stored_key, target)
