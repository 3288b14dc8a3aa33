"""The ``marts/<table>`` assets, from one factory driven by the table specs.

Each asset is one unpartitioned table of the ``marts`` dataset, rebuilt whole by its SQL file
(``CREATE OR REPLACE TABLE … AS``, atomic on both warehouses; on BigQuery with the
partitioning and clustering of ``sql/ddl/marts/``). It depends on the tables its SQL reads,
refreshes whenever one of them is updated, and runs in the warehouse pool.

No ``from __future__ import annotations`` here: Dagster reads the ``context`` annotation at
definition time.
"""

import time

import dagster as dg

from ecommerce_assets import catalog
from ecommerce_assets.automation import (
    WAREHOUSE_POOL,
    WAREHOUSE_RETRY,
    refresh_on_upstream_change,
)
from ecommerce_assets.bronze.spec import BRONZE_TABLES
from ecommerce_assets.gold.assets import table_columns as gold_layer_columns
from ecommerce_assets.marts import checks as marts_checks_module
from ecommerce_assets.marts.checks import asset_key, check_specs, materialization_checks
from ecommerce_assets.marts.spec import MARTS_DATASET, MARTS_TABLES, MartTable
from ecommerce_assets.sqltables import (
    PARSE_DATE,
    column_lineage,
    column_sources,
    definition_metadata,
    preview_markdown,
    run_script,
)
from resources import settings
from resources.settings import WAREHOUSE_SCHEMAS
from resources.warehouse import Warehouse


def table_columns(dataset: str, table: str) -> list[str]:
    """The columns of a table a marts SELECT reads, from its schema."""
    if dataset == "bronze":
        return list(BRONZE_TABLES[table].schema.columns)
    if dataset == MARTS_DATASET:
        return list(MARTS_TABLES[table].schema.columns)
    return gold_layer_columns(dataset, table)


def lineage_metadata(table: MartTable) -> dict:
    """``dagster/column_lineage``: each column from the columns its SQL uses."""
    sources = column_sources(table.select_sql(as_of=PARSE_DATE),
                             {(d, t): table_columns(d, t) for d, t in table.reads})
    return {"dagster/column_lineage": column_lineage(sources, table.schema.columns)}


def refresh_statements(table: MartTable, datasets: dict[str, str] | None = None) -> list[str]:
    """The whole rebuild of ``table``, BigQuery SQL."""
    return [f"CREATE OR REPLACE TABLE {table.warehouse_table} AS\n"
            f"{table.select_sql(datasets)}"]


def refresh_table(warehouse: Warehouse, table: MartTable) -> float:
    """Rebuild ``table``; returns the seconds it took."""
    started = time.perf_counter()
    if MARTS_DATASET not in WAREHOUSE_SCHEMAS:  # else every connection creates it
        warehouse.ensure_schemas((MARTS_DATASET,))
    run_script(warehouse, refresh_statements(table))
    return time.perf_counter() - started


def mart_asset(table: MartTable) -> dg.AssetsDefinition:
    def compute(context: dg.AssetExecutionContext) -> dg.MaterializeResult:
        warehouse: Warehouse = context.resources.warehouse
        with warehouse.session():  # one DuckDB connection for the step's queries
            return _refresh(context, warehouse)

    def _refresh(context: dg.AssetExecutionContext, warehouse: Warehouse
                 ) -> dg.MaterializeResult:
        seconds = refresh_table(warehouse, table)
        checks = materialization_checks(warehouse, table)
        rows = checks[0].metadata["rows_checked"].value  # the schema check scanned them all
        context.log.info(f"{table.warehouse_table}: {rows} rows in {seconds:.2f} s")
        return dg.MaterializeResult(
            metadata={"dagster/row_count": rows, "refresh_seconds": round(seconds, 3),
                      "preview": dg.MetadataValue.md(preview_markdown(
                          warehouse, table.warehouse_table, table.key_columns))},
            check_results=checks)

    return dg.asset(
        key=asset_key(table.name),
        group_name="marts",
        deps=[dg.AssetKey([d, t]) for d, t in table.reads],
        kinds={"sql", settings.warehouse_kind()},
        description=f"{table.description} Built by `{table.sql_file}`.",
        metadata={**definition_metadata(table.warehouse_table, table.schema, table.sql_file),
                  **lineage_metadata(table),
                  **catalog.code_references(
                      sql=table.sql_path,
                      python=[(table.model, "Pandera model (contract)"),
                              (mart_asset, "Asset factory"),
                              (refresh_table, "Refresh"),
                              (marts_checks_module, "Checks")])},
        tags=catalog.tags("marts", table.name),
        owners=catalog.owners("marts"),
        check_specs=check_specs(table),
        required_resource_keys={"warehouse"},
        automation_condition=refresh_on_upstream_change(),
        pool=WAREHOUSE_POOL,
        retry_policy=WAREHOUSE_RETRY,
    )(compute)


marts_assets: list[dg.AssetsDefinition] = [mart_asset(t) for t in MARTS_TABLES.values()]
