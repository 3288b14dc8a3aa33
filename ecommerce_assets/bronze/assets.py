"""The seven ``bronze/<table>`` assets: one multi-asset step driven by the table specs (a run
ingests the tables it selects, one after the other; one that raises does not stop the others,
and the step fails after them).

Each asset is partitioned by landing day; a range backfill is one run
(``BackfillPolicy.single_run``) that ingests its days one after the other. Three asset checks
come with every table: the Pandera schema run in the warehouse (blocking: bad data must not
flow to silver), the quarantine rate (a warning above ``ECOMMERCE_QUARANTINE_WARN_RATE``) and
schema drift (a warning when an object of the run lacked model columns or brought new ones,
which additive schema evolution loads as STRING columns; the materialization's
``dagster/column_schema`` shows them).
"""


import datetime as dt
import warnings
from collections.abc import Iterator

import dagster as dg
import pyarrow as pa

from ecommerce_assets import catalog
from ecommerce_assets.automation import WAREHOUSE_POOL, WAREHOUSE_RETRY, no_new_rows_tag
from ecommerce_assets.bronze import agent, ingest
from ecommerce_assets.bronze.ingest import (
    CHANGED,
    LOADED,
    QUARANTINE_TABLE,
    REGISTRY_TABLE,
    REJECTED,
    SKIPPED,
    VANISHED,
    Buckets,
    PartitionReport,
    current_registry_sql,
    ingest_partition,
)
from ecommerce_assets.bronze.spec import BRONZE_TABLES, BronzeTable
from ecommerce_assets.partitions import daily_partitions
from ecommerce_assets.quality import (
    column_schema,
    literal,
    markdown_preview,
    validate_in_warehouse,
)
from ecommerce_assets.steps import StepLog, computed_ahead, for_asset
from resources import settings
from resources.object_store import ObjectStore
from resources.warehouse import Warehouse

SCHEMA_CHECK = "pandera_schema"
# Metadata entry: {inbox key: generation} of the inbox objects the run read. The inbox
# sensor's first tick uses it to skip objects a run already ingested (no clock involved).
INGESTED_OBJECTS = "ingested_objects"
MAX_RECORDED_OBJECTS = 10_000
QUARANTINE_CHECK = "quarantine_rate"
SCHEMA_DRIFT_CHECK = "schema_drift"
MAX_DRIFT_OBJECTS = 50  # objects listed in the check's metadata
# AssetObservation metadata key on a partition that must be ingested again (its skipped
# duplicates refer to content no longer loaded): the inbox sensor runs a partition whose
# newest such observation is newer than its newest materialization.
REINGEST_REASON = "reingest_reason"


def asset_key(table: str) -> dg.AssetKey:
    return dg.AssetKey(["bronze", table])


def bronze_spec(table: BronzeTable) -> dg.AssetSpec:
    """The asset of one bronze table, as the UI shows it."""
    engine = "duckdb" if settings.deployment() == "local" else "bigquery"
    return dg.AssetSpec(
        key=asset_key(table.name),
        group_name="bronze",
        kinds={"pyarrow", engine},
        description=(f"Raw `{table.name}` objects of the landing day, cleaned and typed by "
                     f"the ingestion agent. {table.model.__doc__ or ''}").strip(),
        metadata={"dagster/column_schema": column_schema(table.schema),
                  "dagster/table_name": table.warehouse_table,
                  **catalog.code_references(python=[
                      (table.model, "Pandera model (contract)"),
                      (bronze_spec, "Asset spec"),
                      (ingest.ingest_partition, "Partition ingestion"),
                      (agent, "Cleaning agent")])},
        tags=catalog.tags("bronze", table.name),
        owners=catalog.owners("bronze"),
        skippable=True,  # a table whose ingestion raised is not materialized by the step
    )


def check_specs(table: BronzeTable) -> list[dg.AssetCheckSpec]:
    key = asset_key(table.name)
    return [
        dg.AssetCheckSpec(SCHEMA_CHECK, asset=key, blocking=True,
                          description="The bronze Pandera schema, run in the warehouse on "
                                      "the partitions of the run"),
        dg.AssetCheckSpec(QUARANTINE_CHECK, asset=key,
                          description="Warns when more than "
                                      f"{settings.quarantine_warn_rate():.1%} of the rows "
                                      "read were quarantined "
                                      "(ECOMMERCE_QUARANTINE_WARN_RATE), or an object was "
                                      "rejected; the quarantined rows and rejected objects "
                                      f"are in {QUARANTINE_TABLE} and {REGISTRY_TABLE}"),
        dg.AssetCheckSpec(SCHEMA_DRIFT_CHECK, asset=key,
                          description="Warns when an object of the run lacked columns of "
                                      "the model (loaded as NULL) or had columns the model "
                                      "does not define (added to the table as STRING)"),
    ]


def _bronze_tables() -> dg.AssetsDefinition:
    # backfill_policy is beta in dagster 1.13 and warns at every code load; the single-run
    # policy is what makes a range backfill one run, so it stays and exactly that warning is
    # silenced, here only.
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="Parameter `backfill_policy`",
                                category=dg.BetaWarning)

        # One step for the tables a run selects (the inbox sensor selects those with files),
        # not one each: the step opens the warehouse once and checkpoints it once (DuckDB:
        # 0.04-0.1 s per step), while each table stays its own asset with its own checks.
        @dg.multi_asset(
            name="bronze_tables",
            specs=[bronze_spec(t) for t in BRONZE_TABLES.values()],
            check_specs=[spec for t in BRONZE_TABLES.values() for spec in check_specs(t)],
            partitions_def=daily_partitions,
            backfill_policy=dg.BackfillPolicy.single_run(),
            can_subset=True,
            pool=WAREHOUSE_POOL,
            retry_policy=WAREHOUSE_RETRY,
        )
        def bronze_tables(context: dg.AssetExecutionContext, warehouse: Warehouse,
                          inbox_store: ObjectStore, staging_store: ObjectStore,
                          archive_store: ObjectStore, quarantine_store: ObjectStore):
            buckets = Buckets(inbox_store, staging_store, archive_store, quarantine_store)
            failed: list[str] = []

            def ingested() -> Iterator[dg.MaterializeResult]:
                with warehouse.session():
                    for table in BRONZE_TABLES.values():
                        if asset_key(table.name) not in context.selected_asset_keys:
                            continue
                        try:
                            with warehouse.attributed_to(asset_key(table.name)):
                                result, observations = _ingest(context, warehouse, buckets,
                                                               table, log)
                        except Exception:  # the other tables still load; the step fails after
                            log.error(f"bronze {table.name}: ingestion failed")
                            failed.append(table.name)
                            continue
                        yield from observations
                        yield result

            with StepLog(context, "bronze ingested:") as log:
                yield from computed_ahead(ingested)
            if failed:
                raise RuntimeError(f"bronze ingestion failed for {', '.join(failed)} (see the "
                                   "step's log); the step's retry ingests them again")

    return bronze_tables


def _ingest(context: dg.AssetExecutionContext, warehouse: Warehouse, buckets: Buckets,
            table: BronzeTable, log: StepLog
            ) -> tuple[dg.MaterializeResult, list[dg.AssetObservation]]:
    """The table's materialization, and an observation for each other day it found must be
    ingested again (the inbox sensor requests those). Returned, not logged through the
    context: the step computes tables in a worker thread, and the step's thread yields them."""
    key = asset_key(table.name)
    observations: list[dg.AssetObservation] = []
    dates = [dt.date.fromisoformat(k) for k in context.partition_keys]
    before = {d: _loaded_versions(warehouse, table.name, d, context) for d in dates}
    reports: dict[dt.date, PartitionReport] = {}
    queue = list(dates)
    while queue:
        date = queue.pop(0)
        report = ingest_partition(table, date, warehouse=warehouse, buckets=buckets,
                                  run_id=context.run.run_id)
        log.add(
            f"{table.name} {date}: {report.rows} rows from {len(report.registry)} "
            f"objects ({report.total('rows_quarantined')} rows quarantined, "
            f"{report.count(REJECTED)} objects rejected, {report.count(SKIPPED)} skipped, "
            f"{report.count(VANISHED) + report.count(CHANGED)} gone before they were "
            f"read, {len(report.deferred)} not settled yet)")
        for entry in report.registry:
            if entry["status"] == REJECTED:
                # Named with its whole reason: the summary above only counts them.
                log.warn(f"{table.name} {date}: rejected {entry['object_key']}: "
                         f"{entry['reason']}")
        reports[date] = report
        for day, reason in report.stale:
            log.warn(f"{table.name} {day} must be ingested again: {reason}")
            if day in dates:
                # A day of this run: its materialization would look like it served the
                # request, so it is ingested again here (once more at most: it now
                # loads the content it skipped) unless it is still to come.
                if day in reports and day not in queue:
                    queue.append(day)
                continue
            observations.append(dg.AssetObservation(
                asset_key=key, partition=day.isoformat(),
                metadata={REINGEST_REASON: reason}))
    new_rows = {d: _new_row_versions(reports[d], before[d]) for d in dates}
    unchanged = all(_versions(reports[d]) == before[d] for d in dates)
    # Always set, "false" too: a re-executed run inherits its parent's tags.
    context.instance.add_run_tags(context.run.run_id,
                                  {no_new_rows_tag(table.name): str(unchanged).lower()})
    if unchanged:
        log.add(f"{table.name}: no new row version loaded; downstream assets are not "
                "refreshed for this run")
    return _result(table, warehouse, [reports[d] for d in dates], {
        # Rows of object versions the partitions did not hold before the run; whether
        # the set of loaded versions changed at all (also when one was removed).
        "new_row_versions": sum(new_rows.values()),
        "loaded_versions_changed": not unchanged},
        context.selected_asset_check_keys), observations


def _version(entry: dict) -> str:
    """What identifies the rows an object loaded: its content (md5), so the same content under
    another name is no new version; without an md5, the object's key and generation."""
    return entry["md5"] or f"{entry['object_key']} generation {entry['generation']}"


def _versions(report: PartitionReport) -> set[str]:
    """The object versions whose rows the partition holds after the run."""
    return {_version(e) for e in report.registry if e["status"] == LOADED and e["rows_loaded"]}


def _loaded_versions(warehouse: Warehouse, table: str, date: dt.date,
                     context: dg.AssetExecutionContext) -> set[str]:
    """The object versions whose rows the partition held before this run: its current file
    registry, without this run's own rows (a step retry compares with the same) and without
    the rows of runs that failed or were canceled. Such a run may have committed rows whose
    materialization it never recorded (killed in between), so downstream never heard of them:
    the run that ingests the day again must count them as new, or it would tag the day
    "no new rows" and automation would not refresh silver with them."""
    if not warehouse.table_exists(REGISTRY_TABLE):
        return set()
    rows = warehouse.query_arrow(
        f"SELECT object_key, md5, generation, run_id FROM "
        f"{current_registry_sql('table_name = ? AND landing_date = ? AND run_id <> ?')} AS c "
        f"WHERE status = '{LOADED}' AND rows_loaded > 0",
        [table, date, context.run.run_id]).to_pylist()
    run_ids = sorted({r["run_id"] for r in rows if r["run_id"]})
    ended_badly = {run.run_id for run in context.instance.get_runs(dg.RunsFilter(
        run_ids=run_ids, statuses=[dg.DagsterRunStatus.FAILURE,
                                   dg.DagsterRunStatus.CANCELED]))} if run_ids else set()
    return {_version(r) for r in rows if r["run_id"] not in ended_badly}


def _new_row_versions(report: PartitionReport, before: set[str]) -> int:
    """Rows loaded from object versions the partition did not hold before."""
    return sum(e["rows_loaded"] for e in report.registry
               if e["status"] == LOADED and e["rows_loaded"] and _version(e) not in before)


def _result(table: BronzeTable, warehouse: Warehouse, reports: list[PartitionReport],
            extra: dict, selected_checks: set[dg.AssetCheckKey]) -> dg.MaterializeResult:
    dates = ", ".join(literal(r.landing_date) for r in reports)
    where = f"landing_date IN ({dates})"
    schema_report = validate_in_warehouse(warehouse, table.warehouse_table, table.schema, where)
    rows_read = sum(r.total("rows_read") for r in reports)
    quarantined = sum(r.total("rows_quarantined") for r in reports)
    rejected = [e for r in reports for e in r.registry if e["status"] == REJECTED]
    rate = quarantined / rows_read if rows_read else 0.0
    preview = warehouse.query_arrow(
        f"SELECT * FROM {warehouse.quote(table.warehouse_table)} WHERE {where} "
        f"ORDER BY landing_date, source_object, source_line LIMIT 5")
    metadata = {
        # For a range run these are totals over its partitions (see partitions below).
        "dagster/row_count": sum(r.rows for r in reports),
        "dagster/column_schema": _column_schema(table, schema_report.added_columns, reports),
        "rows_read": rows_read,
        "rows_quarantined": quarantined,
        "duplicates_flagged": sum(r.total("duplicates_flagged") for r in reports),
        "objects_read": sum(len(r.registry) for r in reports),
        "objects_rejected": len(rejected),
        "objects_skipped_duplicate": sum(r.count(SKIPPED) for r in reports),
        "partitions": dg.MetadataValue.md(_partition_table(reports)),
        # Object keys and reasons whole: a cut reason does not say what to fix.
        "objects": dg.MetadataValue.md(markdown_preview(_objects(reports),
                                                        whole=("object_key", "reason"))),
        "preview": dg.MetadataValue.md(markdown_preview(preview)),
        INGESTED_OBJECTS: dg.MetadataValue.json(_ingested_objects(reports)),
        "quarantine_table": QUARANTINE_TABLE,
        "file_registry_table": REGISTRY_TABLE,
        **extra,
    }
    threshold = settings.quarantine_warn_rate()
    checks = [
        dg.AssetCheckResult(
            check_name=SCHEMA_CHECK, passed=schema_report.passed,
            severity=dg.AssetCheckSeverity.ERROR,
            metadata={"rows_checked": schema_report.rows,
                      "failures": dg.MetadataValue.json(schema_report.as_records()),
                      "failure_sample": dg.MetadataValue.json(
                          [s for f in schema_report.failures for s in f.sample][:10])}),
        dg.AssetCheckResult(
            check_name=QUARANTINE_CHECK, passed=rate <= threshold and not rejected,
            severity=dg.AssetCheckSeverity.WARN,
            metadata={"quarantine_rate": rate, "threshold": threshold,
                      "rows_quarantined": quarantined, "rows_read": rows_read,
                      "objects_rejected": dg.MetadataValue.json(
                          [{"object": e["object_key"], "reason": e["reason"]}
                           for e in rejected][:20])}),
        _drift_result(reports, schema_report.added_columns),
    ]
    key = asset_key(table.name)
    return dg.MaterializeResult(asset_key=key, metadata=metadata,
                                check_results=for_asset(checks, key, selected_checks))


def _split_names(value: str | None) -> list[str]:
    return value.split(",") if value else []


def _column_schema(table: BronzeTable, added: list[str],
                   reports: list[PartitionReport]) -> dg.TableSchema:
    """The model's column schema plus the columns inputs added, each with its origin."""
    origin: dict[str, str] = {}
    for entry in (e for r in reports for e in r.registry if e["status"] == LOADED):
        for name in _split_names(entry["extra_columns"]):
            origin.setdefault(name, f"added from input {entry['object_key']} on "
                                    f"{entry['processed_at']:%Y-%m-%d}")
    base = column_schema(table.schema)
    extra = [dg.TableColumn(
        name=name, type="string",
        description=origin.get(name, "added by an earlier input (see extra_columns in "
                                     f"{REGISTRY_TABLE})"),
        constraints=dg.TableColumnConstraints(nullable=True)) for name in added]
    return dg.TableSchema(columns=[*base.columns, *extra])


def _drift_result(reports: list[PartitionReport], added: list[str]) -> dg.AssetCheckResult:
    """``schema_drift``: the objects of the run whose columns differ from the model."""
    drifted = [{"object": e["object_key"],
                "missing": _split_names(e["missing_columns"]),
                "extra": _split_names(e["extra_columns"]),
                # extras that are not columns (invalid name, over the limit): JSON only
                "only_in_extra_columns_json": [n for n in _split_names(e["extra_columns"])
                                               if n not in added]}
               for r in reports for e in r.registry
               if e["status"] == LOADED and (e["missing_columns"] or e["extra_columns"])]
    return dg.AssetCheckResult(
        check_name=SCHEMA_DRIFT_CHECK, passed=not drifted, severity=dg.AssetCheckSeverity.WARN,
        metadata={"objects_drifted": len(drifted),
                  "objects": dg.MetadataValue.json(drifted[:MAX_DRIFT_OBJECTS]),
                  "added_columns_in_table": dg.MetadataValue.json(added)})


def _ingested_objects(reports: list[PartitionReport]) -> dict[str, str]:
    """{inbox key: generation} of the objects read from the inbox (bounded in size); not
    those deleted or overwritten before they were read: that version was never ingested."""
    found = {}
    for entry in (e for r in reports for e in r.registry):
        store, _, key = entry["read_from"].partition(":")
        if (store == "inbox" and entry["status"] not in (VANISHED, CHANGED)
                and len(found) < MAX_RECORDED_OBJECTS):
            found[key] = entry["generation"]
    return found


def _partition_table(reports: list[PartitionReport]) -> str:
    lines = ["| landing_date | rows | rows_read | quarantined | objects |", "|---|---|---|---|---|"]
    lines += [f"| {r.landing_date} | {r.rows} | {r.total('rows_read')} | "
              f"{r.total('rows_quarantined')} | {len(r.registry)} |" for r in reports]
    return "\n".join(lines)


def _objects(reports: list[PartitionReport]) -> pa.Table:
    rows = [{k: e[k] for k in ("object_key", "status", "rows_read", "rows_loaded",
                               "rows_quarantined", "reason")}
            for r in reports for e in r.registry][:50]
    return pa.Table.from_pylist(rows) if rows else pa.table({"object_key": pa.array([], pa.string())})


bronze_tables = _bronze_tables()
bronze_assets: list[dg.AssetsDefinition] = [bronze_tables]
