"""Refresh one gold table in the warehouse: its SELECT (seams spliced in) -> the gold table.

A refresh is ``CREATE OR REPLACE TABLE gold.<t> AS <SELECT>``: a full rebuild, atomic on both
warehouses (the previous table stays until the new one is complete). Gold tables are small
aggregates of silver, so the rebuild is the simple and fast choice (see BENCHMARKS.md).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from ecommerce_assets.gold.spec import GoldTable
from ecommerce_assets.sqltables import row_count, run_script, splice_ctes
from resources.warehouse import Warehouse


@dataclass(frozen=True)
class RefreshReport:
    rows: int
    seconds: float


def refresh_statements(table: GoldTable, *, as_of: dt.date | None = None,
                       resources: Any = None,
                       datasets: dict[str, str] | None = None) -> list[str]:
    """The refresh of ``table`` as BigQuery SQL. ``resources`` (anything with the seams'
    resource keys as attributes, such as a Dagster context's ``resources``) supplies the
    seams; without it the SQL file's own CTE bodies stay."""
    select = table.select_sql(datasets, as_of=as_of)
    if table.seams and resources is not None:
        select = splice_ctes(select, {
            s.cte: getattr(resources, s.resource_key).select_sql(s.source) for s in table.seams})
    return [f"CREATE OR REPLACE TABLE {table.warehouse_table} AS\n{select}"]


def refresh_table(warehouse: Warehouse, table: GoldTable, *, as_of: dt.date | None = None,
                  resources: Any = None) -> RefreshReport:
    seconds = run_script(warehouse, refresh_statements(table, as_of=as_of, resources=resources))
    return RefreshReport(row_count(warehouse, table.warehouse_table), seconds)
