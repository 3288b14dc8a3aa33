"""Pandera schemas run in the warehouse: one SQL scan, counts per check and failure samples.

A table the size of BigQuery's must not be pulled into pandas to be validated, so the
schema's column checks are compiled to SQL predicates (BigQuery Standard SQL, transpiled by
sqlglot for DuckDB) and counted in a single aggregate query; only the rows of failing
checks are sampled. Column presence and types are compared from a zero-row query. Table and
column names are validated and quoted (:func:`resources.keys.quote_identifier`).
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Collection
from dataclasses import dataclass, field
from typing import Any

import dagster as dg
import pandera.pandas as pandera
import pyarrow as pa

from resources.keys import quote_identifier
from resources.warehouse import Warehouse


def q(name: str) -> str:
    """``name`` validated and quoted for BigQuery SQL (transpiled for DuckDB)."""
    return quote_identifier(name, "bigquery")

# Pandera dtype (its string form) -> the Arrow type a warehouse table returns for it.
ARROW_TYPES: dict[str, pa.DataType] = {
    "Int64": pa.int64(),
    "int64": pa.int64(),
    "float64": pa.float64(),
    "datetime64[us, UTC]": pa.timestamp("us", tz="UTC"),
    "str": pa.string(),
    "bool": pa.bool_(),
    "boolean": pa.bool_(),
    "date": pa.date32(),
}


def literal(value: Any) -> str:
    """A BigQuery SQL literal for a check's parameter."""
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, dt.date):
        return f"DATE '{value.isoformat()}'"
    text = str(value).replace("\\", "\\\\").replace("'", "\\'")
    return f"'{text}'"


def violation_predicate(column: str, check: pandera.Check) -> str:
    """SQL that is TRUE on a row failing ``check`` (NULL values pass, as in Pandera)."""
    s = check.statistics or {}
    c = q(column)
    match check.name:
        case "isin":
            return f"{c} NOT IN ({', '.join(map(literal, s['allowed_values']))})"
        case "notin":
            return f"{c} IN ({', '.join(map(literal, s['forbidden_values']))})"
        case "in_range":
            lo = ">=" if s.get("include_min", True) else ">"
            hi = "<=" if s.get("include_max", True) else "<"
            return (f"NOT ({c} {lo} {literal(s['min_value'])} "
                    f"AND {c} {hi} {literal(s['max_value'])})")
        case "greater_than_or_equal_to":
            return f"{c} < {literal(s['min_value'])}"
        case "greater_than":
            return f"{c} <= {literal(s['min_value'])}"
        case "less_than_or_equal_to":
            return f"{c} > {literal(s['max_value'])}"
        case "less_than":
            return f"{c} >= {literal(s['max_value'])}"
        case "equal_to":
            return f"{c} <> {literal(s['value'])}"
        case "str_matches":
            pattern = s["pattern"] if isinstance(s["pattern"], str) else s["pattern"].pattern
            anchored = pattern if pattern.startswith("^") else "^" + pattern
            return f"NOT REGEXP_CONTAINS({c}, {literal(anchored)})"
        case "str_length":
            parts = []
            if s.get("min_value") is not None:
                parts.append(f"LENGTH({c}) < {literal(s['min_value'])}")
            if s.get("max_value") is not None:
                parts.append(f"LENGTH({c}) > {literal(s['max_value'])}")
            return " OR ".join(parts) or "FALSE"
    raise NotImplementedError(f"Pandera check {check.name!r} on {column!r} has no SQL form")


@dataclass
class Failure:
    column: str
    check: str
    failures: int
    sample: list[dict] = field(default_factory=list)


@dataclass
class SchemaReport:
    rows: int
    failures: list[Failure]
    # Columns the table has beyond a ``strict="filter"`` schema (additive schema evolution):
    # reported, not failures.
    added_columns: list[str] = field(default_factory=list)

    @property
    def passed(self) -> bool:
        return not self.failures

    def as_records(self) -> list[dict]:
        return [{"column": f.column, "check": f.check, "failures": f.failures}
                for f in self.failures]


def validate_in_warehouse(warehouse: Warehouse, table: str, schema: pandera.DataFrameSchema,
                          where: str = "TRUE", sample_size: int = 5) -> SchemaReport:
    """Run ``schema`` against ``table`` (rows matching the BigQuery SQL ``where``).

    A strict schema fails on columns it does not define; a ``strict="filter"`` one lists
    them in :attr:`SchemaReport.added_columns` and checks its own columns only.
    """
    failures, added = _structure_failures(warehouse, table, schema)
    source = q(table)
    present = {f.column for f in failures if f.check == "column_in_dataframe"}
    predicates: list[tuple[str, str, str]] = []
    for name, column in schema.columns.items():
        if name in present:
            continue
        if not column.nullable:
            predicates.append((name, "not_nullable", f"{q(name)} IS NULL"))
        predicates += [(name, check.name, violation_predicate(name, check))
                       for check in column.checks]
    counts = ", ".join(f"COUNTIF({p}) AS f{i}" for i, (_, _, p) in enumerate(predicates))
    unique = [n for n, c in schema.columns.items() if c.unique and n not in present]
    uniques = ", ".join(f"COUNT({q(n)}) - COUNT(DISTINCT {q(n)}) AS u{i}"
                        for i, n in enumerate(unique))
    select = ", ".join(x for x in ("COUNT(*) AS n", counts, uniques) if x)
    row = warehouse.query_arrow(warehouse.transpile(
        f"SELECT {select} FROM {source} WHERE {where}")).to_pylist()[0]
    for i, (name, check, predicate) in enumerate(predicates):
        if row[f"f{i}"]:
            sample = sample_rows(warehouse, source, f"({where}) AND ({predicate})", sample_size)
            failures.append(Failure(name, check, int(row[f"f{i}"]), sample))
    for i, name in enumerate(unique):
        if row[f"u{i}"]:  # surplus rows over distinct values; sampled as value + count
            sample = warehouse.query_arrow(warehouse.transpile(
                f"SELECT {q(name)}, COUNT(*) AS `rows` FROM {source} WHERE {where} "
                f"GROUP BY {q(name)} HAVING COUNT(*) > 1 ORDER BY `rows` DESC, {q(name)} "
                f"LIMIT {int(sample_size)}")).to_pylist()
            failures.append(Failure(name, "unique", int(row[f"u{i}"]), json_safe(sample)))
    if schema.unique and not present & set(schema.unique):
        failures += _composite_unique_failures(warehouse, table, list(schema.unique), where,
                                               sample_size)
    return SchemaReport(int(row["n"]), failures, added)


def _composite_unique_failures(warehouse: Warehouse, table: str, columns: list[str], where: str,
                               sample_size: int) -> list[Failure]:
    """The schema-level ``unique`` (a composite key): groups of rows sharing its values."""
    cols = ", ".join(q(c) for c in columns)
    groups = (f"SELECT {cols}, COUNT(*) AS `rows` FROM {q(table)} WHERE {where} "
              f"GROUP BY {cols} HAVING COUNT(*) > 1")
    (row,) = warehouse.query_arrow(warehouse.transpile(
        f"SELECT COUNT(*) AS n, SUM(`rows`) AS r FROM ({groups})")).to_pylist()
    if not row["n"]:
        return []
    sample = warehouse.query_arrow(warehouse.transpile(
        f"{groups} ORDER BY `rows` DESC LIMIT {int(sample_size)}")).to_pylist()
    # Surplus rows over distinct key values, as for a single unique column.
    return [Failure("+".join(columns), "unique", int(row["r"]) - int(row["n"]),
                    json_safe(sample))]


def sample_rows(warehouse: Warehouse, source: str, where: str, size: int = 5,
                columns: str = "*") -> list[dict]:
    """Up to ``size`` rows of ``source`` (a table, or a join in BigQuery SQL) matching the
    BigQuery SQL ``where``, JSON-safe."""
    rows = warehouse.query_arrow(warehouse.transpile(
        f"SELECT {columns} FROM {source} WHERE {where} LIMIT {int(size)}")).to_pylist()
    return json_safe(rows)


def json_safe(rows: list[dict]) -> list[dict]:
    """Rows as Dagster JSON metadata accepts them: timestamps, dates, decimals as text."""
    return json.loads(json.dumps(rows, default=str))


def _structure_failures(warehouse: Warehouse, table: str, schema: pandera.DataFrameSchema,
                        ) -> tuple[list[Failure], list[str]]:
    """Missing columns and wrong types; and the columns beyond the schema, as failures of
    a strict schema or (``strict="filter"``) as the added columns returned."""
    actual = warehouse.query_arrow(f"SELECT * FROM {warehouse.quote(table)} LIMIT 0").schema
    failures = []
    for name, column in schema.columns.items():
        if name not in actual.names:
            failures.append(Failure(name, "column_in_dataframe", 1))
            continue
        expected = ARROW_TYPES.get(str(column.dtype))
        got = actual.field(name).type
        if expected is not None and not _same_type(got, expected):
            failures.append(Failure(name, f"dtype('{column.dtype}') got {got}", 1))
    beyond = [n for n in actual.names if n not in schema.columns]
    if schema.strict == "filter":
        return failures, beyond
    if schema.strict:
        failures += [Failure(n, "column_in_schema", 1) for n in beyond]
    return failures, []


def _same_type(got: pa.DataType, expected: pa.DataType) -> bool:
    if pa.types.is_timestamp(got) and pa.types.is_timestamp(expected):
        return (got.tz is None) == (expected.tz is None)
    if pa.types.is_large_string(got) or pa.types.is_string_view(got):
        return pa.types.is_string(expected)
    return got == expected


def column_schema(schema: pandera.DataFrameSchema) -> dg.TableSchema:
    """The schema as Dagster's ``dagster/column_schema`` (types, nullability, checks)."""
    columns = []
    for name, column in schema.columns.items():
        checks = [f"{c.name}{c.statistics or ''}" for c in column.checks]
        columns.append(dg.TableColumn(
            name=name, type=str(ARROW_TYPES.get(str(column.dtype), column.dtype)),
            description=column.description,
            constraints=dg.TableColumnConstraints(nullable=column.nullable,
                                                  unique=column.unique, other=checks)))
    return dg.TableSchema(columns=columns)


def markdown_preview(table: pa.Table, max_chars: int = 40,
                     whole: Collection[str] = ()) -> str:
    """A small Markdown table of ``table`` for the asset page: values are cut at ``max_chars``,
    except in the columns ``whole``."""
    def cell(column: str, value: object) -> str:
        text = "" if value is None else str(value)
        text = text.replace("|", "\\|").replace("\n", " ")
        if column in whole or len(text) <= max_chars:
            return text
        return text[: max_chars - 1] + "…"

    lines = ["| " + " | ".join(table.column_names) + " |",
             "|" + "---|" * table.num_columns]
    lines += ["| " + " | ".join(cell(c, v) for c, v in row.items()) + " |"
              for row in table.to_pylist()]
    return "\n".join(lines)
