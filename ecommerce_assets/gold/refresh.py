"""Refresh one gold table in the warehouse: by key where it pays, else in full.

A full refresh is the table's SELECT (seams spliced in) written whole. ``orders_enriched``,
``customer_metrics``, ``product_performance`` and ``daily_sales`` are refreshed by key
between full refreshes (:mod:`ecommerce_assets.gold.incremental`): a ``DELETE`` and
``INSERT`` of the affected keys in one transaction, with their watermarks, on both
warehouses. The others (``users_enriched``, ``cohort_retention``) are cheap to rebuild and
read every row anyway (the standardizer's seam, every cohort's grid): they are rebuilt each
time, atomically (``CREATE OR REPLACE TABLE``).

A keyed table refreshes in full when asked (run config ``full_refresh``), on its first build,
when its columns, its SQL (a definition digest in ``ops.gold_watermarks``) or, for
``orders_enriched``, the FX rates changed, and when ``as_of`` differs from its last refresh's.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import time
from dataclasses import dataclass
from typing import Any

from ecommerce_assets.gold import incremental as inc
from ecommerce_assets.gold.spec import GoldTable
from ecommerce_assets.sqltables import PARSE_DATE, row_count, run_script, splice_ctes
from resources import settings
from resources.warehouse import Warehouse

FULL, INCREMENTAL, UNCHANGED = "full", "incremental", "unchanged"
KEYED = ("orders_enriched", *inc.MARTS)


@dataclass(frozen=True)
class RefreshReport:
    rows: int
    seconds: float
    mode: str = FULL  # full | incremental | unchanged (nothing to recompute: no statement ran)
    reason: str = ""


def refresh_statements(table: GoldTable, *, as_of: dt.date | None = None,
                       resources: Any = None,
                       datasets: dict[str, str] | None = None) -> list[str]:
    """The full rebuild of ``table`` as BigQuery SQL. ``resources`` (anything with the seams'
    resource keys as attributes, such as a Dagster context's ``resources``) supplies the
    seams; without it the SQL file's own CTE bodies stay."""
    select = table.select_sql(datasets, as_of=as_of)
    if table.seams and resources is not None:
        select = splice_ctes(select, {
            s.cte: getattr(resources, s.resource_key).select_sql(s.source) for s in table.seams})
    return [f"CREATE OR REPLACE TABLE {table.warehouse_table} AS\n{select}"]


def _query(warehouse: Warehouse, sql: str) -> list[dict]:
    return warehouse.query_arrow(warehouse.transpile(sql)).to_pylist()


def definition(warehouse: Warehouse, table: GoldTable) -> str:
    """A digest of the table's SELECT and columns (and, for orders_enriched, the FX rates it
    converts with): a change of any means a full refresh."""
    parts = [table.select_sql(as_of=PARSE_DATE), *table.schema.columns]
    if table.name == "orders_enriched" and warehouse.table_exists(inc.FX_RATES):
        parts += [f"{r['currency']}={r['rate_to_usd']!r}" for r in _query(
            warehouse, f"SELECT currency, rate_to_usd FROM {inc.FX_RATES} ORDER BY currency")]
    return hashlib.sha256("\n".join(parts).encode()).hexdigest()[:16]


def _marks_differ(warehouse: Warehouse) -> tuple[int, int]:
    """How many silver tables changed (newest silver_updated_at or row count) since
    orders_enriched's last refresh, and how many silver rows have no silver_updated_at."""
    (row,) = _query(warehouse, (
        f"SELECT COUNTIF(w.source IS NULL OR m.updated_at IS DISTINCT FROM w.updated_at "
        f"OR m.row_count IS DISTINCT FROM w.row_count) AS n, SUM(m.untimed) AS untimed\n"
        f"FROM ({inc.marks_sql()}) AS m LEFT JOIN (SELECT * FROM {inc.WATERMARKS_TABLE} "
        f"WHERE table_name = 'orders_enriched') AS w ON w.source = m.source"))
    return int(row["n"]), int(row["untimed"] or 0)


def _pending(warehouse: Warehouse, mart: str) -> int:
    (row,) = _query(warehouse, f"SELECT COUNT(*) AS n FROM {inc.PENDING_TABLE} "
                               f"WHERE table_name = '{mart}'")
    vanished = inc.vanished_keys(mart)
    extra = _query(warehouse, f"SELECT COUNT(*) AS n FROM ({vanished})") if vanished else []
    return int(row["n"]) + sum(int(r["n"]) for r in extra)


def choose_mode(warehouse: Warehouse, table: GoldTable, as_of: dt.date,
                full_refresh: bool = False) -> tuple[str, bool, str]:
    """(mode, rebuild, reason) of a keyed table's refresh (see the module docstring)."""
    if not warehouse.table_exists(table.warehouse_table):
        return FULL, True, "first build"
    found = warehouse.query_arrow(
        f"SELECT * FROM {warehouse.quote(table.warehouse_table)} LIMIT 0").column_names
    if list(found) != list(table.schema.columns):
        return FULL, True, "the table's columns differ from its schema"
    if full_refresh:
        return FULL, False, "full refresh requested"
    if not warehouse.table_exists(inc.WATERMARKS_TABLE):
        return FULL, False, "no watermark"
    marks = {r["table_name"]: r for r in _query(
        warehouse, f"SELECT table_name, MAX(as_of) AS as_of, MAX(definition) AS definition "
                   f"FROM {inc.WATERMARKS_TABLE} GROUP BY table_name")}
    mark = marks.get(table.name)
    if mark is None:
        return FULL, False, "no watermark"
    if mark["definition"] != definition(warehouse, table):
        return FULL, False, "the SQL definition (or the FX rates) changed"
    if mark["as_of"] != as_of:
        return FULL, False, f"as_of moved from {mark['as_of']} to {as_of}"
    changed, untimed = _marks_differ(warehouse)
    if changed and untimed:  # loaded around silver's refresh: what changed is unknowable
        return FULL, False, f"{untimed} silver row(s) without {inc.UPDATED}"
    if table.name == "orders_enriched":
        if changed:
            return INCREMENTAL, False, f"{changed} silver table(s) changed"
        return UNCHANGED, False, "nothing new in silver since the last refresh"
    source = marks.get("orders_enriched")
    if source is None or source["as_of"] != as_of or changed:
        # Its queue holds only what orders_enriched has seen: rebuild from what silver is.
        return FULL, False, "orders_enriched is not current with silver"
    if pending := _pending(warehouse, table.name):
        return INCREMENTAL, False, f"{pending} queued key(s)"
    return UNCHANGED, False, "no queued key"


def keyed_statements(warehouse: Warehouse, table: GoldTable, as_of: dt.date, mode: str,
                     rebuild: bool) -> list[str]:
    """The statements of a keyed refresh in ``mode`` (not unchanged)."""
    select = table.select_sql(as_of=as_of)
    day, digest = f"DATE '{as_of.isoformat()}'", definition(warehouse, table)
    statements = list(inc.DDL)
    if rebuild:  # an empty table of the SELECT's columns
        statements.append(f"CREATE OR REPLACE TABLE {table.warehouse_table} AS\n"
                          f"SELECT * FROM (\n{select}\n) WHERE FALSE")
    if mode == INCREMENTAL:
        if table.name == "orders_enriched":
            return statements + inc.orders_enriched_statements(select, day, digest)
        return statements + inc.mart_statements(table.name, select, day, digest)
    statements += [f"DELETE FROM {table.warehouse_table} WHERE TRUE",
                   f"INSERT INTO {table.warehouse_table}\nSELECT * FROM (\n{select}\n)"]
    if table.name == "orders_enriched":
        return statements + inc.orders_enriched_full(day, digest)
    return [*statements, f"DELETE FROM {inc.PENDING_TABLE} WHERE table_name = '{table.name}'",
            *inc.watermark_statements(table.name, day, digest)]


def refresh_table(warehouse: Warehouse, table: GoldTable, *, as_of: dt.date | None = None,
                  resources: Any = None, full_refresh: bool = False) -> RefreshReport:
    """Refresh ``table`` (see the module docstring); returns its rows and mode."""
    started = time.perf_counter()
    if table.name not in KEYED:
        run_script(warehouse, refresh_statements(table, as_of=as_of, resources=resources))
        mode, reason = FULL, "rebuilt on every refresh"
    else:
        as_of = as_of or settings.as_of()
        mode, rebuild, reason = choose_mode(warehouse, table, as_of, full_refresh)
        if mode != UNCHANGED:
            run_script(warehouse, keyed_statements(warehouse, table, as_of, mode, rebuild))
    return RefreshReport(row_count(warehouse, table.warehouse_table),
                         time.perf_counter() - started, mode, reason)
