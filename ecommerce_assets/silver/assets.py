"""The seven ``silver/<table>`` assets: one multi-asset step driven by the table specs.

Each asset is one unpartitioned warehouse table kept by its SQL file: a refresh merges only
what bronze changed since the table's watermarks (:mod:`ecommerce_assets.silver.refresh`); a
first build, a schema or SQL change, or the run config ``full_refresh: true`` rebuilds it from
all of bronze. It depends on the bronze assets its SQL reads, refreshes whenever one of them (any partition) is
updated, and runs in the warehouse pool, like every asset that writes the warehouse.
"""

from collections.abc import Iterator

import dagster as dg

from ecommerce_assets import catalog
from ecommerce_assets.automation import (
    WAREHOUSE_POOL,
    WAREHOUSE_RETRY,
    refresh_on_upstream_change,
)
from ecommerce_assets.bronze.spec import BRONZE_TABLES
from ecommerce_assets.silver import checks as silver_checks_module
from ecommerce_assets.silver.checks import (
    CROSS_TABLE,
    asset_key,
    check_scope,
    check_specs,
    clear_scope,
    cross_table_results,
    materialization_checks,
    reconcile,
)
from ecommerce_assets.silver.refresh import refresh_table
from ecommerce_assets.silver.spec import REJECTS_TABLE, SILVER_TABLES, SilverTable
from ecommerce_assets.sqltables import (
    PARSE_DATE,
    column_lineage,
    column_sources,
    definition_metadata,
    preview_markdown,
)
from ecommerce_assets.steps import StepLog, computed_ahead, for_asset
from resources import settings
from resources.warehouse import Warehouse


def lineage_metadata(table: SilverTable) -> dict:
    """``dagster/column_lineage``: each silver column from the bronze columns its SQL uses."""
    sources = column_sources(table.select_sql(as_of=PARSE_DATE),
                             {("bronze", n): BRONZE_TABLES[n].schema.columns
                              for n in table.bronze_tables})
    return {"dagster/column_lineage": column_lineage(sources, table.schema.columns)}


class SilverRefreshConfig(dg.Config):
    """Run config of every silver asset."""

    full_refresh: bool = False  # rebuild from all of bronze instead of merging what changed


def silver_spec(table: SilverTable) -> dg.AssetSpec:
    """The asset of one silver table, as the UI shows it."""
    return dg.AssetSpec(
        key=asset_key(table.name),
        group_name="silver",
        deps=[dg.AssetKey(["bronze", t]) for t in table.bronze_tables],
        kinds={"sql", settings.warehouse_kind()},
        description=(f"`{table.name}` deduplicated to the latest version of each "
                     f"`{table.key}`, typed and standardized by "
                     f"`sql/silver/{table.sql_path.name}`."
                     + (f" Rows it rejects go to `{REJECTS_TABLE}` with the reason."
                        if table.can_reject else "")),
        metadata={**definition_metadata(table.warehouse_table, table.schema, table.sql_file),
                  **lineage_metadata(table),
                  **catalog.code_references(
                      sql=table.sql_path,
                      python=[(table.model, "Pandera model (contract)"),
                              (silver_spec, "Asset spec"),
                              (refresh_table, "Refresh"),
                              (silver_checks_module, "Checks")])},
        tags=catalog.tags("silver", table.name),
        owners=catalog.owners("silver"),
        automation_condition=refresh_on_upstream_change(),
    )


# One step for the silver tables a run selects, not one each: the step opens the warehouse
# once and checkpoints it once (DuckDB: 0.04-0.1 s per step), while each table stays its own
# asset with its own checks in the UI (can_subset: a run refreshes only what it selects).
@dg.multi_asset(
    name="silver_tables",
    specs=[silver_spec(t) for t in SILVER_TABLES.values()],
    check_specs=[*(spec for t in SILVER_TABLES.values() for spec in check_specs(t)),
                 *(spec for spec, _ in CROSS_TABLE.values())],
    can_subset=True,
    pool=WAREHOUSE_POOL,
    retry_policy=WAREHOUSE_RETRY,
)
def silver_tables(context: dg.AssetExecutionContext, config: SilverRefreshConfig,
                  warehouse: Warehouse) -> Iterator[dg.MaterializeResult]:
    selected = context.selected_asset_keys

    def refreshed() -> Iterator:
        with warehouse.session():
            for table in SILVER_TABLES.values():
                if asset_key(table.name) in selected:
                    with warehouse.attributed_to(asset_key(table.name)):
                        yield _refresh(context, config, warehouse, table, log)
            # After every table: these read two of them.
            yield from cross_table_results(warehouse, context.selected_asset_check_keys)

    with StepLog(context, "silver refreshed:") as log:
        yield from computed_ahead(refreshed)


def _refresh(context: dg.AssetExecutionContext, config: SilverRefreshConfig,
             warehouse: Warehouse, table: SilverTable, log: StepLog) -> dg.MaterializeResult:
    report = refresh_table(warehouse, table, full_refresh=config.full_refresh)
    log.add(f"{table.warehouse_table}: {report.mode} refresh ({report.reason}), "
            f"{report.rows} rows, {report.rejected} rejected, in {report.seconds:.2f} s")
    scope = check_scope(warehouse, table)
    rec = reconcile(warehouse, table, scope)
    checks = materialization_checks(warehouse, table, rec, scope)
    if all(c.passed for c in checks):
        clear_scope(warehouse, table)
    metadata = {
        "dagster/row_count": report.rows,
        "refresh_seconds": round(report.seconds, 3),
        "refresh_mode": report.mode,
        "refresh_reason": report.reason,
        "rows_rejected": report.rejected,
        "rejects_by_reason": dg.MetadataValue.json(report.rejects),
        "rejects_table": REJECTS_TABLE,
        "checked": scope.describe(),
        "preview": dg.MetadataValue.md(
            preview_markdown(warehouse, table.warehouse_table, [table.key])),
    }
    if scope.keys is None:  # where every bronze row went: known when every row is checked
        metadata.update({"bronze_rows": rec.bronze_rows,
                         "bronze_duplicates_in_file": rec.duplicates_in_file,
                         "bronze_superseded_versions": rec.superseded_versions,
                         "bronze_distinct_keys": rec.bronze_keys})
    key = asset_key(table.name)
    return dg.MaterializeResult(
        asset_key=key, metadata=metadata,
        check_results=for_asset(checks, key, context.selected_asset_check_keys))


silver_assets: list[dg.AssetsDefinition] = [silver_tables]
# Every silver table rebuilt from all of bronze (after a fix to bronze data or rules).
silver_full_refresh_job = dg.define_asset_job(
    "silver_full_refresh", selection=dg.AssetSelection.groups("silver"),
    config={"ops": {silver_tables.op.name: {"config": {"full_refresh": True}}}},
    description="Rebuild every silver table from all of bronze instead of merging what "
                "changed since its watermarks.")
