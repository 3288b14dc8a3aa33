"""A seam's rows kept between refreshes, so that its resource's SELECT runs only for the source
rows whose inputs changed.

The address seam of ``users_enriched`` is the expensive part of gold: a regex pipeline over
every user on the embedded default, one Gemini call per address on BigQuery (which costs money
and is not deterministic). ``ops.gold_seam_<cte>`` keeps, per source row, the input columns the
resource read and the value it gave, with a digest of the resource's SQL. A refresh:

1. ``ops.gold_seam_<cte>_todo`` := the source rows with no cached row of the same inputs and
   the same digest (every row on the first refresh, or when the resource's SQL changes);
2. in one transaction: the cache rows of those keys, of keys no longer in the source and of
   another digest are deleted, and the resource's SELECT over the todo table is inserted.

The table's SELECT then reads the seam from the cache. BigQuery SQL, run on both warehouses.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable

from ecommerce_assets.gold.spec import Seam
from ecommerce_assets.sqltables import DATASETS

OPS = DATASETS["ops"]


def cache_table(seam: Seam) -> str:
    return f"{OPS}.gold_seam_{seam.cte}"


def todo_table(seam: Seam) -> str:
    """Scratch: the source rows the last refresh sent through the resource."""
    return f"{OPS}.gold_seam_{seam.cte}_todo"


def update_statements(seam: Seam, select_sql: Callable[[str], str]) -> list[str]:
    """The cache brought up to date with the seam's source (``select_sql(table)`` is the
    resource's SELECT over a table of the source's columns)."""
    cache, todo, source = cache_table(seam), todo_table(seam), seam.source
    body = select_sql(todo)
    digest = hashlib.sha256(body.encode()).hexdigest()[:16]
    key, value, source_key = seam.key, seam.value, seam.source_key
    inputs = ", ".join(f"s.{c}" for c in seam.inputs)
    same = " AND ".join([f"c.{key} = s.{source_key}", f"c.definition = '{digest}'",
                         *(f"c.{c} IS NOT DISTINCT FROM s.{c}" for c in seam.inputs)])
    return [
        # DDL first (BigQuery runs it before the script's transaction): the cache, typed as
        # the source's columns, and the rows to compute.
        f"CREATE TABLE IF NOT EXISTS {cache} AS\nSELECT s.{source_key} AS {key}, {inputs}, "
        f"CAST(NULL AS STRING) AS {value}, CAST(NULL AS STRING) AS definition "
        f"FROM {source} AS s WHERE FALSE",
        f"CREATE OR REPLACE TABLE {todo} AS\nSELECT s.* FROM {source} AS s\n"
        f"WHERE NOT EXISTS (SELECT 1 FROM {cache} AS c WHERE {same})",
        f"DELETE FROM {cache} WHERE {key} IN (SELECT {source_key} FROM {todo}) "
        f"OR {key} NOT IN (SELECT {source_key} FROM {source}) OR definition <> '{digest}'",
        f"INSERT INTO {cache} ({key}, {', '.join(seam.inputs)}, {value}, definition)\n"
        f"SELECT s.{source_key}, {inputs}, v.{value}, '{digest}'\nFROM {todo} AS s "
        f"LEFT JOIN (\n{body}\n) AS v ON v.{key} = s.{source_key}",
    ]


def cached_select(seam: Seam) -> str:
    """The seam's CTE body, read from the cache."""
    return f"SELECT {seam.key}, {seam.value} FROM {cache_table(seam)}"
