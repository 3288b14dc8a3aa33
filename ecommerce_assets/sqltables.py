"""Warehouse tables defined by a Pandera model and one SQL SELECT: shared by silver and gold.

Each ``sql/<layer>/<table>.sql`` is one SELECT in BigQuery Standard SQL, run as is on
BigQuery and transpiled by sqlglot for the embedded DuckDB. Dataset names are written as
placeholders (``{bronze}``, ``{silver}``, ``{gold}``, ``{ops}``) and :func:`render` replaces
them with validated dataset names; ``{as_of}`` (the reporting date of a gold run) becomes a
``DATE '...'`` literal. A macro call ``{name(arg, ...)}`` expands SQL shared by several files
(:data:`MACROS`, like a dbt macro), e.g. ``{latest_versions(users, id)}``, the dedupe CTEs of
every silver table. No other braces are interpreted. The tables a SELECT reads are found
in the SQL itself, and so are the columns each output column is computed from
(:func:`column_sources`, shown in the UI as ``dagster/column_lineage``), so an asset's
lineage cannot drift from its query.
"""

from __future__ import annotations

import datetime as dt
import json
import re
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any, ClassVar

import dagster as dg
import pandera.pandas as pandera
import pyarrow as pa
import sqlglot
from sqlglot import exp
from sqlglot.lineage import lineage

from ecommerce_assets.quality import column_schema, markdown_preview
from resources import settings
from resources.disk_cache import cached_text
from resources.keys import validate_identifier
from resources.warehouse import Warehouse

SQL_ROOT = Path(__file__).resolve().parents[1] / "sql"
DATASETS: dict[str, str] = {"bronze": "bronze", "silver": "silver", "gold": "gold", "ops": "ops"}
AS_OF = "as_of"
_PLACEHOLDER = re.compile(r"\{([A-Za-z_][A-Za-z0-9_]*)\}")
_MACRO = re.compile(r"\{([A-Za-z_][A-Za-z0-9_]*)\(([^(){}]*)\)\}")
# Any reporting date parses the same: SQL read for its structure renders {as_of} with this one.
PARSE_DATE = dt.date(2000, 1, 1)
# (dataset, table, column) of a warehouse column.
ColumnSource = tuple[str, str, str]


# The order that makes one bronze row the latest version of its key. Backfills re-ingest old
# landing days with a newer processed_at, so the landing day decides first; processed_at,
# then object and line (later in the same file = later) break ties: the order is total.
VERSION_ORDER = ("landing_date DESC, processed_at DESC, source_object DESC, source_line DESC")


def latest_versions(table: str, key: str, *, keys_table: str | None = None) -> str:
    """The ``winners`` and ``latest`` CTEs: the latest version of each ``key`` of
    ``{bronze}.<table>``. With ``keys_table`` (a table with a ``key`` column) only those keys
    are ranked: what an incremental refresh recomputes."""
    def only(column: str) -> str:
        return f" AND {column} IN (SELECT {key} FROM {keys_table})" if keys_table else ""

    return f"""winners AS (
  -- The latest version of each key (sqltables.VERSION_ORDER), ranked on the narrow
  -- version columns only.
  SELECT {key}, landing_date, source_object, source_line
  FROM {{bronze}}.{table}
  -- Repeats of an identical raw row within one object never reach silver.
  WHERE NOT is_duplicate_in_file{only(key)}
  QUALIFY ROW_NUMBER() OVER (PARTITION BY {key} ORDER BY {VERSION_ORDER}) = 1
),
latest AS (
  -- A bronze row is identified by its landing day, object and line.
  SELECT b.*
  FROM {{bronze}}.{table} AS b
  JOIN winners AS w USING ({key}, landing_date, source_object, source_line)
  WHERE NOT b.is_duplicate_in_file{only(f'b.{key}')}
)"""


# Macros a SQL file may call as ``{name(arg, ...)}``; arguments are identifiers.
MACROS = {"latest_versions": latest_versions}


def _expand_macros(sql: str, keys_table: str | None) -> str:
    def expand(match: re.Match) -> str:
        if match[1] not in MACROS:
            raise KeyError(f"unknown macro {match[1]}() (known: {sorted(MACROS)})")
        args = [validate_identifier(a.strip()) for a in match[2].split(",") if a.strip()]
        return MACROS[match[1]](*args, keys_table=keys_table)

    return _MACRO.sub(expand, sql)


def render(sql: str, datasets: dict[str, str] | None = None, *,
           as_of: dt.date | None = None, keys_table: str | None = None) -> str:
    """Replace ``{silver}``-style placeholders with validated dataset names and ``{as_of}``
    with a DATE literal (default: :func:`resources.settings.as_of`), after expanding macro
    calls (``keys_table``: see :func:`latest_versions`)."""
    names = {**DATASETS, **(datasets or {})}
    if keys_table is not None:
        validate_identifier(keys_table)

    def substitute(match: re.Match) -> str:
        if match[1] == AS_OF:
            day = as_of or settings.as_of()
            if not isinstance(day, dt.date):
                raise TypeError(f"as_of must be a date, got {day!r}")
            return f"DATE '{day.isoformat()}'"
        if match[1] not in names:
            known = sorted([*names, AS_OF])
            raise KeyError(f"unknown placeholder {{{match[1]}}} (known: {known})")
        return validate_identifier(names[match[1]])

    return _PLACEHOLDER.sub(substitute, _expand_macros(sql, keys_table))


@dataclass(frozen=True)
class Rule:
    """A business rule on one table: ``violation`` is a BigQuery SQL predicate that is TRUE on
    a row breaking it. Blocking rules fail with ERROR severity, others warn."""

    name: str
    description: str
    violation: str
    blocking: bool = True


@dataclass(frozen=True)
class SqlTable:
    """A table of ``layer`` built by ``sql/<layer>/<name>.sql``, its contract ``model``."""

    layer: ClassVar[str]
    # The dataset placeholders its SQL may use ({silver} ...), and the datasets whose tables
    # count as what it reads.
    placeholders: ClassVar[Mapping[str, str]] = DATASETS
    name: str
    model: type[pandera.DataFrameModel]
    rules: tuple[Rule, ...] = ()

    def __post_init__(self) -> None:
        validate_identifier(self.name)  # it names a SQL file and a table

    @cached_property
    def schema(self) -> pandera.DataFrameSchema:
        return self.model.to_schema()

    @cached_property
    def key_columns(self) -> tuple[str, ...]:
        """Columns marked ``metadata={"key": True}``: together they identify a row."""
        return tuple(n for n, c in self.schema.columns.items() if (c.metadata or {}).get("key"))

    @property
    def sql_path(self) -> Path:
        return SQL_ROOT / self.layer / f"{self.name}.sql"

    @property
    def sql_file(self) -> str:
        return str(self.sql_path.relative_to(SQL_ROOT.parent))

    @property
    def warehouse_table(self) -> str:
        return f"{DATASETS[self.layer]}.{self.name}"

    @cached_property
    def uses_as_of(self) -> bool:
        return f"{{{AS_OF}}}" in self.sql_path.read_text()

    def select_sql(self, datasets: dict[str, str] | None = None, *,
                   as_of: dt.date | None = None, keys_table: str | None = None) -> str:
        """The table's SELECT (BigQuery SQL), placeholders rendered, no trailing ';'
        (``keys_table``: only those keys, see :func:`latest_versions`)."""
        sql = render(self.sql_path.read_text(), {**self.placeholders, **(datasets or {})},
                     as_of=as_of, keys_table=keys_table)
        return sql.strip().rstrip(";").strip()

    @cached_property
    def reads(self) -> tuple[tuple[str, str], ...]:
        """(dataset, table) of every warehouse table the SELECT reads, in order of first use."""
        return tables_read(self.select_sql(as_of=PARSE_DATE), self.placeholders.values())

    def upstream(self, dataset: str) -> tuple[str, ...]:
        """The tables of ``dataset`` the SELECT reads."""
        return tuple(t for d, t in self.reads if d == DATASETS[dataset])


def parsed_once(name: str, sql: str, parse: Callable[[], Any], *key: Any) -> Any:
    """``parse()``, a JSON value read from ``sql``, cached on disk under
    ``ECOMMERCE_HOME/cache/lineage/`` by ``name``, the SQL, ``key`` and sqlglot's version (so
    it can never be stale): parsing costs 5-30 ms a statement, tracing lineage seconds over
    all tables, and every run process loads the code."""
    text = cached_text("lineage", json.dumps([name, sql, *key, sqlglot.__version__]),
                       lambda: json.dumps(parse()), ".json")
    return json.loads(text)


def tables_read(select: str, datasets: Iterable[str]) -> tuple[tuple[str, str], ...]:
    """(dataset, table) of every table of ``datasets`` that ``select`` (BigQuery SQL) reads, in
    order of first use (CTE names are unqualified, so they are not tables)."""
    wanted = sorted(set(datasets))

    def parse() -> list:
        tree = sqlglot.parse_one(select, read="bigquery")
        return list(dict.fromkeys((t.db, t.name) for t in tree.find_all(exp.Table)
                                  if t.db in wanted))

    return tuple((d, t) for d, t in parsed_once("tables_read", select, parse, wanted))


def column_sources(select: str, tables: Mapping[tuple[str, str], Iterable[str]],
                   splices: Mapping[str, str] | None = None,
                   ) -> dict[str, tuple[ColumnSource, ...]]:
    """For each output column of ``select`` (BigQuery SQL), the warehouse columns its value is
    computed from (sorted; empty for a constant or a row count). ``tables`` gives the columns of
    every (dataset, table) the SELECT reads, so that ``*`` and unqualified names resolve;
    ``splices`` replace the bodies of named CTEs first (see :func:`splice_ctes`). Cached by
    :func:`parsed_once`, keyed by the tables' columns and the splices too."""
    traced = parsed_once(
        "column_sources", select,
        lambda: _trace_columns(splice_ctes(select, splices) if splices else select, tables),
        sorted((list(k), list(v)) for k, v in tables.items()),
        sorted((splices or {}).items()))
    return {c: tuple(tuple(s) for s in sources) for c, sources in traced.items()}


def splice_ctes(select: str, bodies: Mapping[str, str]) -> str:
    """``select`` (BigQuery SQL) with the body of each named CTE replaced by ``bodies[name]``."""
    tree = sqlglot.parse_one(select, read="bigquery")
    ctes = {c.alias: c for c in tree.find_all(exp.CTE)}
    for name, body in bodies.items():
        if name not in ctes:
            raise KeyError(f"the SELECT has no CTE {name!r} to splice (has {sorted(ctes)})")
        ctes[name].set("this", sqlglot.parse_one(body, read="bigquery"))
    return tree.sql(dialect="bigquery")


def _trace_columns(select: str, tables: Mapping[tuple[str, str], Iterable[str]],
                   ) -> dict[str, tuple[ColumnSource, ...]]:
    schema: dict[str, dict[str, dict[str, str]]] = {}
    for (dataset, table), columns in tables.items():
        # Types do not change where a value comes from; sqlglot only needs the names.
        schema.setdefault(dataset, {})[table] = dict.fromkeys(columns, "STRING")
    # trim_selects only tidies the nodes' SQL for display; skipping it saves most of the time.
    nodes = lineage(None, select, schema, dialect="bigquery", trim_selects=False)
    return {name: tuple(sorted({(n.expression.db, n.expression.name, _column_name(n.name))
                                for n in node.walk() if isinstance(n.expression, exp.Table)}))
            for name, node in nodes.items()}


def _column_name(qualified: str) -> str:
    # A leaf is named "alias.column" (quoted when the name needs it).
    return exp.to_column(qualified, dialect="bigquery").name


def column_lineage(sources: Mapping[str, Iterable[ColumnSource]],
                   columns: Iterable[str]) -> dg.TableColumnLineage:
    """``dagster/column_lineage`` of the table's ``columns``: a warehouse table
    ``dataset.table`` is the asset ``dataset/table``."""
    return dg.TableColumnLineage(deps_by_column={
        column: [dg.TableColumnDep(asset_key=dg.AssetKey([dataset, table]), column_name=name)
                 for dataset, table, name in sources[column]]
        for column in columns})


def run_script(warehouse: Warehouse, statements: Sequence[str]) -> float:
    """Transpile and run BigQuery ``statements`` in one transaction; returns seconds."""
    started = time.perf_counter()
    warehouse.execute_script([warehouse.transpile(s) for s in statements])
    return time.perf_counter() - started


def row_count(warehouse: Warehouse, table: str) -> int:
    return int(warehouse.query_arrow(
        f"SELECT COUNT(*) AS n FROM {warehouse.quote(table)}").to_pylist()[0]["n"])


def preview(warehouse: Warehouse, table: str, order_by: Sequence[str], limit: int = 5) -> pa.Table:
    """The first ``limit`` rows of ``table`` in ``order_by`` order."""
    order = ", ".join(warehouse.quote(c) for c in order_by) or "1"
    return warehouse.query_arrow(
        f"SELECT * FROM {warehouse.quote(table)} ORDER BY {order} LIMIT {int(limit)}")


def preview_markdown(warehouse: Warehouse, table: str, order_by: Sequence[str]) -> str:
    return markdown_preview(preview(warehouse, table, order_by))


def definition_metadata(table: str, schema: pandera.DataFrameSchema,
                        sql_file: str | None = None) -> dict:
    """The static metadata of a table asset: its column schema and warehouse table."""
    metadata: dict = {"dagster/column_schema": column_schema(schema),
                      "dagster/table_name": table}
    if sql_file:
        metadata["sql_file"] = sql_file
    return metadata
