"""Asset checks of the marts layer, computed in the warehouse, all with each materialization.

- ``pandera_schema`` (blocking): types, enums, ranges and the grain (a unique, non-null key).
- the table's rules (``spec.py``).
- ``references_<dimension>_<column>`` (blocking): every value of a fact's key column is a key
  of the dimension (the unknown member included): no fact points at a missing row.
- ``scd2_valid_intervals`` (blocking, SCD2 dimensions): a key's versions never overlap, each
  starts before it ends, and exactly one is current.
"""

from __future__ import annotations

from collections.abc import Sequence

import dagster as dg

from ecommerce_assets import table_checks
from ecommerce_assets.marts.schemas import UNKNOWN_KEY
from ecommerce_assets.marts.spec import MARTS_TABLES, MartTable, Reference
from ecommerce_assets.quality import q, sample_rows
from resources.warehouse import Warehouse

SCD2_CHECK = "scd2_valid_intervals"


def asset_key(table: str) -> dg.AssetKey:
    return dg.AssetKey(["marts", table])


def check_specs(table: MartTable) -> list[dg.AssetCheckSpec]:
    key = asset_key(table.name)
    specs = [table_checks.schema_spec(key, "marts"),
             *(table_checks.rule_spec(key, r) for r in table.rules)]
    specs += [dg.AssetCheckSpec(r.check_name, asset=key, blocking=True,
                                description=f"every {r.column} is a {r.key} of {r.table} "
                                            "(the unknown member -1 included)")
              for r in table.references]
    if table.scd2_key:
        specs.append(dg.AssetCheckSpec(
            SCD2_CHECK, asset=key, blocking=True,
            description=f"the versions of a {table.scd2_key} never overlap, each starts "
                        "before it ends, and exactly one is current"))
    return specs


def _orphan(index: int, reference: Reference) -> str:
    # A fact row whose value finds no row (a null never does). The unknown member is a row
    # of every dimension; it is named here for order_key, whose parent is the order header.
    return f"d{index}.k IS NULL AND f.{reference.column} IS DISTINCT FROM {UNKNOWN_KEY}"


def references_source(table: MartTable, references: Sequence[Reference]) -> str:
    """``table`` AS f, anti-joined to each reference's parent keys (``d0``, ``d1`` …)."""
    joins = [f"LEFT JOIN (SELECT DISTINCT {r.key} AS k FROM "
             f"{q(MARTS_TABLES[r.table].warehouse_table)}) AS d{i} ON d{i}.k = f.{r.column}"
             for i, r in enumerate(references)]
    return "\n".join([f"{q(table.warehouse_table)} AS f", *joins])


def reference_results(warehouse: Warehouse, table: MartTable) -> list[dg.AssetCheckResult]:
    """One result per reference of ``table``, all counted in one scan of it."""
    refs = table.references
    if not refs:
        return []
    source = references_source(table, refs)
    counts = ", ".join(f"COUNTIF({_orphan(i, r)}) AS orphans_{i}" for i, r in enumerate(refs))
    row = table_checks.counts(warehouse, f"SELECT COUNT(*) AS n, {counts} FROM {source}")
    results = []
    for i, r in enumerate(refs):
        orphans = row[f"orphans_{i}"]
        metadata: dict = {"rows_checked": row["n"], "orphans": orphans}
        if orphans:
            metadata["failure_sample"] = dg.MetadataValue.json(sample_rows(
                warehouse, references_source(table, [r]), _orphan(0, r),
                table_checks.SAMPLE_SIZE, columns="f.*"))
        results.append(dg.AssetCheckResult(
            check_name=r.check_name, passed=orphans == 0,
            severity=dg.AssetCheckSeverity.ERROR, metadata=metadata))
    return results


def scd2_violations_sql(table: MartTable) -> str:
    """One row: the keys with overlapping, empty or gapless-but-wrong versions, and the keys
    without exactly one current version (BigQuery SQL)."""
    k = table.scd2_key
    return f"""
WITH ordered AS (
  SELECT {k}, valid_from, valid_to, is_current,
         LAG(valid_to) OVER (PARTITION BY {k} ORDER BY valid_from) AS previous_to
  FROM {q(table.warehouse_table)}
  WHERE {k} IS NOT NULL
),
per_key AS (
  SELECT {k},
         COUNTIF(previous_to > valid_from) AS overlaps,
         COUNTIF(valid_from >= valid_to) AS empty_intervals,
         COUNTIF(is_current) AS current_versions
  FROM ordered GROUP BY {k}
)
SELECT COUNT(*) AS keys,
       COUNTIF(overlaps > 0) AS keys_with_overlaps,
       COUNTIF(empty_intervals > 0) AS keys_with_empty_intervals,
       COUNTIF(current_versions <> 1) AS keys_without_one_current
FROM per_key"""


def scd2_result(warehouse: Warehouse, table: MartTable) -> dg.AssetCheckResult:
    row = table_checks.counts(warehouse, scd2_violations_sql(table))
    bad = sum(v for k, v in row.items() if k != "keys")
    return dg.AssetCheckResult(check_name=SCD2_CHECK, passed=bad == 0,
                               severity=dg.AssetCheckSeverity.ERROR, metadata=row)


def materialization_checks(warehouse: Warehouse,
                           table: MartTable) -> list[dg.AssetCheckResult]:
    """Results for every spec of :func:`check_specs`, in the same order."""
    results = [table_checks.schema_result(warehouse, table.warehouse_table, table.schema),
               *(table_checks.rule_result(warehouse, table.warehouse_table, r)
                 for r in table.rules),
               *reference_results(warehouse, table)]
    if table.scd2_key:
        results.append(scd2_result(warehouse, table))
    return results
