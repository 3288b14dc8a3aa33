"""Asset check results shared by the SQL-defined layers (silver, gold), computed in the
warehouse: counts and a few sample rows, never a whole table in pandas."""

from __future__ import annotations

import dagster as dg
import pandera.pandas as pandera

from ecommerce_assets.quality import q, sample_rows, validate_in_warehouse
from ecommerce_assets.sqltables import Rule
from resources.warehouse import Warehouse

SCHEMA_CHECK = "pandera_schema"
SAMPLE_SIZE = 5


def counts(warehouse: Warehouse, sql: str) -> dict[str, int]:
    """The one row of a BigQuery SQL aggregate query, as ints (DuckDB's COUNT_IF and SUM
    come back as 128-bit decimals)."""
    row = warehouse.query_arrow(warehouse.transpile(sql)).to_pylist()[0]
    return {k: int(v or 0) for k, v in row.items()}


def schema_spec(key: dg.AssetKey, layer: str) -> dg.AssetCheckSpec:
    return dg.AssetCheckSpec(
        SCHEMA_CHECK, asset=key, blocking=True,
        description=f"The {layer} Pandera schema (types, unique non-null key, enums, ranges), "
                    "run in the warehouse")


def rule_spec(key: dg.AssetKey, rule: Rule) -> dg.AssetCheckSpec:
    return dg.AssetCheckSpec(rule.name, asset=key, blocking=rule.blocking,
                             description=rule.description)


def schema_result(warehouse: Warehouse, table: str, schema: pandera.DataFrameSchema,
                  where: str = "TRUE") -> dg.AssetCheckResult:
    """``pandera_schema`` of ``table`` (its rows matching the BigQuery SQL ``where``): the
    schema compiled to one SQL scan."""
    report = validate_in_warehouse(warehouse, table, schema, where, sample_size=SAMPLE_SIZE)
    return dg.AssetCheckResult(
        check_name=SCHEMA_CHECK, passed=report.passed, severity=dg.AssetCheckSeverity.ERROR,
        metadata={"rows_checked": report.rows,
                  "failures": dg.MetadataValue.json(report.as_records()),
                  "failure_sample": dg.MetadataValue.json(
                      [s for f in report.failures for s in f.sample][:10])})


def rule_result(warehouse: Warehouse, table: str, rule: Rule,
                where: str = "TRUE") -> dg.AssetCheckResult:
    """Rows of ``table`` (those matching ``where``) that break ``rule``, with a sample."""
    row = counts(warehouse, f"SELECT COUNT(*) AS n, COUNTIF({rule.violation}) AS violations "
                            f"FROM {q(table)} WHERE {where}")
    metadata: dict = {"rows_checked": row["n"], "violations": row["violations"],
                      "rule": dg.MetadataValue.md(f"violation: `{rule.violation}`")}
    if row["violations"]:
        metadata["failure_sample"] = dg.MetadataValue.json(
            sample_rows(warehouse, q(table), f"({where}) AND ({rule.violation})", SAMPLE_SIZE))
    return dg.AssetCheckResult(
        check_name=rule.name, passed=row["violations"] == 0,
        severity=dg.AssetCheckSeverity.ERROR if rule.blocking else dg.AssetCheckSeverity.WARN,
        metadata=metadata)
