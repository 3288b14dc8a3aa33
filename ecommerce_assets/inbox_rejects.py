"""The ``inbox_rejects`` job: record inbox objects that no bronze partition can take.

The inbox sensor finds them (unknown table folder, a folder that is not a landing day, an
object at the bucket root) and launches this job once per new set. Each object gets a
``rejected`` row in ``ops.file_registry`` (``table_name`` NULL: it belongs to no table) with
the reason, and is moved to ``unrouted/<key>`` in the quarantine bucket, so the inbox stays
clean and nothing is lost. Objects whose names are not valid keys are recorded and left
where they are: no path or SQL is built from them. Only the generation the sensor saw is
moved: an object overwritten (or deleted) since stays where it is, for the sensor to see.
"""


import datetime as dt

import dagster as dg
import pyarrow as pa

from ecommerce_assets.automation import WAREHOUSE_POOL
from ecommerce_assets.bronze.ingest import REGISTRY_SCHEMA, REGISTRY_TABLE, REJECTED
from resources.keys import is_valid_key
from resources.object_store import ObjectChangedError, ObjectStore
from resources.warehouse import PartitionWrite, Warehouse

UNROUTED_PREFIX = "unrouted/"


class RejectedObject(dg.Config):
    key: str
    generation: str
    size: int = 0
    updated: str = ""  # ISO timestamp; empty for a folder that could not be listed
    reason: str


class InboxRejectsConfig(dg.Config):
    objects: list[RejectedObject]


@dg.op(pool=WAREHOUSE_POOL, retry_policy=dg.RetryPolicy(max_retries=2, delay=5))
def record_inbox_rejects(context: dg.OpExecutionContext, config: InboxRejectsConfig,
                         warehouse: Warehouse, inbox_store: ObjectStore,
                         quarantine_store: ObjectStore) -> None:
    now = dt.datetime.now(dt.UTC)
    rows = []
    for obj in config.objects:
        updated = dt.datetime.fromisoformat(obj.updated) if obj.updated else now
        moved = is_valid_key(obj.key)
        rows.append({
            "table_name": None, "landing_date": updated.astimezone(dt.UTC).date(),
            "object_key": obj.key, "read_from": f"inbox:{obj.key}",
            "generation": obj.generation, "md5": None, "size_bytes": obj.size,
            "format": None, "status": REJECTED,
            "reason": obj.reason + ("" if moved else " (left in the inbox: invalid name)"),
            "rows_read": 0, "rows_loaded": 0, "rows_quarantined": 0, "duplicates_flagged": 0,
            "missing_columns": None, "extra_columns": None, "run_id": context.run.run_id,
            "processed_at": now})
        context.log.warning(f"rejected inbox object {obj.key}: {rows[-1]['reason']}")
    # One transaction; the (object_key, generation) "partition" makes a re-run replace
    # its own rows instead of adding copies.
    warehouse.replace_partitions([
        PartitionWrite(REGISTRY_TABLE, {"object_key": r["object_key"],
                                        "generation": r["generation"]},
                       pa.Table.from_pylist([r], REGISTRY_SCHEMA)) for r in rows])
    moved = 0
    for obj in config.objects:
        if not is_valid_key(obj.key):
            continue
        try:
            inbox_store.copy_to(obj.key, quarantine_store, UNROUTED_PREFIX + obj.key,
                                generation=obj.generation)
            inbox_store.delete(obj.key, generation=obj.generation)
            moved += 1
        except ObjectChangedError as exc:
            context.log.warning(f"left {obj.key} in the inbox: {exc}")
    context.log.info(f"recorded {len(rows)} unroutable inbox objects, moved {moved} to "
                     f"{quarantine_store.uri(UNROUTED_PREFIX)}")


@dg.job(description="Record unroutable inbox objects in ops.file_registry and move them to "
                    "the quarantine bucket (launched by the inbox sensor).",
        tags={"ecommerce/kind": "inbox_rejects"})
def inbox_rejects() -> None:
    record_inbox_rejects()
