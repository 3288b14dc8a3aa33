"""Asset checks of the gold layer, computed in the warehouse.

With each materialization (``check_specs``): ``pandera_schema`` (blocking) and the table's
rules (``spec.py``). Separately, because it reads four gold tables (``additional_deps``
orders it after them in a run that refreshes them all): ``revenue_reconciles`` on
``daily_sales``: the three marts and ``orders_enriched`` agree on total revenue to the cent.
"""

from __future__ import annotations

import dagster as dg

from ecommerce_assets import table_checks
from ecommerce_assets.automation import WAREHOUSE_POOL
from ecommerce_assets.gold.spec import GOLD_TABLES, GoldTable
from resources.warehouse import Warehouse

REVENUE_CHECK = "revenue_reconciles"
# Each mart's revenue column; orders_enriched's revenue items are the reference.
REVENUE_COLUMNS: dict[str, str] = {"daily_sales": "total_revenue",
                                   "customer_metrics": "total_spend",
                                   "product_performance": "total_revenue"}


def asset_key(table: str) -> dg.AssetKey:
    return dg.AssetKey(["gold", table])


def check_specs(table: GoldTable) -> list[dg.AssetCheckSpec]:
    key = asset_key(table.name)
    return [table_checks.schema_spec(key, "gold"),
            *(table_checks.rule_spec(key, r) for r in table.rules)]


def materialization_checks(warehouse: Warehouse, table: GoldTable) -> list[dg.AssetCheckResult]:
    """Results for every spec of :func:`check_specs`, in the same order."""
    return [table_checks.schema_result(warehouse, table.warehouse_table, table.schema),
            *(table_checks.rule_result(warehouse, table.warehouse_table, r)
              for r in table.rules)]


def revenue_totals(warehouse: Warehouse) -> dict[str, float]:
    """Total revenue (USD, rounded to the cent) by each mart and by the revenue items."""
    parts = [f"(SELECT ROUND(IFNULL(SUM({column}), 0), 2) FROM "
             f"{GOLD_TABLES[name].warehouse_table}) AS {name}"
             for name, column in REVENUE_COLUMNS.items()]
    parts.append(f"(SELECT ROUND(IFNULL(SUM(sale_price_usd), 0), 2) FROM "
                 f"{GOLD_TABLES['orders_enriched'].warehouse_table} WHERE is_revenue_item) "
                 f"AS orders_enriched")
    row = warehouse.query_arrow(warehouse.transpile("SELECT " + ", ".join(parts))).to_pylist()[0]
    return {k: float(v) for k, v in row.items()}


@dg.asset_check(
    asset=asset_key("daily_sales"), name=REVENUE_CHECK, pool=WAREHOUSE_POOL, blocking=False,
    additional_deps=[asset_key(n) for n in ("customer_metrics", "product_performance",
                                            "orders_enriched")],
    description="Total revenue is the same, to the cent, in daily_sales, customer_metrics, "
                "product_performance and the revenue items of orders_enriched")
def revenue_check(warehouse: Warehouse) -> dg.AssetCheckResult:
    with warehouse.session():  # one DuckDB connection for the check's queries
        return _revenue_result(warehouse)


def _revenue_result(warehouse: Warehouse) -> dg.AssetCheckResult:
    missing = [n for n in [*REVENUE_COLUMNS, "orders_enriched"]
               if not warehouse.table_exists(GOLD_TABLES[n].warehouse_table)]
    if missing:
        return dg.AssetCheckResult(passed=False, severity=dg.AssetCheckSeverity.WARN,
                                   metadata={"not_built_yet": dg.MetadataValue.json(missing)})
    totals = revenue_totals(warehouse)
    cents = {round(v * 100) for v in totals.values()}
    return dg.AssetCheckResult(passed=len(cents) == 1, severity=dg.AssetCheckSeverity.ERROR,
                               metadata={"totals_usd": dg.MetadataValue.json(totals)})


gold_checks: list[dg.AssetChecksDefinition] = [revenue_check]
