"""The plain-DuckDB floor of the whole pipeline: inbox CSVs to three gold marts in one script.

    python bench/floor.py INBOX [--db FILE] [--as-of YYYY-MM-DD] [--print-sql]

What a hand-written pipeline on the same machine costs, the baseline of ``make bench``:
- bronze: ``read_csv(all_varchar)`` over every inbox CSV of each table (``{table}/date=D/*``),
  the same cleaning in SQL: trim, the null sentinels of ecommerce_assets/formats.py, BIGINT ids
  and ints ("12" and "12.0"), floats ("1,234.5"), prices with their currency markers ("$12",
  "EUR 12.3", "£4") split into amount and ISO code, the seven timestamp formats; rows whose
  key is not a number are dropped (the project quarantines them);
- silver: each table deduplicated to the latest version of its key, by the project's ordering
  (landing day, then object, then line, latest first), statuses title-cased;
- gold: three marts in USD at the static FX rates: daily_sales, customer_metrics,
  product_performance (no dimensions, rejects, checks, lineage or Dagster).
Each layer is timed apart; the column lists come from the bronze Pandera models, so the
floor reads exactly the columns the project reads. The SQL is one script: ``--print-sql``.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import sys
import tempfile
import time
from pathlib import Path

import duckdb

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from ecommerce_assets.bronze.spec import BRONZE_TABLES
from ecommerce_assets.formats import (
    CURRENCY_MARKERS,
    INGEST_NULL_SENTINELS,
    TIMESTAMP_FORMATS,
)
from resources.fx_rates import STATIC_RATES_TO_USD


def _quote(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


_SENTINELS = ", ".join(_quote(s.lower()) for s in INGEST_NULL_SENTINELS)
_FORMATS = "[" + ", ".join(_quote(f.strftime) for f in TIMESTAMP_FORMATS if f.strftime) + "]"
_MARKERS = "|".join(sorted((m.replace("$", r"\$") for m in CURRENCY_MARKERS), key=len,
                           reverse=True))
_CODES = " ".join(f"WHEN {_quote(m.upper())} THEN {_quote(c)}"
                  for m, c in CURRENCY_MARKERS.items())

MACROS = f"""
CREATE OR REPLACE MACRO clean(x) AS
  CASE WHEN lower(trim(x)) IN ({_SENTINELS}) THEN NULL ELSE trim(x) END;
CREATE OR REPLACE MACRO to_int(x) AS TRY_CAST(regexp_replace(x, '^\\+|\\.0*$', '', 'g') AS BIGINT);
CREATE OR REPLACE MACRO to_float(x) AS TRY_CAST(
  CASE WHEN regexp_matches(x, '^[+-]?\\d{{1,3}}(,\\d{{3}})+(\\.\\d+)?$') THEN replace(x, ',', '')
       ELSE x END AS DOUBLE);
CREATE OR REPLACE MACRO to_ts(x) AS coalesce(
  try_strptime(x, {_FORMATS}),
  CASE WHEN regexp_matches(x, '^\\d{{9,11}}$') THEN to_timestamp(CAST(x AS BIGINT))::TIMESTAMP END);
CREATE OR REPLACE MACRO price_amount(x) AS
  to_float(regexp_extract(x, '(?i)^(?:{_MARKERS})?\\s*([^\\s]*?)\\s*(?:{_MARKERS})?$', 1));
CREATE OR REPLACE MACRO price_code(x) AS CASE upper(coalesce(
  nullif(regexp_extract(x, '(?i)^({_MARKERS})', 1), ''),
  nullif(regexp_extract(x, '(?i)({_MARKERS})$', 1), ''))) {_CODES} END;
"""

_TYPED = {"int": "to_int({c})", "float": "to_float({c})", "timestamp": "to_ts({c})",
          "text": "{c}", "bool": "TRY_CAST({c} AS BOOLEAN)", "date": "TRY_CAST({c} AS DATE)"}
_STATUS = {"orders", "order_items"}  # title-cased like silver does


def bronze_sql(table: str, inbox: Path) -> str:
    """One bronze table: every CSV of every landing day read as text, cleaned and typed.

    A row with a value that does not parse (a non-numeric id, an unknown timestamp) is
    dropped, as the project quarantines it; its older version, if any, stays the latest.
    """
    spec = BRONZE_TABLES[table]
    text, typed, bad = [], [], []
    for c in spec.source_columns:
        text.append(f"clean({c.name}) AS t_{c.name}")
        if c.kind == "price":
            typed += [f"price_amount(t_{c.name}) AS {c.name}",
                      f"price_code(t_{c.name}) AS {c.name}_value_type"]
        else:
            typed.append(_TYPED[c.kind].format(c=f"t_{c.name}") + f" AS {c.name}")
        if c.kind != "text":
            bad.append(f"(t_{c.name} IS NOT NULL AND {c.name} IS NULL)")
    files = _quote(str(inbox / table / "*" / "*.csv"))
    return (f"CREATE OR REPLACE TABLE bronze_{table} AS\n"
            f"WITH cleaned AS (SELECT {', '.join(text)},\n"
            "  CAST(regexp_extract(filename, 'date=(\\d{4}-\\d{2}-\\d{2})', 1) AS DATE) "
            "AS landing_date,\n  filename AS source_object,\n"
            "  row_number() OVER (PARTITION BY filename) AS source_line\n"
            f"FROM read_csv({files}, all_varchar = true, header = true, filename = true,"
            " union_by_name = true)),\n"
            f"typed AS (SELECT cleaned.*, {', '.join(typed)} FROM cleaned)\n"
            "SELECT * EXCLUDE (" + ", ".join(f"t_{c.name}" for c in spec.source_columns) + ")\n"
            f"FROM typed WHERE {spec.key} IS NOT NULL AND NOT ({' OR '.join(bad) or 'false'});")


def silver_sql(table: str) -> str:
    """The latest version of every key, by the project's ordering."""
    key = BRONZE_TABLES[table].key
    select = ("* REPLACE (upper(status[1]) || lower(status[2:]) AS status)"  # one-word statuses
              if table in _STATUS else "*")
    return (f"CREATE OR REPLACE TABLE silver_{table} AS SELECT {select} FROM bronze_{table}\n"
            f"QUALIFY row_number() OVER (PARTITION BY {key} ORDER BY landing_date DESC, "
            "source_object DESC, source_line DESC) = 1;")


def gold_sql(as_of: dt.date) -> list[str]:
    """The three marts the issue's table counts, in USD at the static rates."""
    rates = ", ".join(f"({_quote(c)}, {r})" for c, r in STATIC_RATES_TO_USD.items())
    items = (
        "SELECT i.product_id, o.user_id, o.order_id, CAST(o.created_at AS DATE) AS sale_date, "
        "o.created_at, i.status AS item_status, i.status IN ('Cancelled', 'Returned') AS lost, "
        "o.status = 'Cancelled' AS order_cancelled, "
        # Rounded as gold rounds money (NUMERIC, half away from zero): a double's ROUND
        # differs on half-cent ties (5 cents over 8.3M USD at scale 1.0).
        "round(CAST(i.sale_price * fx.usd AS DECIMAL(38, 9)), 2)::DOUBLE AS sale_price_usd "
        "FROM silver_order_items AS i JOIN silver_orders AS o ON o.order_id = i.order_id "
        "JOIN fx ON fx.code = coalesce(i.sale_price_value_type, 'USD') "
        f"WHERE o.created_at < DATE '{as_of + dt.timedelta(days=1)}'")
    return [
        f"CREATE OR REPLACE TABLE fx AS SELECT * FROM (VALUES {rates}) AS t(code, usd);",
        f"CREATE OR REPLACE TABLE gold_items AS {items};",
        "CREATE OR REPLACE TABLE gold_daily_sales AS SELECT sale_date, "
        "count(DISTINCT order_id) FILTER (NOT order_cancelled) AS order_count, "
        "coalesce(round(sum(sale_price_usd) FILTER (NOT lost), 2), 0) AS total_revenue, "
        "count(DISTINCT user_id) FILTER (NOT order_cancelled) AS unique_customers "
        "FROM gold_items GROUP BY sale_date HAVING order_count > 0 OR total_revenue > 0;",
        "CREATE OR REPLACE TABLE gold_customer_metrics AS SELECT user_id, "
        "count(DISTINCT order_id) AS order_count, "
        "coalesce(round(sum(sale_price_usd) FILTER (NOT lost), 2), 0) AS total_spend, "
        "min(created_at) AS first_order_at, max(created_at) AS last_order_at, "
        f"date_diff('day', CAST(max(created_at) AS DATE), DATE '{as_of}') "
        "AS days_since_last_order FROM gold_items WHERE NOT order_cancelled GROUP BY user_id;",
        # Every product, sold or not, as the project's mart.
        "CREATE OR REPLACE TABLE gold_product_performance AS SELECT p.id AS product_id, "
        "count(g.product_id) FILTER (g.item_status <> 'Cancelled') AS units_sold, "
        "coalesce(round(sum(g.sale_price_usd) FILTER (NOT g.lost), 2), 0) AS total_revenue, "
        "round(sum(g.sale_price_usd - p.cost * pfx.usd) FILTER (NOT g.lost), 2) AS margin "
        "FROM silver_products AS p LEFT JOIN gold_items AS g ON g.product_id = p.id "
        "LEFT JOIN fx AS pfx ON pfx.code = coalesce(p.cost_value_type, 'USD') "
        "GROUP BY p.id;",
    ]


def script(inbox: Path, as_of: dt.date) -> dict[str, list[str]]:
    """The whole floor, by layer: what runs, in order."""
    tables = [t for t in BRONZE_TABLES if any((inbox / t).glob("*/*.csv"))]
    return {"bronze": [MACROS, *(bronze_sql(t, inbox) for t in tables)],
            "silver": [silver_sql(t) for t in tables],
            "gold": gold_sql(as_of)}


def run(inbox: Path, db: Path, as_of: dt.date) -> dict:
    """Run the floor into ``db``: seconds per layer and rows per table."""
    layers = script(inbox, as_of)
    conn = duckdb.connect(str(db))
    conn.execute("SET enable_progress_bar = false")
    seconds = {}
    for layer, statements in layers.items():
        started = time.perf_counter()
        for statement in statements:
            conn.execute(statement)
        seconds[layer] = round(time.perf_counter() - started, 3)
    rows = {name: conn.execute(f"SELECT count(*) FROM {name}").fetchone()[0]
            for (name,) in conn.execute(
                "SELECT table_name FROM duckdb_tables() WHERE table_name SIMILAR TO "
                "'(bronze|silver|gold)_.*' AND table_name <> 'gold_items' ORDER BY 1").fetchall()}
    conn.close()
    return {"seconds": seconds, "total_s": round(sum(seconds.values()), 3), "rows": rows}


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("inbox", type=Path, help="a folder of {table}/date=YYYY-MM-DD/*.csv")
    p.add_argument("--db", type=Path, help="the DuckDB file to build (default: a temporary one)")
    p.add_argument("--as-of", type=dt.date.fromisoformat, default=dt.datetime.now(dt.UTC).date())
    p.add_argument("--print-sql", action="store_true", help="print the script, run nothing")
    args = p.parse_args()
    if args.print_sql:
        for layer, statements in script(args.inbox, args.as_of).items():
            print(f"-- {layer}\n" + "\n".join(statements) + "\n")
        return 0
    with tempfile.TemporaryDirectory() as tmp:
        print(json.dumps(run(args.inbox, args.db or Path(tmp) / "floor.duckdb", args.as_of)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
