"""Asset checks of the silver layer, all computed in the warehouse (counts + small samples).

Run with each materialization (``check_specs`` of the asset, see ``assets.py``), on the rows
of the keys changed since the table's checks last all passed (:class:`Scope`; every row after
a full refresh):
- ``pandera_schema`` (blocking): the silver Pandera schema compiled to SQL: columns and
  types, non-null and unique keys, enum sets, ranges and patterns;
- ``reconciles_with_bronze`` (blocking): distinct bronze keys = silver rows + rejects, so
  nothing disappears unexplained;
- the table's business rules (orders: shipped >= created, returned_at iff Returned).

Cross-table checks, evaluated by the same step after every table it refreshes (they read a
second silver table, refreshed by then when the run selects it):
- ``orphan_<column>`` (warn) per reference: child rows whose parent key is not in silver,
  split by whether the parent was rejected (late-arriving rows are legal);
- ``num_of_item_matches_items`` (warn) on orders: num_of_item = count of its order items.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import dagster as dg

from ecommerce_assets import table_checks
from ecommerce_assets.quality import literal, sample_rows
from ecommerce_assets.silver.refresh import unchecked_table
from ecommerce_assets.silver.spec import (
    DATASETS,
    REFERENCES,
    REJECTS_TABLE,
    SILVER_TABLES,
    Reference,
    Rule,
    SilverTable,
)
from ecommerce_assets.table_checks import SAMPLE_SIZE, counts
from resources.warehouse import Warehouse

RECONCILE_CHECK = "reconciles_with_bronze"
NUM_OF_ITEM_CHECK = "num_of_item_matches_items"


def asset_key(table: str) -> dg.AssetKey:
    return dg.AssetKey(["silver", table])


def check_specs(table: SilverTable) -> list[dg.AssetCheckSpec]:
    """The checks evaluated inside the materialization of ``table``."""
    key = asset_key(table.name)
    specs = [
        table_checks.schema_spec(key, "silver"),
        dg.AssetCheckSpec(RECONCILE_CHECK, asset=key, blocking=True,
                          description="Distinct bronze keys = silver rows + rejects "
                                      f"explained in {REJECTS_TABLE}"),
    ]
    specs += [table_checks.rule_spec(key, r) for r in table.rules]
    return specs


@dataclass(frozen=True)
class Scope:
    """The rows the checks of one refresh read: the keys in the table's unchecked-keys table
    (filled by the refresh, emptied when every check passes; see ``silver/refresh.py``).
    Rows outside it are as they were when the checks last passed on them."""

    table: SilverTable
    keys: int | None  # keys in scope; None: every row

    def where(self, column: str | None = None) -> str:
        """BigQuery predicate on ``column`` (default the table's key) selecting the scope."""
        column = column or self.table.key
        if self.keys is None:
            return "TRUE"
        if not self.keys:
            return "FALSE"
        return (f"{column} IN (SELECT {self.table.key} FROM {unchecked_table(self.table)} "
                f"WHERE {self.table.key} IS NOT NULL)")

    def describe(self) -> str:
        return ("every row" if self.keys is None else
                f"the rows of {self.keys} key(s) changed since the checks last passed")


def check_scope(warehouse: Warehouse, table: SilverTable) -> Scope:
    if not warehouse.table_exists(unchecked_table(table)):
        return Scope(table, None)
    row = counts(warehouse, f"SELECT COUNT(*) AS n, COUNTIF({table.key} IS NULL) AS every_row "
                            f"FROM {unchecked_table(table)}")
    return Scope(table, None if row["every_row"] else row["n"])


def clear_scope(warehouse: Warehouse, table: SilverTable) -> None:
    """After every check passed: the changed rows are checked. (A table refreshed by no
    statement since this came in has no unchecked-keys table yet.)"""
    if warehouse.table_exists(unchecked_table(table)):
        warehouse.execute(warehouse.transpile(
            f"DELETE FROM {unchecked_table(table)} WHERE TRUE"))


def schema_result(warehouse: Warehouse, table: SilverTable,
                  scope: Scope | None = None) -> dg.AssetCheckResult:
    scope = scope or Scope(table, None)
    return table_checks.schema_result(warehouse, table.warehouse_table, table.schema,
                                      scope.where())


@dataclass(frozen=True)
class Reconciliation:
    """Where every bronze row of a table went."""

    bronze_rows: int
    duplicates_in_file: int  # never reach silver
    superseded_versions: int  # older versions of a key
    bronze_keys: int  # distinct keys over all bronze rows
    silver_rows: int
    rejected: int  # rows of this table in ops.silver_rejects

    @property
    def unexplained(self) -> int:
        return self.bronze_keys - self.silver_rows - self.rejected


def reconcile(warehouse: Warehouse, table: SilverTable,
              scope: Scope | None = None) -> Reconciliation:
    """Where the bronze rows of the keys in ``scope`` (default: all) went."""
    bronze = f"{DATASETS['bronze']}.{table.name}"
    scope = scope or Scope(table, None)
    where, rejects = scope.where(), scope.where("record_key")
    # One GROUP BY key: a single hash aggregate, however many figures come out of it.
    row = counts(warehouse, f"""
        SELECT COUNT(*) AS bronze_keys, SUM(n) AS bronze_rows,
               SUM(duplicates) AS duplicates_in_file, COUNTIF(n > duplicates) AS kept_keys,
               (SELECT COUNT(*) FROM {table.warehouse_table} WHERE {where}) AS silver_rows,
               (SELECT COUNT(*) FROM {REJECTS_TABLE}
                WHERE table_name = {literal(table.name)} AND {rejects}) AS rejected
        FROM (SELECT {table.key}, COUNT(*) AS n, COUNTIF(is_duplicate_in_file) AS duplicates
              FROM {bronze} WHERE {where} GROUP BY {table.key})""")
    return Reconciliation(
        bronze_rows=row["bronze_rows"], duplicates_in_file=row["duplicates_in_file"],
        superseded_versions=row["bronze_rows"] - row["duplicates_in_file"] - row["kept_keys"],
        bronze_keys=row["bronze_keys"], silver_rows=row["silver_rows"],
        rejected=row["rejected"])


def reconcile_result(warehouse: Warehouse, table: SilverTable, rec: Reconciliation,
                     scope: Scope | None = None) -> dg.AssetCheckResult:
    metadata: dict = {"bronze_keys": rec.bronze_keys, "silver_rows": rec.silver_rows,
                      "rejected": rec.rejected, "unexplained": rec.unexplained}
    if rec.unexplained:  # name a few keys that are in bronze but neither in silver nor rejects
        k, scope = table.key, scope or Scope(table, None)
        metadata["missing_sample"] = dg.MetadataValue.json(sample_rows(
            warehouse, f"{DATASETS['bronze']}.{table.name} AS b",
            f"{scope.where(f'b.{k}')} AND "
            f"b.{k} NOT IN (SELECT {k} FROM {table.warehouse_table}) AND b.{k} NOT IN "
            f"(SELECT record_key FROM {REJECTS_TABLE} WHERE table_name = "
            f"{literal(table.name)})", SAMPLE_SIZE, f"DISTINCT b.{k}"))
    return dg.AssetCheckResult(check_name=RECONCILE_CHECK, passed=rec.unexplained == 0,
                               severity=dg.AssetCheckSeverity.ERROR, metadata=metadata)


def rule_result(warehouse: Warehouse, table: SilverTable, rule: Rule,
                scope: Scope | None = None) -> dg.AssetCheckResult:
    return table_checks.rule_result(warehouse, table.warehouse_table, rule,
                                    (scope or Scope(table, None)).where())


def materialization_checks(warehouse: Warehouse, table: SilverTable, rec: Reconciliation,
                           scope: Scope | None = None) -> list[dg.AssetCheckResult]:
    """Results for every spec of :func:`check_specs`, in the same order."""
    return [schema_result(warehouse, table, scope),
            reconcile_result(warehouse, table, rec, scope),
            *(rule_result(warehouse, table, r, scope) for r in table.rules)]


def orphans(warehouse: Warehouse, ref: Reference) -> dict:
    """Orphan counts of ``ref`` and a sample of orphan rows."""
    child, parent = SILVER_TABLES[ref.child], SILVER_TABLES[ref.parent]
    col = f"c.{ref.column}"
    frm = (f"{child.warehouse_table} AS c "
           f"LEFT JOIN {parent.warehouse_table} AS p ON p.{parent.key} = {col} "
           f"LEFT JOIN (SELECT DISTINCT record_key FROM {REJECTS_TABLE} "
           f"WHERE table_name = {literal(parent.name)}) AS r ON r.record_key = {col}")
    orphan = f"{col} IS NOT NULL AND p.{parent.key} IS NULL"
    row: dict = counts(
        warehouse,
        f"SELECT COUNTIF({col} IS NOT NULL) AS rows_checked, COUNTIF({orphan}) AS orphans, "
        f"COUNT(DISTINCT IF({orphan}, {col}, NULL)) AS missing_parent_keys, "
        f"COUNTIF({orphan} AND r.record_key IS NOT NULL) AS parent_rejected FROM {frm}")
    row["sample"] = sample_rows(warehouse, frm, orphan, SAMPLE_SIZE,
                                f"c.{child.key}, {col}, r.record_key IS NOT NULL "
                                f"AS parent_rejected") if row["orphans"] else []
    return row


def _not_yet_built(warehouse: Warehouse, table: str) -> dg.AssetCheckResult | None:
    """A warning when the other silver table a cross-table check reads does not exist yet."""
    name = SILVER_TABLES[table].warehouse_table
    if warehouse.table_exists(name):
        return None
    return dg.AssetCheckResult(passed=False, severity=dg.AssetCheckSeverity.WARN,
                               metadata={"reason": f"{name} does not exist yet"})


def reference_result(warehouse: Warehouse, ref: Reference) -> dg.AssetCheckResult:
    """``orphan_<column>`` on the child table (warn: late-arriving parents are legal)."""
    if missing := _not_yet_built(warehouse, ref.parent):
        return missing
    found = orphans(warehouse, ref)
    return dg.AssetCheckResult(
        passed=found["orphans"] == 0, severity=dg.AssetCheckSeverity.WARN,
        metadata={"rows_checked": found["rows_checked"], "orphans": found["orphans"],
                  "missing_parent_keys": found["missing_parent_keys"],
                  "orphans_parent_rejected": found["parent_rejected"],
                  "orphans_parent_not_arrived": found["orphans"] - found["parent_rejected"],
                  "orphan_sample": dg.MetadataValue.json(found["sample"])})


def item_count_mismatches(warehouse: Warehouse) -> dict:
    """Orders whose num_of_item differs from the number of their silver order items."""
    orders, items = SILVER_TABLES["orders"], SILVER_TABLES["order_items"]
    frm = (f"{orders.warehouse_table} AS o LEFT JOIN (SELECT order_id, COUNT(*) AS items "
           f"FROM {items.warehouse_table} GROUP BY order_id) AS i ON i.order_id = o.order_id")
    mismatch = "o.num_of_item IS DISTINCT FROM IFNULL(i.items, 0)"
    row: dict = counts(
        warehouse,
        f"SELECT COUNT(*) AS orders, COUNTIF({mismatch}) AS mismatched, "
        f"COUNTIF({mismatch} AND IFNULL(i.items, 0) < o.num_of_item) AS fewer_items "
        f"FROM {frm}")
    row["sample"] = sample_rows(warehouse, frm, mismatch, SAMPLE_SIZE,
                                "o.order_id, o.status, o.num_of_item, IFNULL(i.items, 0) AS items"
                                ) if row["mismatched"] else []
    return row


def num_of_item_result(warehouse: Warehouse) -> dg.AssetCheckResult:
    if missing := _not_yet_built(warehouse, "order_items"):
        return missing
    found = item_count_mismatches(warehouse)
    return dg.AssetCheckResult(
        passed=found["mismatched"] == 0, severity=dg.AssetCheckSeverity.WARN,
        metadata={"orders_checked": found["orders"], "mismatched": found["mismatched"],
                  "fewer_items_than_num_of_item": found["fewer_items"],
                  "mismatch_sample": dg.MetadataValue.json(found["sample"])})


# Each cross-table check: its spec and how its result is computed. The specs belong to the
# silver step (assets.py): a step of their own cost its events and its pool claim, more than
# most of these queries. (No ``additional_deps`` on the parent: it is an output of the same
# step, and the step evaluates these after its last table.)
CROSS_TABLE: dict[dg.AssetCheckKey, tuple[dg.AssetCheckSpec, Callable[[Warehouse],
                                                                    dg.AssetCheckResult]]] = {}
for _ref in REFERENCES:
    _spec = dg.AssetCheckSpec(
        _ref.check_name, asset=asset_key(_ref.child), blocking=False,
        description=f"{_ref.child}.{_ref.column} -> {_ref.parent}: rows whose parent is not in "
                    f"silver (warn: late-arriving parents are legal)")
    CROSS_TABLE[_spec.key] = (_spec, functools.partial(reference_result, ref=_ref))
_spec = dg.AssetCheckSpec(
    NUM_OF_ITEM_CHECK, asset=asset_key("orders"), blocking=False,
    description="orders.num_of_item equals the count of its order items (warn; reads "
                "order_items)")
CROSS_TABLE[_spec.key] = (_spec, num_of_item_result)


def cross_table_results(warehouse: Warehouse, selected: set[dg.AssetCheckKey]
                        ) -> Iterator[dg.AssetCheckResult]:
    """The results of the cross-table checks in ``selected``, each naming its check."""
    for key in sorted(set(CROSS_TABLE) & selected, key=str):
        yield CROSS_TABLE[key][1](warehouse)._replace(asset_key=key.asset_key,
                                                      check_name=key.name)
