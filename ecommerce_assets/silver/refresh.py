"""Refresh one silver table in the warehouse: its SELECT -> the silver table + its rejects.

The statements are BigQuery Standard SQL, transpiled one by one for the embedded DuckDB, and
run as one script in one transaction, so a failure leaves the previous silver table and
rejects in place. Kept rows become the silver table (``CREATE OR REPLACE``: a full refresh)
and rejected ones replace the table's rows in ``ops.silver_rejects``, with their reason and
the whole record as JSON. The SELECT is deterministic (the version order is total), so the
two statements that read it inside the transaction see the same rows; a table whose SQL
cannot reject skips the second one.
"""

from __future__ import annotations

from dataclasses import dataclass

from ecommerce_assets.silver.spec import REJECT_COLUMN, REJECTS_TABLE, SilverTable
from ecommerce_assets.sqltables import row_count, run_script
from resources.warehouse import Warehouse

REJECTS_DDL = f"""
CREATE TABLE IF NOT EXISTS {REJECTS_TABLE} (
  table_name STRING,
  record_key INT64,
  reason STRING,
  source_object STRING,
  source_line INT64,
  landing_date DATE,
  processed_at TIMESTAMP,
  record STRING,
  rejected_at TIMESTAMP
)"""


@dataclass(frozen=True)
class RefreshReport:
    rows: int  # rows now in the silver table
    rejects: dict[str, int]  # reason -> rows now in ops.silver_rejects for this table
    seconds: float

    @property
    def rejected(self) -> int:
        return sum(self.rejects.values())


def refresh_statements(table: SilverTable, datasets: dict[str, str] | None = None) -> list[str]:
    """The full refresh of ``table`` as BigQuery SQL statements, in order."""
    name, select = table.name, table.select_sql(datasets)  # name and key are validated
    statements = [
        f"CREATE OR REPLACE TABLE {table.warehouse_table} AS\n"
        f"SELECT * EXCEPT ({REJECT_COLUMN}) FROM (\n{select}\n) WHERE {REJECT_COLUMN} IS NULL",
        REJECTS_DDL,
        f"DELETE FROM {REJECTS_TABLE} WHERE table_name = '{name}'",
    ]
    if table.can_reject:
        statements.append(
            f"INSERT INTO {REJECTS_TABLE} (table_name, record_key, reason, source_object, "
            f"source_line, landing_date, processed_at, record, rejected_at)\n"
            f"SELECT '{name}', c.{table.key}, c.{REJECT_COLUMN}, c.source_object, "
            f"c.source_line, c.landing_date, c.processed_at, TO_JSON_STRING(c), "
            f"CURRENT_TIMESTAMP() FROM (\n{select}\n) AS c WHERE c.{REJECT_COLUMN} IS NOT NULL")
    return statements


def refresh_table(warehouse: Warehouse, table: SilverTable) -> RefreshReport:
    """Rebuild ``table`` from bronze; returns its row count and rejects by reason."""
    seconds = run_script(warehouse, refresh_statements(table))
    rows = row_count(warehouse, table.warehouse_table)
    rejects = warehouse.query_arrow(warehouse.transpile(
        f"SELECT reason, COUNT(*) AS n FROM {REJECTS_TABLE} WHERE table_name = "
        f"'{table.name}' GROUP BY reason ORDER BY reason")).to_pylist()
    return RefreshReport(int(rows), {r["reason"]: int(r["n"]) for r in rejects}, seconds)
