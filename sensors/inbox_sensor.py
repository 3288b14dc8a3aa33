"""The inbox sensor: inbox objects bronze has not read yet -> runs of their daily partitions.

One run per landing day covers every table that still owes objects that day (asset
selection), so a day's batch of seven files is one run, not seven. What is owed is decided by
:mod:`sensors.inbox` from the listings and from Dagster's own records, read here:

* what each bronze partition's newest materialization read (``ingested_objects``);
* which landing days a run in progress covers (never requested meanwhile);
* re-ingest requests that bronze runs logged as observations (a file that was skipped as a
  duplicate of one that has since changed);
* how the last ``inbox_rejects`` run ended.
"""

from __future__ import annotations

import datetime as dt

import dagster as dg
from dagster._core.storage.dagster_run import NOT_FINISHED_STATUSES
from dagster._core.storage.tags import (
    ASSET_PARTITION_RANGE_END_TAG,
    ASSET_PARTITION_RANGE_START_TAG,
    PARTITION_NAME_TAG,
    RUN_KEY_TAG,
)

from ecommerce_assets.bronze.assets import INGESTED_OBJECTS, REINGEST_REASON
from ecommerce_assets.bronze.spec import BRONZE_TABLES
from ecommerce_assets.inbox_rejects import inbox_rejects
from resources import settings
from resources.object_store import ObjectStore
from sensors.inbox import REJECTS, InboxCursor, Ingested, Policy, plan_tick

bronze_ingest = dg.define_asset_job(
    # Partitioned by landing day: Dagster infers it from the bronze assets it selects.
    "bronze_ingest", selection=dg.AssetSelection.groups("bronze"),
    description="Ingest landing days into bronze (launched by the inbox sensor).")

_FINISHED = {dg.DagsterRunStatus.SUCCESS: "success", dg.DagsterRunStatus.FAILURE: "failure",
             dg.DagsterRunStatus.CANCELED: "failure"}


def _bronze_key(table: str) -> dg.AssetKey:
    return dg.AssetKey(["bronze", table])


def policy() -> Policy:
    return Policy(lookback_days=settings.sensor_lookback_days(),
                  horizon_days=settings.sensor_horizon_days(),
                  max_future_days=settings.sensor_max_future_days(),
                  page_size=settings.sensor_page_size(),
                  discovery_s=settings.sensor_discovery_s(),
                  retry_base_s=settings.sensor_retry_base_s())


def materialized_days(instance: dg.DagsterInstance, table: str) -> set[dt.date]:
    return {dt.date.fromisoformat(k)
            for k in instance.get_materialized_partitions(_bronze_key(table))}


def ingested(instance: dg.DagsterInstance, table: str, day: dt.date) -> Ingested:
    """What the newest materialization of ``bronze/<table>`` partition ``day`` read."""
    records = instance.fetch_materializations(
        dg.AssetRecordsFilter(asset_key=_bronze_key(table), asset_partitions=[day.isoformat()]),
        limit=1).records
    if not records or records[0].asset_materialization is None:
        return Ingested()
    entry = records[0].asset_materialization.metadata.get(INGESTED_OBJECTS)
    return Ingested(records[0].storage_id, dict(entry.value) if entry is not None else {})


def busy_days(instance: dg.DagsterInstance) -> set[dt.date]:
    """Landing days of the partitioned runs that are queued or running (sensor runs,
    backfills, CLI materializations alike)."""
    days: set[dt.date] = set()
    for record in instance.get_run_records(dg.RunsFilter(statuses=NOT_FINISHED_STATUSES)):
        tags = record.dagster_run.tags
        start = tags.get(PARTITION_NAME_TAG) or tags.get(ASSET_PARTITION_RANGE_START_TAG)
        end = tags.get(PARTITION_NAME_TAG) or tags.get(ASSET_PARTITION_RANGE_END_TAG)
        try:
            first, last = dt.date.fromisoformat(start), dt.date.fromisoformat(end)
        except (TypeError, ValueError):
            continue  # not a daily-partitioned run
        days.update(first + dt.timedelta(days=n) for n in range((last - first).days + 1))
    return days


def reingest_requests(instance: dg.DagsterInstance, after: int
                      ) -> tuple[dict[tuple[str, dt.date], int], int]:
    """New re-ingest observations, (table, day) -> storage id, and the new watermark."""
    found: dict[tuple[str, dt.date], int] = {}
    newest = after
    for table in BRONZE_TABLES:
        records = instance.fetch_observations(
            dg.AssetRecordsFilter(asset_key=_bronze_key(table), after_storage_id=after),
            limit=1000, ascending=True).records
        for record in records:
            newest = max(newest, record.storage_id)
            observation = record.asset_observation
            if observation is None or observation.partition is None or \
                    REINGEST_REASON not in observation.metadata:
                continue
            day = dt.date.fromisoformat(observation.partition)
            found[(table, day)] = max(record.storage_id, found.get((table, day), 0))
    return found, newest


def run_status(instance: dg.DagsterInstance, run_key: str) -> str | None:
    """'success' | 'failure' | 'running' for the newest run with ``run_key``; None if none."""
    records = instance.get_run_records(dg.RunsFilter(tags={RUN_KEY_TAG: run_key}), limit=1)
    if not records:
        return None
    return _FINISHED.get(records[0].dagster_run.status, "running")


@dg.sensor(
    name="inbox_sensor",
    jobs=[bronze_ingest, inbox_rejects],
    minimum_interval_seconds=settings.sensor_interval_s(),
    default_status=dg.DefaultSensorStatus.RUNNING,
    description="Reconciles the inbox with what bronze has read and launches one bronze run "
                "per landing day that still owes objects; failed days are requested again "
                "with backoff (ECOMMERCE_SENSOR_* settings).",
)
def inbox_sensor(context: dg.SensorEvaluationContext, inbox_store: ObjectStore
                 ) -> dg.SensorResult:
    instance = context.instance
    cursor = InboxCursor.from_json(context.cursor) or InboxCursor()
    reingest, cursor.observed_after = reingest_requests(instance, cursor.observed_after)
    listed_before = inbox_store.objects_listed
    plan = plan_tick(inbox_store, cursor, tables=BRONZE_TABLES, now=dt.datetime.now(dt.UTC),
                     policy=policy(),
                     materialized=lambda table: materialized_days(instance, table),
                     ingested=lambda table, day: ingested(instance, table, day),
                     busy_days=busy_days(instance), reingest=reingest,
                     run_status=lambda key: run_status(instance, key))
    requests = [
        dg.RunRequest(
            job_name=bronze_ingest.name, partition_key=r.day.isoformat(),
            asset_selection=[_bronze_key(t) for t in r.tables],
            run_key=r.run_key,
            tags={"ecommerce/trigger": "inbox", "ecommerce/new_objects": str(r.pending),
                  "ecommerce/attempt": str(r.attempt + 1)})
        for r in plan.requests]
    if plan.rejects:
        requests.append(dg.RunRequest(
            job_name=inbox_rejects.name, run_key=plan.rejects_run_key,
            tags={"ecommerce/trigger": "inbox",
                  "ecommerce/attempt": str(plan.cursor.attempts[REJECTS].n + 1)},
            run_config={"ops": {"record_inbox_rejects": {"config": {"objects": [
                {"key": r.key, "generation": r.generation, "size": r.size,
                 "updated": r.updated, "reason": r.reason} for r in plan.rejects]}}}}))
    for level, message in plan.notes:
        getattr(context.log, level)(message)
    context.log.info(f"{len(plan.requests)} landing days to ingest, {len(plan.rejects)} "
                     f"unroutable objects; {inbox_store.objects_listed - listed_before} "
                     "objects listed")
    return dg.SensorResult(run_requests=requests, cursor=plan.cursor.to_json())
