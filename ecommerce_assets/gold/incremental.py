"""Incremental gold: recompute only the keys silver changed (BigQuery SQL statements).

**Where it pays.** ``orders_enriched`` (one row per order item) and the three marts over it
(``customer_metrics`` by user, ``product_performance`` by product, ``daily_sales`` by day)
are refreshed by key: a ``DELETE`` of the affected keys and an ``INSERT`` of their rows from
the table's own SELECT, in one transaction. ``fx_rates``, ``users_enriched`` and
``cohort_retention`` stay full rebuilds (see :mod:`ecommerce_assets.gold.refresh`).

**What changed.** Every silver row carries ``silver_updated_at`` (when it last changed).
``ops.gold_watermarks`` keeps, for ``orders_enriched``, the newest ``silver_updated_at`` and
the row count of each silver table it reads, as of its last refresh. The affected orders are
those of silver rows updated since (orders, their items, and the items of updated users,
products and inventory units), plus those whose rows vanished from silver (found by
comparing ``orders_enriched`` and two snapshots, ``ops.gold_orders`` and
``ops.gold_inventory``, with silver: a deleted row leaves no timestamp behind).

**The marts' keys.** The ``orders_enriched`` refresh, before it rewrites anything, queues in
``ops.gold_pending`` the keys each mart must recompute: the users, products and sale days of
the affected orders as they were (orders_enriched, the snapshots) and as they are (silver),
the first-order days of the affected users (``new_customers``), and the updated users,
products and inventory units. A mart's refresh consumes its queue. A mart refreshes in full
when ``orders_enriched`` is not current with silver (its marks differ from silver's: the
queue would miss what changed since), or when its ``as_of`` or SQL changed.

**as_of.** Every gold table is cut at ``as_of`` and the marts measure recency against it. When
``as_of`` moves forward (a new reporting day), the orders of the days that joined the cut are
affected orders too, and the units received or sold on those days queue their products;
``customer_metrics`` (recency and churn on every row, :data:`RECENCY`) rebuilds. When it
moves back, every keyed table rebuilds (rows leave the cut).
"""

from __future__ import annotations

import sqlglot

from ecommerce_assets.sqltables import DATASETS

GOLD, SILVER, OPS = DATASETS["gold"], DATASETS["silver"], DATASETS["ops"]
ORDERS_ENRICHED = f"{GOLD}.orders_enriched"
FX_RATES = f"{GOLD}.fx_rates"
WATERMARKS_TABLE = f"{OPS}.gold_watermarks"
PENDING_TABLE = f"{OPS}.gold_pending"
KEYS_TABLE = f"{OPS}.gold_keys_orders"  # scratch: the affected orders (empty between runs)
ORDERS_SNAPSHOT = f"{OPS}.gold_orders"  # order -> user and created_at, as gold last saw them
INVENTORY_SNAPSHOT = f"{OPS}.gold_inventory"  # inventory unit -> product, likewise
UPDATED = "silver_updated_at"
# The silver tables orders_enriched reads: each one's newest silver_updated_at and row count.
SOURCES = ("orders", "order_items", "users", "products", "inventory_items")
# mart -> (its key column, the column of ops.gold_pending holding it)
MARTS: dict[str, tuple[str, str]] = {"customer_metrics": ("user_id", "key_id"),
                                     "product_performance": ("product_id", "key_id"),
                                     "daily_sales": ("sale_date", "key_date")}
EPOCH = "TIMESTAMP '1970-01-01 00:00:00'"
# Marts with columns measured against as_of on every row (recency, churn): when as_of moves
# they rebuild; the others recompute only the keys of the days that joined the cut.
RECENCY = ("customer_metrics",)

DDL = [
    f"CREATE TABLE IF NOT EXISTS {WATERMARKS_TABLE} (table_name STRING, source STRING, "
    f"updated_at TIMESTAMP, row_count INT64, as_of DATE, definition STRING)",
    f"CREATE TABLE IF NOT EXISTS {PENDING_TABLE} (table_name STRING, key_id INT64, "
    f"key_date DATE)",
    f"CREATE TABLE IF NOT EXISTS {KEYS_TABLE} (order_id INT64)",
    f"CREATE TABLE IF NOT EXISTS {ORDERS_SNAPSHOT} (order_id INT64, user_id INT64, "
    f"created_at TIMESTAMP)",
    f"CREATE TABLE IF NOT EXISTS {INVENTORY_SNAPSHOT} (id INT64, product_id INT64)",
]


def marks_sql() -> str:
    """(source, updated_at, row_count, untimed) of every silver table orders_enriched reads
    (untimed: rows without a silver_updated_at, which a silver refresh never writes)."""
    return "\n  UNION ALL ".join(
        f"SELECT '{s}' AS source, MAX({UPDATED}) AS updated_at, COUNT(*) AS row_count, "
        f"COUNTIF({UPDATED} IS NULL) AS untimed FROM {SILVER}.{s}" for s in SOURCES)


def _since(source: str) -> str:
    """The stored mark of ``source`` (the epoch when there was none: every row is new)."""
    return (f"IFNULL((SELECT MAX(updated_at) FROM {WATERMARKS_TABLE} WHERE table_name = "
            f"'orders_enriched' AND source = '{source}'), {EPOCH})")


def _updated(source: str, column: str = "id") -> str:
    return f"SELECT {column} FROM {SILVER}.{source} WHERE {UPDATED} > {_since(source)}"


def watermark_statements(table: str, as_of: str, definition: str,
                         with_marks: bool = False) -> list[str]:
    """The table's watermark rows as of this refresh (the marks: orders_enriched only)."""
    select = (f"SELECT '{table}', source, updated_at, row_count, {as_of}, '{definition}' "
              f"FROM ({marks_sql()})" if with_marks else
              f"SELECT '{table}', CAST(NULL AS STRING), CAST(NULL AS TIMESTAMP), "
              f"CAST(NULL AS INT64), {as_of}, '{definition}'")
    return [f"DELETE FROM {WATERMARKS_TABLE} WHERE table_name = '{table}'",
            f"INSERT INTO {WATERMARKS_TABLE} (table_name, source, updated_at, row_count, "
            f"as_of, definition)\n{select}"]


def joined_the_cut(column: str, window: tuple[str, str] | None) -> str:
    """The day of ``column`` is in ``window`` = (previous as_of, as_of], DATE literals: the
    row joined the cut when as_of moved forward."""
    if window is None:
        return "FALSE"
    since, as_of = window
    return f"DATE({column}) > {since} AND DATE({column}) <= {as_of}"


def affected_orders(window: tuple[str, str] | None = None) -> str:
    """INSERT of the orders orders_enriched must recompute into the keys table (``window``:
    the days that joined the cut, when as_of moved forward)."""
    oe = ORDERS_ENRICHED
    sources = [
        f"SELECT order_id FROM {SILVER}.orders WHERE {joined_the_cut('created_at', window)}",
        _updated("orders", "order_id"),
        _updated("order_items", "order_id"),
        # An item moved to another order: its old order loses it.
        f"SELECT order_id FROM {oe} WHERE order_item_id IN ({_updated('order_items')})",
        f"SELECT order_id FROM {SILVER}.order_items WHERE product_id IN "
        f"({_updated('products')})",
        f"SELECT order_id FROM {SILVER}.order_items WHERE inventory_item_id IN "
        f"({_updated('inventory_items')})",
        f"SELECT order_id FROM {SILVER}.orders WHERE user_id IN ({_updated('users')})",
        # Rows that vanished from silver: items, orders, and the users, products and units
        # whose columns gold still shows (an all-NULL join result stays right as it is).
        f"SELECT g.order_id FROM {oe} AS g LEFT JOIN {SILVER}.order_items AS s "
        f"ON s.id = g.order_item_id WHERE s.id IS NULL",
        f"SELECT g.order_id FROM {ORDERS_SNAPSHOT} AS g LEFT JOIN {SILVER}.orders AS s "
        f"ON s.order_id = g.order_id WHERE s.order_id IS NULL",
        f"SELECT g.order_id FROM {oe} AS g LEFT JOIN {SILVER}.users AS s ON s.id = g.user_id "
        f"WHERE s.id IS NULL AND (g.age IS NOT NULL OR g.gender IS NOT NULL "
        f"OR g.country IS NOT NULL OR g.traffic_source IS NOT NULL)",
        f"SELECT g.order_id FROM {oe} AS g LEFT JOIN {SILVER}.products AS s "
        f"ON s.id = g.product_id WHERE s.id IS NULL AND (g.product_name IS NOT NULL "
        f"OR g.category IS NOT NULL OR g.brand IS NOT NULL OR g.department IS NOT NULL)",
        f"SELECT g.order_id FROM {oe} AS g LEFT JOIN {SILVER}.inventory_items AS s "
        f"ON s.id = g.inventory_item_id WHERE s.id IS NULL AND g.unit_cost_usd IS NOT NULL",
    ]
    union = "\n  UNION ALL ".join(sources)
    return (f"INSERT INTO {KEYS_TABLE} (order_id)\n"
            f"SELECT DISTINCT order_id FROM (\n  {union}\n) WHERE order_id IS NOT NULL")


def _in_keys(column: str) -> str:
    return f"{column} IN (SELECT order_id FROM {KEYS_TABLE})"


def _queue(mart: str, column: str, sources: list[str]) -> str:
    union = "\n  UNION ALL ".join(sources)
    return (f"INSERT INTO {PENDING_TABLE} (table_name, {column})\n"
            f"SELECT DISTINCT '{mart}', k FROM (\n  {union}\n) WHERE k IS NOT NULL")


def queue_marts(window: tuple[str, str] | None = None) -> list[str]:
    """INSERTs of each mart's keys into ops.gold_pending, read before orders_enriched and the
    snapshots are rewritten (so the old users, products and days are still there). ``window``:
    the days that joined the cut, when as_of moved forward."""
    users = (f"SELECT user_id FROM {ORDERS_SNAPSHOT} WHERE {_in_keys('order_id')} "
             f"UNION ALL SELECT user_id FROM {SILVER}.orders WHERE {_in_keys('order_id')}")
    # new_customers counts users on their first order's day: for each affected user, the
    # first day over all current orders and over the unaffected ones (with the old and new
    # days of the affected orders, that holds the old first day and the new one).
    live = f"{SILVER}.orders WHERE status <> 'Cancelled'"
    first_days = [
        f"SELECT DATE(MIN(created_at)) AS k FROM {live} AND user_id IN ({users}) "
        f"GROUP BY user_id",
        f"SELECT DATE(MIN(created_at)) AS k FROM {live} AND user_id IN ({users}) "
        f"AND NOT {_in_keys('order_id')} GROUP BY user_id"]
    sold_units = (f"SELECT inventory_item_id FROM {ORDERS_ENRICHED} WHERE "
                  f"{_in_keys('order_id')} UNION ALL SELECT inventory_item_id FROM "
                  f"{SILVER}.order_items WHERE {_in_keys('order_id')}")
    changed_units = (f"{_updated('inventory_items')} UNION ALL SELECT g.id FROM "
                     f"{INVENTORY_SNAPSHOT} AS g LEFT JOIN {SILVER}.inventory_items AS s "
                     f"ON s.id = g.id WHERE s.id IS NULL")
    return [
        _queue("customer_metrics", "key_id", [
            f"SELECT user_id AS k FROM ({users})", f"SELECT id AS k FROM ({_updated('users')})"]),
        _queue("daily_sales", "key_date", [
            f"SELECT DATE(created_at) AS k FROM {ORDERS_SNAPSHOT} WHERE {_in_keys('order_id')}",
            f"SELECT DATE(created_at) AS k FROM {SILVER}.orders WHERE {_in_keys('order_id')}",
            *first_days]),
        _queue("product_performance", "key_id", [
            f"SELECT product_id AS k FROM {ORDERS_ENRICHED} WHERE {_in_keys('order_id')}",
            f"SELECT product_id AS k FROM {SILVER}.order_items WHERE {_in_keys('order_id')}",
            f"SELECT id AS k FROM ({_updated('products')})",
            # Stock: the products of units sold or changed, as they were and as they are.
            f"SELECT product_id AS k FROM {SILVER}.inventory_items WHERE id IN ({sold_units})",
            f"SELECT product_id AS k FROM {INVENTORY_SNAPSHOT} WHERE id IN ({sold_units})",
            f"SELECT product_id AS k FROM {SILVER}.inventory_items WHERE id IN "
            f"({changed_units})",
            f"SELECT product_id AS k FROM {INVENTORY_SNAPSHOT} WHERE id IN ({changed_units})",
            # Stock on hand at the end of as_of: units received or sold in the new days.
            f"SELECT product_id AS k FROM {SILVER}.inventory_items WHERE "
            f"{joined_the_cut('created_at', window)} OR {joined_the_cut('sold_at', window)}"]),
    ]


def snapshot_statements(full: bool) -> list[str]:
    """Bring the snapshots up to silver: all rows (full) or those of the affected orders and
    the changed or vanished units. Runs after queue_marts, before the watermarks move."""
    if full:
        return [f"DELETE FROM {ORDERS_SNAPSHOT} WHERE TRUE",
                f"INSERT INTO {ORDERS_SNAPSHOT} (order_id, user_id, created_at)\n"
                f"SELECT order_id, user_id, created_at FROM {SILVER}.orders",
                f"DELETE FROM {INVENTORY_SNAPSHOT} WHERE TRUE",
                f"INSERT INTO {INVENTORY_SNAPSHOT} (id, product_id)\n"
                f"SELECT id, product_id FROM {SILVER}.inventory_items"]
    return [f"DELETE FROM {ORDERS_SNAPSHOT} WHERE {_in_keys('order_id')}",
            f"INSERT INTO {ORDERS_SNAPSHOT} (order_id, user_id, created_at)\n"
            f"SELECT order_id, user_id, created_at FROM {SILVER}.orders "
            f"WHERE {_in_keys('order_id')}",
            f"DELETE FROM {INVENTORY_SNAPSHOT} WHERE id IN ({_updated('inventory_items')}) "
            f"OR id NOT IN (SELECT id FROM {SILVER}.inventory_items WHERE id IS NOT NULL)",
            f"INSERT INTO {INVENTORY_SNAPSHOT} (id, product_id)\n"
            f"SELECT id, product_id FROM {SILVER}.inventory_items "
            f"WHERE {UPDATED} > {_since('inventory_items')}"]


def restricted(select: str, condition: str) -> str:
    """``select`` with ``condition`` added to its WHERE: the engines do not push a filter on
    the outer query into its joins. The text is kept as written (sqlglot would respell
    types such as ``NUMERIC(38, 9)``), so the WHERE must be the SELECT's last clause."""
    tree = sqlglot.parse_one(select, read="bigquery")
    last = [k for k, v in tree.args.items() if v and k not in ("expressions", "from", "from_",
                                                               "joins", "with", "where")]
    if not isinstance(tree, sqlglot.exp.Select) or not tree.args.get("where") or last:
        raise ValueError(f"cannot restrict a SELECT whose WHERE is not its last clause: {last}")
    return f"{select}\n  AND ({condition})"


def orders_enriched_statements(select: str, as_of: str, definition: str,
                               since: str | None = None) -> list[str]:
    """The incremental refresh of orders_enriched (after DDL); ``since``: the previous as_of
    (a DATE literal) when it moved forward."""
    only = restricted(select, f"{_in_keys('oi.order_id')} AND {_in_keys('o.order_id')}")
    window = (since, as_of) if since else None
    return [
        f"DELETE FROM {KEYS_TABLE} WHERE TRUE",
        affected_orders(window),
        *queue_marts(window),
        f"DELETE FROM {ORDERS_ENRICHED} WHERE {_in_keys('order_id')}",
        f"INSERT INTO {ORDERS_ENRICHED}\nSELECT * FROM (\n{only}\n)",
        *snapshot_statements(full=False),
        *watermark_statements("orders_enriched", as_of, definition, with_marks=True),
        f"DELETE FROM {KEYS_TABLE} WHERE TRUE",
    ]


def orders_enriched_full(as_of: str, definition: str) -> list[str]:
    """After a full rebuild of orders_enriched: snapshots and marks anew, and every mart's
    watermark dropped (their queues cannot say what a full rebuild changed: they rebuild)."""
    marts = ", ".join(f"'{m}'" for m in MARTS)
    return [*snapshot_statements(full=True),
            *watermark_statements("orders_enriched", as_of, definition, with_marks=True),
            f"DELETE FROM {WATERMARKS_TABLE} WHERE table_name IN ({marts})",
            f"DELETE FROM {PENDING_TABLE} WHERE table_name IN ({marts})"]


def vanished_keys(mart: str) -> str | None:
    """Keys of the mart's rows whose silver dimension row vanished (its columns went NULL)."""
    if mart == "customer_metrics":
        return (f"SELECT g.user_id AS k FROM {GOLD}.customer_metrics AS g LEFT JOIN "
                f"{SILVER}.users AS s ON s.id = g.user_id WHERE s.id IS NULL AND "
                f"(g.email IS NOT NULL OR g.country IS NOT NULL)")
    if mart == "product_performance":
        return (f"SELECT g.product_id AS k FROM {GOLD}.product_performance AS g LEFT JOIN "
                f"{SILVER}.products AS s ON s.id = g.product_id WHERE s.id IS NULL AND "
                f"(g.name IS NOT NULL OR g.category IS NOT NULL OR g.brand IS NOT NULL "
                f"OR g.department IS NOT NULL)")
    return None


def mart_statements(mart: str, select: str, as_of: str, definition: str) -> list[str]:
    """The incremental refresh of a mart: its queued keys deleted and inserted again."""
    column, pending = MARTS[mart]
    keys = f"(SELECT {pending} FROM {PENDING_TABLE} WHERE table_name = '{mart}')"
    statements = []
    if vanished := vanished_keys(mart):
        statements.append(f"INSERT INTO {PENDING_TABLE} (table_name, {pending})\n"
                          f"SELECT '{mart}', k FROM ({vanished})")
    return [*statements,
            f"DELETE FROM {GOLD}.{mart} WHERE {column} IN {keys}",
            f"INSERT INTO {GOLD}.{mart}\nSELECT * FROM (\n{select}\n) WHERE {column} IN {keys}",
            f"DELETE FROM {PENDING_TABLE} WHERE table_name = '{mart}'",
            *watermark_statements(mart, as_of, definition)]
