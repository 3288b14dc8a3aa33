"""The inbox sensor: new inbox objects -> runs of the matching bronze daily partitions.

One run per landing day covers every table with new objects that day (asset selection),
so a day's batch of seven files is one run, not seven. ``run_key`` is derived from the new
objects' keys and generations: a repeated tick is harmless. Unroutable objects go to the
``inbox_rejects`` job. The planning lives in :mod:`sensors.inbox`.
"""

from __future__ import annotations

import datetime as dt

import dagster as dg

from ecommerce_assets.bronze.assets import INGESTED_OBJECTS
from ecommerce_assets.bronze.spec import BRONZE_TABLES
from ecommerce_assets.inbox_rejects import inbox_rejects
from ecommerce_assets.partitions import daily_partitions
from resources import settings
from resources.object_store import ObjectStore
from sensors.inbox import InboxCursor, plan_tick

bronze_ingest = dg.define_asset_job(
    "bronze_ingest", selection=dg.AssetSelection.groups("bronze"),
    partitions_def=daily_partitions,
    description="Ingest landing days into bronze (launched by the inbox sensor).")


def _bronze_key(table: str) -> dg.AssetKey:
    return dg.AssetKey(["bronze", table])


def _lookups(instance: dg.DagsterInstance):
    def materialized(table: str) -> set[dt.date]:
        keys = instance.get_materialized_partitions(_bronze_key(table))
        return {dt.date.fromisoformat(k) for k in keys}

    def ingested(table: str, day: dt.date) -> dict[str, str]:
        records = instance.fetch_materializations(
            dg.AssetRecordsFilter(asset_key=_bronze_key(table),
                                  asset_partitions=[day.isoformat()]), limit=1).records
        if not records or records[0].asset_materialization is None:
            return {}
        entry = records[0].asset_materialization.metadata.get(INGESTED_OBJECTS)
        return dict(entry.value) if entry is not None else {}

    return materialized, ingested


@dg.sensor(
    name="inbox_sensor",
    jobs=[bronze_ingest, inbox_rejects],
    minimum_interval_seconds=settings.sensor_interval_s(),
    default_status=dg.DefaultSensorStatus.RUNNING,
    description="Lists the inbox's recent landing-day folders and launches one bronze run "
                "per landing day with new objects (ECOMMERCE_SENSOR_INTERVAL_S, "
                "ECOMMERCE_SENSOR_LOOKBACK_DAYS).",
)
def inbox_sensor(context: dg.SensorEvaluationContext, inbox_store: ObjectStore
                 ) -> dg.SensorResult:
    materialized, ingested = _lookups(context.instance)
    listed_before = inbox_store.objects_listed
    plan = plan_tick(inbox_store, InboxCursor.from_json(context.cursor),
                     tables=BRONZE_TABLES, now=dt.datetime.now(dt.UTC),
                     lookback_days=settings.sensor_lookback_days(),
                     page_size=settings.sensor_page_size(),
                     discovery_s=settings.sensor_discovery_s(),
                     materialized=materialized, ingested=ingested)
    requests = [
        dg.RunRequest(
            job_name=bronze_ingest.name, partition_key=day.isoformat(),
            asset_selection=[_bronze_key(t) for t in sorted(tables)],
            run_key=plan.run_key(day),
            tags={"ecommerce/trigger": "inbox",
                  "ecommerce/new_objects": str(sum(map(len, tables.values())))})
        for day, tables in plan.partitions.items()]
    if plan.rejects:
        requests.append(dg.RunRequest(
            job_name=inbox_rejects.name, run_key=plan.rejects_run_key(),
            run_config={"ops": {"record_inbox_rejects": {"config": {"objects": [
                {"key": r.key, "generation": r.generation, "size": r.size,
                 "updated": r.updated, "reason": r.reason} for r in plan.rejects]}}}}))
    for folder in plan.deferred:
        context.log.info(f"{folder}: no partition for that day yet; waiting")
    context.log.info(f"{len(plan.partitions)} landing days to ingest, {len(plan.rejects)} "
                     f"unroutable objects; {inbox_store.objects_listed - listed_before} "
                     "objects listed")
    return dg.SensorResult(run_requests=requests, cursor=plan.cursor.to_json())
