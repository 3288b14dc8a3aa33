"""Refresh one silver table in the warehouse: incrementally (a MERGE of what bronze changed) or
in full (its whole SELECT).

The statements are BigQuery Standard SQL, transpiled one by one for the embedded DuckDB, and
run as one script whose DML is one transaction, so a failure leaves the previous silver
table, its rejects (``ops.silver_rejects``) and its watermarks in place.

**Watermarks.** ``ops.silver_watermarks`` keeps, per silver table and bronze landing day,
the newest bronze ``processed_at`` the table has taken in. A bronze run replaces a whole
landing day with one new ``processed_at`` (a backfilled old day included), so the days whose
newest ``processed_at`` differs from the stored one, or that appeared or vanished, are exactly
the days bronze changed. Per day rather than one timestamp for the table: a day committed
late with an older ``processed_at`` cannot slip under a single mark.

**Incremental refresh.** The keys to recompute are those of the changed days' bronze rows,
plus those whose silver row or reject came from a changed day (a replaced day may have
lost or corrected the version that won). Their latest version is ranked again over all of
bronze (the same SELECT, restricted by ``sqltables.latest_versions``), so "newest" means
exactly what the full dedupe means, even when the newest version of a key vanished. Then:
a ``MERGE`` on the key (changed rows updated with a new ``silver_updated_at``, new keys
inserted), a ``DELETE`` of the keys that no longer have a kept version, the keys' rejects
replaced, and the watermarks updated, all in the same transaction.

A CTE that reads all of a bronze table to decide a column of many rows (the brand spellings
of products and inventory items) is a :class:`Lookup`: its current rows are compared with a
snapshot in ``ops.silver_lookups`` and the silver rows of every changed lookup key are
recomputed too.

When no landing day (and no lookup) changed, nothing runs: the refresh is ``unchanged``.

**What the checks read.** Each refresh adds the keys it recomputed to
``ops.silver_unchecked_<table>`` in its transaction (a full refresh: one NULL row, "every
row"); the asset's checks read the rows of those keys and empty the table once every check
passes. So a landing's checks read what it changed, not the whole table, and rows a check
failed on, or that a killed step never checked, stay in scope until the checks pass.

**Full refresh** (asked for, a first build, a changed table schema or a changed SQL
definition): every row from the whole SELECT, and the watermarks and lookups written anew.
"""

from __future__ import annotations

import hashlib
import time
from dataclasses import dataclass

import sqlglot
from sqlglot import exp

from ecommerce_assets.silver.spec import (
    DATASETS,
    REJECT_COLUMN,
    REJECTS_TABLE,
    SilverTable,
)
from ecommerce_assets.sqltables import run_script
from resources.keys import validate_identifier
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
WATERMARKS_TABLE = f"{DATASETS['ops']}.silver_watermarks"
WATERMARKS_DDL = f"""
CREATE TABLE IF NOT EXISTS {WATERMARKS_TABLE} (
  table_name STRING,
  landing_date DATE,
  processed_at TIMESTAMP,
  definition STRING
)"""
LOOKUPS_TABLE = f"{DATASETS['ops']}.silver_lookups"
LOOKUPS_DDL = f"""
CREATE TABLE IF NOT EXISTS {LOOKUPS_TABLE} (
  table_name STRING,
  lookup_key STRING,
  value STRING
)"""
UPDATED_COLUMN = "silver_updated_at"
FULL, INCREMENTAL, UNCHANGED = "full", "incremental", "unchanged"


@dataclass(frozen=True)
class Lookup:
    """A CTE of ``(key_column, value_column)`` rows that decides ``silver_column`` of every
    row whose ``LOWER(silver_column)`` is its key."""

    cte: str
    key_column: str
    value_column: str
    silver_column: str


BRANDS = "brand_spellings", "brand_key", "spelling"
LOOKUPS: dict[str, Lookup] = {"products": Lookup(*BRANDS, "brand"),
                              "inventory_items": Lookup(*BRANDS, "product_brand")}


@dataclass(frozen=True)
class RefreshReport:
    rows: int  # rows now in the silver table
    rejects: dict[str, int]  # reason -> rows now in ops.silver_rejects for this table
    seconds: float
    mode: str = FULL  # full | incremental | unchanged (nothing new: no statement ran)
    reason: str = ""  # why this mode

    @property
    def rejected(self) -> int:
        return sum(self.rejects.values())


def definition(table: SilverTable) -> str:
    """A digest of the table's SELECT and columns: a change of either means a full refresh."""
    text = "\n".join([table.select_sql(), *table.schema.columns])
    return hashlib.sha256(text.encode()).hexdigest()[:16]


Datasets = dict[str, str] | None


def _bronze(table: SilverTable, datasets: Datasets) -> str:
    return f"{validate_identifier({**DATASETS, **(datasets or {})}['bronze'])}.{table.name}"


def keys_table(table: SilverTable) -> str:
    """Scratch table: the keys an incremental refresh recomputes (empty between refreshes).
    Scratch tables rather than a script's TEMP tables: the BigQuery emulator keeps those."""
    return f"{DATASETS['ops']}.silver_keys_{table.name}"


def unchecked_table(table: SilverTable) -> str:
    """The keys changed since the table's checks last all passed (a NULL key: every row)."""
    return f"{DATASETS['ops']}.silver_unchecked_{table.name}"


def stage_table(table: SilverTable) -> str:
    """Scratch table: the recomputed rows of those keys, reject reason included."""
    return f"{DATASETS['ops']}.silver_stage_{table.name}"


def _marks(table: SilverTable, datasets: Datasets) -> str:
    """Newest ``processed_at`` of each bronze landing day. Every statement of the script's
    transaction reads the same snapshot, so each use of this subquery sees the same marks."""
    return (f"(SELECT landing_date, MAX(processed_at) AS processed_at "
            f"FROM {_bronze(table, datasets)} GROUP BY landing_date)")


def _lookup_sql(table: SilverTable, lookup: Lookup, datasets: Datasets) -> str:
    """The body of the lookup's CTE (BigQuery SQL), as the table's SELECT has it."""
    tree = sqlglot.parse_one(table.select_sql(datasets), read="bigquery")
    (cte,) = [c for c in tree.find_all(exp.CTE) if c.alias == lookup.cte]
    return cte.this.sql(dialect="bigquery")


def _bookkeeping(table: SilverTable, datasets: Datasets) -> list[str]:
    """Watermarks (and the lookup snapshot) as of this refresh: the last statements."""
    name = table.name
    statements = [
        f"DELETE FROM {WATERMARKS_TABLE} WHERE table_name = '{name}'",
        f"INSERT INTO {WATERMARKS_TABLE} (table_name, landing_date, processed_at, definition)\n"
        f"SELECT '{name}', landing_date, processed_at, '{definition(table)}' "
        f"FROM {_marks(table, datasets)}",
    ]
    if lookup := LOOKUPS.get(name):
        statements += [
            f"DELETE FROM {LOOKUPS_TABLE} WHERE table_name = '{name}'",
            f"INSERT INTO {LOOKUPS_TABLE} (table_name, lookup_key, value)\n"
            f"SELECT '{name}', {lookup.key_column}, {lookup.value_column} "
            f"FROM ({_lookup_sql(table, lookup, datasets)})"]
    return statements


def _ddl(table: SilverTable, mode: str, rebuild: bool, datasets: Datasets) -> list[str]:
    """The script's DDL (it runs before its transaction on BigQuery)."""
    empty = (f"SELECT * EXCEPT ({REJECT_COLUMN}) FROM (\n{table.select_sql(datasets)}\n) "
             f"WHERE FALSE")
    statements = []
    if rebuild:  # an empty table of the SELECT's columns (and, on BigQuery, its layout)
        statements.append(f"CREATE OR REPLACE TABLE {table.warehouse_table} AS\n{empty}")
    statements += [REJECTS_DDL, WATERMARKS_DDL]
    if table.name in LOOKUPS:
        statements.append(LOOKUPS_DDL)
    # The stage has the SELECT's columns: a full refresh (which any change of the SELECT
    # or the schema causes) recreates it.
    stage = (f"SELECT * FROM (\n{table.select_sql(datasets)}\n) WHERE FALSE")
    create = "CREATE OR REPLACE TABLE" if mode == FULL else "CREATE TABLE IF NOT EXISTS"
    statements += [f"CREATE TABLE IF NOT EXISTS {keys_table(table)} ({table.key} INT64)",
                   f"CREATE TABLE IF NOT EXISTS {unchecked_table(table)} ({table.key} INT64)",
                   f"{create} {stage_table(table)} AS\n{stage}"]
    return statements


def _insert_rejects(table: SilverTable, source: str) -> str:
    return (f"INSERT INTO {REJECTS_TABLE} (table_name, record_key, reason, source_object, "
            f"source_line, landing_date, processed_at, record, rejected_at)\n"
            f"SELECT '{table.name}', c.{table.key}, c.{REJECT_COLUMN}, c.source_object, "
            f"c.source_line, c.landing_date, c.processed_at, TO_JSON_STRING(c), "
            f"CURRENT_TIMESTAMP()\n"
            # The record as silver would have held it, without the refresh's own timestamp.
            f"FROM (SELECT * EXCEPT ({UPDATED_COLUMN}) FROM {source}) AS c "
            f"WHERE c.{REJECT_COLUMN} IS NOT NULL")


def refresh_statements(table: SilverTable, datasets: Datasets = None, *,
                       rebuild: bool = True) -> list[str]:
    """The full refresh of ``table`` as BigQuery SQL statements, in order. ``rebuild``
    recreates the table first (a first build or a schema change)."""
    name, select = table.name, table.select_sql(datasets)  # name and key are validated
    columns = ", ".join(table.schema.columns)
    statements = [
        *_ddl(table, FULL, rebuild, datasets),
        f"DELETE FROM {table.warehouse_table} WHERE TRUE",
        f"INSERT INTO {table.warehouse_table} ({columns})\n"
        f"SELECT {columns} FROM (\n{select}\n) WHERE {REJECT_COLUMN} IS NULL",
        f"DELETE FROM {REJECTS_TABLE} WHERE table_name = '{name}'",
    ]
    if table.can_reject:
        statements.append(_insert_rejects(table, f"(\n{select}\n)"))
    return [*statements, f"DELETE FROM {unchecked_table(table)} WHERE TRUE",
            f"INSERT INTO {unchecked_table(table)} ({table.key}) VALUES (NULL)",
            *_bookkeeping(table, datasets)]


def _changed_keys(table: SilverTable, datasets: Datasets) -> str:
    """INSERT of the keys to recompute into the keys table."""
    name, key, silver = table.name, table.key, table.warehouse_table
    ctes = [f"days AS (\n"
            f"  SELECT IFNULL(m.landing_date, w.landing_date) AS landing_date\n"
            f"  FROM {_marks(table, datasets)} AS m FULL OUTER JOIN (\n"
            f"    SELECT landing_date, processed_at FROM {WATERMARKS_TABLE} "
            f"WHERE table_name = '{name}') AS w ON m.landing_date = w.landing_date\n"
            f"  WHERE m.processed_at IS DISTINCT FROM w.processed_at)"]
    in_days = "landing_date IN (SELECT landing_date FROM days)"
    sources = [f"SELECT {key} FROM {_bronze(table, datasets)} WHERE {in_days}",
               f"SELECT {key} FROM {silver} WHERE {in_days}",
               f"SELECT record_key AS {key} FROM {REJECTS_TABLE} "
               f"WHERE table_name = '{name}' AND {in_days}"]
    if lookup := LOOKUPS.get(name):
        ctes.append(f"lookup_changes AS (\n  {_lookup_changes(table, lookup, datasets)})")
        # A silver value's lower case is its lookup key, spelled as the lookup or not.
        sources.append(f"SELECT {key} FROM {silver} WHERE LOWER({lookup.silver_column}) IN "
                       f"(SELECT lookup_key FROM lookup_changes)")
    union = "\n  UNION ALL ".join(sources)
    return (f"INSERT INTO {keys_table(table)} ({key})\nWITH {', '.join(ctes)}\n"
            f"SELECT DISTINCT {key} FROM (\n  {union}\n)")


def incremental_statements(table: SilverTable, datasets: Datasets = None) -> list[str]:
    """The incremental refresh of ``table`` as BigQuery SQL statements, in order."""
    name, key, silver = table.name, table.key, table.warehouse_table
    keys, stage = keys_table(table), stage_table(table)
    columns = list(table.schema.columns)
    compared = [c for c in columns if c not in (key, UPDATED_COLUMN)]
    differs = "\n    OR ".join(f"t.{c} IS DISTINCT FROM s.{c}" for c in compared)
    kept = f"(SELECT * EXCEPT ({REJECT_COLUMN}) FROM {stage} WHERE {REJECT_COLUMN} IS NULL)"
    statements = [
        *_ddl(table, INCREMENTAL, False, datasets),
        f"DELETE FROM {keys} WHERE TRUE",  # left empty by the last refresh, unless it failed
        _changed_keys(table, datasets),
        f"INSERT INTO {unchecked_table(table)} ({key}) SELECT {key} FROM {keys}",
        f"DELETE FROM {stage} WHERE TRUE",
        f"INSERT INTO {stage}\n{table.select_sql(datasets, keys_table=keys)}",
        f"MERGE {silver} AS t\nUSING {kept} AS s\nON t.{key} = s.{key}\n"
        f"WHEN MATCHED AND (\n    {differs}) THEN\n"
        f"  UPDATE SET {', '.join(f'{c} = s.{c}' for c in [*compared, UPDATED_COLUMN])}\n"
        f"WHEN NOT MATCHED THEN\n"
        f"  INSERT ({', '.join(columns)}) VALUES ({', '.join(f's.{c}' for c in columns)})",
        # Keys whose every version vanished, or whose latest version is now rejected.
        f"DELETE FROM {silver} WHERE {key} IN (SELECT {key} FROM {keys}) AND {key} NOT IN "
        f"(SELECT {key} FROM {stage} WHERE {REJECT_COLUMN} IS NULL)",
    ]
    if table.can_reject:
        statements += [f"DELETE FROM {REJECTS_TABLE} WHERE table_name = '{name}' AND "
                       f"record_key IN (SELECT {key} FROM {keys})",
                       _insert_rejects(table, stage)]
    return [*statements, *_bookkeeping(table, datasets),
            f"DELETE FROM {keys} WHERE TRUE", f"DELETE FROM {stage} WHERE TRUE"]


def _lookup_changes(table: SilverTable, lookup: Lookup, datasets: Datasets) -> str:
    """The lookup keys whose value differs from the snapshot (or that appeared or vanished)."""
    return (f"SELECT IFNULL(c.{lookup.key_column}, s.lookup_key) AS lookup_key\n"
            f"  FROM ({_lookup_sql(table, lookup, datasets)}) AS c FULL OUTER JOIN (\n"
            f"    SELECT lookup_key, value FROM {LOOKUPS_TABLE} WHERE table_name = "
            f"'{table.name}') AS s ON c.{lookup.key_column} = s.lookup_key\n"
            f"  WHERE c.{lookup.value_column} IS DISTINCT FROM s.value")


def choose_mode(warehouse: Warehouse, table: SilverTable,
                full_refresh: bool = False) -> tuple[str, bool, str]:
    """(mode, rebuild, reason): full when asked, when the table is missing or has other
    columns, or when it was never refreshed with its current SQL definition; otherwise
    incremental, or unchanged when bronze changed nothing it reads since the last refresh."""
    if not warehouse.table_exists(table.warehouse_table):
        return FULL, True, "first build"
    found = warehouse.query_arrow(
        f"SELECT * FROM {warehouse.quote(table.warehouse_table)} LIMIT 0").column_names
    if list(found) != list(table.schema.columns):
        return FULL, True, "the table's columns differ from its schema"
    if full_refresh:
        return FULL, False, "full refresh requested"
    if not warehouse.table_exists(WATERMARKS_TABLE):
        return FULL, False, "no watermarks"
    # One query: are the watermarks of this definition, and which landing days changed?
    (row,) = warehouse.query_arrow(warehouse.transpile(
        f"SELECT COUNTIF(w.definition = '{definition(table)}') AS current, "
        f"COUNT(w.table_name) AS n, "
        f"COUNTIF(m.processed_at IS DISTINCT FROM w.processed_at) AS changed\n"
        f"FROM {_marks(table, None)} AS m FULL OUTER JOIN (SELECT * FROM {WATERMARKS_TABLE} "
        f"WHERE table_name = '{table.name}') AS w ON m.landing_date = w.landing_date"
    )).to_pylist()
    if not row["n"]:
        return FULL, False, "no watermarks"
    if row["current"] != row["n"]:
        return FULL, False, "the SQL definition changed"
    if row["changed"]:
        return INCREMENTAL, False, f"{row['changed']} landing day(s) changed in bronze"
    if lookup := LOOKUPS.get(table.name):
        (changes,) = warehouse.query_arrow(warehouse.transpile(
            f"SELECT COUNT(*) AS n FROM ({_lookup_changes(table, lookup, None)})")).to_pylist()
        if changes["n"]:
            return INCREMENTAL, False, f"{changes['n']} {lookup.cte} changed"
    return UNCHANGED, False, "nothing new in bronze since the last refresh"


def refresh_table(warehouse: Warehouse, table: SilverTable,
                  full_refresh: bool = False) -> RefreshReport:
    """Refresh ``table`` from bronze (see the module docstring); returns its row count, its
    rejects by reason and the mode it ran in."""
    started = time.perf_counter()
    mode, rebuild, reason = choose_mode(warehouse, table, full_refresh)
    if mode != UNCHANGED:
        run_script(warehouse, incremental_statements(table) if mode == INCREMENTAL
                   else refresh_statements(table, rebuild=rebuild))
    seconds = time.perf_counter() - started
    if mode == FULL:  # what the next landing runs, transpiled now (Warehouse.prepare)
        warehouse.prepare(incremental_statements(table))
    # The row count (reason NULL) and the rejects by reason, in one query.
    counts = warehouse.query_arrow(warehouse.transpile(
        f"SELECT CAST(NULL AS STRING) AS reason, COUNT(*) AS n FROM {table.warehouse_table}\n"
        f"UNION ALL SELECT reason, COUNT(*) AS n FROM {REJECTS_TABLE} WHERE table_name = "
        f"'{table.name}' GROUP BY reason")).to_pylist()
    rows = sum(int(r["n"]) for r in counts if r["reason"] is None)
    rejects = {r["reason"]: int(r["n"]) for r in sorted(
        (r for r in counts if r["reason"] is not None), key=lambda r: r["reason"])}
    return RefreshReport(rows, rejects, seconds, mode, reason)
