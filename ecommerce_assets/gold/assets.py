"""The ``gold/<table>`` assets: one multi-asset step driven by the table specs, plus
``fx_rates``.

Each SQL asset is one unpartitioned warehouse table refreshed from silver and other gold
tables by its SQL file. It depends on the tables its SQL reads, refreshes whenever one of
them is updated, and runs in the warehouse pool. The step refreshes the tables a run selects
in the order they read each other; a table that fails a blocking check stops the tables that
read it (the step then fails, as a blocking check makes it). Tables whose SQL uses
``{as_of}`` (every one: it is their cut-off) take it from the run config (``as_of:
YYYY-MM-DD``, see :func:`gold_run_config`), else the run tag ``ecommerce/as_of``, else
``ECOMMERCE_AS_OF``, else the UTC date the run was created.

No ``from __future__ import annotations`` here: Dagster reads the ``context`` and ``config``
annotations at definition time.
"""

import datetime as dt
from collections.abc import Callable, Iterator

import dagster as dg
from pydantic import Field

from ecommerce_assets import catalog
from ecommerce_assets.automation import (
    WAREHOUSE_POOL,
    WAREHOUSE_RETRY,
    refresh_on_upstream_change,
)
from ecommerce_assets.gold import checks as gold_checks_module
from ecommerce_assets.gold import heatmap
from ecommerce_assets.gold.checks import asset_key, check_specs, gold_checks, materialization_checks
from ecommerce_assets.gold.fx import gold_fx_rates
from ecommerce_assets.gold.refresh import refresh_table
from ecommerce_assets.gold.schemas import FxRates
from ecommerce_assets.gold.spec import FX_RATES_TABLE, GOLD_TABLES, GoldTable
from ecommerce_assets.silver.spec import SILVER_TABLES
from ecommerce_assets.sqltables import (
    PARSE_DATE,
    column_lineage,
    column_sources,
    definition_metadata,
    preview_markdown,
)
from ecommerce_assets.steps import StepLog, computed_ahead, for_asset
from resources import settings
from resources.addresses import UspsAddressStandardizer
from resources.files import write_atomically
from resources.warehouse import Warehouse

HEATMAP_FILE = "cohort_retention_heatmap.svg"
GOLD_OP = "gold_tables"  # the step of every gold table but fx_rates


class GoldRunConfig(dg.Config):
    as_of: str | None = Field(
        default=None, description="Reporting date (YYYY-MM-DD): the cut-off (later orders, "
                                  "sign-ups and stock are not counted) and what recency and "
                                  "cohorts are measured against; default the run tag "
                                  "ecommerce/as_of, else ECOMMERCE_AS_OF, else the UTC date "
                                  "the run was created")
    full_refresh: bool = Field(
        default=False, description="Rebuild the whole table instead of recomputing the keys "
                                   "silver changed (orders_enriched and the three marts)")


# Run tag: one reporting date for the run (a back-dated report) without run config.
AS_OF_TAG = "ecommerce/as_of"


def resolve_as_of(configured: str | None, context: dg.AssetExecutionContext) -> dt.date:
    if configured:
        return dt.date.fromisoformat(configured)
    if tagged := context.run.tags.get(AS_OF_TAG):
        return dt.date.fromisoformat(tagged)
    if override := settings.as_of_override():
        return override
    record = context.instance.get_run_record_by_id(context.run.run_id)
    created = record.create_timestamp if record else dt.datetime.now(dt.UTC)
    return created.astimezone(dt.UTC).date()


def heatmap_report(warehouse: Warehouse, table: GoldTable, as_of: dt.date | None) -> dict:
    """Render the retention heatmap, save it under ``$ECOMMERCE_HOME/reports/`` and show it
    on the asset page (inline image) with the file's path."""
    overall, channels = heatmap.query_frames(warehouse, table.warehouse_table)
    image = heatmap.render(overall, channels, as_of)
    path = write_atomically(settings.reports_dir() / HEATMAP_FILE, image.svg)
    return {"heatmap": dg.MetadataValue.md(image.markdown()),
            "heatmap_path": dg.MetadataValue.path(str(path)),
            "heatmap_cohorts": image.cohorts}


# The seams' default resources (both deployments): column lineage is read from the SELECT
# they produce, since a seam's own CTE body in the SQL file is only a stand-in.
SEAM_DEFAULTS: dict[str, object] = {"address_standardizer": UspsAddressStandardizer()}


def table_columns(dataset: str, table: str) -> list[str]:
    """The columns of a silver or gold table, from its Pandera model."""
    if f"{dataset}.{table}" == FX_RATES_TABLE:
        return list(FxRates.to_schema().columns)
    tables = {"silver": SILVER_TABLES, "gold": GOLD_TABLES}[dataset]
    return list(tables[table].schema.columns)


def lineage_metadata(table: GoldTable) -> dict:
    """``dagster/column_lineage``: each gold column from the silver and gold columns its SQL
    (seams spliced in) uses."""
    splices = {s.cte: SEAM_DEFAULTS[s.resource_key].select_sql(s.source) for s in table.seams}
    sources = column_sources(table.select_sql(as_of=PARSE_DATE),
                             {(d, t): table_columns(d, t) for d, t in table.reads}, splices)
    return {"dagster/column_lineage": column_lineage(sources, table.schema.columns)}


REPORTS: dict[str, Callable[[Warehouse, GoldTable, dt.date | None], dict]] = {
    "heatmap": heatmap_report}


def _check_read_order() -> None:
    """The step refreshes GOLD_TABLES in their order: each must come after what it reads."""
    order = list(GOLD_TABLES)
    for table in GOLD_TABLES.values():
        later = [t for d, t in table.reads if d == "gold" and t in GOLD_TABLES
                 and order.index(t) > order.index(table.name)]
        if later:
            raise ValueError(f"gold table {table.name} reads {later}, listed after it")


_check_read_order()


def gold_spec(table: GoldTable) -> dg.AssetSpec:
    """The asset of one gold table, as the UI shows it."""
    if table.report and table.report not in REPORTS:
        raise KeyError(f"{table.name}: unknown report {table.report!r} (known: {list(REPORTS)})")
    return dg.AssetSpec(
        key=asset_key(table.name),
        group_name="gold",
        deps=[dg.AssetKey([d, t]) for d, t in table.reads if d in ("silver", "gold")],
        kinds={"sql", settings.warehouse_kind()},
        description=f"{table.description} Built by `{table.sql_file}`.",
        metadata={**definition_metadata(table.warehouse_table, table.schema, table.sql_file),
                  **lineage_metadata(table),
                  **catalog.code_references(
                      sql=table.sql_path,
                      python=[(table.model, "Pandera model (contract)"),
                              (gold_spec, "Asset spec"),
                              (refresh_table, "Refresh"),
                              (gold_checks_module, "Checks"),
                              *([(REPORTS[table.report], "Report")] if table.report else [])])},
        tags=catalog.tags("gold", table.name),
        owners=catalog.owners("gold"),
        automation_condition=refresh_on_upstream_change(),
        skippable=True,  # not refreshed when a table it reads failed a blocking check
    )


# One step for the gold tables a run selects (as silver's: one open warehouse, one
# checkpoint), in the order they read each other.
@dg.multi_asset(
    name=GOLD_OP,
    specs=[gold_spec(t) for t in GOLD_TABLES.values()],
    check_specs=[spec for t in GOLD_TABLES.values() for spec in check_specs(t)],
    can_subset=True,
    required_resource_keys={"warehouse", *(s.resource_key for t in GOLD_TABLES.values()
                                           for s in t.seams)},
    pool=WAREHOUSE_POOL,
    retry_policy=WAREHOUSE_RETRY,
)
def gold_tables(context: dg.AssetExecutionContext, config: GoldRunConfig):
    warehouse: Warehouse = context.resources.warehouse
    as_of = resolve_as_of(config.as_of, context)
    blocked: set[str] = set()  # tables that failed a blocking check, and what reads them

    def refreshed() -> Iterator[dg.MaterializeResult]:
        with warehouse.session():
            for table in GOLD_TABLES.values():
                if asset_key(table.name) not in context.selected_asset_keys:
                    continue
                if stale := sorted(t for d, t in table.reads if d == "gold" and t in blocked):
                    log.warn(f"{table.warehouse_table} not refreshed: {', '.join(stale)} "
                             "failed a blocking check")
                    blocked.add(table.name)
                    continue
                with warehouse.attributed_to(asset_key(table.name)):
                    result = _refresh(context, warehouse, table,
                                      as_of if table.uses_as_of else None, config.full_refresh,
                                      log)
                blocking = {s.name for s in check_specs(table) if s.blocking}
                if any(not c.passed and c.check_name in blocking for c in result.check_results):
                    blocked.add(table.name)
                yield result

    with StepLog(context, "gold refreshed:") as log:
        yield from computed_ahead(refreshed)


def _refresh(context: dg.AssetExecutionContext, warehouse: Warehouse, table: GoldTable,
             as_of: dt.date | None, full_refresh: bool, log: StepLog) -> dg.MaterializeResult:
    report = refresh_table(warehouse, table, as_of=as_of, resources=context.resources,
                           full_refresh=full_refresh)
    log.add(f"{table.warehouse_table}: {report.rows} rows in {report.seconds:.2f} s, "
            f"{report.mode} ({report.reason})" + (f" (as of {as_of})" if as_of else ""))
    metadata: dict = {
        "dagster/row_count": report.rows,
        "refresh_seconds": round(report.seconds, 3),
        "refresh_mode": report.mode,
        "refresh_reason": report.reason,
        "preview": dg.MetadataValue.md(
            preview_markdown(warehouse, table.warehouse_table, table.key_columns)),
    }
    if as_of:
        metadata["as_of"] = as_of.isoformat()
    if report.seam_rows is not None:  # the rest came from the seams' caches
        metadata["seam_rows_computed"] = report.seam_rows
    if table.report:
        metadata.update(REPORTS[table.report](warehouse, table, as_of))
    key = asset_key(table.name)
    return dg.MaterializeResult(
        asset_key=key, metadata=metadata,
        check_results=for_asset(materialization_checks(warehouse, table), key,
                                context.selected_asset_check_keys))


def gold_run_config(as_of: dt.date | None = None, full_refresh: bool = False) -> dict:
    """Run config of the gold tables' step (a reporting date, a full refresh)."""
    config = {"full_refresh": full_refresh, **({"as_of": as_of.isoformat()} if as_of else {})}
    return {"ops": {GOLD_OP: {"config": config}}}


gold_assets: list[dg.AssetsDefinition] = [gold_fx_rates, gold_tables]
# The assets and the cross-table checks, as definitions.py takes them.
gold_definitions: list[dg.AssetsDefinition] = [*gold_assets, *gold_checks]
