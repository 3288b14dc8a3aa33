"""The synthetic seed respects THELOOK.md: mixes, lifecycles, shapes and keys.

Tolerances are a few standard errors at scale 0.05 (~6k orders, ~120k events).
"""

from __future__ import annotations

import datetime as dt

import duckdb
import pyarrow as pa
import pytest

from test_data.thelook_ecommerce import reference as ref
from test_data.thelook_ecommerce import synthetic
from tests.conftest import AS_OF


def one(con: duckdb.DuckDBPyConnection, sql: str):
    return con.execute(sql).fetchone()[0]


def shares(con: duckdb.DuckDBPyConnection, sql: str) -> dict:
    """{value: share} from a query returning (value, count)."""
    rows = con.execute(sql).fetchall()
    total = sum(c for _, c in rows)
    return {v: c / total for v, c in rows}


def assert_mix(observed: dict, expected: dict, tol: float) -> None:
    assert set(observed) == set(expected), (observed, expected)
    for k, p in expected.items():
        assert observed[k] == pytest.approx(p, abs=tol), (k, observed[k], p)


def test_sizes_follow_the_scale(thelook: dict[str, pa.Table]) -> None:
    n = {t: thelook[t].num_rows for t in thelook}
    assert n["distribution_centers"] == 10
    assert n["users"] == 5000
    assert n["products"] == pytest.approx(29120 * 0.05, rel=0.01)
    assert n["orders"] / n["users"] == pytest.approx(1.25, rel=0.05)
    assert n["order_items"] / n["orders"] == pytest.approx(1.45, rel=0.04)
    assert n["inventory_items"] / n["order_items"] == pytest.approx(2.7, rel=0.03)
    # ~1.3M purchase-session + ~1.1M anonymous events at scale 1.0.
    assert n["events"] / 0.05 == pytest.approx(2.43e6, rel=0.05)


def test_order_status_and_num_of_item_mixes(thelook_db) -> None:
    assert_mix(shares(thelook_db, "SELECT status, count(*) FROM orders GROUP BY 1"),
               ref.ORDER_STATUSES, 0.02)
    assert_mix(shares(thelook_db, "SELECT num_of_item, count(*) FROM orders GROUP BY 1"),
               ref.NUM_OF_ITEM_WEIGHTS, 0.02)


def test_user_mixes(thelook_db) -> None:
    assert_mix(shares(thelook_db, "SELECT gender, count(*) FROM users GROUP BY 1"),
               {"M": 0.5, "F": 0.5}, 0.025)
    assert_mix(shares(thelook_db, "SELECT traffic_source, count(*) FROM users GROUP BY 1"),
               ref.USER_TRAFFIC_SOURCES, 0.02)
    country = shares(thelook_db, "SELECT country, count(*) FROM users GROUP BY 1")
    for name, expected in [("China", 0.34), ("United States", 0.225), ("Brasil", 0.146)]:
        assert country[name] == pytest.approx(expected, abs=0.025)
    assert "Brazil" not in country
    ordering = one(thelook_db, "SELECT count(DISTINCT user_id) FROM orders") / 5000
    assert ordering == pytest.approx(0.80, abs=0.025)


def test_user_columns(thelook_db) -> None:
    assert one(thelook_db, "SELECT min(age) FROM users") == 12
    assert one(thelook_db, "SELECT max(age) FROM users") == 70
    bad_email = one(thelook_db, """
        SELECT count(*) FROM users WHERE email <> lower(first_name) || lower(last_name) || '@'
          || split_part(email, '@', 2)
          OR split_part(email, '@', 2) NOT IN ('example.com', 'example.net', 'example.org')""")
    assert bad_email == 0
    # Emails are not unique (THELOOK: dedup by email keeps ≈84% at scale 1.0).
    assert one(thelook_db, "SELECT count(DISTINCT email) FROM users") < 5000
    assert one(thelook_db, "SELECT min(created_at) FROM users") >= dt.datetime(
        2019, 1, 2, tzinfo=dt.UTC)
    assert one(thelook_db, "SELECT max(hour(created_at)) FROM users") <= 18
    recent = one(thelook_db, f"""SELECT avg((created_at >= TIMESTAMPTZ '{AS_OF}' - INTERVAL 7 DAY)::int)
                                FROM users""")
    assert recent == pytest.approx(0.025, abs=0.008)
    assert one(thelook_db, f"SELECT max(created_at) < TIMESTAMPTZ '{AS_OF}' FROM users")


def test_products(thelook_db) -> None:
    assert one(thelook_db, "SELECT count(*) FROM products WHERE NOT regexp_full_match(sku, '[0-9A-F]{32}')") == 0
    assert one(thelook_db, "SELECT count(*) FROM products WHERE distribution_center_id NOT BETWEEN 1 AND 10") == 0
    assert one(thelook_db, "SELECT min(retail_price) >= 1.5 AND max(retail_price) <= 999 FROM products")
    assert one(thelook_db, "SELECT avg(retail_price) FROM products") == pytest.approx(59, rel=0.08)
    assert one(thelook_db, "SELECT avg(cost) FROM products") == pytest.approx(28, rel=0.1)
    ratios = thelook_db.execute("""SELECT category, department, avg(cost / retail_price)
                                   FROM products GROUP BY ALL""").fetchall()
    assert len(ratios) == len(ref.CATEGORIES)
    for category, dept, ratio in ratios:
        assert 0.37 <= ratio <= 0.63, (dept, category, ratio)
    assert set(r[0] for r in thelook_db.execute("SELECT DISTINCT department FROM products").fetchall()) == {"Men", "Women"}
    # Per-category counts follow the real catalogue, scaled.
    counts = dict(((d, c), n) for d, c, n in thelook_db.execute(
        "SELECT department, category, count(*) FROM products GROUP BY ALL").fetchall())
    for dept, cat, real, _ in ref.CATEGORIES:
        assert counts[(dept, cat)] == max(1, round(real * 0.05))


def test_order_lifecycle_rules(thelook_db) -> None:
    def count(where: str) -> int:
        return one(thelook_db, f"SELECT count(*) FROM orders WHERE {where}")

    assert count("(returned_at IS NOT NULL) <> (status = 'Returned')") == 0
    assert count("status IN ('Processing', 'Cancelled') AND "
                 "(shipped_at IS NOT NULL OR delivered_at IS NOT NULL OR returned_at IS NOT NULL)") == 0
    assert count("status = 'Shipped' AND (shipped_at IS NULL OR delivered_at IS NOT NULL)") == 0
    assert count("status = 'Complete' AND (shipped_at IS NULL OR delivered_at IS NULL)") == 0
    assert count("shipped_at < created_at OR shipped_at >= created_at + INTERVAL 3 DAY") == 0
    assert count("delivered_at < shipped_at OR delivered_at >= shipped_at + INTERVAL 5 DAY") == 0
    assert count("returned_at < delivered_at OR returned_at >= delivered_at + INTERVAL 3 DAY") == 0
    assert one(thelook_db, """SELECT count(*) FROM orders o JOIN users u ON u.id = o.user_id
                              WHERE o.created_at < u.created_at OR o.gender <> u.gender""") == 0
    assert count(f"created_at >= TIMESTAMPTZ '{AS_OF}'") == 0


def test_order_items_follow_their_order(thelook_db) -> None:
    assert one(thelook_db, """
        SELECT count(*) FROM orders o
        JOIN (SELECT order_id, count(*) n FROM order_items GROUP BY 1) i USING (order_id)
        WHERE i.n <> o.num_of_item""") == 0
    assert one(thelook_db, "SELECT count(*) FROM orders WHERE order_id NOT IN (SELECT order_id FROM order_items)") == 0
    assert one(thelook_db, """
        SELECT count(*) FROM order_items i JOIN orders o USING (order_id)
        WHERE i.user_id <> o.user_id OR i.status <> o.status
           OR i.shipped_at IS DISTINCT FROM o.shipped_at
           OR i.delivered_at IS DISTINCT FROM o.delivered_at
           OR i.returned_at IS DISTINCT FROM o.returned_at
           OR i.created_at < o.created_at OR i.created_at > o.created_at + INTERVAL 4 DAY""") == 0
    assert one(thelook_db, """SELECT count(*) FROM order_items i JOIN products p ON p.id = i.product_id
                              WHERE i.sale_price <> p.retail_price""") == 0
    assert one(thelook_db, """
        SELECT count(*) FROM order_items i JOIN users u ON u.id = i.user_id
        JOIN products p ON p.id = i.product_id
        WHERE p.department <> CASE u.gender WHEN 'M' THEN 'Men' ELSE 'Women' END""") == 0


def test_inventory_items(thelook_db) -> None:
    assert one(thelook_db, """
        SELECT count(*) FROM order_items i JOIN inventory_items v ON v.id = i.inventory_item_id
        WHERE v.product_id <> i.product_id OR v.sold_at <> i.created_at
           OR v.created_at > v.sold_at OR v.created_at <= v.sold_at - INTERVAL 60 DAY""") == 0
    assert one(thelook_db, "SELECT count(*) FROM inventory_items WHERE sold_at IS NOT NULL") == \
        one(thelook_db, "SELECT count(*) FROM order_items")
    assert one(thelook_db, """
        SELECT count(*) FROM inventory_items v JOIN products p ON p.id = v.product_id
        WHERE v.cost <> p.cost OR v.product_category <> p.category OR v.product_name <> p.name
           OR v.product_brand <> p.brand OR v.product_retail_price <> p.retail_price
           OR v.product_department <> p.department OR v.product_sku <> p.sku
           OR v.product_distribution_center_id <> p.distribution_center_id""") == 0
    unsold_min = one(thelook_db, "SELECT min(created_at) FROM inventory_items WHERE sold_at IS NULL")
    assert unsold_min >= dt.datetime(2020, 1, 1, tzinfo=dt.UTC)
    ids = one(thelook_db, "SELECT max(id) = count(*) AND min(id) = 1 FROM inventory_items")
    assert ids


def test_foreign_keys_are_complete(thelook_db) -> None:
    fks = [
        ("products", "distribution_center_id", "distribution_centers", "id"),
        ("inventory_items", "product_id", "products", "id"),
        ("order_items", "inventory_item_id", "inventory_items", "id"),
        ("order_items", "product_id", "products", "id"),
        ("order_items", "order_id", "orders", "order_id"),
        ("orders", "user_id", "users", "id"),
        ("order_items", "user_id", "users", "id"),
        ("events", "user_id", "users", "id"),
    ]
    for child, col, parent, key in fks:
        orphans = one(thelook_db, f"""SELECT count(*) FROM {child} c WHERE c.{col} IS NOT NULL
                                      AND c.{col} NOT IN (SELECT {key} FROM {parent})""")
        assert orphans == 0, (child, col, parent)
    for table, key in synthetic.KEY_COLUMN.items():
        assert one(thelook_db, f"SELECT count(*) = count(DISTINCT {key}) FROM {table}"), table


def test_event_mixes_and_columns(thelook_db) -> None:
    sessions = """SELECT session_id, any_value(browser) b, any_value(traffic_source) t
                  FROM events GROUP BY 1"""
    assert_mix(shares(thelook_db, f"SELECT b, count(*) FROM ({sessions}) GROUP BY 1"),
               ref.BROWSERS, 0.02)
    assert_mix(shares(thelook_db, f"SELECT t, count(*) FROM ({sessions}) GROUP BY 1"),
               ref.EVENT_TRAFFIC_SOURCES, 0.02)
    assert one(thelook_db, "SELECT min(id) = 1 AND max(id) = count(*) FROM events")
    assert one(thelook_db, """SELECT count(*) FROM events WHERE NOT regexp_full_match(ip_address,
                              '(\\d{1,3})\\.(\\d{1,3})\\.(\\d{1,3})\\.(\\d{1,3})')""") == 0
    assert one(thelook_db, """SELECT count(*) FROM events WHERE NOT regexp_full_match(session_id,
                              '[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}')""") == 0
    assert one(thelook_db, """
        SELECT count(*) FROM events e JOIN products p
          ON e.uri = '/department/' || replace(lower(p.department), ' ', '') || '/category/'
             || replace(lower(p.category), ' ', '') || '/brand/' || replace(lower(p.brand), ' ', '')
        """) > 0
    bad_uri = one(thelook_db, """
        SELECT count(*) FROM events WHERE NOT (
          (event_type = 'home' AND uri = '/home') OR (event_type = 'cart' AND uri = '/cart')
          OR (event_type = 'purchase' AND uri = '/purchase') OR (event_type = 'cancel' AND uri = '/cancel')
          OR (event_type = 'product' AND regexp_full_match(uri, '/product/\\d+'))
          OR (event_type = 'department' AND regexp_full_match(uri, '/department/(men|women)/category/[^/]+/brand/[^/]+')))""")
    assert bad_uri == 0


def test_purchase_session_shapes(thelook_db) -> None:
    # One purchase session per order item, each walking its whole order.
    assert one(thelook_db, "SELECT count(DISTINCT session_id) FROM events WHERE user_id IS NOT NULL") == \
        one(thelook_db, "SELECT count(*) FROM order_items")
    shapes = thelook_db.execute("""
        SELECT shape, count(*) FROM (
          SELECT session_id, string_agg(event_type, ',' ORDER BY sequence_number) shape,
                 max(sequence_number) = count(*) AND min(sequence_number) = 1 contiguous
          FROM events WHERE user_id IS NOT NULL GROUP BY 1)
        WHERE contiguous GROUP BY 1""").fetchall()
    allowed = {"home,department,product,cart,purchase"} | {
        ",".join(["department,product,cart"] * n + ["purchase"]) for n in (2, 3, 4)}
    assert {s for s, _ in shapes} == allowed
    assert sum(n for _, n in shapes) == one(thelook_db, "SELECT count(*) FROM order_items")
    gaps = thelook_db.execute("""
        SELECT min(g), max(g) FROM (SELECT epoch(created_at) - epoch(lag(created_at) OVER
          (PARTITION BY session_id ORDER BY sequence_number)) g FROM events WHERE user_id IS NOT NULL)
        WHERE g IS NOT NULL""").fetchone()
    assert gaps[0] >= 0 and gaps[1] <= 180


def test_anonymous_session_shapes(thelook_db) -> None:
    shapes = shares(thelook_db, """
        SELECT shape, count(*) FROM (SELECT string_agg(event_type, ',' ORDER BY sequence_number) shape
          FROM events WHERE user_id IS NULL GROUP BY session_id) GROUP BY 1""")
    assert_mix(shapes, {",".join(s): 0.25 for s in ref.ANONYMOUS_SESSION_SHAPES}, 0.02)
    assert one(thelook_db, "SELECT count(DISTINCT session_id) FROM events WHERE user_id IS NULL") == 5 * 5000
    assert one(thelook_db, "SELECT count(*) FROM events WHERE event_type = 'cancel' AND user_id IS NOT NULL") == 0
    assert one(thelook_db, "SELECT count(*) FROM events WHERE event_type = 'home' AND user_id IS NULL") == 0
    gaps = thelook_db.execute("""
        SELECT max(g) FROM (SELECT epoch(created_at) - epoch(lag(created_at) OVER
          (PARTITION BY session_id ORDER BY sequence_number)) g FROM events WHERE user_id IS NULL)""").fetchone()
    assert gaps[0] <= 1800


def test_determinism_by_seed() -> None:
    a = synthetic.generate(0.005, 11, AS_OF)
    b = synthetic.generate(0.005, 11, AS_OF)
    c = synthetic.generate(0.005, 12, AS_OF)
    for t in synthetic.TABLES:
        assert a[t].equals(b[t]), t
    assert not a["orders"].equals(c["orders"])
    assert not a["events"].equals(c["events"])


def test_purchase_events_point_at_their_order_items_products(thelook_db) -> None:
    # Every product event of a purchase session is one of its order's products.
    stray = one(thelook_db, """
        WITH s AS (SELECT e.session_id, e.uri, e.event_type, e.created_at, e.user_id FROM events e
                   WHERE e.user_id IS NOT NULL AND e.event_type = 'product'),
             p AS (SELECT session_id, any_value(created_at) FILTER (event_type = 'purchase') t
                   FROM events WHERE user_id IS NOT NULL GROUP BY 1)
        SELECT count(*) FROM s JOIN p USING (session_id)
        WHERE NOT EXISTS (
            SELECT 1 FROM order_items i
            WHERE i.user_id = s.user_id AND s.uri = '/product/' || i.product_id
              AND i.order_id IN (SELECT order_id FROM order_items WHERE created_at = p.t))""")
    assert stray == 0


def test_unsold_units_and_country_mix(thelook_db) -> None:
    unsold = one(thelook_db, "SELECT count(*) FROM inventory_items WHERE sold_at IS NULL")
    items = one(thelook_db, "SELECT count(*) FROM order_items")
    expected = sum(k * w for k, w in ref.UNSOLD_UNITS_WEIGHTS.items())  # 1.7
    assert unsold / items == pytest.approx(expected, rel=0.03)
    country = shares(thelook_db, "SELECT country, count(*) FROM users GROUP BY 1")
    for name, weight, _ in ref.COUNTRIES:
        assert country.get(name, 0.0) == pytest.approx(weight, abs=0.02), name


def test_category_mean_prices_follow_the_catalogue(thelook_db) -> None:
    means = dict(((d, c), m) for d, c, m in thelook_db.execute(
        "SELECT department, category, avg(retail_price) FROM products GROUP BY ALL").fetchall())
    socks = means[("Women", "Socks & Hosiery")]
    coats = means[("Men", "Outerwear & Coats")]
    assert socks < 25 and coats > 110  # ≈$17 and ≈$149 in the real catalogue
    assert min(means, key=means.get) in {("Women", "Socks & Hosiery"), ("Men", "Socks")}
