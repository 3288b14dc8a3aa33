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
``orders_enriched``, the FX rates changed, and when ``as_of`` moved back. When ``as_of`` moves
forward (a new reporting day), the rows of the days that joined the cut are recomputed by
key, except in ``customer_metrics``, whose recency and churn move on every row: it rebuilds.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import time
from dataclasses import dataclass, replace
from typing import Any

from ecommerce_assets.gold import incremental as inc
from ecommerce_assets.gold import seam_cache
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
    seam_rows: int | None = None  # source rows a seam's resource computed (cached otherwise)


def refresh_statements(table: GoldTable, *, as_of: dt.date | None = None,
                       resources: Any = None, cached_seams: bool = False,
                       datasets: dict[str, str] | None = None) -> list[str]:
    """The full rebuild of ``table`` as BigQuery SQL. ``resources`` (anything with the seams'
    resource keys as attributes, such as a Dagster context's ``resources``) supplies the
    seams; without it the SQL file's own CTE bodies stay. ``cached_seams`` reads them from
    their caches instead (:mod:`ecommerce_assets.gold.seam_cache`, brought up to date first)."""
    select = table.select_sql(datasets, as_of=as_of)
    if cached_seams:
        select = splice_ctes(select, {s.cte: seam_cache.cached_select(s) for s in table.seams})
    elif table.seams and resources is not None:
        select = splice_ctes(select, {
            s.cte: getattr(resources, s.resource_key).select_sql(s.source) for s in table.seams})
    return [f"CREATE OR REPLACE TABLE {table.warehouse_table} AS\n{select}"]


def update_seams(warehouse: Warehouse, table: GoldTable, resources: Any,
                 recompute: bool = False) -> int:
    """Each seam's cache brought up to date (emptied first when ``recompute``); returns how
    many source rows went through a resource's SELECT."""
    computed = 0
    for seam in table.seams:
        if recompute and warehouse.table_exists(seam_cache.cache_table(seam)):
            run_script(warehouse, [f"DELETE FROM {seam_cache.cache_table(seam)} WHERE TRUE"])
        resource = getattr(resources, seam.resource_key)
        run_script(warehouse, seam_cache.update_statements(seam, resource.select_sql))
        computed += row_count(warehouse, seam_cache.todo_table(seam))
    return computed


def _query(warehouse: Warehouse, sql: str) -> list[dict]:
    return warehouse.query_arrow(warehouse.transpile(sql)).to_pylist()


def definition(table: GoldTable, fx: str = "") -> str:
    """A digest of the table's SELECT and columns (and, for orders_enriched, ``fx``: the FX
    rates it converts with): a change of any means a full refresh."""
    text = "\n".join([table.select_sql(as_of=PARSE_DATE), *table.schema.columns, fx])
    return hashlib.sha256(text.encode()).hexdigest()[:16]


@dataclass(frozen=True)
class Plan:
    mode: str
    rebuild: bool  # recreate the table first (a first build or other columns)
    reason: str
    definition: str
    as_of_before: dt.date | None = None  # as_of moved forward from this date (incremental)


def _fx_sql(warehouse: Warehouse, table: GoldTable) -> str:
    """The FX rates orders_enriched converts with, as one string (a scalar subquery)."""
    if table.name != "orders_enriched" or not warehouse.table_exists(inc.FX_RATES):
        return "''"
    return (f"(SELECT STRING_AGG(CONCAT(currency, '=', CAST(rate_to_usd AS STRING)), ',' "
            f"ORDER BY currency) FROM {inc.FX_RATES})")


def _definition_now(warehouse: Warehouse, table: GoldTable) -> str:
    """The definition as :func:`_state` reads it, when no watermark can be read yet."""
    fx = _fx_sql(warehouse, table)
    if fx == "''":
        return definition(table)
    (row,) = _query(warehouse, f"SELECT {fx} AS fx")
    return definition(table, row["fx"] or "")


def _state(warehouse: Warehouse, table: GoldTable) -> dict:
    """Everything a keyed refresh decides on, in one query (each query opens a connection):
    the table's and orders_enriched's watermarks, which silver tables changed since
    orders_enriched's, silver rows without a timestamp, the FX rates, the mart's queue."""
    (row,) = _query(warehouse, _state_sql(warehouse, table))
    return row


def _state_sql(warehouse: Warehouse, table: GoldTable) -> str:
    wm, name = inc.WATERMARKS_TABLE, table.name

    def mark(of: str, what: str) -> str:
        return f"(SELECT MAX({what}) FROM {wm} WHERE table_name = '{of}')"

    fx = _fx_sql(warehouse, table)
    queued = (f"(SELECT COUNT(*) FROM {inc.PENDING_TABLE} WHERE table_name = '{name}')"
              if name in inc.MARTS else "0")
    if vanished := inc.vanished_keys(name):
        queued += f" + (SELECT COUNT(*) FROM ({vanished}))"
    return (
        f"SELECT {mark(name, 'as_of')} AS as_of, {mark(name, 'definition')} AS definition, "
        f"{mark('orders_enriched', 'as_of')} AS source_as_of, {fx} AS fx, "
        f"{queued} AS queued, d.changed, d.untimed\n"
        f"FROM (SELECT COUNTIF(w.source IS NULL OR m.updated_at IS DISTINCT FROM w.updated_at "
        f"OR m.row_count IS DISTINCT FROM w.row_count) AS changed, "
        f"SUM(m.untimed) AS untimed\n"
        f"  FROM ({inc.marks_sql()}) AS m LEFT JOIN (SELECT * FROM {wm} "
        f"WHERE table_name = 'orders_enriched') AS w ON w.source = m.source) AS d")


def choose_mode(warehouse: Warehouse, table: GoldTable, as_of: dt.date,
                full_refresh: bool = False) -> Plan:
    """The mode of a keyed table's refresh, and why (see the module docstring)."""
    if not warehouse.table_exists(table.warehouse_table):
        return Plan(FULL, True, "first build", _definition_now(warehouse, table))
    found = warehouse.query_arrow(
        f"SELECT * FROM {warehouse.quote(table.warehouse_table)} LIMIT 0").column_names
    if list(found) != list(table.schema.columns):
        return Plan(FULL, True, "the table's columns differ from its schema",
                    _definition_now(warehouse, table))
    if not warehouse.table_exists(inc.WATERMARKS_TABLE):
        return Plan(FULL, False, "no watermark", _definition_now(warehouse, table))
    state = _state(warehouse, table)
    digest = definition(table, state["fx"] or "")
    if full_refresh:
        return Plan(FULL, False, "full refresh requested", digest)
    if state["definition"] is None:
        return Plan(FULL, False, "no watermark", digest)
    if state["definition"] != digest:
        return Plan(FULL, False, "the SQL definition (or the FX rates) changed", digest)
    before, moved = state["as_of"], f"as_of moved from {state['as_of']} to {as_of}"
    if before != as_of and (before is None or as_of < before or table.name in inc.RECENCY):
        # Back in time (rows leave the cut), or recency measured against it on every row.
        return Plan(FULL, False, moved, digest)
    forward = before if before != as_of else None  # the days (before, as_of] joined the cut
    changed, untimed = int(state["changed"]), int(state["untimed"] or 0)
    if changed and untimed:  # loaded around silver's refresh: what changed is unknowable
        return Plan(FULL, False, f"{untimed} silver row(s) without {inc.UPDATED}", digest)
    if table.name == "orders_enriched":
        if changed or forward:
            why = [f"{changed} silver table(s) changed"] if changed else []
            return Plan(INCREMENTAL, False, "; ".join([*why, *[moved] * bool(forward)]),
                        digest, forward)
        return Plan(UNCHANGED, False, "nothing new in silver since the last refresh", digest)
    if state["source_as_of"] != as_of or changed:
        # Its queue holds only what orders_enriched has seen: rebuild from what silver is.
        return Plan(FULL, False, "orders_enriched is not current with silver", digest)
    if queued := int(state["queued"]):
        return Plan(INCREMENTAL, False, f"{queued} queued key(s)"
                    + (f"; {moved}" if forward else ""), digest, forward)
    if forward:  # nothing joined the cut for it: only the date in its watermark moves
        return Plan(INCREMENTAL, False, moved, digest, forward)
    return Plan(UNCHANGED, False, "no queued key", digest)


def keyed_statements(table: GoldTable, as_of: dt.date, plan: Plan) -> list[str]:
    """The statements of a keyed refresh (not unchanged)."""
    select = table.select_sql(as_of=as_of)
    day, digest = f"DATE '{as_of.isoformat()}'", plan.definition
    statements = list(inc.DDL)
    if plan.rebuild:  # an empty table of the SELECT's columns
        statements.append(f"CREATE OR REPLACE TABLE {table.warehouse_table} AS\n"
                          f"SELECT * FROM (\n{select}\n) WHERE FALSE")
    if plan.mode == INCREMENTAL:
        if table.name == "orders_enriched":
            since = plan.as_of_before and f"DATE '{plan.as_of_before.isoformat()}'"
            return statements + inc.orders_enriched_statements(select, day, digest, since)
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
    seam_rows = None
    if table.name not in KEYED:
        cached = bool(table.seams) and resources is not None
        if cached:
            seam_rows = update_seams(warehouse, table, resources, recompute=full_refresh)
        run_script(warehouse, refresh_statements(table, as_of=as_of, resources=resources,
                                                 cached_seams=cached))
        mode, reason = FULL, "rebuilt on every refresh"
    else:
        as_of = as_of or settings.as_of()
        plan = choose_mode(warehouse, table, as_of, full_refresh)
        mode, reason = plan.mode, plan.reason
        if mode != UNCHANGED:
            run_script(warehouse, keyed_statements(table, as_of, plan))
    report = RefreshReport(row_count(warehouse, table.warehouse_table),
                           time.perf_counter() - started, mode, reason, seam_rows)
    if table.name in KEYED and mode == FULL:
        # What the next landing runs (a new day, or the same), transpiled now: see
        # Warehouse.prepare.
        warehouse.prepare([_state_sql(warehouse, table), *(
            s for before in (as_of, None) for s in keyed_statements(
                table, as_of, replace(plan, mode=INCREMENTAL, rebuild=False,
                                      as_of_before=before)))])
    return report
