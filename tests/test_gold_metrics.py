"""Every gold metric, value by value, on a hand-built silver fixture.

Four users, five products, seven orders in every status, two currencies (USD and EUR at the
static 1.08), an order item whose order never arrived and a product sold before its row
arrived. The gold assets run through Dagster on it; the expected numbers are worked out by
hand in the comments.
"""

from __future__ import annotations

import base64
import datetime as dt
import shutil
import struct
import zlib
from pathlib import Path
from xml.etree import ElementTree

import dagster as dg
import numpy as np
import pyarrow as pa
import pytest

from ecommerce_assets.gold.assets import (
    HEATMAP_FILE,
    gold_assets,
    gold_definitions,
    gold_run_config,
)
from resources.addresses import UspsAddressStandardizer
from resources.fx_rates import StaticFxRates
from resources.warehouse import DuckDBWarehouse

AS_OF = dt.date(2026, 6, 30)
# The gold tables taking as_of (every table but fx_rates: as_of is their cut-off).
AS_OF_TABLES = ["orders_enriched", "customer_metrics", "product_performance", "daily_sales",
                "users_enriched", "cohort_retention"]
EUR = 1.08


def ts(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text).replace(tzinfo=dt.UTC)


USERS = [
    dict(id=1, first_name="Ann", last_name="Lee", email="annlee@example.com", age=30,
         gender="Female", street_address="123 North Main Street", city="Seattle",
         state="Washington", postal_code="98101", country="United States",
         traffic_source="Search", created_at=ts("2025-12-01 09:00")),
    dict(id=2, first_name="Bo", last_name="Roy", email="boroy@example.net", age=41,
         gender="Male", street_address="9 Rue Royale", city="Paris", state="Île-de-France",
         postal_code="75008", country="France", traffic_source="Email",
         created_at=ts("2025-11-02 10:00")),
    dict(id=3, first_name="Cy", last_name="Ng", email="cyng@example.org", age=25,
         gender="Male", street_address="456 Oak Ave., Apt. 4B", city="Los Angeles",
         state="CA", postal_code="90001-1234", country="United States",
         traffic_source="Organic", created_at=ts("2026-01-15 08:00")),
    dict(id=4, first_name="Di", last_name="Ox", email="dox@example.com", age=60,
         gender="Female", street_address=None, city="Denver", state="Colorado",
         postal_code=None, country="United States", traffic_source="Display",
         created_at=ts("2026-02-01 08:00")),
]
PRODUCTS = [
    dict(id=10, name="Slim Jeans", category="Jeans", brand="Levi's", department="Men",
         cost=20.0, cost_currency="USD", retail_price=50.0, retail_price_currency="USD"),
    dict(id=20, name="Wrap Dress", category="Dresses", brand="Mango", department="Women",
         cost=16.0, cost_currency="EUR", retail_price=40.0, retail_price_currency="EUR"),
    dict(id=30, name="Wool Socks", category="Socks", brand="Smartwool", department="Men",
         cost=5.0, cost_currency="USD", retail_price=12.0, retail_price_currency="USD"),
    dict(id=40, name="Swim Shorts", category="Swim", brand="Speedo", department="Men",
         cost=9.0, cost_currency="USD", retail_price=25.0, retail_price_currency="USD"),
]  # product 50 is sold (order item 11) but its row has not arrived
ORDERS = [  # order_id, user, status, created_at
    (1, 1, "Complete", "2026-01-10 10:00"),
    (2, 1, "Returned", "2026-03-05 09:00"),
    (3, 1, "Shipped", "2026-05-20 23:30"),
    (4, 1, "Cancelled", "2026-06-01 12:00"),
    (5, 2, "Processing", "2026-03-05 15:00"),
    (6, 2, "Cancelled", "2026-01-10 08:00"),
    (7, 3, "Cancelled", "2026-02-01 12:00"),
]
ITEMS = [  # id, order_id, product, inventory item, status, price, currency
    (1, 1, 10, 101, "Complete", 50.0, "USD"),
    (2, 1, 20, 201, "Complete", 40.0, "EUR"),
    (3, 2, 10, 102, "Returned", 50.0, "USD"),
    (4, 3, 20, 202, "Shipped", 40.0, "EUR"),
    (5, 4, 10, 103, "Cancelled", 50.0, "USD"),
    (6, 5, 10, 104, "Processing", 50.0, "USD"),
    (7, 5, 10, 105, "Processing", 50.0, "USD"),
    (8, 6, 20, 203, "Cancelled", 40.0, "EUR"),
    (9, 7, 10, 106, "Cancelled", 50.0, "USD"),
    (10, 999, 10, None, "Shipped", 50.0, "USD"),  # its order never arrived: not in gold
    (11, 5, 50, None, None, 20.0, "USD"),  # no status: its order's (Processing) stands in
]
INVENTORY = [  # id, product, sold, cost, currency
    (101, 10, True, 20.0, "USD"), (102, 10, True, 20.0, "USD"), (103, 10, True, 20.0, "USD"),
    (104, 10, True, 20.0, "USD"), (105, 10, True, 25.0, "USD"), (106, 10, True, 20.0, "USD"),
    (107, 10, False, 20.0, "USD"), (108, 10, False, 20.0, "USD"),
    (201, 20, True, 16.0, "EUR"), (202, 20, True, 30.0, "USD"), (203, 20, True, 16.0, "EUR"),
    (204, 20, False, 16.0, "EUR"), (205, 20, False, 16.0, "EUR"),
    (301, 30, False, 5.0, "USD"), (302, 30, False, 5.0, "USD"),
]


def silver_rows() -> dict[str, list[dict]]:
    orders = {o[0]: o for o in ORDERS}
    return {
        "users": USERS,
        "products": PRODUCTS,
        "orders": [dict(order_id=o, user_id=u, status=s, created_at=ts(c),
                        returned_at=ts(c) + dt.timedelta(days=3) if s == "Returned" else None,
                        num_of_item=sum(1 for i in ITEMS if i[1] == o))
                   for o, u, s, c in ORDERS],
        "order_items": [dict(id=i, order_id=o, user_id=orders[o][1] if o in orders else 1,
                             product_id=p, inventory_item_id=inv, status=s,
                             created_at=ts(orders[o][3]) if o in orders else ts("2026-05-01"),
                             sale_price=price, sale_price_currency=cur)
                        for i, o, p, inv, s, price, cur in ITEMS],
        "inventory_items": [dict(id=i, product_id=p, cost=cost, cost_currency=cur,
                                 created_at=ts("2025-12-01 00:00"),
                                 sold_at=ts("2026-01-10 10:00") if sold else None)
                            for i, p, sold, cost, cur in INVENTORY],
    }


@pytest.fixture(scope="module")
def gold(empty_bronze: DuckDBWarehouse, tmp_path_factory: pytest.TempPathFactory):
    """The fixture in silver, then every gold asset (as_of from the run config)."""
    work = tmp_path_factory.mktemp("gold_metrics")
    shutil.copyfile(empty_bronze.path, work / "w.duckdb")  # empty tables of the real types
    wh = DuckDBWarehouse(path=str(work / "w.duckdb"))
    for table, rows in silver_rows().items():
        wh.execute(f"DELETE FROM silver.{table}")
        wh.load_table(f"silver.{table}", pa.Table.from_pylist(rows), mode="append")
    resources = {"warehouse": wh, "fx_rates": StaticFxRates(),
                 "address_standardizer": UspsAddressStandardizer()}
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("ECOMMERCE_HOME", str(work / "home"))
        mp.delenv("ECOMMERCE_AS_OF", raising=False)
        result = dg.materialize(gold_definitions, resources=resources,
                                run_config=gold_run_config(as_of=AS_OF))
    assert result.success
    return wh, result, work / "home"


def rows(wh: DuckDBWarehouse, table: str, key: str) -> dict:
    return {r[key]: r for r in wh.query_arrow(f"SELECT * FROM gold.{table}").to_pylist()}


def test_fx_rates_and_orders_enriched(gold) -> None:
    wh, _, _ = gold
    rates = rows(wh, "fx_rates", "currency")
    assert {c: r["rate_to_usd"] for c, r in rates.items()} == {
        "USD": 1.0, "EUR": EUR, "GBP": 1.27, "JPY": 0.0067}
    assert rates["EUR"]["as_of_date"] == dt.date(2026, 11, 2)
    items = rows(wh, "orders_enriched", "order_item_id")
    assert sorted(items) == [1, 2, 3, 4, 5, 6, 7, 8, 9, 11]  # not item 10 (no order)
    dress = items[2]
    assert (dress["sale_price"], dress["sale_price_currency"], dress["fx_rate_to_usd"],
            dress["sale_price_usd"]) == (40.0, "EUR", EUR, 43.2)  # 40 x 1.08
    assert dress["unit_cost_usd"] == pytest.approx(17.28)  # inventory 201: 16 EUR x 1.08
    assert (dress["product_name"], dress["category"], dress["brand"], dress["department"]) == (
        "Wrap Dress", "Dresses", "Mango", "Women")
    assert (dress["age"], dress["gender"], dress["country"], dress["traffic_source"]) == (
        30, "Female", "United States", "Search")
    assert (dress["order_created_at"], dress["sale_date"]) == (ts("2026-01-10 10:00"),
                                                               dt.date(2026, 1, 10))
    assert items[4]["sale_date"] == dt.date(2026, 5, 20)  # 23:30 UTC is still the 20th
    assert items[11]["status"] == "Processing" and items[11]["product_name"] is None
    assert {i for i, r in items.items() if r["is_revenue_item"]} == {1, 2, 4, 6, 7, 11}


def test_customer_metrics(gold) -> None:
    wh, _, _ = gold
    customers = rows(wh, "customer_metrics", "user_id")
    assert set(customers) == {1, 2}  # user 3 only cancelled, user 4 never ordered
    ann = customers[1]
    # Orders 1, 2, 3 (4 is cancelled). Spend: order 1 = 50 + 43.20, order 3 = 43.20; order 2
    # was returned. AOV over the 2 orders with revenue.
    assert ann["lifetime_order_count"] == 3
    assert ann["total_spend"] == pytest.approx(136.40)
    assert ann["avg_order_value"] == pytest.approx(68.20)
    assert (ann["first_order_at"], ann["last_order_at"]) == (ts("2026-01-10 10:00"),
                                                             ts("2026-05-20 23:30"))
    assert ann["return_rate"] == pytest.approx(1 / 3)
    assert ann["days_since_last_order"] == 41  # 2026-05-20 -> 2026-06-30
    assert ann["churn_flag"] is False
    assert (ann["email"], ann["country"]) == ("annlee@example.com", "United States")
    bo = customers[2]
    # Order 5 only (6 is cancelled): 50 + 50 + 20.
    assert (bo["lifetime_order_count"], bo["total_spend"], bo["avg_order_value"]) == (
        1, pytest.approx(120.0), pytest.approx(120.0))
    assert bo["return_rate"] == 0
    assert bo["days_since_last_order"] == 117  # 2026-03-05 -> 2026-06-30: 26 + 30 + 31 + 30
    assert bo["churn_flag"] is True


def test_product_performance(gold) -> None:
    wh, _, _ = gold
    products = rows(wh, "product_performance", "product_id")
    assert set(products) == {10, 20, 30, 40, 50}
    jeans = products[10]
    # Items 1 Complete, 3 Returned, 6 and 7 Processing are sold; 5 and 9 were cancelled.
    assert (jeans["units_sold"], jeans["return_count"]) == (4, 1)
    assert jeans["total_revenue"] == pytest.approx(150.0)  # items 1, 6, 7
    assert jeans["avg_sale_price"] == pytest.approx(50.0)
    assert jeans["return_rate"] == pytest.approx(0.25)
    # Margins of items 1, 6, 7 on units 101 ($20), 104 ($20), 105 ($25): .6, .6, .5.
    assert jeans["avg_margin_ratio"] == pytest.approx((0.6 + 0.6 + 0.5) / 3)
    # Turnover counts the units of units_sold: 101, 102, 104, 105. Units 103 and 106 were
    # sold by cancelled items (silver keeps their sold_at): back on hand with 107 and 108.
    assert jeans["inventory_turnover_ratio"] == pytest.approx(4 / 4)
    dress = products[20]
    assert (dress["units_sold"], dress["return_count"], dress["return_rate"]) == (2, 0, 0)
    assert dress["total_revenue"] == pytest.approx(86.40)  # 2 x 43.20
    assert dress["avg_sale_price"] == pytest.approx(43.20)
    # Unit 201 cost 16 EUR = 17.28 USD; unit 202 cost 30 USD.
    assert dress["avg_margin_ratio"] == pytest.approx(
        ((43.2 - 17.28) / 43.2 + (43.2 - 30) / 43.2) / 2)
    assert dress["inventory_turnover_ratio"] == pytest.approx(2 / 3)  # 203 cancelled: on hand
    socks = products[30]
    assert (socks["units_sold"], socks["total_revenue"], socks["avg_sale_price"],
            socks["return_rate"], socks["avg_margin_ratio"],
            socks["inventory_turnover_ratio"]) == (0, 0, None, None, None, 0)
    assert products[40]["inventory_turnover_ratio"] is None  # nothing on hand
    unknown = products[50]
    assert (unknown["name"], unknown["units_sold"], unknown["total_revenue"],
            unknown["avg_margin_ratio"]) == (None, 1, pytest.approx(20.0), None)


def test_daily_sales(gold) -> None:
    wh, _, _ = gold
    days = rows(wh, "daily_sales", "sale_date")
    # 02-01 and 06-01 had cancelled orders only.
    assert sorted(days) == [dt.date(2026, 1, 10), dt.date(2026, 3, 5), dt.date(2026, 5, 20)]
    jan, mar, may = (days[d] for d in sorted(days))
    assert (jan["order_count"], jan["unique_customers"], jan["new_customers"]) == (1, 1, 1)
    assert jan["total_revenue"] == pytest.approx(93.20)
    assert jan["avg_basket_size"] == pytest.approx(2.0)  # order 1: 2 items
    # Orders 2 (Ann, returned) and 5 (Bo's first): items 1 + 3.
    assert (mar["order_count"], mar["unique_customers"], mar["new_customers"]) == (2, 2, 1)
    assert mar["total_revenue"] == pytest.approx(120.0)
    assert mar["avg_basket_size"] == pytest.approx(4 / 2)
    assert (may["order_count"], may["new_customers"], may["total_revenue"],
            may["avg_basket_size"]) == (1, 0, pytest.approx(43.20), pytest.approx(1.0))


def test_revenue_is_the_same_in_every_mart(gold) -> None:
    wh, result, _ = gold
    (row,) = wh.query_arrow(
        "SELECT (SELECT SUM(total_revenue) FROM gold.daily_sales) AS daily, "
        "(SELECT SUM(total_spend) FROM gold.customer_metrics) AS customers, "
        "(SELECT SUM(total_revenue) FROM gold.product_performance) AS products").to_pylist()
    assert {k: round(v, 2) for k, v in row.items()} == {
        "daily": 256.40, "customers": 256.40, "products": 256.40}  # 136.40 + 120.00
    (check,) = [c for c in result.get_asset_check_evaluations()
                if c.check_name == "revenue_reconciles"]
    assert check.passed


def test_users_enriched(gold) -> None:
    wh, _, _ = gold
    users = rows(wh, "users_enriched", "user_id")
    assert set(users) == {1, 2, 3, 4}
    ann, bo, cy, di = (users[i] for i in (1, 2, 3, 4))
    assert ann["standardized_address"] == "123 N MAIN ST, SEATTLE, WA 98101"
    assert cy["standardized_address"] == "456 OAK AVE APT 4B, LOS ANGELES, CA 90001"
    assert di["standardized_address"] is None  # no street line nor ZIP: not the USPS form
    assert bo["standardized_address"] is None  # not a US address
    # 0.6 x min(days / 180, 1) + 0.25 / orders + 0.15 x return rate
    assert ann["churn_risk_score"] == pytest.approx(0.6 * 41 / 180 + 0.25 / 3 + 0.15 / 3,
                                                    abs=1e-4)
    assert bo["churn_risk_score"] == pytest.approx(0.6 * 117 / 180 + 0.25, abs=1e-4)
    assert (ann["churn_flag"], bo["churn_flag"]) == (False, True)
    assert (cy["churn_risk_score"], cy["churn_flag"]) == (None, None)  # never a customer
    assert (ann["email"], ann["traffic_source"], ann["city"]) == (
        "annlee@example.com", "Search", "Seattle")


def test_cohort_retention(gold) -> None:
    wh, _, _ = gold
    found = wh.query_arrow(
        "SELECT traffic_source, cohort_month, cohort_size, "
        "list(retention_rate ORDER BY months_since_first_order) AS curve "
        "FROM gold.cohort_retention GROUP BY ALL ORDER BY ALL").to_pylist()
    jan, mar = dt.date(2026, 1, 1), dt.date(2026, 3, 1)
    # Ann: cohort January, ordered in months 0, 2 (March), 4 (May); June's order was
    # cancelled. Bo: cohort March, month 0 only. Months run to June (as_of 2026-06-30).
    assert found == [
        {"traffic_source": "All", "cohort_month": jan, "cohort_size": 1,
         "curve": [1, 0, 1, 0, 1, 0]},
        {"traffic_source": "All", "cohort_month": mar, "cohort_size": 1, "curve": [1, 0, 0, 0]},
        {"traffic_source": "Email", "cohort_month": mar, "cohort_size": 1,
         "curve": [1, 0, 0, 0]},
        {"traffic_source": "Search", "cohort_month": jan, "cohort_size": 1,
         "curve": [1, 0, 1, 0, 1, 0]},
    ]


def heatmap_facts(data: bytes) -> dict:
    """What the heatmap SVG shows: its root's ``data-*`` attributes, and the size and pixels
    of the grid PNG inside it (the signature and every chunk's CRC checked)."""
    root = ElementTree.fromstring(data)
    assert root.tag == "{http://www.w3.org/2000/svg}svg"
    facts = {k.removeprefix("data-"): v for k, v in root.attrib.items() if k.startswith("data-")}
    images = root.findall("{http://www.w3.org/2000/svg}image")
    if not images:
        return facts
    (image,) = images
    png = base64.b64decode(image.attrib["href"].removeprefix("data:image/png;base64,"))
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    chunks, pos = {}, 8
    while pos < len(png):
        (length,) = struct.unpack(">I", png[pos:pos + 4])
        kind, body = png[pos + 4:pos + 8], png[pos + 8:pos + 8 + length]
        (crc,) = struct.unpack(">I", png[pos + 8 + length:pos + 12 + length])
        assert zlib.crc32(kind + body) == crc, kind
        chunks[kind] = chunks.get(kind, b"") + body
        pos += 12 + length
    assert kind == b"IEND"
    width, height = struct.unpack(">II", chunks[b"IHDR"][:8])
    rows = np.frombuffer(zlib.decompress(chunks[b"IDAT"]), np.uint8).reshape(height, -1)
    assert (rows[:, 0] == 0).all()  # filter "none" on every row
    facts["pixels"] = rows[:, 1:].reshape(height, width, 4)
    return facts


def test_the_heatmap_is_an_svg_of_the_cohorts(gold) -> None:
    _, result, home = gold
    path = home / "reports" / HEATMAP_FILE
    facts = heatmap_facts(path.read_bytes())
    assert facts["cohorts"] == "2" and facts["as-of"] == AS_OF.isoformat()
    # One pixel per cohort and month after month 0 (test_cohort_retention's curves: January
    # lived months 1-5, March months 1-3, the months it has not lived yet transparent), 0%
    # the lightest colour and 100% (the top of the scale here) the darkest.
    pixels = facts["pixels"]
    assert pixels.shape[:2] == (2, int(facts["months"])) == (2, 5)
    assert pixels[:, :, 3].tolist() == [[255] * 5, [255] * 3 + [0] * 2]
    rgb = [["#{:02x}{:02x}{:02x}".format(*p[:3]) for p in row] for row in pixels]
    assert rgb[0] == ["#ffffd9", "#081d58", "#ffffd9", "#081d58", "#ffffd9"]
    assert rgb[1][:3] == ["#ffffd9"] * 3
    (event,) = [e for e in result.get_asset_materialization_events()
                if e.asset_key.path[-1] == "cohort_retention"]
    metadata = event.step_materialization_data.materialization.metadata
    assert metadata["heatmap_cohorts"].value == 2
    assert Path(metadata["heatmap_path"].value) == path
    assert metadata["heatmap"].value.startswith(
        "![cohort retention heatmap](data:image/svg+xml;base64,")
    assert metadata["as_of"].value == AS_OF.isoformat()


def test_as_of_comes_from_the_environment_then_the_run_date(
        gold, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    wh, _, _ = gold
    monkeypatch.setenv("ECOMMERCE_HOME", str(tmp_path))
    customer_metrics = [dg.AssetKey(["gold", "customer_metrics"])]
    resources = {"warehouse": wh, "address_standardizer": UspsAddressStandardizer(),
                 "fx_rates": StaticFxRates()}
    monkeypatch.setenv("ECOMMERCE_AS_OF", "2026-07-30")
    run = dg.materialize(gold_assets, selection=customer_metrics, resources=resources)
    assert rows(wh, "customer_metrics", "user_id")[1]["days_since_last_order"] == 71
    monkeypatch.delenv("ECOMMERCE_AS_OF")
    run = dg.materialize(gold_assets, selection=customer_metrics, resources=resources)
    (event,) = run.get_asset_materialization_events()
    today = dt.datetime.now(dt.UTC).date()
    assert event.step_materialization_data.materialization.metadata["as_of"].value in {
        today.isoformat(), (today - dt.timedelta(days=1)).isoformat()}  # run created at 0:00
